//! The statistics of a randomised campaign, as statsmodels and scipy
//! compute them (checked to 1e-6 against `tests/fixtures/campaign_oracle.json`,
//! made by `experiments/oracle/campaign_oracle.py`): two proportions —
//! Newcombe's hybrid score interval of the difference, the pooled z-test,
//! the log (Katz) interval of the ratio; two means — Welch's t test and
//! interval; the chi-square sample-ratio test; customers per arm for a
//! planned difference (statsmodels' `NormalIndPower` with Cohen's h).
//!
//! Why our own: no Rust crate ships these tests; `statrs` gives the
//! distributions they rest on.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal, StudentsT};

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

fn normal() -> Normal {
    Normal::standard()
}

/// The two-sided critical value z_{1−α/2}.
pub fn z_crit(alpha: f64) -> f64 {
    normal().inverse_cdf(1.0 - alpha / 2.0)
}

/// Wilson's score interval of `x` successes in `n`.
fn wilson(x: f64, n: f64, z: f64) -> (f64, f64) {
    let p = x / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    (centre - half, centre + half)
}

/// Two proportions (`x1` of `n1` treated, `x0` of `n0` control).
#[derive(Debug, Clone, Copy)]
pub struct Proportions {
    pub x1: f64,
    pub n1: f64,
    pub x0: f64,
    pub n0: f64,
}

impl Proportions {
    pub fn diff(&self) -> f64 {
        self.x1 / self.n1 - self.x0 / self.n0
    }

    /// Newcombe's hybrid score interval of p1 − p0 (statsmodels
    /// `confint_proportions_2indep(method="newcomb")`).
    pub fn newcombe(&self, alpha: f64) -> Interval {
        let z = z_crit(alpha);
        let (p1, p0) = (self.x1 / self.n1, self.x0 / self.n0);
        let (l1, u1) = wilson(self.x1, self.n1, z);
        let (l0, u0) = wilson(self.x0, self.n0, z);
        let d = p1 - p0;
        Interval {
            low: d - ((p1 - l1).powi(2) + (u0 - p0).powi(2)).sqrt(),
            high: d + ((u1 - p1).powi(2) + (p0 - l0).powi(2)).sqrt(),
        }
    }

    /// The pooled two-proportion z-test: (z, two-sided p) (statsmodels
    /// `proportions_ztest`); `None` when every customer or none has the outcome.
    pub fn z_test(&self) -> Option<(f64, f64)> {
        let pooled = (self.x1 + self.x0) / (self.n1 + self.n0);
        let se = (pooled * (1.0 - pooled) * (1.0 / self.n1 + 1.0 / self.n0)).sqrt();
        (se > 0.0).then(|| {
            let z = self.diff() / se;
            (z, 2.0 * normal().sf(z.abs()))
        })
    }

    /// The log (Katz) interval of p1 / p0; `None` when a count is 0 or all.
    pub fn ratio_interval(&self, alpha: f64) -> Option<Interval> {
        let ok = |x: f64, n: f64| x > 0.0 && x < n;
        if !ok(self.x1, self.n1) || !ok(self.x0, self.n0) {
            return None;
        }
        let ratio = (self.x1 / self.n1) / (self.x0 / self.n0);
        let se = (1.0 / self.x1 - 1.0 / self.n1 + 1.0 / self.x0 - 1.0 / self.n0).sqrt();
        let z = z_crit(alpha);
        Some(Interval {
            low: (ratio.ln() - z * se).exp(),
            high: (ratio.ln() + z * se).exp(),
        })
    }
}

/// Count, mean and sample variance (ddof 1) of some values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Moments {
    pub n: f64,
    pub mean: f64,
    pub var: f64,
}

impl Moments {
    /// Two passes (mean, then squared deviations) for a stable variance.
    pub fn of(v: &[f64]) -> Moments {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let ss: f64 = v.iter().map(|x| (x - mean).powi(2)).sum();
        Moments {
            n,
            mean,
            var: if n > 1.0 { ss / (n - 1.0) } else { f64::NAN },
        }
    }
}

/// Welch's unequal-variance t test of treated − control.
#[derive(Debug, Clone, Copy)]
pub struct Welch {
    pub t: f64,
    pub df: f64,
    pub p_value: f64,
    pub interval: Interval,
}

