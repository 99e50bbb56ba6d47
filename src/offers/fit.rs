//! Learning who takes which product, and checking the ranking out of time.
//!
//! One propensity model per product on the native engine (gradient
//! boosting, 7 leaves, early stopping) over the panel's transitions where
//! the customer does not hold the product; the target is "holds it next
//! period". Out-of-fold ROC AUC comes from stratified folds grouped by
//! customer. A product with fewer than `min_positives` take-ups (or
//! non-take-ups) gets its base rate instead of a model, and says so; so
//! does one whose model does not beat its base rate out of fold: its
//! out-of-fold log loss must be below that of each fold's training take-up
//! rate, and its out-of-fold AUC above 0.5 by two standard errors of a
//! random ranking (Hanley–McNeil under the null, √((n₁+n₀+1)/(12·n₁·n₀))).
//! A product whose take-ups look random in the data would otherwise be
//! ranked by noise.
//!
//! The backtest is rolling: for each period t that has earlier transitions
//! to learn from (the last [`ROLLING`] of them), everything is refitted
//! (the same folds and fallbacks) on the transitions *into* the periods
//! before t, every customer of the period before t is ranked and compared
//! with what they took up in t: MAP@7 and hit@3, for the model's ranking
//! and for a popularity baseline (each product's take-up rate) under the
//! same suitability rules. The mean over the periods (those whose training
//! knew a period before its transitions, as the final models do) is the estimate of
//! next period's MAP@7, the spread how far one month strays from it: the
//! mix of take-ups swings from month to month, so the last period alone
//! (the only backtest before) said 0.889 on a real panel whose next month
//! came out at 0.807.

