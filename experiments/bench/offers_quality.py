"""Offers quality out of time (issue 35): churn-train offers against a plain
per-product LightGBM on generated holdings panels with the real-panel
mechanisms (`generate --holdings --dynamics`: joint additions, re-additions,
swings of the addition mix, rare products).

Per seed: a panel of MONTHS months; both learn from months 1..MONTHS-1 and
rank the customers of month MONTHS-1; the truth is what they added in month
MONTHS (customers with at least one addition). The catalog rates every
product R1 with no margins and no eligibility, as in the real-panel check.
LightGBM recipe (the issue's): 100 trees, defaults, one model per product on
every transition, features = age, a segment (occupation), the current flags
and the flags of the month before, non-holders only. churn's own backtest
figures (the last transition's and the rolling mean) are read from
offers_metrics.json: the goal is that they estimate the true MAP@7.

Usage: offers_quality.py CHURN_TRAIN WORKDIR OUT_MD SEEDS... (env CUSTOMERS,
MONTHS)
"""

import glob
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "analysis"))
from offers_oracle import average_precision as apk  # noqa: E402  (one MAP@7 for both scripts)

import lightgbm as lgb
import numpy as np
import pandas as pd

TRAIN, WORK, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
SEEDS = [int(s) for s in sys.argv[4:]] or [1, 2, 3, 4, 5]
N = int(os.environ.get("CUSTOMERS", "20000"))
MONTHS = int(os.environ.get("MONTHS", "6"))
TOP = 7


def catalog(products, path):
    with open(path, "w") as f:
        for col in products:
            pid = col.removeprefix("has_")
            f.write(f'[[product]]\nid = "{pid}"\nname = "{pid}"\ncolumn = "{col}"\nrisk = 1\ncategory = "x"\n\n')


def truth(panel, products, last, target):
    a = panel[panel.period == last].set_index("customer_id")[products]
    b = panel[panel.period == target].set_index("customer_id")[products]
    both = a.index.intersection(b.index)
    added = (b.loc[both] == 1) & (a.loc[both] == 0)
    return {cid: {p.removeprefix("has_") for p in products if row[p]} for cid, row in added.iterrows() if row.any()}


# Every attribute churn's offers model reads (gender is protected, surname a
# name): the same learner question with the same inputs.
ALL = ["age", "region", "occupation", "tenure_months", "balance", "num_products", "credit_score", "is_active",
       "estimated_income", "txn_count_3m", "txn_count_prev_3m", "txn_amount_3m", "days_since_last_txn",
       "online_logins_30d", "branch_visits_90d", "complaints_12m", "overdue_payments_12m", "credit_utilisation",
       "monthly_profit"]


def lightgbm_ranks(panel, products, periods, feats=("age", "occupation")):
    """The plain recipe: per product, transitions of every month pair."""
    feats = list(feats)
    p = panel.copy()
    for c in ("occupation", "region"):
        p[c] = p[c].astype("category")
    prev = p[["customer_id", "period"] + products].copy()
    idx = {m: i for i, m in enumerate(periods)}
    prev["period"] = prev["period"].map(lambda m: periods[idx[m] + 1] if idx[m] + 1 < len(periods) else None)
    prev = prev.dropna(subset=["period"]).rename(columns={c: "prev_" + c for c in products})
    p = p.merge(prev, on=["customer_id", "period"], how="left")
    nxt = panel[["customer_id", "period"] + products].copy()
    nxt["period"] = nxt["period"].map(lambda m: periods[idx[m] - 1] if idx[m] > 0 else None)
    nxt = nxt.dropna(subset=["period"]).rename(columns={c: "next_" + c for c in products})
    trans = p.merge(nxt, on=["customer_id", "period"], how="inner")
    x_cols = feats + products + ["prev_" + c for c in products]
    last = p[p.period == periods[-1]].reset_index(drop=True)
    scores = np.zeros((len(last), len(products)))
    for j, c in enumerate(products):
        rows = trans[trans[c] == 0]
        y = rows["next_" + c].astype(int)
        if y.sum() == 0:
            continue
        m = lgb.LGBMClassifier(n_estimators=100, verbose=-1, n_jobs=2)
        m.fit(rows[x_cols], y)
        scores[:, j] = m.predict_proba(last[x_cols])[:, 1]
    held = last[products].to_numpy() == 1
    scores[held] = -1.0
    ranks = {}
    for i, cid in enumerate(last.customer_id):
        order = np.argsort(-scores[i], kind="stable")[:TOP]
        ranks[cid] = [products[j].removeprefix("has_") for j in order if scores[i, j] >= 0]
    return ranks


