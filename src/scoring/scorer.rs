//! The scoring core: one validated batch of customers → their scores
//! (probability, flag, warning level, value tier, CLV, reasons, action and,
//! when an offers model applies, risk level and offers).
//!
//! The batch job (files, stdout, a database table) and the HTTP service
//! call this one function, so a customer gets the same answer from every
//! front end. A [`Scorer`] owns everything fixed for its model (the
//! artifact, the playbook, the value tiers, the offers model), so the
//! service can share one behind an `Arc` and swap it whole on a reload.

use super::act::{self, Levels, Playbook};
use super::offers::{self, OffersSummary};
use super::rows::Scored;
use super::validate::Batch;
use crate::artifact::Artifact;
use crate::config::ScoreConfig;
use crate::error::{Error, Result};
use crate::features::TransformStats;
use crate::offers::OffersModel;
use crate::outcomes::uplift::artifact::UpliftArtifact;
use crate::reference::segment::{SegmentModel, SegmentSample};
use crate::reference::thresholds::{self, GroupThreshold};
use crate::reference::value;
use std::sync::{Arc, OnceLock};

/// A model ready to score: the artifact and what scoring adds to it.
pub struct Scorer {
    pub artifact: Artifact,
    /// The scoring settings (CLV, warning overrides, segment rules).
    pub settings: ScoreConfig,
    pub playbook: Playbook,
    /// Value tiers: the model's, or refitted on the batch.
    pub segments: Option<SegmentModel>,
    pub offers: Option<OffersModel>,
    /// The uplift model (`--uplift`): the `uplift` column, and the contact
    /// list's value by retention uplift instead of the fallback.
    pub uplift: Option<UpliftArtifact>,
    /// Tiers fitted on the first chunk of standard input
    /// (`--refit-segments` when the batch can be read only once).
    first_chunk_segments: OnceLock<SegmentModel>,
}

impl Scorer {
    /// A scorer for `artifact` with the playbook `settings` name (else the
    /// shipped one).
    pub fn new(
        settings: &ScoreConfig,
        artifact: Artifact,
        segments: Option<SegmentModel>,
        offers: Option<OffersModel>,
    ) -> Result<Scorer> {
        let playbook = match &settings.playbook {
            Some(path) => Playbook::load(path)?,
            None => Playbook::shipped()?,
        };
        Ok(Scorer {
            artifact,
            settings: settings.clone(),
            playbook,
            segments,
            offers,
            uplift: None,
            first_chunk_segments: OnceLock::new(),
        })
    }

    /// Apply the uplift artifact at `path` too (checked against the
    /// churn model's inputs).
    pub fn load_uplift(&mut self, path: &std::path::Path) -> Result<()> {
        self.uplift = Some(super::uplift::load(path, &self.artifact)?);
        Ok(())
    }

    /// Predict, explain, segment and act on one validated batch (whose
    /// customer `ids` the scores take over); offers are added when the
    /// batch carries their inputs. Unseen categories and imputed cells are
    /// counted in `stats`, offers in `offers_summary`.
    pub fn score(
        &self,
        batch: &Batch,
        ids: Vec<String>,
        stats: &mut TransformStats,
        offers_summary: &mut OffersSummary,
    ) -> Result<Scored> {
        let art = &self.artifact;
        let x = art.pipeline.transform_all(&batch.table, stats);
        let (p, reasons): (Vec<f64>, Vec<_>) =
            super::explain::predict_explain(art, &x).into_iter().unzip();
        let s = &self.settings;
        let clv = value::clvs(&s.clv, art.scoring.roles.as_ref(), &batch.table, &p);
        // Tiers use the CLV definition they were fitted with (the artifact's).
        let tier_clv = if s.clv == art.config.score.clv {
            clv.clone()
        } else {
            value::clvs(
                &art.config.score.clv,
                art.scoring.roles.as_ref(),
                &batch.table,
                &p,
            )
        };
        let segments = match &self.segments {
            Some(seg) => Some(seg),
            None if s.refit_segments => Some(self.first_chunk(batch, &tier_clv)?),
            None => None,
        };
        let tiers = match segments {
            Some(seg) => seg.assign(&batch.table, &tier_clv)?,
            None => vec![Arc::from("unsegmented"); p.len()],
        };
        let levels = Levels {
            global: s.warning.unwrap_or(art.scoring.warning),
            rules: &s.segments,
        };
        let groups = self.threshold_groups(batch, &tiers)?;
        let mut out = Scored {
            ids,
            label: batch.labels.clone(),
            ..Scored::default()
        };
        // The playbook is searched once per (level, tier) pair met, not per
        // customer; tiers are shared names, so a pair is found by address.
        let mut seen: Vec<Act> = Vec::new();
        for i in 0..p.len() {
            // A threshold group's own threshold and cut-offs (cut-offs
            // given at scoring, --warning, override every group's).
            let own = groups.as_ref().and_then(|(_, g)| g[i]);
            let cutoffs = match (own, s.warning) {
                (Some(g), None) => g.warning,
                _ => levels.global,
            };
            let level = levels.level_or(&batch.table, i, p[i], &tiers[i], cutoffs);
            let known = seen
                .iter()
                .position(|a| std::ptr::eq(a.level, level) && Arc::ptr_eq(&a.tier, &tiers[i]));
            let k = known.unwrap_or_else(|| {
                seen.push(Act::new(
                    self.playbook.find(level, &tiers[i]),
                    level,
                    &tiers[i],
                ));
                seen.len() - 1
            });
            let act = &seen[k];
            out.probability.push(p[i]);
            out.flag
                .push((p[i] >= own.map_or(art.threshold, |g| g.threshold)) as u8);
            out.level.push(level);
            out.clv.push(clv[i]);
            out.action.push(act.action.clone());
            out.owner.push(act.owner.clone());
            out.contact_days.push(act.days);
        }
        if let Some((names, _)) = groups {
            out.extra.push((thresholds::COLUMN.into(), names));
        }
        if let (Some(model), Some(rows)) = (&self.offers, &batch.offers) {
            out.extra = offers::apply(model, rows, &tiers, &out.level, offers_summary);
        }
        let uplift = self
            .uplift
            .as_ref()
            .map(|u| super::uplift::apply(u, &batch.table));
        let cell = |v: &f64, digits: usize| match v.is_nan() {
            true => String::new(),
            false => format!("{v:.digits$}"),
        };
        if let Some(u) = &uplift {
            let text = u.iter().map(|v| cell(v, 6)).collect();
            out.extra.push(("uplift".into(), text));
        }
        if s.contact.is_set() {
            out.expected_value = (0..p.len())
                .map(|i| match &uplift {
                    Some(u) => s.contact.expected_value_of_uplift(u[i], clv[i]),
                    None => s.contact.expected_value(p[i], clv[i]),
                })
                .collect();
            let text = out.expected_value.iter().map(|v| cell(v, 2));
            out.extra.push(("expected_value".into(), text.collect()));
        }
        out.tier = tiers;
        out.reasons = reasons;
        Ok(out)
    }