use super::catalog::Catalog;
use super::inputs::{Rows, UNKNOWN};
use super::panel::{Panel, Transition};
use super::rank::{self, Profile};
use super::{matrix, unsample, ProductModel, Propensity, TOP};
use crate::error::Result;
use crate::evaluate::metrics::weighted_log_loss;
use crate::features::{FeaturePipeline, TransformStats};
use crate::models::{self, BoostingParams, ClassWeight, Engine, FamilyParams, FitOptions};
use ndarray::{Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

/// How propensity models are fitted.
#[derive(Debug, Clone)]
pub struct FitSettings {
    pub boosting: BoostingParams,
    pub folds: usize,
    pub min_positives: usize,
    /// Most examples a product's model is fitted on: beyond, every take-up
    /// is kept and a seeded sample of the non-take-ups, and the model's
    /// odds are scaled back by the share kept (a bank's panel of millions
    /// of customer-months would otherwise cost minutes per product).
    pub max_examples: usize,
    pub seed: u64,
}

impl Default for FitSettings {
    fn default() -> Self {
        FitSettings {
            boosting: BoostingParams {
                num_leaves: 7,
                learning_rate: 0.05,
                n_rounds: 300,
                min_data_in_leaf: 40,
                ..BoostingParams::default()
            },
            folds: 3,
            min_positives: 30,
            max_examples: 200_000,
            seed: 42,
        }
    }
}

/// Ranking quality of one method in the backtest.
#[derive(Debug, Clone, Serialize)]
pub struct RankScores {
    pub map_at_7: f64,
    pub hit_at_3: f64,
}

/// The out-of-time backtest of one period's take-ups.
#[derive(Debug, Clone, Serialize)]
pub struct Backtest {
    /// The period whose take-ups are predicted.
    pub period: String,
    /// Whether its training transitions knew the period before theirs (the
    /// holding changes the final models learn from): only such periods
    /// count in the rolling mean, the first one would measure a model
    /// without them.
    pub counted: bool,
    /// Customers ranked, and those of them who took up a product.
    pub customers: usize,
    pub customers_with_take_up: usize,
    /// The model's ranking as served (expected value when margins are set).
    pub model: RankScores,
    /// The model's ranking by propensity alone.
    pub model_by_propensity: RankScores,
    /// Every product's take-up rate in the training transitions, as served.
    pub popularity: RankScores,
    pub popularity_by_propensity: RankScores,
    /// model.map_at_7 / popularity.map_at_7: the lift as served, where
    /// margins order both rankings alike and so narrow it.
    pub map_lift: f64,
    /// model_by_propensity.map_at_7 / popularity_by_propensity.map_at_7: the
    /// lift of what the propensity models learned over take-up rates.
    pub map_lift_by_propensity: f64,
}

/// Rows of the transitions `ts` not holding product `p`, and whether each
/// took it up (a snapshot: every row, and whether it holds `p`); a
/// transition whose target holding is unknown is no example.
fn examples(panel: &Panel, ts: &[Transition], p: usize) -> (Vec<usize>, Vec<u8>) {
    let held = &panel.rows.held[p];
    let now_next = |t: &Transition| match panel.snapshot {
        true => (0, held[t.now]),
        false => (held[t.now], held[t.next]),
    };
    ts.iter()
        .enumerate()
        .map(|(i, t)| (i, now_next(t)))
        .filter(|(_, (now, next))| *now == 0 && *next != UNKNOWN)
        .map(|(i, (_, next))| (i, next))
        .unzip()
}

/// The model inputs of transitions `ts`, and the pipeline fitted on them.
pub fn design(panel: &Panel, ts: &[Transition]) -> (FeaturePipeline, Rows, Array2<f64>) {
    let now: Vec<usize> = ts.iter().map(|t| t.now).collect();
    let rows = panel.rows.select(&now);
    let all: Vec<usize> = (0..rows.len()).collect();
    let pipe = FeaturePipeline::fit(&rows.attributes, &all, false);
    let x = matrix(
        &pipe,
        &rows,
        Some(&panel.previous(ts)),
        &mut TransformStats::default(),
    );
    (pipe, rows, x)
}

fn fit_one(
    s: &FitSettings,
    x: ndarray::ArrayView2<f64>,
    y: &[u8],
    seed: u64,
) -> Result<models::FittedModel> {
    let opts = FitOptions {
        engine: Engine::Native,
        class_weight: ClassWeight::None,
    };
    models::fit(
        &FamilyParams::GradientBoosting(&s.boosting),
        opts,
        x,
        y,
        seed,
        &|| {},
    )
}

/// Keep every take-up of `(idx, y)` and, when there are more than `max`
/// examples, a seeded share of the rest — at least `max / 2` of them, so a
/// product most rows hold (a snapshot's "holds p") keeps both classes: the
/// examples kept and that share.
fn sample_negatives(
    idx: Vec<usize>,
    y: Vec<u8>,
    max: usize,
    seed: u64,
) -> (Vec<usize>, Vec<u8>, f64) {
    let positives = y.iter().filter(|&&v| v == 1).count();
    let negatives = y.len() - positives;
    if y.len() <= max || negatives == 0 {
        return (idx, y, 1.0);
    }
    let room = max.saturating_sub(positives).max(max / 2).max(1);
    let kept = (room as f64 / negatives as f64).min(1.0);
    if kept == 1.0 {
        return (idx, y, 1.0);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (idx, y): (Vec<usize>, Vec<u8>) = idx
        .into_iter()
        .zip(y)
        .filter(|&(_, v)| v == 1 || rng.random::<f64>() < kept)
        .unzip();
    (idx, y, kept)
}

/// One model (or base rate) per product over transitions `ts` with design
/// matrix `x`, with its out-of-fold AUC grouped by customer.
pub fn fit_products(
    panel: &Panel,
    catalog: &Catalog,
    ts: &[Transition],
    x: &Array2<f64>,
    s: &FitSettings,
) -> Result<Vec<ProductModel>> {
    (0..catalog.products.len())
        .into_par_iter()
        .map(|p| {
            let (idx, y) = examples(panel, ts, p);
            let positives = y.iter().filter(|&&v| v == 1).count();
            let id = catalog.products[p].id.clone();
            let (rows, rate) = (y.len(), positives as f64 / y.len().max(1) as f64);
            if positives < s.min_positives || y.len() - positives < s.min_positives {
                return Ok(ProductModel {
                    id,
                    rows,
                    positives,
                    auc: None,
                    propensity: Propensity::BaseRate { rate },
                });
            }
            let seed = s.seed.wrapping_add(p as u64);
            let (idx, y, kept) = sample_negatives(idx, y, s.max_examples, seed);
            let mut xp = x.select(Axis(0), &idx);
            if panel.snapshot {
                // The product's own holding is the target: the model sees
                // every row as "not held", as the customers it ranks are.
                let own = x.ncols() - 2 * catalog.products.len() - 1 + p;
                xp.column_mut(own).fill(0.0);
            }
            let groups: Vec<String> = idx.iter().map(|&i| panel.ids[ts[i].now].clone()).collect();
            let folds = crate::split::stratified_group_kfold(&y, &groups, s.folds, seed)?;
            let (mut oof, mut base) = (vec![0.0; y.len()], vec![0.0; y.len()]);
            for f in &folds {
                let ytr: Vec<u8> = f.train.iter().map(|&i| y[i]).collect();
                let m = fit_one(s, xp.select(Axis(0), &f.train).view(), &ytr, seed)?;
                let pr = m.predict_proba(xp.select(Axis(0), &f.test).view());
                let fold_rate = ytr.iter().map(|&v| f64::from(v)).sum::<f64>() / ytr.len() as f64;
                for (&i, v) in f.test.iter().zip(pr) {
                    (oof[i], base[i]) = (unsample(v, kept), unsample(fold_rate, kept));
                }
            }
            let auc = crate::stats::roc_auc(&y, &oof);
            let (n1, n0) = (positives as f64, (y.len() - positives) as f64);
            let chance = 0.5 + 2.0 * ((n1 + n0 + 1.0) / (12.0 * n1 * n0)).sqrt();
            let loss = |p: &[f64]| weighted_log_loss(&y, p, 1.0 / kept);
            let gains = auc > chance && loss(&oof) < loss(&base);
            let auc = Some(auc);
            let propensity = match gains {
                true => Propensity::Model {
                    model: fit_one(s, xp.view(), &y, seed)?,
                    negatives_kept: kept,
                },
                false => Propensity::BaseRate { rate },
            };
            Ok(ProductModel {
                id,
                rows,
                positives,
                auc,
                propensity,
            })
        })
        .collect()
}

/// The suitability profile of row `r` of `rows`.
pub fn profile<'a>(
    catalog: &Catalog,
    rows: &'a Rows,
    r: usize,
    tier: Option<&'a str>,
    warning: Option<&'a str>,
    held: &'a [u8],
) -> Profile<'a> {
    Profile {
        level: rows.level[r],
        age: rows.age[r],
        balance: rows.balance[r],
        tier: tier.or_else(|| rows.tier.as_ref().and_then(|t| t[r].as_deref())),
        stage: catalog.life_stage.of(rows.age[r]),
        warning,
        held,
    }
}

