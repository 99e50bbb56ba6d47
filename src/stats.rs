//! Ranking statistics shared by evaluation and by the tree engine (a forest
//! reports its out-of-bag ROC AUC): they sit below both, so a model never
//! imports the evaluation stage. [`crate::evaluate::metrics`] re-exports
//! them beside the other metrics.

/// Row indices by descending score; ties keep their original order.
pub fn order_desc(p: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    idx
}

/// ROC curve points (fpr, tpr, threshold), one per distinct score, starting at (0, 0).
pub fn roc_curve(y: &[u8], p: &[f64]) -> Vec<(f64, f64, f64)> {
    let pos = y.iter().filter(|&&v| v == 1).count() as f64;
    let neg = y.len() as f64 - pos;
    let idx = order_desc(p);
    let mut out = vec![(0.0, 0.0, f64::INFINITY)];
    let (mut tp, mut fp) = (0.0, 0.0);
    for (k, &i) in idx.iter().enumerate() {
        if y[i] == 1 {
            tp += 1.0
        } else {
            fp += 1.0
        }
        if k + 1 == idx.len() || p[idx[k + 1]] != p[i] {
            out.push((
                if neg > 0.0 { fp / neg } else { 0.0 },
                if pos > 0.0 { tp / pos } else { 0.0 },
                p[i],
            ));
        }
    }
    out
}

/// Area under the ROC curve (ties count half), NaN with one class only.
pub fn roc_auc(y: &[u8], p: &[f64]) -> f64 {
    let curve = roc_curve(y, p);
    let pos = y.iter().filter(|&&v| v == 1).count();
    if pos == 0 || pos == y.len() {
        return f64::NAN;
    }
    curve
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum()
}
