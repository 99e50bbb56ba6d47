//! The scoring service (issue 17), driven over real HTTP on 127.0.0.1 as a
//! CRM screen would: the same customers scored by the batch job, the
//! SQLite sink and the service agree field for field; bad requests are
//! answered (400/413/422 naming customer and field), thousands of random
//! and truncated bodies never stop it; a new model is picked up, a broken
//! one refused; SIGTERM stops it cleanly.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common;
use common::*;

/// A running `churn-score serve`; killed when dropped.
struct Service {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
    /// How the test's own calls reach it.
    client: Client,
}

/// How a test client calls: over TLS trusting a CA, with a bearer token.
#[derive(Clone, Default)]
struct Client {
    tls: Option<Arc<rustls::ClientConfig>>,
    auth: Option<String>,
}

/// A connection, in clear text or TLS.
trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// Connect to `addr` (as `localhost` for TLS: the test certificates name it).
fn open(addr: &str, tls: Option<&Arc<rustls::ClientConfig>>) -> std::io::Result<Box<dyn Stream>> {
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(60)))?;
    Ok(match tls {
        None => Box::new(tcp),
        Some(cfg) => {
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let conn = rustls::ClientConnection::new(cfg.clone(), name).unwrap();
            Box::new(rustls::StreamOwned::new(conn, tcp))
        }
    })
}

impl Service {
    fn start(model: &Path, extra: &[&str]) -> Service {
        Service::start_as(model, extra, Client::default())
    }

    fn start_as(model: &Path, extra: &[&str], client: Client) -> Service {
        let mut child = score_cmd()
            .args(args!["serve", "--model", model])
            .args(match extra.contains(&"--addr") {
                true => &[][..],
                false => &["--addr", "127.0.0.1:0"][..],
            })
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let line = line.unwrap_or_default();
                let url = line.split(" on http://").nth(1);
                if let Some(at) = url.or_else(|| line.split(" on https://").nth(1)) {
                    let _ = tx.send(at.split(' ').next().unwrap_or("").to_string());
                }
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the service did not start: {}", log.lock().unwrap()));
        Service {
            child,
            addr,
            log,
            client,
        }
    }

    fn call(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        http_as(&self.client, &self.addr, method, path, body, &[])
    }

    fn json(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let (status, text) = self.call(method, path, body.to_string().as_bytes());
        let v = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{status} {path}: not JSON ({e}): {text}"));
        (status, v)
    }

