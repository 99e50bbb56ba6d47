//! Scores into a database (issue 17): SQLite always; PostgreSQL against a
//! real server this harness starts on 127.0.0.1 in a temporary folder
//! (`initdb` + `pg_ctl`; skipped with a notice when PostgreSQL is not
//! installed — `.ci/run` installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;
use common::*;

/// Train a small model into `dir/models` (once per test).
fn model(dir: &Path) -> PathBuf {
    train(dir, ["--models", "decision_tree", "--folds", "2"]);
    dir.join("models/latest")
}

fn score(
    dir: &Path,
    model: &Path,
    data: &str,
    extra: &[impl AsRef<std::ffi::OsStr>],
) -> std::process::Output {
    score_cmd()
        .arg("--model")
        .arg(model)
        .args(["--data", data, "-q"])
        .arg("--runs-dir")
        .arg(dir.join("runs"))
        .args(extra)
        .output()
        .unwrap()
}

/// (id, probability, level, tier, reason_1) of a scores.csv, one per id:
/// the batch's double exports keep their later row, as the tables do.
fn csv_scores(path: &Path) -> Vec<(String, String, String, String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let rows: Vec<(String, String, String, String, String)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].into(),
                f[1].into(),
                f[3].into(),
                f[4].into(),
                f[6].into(),
            )
        })
        .collect();
    let last: std::collections::HashMap<&str, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.0.as_str(), i))
        .collect();
    let mut v: Vec<_> = rows
        .iter()
        .enumerate()
        .filter(|(i, r)| last[r.0.as_str()] == *i)
        .map(|(_, r)| r.clone())
        .collect();
    v.sort();
    v
}

/// Assert that database rows `id|probability|level|tier|reason_1` hold
/// exactly the scores of `csv` (one row per id); returns the CSV's rows.
fn same_as_csv(rows: &str, csv: &Path) -> Vec<(String, String, String, String, String)> {
    let mut from_db: Vec<(String, String, String, String, String)> = rows
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            (
                f[0].into(),
                f[1].into(),
                f[2].into(),
                f[3].into(),
                f[4].into(),
            )
        })
        .collect();
    from_db.sort();
    let from_csv = csv_scores(csv);
    assert_eq!(
        from_db.len(),
        from_csv.len(),
        "a re-run replaces, never duplicates"
    );
    for (a, b) in from_db.iter().zip(&from_csv) {
        assert_eq!((&a.0, &a.2, &a.3, &a.4), (&b.0, &b.2, &b.3, &b.4));
        let (x, y): (f64, f64) = (a.1.parse().unwrap(), b.1.parse().unwrap());
        assert_eq!(x, y, "{}", a.0);
    }
    from_csv
}

/// Score 200,000 generated customers into `out` as run `run_id`, fed on
/// stdin, and SIGKILL the job while stdin is still open: the batch cannot
/// have reached its end (and its commit) whatever the machine's speed, and
/// its rows have been flowing into the open transaction meanwhile.
fn kill_mid_batch(d: &Path, m: &Path, out: &str, run_id: &str) {
    use std::io::Write;
    let big = d.join("big.csv");
    let g = train_cmd()
        .args([
            "generate",
            "--rows",
            "200000",
            "--seed",
            "3",
            "--no-label",
            "--out",
        ])
        .arg(&big)
        .output()
        .unwrap();
    assert!(g.status.success());
    let mut child = score_cmd()
        .args(args!["--model", m, "--data", "-", "-q",])
        .args(["--out", out, "--run-id", run_id, "--runs-dir"])
        .arg(d.join("runs"))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Blocks until the job has read all but a pipe's worth of the rows.
    stdin.write_all(&std::fs::read(&big).unwrap()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1000));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the batch waits for the end of its input"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    drop(stdin);
}

#[test]
fn sqlite_holds_the_csv_scores_replaces_a_rerun_and_refuses_other_columns() {
    let dir = tempdir();
    let d = dir.path();
    let m = model(d);
    let csv = d.join("scores.csv");
    let out = score(d, &m, "data/score_sample.csv", &args!["--out", csv]);
    assert!(out.status.success());
    let db = d.join("crm.db");
    let target = format!("sqlite:{}", db.display());
    for _ in 0..2 {
        let out = score(
            d,
            &m,
            "data/score_sample.csv",
            &["--out", &target, "--run-id", "nightly"],
        );
        assert_ok(&out);
    }
    let rows = sqlite(
        &db,
        "SELECT id, churn_probability, warning_level, value_tier, reason_1 FROM churn_scores",
    );
    let from_csv = same_as_csv(&rows, &csv);
    assert_eq!(
        sqlite(&db, "SELECT run_id, rows_scored FROM score_runs"),
        "nightly|5000\n",
        "rows scored counts every line, double exports included"
    );
    let latest = sqlite(&db, "SELECT COUNT(*) FROM churn_scores_latest");
    assert_eq!(latest.trim(), from_csv.len().to_string());

    // A batch with other columns (offers) cannot go into this table.
    train(d, ["offers"]);
    let before = sqlite(&db, "SELECT COUNT(*) FROM churn_scores");
    let out = score(d, &m, "data/holdings/latest.csv", &["--out", &target]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("exists with other columns"),
        "{err}"
    );
    assert!(err.contains("risk_level"), "{err}");
    assert_eq!(sqlite(&db, "SELECT COUNT(*) FROM churn_scores"), before);
    assert!(!err.contains("password"));
}