def churn_ranks(work, train_csv, cat):
    out = f"{work}/churn"
    subprocess.run([TRAIN, "offers", "--data", train_csv, "--id", "customer_id", "--period", "period",
                    "--risk-column", "risk_profile", "--products", cat, "--out", f"{out}/runs",
                    "--model-dir", f"{out}/models", "-q"], check=True)
    run = sorted(glob.glob(f"{out}/runs/*/offers.csv"))[-1]
    offers = pd.read_csv(run, dtype={"id": str})
    ranks = {}
    for cid, g in offers.sort_values(["id", "rank"]).groupby("id", sort=False):
        ranks[cid] = list(g["product"])
    metrics = json.load(open(os.path.join(os.path.dirname(run), "offers_metrics.json")))
    return ranks, metrics


def mean_ap(ranks, actual):
    return float(np.mean([apk(ranks.get(cid, []), rel) for cid, rel in actual.items()]))


rows = []
for seed in SEEDS:
    work = f"{WORK}/seed-{seed}"
    subprocess.run(["rm", "-rf", work], check=True)
    subprocess.run([TRAIN, "generate", "--holdings", "--dynamics", "--customers", str(N), "--months", str(MONTHS),
                    "--seed", str(seed), "--out", work], check=True)
    panel = pd.read_csv(f"{work}/holdings.csv", dtype={"customer_id": str})
    products = [c for c in panel.columns if c.startswith("has_")]
    periods = sorted(panel.period.unique())
    train_periods, target = periods[:-1], periods[-1]
    train_csv = f"{work}/train.csv"
    panel[panel.period.isin(train_periods)].to_csv(train_csv, index=False)
    cat = f"{work}/catalog.toml"
    catalog(products, cat)
    actual = {str(k): v for k, v in truth(panel, products, train_periods[-1], target).items()}
    t0 = time.time()
    ours, metrics = churn_ranks(work, train_csv, cat)
    t_churn = time.time() - t0
    t0 = time.time()
    theirs = lightgbm_ranks(panel[panel.period.isin(train_periods)], products, train_periods)
    t_lgb = time.time() - t0
    full = lightgbm_ranks(panel[panel.period.isin(train_periods)], products, train_periods, ALL)
    bt = metrics.get("backtest") or {}
    rolling = metrics.get("rolling_backtest") or {}
    rows.append({
        "seed": seed,
        "customers_with_addition": len(actual),
        "churn": mean_ap(ours, actual),
        "lightgbm": mean_ap(theirs, actual),
        "lightgbm_all": mean_ap(full, actual),
        "backtest_last": (bt.get("model") or {}).get("map_at_7"),
        "backtest_rolling": (rolling.get("mean") or {}).get("map_at_7"),
        "churn_s": t_churn,
        "lightgbm_s": t_lgb,
    })
    print(rows[-1], flush=True)

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
fmt = lambda v: "—" if v is None else f"{v:.3f}"
lines = ["# Offers out of time against a plain per-product LightGBM (issue 35)", "",
         f"Panels from `churn-train generate --holdings --dynamics` ({N} customers, {MONTHS} months; joint additions, "
         f"re-additions, swings of the addition mix, rare products). Both learn from months 1..{MONTHS - 1} and rank month "
         f"{MONTHS - 1}'s customers; the truth is month {MONTHS}'s additions (customers with one or more). All products R1, "
         "no margins. LightGBM: 100 trees, defaults, age + occupation + current and previous flags, non-holders, "
         f"per product. Backtest = churn's own estimate from the training months. CPU: {cpu}, {os.cpu_count()} cores.",
         f"Reproduce: `CUSTOMERS={N} MONTHS={MONTHS} bash experiments/bench/offers_quality.sh {' '.join(map(str, SEEDS))}`.", "",
         "| seed | customers with an addition | churn MAP@7 | LightGBM MAP@7 | LightGBM, churn's attributes | churn backtest (last) | churn backtest (rolling mean) | churn s | LightGBM s |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for r in rows:
    lines.append(f"| {r['seed']} | {r['customers_with_addition']} | {fmt(r['churn'])} | {fmt(r['lightgbm'])} | {fmt(r['lightgbm_all'])} | "
                 f"{fmt(r['backtest_last'])} | {fmt(r['backtest_rolling'])} | {r['churn_s']:.1f} | {r['lightgbm_s']:.1f} |")
ahead = sum(r["churn"] >= r["lightgbm"] for r in rows)
close = sum(r["backtest_rolling"] is not None and abs(r["backtest_rolling"] - r["churn"]) <= 0.03 for r in rows)
lines += ["", f"churn at or above LightGBM: {ahead} of {len(rows)} seeds; rolling backtest within 0.03 of the true MAP@7: "
          f"{close} of {len(rows)} seeds."]
lines += ["", "churn s is the whole `churn-train offers` run (the rolling backtest's refits with 3-fold CV each, the final "
          "fit with CV, offers.csv and the reports); LightGBM s is one fit per product and the ranking.",
          "The rolling mean counts the periods whose models learned holding changes (here months 4 and 5, trained on "
          "2 and 3 transitions); the final model learns from 4, and each transition more has been worth about +0.02 "
          "MAP@7 on these panels, so the mean runs low; the month-to-month swing of the addition mix moves a single "
          "month by about as much again."]
open(OUT, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