    fn model_id(&self) -> String {
        let (_, v) = self.json("GET", "/healthz", &Value::Null);
        v["model_id"].as_str().unwrap().to_string()
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Wait up to 30 s for `check`.
    fn wait_for(&self, what: &str, check: impl Fn(&Service) -> bool) {
        let start = Instant::now();
        while !check(self) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "waited 30 s for {what}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 exchange on a fresh connection: (status, body). A
/// connection the server closes early (a refused large body) still gives
/// the answer it sent.
fn http(addr: &str, method: &str, path: &str, body: &[u8], head: &[&str]) -> (u16, String) {
    http_as(&Client::default(), addr, method, path, body, head)
}

/// [`http`] as `client` calls.
fn http_as(
    client: &Client,
    addr: &str,
    method: &str,
    path: &str,
    body: &[u8],
    head: &[&str],
) -> (u16, String) {
    let mut s = open(addr, client.tls.as_ref()).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\n");
    if head.is_empty() {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    if let Some(a) = &client.auth {
        req.push_str(&format!("Authorization: {a}\r\n"));
    }
    for h in head {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    let _ = s.write_all(req.as_bytes()).and_then(|()| s.write_all(body));
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer to {method} {path}: {text:?}"));
    let body = text.split_once("\r\n\r\n").map_or("", |b| b.1).to_string();
    (status, body)
}

/// The customers of a CSV file as JSON objects: every cell as the text it
/// is, except on odd rows, where cells that are numbers are sent as JSON
/// numbers (both must score alike) and empty cells as null.
fn customers(head: &[String], rows: &[Vec<String>]) -> Vec<Value> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let m: serde_json::Map<String, Value> = head
                .iter()
                .zip(r)
                .map(|(h, c)| {
                    let v = match (i % 2, c.parse::<f64>()) {
                        (1, _) if c.trim().is_empty() => Value::Null,
                        (1, Ok(x)) if x.is_finite() => json!(x),
                        _ => json!(c),
                    };
                    (h.clone(), v)
                })
                .collect();
            Value::Object(m)
        })
        .collect()
}

/// The text of a result field as scores.csv writes it.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[test]
fn batch_database_and_service_give_the_same_scores() {
    let dir = tempdir();
    let d = dir.path();
    train(d, ["--models", "random_forest", "--folds", "2"]);
    train(d, ["offers"]);
    let model = d.join("models/latest");
    let data = "data/holdings/latest.csv";
    let csv = d.join("scores.csv");
    let db = d.join("crm.db");
    for out in [
        csv.to_str().unwrap().to_string(),
        format!("sqlite:{}", db.display()),
    ] {
        let o = score_cmd()
            .args(args!["--model", model, "--data", data, "-q"])
            .arg("--runs-dir")
            .arg(d.join("runs"))
            .args(["--out", &out])
            .output()
            .unwrap();
        assert_ok(&o);
    }
    let (h, batch) = read_csv(&csv);
    // Every scores.csv column but the id (compared first), and the offers'.
    let offer_fields = ["risk_level", "offer_1", "offer_2", "offer_3"];
    let fields: Vec<&str> = churn::scoring::rows::COLUMNS[1..]
        .iter()
        .copied()
        .chain(offer_fields)
        .collect();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();

    // The service, in requests of 100 customers and one-customer requests.
    let svc = Service::start(&model, &["--quiet"]);
    let (ih, inputs) = read_csv(Path::new(data));
    let sent = customers(&ih, &inputs);
    let mut served: Vec<Value> = Vec::new();
    for chunk in sent.chunks(100) {
        let (status, v) = svc.json("POST", "/v1/score", &json!({ "customers": chunk }));
        assert_eq!(status, 200, "{v}");
        served.extend(v["results"].as_array().unwrap().iter().cloned());
    }
    for (i, one) in sent.iter().take(20).enumerate() {
        let (status, v) = svc.json(
            "POST",
            "/invocations",
            &json!({ "dataframe_records": [one] }),
        );
        assert_eq!(status, 200, "{v}");
        assert_eq!(
            v["predictions"][0], served[i],
            "one customer alone, customer {i}"
        );
    }
    assert_eq!(served.len(), batch.len());
    // The same service behind TLS and a token answers alike.
    match make_pki(&d.join("pki"), "DNS:localhost") {
        None => eprintln!("SKIPPED: the TLS leg (no openssl command)"),
        Some(pki) => {
            std::fs::write(d.join("tokens"), "crm:crm-token-0123456789\n").unwrap();
            let client = Client {
                tls: Some(tls_client(&pki.join("ca.pem"), None)),
                auth: Some("Bearer crm-token-0123456789".into()),
            };
            let pem = |n: &str| pki.join(n).to_str().unwrap().to_string();
            let tokens = d.join("tokens").to_str().unwrap().to_string();
            let secure = Service::start_as(
                &model,
                &[
                    "--quiet",
                    "--tls-cert",
                    &pem("server.pem"),
                    "--tls-key",
                    &pem("server.key"),
                    "--auth-tokens",
                    &tokens,
                ],
                client,
            );
            for (k, chunk) in sent.chunks(100).enumerate() {
                let (status, v) = secure.json("POST", "/v1/score", &json!({ "customers": chunk }));
                assert_eq!(status, 200, "{v}");
                let results = v["results"].as_array().unwrap();
                assert_eq!(results[..], served[k * 100..k * 100 + results.len()]);
            }
        }
    }
    let mut offered = 0;
    for (row, res) in batch.iter().zip(&served) {
        assert_eq!(text(&res["id"]), row[0]);
        for &f in &fields {
            let (a, b) = (text(&res[f]), row[col(f)].clone());
            match f {
                "churn_probability" | "clv" => assert_eq!(
                    a.parse::<f64>().unwrap(),
                    b.parse::<f64>().unwrap(),
                    "{f} of {}",
                    row[0]
                ),
                _ => assert_eq!(a, b, "{f} of {}", row[0]),
            }
        }
        offered += !row[col("offer_1")].is_empty() as usize;
    }
    assert!(
        offered > 100,
        "offers were compared ({offered} customers with one)"
    );

    // The database rows, read by Python's sqlite3 (an independent reader).
    let by_id: HashMap<String, &Value> = served.iter().map(|r| (text(&r["id"]), r)).collect();
    let rows = sqlite(
        &db,
        "SELECT id, churn_probability, warning_level, value_tier, reason_1, reason_2, reason_3, offer_1 FROM churn_scores",
    );
    assert_eq!(rows.lines().count(), served.len());
    for line in rows.lines() {
        let f: Vec<&str> = line.split('|').collect();
        let r = by_id[f[0]];
        assert_eq!(
            f[1].parse::<f64>().unwrap(),
            r["churn_probability"].as_f64().unwrap()
        );
        for (k, name) in [
            "warning_level",
            "value_tier",
            "reason_1",
            "reason_2",
            "reason_3",
            "offer_1",
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(f[k + 2], text(&r[*name]), "{name} of {}", f[0]);
        }
    }
}

/// A decision tree trained on the embedded data once per test process
/// (`models/latest` of a fixture folder), for tests that only read it.
fn tree_model() -> &'static Path {
    static MODEL: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| {
        let dir = fixture_dir("serve-tree");
        train(&dir, ["--models", "decision_tree", "--folds", "2"]);
        dir.join("models/latest")
    })
}

