//! Uplift learners on our own gradient boosting: for each customer, the
//! chance of the outcome if treated, if not, and their difference.
//!
//! - S-learner: one model on the features plus the treatment flag, asked
//!   twice (flag on, flag off). Cheap; shrinks small effects towards 0,
//!   since a tree splits on the flag only where it pays.
//! - T-learner: one model per arm; the difference of their answers.
//! - X-learner (Künzel et al. 2019): the T-learner's models impute each
//!   customer's own effect (treated: outcome − control model; control:
//!   treated model − outcome), a regression learns each arm's imputed
//!   effects, and the two are blended by the propensity e (the treated
//!   share, constant in a randomised campaign): τ = e·τ₀ + (1 − e)·τ₁.
//! - Class transformation (Jaskowski & Jaroszewicz 2012): one classifier of
//!   Z = 1 when (treated and outcome) or (control and no outcome); uplift =
//!   2·P(Z = 1) − 1, exact when the arms are equal in size (the flow warns
//!   otherwise). It gives no per-arm probabilities.
//! - DR-learner (Kennedy 2020): each row's doubly robust pseudo-outcome
//!   φ = μ₁ − μ₀ + T·(Y − μ₁)/e − (1 − T)·(Y − μ₀)/(1 − e), the outcome
//!   models μ cross-fitted on two halves so no row judges itself, and one
//!   regression of φ on every row. It keeps class transformation's one
//!   model over all rows but takes out the baseline's variance (who churns
//!   anyway), which dominates a churn campaign's outcomes.
//! - Blend: the mean of the S-, T-, X- and DR-learners' answers. Their
//!   errors differ, so the mean ranks better than each on most generated
//!   campaigns (experiments/bench/uplift_results.md); `auto` weighs it by
//!   the same out-of-fold Qini as the rest.

use crate::error::{Error, Result};
use crate::models::engine::Boosted;
use crate::models::BoostingParams;
use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// Which learner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LearnerKind {
    S,
    T,
    X,
    ClassTransformation,
    Dr,
    Blend,
}

/// The learners a blend averages.
pub const BLENDED: [LearnerKind; 4] = [
    LearnerKind::S,
    LearnerKind::T,
    LearnerKind::X,
    LearnerKind::Dr,
];

impl LearnerKind {
    pub const ALL: [LearnerKind; 6] = [
        LearnerKind::S,
        LearnerKind::T,
        LearnerKind::X,
        LearnerKind::ClassTransformation,
        LearnerKind::Dr,
        LearnerKind::Blend,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LearnerKind::S => "s",
            LearnerKind::T => "t",
            LearnerKind::X => "x",
            LearnerKind::ClassTransformation => "class-transformation",
            LearnerKind::Dr => "dr",
            LearnerKind::Blend => "blend",
        }
    }
}

/// A fitted uplift learner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "learner", rename_all = "kebab-case")]
pub enum UpliftModel {
    /// The treatment flag is the last input.
    S {
        model: Boosted,
    },
    T {
        treated: Boosted,
        control: Boosted,
    },
    X {
        treated: Boosted,
        control: Boosted,
        /// Regressions of the imputed effects of the treated and the
        /// control rows.
        effect_treated: Boosted,
        effect_control: Boosted,
        propensity: f64,
    },
    ClassTransformation {
        model: Boosted,
    },
    Dr {
        /// Outcome models of each arm on every row (the per-arm chances).
        treated: Boosted,
        control: Boosted,
        /// The regression of the pseudo-outcomes: the uplift.
        effect: Boosted,
    },
    Blend {
        members: Vec<UpliftModel>,
    },
}

/// What a learner says of each row: P(outcome | treated), P(outcome |
/// control) (NaN for class transformation) and uplift = their difference.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prediction {
    pub treated: Vec<f64>,
    pub control: Vec<f64>,
    pub uplift: Vec<f64>,
}

impl Prediction {
    /// The mean of several predictions of the same rows.
    pub fn mean(parts: &[Prediction]) -> Prediction {
        let k = parts.len() as f64;
        let avg = |f: fn(&Prediction) -> &Vec<f64>| -> Vec<f64> {
            let n = parts.first().map_or(0, |p| f(p).len());
            (0..n)
                .map(|r| parts.iter().map(|p| f(p)[r]).sum::<f64>() / k)
                .collect()
        };
        Prediction {
            treated: avg(|p| &p.treated),
            control: avg(|p| &p.control),
            uplift: avg(|p| &p.uplift),
        }
    }
}

/// `x` with a last column: row r's `flag(r)`.
fn with_flag(x: ArrayView2<f64>, flag: impl Fn(usize) -> f64) -> Array2<f64> {
    let p = x.ncols();
    Array2::from_shape_fn(
        (x.nrows(), p + 1),
        |(r, c)| if c < p { x[[r, c]] } else { flag(r) },
    )
}

