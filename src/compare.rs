//! `churn-train compare`: the training runs under experiments/, newest first,
//! with their data fingerprint, best model and key metrics, and a flag where
//! a run's best model scores lower than the run before it — what a
//! retraining job looks at before promoting a model.
//!
//! Runs are read from their metrics.json and run.json only, so the listing
//! also works on a copy of the experiments folder without the artifacts.

use crate::error::{Error, Result};
use crate::evaluate::metrics::Metrics;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write;
use std::path::Path;

/// Metrics shown per run (of the best model, out-of-fold).
pub const KEY_METRICS: [&str; 4] = ["roc_auc", "pr_auc", "ks", "recall"];

/// One training run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunRow {
    pub run_id: String,
    pub created_at: String,
    pub data_file: String,
    pub data_rows: u64,
    pub data_sha256: String,
    pub best_model: String,
    pub engine: String,
    pub metrics: Vec<(String, f64)>,
    /// The metric the run picked its best model by, and its value.
    pub select_metric: String,
    pub selected: f64,
    /// Change of this run's selection metric against the previous (older)
    /// run's value of the same metric.
    pub change: Option<f64>,
    /// `drop` when the change is worse than the tolerance (lower, or higher
    /// for a loss such as brier); `new data` when the training data differs
    /// from the previous run's.
    pub flags: Vec<String>,
}

/// Read every run folder of `dir` holding a training metrics.json.
pub fn list(dir: &Path, tolerance: f64) -> Result<Vec<RunRow>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut rows = Vec::new();
    // Each run's out-of-fold metrics of its best model, for the change column.
    let mut oof: Vec<Value> = Vec::new();
    for entry in entries.flatten() {
        // A hidden folder is a run still being written (or killed while it was).
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path().join("metrics.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| Error::data(path.display(), format!("not a metrics file: {e}")))?;
        let Some(best) = v["best_model"].as_str() else {
            continue;
        };
        // run.json says when; without it (older runs) the folder name is the run id.
        let info: Value = std::fs::read_to_string(entry.path().join("run.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let str_of = |x: &Value| x.as_str().unwrap_or("").to_string();
        let run_id = info["run_id"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| entry.file_name().to_string_lossy().into_owned());
        let best_oof = v["models"][best]["oof"].clone();
        let select_metric = v["select_metric"].as_str().unwrap_or("roc_auc").to_string();
        rows.push(RunRow {
            run_id,
            created_at: str_of(&info["created_at"]),
            data_file: str_of(&v["data"]["file"]),
            data_rows: v["data"]["rows"].as_u64().unwrap_or(0),
            data_sha256: str_of(&v["data"]["sha256"]),
            best_model: best.to_string(),
            engine: str_of(&v["engine"]),
            metrics: KEY_METRICS
                .iter()
                .map(|m| (m.to_string(), best_oof[m].as_f64().unwrap_or(f64::NAN)))
                .collect(),
            selected: best_oof[&select_metric].as_f64().unwrap_or(f64::NAN),
            select_metric,
            change: None,
            flags: vec![],
        });
        oof.push(best_oof);
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        (&rows[b].created_at, &rows[b].run_id).cmp(&(&rows[a].created_at, &rows[a].run_id))
    });
    let mut rows: Vec<RunRow> = order.iter().map(|&i| rows[i].clone()).collect();
    for k in 0..rows.len().saturating_sub(1) {
        let (now, before) = (&rows[k], &oof[order[k + 1]]);
        let change = now.selected - before[&now.select_metric].as_f64().unwrap_or(f64::NAN);
        let worse = if Metrics::higher_is_better(&now.select_metric) == Some(false) {
            change > tolerance
        } else {
            change < -tolerance
        };
        let mut flags = vec![];
        if worse {
            flags.push("drop".to_string());
        }
        if now.data_sha256 != rows[k + 1].data_sha256 {
            flags.push("new data".to_string());
        }
        rows[k].change = Some(change);
        rows[k].flags = flags;
    }
    Ok(rows)
}

/// The printed table, newest first.
pub fn table(rows: &[RunRow]) -> String {
    let mut t = String::new();
    let _ = write!(
        t,
        "{:<22} {:<20} {:<28} {:>8} {:<8} {:<20}",
        "run", "created", "data", "rows", "sha256", "best model"
    );
    for m in KEY_METRICS {
        let _ = write!(t, " {m:>8}");
    }
    // The change is in each run's own selection metric (named when not the newest's).
    let metric = rows.first().map_or("roc_auc", |r| r.select_metric.as_str());
    let _ = writeln!(t, " {:>9}  flags", format!("Δ {metric}"));
    for r in rows {
        let file = Path::new(&r.data_file)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sha: String = r.data_sha256.chars().take(8).collect();
        let _ = write!(
            t,
            "{:<22} {:<20} {:<28} {:>8} {:<8} {:<20}",
            r.run_id, r.created_at, file, r.data_rows, sha, r.best_model
        );
        for (_, v) in &r.metrics {
            let _ = write!(t, " {v:>8.4}");
        }
        let change = r
            .change
            .map(|c| format!("{c:+.4}"))
            .unwrap_or_else(|| "".into());
        let mut flags: Vec<String> = r
            .flags
            .iter()
            .map(|f| {
                if f == "drop" {
                    "<< DROP".to_string()
                } else {
                    f.clone()
                }
            })
            .collect();
        if r.change.is_some() && r.select_metric != metric {
            flags.push(format!("Δ in {}", r.select_metric));
        }
        let flags = flags.join(", ");
        let _ = writeln!(t, " {change:>9}  {flags}");
    }
    if rows.is_empty() {
        t.push_str("no training runs found\n");
    }
    t
}
