"""How far can any model get on the offers backtest? (issue 16)

The holdings generator plants take-up as sigmoid(-6.4 + fit + retake +
1.5 * affinity) (src/synth/holdings.rs). This script re-ranks the backtest's
customers (the last transition of each panel) by that planted probability -
an oracle no model can beat on average - under churn's suitability rules
(not held, R <= C with estimates capped at C3, min/max age, min balance, life
stage; tier rules do not apply without a tier column; retention products not
offered without a warning level), and compares MAP@7 with the popularity
baseline (take-up rates of the earlier transitions), by propensity and as
served (x margin). churn's own backtest figures come from the
offers_metrics.json of `churn-train offers` on the same panel.

The oracle knows the planted mechanism but not the noise: a customer who
did not answer the questionnaire gets the mechanism's tolerance without its
noise term; a blank cell fails every threshold that reads it.

Usage: offers_oracle.py CATALOG OUT.md (PANEL.csv METRICS.json LABEL)...
"""
import collections, csv, json, math, sys, tomllib

NAMES = ["conservative", "moderately conservative", "moderate",
         "moderately aggressive", "aggressive"]


def num(x):
    return float(x) if x.strip() else float("nan")


def affinity(p, r, before):
    """src/synth/holdings.rs `affinity`, over the row's cells."""
    age, inc = num(r["age"]), num(r["estimated_income"])
    cr, bal, comp = num(r["credit_score"]), num(r["balance"]), num(r["complaints_12m"])
    young, mid, older = age < 35, 35 <= age < 55, age >= 55
    b = lambda x, v: v if x else 0.0
    return [
        b(young, 2.5) - b(older, 1.5),
        b(young, 2.0) + b(inc < 30000, 1.0) - b(cr < 580, 2.0),
        b(mid, 2.2) + b(inc >= 50000, 1.2) - b(older, 2.0) - b(young, 0.5),
        b(bal >= 20000, 1.5) - b(bal < 5000, 1.0),
        b(before[1] or before[2], 2.8),
        b(before[0], 1.0) + b(bal >= 30000, 1.8) + b(older, 0.6),
        b(mid, 2.2) - b(young, 1.0),
        b(bal >= 50000, 2.2) + b(young, 0.5),
        b(older, 3.0) - b(young, 3.0),
        b(bal >= 100000, 3.0),
        b(bal >= 200000, 3.5) - 1.0,
        b(comp > 0, 2.5),
        b(young, 1.5) + b(before[0], 1.5),
        b(mid, 1.0) + b(inc >= 40000, 1.5) - b(cr < 600, 2.0),
        b(age < 25, 3.5) - 2.0,
        b(bal >= 10000, 2.0) - b(young, 1.0),
        b(before[2], 3.5) - 1.0,
        b(inc >= 80000, 3.0) - 0.5,
        b(inc >= 70000, 2.5) + b(before[0], 0.8),
        b(older and bal >= 50000, 3.5) - 1.0,
    ][p]


def level(r):
    """(tolerance, answered): the questionnaire, else the planted rule's mean."""
    a = r["risk_profile"].strip().lower()
    if a in ("1", "2", "3", "4", "5"):
        return int(a), True
    if a[:1] == "c" and a[1:] in ("1", "2", "3", "4", "5"):
        return int(a[1:]), True
    if a in NAMES:
        return NAMES.index(a) + 1, True
    age, inc = num(r["age"]), num(r["estimated_income"])
    bal, ov = num(r["balance"]), num(r["overdue_payments_12m"])
    est = 2 + (age < 35) - (age >= 65) + (inc >= 60000) + (bal >= 50000) - (ov > 0)
    return max(1, min(5, est)), False


def average_precision(ranked, relevant, k=7):
    hits, s = 0, 0.0
    for i, p in enumerate(ranked[:k]):
        if p in relevant:
            hits += 1
            s += hits / (i + 1)
    return s / min(len(relevant), k)