/// Welch's test and interval (scipy `ttest_ind(equal_var=False)` and its
/// `confidence_interval`); `None` with fewer than two values an arm or no
/// spread at all.
pub fn welch(a: Moments, b: Moments, alpha: f64) -> Option<Welch> {
    let (va, vb) = (a.var / a.n, b.var / b.n);
    let se = (va + vb).sqrt();
    if !(se > 0.0) || a.n < 2.0 || b.n < 2.0 {
        return None;
    }
    let df = (va + vb).powi(2) / (va * va / (a.n - 1.0) + vb * vb / (b.n - 1.0));
    let t_dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let d = a.mean - b.mean;
    let t = d / se;
    let q = quantile(&t_dist, 1.0 - alpha / 2.0);
    Some(Welch {
        t,
        df,
        p_value: 2.0 * t_dist.sf(t.abs()),
        interval: Interval {
            low: d - q * se,
            high: d + q * se,
        },
    })
}

/// The `p` quantile of `dist`, polished by Newton steps on its CDF:
/// statrs' inversion of Student's t stops at a tolerance that shows at
/// hundreds of thousands of degrees of freedom (an interval end 7e-6 off
/// scipy's at 333,000 customers an arm); the CDF itself is exact there.
fn quantile(dist: &StudentsT, p: f64) -> f64 {
    use statrs::distribution::Continuous;
    let mut x = dist.inverse_cdf(p);
    for _ in 0..4 {
        let density = dist.pdf(x);
        if !(density > 0.0) {
            break;
        }
        let step = (dist.cdf(x) - p) / density;
        x -= step;
        if step.abs() < 1e-15 * x.abs().max(1.0) {
            break;
        }
    }
    x
}

/// The chi-square test of arm sizes against the planned split: (chi², p)
/// (scipy `chisquare`).
pub fn sample_ratio(counts: &[f64], split: &[f64]) -> Option<(f64, f64)> {
    let total: f64 = counts.iter().sum();
    let parts: f64 = split.iter().sum();
    if counts.len() < 2 || counts.len() != split.len() || total <= 0.0 || parts <= 0.0 {
        return None;
    }
    let chi2: f64 = counts
        .iter()
        .zip(split)
        .map(|(&o, &s)| {
            let e = total * s / parts;
            (o - e).powi(2) / e
        })
        .sum();
    let dist = ChiSquared::new(counts.len() as f64 - 1.0).ok()?;
    Some((chi2, dist.sf(chi2)))
}

/// Pearson's chi-square test of independence of a table of counts (rows
/// × columns, no continuity correction: scipy `chi2_contingency(...,
/// correction=False)`): (chi², p); `None` when a row or column is empty or
/// the table has a single row or column.
pub fn independence(table: &[Vec<f64>]) -> Option<(f64, f64)> {
    let cols = table.first()?.len();
    let rows: Vec<f64> = table.iter().map(|r| r.iter().sum()).collect();
    let col_sums: Vec<f64> = (0..cols)
        .map(|j| table.iter().map(|r| r[j]).sum())
        .collect();
    let total: f64 = rows.iter().sum();
    if table.len() < 2 || cols < 2 || rows.iter().chain(&col_sums).any(|&v| v <= 0.0) {
        return None;
    }
    let mut chi2 = 0.0;
    for (r, row) in table.iter().enumerate() {
        for (j, &o) in row.iter().enumerate() {
            let e = rows[r] * col_sums[j] / total;
            chi2 += (o - e).powi(2) / e;
        }
    }
    let df = ((table.len() - 1) * (cols - 1)) as f64;
    let dist = ChiSquared::new(df).ok()?;
    Some((chi2, dist.sf(chi2)))
}

