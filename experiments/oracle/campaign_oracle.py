"""Oracle values for `churn-train campaign` (tests/fixtures/campaign_oracle.json).

statsmodels and scipy compute, on fixed cases, what the campaign statistics
must equal to 1e-6: Newcombe's hybrid score interval and the pooled z-test
for two proportions, the log (Katz) interval of their ratio, Welch's t test
and interval for two means, the chi-square sample-ratio test, and the
customers per arm NormalIndPower asks for.

    python3 -m venv /tmp/oracle && /tmp/oracle/bin/pip install numpy scipy statsmodels
    /tmp/oracle/bin/python experiments/oracle/campaign_oracle.py > tests/fixtures/campaign_oracle.json
"""
import json
import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportions_ztest,
    proportion_effectsize,
)
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.multitest import multipletests

out = {"versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__}}

props = []
for (x1, n1, x0, n0, alpha) in [
    (820, 1000, 780, 1000, 0.05),
    (45, 300, 60, 310, 0.05),
    (7, 50, 3, 48, 0.10),
    (9120, 10000, 8930, 10000, 0.01),
    (1, 40, 0, 41, 0.05),
    (150, 150, 140, 151, 0.05),
]:
    lo, hi = confint_proportions_2indep(x1, n1, x0, n0, method="newcomb", compare="diff", alpha=alpha)
    z, p = proportions_ztest([x1, x0], [n1, n0])
    case = {"x1": x1, "n1": n1, "x0": x0, "n0": n0, "alpha": alpha,
            "diff_lo": lo, "diff_hi": hi, "z": z, "p_value": p}
    if x1 > 0 and x0 > 0 and x1 < n1 and x0 < n0:
        rlo, rhi = confint_proportions_2indep(x1, n1, x0, n0, method="log", compare="ratio", alpha=alpha)
        case["ratio_lo"], case["ratio_hi"] = rlo, rhi
    props.append(case)
out["proportions"] = props

rng = np.random.default_rng(7)
means = []
for (n1, n0, m1, m0, s1, s0, alpha) in [
    (200, 210, 105.0, 100.0, 20.0, 25.0, 0.05),
    (30, 45, 3.2, 2.9, 1.5, 0.9, 0.05),
    (1000, 900, 0.0, 0.1, 3.0, 3.0, 0.10),
]:
    a = np.round(rng.normal(m1, s1, n1), 2)
    b = np.round(rng.normal(m0, s0, n0), 2)
    r = stats.ttest_ind(a, b, equal_var=False)
    ci = r.confidence_interval(confidence_level=1 - alpha)
    means.append({"treated": a.tolist(), "control": b.tolist(), "alpha": alpha,
                  "t": float(r.statistic), "p_value": float(r.pvalue),
                  "df": float(r.df), "diff_lo": float(ci.low), "diff_hi": float(ci.high)})
out["means"] = means

srm = []
for (counts, split) in [([5000, 5000], [1, 1]), ([5100, 4900], [1, 1]),
                        ([3300, 3400, 3300], [1, 1, 1]), ([2000, 7000], [1, 4])]:
    total = sum(counts)
    expected = [total * s / sum(split) for s in split]
    chi2, p = stats.chisquare(counts, expected)
    srm.append({"counts": counts, "split": split, "chi2": float(chi2), "p_value": float(p)})
out["srm"] = srm

power = []
for (baseline, mde, pw, alpha) in [(0.20, -0.03, 0.8, 0.05), (0.10, 0.02, 0.9, 0.05), (0.5, 0.05, 0.8, 0.01)]:
    h = proportion_effectsize(baseline + mde, baseline)
    n = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=pw, ratio=1.0, alternative="two-sided")
    power.append({"baseline": baseline, "mde": mde, "power": pw, "alpha": alpha, "n_per_arm": float(n)})
out["power"] = power

holm = []
for p in [[0.01, 0.04, 0.03, 0.2], [0.5, 0.001, 0.049, 0.0125, 0.9], [0.04]]:
    holm.append({"p": p, "adjusted": multipletests(p, method="holm")[1].tolist()})
out["holm"] = holm

print(json.dumps(out, indent=1))