#[test]
fn a_killed_sqlite_run_leaves_the_previous_state() {
    let dir = tempdir();
    let d = dir.path();
    let m = model(d);
    let db = d.join("crm.db");
    let target = format!("sqlite:{}", db.display());
    let out = score(
        d,
        &m,
        "data/score_sample.csv",
        &["--out", &target, "--run-id", "a"],
    );
    assert!(out.status.success());
    kill_mid_batch(d, &m, &target, "b");
    assert_eq!(sqlite(&db, "PRAGMA integrity_check").trim(), "ok");
    assert_eq!(
        sqlite(&db, "SELECT DISTINCT run_id FROM churn_scores"),
        "a\n"
    );
    assert_eq!(sqlite(&db, "SELECT run_id FROM score_runs"), "a\n");
    assert_eq!(
        sqlite(&db, "SELECT COUNT(*) FROM churn_scores").trim(),
        distinct_ids(d, &m).to_string()
    );
}

/// Customers (distinct ids) of the embedded score sample, via its CSV scores.
fn distinct_ids(d: &Path, m: &Path) -> usize {
    let csv = d.join("sample.csv");
    let out = score(d, m, "data/score_sample.csv", &args!["--out", csv]);
    assert!(out.status.success());
    csv_scores(&csv).len()
}

/// A PostgreSQL server in a temporary folder, stopped when dropped.
struct Pg {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
}

fn pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

/// Run a PostgreSQL tool as the `postgres` user when we are root (initdb
/// refuses root).
fn as_pg(bin: &Path, tool: &str, args: &[impl AsRef<std::ffi::OsStr>]) -> std::process::Output {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let mut c = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    };
    c.args(args).output().unwrap()
}

impl Pg {
    /// A server in clear text.
    fn start() -> Option<Pg> {
        Pg::start_with(None)
    }