/// Rows of one arm.
fn arm_rows(treated: &[bool], arm: bool) -> Vec<usize> {
    (0..treated.len()).filter(|&r| treated[r] == arm).collect()
}

/// A classifier of `y` on the rows `rows` of `x`.
fn classifier(
    spec: &BoostingParams,
    x: ArrayView2<f64>,
    y: &[u8],
    rows: &[usize],
    seed: u64,
) -> Result<Boosted> {
    let xs = x.select(Axis(0), rows);
    let ys: Vec<u8> = rows.iter().map(|&r| y[r]).collect();
    Boosted::fit(spec, [1.0, 1.0], xs.view(), &ys, seed, &|| {}).map_err(Error::from)
}

/// Two classifiers of `y`, on the rows `t_rows` and on `c_rows` (seeds
/// `seeds`), fitted side by side: each is deterministic whatever the
/// threads, and one boosting fit alone keeps two cores only ~75% busy.
fn classifier_pair(
    spec: &BoostingParams,
    x: ArrayView2<f64>,
    y: &[u8],
    (t_rows, c_rows): (&[usize], &[usize]),
    seeds: (u64, u64),
) -> Result<(Boosted, Boosted)> {
    let (t, c) = rayon::join(
        || classifier(spec, x, y, t_rows, seeds.0),
        || classifier(spec, x, y, c_rows, seeds.1),
    );
    Ok((t?, c?))
}

/// A regression of `t` (one value per row of `rows`) on those rows of `x`.
fn regression(
    spec: &BoostingParams,
    x: ArrayView2<f64>,
    t: &[f64],
    rows: &[usize],
    seed: u64,
) -> Result<Boosted> {
    let xs = x.select(Axis(0), rows);
    Boosted::fit_regression(spec, xs.view(), t, seed, &|| {}).map_err(Error::from)
}

impl UpliftModel {
    /// Fit learner `kind` on `x`, 0/1 outcomes `y` and arms `treated`.
    pub fn fit(
        kind: LearnerKind,
        spec: &BoostingParams,
        x: ArrayView2<f64>,
        y: &[u8],
        treated: &[bool],
        seed: u64,
    ) -> Result<UpliftModel> {
        let (t_rows, c_rows) = (arm_rows(treated, true), arm_rows(treated, false));
        if t_rows.is_empty() || c_rows.is_empty() {
            return Err(Error::Model(
                "an uplift learner needs treated and control rows".into(),
            ));
        }
        let all: Vec<usize> = (0..y.len()).collect();
        Ok(match kind {
            LearnerKind::S => {
                let xf = with_flag(x, |r| treated[r] as u8 as f64);
                UpliftModel::S {
                    model: classifier(spec, xf.view(), y, &all, seed)?,
                }
            }
            LearnerKind::T => {
                let (treated, control) =
                    classifier_pair(spec, x, y, (&t_rows, &c_rows), (seed, seed ^ 1))?;
                UpliftModel::T { treated, control }
            }
            LearnerKind::X => {
                let (treated_model, control_model) =
                    classifier_pair(spec, x, y, (&t_rows, &c_rows), (seed, seed ^ 1))?;
                let xt = x.select(Axis(0), &t_rows);
                let xc = x.select(Axis(0), &c_rows);
                let d1: Vec<f64> = control_model
                    .predict_proba(xt.view())
                    .iter()
                    .zip(&t_rows)
                    .map(|(m0, &r)| y[r] as f64 - m0)
                    .collect();
                let d0: Vec<f64> = treated_model
                    .predict_proba(xc.view())
                    .iter()
                    .zip(&c_rows)
                    .map(|(m1, &r)| m1 - y[r] as f64)
                    .collect();
                UpliftModel::X {
                    effect_treated: regression(spec, x, &d1, &t_rows, seed ^ 2)?,
                    effect_control: regression(spec, x, &d0, &c_rows, seed ^ 3)?,
                    treated: treated_model,
                    control: control_model,
                    propensity: t_rows.len() as f64 / y.len() as f64,
                }
            }
            LearnerKind::Dr => dr(spec, x, y, treated, (&t_rows, &c_rows), seed)?,
            LearnerKind::Blend => UpliftModel::Blend {
                members: BLENDED
                    .iter()
                    .map(|&k| UpliftModel::fit(k, spec, x, y, treated, seed))
                    .collect::<Result<_>>()?,
            },
            LearnerKind::ClassTransformation => {
                let z: Vec<u8> = y
                    .iter()
                    .zip(treated)
                    .map(|(&y, &t)| (y == t as u8) as u8)
                    .collect();
                UpliftModel::ClassTransformation {
                    model: classifier(spec, x, &z, &all, seed)?,
                }
            }
        })
    }

