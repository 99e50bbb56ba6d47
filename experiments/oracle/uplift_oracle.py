"""Oracle values for the uplift metrics (tests/fixtures/uplift_oracle.json).

scikit-uplift computes, on fixed cases, what `churn::outcomes::uplift`
must equal to 1e-9: uplift@k ("overall" strategy), the Qini AUC score
(negative effects allowed) and the uplift AUC score. The cases hold tied
scores (the curves group ties; uplift@k orders them as scikit-uplift's
reversed stable sort does), unequal arms and a constant score.

    python3 -m venv /tmp/oracle && /tmp/oracle/bin/pip install scikit-uplift==0.5.1
    /tmp/oracle/bin/python experiments/oracle/uplift_oracle.py > tests/fixtures/uplift_oracle.json
"""
import json
import numpy as np
import sklearn
import sklift
from sklift.metrics import uplift_at_k, qini_auc_score, uplift_auc_score

out = {"versions": {"scikit-uplift": sklift.__version__, "scikit-learn": sklearn.__version__}}
cases = []
rng = np.random.default_rng(20261207)
for (n, share, ties, effect) in [
    (40, 0.5, False, 0.3),
    (200, 0.5, True, 0.2),
    (500, 0.3, False, -0.1),
    (1000, 0.7, True, 0.05),
    (333, 0.5, False, 0.0),
]:
    x = rng.normal(size=n)
    t = (rng.random(n) < share).astype(int)
    base = 1 / (1 + np.exp(-(x - 0.5)))
    p = np.clip(base * 0.5 + t * effect * (x > 0), 0.01, 0.99)
    y = (rng.random(n) < p).astype(int)
    score = x + rng.normal(scale=0.8, size=n)
    if ties:
        score = np.round(score, 1)
    for s in (score, np.full(n, 0.25)) if n == 200 else (score,):
        cases.append({
            "y": y.tolist(),
            "treatment": t.tolist(),
            "score": s.tolist(),
            "uplift_at_10": float(uplift_at_k(y, s, t, strategy="overall", k=0.1)),
            "uplift_at_20": float(uplift_at_k(y, s, t, strategy="overall", k=0.2)),
            "uplift_at_30": float(uplift_at_k(y, s, t, strategy="overall", k=0.3)),
            "qini_auc": float(qini_auc_score(y, s, t)),
            "uplift_auc": float(uplift_auc_score(y, s, t)),
        })
out["cases"] = cases
print(json.dumps(out))