    /// A server with TLS on when `pki` (see [`make_pki`]) is given: its
    /// `server` certificate, connections logged (with their TLS protocol).
    fn start_with(pki: Option<&Path>) -> Option<Pg> {
        let bin = pg_bin()?;
        let tag = match pki {
            Some(_) => "tls-",
            None => "",
        };
        let dir = std::env::temp_dir().join(format!("churn-pg-{tag}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut tls = String::new();
        if let Some(pki) = pki {
            for f in ["server.pem", "server.key"] {
                std::fs::copy(pki.join(f), dir.join(f)).unwrap();
            }
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.join("server.key"),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
            tls = format!(
                " -c ssl=on -c ssl_cert_file={0}/server.pem -c ssl_key_file={0}/server.key -c log_connections=on",
                dir.display()
            );
        }
        let _ = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(&dir)
            .output();
        let data = dir.join("data");
        let out = as_pg(
            &bin,
            "initdb",
            &["-D", data.to_str()?, "-A", "trust", "-U", "churn"],
        );
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = 20_000 + (std::process::id() % 20_000) as u16 + pki.is_some() as u16;
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1{tls}",
            dir.display()
        );
        let log = dir.join("log");
        let out = as_pg(
            &bin,
            "pg_ctl",
            &[
                "-D",
                data.to_str()?,
                "-o",
                &opts,
                "-l",
                log.to_str()?,
                "-w",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pg = Pg { dir, port, bin };
        pg.psql("postgres", "CREATE DATABASE crm");
        Some(pg)
    }

    fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "churn",
                "-d",
                db,
                "-At",
                "-c",
                sql,
            ])
            .output()
            .unwrap();
        assert_ok(&out);
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        as_pg(
            &self.bin,
            "pg_ctl",
            &args!["-D", data, "-m", "immediate", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn postgres_holds_the_csv_scores_and_survives_a_kill() {
    let Some(pg) = Pg::start() else {
        eprintln!("SKIPPED: PostgreSQL (initdb) is not installed; .ci/run installs it");
        return;
    };
    let dir = tempdir();
    let d = dir.path();
    let m = model(d);
    let csv = d.join("scores.csv");
    assert!(score(d, &m, "data/score_sample.csv", &args!["--out", csv])
        .status
        .success());
    // The password in the URL is wrong-but-ignored (trust auth) and must
    // never be printed.
    let url = format!("postgres://churn:hunter2@127.0.0.1:{}/crm", pg.port);
    // The re-run replaces the first; with small chunks a customer's two
    // rows come in different chunks (rows 724 and 725 of the sample are one
    // customer: 724 ends the second chunk of 362; the later goes through
    // staging).
    for chunk in ["50000", "362"] {
        let out = score(
            d,
            &m,
            "data/score_sample.csv",
            &["--out", &url, "--run-id", "n1", "--chunk-rows", chunk],
        );
        assert_ok(&out);
    }
    let rows = pg.psql(
        "crm",
        "SELECT id, churn_probability::text, warning_level, value_tier, reason_1 FROM churn_scores",
    );
    same_as_csv(&rows, &csv);
    let run = std::fs::read_dir(d.join("runs"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.join("summary.json").exists()
                && std::fs::read_to_string(p.join("summary.json"))
                    .unwrap()
                    .contains("postgres://")
        })
        .expect("a database run");
    let summary = std::fs::read_to_string(run.join("summary.json")).unwrap();
    assert!(summary.contains("churn:***@") && !summary.contains("hunter2"));
    assert!(!pg
        .psql("crm", "SELECT summary FROM score_runs")
        .contains("hunter2"));

    // A server without TLS: `require` is refused in one clear line.
    let strict = format!("{url}?sslmode=require");
    let out = score(d, &m, "data/score_sample.csv", &["--out", &strict]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("does not support TLS") && !err.contains("hunter2"),
        "{err}"
    );

    // SIGKILL in the middle of a large batch: the previous state stays.
    kill_mid_batch(d, &m, &url, "n2");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        pg.psql("crm", "SELECT DISTINCT run_id FROM churn_scores"),
        "n1\n"
    );
    assert_eq!(pg.psql("crm", "SELECT run_id FROM score_runs"), "n1\n");
}

#[test]
fn postgres_over_tls_checks_the_server_as_libpq_does() {
    let dir = tempdir();
    let d = dir.path();
    // The server's certificate names `localhost`, not 127.0.0.1.
    let Some(pki) = make_pki(&d.join("pki"), "DNS:localhost") else {
        eprintln!("SKIPPED: no openssl command to make test certificates");
        return;
    };
    let Some(pg) = Pg::start_with(Some(&pki)) else {
        eprintln!("SKIPPED: PostgreSQL (initdb) is not installed; .ci/run installs it");
        return;
    };
    let m = model(d);
    let csv = d.join("scores.csv");
    assert_ok(&score(d, &m, "data/score_sample.csv", &args!["--out", csv]));
    let root = |ca: &str| pki.join(format!("{ca}.pem")).display().to_string();
    let url = |host: &str, mode: &str, ca: &str| {
        format!(
            "postgres://churn@{host}:{}/crm?sslmode={mode}&sslrootcert={}",
            pg.port,
            root(ca)
        )
    };
    // verify-full with the right root and host name: the rows, over TLS.
    let out = score(
        d,
        &m,
        "data/score_sample.csv",
        &[
            "--out",
            &url("localhost", "verify-full", "ca"),
            "--run-id",
            "t1",
        ],
    );
    assert_ok(&out);
    let rows = pg.psql(
        "crm",
        "SELECT id, churn_probability::text, warning_level, value_tier, reason_1 FROM churn_scores",
    );
    same_as_csv(&rows, &csv);
    let log = std::fs::read_to_string(pg.dir.join("log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("user=churn database=crm") && l.contains("SSL enabled")),
        "the sink's connection was encrypted:\n{log}"
    );
    // The wrong host name, the wrong root: refused, saying why.
    for (target, why) in [
        (url("127.0.0.1", "verify-full", "ca"), "not valid for name"),
        (url("localhost", "verify-ca", "rogue"), "UnknownIssuer"),
        (url("localhost", "require", "rogue"), "UnknownIssuer"),
    ] {
        let out = score(d, &m, "data/score_sample.csv", &["--out", &target]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{target}");
        assert!(
            err.contains(why) && err.trim().lines().count() == 1,
            "{target}: {err}"
        );
    }
    // verify-ca checks the chain, not the name; prefer takes TLS when offered.
    for target in [
        url("127.0.0.1", "verify-ca", "ca"),
        format!("postgres://churn@127.0.0.1:{}/crm", pg.port),
    ] {
        assert_ok(&score(d, &m, "data/score_sample.csv", &["--out", &target]));
    }
}