    /// With thresholds per group: each customer's group name
    /// (`threshold_group`: `global` when the global threshold serves it)
    /// and its own threshold, if any.
    #[allow(clippy::type_complexity)]
    fn threshold_groups(
        &self,
        batch: &Batch,
        tiers: &[Arc<str>],
    ) -> Result<Option<(Vec<String>, Vec<Option<&GroupThreshold>>)>> {
        let Some(gt) = &self.artifact.scoring.thresholds else {
            return Ok(None);
        };
        let days = match thresholds::dated(&gt.by) {
            true => Some(vec![self.season_day(); tiers.len()]),
            false => None,
        };
        let derived = thresholds::Derived {
            tiers: Some(tiers),
            days: days.as_deref(),
            calendar: &gt.calendar,
        };
        let keys = thresholds::keys(&gt.by, &batch.table, derived).map_err(Error::Model)?;
        let own: Vec<Option<&GroupThreshold>> = keys.iter().map(|k| gt.own(k)).collect();
        let names = keys
            .into_iter()
            .zip(&own)
            .map(|(k, o)| match o {
                Some(_) => k,
                None => thresholds::GLOBAL.to_string(),
            })
            .collect();
        Ok(Some((names, own)))
    }

    /// The date of seasonal and calendar thresholds: `--season` (a date,
    /// or a month of this year; checked when the settings were), else
    /// today (UTC).
    fn season_day(&self) -> i32 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let today = (now / 86_400) as i32;
        let year = crate::ingest::dates::to_civil(today).0;
        self.settings
            .season
            .as_deref()
            .and_then(|s| thresholds::day_of(s, year))
            .unwrap_or(today)
    }

    /// Will the next batch fit the tiers (standard input with
    /// `--refit-segments`, before its first chunk was scored)? Such a batch
    /// must be scored before any other.
    pub fn fits_tiers_on_first_chunk(&self) -> bool {
        self.segments.is_none()
            && self.settings.refit_segments
            && self.first_chunk_segments.get().is_none()
    }

    /// The tiers fitted on the first batch this scorer saw (standard input
    /// is read once: its first chunk stands in for the batch).
    fn first_chunk(&self, batch: &Batch, tier_clv: &[f64]) -> Result<&SegmentModel> {
        if let Some(seg) = self.first_chunk_segments.get() {
            return Ok(seg);
        }
        let art = &self.artifact;
        let mut sample = SegmentSample::new(
            art.scoring.segments.as_ref(),
            art.scoring.roles.as_ref(),
            &batch.table,
            art.seed,
        );
        sample.add(&batch.table, tier_clv)?;
        let fitted = sample.fit(art.seed)?;
        Ok(self.first_chunk_segments.get_or_init(|| fitted))
    }
}

/// The playbook's answer for one (warning level, value tier) pair.
struct Act {
    level: &'static str,
    tier: Arc<str>,
    action: Arc<str>,
    owner: Arc<str>,
    days: u32,
}

impl Act {
    fn new(rule: Option<&act::PlaybookRule>, level: &'static str, tier: &Arc<str>) -> Act {
        let text = |f: fn(&act::PlaybookRule) -> &str| Arc::from(rule.map_or("", f));
        Act {
            level,
            tier: tier.clone(),
            action: text(|r| &r.action),
            owner: text(|r| &r.owner),
            days: rule.map_or(0, |r| r.contact_within_days),
        }
    }
}
