//! Evaluation figures shared by the training and the scoring report, so a
//! model validator sees the same ROC, KS and calibration charts whether the
//! scores are out-of-fold (training) or from a labelled later month (scoring).

use super::page::{f4, Page};
use super::svg::{self, Axes, Mark};
use crate::evaluate::curves;
use crate::stats::{order_desc, roc_curve_in};

/// Points kept per curve: enough for a smooth line, small files.
const CURVE_POINTS: usize = 300;

/// Unit-square axes with labels.
pub fn unit_axes<'a>(x_label: &'a str, y_label: &'a str) -> Axes<'a> {
    Axes {
        x: (0.0, 1.0),
        y: (0.0, 1.0),
        x_label,
        y_label,
    }
}

/// The y = x reference line (random ranking, perfect calibration).
pub fn diagonal(label: &str) -> Mark {
    Mark {
        from: (0.0, 0.0),
        to: (1.0, 1.0),
        label: label.to_string(),
    }
}

/// ROC curves of one or more named score vectors over the same labels.
pub fn roc(page: &mut Page, y: &[u8], scores: &[(&str, &[f64])]) {
    let orders: Vec<Vec<usize>> = scores.iter().map(|(_, p)| order_desc(p)).collect();
    roc_figure(page, &roc_chart(y, scores, &orders));
}

/// [`roc`] with the chart already drawn ([`roc_chart`]).
pub fn roc_figure(page: &mut Page, chart: &str) {
    page.figure("chart-roc", "ROC curves", chart);
}

/// The ROC chart of [`roc`], as an SVG element.
/// `orders` holds each score vector's [`order_desc`].
pub fn roc_chart(y: &[u8], scores: &[(&str, &[f64])], orders: &[Vec<usize>]) -> String {
    let series: Vec<(String, Vec<(f64, f64)>)> = scores
        .iter()
        .zip(orders)
        .map(|((name, p), order)| {
            let curve = roc_curve_in(y, p, order);
            let auc = crate::stats::auc_of(&curve, y);
            let pts: Vec<(f64, f64)> = curve.into_iter().map(|c| (c.0, c.1)).collect();
            (
                format!("{name} AUC {auc:.3}"),
                curves::thin(pts, CURVE_POINTS),
            )
        })
        .collect();
    svg::lines(
        "ROC",
        &unit_axes("false positive rate", "true positive rate"),
        &series,
        &[diagonal("")],
    )
}

/// KS curve with the maximum gap marked and its value.
pub fn ks(page: &mut Page, y: &[u8], p: &[f64], name: &str) {
    ks_figure(page, &ks_chart(y, p, &order_desc(p)), name);
}

/// [`ks`] with the chart already drawn ([`ks_chart`]).
pub fn ks_figure(page: &mut Page, chart: &str, name: &str) {
    let caption =
        format!("KS of {name}: cumulative share of each class by score, maximum gap marked");
    page.figure("chart-ks", &caption, chart);
}

/// The KS chart of [`ks`], as an SVG element.
/// `order` is the scores' [`order_desc`].
pub fn ks_chart(y: &[u8], p: &[f64], order: &[usize]) -> String {
    let (c1, c0, gap) = curves::ks_curves_in(y, p, order);
    let series = vec![
        ("churners".to_string(), curves::thin(c1, CURVE_POINTS)),
        ("non-churners".to_string(), curves::thin(c0, CURVE_POINTS)),
    ];
    let mark = Mark {
        from: (gap.0, gap.1),
        to: (gap.0, gap.2),
        label: format!("KS {:.3}", gap.2 - gap.1),
    };
    svg::lines(
        "KS curve",
        &unit_axes(
            "share of customers, highest score first",
            "cumulative share",
        ),
        &series,
        &[mark],
    )
}

/// Reliability curve and its table (bin counts) of scores `p`; `before`,
/// when given, draws the uncalibrated scores' curve beside it.
pub fn calibration(page: &mut Page, y: &[u8], p: &[f64], name: &str, before: Option<&[f64]>) {
    let cal = curves::calibration(y, p, 10);
    let pts: Vec<(f64, f64)> = cal.iter().map(|b| (b.predicted, b.observed)).collect();
    let mut series = vec![(name.to_string(), pts)];
    if let Some(raw) = before {
        let raw_cal = curves::calibration(y, raw, 10);
        series.push((
            format!("{name} before calibration"),
            raw_cal.iter().map(|b| (b.predicted, b.observed)).collect(),
        ));
    }
    let chart = svg::lines(
        "Calibration (reliability)",
        &unit_axes("mean predicted probability", "observed churn rate"),
        &series,
        &[diagonal("perfect")],
    );
    page.figure(
        "chart-calibration",
        "Calibration: observed churn rate against mean predicted probability per bin",
        &chart,
    );
    let rows: Vec<Vec<String>> = cal
        .iter()
        .enumerate()
        .map(|(i, b)| {
            vec![
                format!("{}", i + 1),
                f4(b.predicted),
                f4(b.observed),
                b.count.to_string(),
            ]
        })
        .collect();
    page.table(
        "calibration-table",
        &["bin", "mean predicted", "observed", "customers"],
        &rows,
    );
}
