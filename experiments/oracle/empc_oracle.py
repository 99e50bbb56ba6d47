"""Oracle values for EMPC (tests/fixtures/empc_oracle.json).

The empulse package computes, on fixed cases, the expected maximum profit
measure for customer churn (Verbraken et al. 2013) and the share of
customers its optimum contacts, which `churn::evaluate::profit` must equal
to 1e-9: default parameters (alpha 6, beta 14, CLV 200, incentive 10,
contact 1) and others, tied scores, a perfect and a useless ranking.

    python3 -m venv /tmp/oracle && /tmp/oracle/bin/pip install empulse==0.13.1
    /tmp/oracle/bin/python experiments/oracle/empc_oracle.py > tests/fixtures/empc_oracle.json
"""
import json
import numpy as np
import empulse
from empulse.metrics import empc_score

rng = np.random.default_rng(20261207)
cases = []
params = [
    dict(alpha=6, beta=14, clv=200, incentive_cost=10, contact_cost=1),
    dict(alpha=2, beta=8, clv=500, incentive_cost=40, contact_cost=5),
    dict(alpha=6, beta=14, clv=50, incentive_cost=10, contact_cost=1),
]
for n, rate, noise, ties in [(50, 0.3, 1.0, False), (400, 0.2, 1.5, True), (2000, 0.1, 0.7, False), (300, 0.25, 0.0, False), (300, 0.25, 100.0, False)]:
    y = (rng.random(n) < rate).astype(int)
    s = y + rng.normal(scale=noise, size=n) if noise > 0 else y.astype(float) + rng.random(n) * 0.1
    if ties:
        s = np.round(s, 1)
    for p in params:
        cases.append({
            "y": y.tolist(), "score": s.tolist(), **p,
            "empc": float(empc_score(y, s, **p)),
            "rate": float(empc_score.optimal_rate(y, s, **p)),
        })
print(json.dumps({"versions": {"empulse": empulse.__version__}, "cases": cases}))