/// Every row's holdings as one slice per row.
pub fn held_by_row(rows: &Rows) -> Vec<Vec<u8>> {
    (0..rows.len())
        .map(|r| rows.held.iter().map(|h| h[r]).collect())
        .collect()
}

/// Accumulates MAP@7 and hit@3 over customers.
#[derive(Default)]
struct Scorer {
    ap: f64,
    hit: f64,
    n: usize,
}

impl Scorer {
    fn add(&mut self, ranked: &[(usize, f64)], relevant: &[usize]) {
        let list: Vec<usize> = ranked.iter().map(|r| r.0).collect();
        self.ap += rank::average_precision(&list, relevant, TOP);
        self.hit += list.iter().take(3).any(|p| relevant.contains(p)) as u8 as f64;
        self.n += 1;
    }

    fn scores(&self) -> RankScores {
        let n = self.n.max(1) as f64;
        RankScores {
            map_at_7: self.ap / n,
            hit_at_3: self.hit / n,
        }
    }
}

/// The catalog with margins dropped (ranks by propensity alone).
fn by_propensity(catalog: &Catalog) -> Catalog {
    let mut c = catalog.clone();
    c.products.iter_mut().for_each(|p| p.margin = None);
    c
}

/// Periods the rolling backtest goes back at most (each costs a refit).
pub const ROLLING: usize = 6;