/// Holm's step-down adjustment of p-values (statsmodels `multipletests(method="holm")`).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (k, &i) in order.iter().enumerate() {
        running = running.max(((m - k) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// Customers per arm to detect `baseline + mde` against `baseline` with
/// this power at two-sided level `alpha`, equal arms (statsmodels
/// `NormalIndPower().solve_power` on Cohen's h, unrounded).
pub fn customers_per_arm(baseline: f64, mde: f64, power: f64, alpha: f64) -> Option<f64> {
    let target = baseline + mde;
    if !(0.0..=1.0).contains(&baseline) || !(0.0..=1.0).contains(&target) || mde == 0.0 {
        return None;
    }
    let h = (2.0 * target.sqrt().asin() - 2.0 * baseline.sqrt().asin()).abs();
    let crit = z_crit(alpha);
    let nd = normal();
    let power_at = |n: f64| {
        let shift = h / (2.0 / n).sqrt();
        nd.sf(crit - shift) + nd.cdf(-crit - shift)
    };
    // Power rises with n: bisection on a bracket that holds the answer.
    let (mut lo, mut hi) = (1e-6, 2.0);
    while power_at(hi) < power {
        hi *= 2.0;
        if hi > 1e15 {
            return None;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if power_at(mid) < power {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// statsmodels and scipy on fixed cases (experiments/oracle/campaign_oracle.py).
    fn oracle() -> Value {
        serde_json::from_str(include_str!("../../tests/fixtures/campaign_oracle.json")).unwrap()
    }

    fn floats(v: &Value) -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    }

    fn close(got: f64, want: &Value, what: &str) {
        let want = want.as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-6 * want.abs().max(1.0),
            "{what}: {got} vs {want}"
        );
    }

    #[test]
    fn proportions_equal_statsmodels() {
        for c in oracle()["proportions"].as_array().unwrap() {
            let f = |k: &str| c[k].as_f64().unwrap();
            let p = Proportions {
                x1: f("x1"),
                n1: f("n1"),
                x0: f("x0"),
                n0: f("n0"),
            };
            let alpha = f("alpha");
            let ci = p.newcombe(alpha);
            close(ci.low, &c["diff_lo"], "newcombe low");
            close(ci.high, &c["diff_hi"], "newcombe high");
            let (z, pv) = p.z_test().unwrap();
            close(z, &c["z"], "z");
            close(pv, &c["p_value"], "p");
            match p.ratio_interval(alpha) {
                Some(r) => {
                    close(r.low, &c["ratio_lo"], "ratio low");
                    close(r.high, &c["ratio_hi"], "ratio high");
                }
                None => assert!(c.get("ratio_lo").is_none()),
            }
        }
    }

    #[test]
    fn welch_equals_scipy() {
        for c in oracle()["means"].as_array().unwrap() {
            let v = |k: &str| floats(&c[k]);
            let w = welch(
                Moments::of(&v("treated")),
                Moments::of(&v("control")),
                c["alpha"].as_f64().unwrap(),
            )
            .unwrap();
            close(w.t, &c["t"], "t");
            close(w.df, &c["df"], "df");
            close(w.p_value, &c["p_value"], "p");
            close(w.interval.low, &c["diff_lo"], "low");
            close(w.interval.high, &c["diff_hi"], "high");
        }
    }

    #[test]
    fn sample_ratio_and_power_equal_scipy_and_statsmodels() {
        let o = oracle();
        for c in o["srm"].as_array().unwrap() {
            let v = |k: &str| floats(&c[k]);
            let (chi2, p) = sample_ratio(&v("counts"), &v("split")).unwrap();
            close(chi2, &c["chi2"], "chi2");
            close(p, &c["p_value"], "srm p");
        }
        for c in o["holm"].as_array().unwrap() {
            let v = |k: &str| floats(&c[k]);
            for (got, want) in holm(&v("p")).iter().zip(c["adjusted"].as_array().unwrap()) {
                close(*got, want, "holm");
            }
        }
        for c in o["power"].as_array().unwrap() {
            let f = |k: &str| c[k].as_f64().unwrap();
            let n = customers_per_arm(f("baseline"), f("mde"), f("power"), f("alpha")).unwrap();
            close(n, &c["n_per_arm"], "n per arm");
        }
    }

    /// Over seeded campaigns with a planted difference, the 95% Newcombe
    /// interval covers it about 95% of the time (200 campaigns, as the
    /// acceptance asks, and 2,000 for a tighter check).
    #[test]
    fn newcombe_covers_the_planted_difference() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let (p1, p0, n) = (0.76, 0.70, 1500usize);
        let mut covered = Vec::new();
        for _ in 0..2000 {
            let draw = |rng: &mut rand_chacha::ChaCha8Rng, p: f64| {
                (0..n).filter(|_| rng.random::<f64>() < p).count() as f64
            };
            let (x1, x0) = (draw(&mut rng, p1), draw(&mut rng, p0));
            let ci = Proportions {
                x1,
                n1: n as f64,
                x0,
                n0: n as f64,
            }
            .newcombe(0.05);
            covered.push(ci.low <= p1 - p0 && p1 - p0 <= ci.high);
        }
        let share = |v: &[bool]| v.iter().filter(|&&c| c).count() as f64 / v.len() as f64;
        let first = share(&covered[..200]);
        assert!((0.93..=0.97).contains(&first), "200 campaigns: {first}");
        let all = share(&covered);
        assert!((0.94..=0.96).contains(&all), "2,000 campaigns: {all}");
    }
}
