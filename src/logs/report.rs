//! What reading the logs found, file by file and snapshot by snapshot:
//! the counts data_report.json and summary.json carry (plain data, shared
//! by the readers and the aggregation).

use serde::{Deserialize, Serialize};

/// Why rows of one file were left out, and how many were used.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FileCounts {
    pub file: String,
    pub rows_read: usize,
    pub rows_used: usize,
    pub missing_id: usize,
    pub bad_date: usize,
    pub bad_amount: usize,
    pub negative_amount: usize,
    pub unknown_customer: usize,
    /// Customer table only: a repeated customer id (the first row is kept).
    pub duplicate_id: usize,
    /// Event log only: kinds none of `[logs.kinds]` names (kept, unused).
    pub other_kind: usize,
}

/// Customers of one snapshot.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SnapshotCounts {
    pub as_of: String,
    /// Customers in the snapshot.
    pub customers: usize,
    /// Opened on or after the as-of date: not in the snapshot.
    pub not_yet_open: usize,
    /// Closed (account-close event) before the as-of date: left out.
    pub closed_before: usize,
    /// Positives under the churn rule (when labelled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub churned: Option<usize>,
    /// Days of log before the as-of date, when fewer than the longest
    /// feature window: its window features count only these days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_days: Option<i64>,
}

impl SnapshotCounts {
    /// The counts of one snapshot over two sets of customers.
    pub fn plus(&self, o: &SnapshotCounts) -> SnapshotCounts {
        SnapshotCounts {
            as_of: self.as_of.clone(),
            customers: self.customers + o.customers,
            not_yet_open: self.not_yet_open + o.not_yet_open,
            closed_before: self.closed_before + o.closed_before,
            churned: match (self.churned, o.churned) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            },
            history_days: self.history_days,
        }
    }
}

/// What reading the logs found (data_report.json, summary.json).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LogReport {
    pub customers: FileCounts,
    pub transactions: FileCounts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<FileCounts>,
    pub first_date: String,
    pub last_date: String,
    pub snapshots: Vec<SnapshotCounts>,
    /// Transaction columns whose numbers were written with a decimal
    /// comma, thousands separators or a currency, and how.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub number_formats: std::collections::BTreeMap<String, crate::ingest::numbers::NumberFormat>,
}

impl FileCounts {
    /// Add a batch's counts (the file name stays).
    pub(super) fn add(&mut self, b: &FileCounts) {
        self.rows_read += b.rows_read;
        self.rows_used += b.rows_used;
        self.missing_id += b.missing_id;
        self.bad_date += b.bad_date;
        self.bad_amount += b.bad_amount;
        self.negative_amount += b.negative_amount;
        self.unknown_customer += b.unknown_customer;
        self.duplicate_id += b.duplicate_id;
        self.other_kind += b.other_kind;
    }
}