/// The service on the shared tree model (64 KiB bodies at most), and two
/// customers of the embedded sample as JSON with the sample's header.
fn small_service() -> (Service, Vec<String>, Vec<Value>) {
    let svc = secure_service(tree_model(), &["--max-body", "65536", "--quiet"]);
    let (h, rows) = read_csv(Path::new("data/score_sample.csv"));
    let good = customers(&h, &rows[..2]);
    (svc, h, good)
}

/// The test certificates (made once per test process), or `None` without
/// the openssl command.
fn pki() -> Option<&'static Path> {
    static PKI: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    PKI.get_or_init(|| {
        let dir = make_pki(&fixture_dir("serve-pki"), "DNS:localhost")?;
        std::fs::write(dir.join("tokens"), "tests:tests-token-0123456789\n").unwrap();
        Some(dir)
    })
    .as_deref()
}

/// The shared tree model served as a bank would expose it — TLS and a
/// bearer token, the test's calls carrying both — so the service's tests
/// run with authentication and TLS on (in clear text, said, without the
/// openssl command).
fn secure_service(model: &Path, extra: &[&str]) -> Service {
    let Some(p) = pki() else {
        eprintln!("SKIPPED: TLS and tokens for this service test (no openssl command); clear text");
        return Service::start(model, extra);
    };
    let file = |n: &str| p.join(n).to_str().unwrap().to_string();
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    args.extend([
        "--tls-cert".into(),
        file("server.pem"),
        "--tls-key".into(),
        file("server.key"),
        "--auth-tokens".into(),
        file("tokens"),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let client = Client {
        tls: Some(tls_client(&p.join("ca.pem"), None)),
        auth: Some("Bearer tests-token-0123456789".into()),
    };
    Service::start_as(model, &args, client)
}

/// Send `customers`; the answer must be a 422 naming (customer, field) pairs.
fn refused_fields(svc: &Service, customers: Vec<Value>) -> Vec<(u64, String)> {
    let (status, v) = svc.json("POST", "/v1/score", &json!({ "customers": customers }));
    assert_eq!(status, 422, "{v}");
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["customer"].as_u64().unwrap(), text(&e["field"])))
        .collect()
}

#[test]
fn field_mistakes_are_answered_422_naming_customer_and_field() {
    let (svc, _, good) = small_service();
    // A wrong type, an impossible value and a missing field: 422, named.
    let mut bad = good.clone();
    bad[0]["age"] = json!("forty");
    bad[1]["balance"] = json!(-5);
    bad[1].as_object_mut().unwrap().remove("tenure_months");
    let named = refused_fields(&svc, bad);
    assert!(named.contains(&(1, "tenure_months".into())), "{named:?}");
    let mut typed = good.clone();
    typed[0]["age"] = json!("forty");
    typed[1]["balance"] = json!(-5);
    let named = refused_fields(&svc, typed);
    assert_eq!(named, vec![(0, "age".into()), (1, "balance".into())]);
    let mut nested = good.clone();
    nested[1]["region"] = json!({"a": 1});
    let (status, v) = svc.json("POST", "/v1/score", &json!({ "customers": nested }));
    assert_eq!(
        (status, v["errors"][0]["field"].as_str()),
        (422, Some("region"))
    );
    let (_, page) = svc.call("GET", "/metrics", b"");
    // (with a token the line also names the client)
    assert!(
        page.lines().any(|l| l
            .starts_with("churn_http_requests_total{endpoint=\"/v1/score\",status=\"422\"")
            && l.ends_with("} 3")),
        "{page}"
    );
}

