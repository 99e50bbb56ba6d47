//! Uplift metrics with scikit-uplift's definitions, so a bank's analysts
//! can set our figures beside the ones their notebooks print: uplift@k
//! (the "overall" strategy), the Qini curve and its normalised area (negative
//! effects allowed), the uplift curve and its normalised area. Equal to
//! scikit-uplift 0.5.1 on the committed cases (tests/fixtures/uplift_oracle.json).
//!
//! `y` is the outcome counted as a success (1) — for a churn campaign the
//! customer kept, so a higher score is a customer whom contact helps more.

/// Rows in decreasing score order, ties in decreasing row order (numpy's
/// stable ascending sort reversed, as scikit-uplift orders them).
fn descending(score: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(b.cmp(&a)));
    order
}

/// Cumulative counts at each distinct score (ties grouped), in decreasing
/// score order: (rows, treated rows, treated successes, control successes).
fn cumulative(y: &[u8], score: &[f64], treated: &[bool]) -> Vec<(f64, f64, f64, f64)> {
    let order = descending(score);
    let (mut n, mut nt, mut yt, mut yc) = (0.0, 0.0, 0.0, 0.0);
    let mut out = Vec::new();
    for (k, &r) in order.iter().enumerate() {
        n += 1.0;
        if treated[r] {
            nt += 1.0;
            yt += y[r] as f64;
        } else {
            yc += y[r] as f64;
        }
        let last_of_tie = order.get(k + 1).is_none_or(|&next| score[next] != score[r]);
        if last_of_tie {
            out.push((n, nt, yt, yc));
        }
    }
    out
}

/// Points of a curve from (0, 0), each from the cumulative counts.
fn curve(
    y: &[u8],
    score: &[f64],
    treated: &[bool],
    value: impl Fn((f64, f64, f64, f64)) -> f64,
) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = cumulative(y, score, treated)
        .into_iter()
        .map(|c| (c.0, value(c)))
        .collect();
    if points.first().is_none_or(|&(x, v)| x != 0.0 || v != 0.0) {
        points.insert(0, (0.0, 0.0));
    }
    points
}

fn ratio(a: f64, b: f64) -> f64 {
    if b != 0.0 {
        a / b
    } else {
        0.0
    }
}

/// The Qini curve: at the top n rows, treated successes minus control
/// successes scaled to the treated count.
pub fn qini_curve(y: &[u8], score: &[f64], treated: &[bool]) -> Vec<(f64, f64)> {
    curve(y, score, treated, |(n, nt, yt, yc)| {
        yt - yc * ratio(nt, n - nt)
    })
}

/// The uplift curve: at the top n rows, (treated rate − control rate) × n.
pub fn uplift_curve(y: &[u8], score: &[f64], treated: &[bool]) -> Vec<(f64, f64)> {
    curve(y, score, treated, |(n, nt, yt, yc)| {
        (ratio(yt, nt) - ratio(yc, n - nt)) * n
    })
}

/// Trapezoidal area under points in increasing x.
fn area(points: &[(f64, f64)]) -> f64 {
    points
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum()
}

/// Area of `actual` over the random line, as a share of the perfect
/// curve's area over it.
fn normalised(actual: &[(f64, f64)], perfect: &[(f64, f64)]) -> f64 {
    let end = perfect.last().copied().unwrap_or((0.0, 0.0));
    let baseline = area(&[(0.0, 0.0), end]);
    (area(actual) - baseline) / (area(perfect) - baseline)
}

/// The Qini AUC score: the Qini curve's area over random, as a share of
/// the perfect ranking's (negative effects allowed: successes of the
/// treated first, those of the control last).
pub fn qini_auc(y: &[u8], score: &[f64], treated: &[bool]) -> f64 {
    let perfect: Vec<f64> = y
        .iter()
        .zip(treated)
        .map(|(&y, &t)| if t { y as f64 } else { -(y as f64) })
        .collect();
    normalised(
        &qini_curve(y, score, treated),
        &qini_curve(y, &perfect, treated),
    )
}

/// The uplift AUC score, normalised like [`qini_auc`] by scikit-uplift's
/// perfect uplift curve.
pub fn uplift_auc(y: &[u8], score: &[f64], treated: &[bool]) -> f64 {
    let control_successes = y
        .iter()
        .zip(treated)
        .filter(|&(&y, &t)| y == 1 && !t)
        .count();
    let treated_failures = y
        .iter()
        .zip(treated)
        .filter(|&(&y, &t)| y == 0 && t)
        .count();
    let perfect: Vec<f64> = y
        .iter()
        .zip(treated)
        .map(|(&y, &t)| {
            let summand = if control_successes > treated_failures {
                y
            } else {
                t as u8
            };
            2.0 * ((y == t as u8) as u8 as f64) + summand as f64
        })
        .collect();
    normalised(
        &uplift_curve(y, score, treated),
        &uplift_curve(y, &perfect, treated),
    )
}

/// Uplift@k ("overall"): among the top ⌊k·n⌋ rows by score, the treated
/// success rate minus the control one (NaN when an arm has none there).
pub fn uplift_at_k(y: &[u8], score: &[f64], treated: &[bool], k: f64) -> f64 {
    let top = (y.len() as f64 * k) as usize;
    let (mut nt, mut yt, mut nc, mut yc) = (0.0, 0.0, 0.0, 0.0);
    for &r in descending(score).iter().take(top) {
        if treated[r] {
            (nt, yt) = (nt + 1.0, yt + y[r] as f64);
        } else {
            (nc, yc) = (nc + 1.0, yc + y[r] as f64);
        }
    }
    yt / nt - yc / nc
}
