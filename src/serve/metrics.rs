//! The service's counters, rendered for Prometheus (`GET /metrics`, text
//! format 0.0.4): requests by endpoint and status, request latency and
//! churn-probability histograms, customers scored and refused, unseen
//! categories by column, model reloads. Counters are atomics so that
//! recording a request takes no lock on the hot path (labelled counters
//! with an open set of labels take a short one).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// Latency bucket bounds, seconds.
const LATENCY: [f64; 12] = [
    0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];
/// Probability bucket bounds.
const SCORE: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// A histogram with fixed bounds (the sum kept in nanounits).
struct Histogram<const N: usize> {
    bounds: [f64; N],
    counts: [AtomicU64; N],
    count: AtomicU64,
    sum_nano: AtomicU64,
}

impl<const N: usize> Histogram<N> {
    fn new(bounds: [f64; N]) -> Self {
        Histogram {
            bounds,
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_nano: AtomicU64::new(0),
        }
    }

    fn observe(&self, x: f64) {
        if let Some(k) = self.bounds.iter().position(|&b| x <= b) {
            self.counts[k].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_nano.fetch_add((x.max(0.0) * 1e9) as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            cumulative += c.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_nano.load(Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// Everything `/metrics` reports.
pub struct Metrics {
    /// (endpoint, status, client: empty without tokens) → requests.
    requests: Mutex<BTreeMap<(&'static str, u16, String), u64>>,
    latency: Histogram<12>,
    scores: Histogram<10>,
    customers_scored: AtomicU64,
    customers_refused: AtomicU64,
    unseen: Mutex<BTreeMap<String, u64>>,
    reloads: [AtomicU64; 2],
    /// TLS handshakes that failed or timed out (shared with the connection loop).
    pub handshake_failures: std::sync::Arc<AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: Mutex::default(),
            latency: Histogram::new(LATENCY),
            scores: Histogram::new(SCORE),
            customers_scored: AtomicU64::new(0),
            customers_refused: AtomicU64::new(0),
            unseen: Mutex::default(),
            reloads: [AtomicU64::new(0), AtomicU64::new(0)],
            handshake_failures: Default::default(),
        }
    }
}

/// The endpoint label of a path (unknown paths share one label, so a
/// scan of random URLs cannot grow the metrics).
pub fn endpoint(path: &str) -> &'static str {
    match path {
        "/v1/score" => "/v1/score",
        "/invocations" => "/invocations",
        "/healthz" => "/healthz",
        "/v1/model" => "/v1/model",
        "/metrics" => "/metrics",
        _ => "other",
    }
}

impl Metrics {
    pub fn request(&self, endpoint: &'static str, status: u16, client: &str, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((endpoint, status, client.to_string())).or_default() += 1;
        }
        self.latency.observe(seconds);
    }

    /// A scored request: its probabilities and unseen categories.
    pub fn scored(&self, probabilities: &[f64], unseen: &BTreeMap<String, usize>) {
        for &p in probabilities {
            self.scores.observe(p);
        }
        self.customers_scored
            .fetch_add(probabilities.len() as u64, Relaxed);
        if unseen.is_empty() {
            return;
        }
        if let Ok(mut m) = self.unseen.lock() {
            for (k, v) in unseen {
                *m.entry(k.clone()).or_default() += *v as u64;
            }
        }
    }

    /// Customers of a refused request (422).
    pub fn refused(&self, customers: usize) {
        self.customers_refused.fetch_add(customers as u64, Relaxed);
    }

    pub fn reload(&self, ok: bool) {
        self.reloads[usize::from(!ok)].fetch_add(1, Relaxed);
    }

    /// The Prometheus text page.
    /// (`dropped`: access-log lines the log writer could not keep up with.)
    pub fn render(&self, model_id: &str, dropped: u64) -> String {
        let mut out = String::with_capacity(4096);
        let _ = writeln!(
            out,
            "# HELP churn_model_info The model being served.\n# TYPE churn_model_info gauge\nchurn_model_info{{model_id=\"{}\"}} 1",
            escape(model_id)
        );
        let _ = writeln!(out, "# HELP churn_http_requests_total Requests by endpoint and status.\n# TYPE churn_http_requests_total counter");
        if let Ok(m) = self.requests.lock() {
            for ((e, s, c), n) in m.iter() {
                let client = match c.is_empty() {
                    true => String::new(),
                    false => format!(",client=\"{}\"", escape(c)),
                };
                let _ = writeln!(
                    out,
                    "churn_http_requests_total{{endpoint=\"{e}\",status=\"{s}\"{client}}} {n}"
                );
            }
        }
        self.latency.render(
            &mut out,
            "churn_http_request_duration_seconds",
            "Time from request to response.",
        );
        self.scores.render(
            &mut out,
            "churn_probability",
            "Churn probability of every customer scored.",
        );
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        counter(
            &mut out,
            "churn_customers_scored_total",
            "Customers scored.",
            self.customers_scored.load(Relaxed),
        );
        counter(
            &mut out,
            "churn_customers_rejected_total",
            "Customers in requests refused with 422 (bad or missing fields).",
            self.customers_refused.load(Relaxed),
        );
        let _ = writeln!(out, "# HELP churn_unseen_categories_total Category values never seen in training, by column (scored as in batch).\n# TYPE churn_unseen_categories_total counter");
        if let Ok(m) = self.unseen.lock() {
            for (k, v) in m.iter() {
                let _ = writeln!(
                    out,
                    "churn_unseen_categories_total{{column=\"{}\"}} {v}",
                    escape(k)
                );
            }
        }
        counter(
            &mut out,
            "churn_access_log_dropped_total",
            "Access-log lines dropped because the log writer fell behind.",
            dropped,
        );
        counter(
            &mut out,
            "churn_tls_handshake_failures_total",
            "TLS handshakes refused or not finished within --header-timeout.",
            self.handshake_failures.load(Relaxed),
        );
        let _ = writeln!(out, "# HELP churn_model_reloads_total Model reloads by result.\n# TYPE churn_model_reloads_total counter");
        for (result, n) in ["ok", "refused"].iter().zip(&self.reloads) {
            let _ = writeln!(
                out,
                "churn_model_reloads_total{{result=\"{result}\"}} {}",
                n.load(Relaxed)
            );
        }
        out
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_counters_add_up() {
        let m = Metrics::default();
        m.request("/v1/score", 200, "", 0.0004);
        m.request("/v1/score", 200, "", 0.003);
        m.request("/v1/score", 422, "", 2.0);
        m.scored(&[0.05, 0.95], &BTreeMap::from([("Geo\"x".to_string(), 2)]));
        m.refused(3);
        m.reload(false);
        let page = m.render("run-1", 0);
        for line in [
            "churn_http_requests_total{endpoint=\"/v1/score\",status=\"200\"} 2",
            "churn_http_requests_total{endpoint=\"/v1/score\",status=\"422\"} 1",
            "churn_http_request_duration_seconds_bucket{le=\"0.0005\"} 1",
            "churn_http_request_duration_seconds_bucket{le=\"0.005\"} 2",
            "churn_http_request_duration_seconds_bucket{le=\"1\"} 2",
            "churn_http_request_duration_seconds_bucket{le=\"+Inf\"} 3",
            "churn_probability_bucket{le=\"0.1\"} 1",
            "churn_probability_count 2",
            "churn_customers_scored_total 2",
            "churn_customers_rejected_total 3",
            "churn_unseen_categories_total{column=\"Geo\\\"x\"} 2",
            "churn_model_reloads_total{result=\"refused\"} 1",
            "churn_model_info{model_id=\"run-1\"} 1",
        ] {
            assert!(page.lines().any(|l| l == line), "{line} not in\n{page}");
        }
        assert_eq!(endpoint("/../etc"), "other");
    }
}
