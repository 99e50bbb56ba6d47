//! The report of an uplift run (`report.html` beside uplift.json): each
//! learner's out-of-fold figures, the kept learner's Qini curve against
//! random targeting, and per decile of its ranking the realised against
//! the predicted uplift and the four kinds of customer.

use super::figures::diagonal;
use super::page::{f4, Page};
use super::svg::{bars, lines, Axes};
use crate::outcomes::uplift::{Decile, Figures};

/// What the page shows.
pub struct UpliftPage<'a> {
    /// One line about the campaign (outcome, goal, arms, rows).
    pub about: String,
    pub learners: Vec<(&'a str, &'a Figures)>,
    pub kept: &'a str,
    pub deciles: &'a [Decile],
    /// (share of customers, incremental successes) at each percent.
    pub qini: &'a [(f64, f64)],
    /// The `--test` table's figures and deciles.
    pub test: Option<(&'a Figures, &'a [Decile])>,
}

fn cell(v: Option<f64>) -> String {
    v.map_or("–".into(), f4)
}

fn figure_row(name: &str, f: &Figures) -> Vec<String> {
    vec![
        name.to_string(),
        cell(f.qini_auc),
        cell(f.uplift_auc),
        cell(f.uplift_at_10),
        cell(f.uplift_at_20),
        cell(f.uplift_at_30),
    ]
}

const FIGURE_HEAD: [&str; 6] = [
    "learner",
    "Qini AUC",
    "uplift AUC",
    "uplift@10%",
    "uplift@20%",
    "uplift@30%",
];

/// A kind of customer and its share in a decile.
type Kind = (&'static str, fn(&Decile) -> f64);

/// The deciles' charts and table, under ids starting with `id`.
fn deciles(page: &mut Page, id: &str, d: &[Decile]) {
    let pts = |f: fn(&Decile) -> f64| -> Vec<(f64, f64)> {
        d.iter()
            .filter(|x| f(x).is_finite())
            .map(|x| (x.decile as f64, f(x)))
            .collect()
    };
    let series = vec![
        ("predicted".to_string(), pts(|x| x.predicted)),
        (
            "realised (treated − control)".to_string(),
            pts(|x| x.realised),
        ),
    ];
    let (lo, hi) = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.1))
        .fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let axes = Axes {
        x: (1.0, d.len().max(2) as f64),
        y: (lo - 0.01, hi + 0.01),
        x_label: "decile of the ranking (1 = highest uplift)",
        y_label: "uplift",
    };
    page.figure(
        &format!("{id}-uplift"),
        "Uplift by decile: predicted and realised",
        &lines("Uplift by decile", &axes, &series, &[]),
    );
    let cats: Vec<String> = d.iter().map(|x| x.decile.to_string()).collect();
    let kinds: [Kind; 4] = [
        ("persuadable", |x: &Decile| x.persuadable),
        ("sure thing", |x: &Decile| x.sure_thing),
        ("lost cause", |x: &Decile| x.lost_cause),
        ("do not disturb", |x: &Decile| x.do_not_disturb),
    ];
    let kinds: Vec<(String, Vec<f64>)> = kinds
        .iter()
        .map(|(n, f)| (n.to_string(), d.iter().map(|x| f(x).max(0.0)).collect()))
        .collect();
    page.figure(
        &format!("{id}-kinds"),
        "The four kinds of customer per decile (estimated: a decile holds persuadables or do-not-disturbs, not both)",
        &bars("Kinds of customer by decile", "share", &cats, &kinds, &[]),
    );
    let rows: Vec<Vec<String>> = d
        .iter()
        .map(|x| {
            vec![
                x.decile.to_string(),
                x.treated.to_string(),
                x.control.to_string(),
                f4(x.success_treated),
                f4(x.success_control),
                f4(x.realised),
                f4(x.predicted),
            ]
        })
        .collect();
    page.table(
        &format!("{id}-table"),
        &[
            "decile",
            "treated",
            "control",
            "success (treated)",
            "success (control)",
            "realised uplift",
            "predicted",
        ],
        &rows,
    );
}

/// The whole page.
pub fn render(r: &UpliftPage) -> String {
    let mut page = Page::new("Uplift: for whom does contact help?");
    page.note(&r.about);
    page.section("learners", "Learners, out of fold");
    if r.learners.is_empty() {
        page.note(&format!(
            "{} fitted without cross-validation (--no-cv).",
            r.kept
        ));
    } else {
        let rows: Vec<Vec<String>> = r
            .learners
            .iter()
            .map(|(n, f)| {
                let name = if *n == r.kept {
                    format!("{n} (kept)")
                } else {
                    n.to_string()
                };
                figure_row(&name, f)
            })
            .collect();
        page.table("learner-table", &FIGURE_HEAD, &rows);
        page.note("Scikit-uplift's definitions: Qini and uplift AUC as shares of the perfect ranking's area over random; uplift@k: the treated minus the control success rate among the top k% by predicted uplift.");
    }
    if !r.qini.is_empty() {
        page.section("qini", "Qini curve of the kept learner (out of fold)");
        let end = r.qini.last().map_or(0.0, |p| p.1);
        let (lo, hi) = r
            .qini
            .iter()
            .fold((0.0f64, 0.0f64), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
        let axes = Axes {
            x: (0.0, 1.0),
            y: (lo, hi.max(1e-9)),
            x_label: "share of customers contacted, by predicted uplift",
            y_label: "incremental successes",
        };
        let mut random = diagonal("random targeting");
        random.to = (1.0, end);
        page.figure(
            "qini-chart",
            "Qini curve",
            &lines(
                "Qini curve",
                &axes,
                &[(r.kept.to_string(), r.qini.to_vec())],
                &[random],
            ),
        );
        page.section("deciles", "By decile of the ranking (out of fold)");
        deciles(&mut page, "oof", r.deciles);
    }
    if let Some((f, d)) = r.test {
        page.section("test", "The --test table");
        page.table("test-table", &FIGURE_HEAD, &[figure_row(r.kept, f)]);
        deciles(&mut page, "test", d);
    }
    page.finish()
}