def oracle(catalog, path):
    cols = [p["column"] for p in catalog]
    risk = [p["risk"] for p in catalog]
    margin = [p.get("margin", 0.0) for p in catalog]
    n = len(cols)
    rows = collections.defaultdict(dict)
    for r in csv.DictReader(open(path)):
        rows[r["customer_id"]][r["period"]] = r
    periods = sorted({p for d in rows.values() for p in d})
    before_last, last = periods[-2], periods[-1]
    held = lambda r: [r[c] == "1" for c in cols]
    ups, seen = [0] * n, [0] * n
    for d in rows.values():
        for a, b in zip(periods[:-2], periods[1:-1]):
            if a in d and b in d:
                ha, hb = held(d[a]), held(d[b])
                for p in range(n):
                    if not ha[p]:
                        seen[p] += 1
                        ups[p] += hb[p]
    rate = [u / max(k, 1) for u, k in zip(ups, seen)]
    total, customers = collections.Counter(), 0
    for d in rows.values():
        if before_last not in d or last not in d:
            continue
        r0, r1 = d[before_last], d[last]
        h0, h1 = held(r0), held(r1)
        relevant = {p for p in range(n) if not h0[p] and h1[p]}
        if not relevant:
            continue
        customers += 1
        c, answered = level(r0)
        offered_c = c if answered else min(c, 3)
        age, bal = num(r0["age"]), num(r0["balance"])
        stage = None if age != age else "young" if age < 35 else "older" if age >= 55 else "mid-life"

        def eligible(p):
            q = catalog[p]
            return not (
                h0[p] or risk[p] > offered_c or q.get("retention", False)
                or ("min_age" in q and not age >= q["min_age"])
                or ("max_age" in q and not age <= q["max_age"])
                or ("min_balance" in q and not bal >= q["min_balance"])
                or ("lifecycle" in q and stage not in q["lifecycle"]))

        prev = d.get(periods[-3])
        dropped = [bool(prev) and held(prev)[p] and not h0[p] for p in range(n)]
        planted = [1 / (1 + math.exp(6.4 - (0 if risk[p] <= c else -4)
                                     - (2.5 if dropped[p] else 0)
                                     - 1.5 * affinity(p, r1, h0))) for p in range(n)]
        ok = [p for p in range(n) if eligible(p)]
        for name, score in (("oracle", planted), ("popularity", rate)):
            for served in (False, True):
                key = lambda p: -score[p] * (margin[p] if served else 1.0)
                total[(name, served)] += average_precision(sorted(ok, key=key), relevant)
    return {k: v / customers for k, v in total.items()}, customers


def main():
    catalog = tomllib.load(open(sys.argv[1], "rb"))["product"]
    out = sys.argv[2]
    lines = [
        "# Offers backtest: churn against an oracle (issue 16)",
        "",
        "MAP@7 on each panel's last transition. *Oracle*: ranked by the",
        "generator's own planted take-up probability (see offers_oracle.py);",
        "*churn*: `churn-train offers` (offers_metrics.json). Lift = MAP@7 over",
        "the popularity baseline under the same rules. Made by offers_oracle.sh.",
        "",
        "| panel | customers with a take-up | ranking | popularity | oracle | churn | oracle lift | churn lift | churn / oracle MAP@7 |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    args = sys.argv[3:]
    for panel, metrics, label in zip(args[0::3], args[1::3], args[2::3]):
        o, customers = oracle(catalog, panel)
        b = json.load(open(metrics))["backtest"]
        for served, ours in ((False, b["model_by_propensity"]), (True, b["model"])):
            pop, orc, m = o[("popularity", served)], o[("oracle", served)], ours["map_at_7"]
            lines.append(
                f"| {label} | {customers} | {'as served (x margin)' if served else 'by propensity'} "
                f"| {pop:.3f} | {orc:.3f} | {m:.3f} | {orc / pop:.2f}x | "
                f"{m / (b['popularity'] if served else b['popularity_by_propensity'])['map_at_7']:.2f}x "
                f"| {m / orc:.2f} |")
    open(out, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
