//! The domain defaults of a table built from raw logs, applied once the
//! flags and the TOML are in: what a log-trained model's label, id, period
//! and value columns are. Here rather than in the CLI, so a library caller
//! training from logs gets the same model.

use super::Config;
use crate::error::Result;
use crate::logs;

/// Days per month, for the CLV's label periods.
const DAYS_PER_MONTH: f64 = 30.4375;

impl Config {
    /// A table built from logs: its label, the customer id (never a
    /// feature, groups the folds), the snapshot (a period: results per
    /// snapshot), the RFM cell (an output, not a feature: its three scores
    /// are); value tiers on RFM measures unless configured (value: amount
    /// in 365 days, M score, tenure; activity: transactions in 90 days, R
    /// and F scores); CLV's label periods from the horizon (in months).
    pub fn log_defaults(&mut self) -> Result<()> {
        let settings = self.logs.clone();
        let data = &mut self.data;
        data.path = settings.transactions.clone();
        data.target = logs::LABEL.into();
        data.positive = None;
        data.id = Some(logs::ID.into());
        data.period = Some(logs::AS_OF.into());
        if !data.drop.iter().any(|d| d == logs::rfm::CELL) {
            data.drop.push(logs::rfm::CELL.into());
        }
        let s = &mut self.score;
        if s.value_columns.is_empty() && s.activity_columns.is_empty() {
            let v = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
            s.value_columns = v(&["txn_amount_365d", "m_score", "tenure_days"]);
            s.activity_columns = v(&["txn_count_90d", "r_score", "f_score"]);
        }
        s.clv.label_periods =
            (f64::from(settings.horizon_days()?) / DAYS_PER_MONTH).max(1.0 / 30.0);
        Ok(())
    }
}