/// The rolling backtest: one [`Backtest`] per period, oldest first, and
/// their mean and spread.
#[derive(Debug, Clone, Serialize)]
pub struct Rolling {
    pub periods: Vec<Backtest>,
    /// Mean over the counted periods (every period when none is), as
    /// served and by propensity: the estimate of the next period's ranking
    /// quality.
    pub mean: RankScores,
    pub mean_by_propensity: RankScores,
    pub popularity_mean: RankScores,
    /// Smallest and largest MAP@7 as served over the counted periods.
    pub map_at_7_min: f64,
    pub map_at_7_max: f64,
}

impl Rolling {
    /// The most recent period's backtest.
    pub fn last(&self) -> Option<&Backtest> {
        self.periods.last()
    }
}

fn mean_scores<'a>(all: impl Iterator<Item = &'a RankScores>) -> RankScores {
    let (mut map, mut hit, mut n) = (0.0, 0.0, 0.0);
    for s in all {
        (map, hit, n) = (map + s.map_at_7, hit + s.hit_at_3, n + 1.0);
    }
    RankScores {
        map_at_7: map / f64::max(n, 1.0),
        hit_at_3: hit / f64::max(n, 1.0),
    }
}

/// Backtest every one of the last [`ROLLING`] periods that has earlier
/// transitions to learn from; `None` when the panel has fewer than three
/// periods.
pub fn rolling(
    panel: &Panel,
    catalog: &Catalog,
    s: &FitSettings,
    on_period: &dyn Fn(&Backtest),
) -> Result<Option<Rolling>> {
    let last = panel.report.periods.len().saturating_sub(1);
    let first = 2.max((last + 1).saturating_sub(ROLLING));
    let mut periods = Vec::new();
    for target in first..=last {
        if let Some(b) = backtest(panel, catalog, s, target)? {
            on_period(&b);
            periods.push(b);
        }
    }
    if periods.is_empty() {
        return Ok(None);
    }
    let any = periods.iter().any(|b| b.counted);
    let counted: Vec<&Backtest> = (periods.iter()).filter(|b| b.counted || !any).collect();
    let served: Vec<f64> = counted.iter().map(|b| b.model.map_at_7).collect();
    Ok(Some(Rolling {
        mean: mean_scores(counted.iter().map(|b| &b.model)),
        mean_by_propensity: mean_scores(counted.iter().map(|b| &b.model_by_propensity)),
        popularity_mean: mean_scores(counted.iter().map(|b| &b.popularity)),
        map_at_7_min: served.iter().copied().fold(f64::INFINITY, f64::min),
        map_at_7_max: served.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        periods,
    }))
}

