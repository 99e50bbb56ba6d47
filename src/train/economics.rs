//! What the `profit` threshold rule weighs in a training run: each
//! customer's per-period margin under the run's roles, CLV from margin and
//! churn probability under `[score.clv]`, and the contact list's costs and
//! accept rate (`[score.contact]`) — for the cross-validation of every
//! family, tuning and the group thresholds alike.

use crate::clean::Dataset;
use crate::config::Config;

/// The `profit` rule's economics over rows with these `margins`: the
/// contact list's costs and accept rate (`[score.contact]`), each
/// customer's CLV, else EMPC's constant CLV (200) where the value is
/// unknown.
pub(crate) fn economics<'a>(
    cfg: &Config,
    margins: &'a [f64],
    clv: &'a (dyn Fn(f64, f64) -> f64 + Sync),
) -> crate::evaluate::threshold::Economics<'a> {
    let c = &cfg.score.contact;
    crate::evaluate::threshold::Economics {
        margins,
        clv,
        constant_clv: crate::evaluate::profit::ProfitParams::default().clv,
        accept_rate: c.accept_rate,
        cost_per_contact: c.cost_per_contact(),
    }
}

/// Each row's per-period margin (NaN: unknown) under the `profit` rule.
pub(crate) fn profit_margins(cfg: &Config, data: &Dataset) -> Option<Vec<f64>> {
    (cfg.train.threshold_rule == crate::evaluate::threshold::ThresholdRule::Profit).then(|| {
        crate::reference::value::margins(&cfg.score.clv, data.report.roles.as_ref(), &data.table)
    })
}

/// CLV from (margin, churn probability) under the run's `[score.clv]`.
pub(crate) fn clv_of(cfg: &Config) -> impl Fn(f64, f64) -> f64 + Sync + '_ {
    move |m, p| crate::reference::value::clv(&cfg.score.clv, m, p)
}