    pub fn kind(&self) -> LearnerKind {
        match self {
            UpliftModel::S { .. } => LearnerKind::S,
            UpliftModel::T { .. } => LearnerKind::T,
            UpliftModel::X { .. } => LearnerKind::X,
            UpliftModel::ClassTransformation { .. } => LearnerKind::ClassTransformation,
            UpliftModel::Dr { .. } => LearnerKind::Dr,
            UpliftModel::Blend { .. } => LearnerKind::Blend,
        }
    }

    /// Inputs the learner expects (the feature pipeline's width).
    pub fn n_features(&self) -> usize {
        match self {
            UpliftModel::S { model } => model.n_features - 1,
            UpliftModel::T { treated, .. }
            | UpliftModel::X { treated, .. }
            | UpliftModel::Dr { treated, .. } => treated.n_features,
            UpliftModel::ClassTransformation { model } => model.n_features,
            UpliftModel::Blend { members } => members.first().map_or(0, UpliftModel::n_features),
        }
    }

    /// Every row's prediction.
    pub fn predict(&self, x: ArrayView2<f64>) -> Prediction {
        let diff = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a - b).collect();
        match self {
            UpliftModel::S { model } => {
                let treated = model.predict_proba(with_flag(x, |_| 1.0).view());
                let control = model.predict_proba(with_flag(x, |_| 0.0).view());
                let uplift = diff(&treated, &control);
                Prediction {
                    treated,
                    control,
                    uplift,
                }
            }
            UpliftModel::T { treated, control } => {
                let (treated, control) = (treated.predict_proba(x), control.predict_proba(x));
                let uplift = diff(&treated, &control);
                Prediction {
                    treated,
                    control,
                    uplift,
                }
            }
            UpliftModel::X {
                treated,
                control,
                effect_treated,
                effect_control,
                propensity: e,
            } => {
                let (t1, t0) = (
                    effect_treated.predict_log_odds(x),
                    effect_control.predict_log_odds(x),
                );
                Prediction {
                    treated: treated.predict_proba(x),
                    control: control.predict_proba(x),
                    uplift: t1
                        .iter()
                        .zip(&t0)
                        .map(|(t1, t0)| e * t0 + (1.0 - e) * t1)
                        .collect(),
                }
            }
            UpliftModel::Dr {
                treated,
                control,
                effect,
            } => Prediction {
                treated: treated.predict_proba(x),
                control: control.predict_proba(x),
                uplift: effect.predict_log_odds(x),
            },
            UpliftModel::Blend { members } => {
                Prediction::mean(&members.iter().map(|m| m.predict(x)).collect::<Vec<_>>())
            }
            UpliftModel::ClassTransformation { model } => {
                let p = model.predict_proba(x);
                Prediction {
                    treated: vec![f64::NAN; p.len()],
                    control: vec![f64::NAN; p.len()],
                    uplift: p.iter().map(|p| 2.0 * p - 1.0).collect(),
                }
            }
        }
    }
}

/// The DR-learner's fit (see the module's doc).
fn dr(
    spec: &BoostingParams,
    x: ArrayView2<f64>,
    y: &[u8],
    treated: &[bool],
    (t_rows, c_rows): (&[usize], &[usize]),
    seed: u64,
) -> Result<UpliftModel> {
    let n = y.len();
    let e = t_rows.len() as f64 / n as f64;
    // Cross-fitted outcome chances: rows of half h judged by models of the
    // other half (halves alternate within each arm, so both hold both arms).
    let (mut mu1, mut mu0) = (vec![0.0; n], vec![0.0; n]);
    for h in 0..2 {
        let half = |rows: &[usize], side: bool| -> Vec<usize> {
            rows.iter()
                .enumerate()
                .filter(|(i, _)| (i % 2 == h) == side)
                .map(|(_, &r)| r)
                .collect()
        };
        let judged: Vec<usize> = {
            let mut j = half(t_rows, true);
            j.extend(half(c_rows, true));
            j
        };
        let (m1, m0) = classifier_pair(
            spec,
            x,
            y,
            (&half(t_rows, false), &half(c_rows, false)),
            (seed ^ 4, seed ^ 5),
        )?;
        let xj = x.select(Axis(0), &judged);
        let (p1, p0) = (m1.predict_proba(xj.view()), m0.predict_proba(xj.view()));
        for (k, &r) in judged.iter().enumerate() {
            (mu1[r], mu0[r]) = (p1[k], p0[k]);
        }
    }
    let phi: Vec<f64> = (0..n)
        .map(|r| {
            let yr = y[r] as f64;
            let residual = if treated[r] {
                (yr - mu1[r]) / e
            } else {
                -(yr - mu0[r]) / (1.0 - e)
            };
            mu1[r] - mu0[r] + residual
        })
        .collect();
    let all: Vec<usize> = (0..n).collect();
    let effect = regression(spec, x, &phi, &all, seed ^ 6)?;
    let (treated, control) = classifier_pair(spec, x, y, (t_rows, c_rows), (seed, seed ^ 1))?;
    Ok(UpliftModel::Dr {
        effect,
        treated,
        control,
    })
}
