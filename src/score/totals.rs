//! What a scoring batch adds up to across its chunks: the summary's
//! counts, drift bins, evaluation rows, rejects, migration and fairness —
//! everything but the scores file, in chunk order.

use super::csv_log::CsvLog;
use super::drift::Drift;
use super::input;
use super::migration::Migration;
use super::summary::{EvalRows, Summary};
use crate::artifact::Artifact;
use crate::error::Result;
use crate::features::TransformStats;
use crate::io::csv_field;
use crate::scoring::contact::{Candidate, ContactList};
use crate::scoring::offers;
use crate::scoring::rows::Scored;

/// What the batch adds up to across chunks (all but the scores file).
pub(super) struct Totals {
    pub summary: Summary,
    pub drift: Drift,
    pub eval: EvalRows,
    pub rejects: CsvLog,
    pub previous: Option<Migration>,
    pub fairness: crate::fairness::BatchFairness,
    /// The contact list (with a capacity or budget).
    pub contacts: Option<ContactList>,
}

impl Totals {
    pub fn add(
        &mut self,
        art: &Artifact,
        v: &input::Validated,
        scored: Option<&(Scored, TransformStats)>,
    ) -> Result<()> {
        self.summary.rows_read += v.rows_read;
        self.rejects.write(v.batch.rejects.len(), |w| {
            for r in &v.batch.rejects {
                writeln!(
                    w,
                    "{},{},{}",
                    csv_field(&r.source),
                    r.row,
                    csv_field(&r.reason())
                )?;
            }
            Ok(())
        })?;
        let Some((scored, stats)) = scored else {
            return Ok(());
        };
        merge(&mut self.summary.unseen_categories, &stats.unseen);
        merge(&mut self.summary.imputed_cells, &stats.imputed);
        self.drift
            .add(&art.scoring, &v.batch.table, &scored.probability);
        if let Some(m) = self.previous.as_mut() {
            for i in 0..scored.ids.len() {
                m.add(&scored.ids[i], &scored.tier[i], scored.level[i])?;
            }
        }
        self.eval.add(scored);
        self.summary.add(scored);
        let labels = scored.label.as_deref();
        self.fairness.add(
            &v.batch.attributes,
            &scored.probability,
            &scored.flag,
            &scored.level,
            labels,
        );
        let first_offer = scored
            .extra
            .iter()
            .find(|(n, _)| n == offers::FIRST_OFFER)
            .map(|(_, first)| first);
        if let Some(first) = first_offer {
            let offered: Vec<bool> = first.iter().map(|o| !o.is_empty()).collect();
            self.fairness.add_offers(&v.batch.attributes, &offered);
        }
        if let Some(list) = self.contacts.as_mut() {
            for (i, &ev) in scored.expected_value.iter().enumerate() {
                list.add(ev, scored.probability[i], |order| Candidate {
                    expected_value: ev,
                    probability: scored.probability[i],
                    order,
                    id: scored.ids[i].clone(),
                    level: scored.level[i],
                    tier: scored.tier[i].clone(),
                    action: scored.action[i].clone(),
                    offer: first_offer.map_or(String::new(), |f| f[i].clone()),
                });
            }
        }
        Ok(())
    }
}

fn merge(
    into: &mut std::collections::BTreeMap<String, usize>,
    from: &std::collections::BTreeMap<String, usize>,
) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}