/// Refit on the transitions into the periods before `target`, predict the
/// take-ups into `target`; `None` when either side is empty.
pub fn backtest(
    panel: &Panel,
    catalog: &Catalog,
    s: &FitSettings,
    target: usize,
) -> Result<Option<Backtest>> {
    let (train, test): (Vec<Transition>, Vec<Transition>) = (panel.transitions.iter())
        .filter(|t| t.to <= target)
        .partition(|t| t.to < target);
    if train.is_empty() || test.is_empty() {
        return Ok(None);
    }
    let (pipe, _, x) = design(panel, &train);
    let products = fit_products(panel, catalog, &train, &x, s)?;
    let popular: Vec<f64> = (0..catalog.products.len())
        .map(|p| {
            let (_, y) = examples(panel, &train, p);
            y.iter().map(|&v| v as f64).sum::<f64>() / y.len().max(1) as f64
        })
        .collect();
    let now: Vec<usize> = test.iter().map(|t| t.now).collect();
    let rows = panel.rows.select(&now);
    let xt = matrix(
        &pipe,
        &rows,
        Some(&panel.previous(&test)),
        &mut TransformStats::default(),
    );
    let props: Vec<Vec<f64>> = products
        .iter()
        .map(|m| m.propensity.predict(xt.view()))
        .collect();
    let plain = by_propensity(catalog);
    let mut scorers: [Scorer; 4] = Default::default();
    let held = held_by_row(&rows);
    let mut with_take_up = 0;
    for (r, t) in test.iter().enumerate() {
        let relevant: Vec<usize> = (0..catalog.products.len())
            .filter(|&p| panel.rows.held[p][t.now] == 0 && panel.rows.held[p][t.next] == 1)
            .collect();
        if relevant.is_empty() {
            continue;
        }
        with_take_up += 1;
        let c = profile(catalog, &rows, r, None, None, &held[r]);
        let model: Vec<f64> = props.iter().map(|p| p[r]).collect();
        for (k, (cat, scores)) in [
            (catalog, &model),
            (&plain, &model),
            (catalog, &popular),
            (&plain, &popular),
        ]
        .into_iter()
        .enumerate()
        {
            scorers[k].add(&rank::rank(cat, &c, scores, TOP), &relevant);
        }
    }
    let [m, mp, pop, popp] = scorers.map(|s| s.scores());
    Ok(Some(Backtest {
        period: panel.report.periods[target].clone(),
        counted: train.iter().any(|t| t.prev.is_some()),
        customers: test.len(),
        customers_with_take_up: with_take_up,
        map_lift: m.map_at_7 / pop.map_at_7.max(1e-12),
        map_lift_by_propensity: mp.map_at_7 / popp.map_at_7.max(1e-12),
        model: m,
        model_by_propensity: mp,
        popularity: pop,
        popularity_by_propensity: popp,
    }))
}

#[cfg(test)]
mod tests {
    use super::sample_negatives;

    fn examples(positives: usize, negatives: usize) -> (Vec<usize>, Vec<u8>) {
        let y: Vec<u8> = (0..positives + negatives)
            .map(|i| u8::from(i % (positives + negatives) < positives))
            .collect();
        ((0..y.len()).collect(), y)
    }

    #[test]
    fn every_take_up_kept_and_enough_of_both_classes() {
        let (idx, y) = examples(100, 900);
        assert_eq!(sample_negatives(idx, y, 1000, 1).2, 1.0);

        let (idx, y) = examples(1_000, 99_000);
        let (kept_idx, kept_y, kept) = sample_negatives(idx, y, 10_000, 1);
        assert!((kept - 9_000.0 / 99_000.0).abs() < 1e-12);
        assert_eq!(kept_y.iter().filter(|&&v| v == 1).count(), 1_000);
        let negatives = kept_y.len() - 1_000;
        assert!((8_500..9_500).contains(&negatives), "{negatives}");
        assert!(kept_idx.windows(2).all(|w| w[0] < w[1]), "order kept");
        let again = sample_negatives((0..100_000).collect(), examples(1_000, 99_000).1, 10_000, 1);
        assert_eq!(again.0, kept_idx, "seeded");

        // Most rows positive: still about max / 2 negatives.
        let (idx, y) = examples(90_000, 30_000);
        let (_, kept_y, kept) = sample_negatives(idx, y, 10_000, 1);
        assert!((kept - 5_000.0 / 30_000.0).abs() < 1e-12);
        let negatives = kept_y.iter().filter(|&&v| v == 0).count();
        assert!((4_500..5_500).contains(&negatives), "{negatives}");
    }
}
