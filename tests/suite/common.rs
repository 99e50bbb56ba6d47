//! Helpers shared by the integration tests: run the binaries like a user does.

use std::path::{Path, PathBuf};

/// An argument list of strings and paths alike (`args!["--data", path,
/// "-q"]`), without converting each path to text.
macro_rules! args {
    ($($a:expr),* $(,)?) => {
        [$(std::ffi::OsString::from(AsRef::<std::ffi::OsStr>::as_ref(&$a))),*]
    };
}
use std::process::{Command, Output};

/// Fail the test with the command's stderr unless it succeeded.
#[track_caller]
pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// ../shared beside the checkout.
pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join(rel)
}

pub fn train_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_churn-train"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SOURCE_DATE_EPOCH", "1795000000");
    c
}

pub fn score_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_churn-score"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// Run `churn-train` with `args` (strings or paths) writing into `dir`;
/// panics with stderr on failure.
pub fn train<I, S>(dir: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().into()).collect();
    let out = train_cmd()
        .args(&args)
        .arg("-q")
        .arg("--out")
        .arg(dir.join("experiments"))
        .arg("--model-dir")
        .arg(dir.join("models"))
        .output()
        .expect("run churn-train");
    assert!(
        out.status.success(),
        "churn-train {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The only run folder under `dir/experiments`.
pub fn run_dir(dir: &Path) -> PathBuf {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(dir.join("experiments"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    runs.pop().expect("a run folder")
}

pub fn metrics(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run_dir(dir).join("metrics.json")).unwrap())
        .unwrap()
}

pub fn oof_auc(m: &serde_json::Value, model: &str) -> f64 {
    m["models"][model]["oof"]["roc_auc"]
        .as_f64()
        .unwrap_or_else(|| panic!("no roc_auc for {model}"))
}

/// Write a small file and return its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A folder for a fixture every test of this process shares (trained
/// once, in a `OnceLock`): under cargo's temporary folder for tests, named
/// by the process id and emptied first; folders of earlier processes that
/// are gone are removed.
pub fn fixture_dir(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    for e in std::fs::read_dir(root).into_iter().flatten().flatten() {
        let old = e.file_name().to_string_lossy().to_string();
        let pid = old
            .strip_prefix(&format!("{name}-"))
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    let dir = root.join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh temporary folder, removed when dropped.
pub use churn::io::TempDir;

pub fn tempdir() -> TempDir {
    TempDir::new().expect("create a temporary folder")
}

/// Train `churn-train` on the shared bank table (target `Exited`) into
/// `dir` with these extra arguments; the path of `models/latest`.
pub fn train_bank(dir: &Path, extra: &[&str]) -> PathBuf {
    let mut args = args![
        "--data",
        shared("datasets/bank_churn.csv"),
        "--target",
        "Exited"
    ]
    .to_vec();
    args.extend(extra.iter().map(std::ffi::OsString::from));
    train(dir, &args);
    dir.join("models/latest")
}

/// Split a CSV line, honouring quoted fields.
pub fn fields(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head = fields(lines.next().unwrap());
    (head, lines.map(fields).collect())
}

/// Rows of an SQL query on an SQLite file, `|`-separated, read through
/// Python's sqlite3 (an independent reader); floats as Python's repr.
pub fn sqlite(db: &Path, sql: &str) -> String {
    // The test reads through Python's sqlite3: an independent reader.
    let out = Command::new("python3")
        .args(["-c", &format!("import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nfor r in c.execute({sql:?}): print('|'.join('' if x is None else repr(x) if isinstance(x,float) else str(x) for x in r))")])
        .arg(db)
        .output()
        .unwrap();
    assert_ok(&out);
    String::from_utf8(out.stdout).unwrap()
}

/// A reproducible uniform draw in [0, 1) for row `i`, stream `k`.
pub fn draw(i: usize, k: u64) -> f64 {
    let mut x =
        (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k.wrapping_mul(0xD1B5_4A32_D192_ED03);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// The data_report.json of the only run under `dir`.
pub fn data_report(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run_dir(dir).join("data_report.json")).unwrap())
        .unwrap()
}

/// `churn-train generate --logs` into `dir/logs`.
pub fn generate_logs(dir: &Path, customers: usize, seed: u64) -> PathBuf {
    let out = dir.join("logs");
    let o = train_cmd()
        .args(["generate", "--logs", "--customers", &customers.to_string()])
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_ok(&o);
    out
}

/// The three log flags for a folder of generated logs.
pub fn log_args(logs: &Path) -> Vec<String> {
    let p = |f: &str| logs.join(f).display().to_string();
    vec![
        "--customers".into(),
        p("customers.csv"),
        "--transactions".into(),
        p("transactions.parquet"),
        "--events".into(),
        p("events.csv"),
    ]
}

/// Run `churn-score --model MODEL ARGS --runs-dir RUNS`, panicking with its
/// stderr on failure: the newest run folder under `runs`, and the stderr.
pub fn score_run<I, S>(model: &Path, runs: &Path, args: I) -> (PathBuf, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = score_cmd()
        .arg("--model")
        .arg(model)
        .args(args)
        .arg("--runs-dir")
        .arg(runs)
        .output()
        .expect("run churn-score");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "churn-score failed: {err}");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    (dirs.pop().expect("a run folder"), err)
}

/// The `cases` of a committed oracle fixture (`tests/fixtures/NAME`).
pub fn oracle_cases(name: &str) -> Vec<serde_json::Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let oracle: serde_json::Value = serde_json::from_str(&text).unwrap();
    oracle["cases"].as_array().unwrap().clone()
}

/// A case's array of numbers under `key`.
pub fn case_numbers(case: &serde_json::Value, key: &str) -> Vec<f64> {
    case[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// `generate --campaign` into `dir/campaign-<seed>`.
pub fn generate_campaign(dir: &Path, customers: usize, seed: u64) -> PathBuf {
    let out = dir.join(format!("campaign-{seed}"));
    let o = train_cmd()
        .args(args![
            "generate",
            "--campaign",
            "--customers",
            customers.to_string(),
            "--seed",
            seed.to_string(),
            "--out",
            out
        ])
        .output()
        .unwrap();
    assert_ok(&o);
    out
}

/// Run `churn-train uplift` on a generated campaign (revenue_12m is an
/// outcome, recorded after the treatment: never an input).
pub fn train_uplift(dir: &Path, campaign: &Path, extra: &[&str]) -> (PathBuf, serde_json::Value) {
    let mut a = args![
        "uplift",
        "--data",
        campaign.join("campaign.csv"),
        "--arm",
        "arm",
        "--control",
        "control",
        "--treatment",
        "call",
        "--outcome",
        "churned",
        "--drop",
        "revenue_12m"
    ]
    .to_vec();
    a.extend(extra.iter().map(std::ffi::OsString::from));
    train(dir, &a);
    let run = run_dir(dir);
    let summary =
        serde_json::from_str(&std::fs::read_to_string(run.join("uplift.json")).unwrap()).unwrap();
    (run, summary)
}

/// Certificates made with the `openssl` command for the TLS tests, in
/// `dir`: `ca` signs `server` (subject alternative names `san`) and
/// `client` (`CN=call centre,O=Bank`); `rogue`, an unrelated CA, signs
/// `rogue-server` and `rogue-client`. Each as `NAME.pem` + `NAME.key`.
/// `None` without openssl (the caller says SKIPPED).
pub fn make_pki(dir: &Path, san: &str) -> Option<PathBuf> {
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .map(|o| {
                assert!(
                    o.status.success(),
                    "openssl {args:?}: {}",
                    String::from_utf8_lossy(&o.stderr)
                )
            })
            .is_ok()
    };
    std::fs::create_dir_all(dir).unwrap();
    let key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    for ca in ["ca", "rogue"] {
        let (k, p, s) = (
            format!("{ca}.key"),
            format!("{ca}.pem"),
            format!("/CN={ca}"),
        );
        let mut a = vec![
            "req", "-x509", "-days", "2", "-subj", &s, "-keyout", &k, "-out", &p,
        ];
        a.extend(key);
        if !run(&a) {
            return None;
        }
    }
    let server_ext = format!("subjectAltName={san}\nextendedKeyUsage=serverAuth\n");
    std::fs::write(dir.join("server.ext"), server_ext).unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (name, ca, subject, ext) in [
        ("server", "ca", "/CN=churn-test-server", "server.ext"),
        ("client", "ca", "/O=Bank/CN=call centre", "client.ext"),
        (
            "rogue-server",
            "rogue",
            "/CN=churn-test-server",
            "server.ext",
        ),
        (
            "rogue-client",
            "rogue",
            "/O=Elsewhere/CN=intruder",
            "client.ext",
        ),
    ] {
        let (k, csr) = (format!("{name}.key"), format!("{name}.csr"));
        let mut a = vec!["req", "-subj", subject, "-keyout", &k, "-out", &csr];
        a.extend(key);
        let (cap, cak, out) = (
            format!("{ca}.pem"),
            format!("{ca}.key"),
            format!("{name}.pem"),
        );
        run(&a);
        run(&[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            &csr,
            "-CA",
            &cap,
            "-CAkey",
            &cak,
            "-CAcreateserial",
            "-out",
            &out,
            "-extfile",
            ext,
        ]);
    }
    Some(dir.to_path_buf())
}

/// A TLS client trusting the CA in `ca` (PEM), presenting `client`
/// (`NAME` of `NAME.pem` + `NAME.key` beside it) when given.
pub fn tls_client(ca: &Path, client: Option<&str>) -> std::sync::Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let roots = churn::tls::read_roots(ca, "test CA").unwrap();
    let b = rustls::ClientConfig::builder_with_provider(churn::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let cfg = match client {
        None => b.with_no_client_auth(),
        Some(name) => {
            let dir = ca.parent().unwrap();
            let certs = CertificateDer::pem_file_iter(dir.join(format!("{name}.pem")))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key = PrivateKeyDer::from_pem_file(dir.join(format!("{name}.key"))).unwrap();
            b.with_client_auth_cert(certs, key).unwrap()
        }
    };
    std::sync::Arc::new(cfg)
}