#[test]
fn unseen_malformed_unknown_and_oversized_requests_are_answered() {
    let (svc, _, good) = small_service();
    // An unseen category is scored (as in batch) and counted.
    let mut unseen = good.clone();
    unseen[0]["region"] = json!("Atlantis");
    let (status, v) = svc.json("POST", "/v1/score", &json!({ "customers": unseen }));
    assert_eq!(status, 200, "{v}");
    // Malformed JSON, an empty list, an unknown endpoint.
    assert_eq!(svc.call("POST", "/v1/score", b"{\"customers\": [").0, 400);
    assert_eq!(svc.call("POST", "/v1/score", b"{\"customers\": []}").0, 400);
    assert_eq!(svc.call("GET", "/v2/nothing", b"").0, 404);
    assert_eq!(svc.call("GET", "/v1/score", b"").0, 405);
    // Over the limit, declared or streamed in chunks: 413. In clear text:
    // the answer comes while the client still sends, and a TLS client's
    // late write can make the kernel drop the answer it had received.
    let plain = Service::start(tree_model(), &["--max-body", "65536", "--quiet"]);
    let big = vec![b' '; 70_000];
    assert_eq!(plain.call("POST", "/v1/score", &big).0, 413);
    let mut chunked = format!("{:x}\r\n", big.len()).into_bytes();
    chunked.extend_from_slice(&big);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let (status, _) = http(
        &plain.addr,
        "POST",
        "/v1/score",
        &chunked,
        &["Transfer-Encoding: chunked"],
    );
    assert_eq!(status, 413);
    let (_, page) = svc.call("GET", "/metrics", b"");
    assert!(
        page.contains("churn_unseen_categories_total{column=\"region\"} 1"),
        "{page}"
    );
    assert!(page.contains("churn_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
}

#[test]
fn random_truncated_and_mutated_bodies_never_stop_the_service() {
    use rand::{Rng, SeedableRng};
    let (svc, h, good) = small_service();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let valid = json!({ "customers": good }).to_string().into_bytes();
    let oddities = [
        json!(null),
        json!([1, 2]),
        json!({"x": []}),
        json!(true),
        json!(-1e308),
        json!(""),
        json!("\u{0000}"),
        json!(1e-320),
        json!(u64::MAX),
    ];
    let mut seen: HashMap<u16, usize> = HashMap::new();
    for i in 0..3000 {
        let body: Vec<u8> = match i % 4 {
            0 => (0..rng.random_range(0..300))
                .map(|_| rng.random::<u8>())
                .collect(),
            1 => valid[..rng.random_range(0..valid.len())].to_vec(),
            2 => {
                let mut v = json!({ "customers": good });
                let k = &h[rng.random_range(0..h.len())];
                v["customers"][rng.random_range(0..2)][k] =
                    oddities[rng.random_range(0..oddities.len())].clone();
                v.to_string().into_bytes()
            }
            _ => {
                let mut b = valid.clone();
                for _ in 0..rng.random_range(1..5) {
                    let at = rng.random_range(0..b.len());
                    b[at] = rng.random();
                }
                b
            }
        };
        let path = if i % 7 == 0 {
            "/invocations"
        } else {
            "/v1/score"
        };
        let (status, answer) = svc.call("POST", path, &body);
        assert!(
            [200, 400, 422].contains(&status),
            "body {:?} got {status}: {answer}",
            String::from_utf8_lossy(&body)
        );
        assert!(serde_json::from_str::<Value>(&answer).is_ok(), "{answer}");
        *seen.entry(status).or_default() += 1;
    }
    assert!(seen.len() == 3, "every kind of answer was met: {seen:?}");
    assert_eq!(svc.model_id(), svc.model_id(), "still serving");
}

#[test]
fn new_models_are_picked_up_broken_ones_refused_and_sigterm_stops_cleanly() {
    let dir = tempdir();
    let d = dir.path();
    train(d, ["--models", "decision_tree", "--folds", "2"]);
    let latest = d.join("models/latest");
    let first = std::fs::read_link(&latest).unwrap();
    let svc = Service::start(&latest, &["--reload-every", "0.2"]);
    let a = svc.model_id();
    let (status, card) = svc.json("GET", "/v1/model", &Value::Null);
    assert_eq!(status, 200);
    assert!(card["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["name"] == "age"));

    // A new training run moves `latest`: the service follows it.
    train(d, ["--models", "logistic_regression", "--folds", "2"]);
    svc.wait_for("the new model", |s| s.model_id() != a);
    let b = svc.model_id();
    assert!(svc
        .log()
        .contains(&format!("now serving model {b} (was {a})")));

    // A corrupted artifact behind `latest`: refused, the old one serves on.
    let good = std::fs::read_to_string(d.join("models").join(std::fs::read_link(&latest).unwrap()))
        .unwrap();
    let broken = good.replacen("\"threshold\":", "\"threshold\":0.0001,\"x\":", 1);
    std::fs::write(d.join("models/broken.model.json"), broken).unwrap();
    let tmp = d.join("models/.latest.tmp");
    std::os::unix::fs::symlink("broken.model.json", &tmp).unwrap();
    std::fs::rename(&tmp, &latest).unwrap();
    svc.wait_for("the refusal", |s| s.log().contains("new model refused"));
    assert_eq!(svc.model_id(), b);
    let (_, page) = svc.call("GET", "/metrics", b"");
    assert!(
        page.contains("churn_model_reloads_total{result=\"refused\"} 1"),
        "{page}"
    );
    assert!(
        page.contains("churn_model_reloads_total{result=\"ok\"} 1"),
        "{page}"
    );

    // SIGHUP reloads at once (here: back to the first model).
    std::os::unix::fs::symlink(&first, &tmp).unwrap();
    std::fs::rename(&tmp, &latest).unwrap();
    svc.signal("-HUP");
    svc.wait_for("the first model again", |s| s.model_id() == a);

    // SIGTERM: a clean stop.
    let mut svc = svc;
    svc.signal("-TERM");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = svc.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        svc.log().contains("stopped: no new connections"),
        "{}",
        svc.log()
    );
}

#[test]
fn service_and_batch_give_the_same_uplift() {
    // An uplift model fitted on a generated campaign over the same customer
    // columns as the embedded model; the service and the batch job apply it
    // through the same scorer.
    let dir = tempdir();
    let d = dir.path();
    let campaign = generate_campaign(d, 6000, 7);
    train_uplift(d, &campaign, &["--learner", "t", "--no-cv"]);
    let uplift = d.join("models/uplift-latest");
    let sample = Path::new("data/score_sample.csv");
    let (run, _) = score_run(
        tree_model(),
        &d.join("runs"),
        args!["--data", sample, "--uplift", uplift, "-q"],
    );
    let (h, batch) = read_csv(&run.join("scores.csv"));
    let col = h
        .iter()
        .position(|c| c == "uplift")
        .expect("an uplift column");
    let svc = secure_service(
        tree_model(),
        &["--uplift", uplift.to_str().unwrap(), "--quiet"],
    );
    let (ih, inputs) = read_csv(sample);
    let sent = customers(&ih, &inputs[..200]);
    let (status, v) = svc.json("POST", "/v1/score", &json!({ "customers": sent }));
    assert_eq!(status, 200, "{v}");
    let served = v["results"].as_array().unwrap();
    for (row, res) in batch.iter().zip(served) {
        assert_eq!(text(&res["id"]), row[0]);
        assert_eq!(text(&res["uplift"]), row[col], "uplift of {}", row[0]);
    }
    assert!(batch[..200]
        .iter()
        .any(|r| r[col].parse::<f64>().unwrap() != 0.0));
}

#[test]
fn service_and_batch_flag_by_the_same_group_thresholds() {
    let dir = tempdir();
    let d = dir.path();
    train(
        d,
        [
            "--models",
            "decision_tree",
            "--folds",
            "2",
            "--threshold-by",
            "value_tier",
            "--threshold-rule",
            "recall:0.6",
        ],
    );
    let model = d.join("models/latest");
    let sample = Path::new("data/score_sample.csv");
    let (run, _) = score_run(&model, &d.join("runs"), args!["--data", sample, "-q"]);
    let (h, batch) = read_csv(&run.join("scores.csv"));
    let svc = secure_service(&model, &["--quiet"]);
    let (ih, inputs) = read_csv(sample);
    let sent = customers(&ih, &inputs[..300]);
    let (status, v) = svc.json("POST", "/v1/score", &json!({ "customers": sent }));
    assert_eq!(status, 200, "{v}");
    let served = v["results"].as_array().unwrap();
    let mut groups = std::collections::BTreeSet::new();
    for (row, res) in batch.iter().zip(served) {
        for f in ["threshold_group", "churn_flag", "warning_level"] {
            let c = h.iter().position(|x| x == f).unwrap();
            assert_eq!(text(&res[f]), row[c], "{f} of {}", row[0]);
        }
        groups.insert(text(&res["threshold_group"]));
    }
    assert!(groups.len() >= 2, "{groups:?}");
    // The model card says which groups have thresholds of their own.
    let (_, card) = svc.json("GET", "/v1/model", &Value::Null);
    assert_eq!(card["threshold_groups"]["by"][0], "value_tier", "{card}");
}

/// POST `body` to `path` with an optional `Authorization` value: the whole
/// answer (status line, headers, body).
fn exchange(addr: &str, path: &str, auth: Option<&str>, body: &[u8]) -> String {
    let mut head = vec![format!("Content-Length: {}", body.len())];
    head.extend(auth.map(|a| format!("Authorization: {a}")));
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\n{}\r\n\r\n",
        head.join("\r\n")
    );
    s.write_all(req.as_bytes())
        .and_then(|()| s.write_all(body))
        .unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).to_string()
}

#[test]
fn tokens_decide_who_may_call_and_name_the_client_not_the_token() {
    let dir = tempdir();
    let d = dir.path();
    let tokens = d.join("tokens");
    let crm_secret = "crm-secret-0123456789";
    let digest = {
        use sha2::Digest;
        sha2::Sha256::digest(crm_secret.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    std::fs::write(
        &tokens,
        format!("callcentre:cc-token-abcdefghijkl\ncrm:sha256:{digest}\n"),
    )
    .unwrap();
    let svc = Service::start(tree_model(), &["--auth-tokens", tokens.to_str().unwrap()]);
    let (h, rows) = read_csv(Path::new("data/score_sample.csv"));
    let body = json!({ "customers": customers(&h, &rows[..2]) }).to_string();
    let body = body.as_bytes();
    // No token, an unknown one, a malformed header: one and the same 401.
    let refusals: Vec<String> = [
        None,
        Some("Bearer wrong-token-0000000"),
        Some("Basic abc"),
        Some("Bearer "),
    ]
    .iter()
    .map(|a| exchange(&svc.addr, "/v1/score", *a, body))
    .collect();
    for r in &refusals {
        assert!(r.starts_with("HTTP/1.1 401"), "{r}");
        assert!(
            r.to_ascii_lowercase().contains("www-authenticate: bearer"),
            "{r}"
        );
        let body_of = |r: &str| r.split_once("\r\n\r\n").unwrap().1.to_string();
        assert_eq!(body_of(r), body_of(&refusals[0]), "no detail about why");
    }
    // /healthz stays open; the tokens (plain and hashed) are let in.
    assert_eq!(svc.call("GET", "/healthz", b"").0, 200);
    for (auth, who) in [
        ("Bearer cc-token-abcdefghijkl", "callcentre"),
        (&*format!("Bearer {crm_secret}"), "crm"),
    ] {
        let r = exchange(&svc.addr, "/v1/score", Some(auth), body);
        assert!(r.starts_with("HTTP/1.1 200"), "{who}: {r}");
        svc.wait_for("the access log line", |s| {
            s.log().contains(&format!("client={who}"))
        });
    }
    let metrics = http(
        &svc.addr,
        "GET",
        "/metrics",
        b"",
        &["Authorization: Bearer cc-token-abcdefghijkl"],
    )
    .1;
    assert!(metrics.contains("client=\"crm\""), "{metrics}");
    assert!(
        !svc.log().contains("cc-token") && !svc.log().contains(crm_secret),
        "tokens never logged"
    );
    assert!(!metrics.contains("cc-token") && !metrics.contains(crm_secret));
    // SIGHUP re-reads the file: the call centre's token is revoked.
    std::fs::write(&tokens, format!("crm:sha256:{digest}\n")).unwrap();
    svc.signal("-HUP");
    svc.wait_for("the new token file", |s| {
        s.log().contains("SIGHUP: 1 client(s) may call")
    });
    let r = exchange(
        &svc.addr,
        "/v1/score",
        Some("Bearer cc-token-abcdefghijkl"),
        body,
    );
    assert!(r.starts_with("HTTP/1.1 401"), "{r}");

    // Beyond loopback without tokens: refused in one line, unless on purpose.
    let out = score_cmd()
        .args(args![
            "serve",
            "--model",
            tree_model(),
            "--addr",
            "0.0.0.0:0"
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("--auth-tokens") && err.trim().lines().count() == 1,
        "{err}"
    );
    let open = Service::start(tree_model(), &["--addr", "0.0.0.0:0", "--insecure-no-auth"]);
    // The warning follows the start line the helper waits for.
    open.wait_for("the no-authentication warning", |s| {
        s.log().contains("WARNING: no authentication")
    });
}

#[test]
fn slow_greedy_and_crowding_clients_are_cut_off() {
    let svc = Service::start(
        tree_model(),
        &[
            "--max-customers",
            "2",
            "--max-connections",
            "1",
            "--body-timeout",
            "1",
            "--quiet",
        ],
    );
    let (h, rows) = read_csv(Path::new("data/score_sample.csv"));
    let two = json!({ "customers": customers(&h, &rows[..2]) }).to_string();
    let three = json!({ "customers": customers(&h, &rows[..3]) }).to_string();
    let (status, body) = svc.call("POST", "/v1/score", three.as_bytes());
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("--max-customers"), "{body}");
    // A client sending its body a trickle at a time holds the one slot…
    let mut slow = TcpStream::connect(&svc.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = "POST /v1/score HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"cust";
    slow.write_all(head.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // …so a second request is turned away with Retry-After…
    let busy = exchange(&svc.addr, "/v1/score", None, two.as_bytes());
    assert!(busy.starts_with("HTTP/1.1 503"), "{busy}");
    assert!(
        busy.to_ascii_lowercase().contains("retry-after: 1"),
        "{busy}"
    );
    // …until the slow one is cut off after --body-timeout.
    let start = Instant::now();
    let mut answer = String::new();
    let _ = slow.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(start.elapsed() < Duration::from_secs(5));
    let (status, body) = svc.call("POST", "/v1/score", two.as_bytes());
    assert_eq!(status, 200, "{body}");
}

/// One exchange on an open connection: the answer's status line, or the
/// error that ended it (refused handshake, closed connection).
fn status_line(stream: std::io::Result<Box<dyn Stream>>, path: &str) -> Result<String, String> {
    let mut s = stream.map_err(|e| e.to_string())?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let read = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).to_string();
    match text.lines().next() {
        Some(line) if line.starts_with("HTTP/1.1") => Ok(line.to_string()),
        _ => Err(format!("no answer ({read:?})")),
    }
}

#[test]
fn tls_and_mutual_tls_name_the_client_and_certificates_reload_on_sighup() {
    let dir = tempdir();
    let Some(pki) = make_pki(&dir.path().join("pki"), "DNS:localhost") else {
        eprintln!("SKIPPED: no openssl command to make test certificates");
        return;
    };
    let pem = |n: &str| pki.join(n).to_str().unwrap().to_string();
    // The served certificate is a copy, replaced later for the reload.
    for ext in ["pem", "key"] {
        std::fs::copy(
            pki.join(format!("server.{ext}")),
            pki.join(format!("live.{ext}")),
        )
        .unwrap();
    }
    let svc = Service::start(
        tree_model(),
        &[
            "--tls-cert",
            &pem("live.pem"),
            "--tls-key",
            &pem("live.key"),
            "--tls-client-ca",
            &pem("ca.pem"),
        ],
    );
    let ca = pki.join("ca.pem");
    let rogue = pki.join("rogue.pem");
    let call = |trust: &Path, cert: Option<&str>| {
        status_line(open(&svc.addr, Some(&tls_client(trust, cert))), "/healthz")
    };
    // A client certificate from the CA: served, its subject logged.
    assert_eq!(call(&ca, Some("client")).unwrap(), "HTTP/1.1 200 OK");
    svc.wait_for("the subject in the access log", |s| {
        s.log().contains("subject=\"CN=call centre,O=Bank\"")
    });
    // No certificate, one from another CA, clear text: no HTTP at all.
    for (who, outcome) in [
        ("no client certificate", call(&ca, None)),
        ("a rogue CA's client", call(&ca, Some("rogue-client"))),
        (
            "a client not trusting the server",
            call(&rogue, Some("client")),
        ),
        ("clear text", status_line(open(&svc.addr, None), "/healthz")),
    ] {
        assert!(outcome.is_err(), "{who}: {outcome:?}");
    }
    // SIGHUP: the new certificate (from the other CA) is served from now on.
    for ext in ["pem", "key"] {
        std::fs::copy(
            pki.join(format!("rogue-server.{ext}")),
            pki.join(format!("live.{ext}")),
        )
        .unwrap();
    }
    svc.signal("-HUP");
    svc.wait_for("the certificates re-read", |s| {
        s.log().contains("SIGHUP: TLS certificates re-read")
    });
    assert!(
        call(&ca, Some("client")).is_err(),
        "the old CA no longer names the server"
    );
    assert_eq!(call(&rogue, Some("client")).unwrap(), "HTTP/1.1 200 OK");
    // A broken file is refused; the certificate before stays.
    std::fs::write(pki.join("live.pem"), "not a certificate").unwrap();
    svc.signal("-HUP");
    svc.wait_for("the broken file refused", |s| {
        s.log().contains("TLS files refused")
    });
    assert_eq!(call(&rogue, Some("client")).unwrap(), "HTTP/1.1 200 OK");
    let metrics = svc.log();
    assert!(!metrics.contains("BEGIN"), "no key material in the log");
}

#[test]
fn slow_headers_stalled_handshakes_and_idle_crowds_do_not_stop_the_service() {
    let svc = Service::start(tree_model(), &["--header-timeout", "1", "--quiet"]);
    // 1,000 idle connections, then a new client: served at once.
    let idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(&svc.addr).unwrap())
        .collect();
    let start = Instant::now();
    assert_eq!(svc.call("GET", "/healthz", b"").0, 200);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    // A client sending its headers a byte at a time is cut off after
    // --header-timeout while others are served.
    let mut slow = TcpStream::connect(&svc.addr).unwrap();
    // Closed (EOF, reset, or an answer) rather than waiting for more.
    let closed = |s: &mut TcpStream| {
        s.set_nonblocking(true).unwrap();
        let r = s.read(&mut [0u8; 64]);
        s.set_nonblocking(false).unwrap();
        !matches!(r, Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock)
    };
    let start = Instant::now();
    let mut cut = None;
    for b in b"GET /healthz HTTP/1.1\r\nHost: slowloris-slowloris-slowloris\r\n\r\n" {
        if slow.write_all(&[*b]).is_err() || closed(&mut slow) {
            cut = Some(start.elapsed());
            break;
        }
        assert_eq!(svc.call("GET", "/healthz", b"").0, 200);
        std::thread::sleep(Duration::from_millis(100));
    }
    let cut = cut.expect("the slow client was never cut off");
    assert!(
        cut > Duration::from_millis(800) && cut < Duration::from_secs(4),
        "cut after {cut:?}"
    );
    drop(idle);
    if let Some(pki) = make_pki(&tempdir().path().join("pki"), "DNS:localhost") {
        // A client that opens TLS and never finishes the handshake holds
        // nothing: another is served meanwhile.
        let pem = |n: &str| pki.join(n).to_str().unwrap().to_string();
        let tls = Service::start_as(
            tree_model(),
            &[
                "--header-timeout",
                "1",
                "--quiet",
                "--tls-cert",
                &pem("server.pem"),
                "--tls-key",
                &pem("server.key"),
            ],
            Client {
                tls: Some(tls_client(&pki.join("ca.pem"), None)),
                auth: None,
            },
        );
        let mut stalled = TcpStream::connect(&tls.addr).unwrap();
        stalled.write_all(&[0x16, 0x03, 0x01]).unwrap();
        assert_eq!(tls.call("GET", "/healthz", b"").0, 200);
        stalled
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let start = Instant::now();
        let mut rest = Vec::new();
        let _ = stalled.read_to_end(&mut rest);
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "the stalled handshake was dropped"
        );
    } else {
        eprintln!("SKIPPED: the stalled-handshake part (no openssl command)");
    }
}
