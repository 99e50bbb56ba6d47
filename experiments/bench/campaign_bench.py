"""Campaign benchmark (issue 34), run by campaign_bench.sh.

A randomised campaign of N customers (default 10,000,000) in three arms
(control, call, email) with a binary outcome (churned) and a numeric one
(spend), as CSV. The same tables two ways, each in its own process under
GNU time (wall seconds, peak RSS): `churn-train campaign` (read, both
outcomes per treatment arm against control with Newcombe / Welch intervals,
lifts, p-values, the sample-ratio check, the balance table, campaign.json
and report.html) and pandas + statsmodels + scipy (read_csv, then per arm
and outcome confint_proportions_2indep(newcomb), proportions_ztest,
ttest_ind(equal_var=False) with its interval, and chisquare for the sizes).
The figures of both are compared (to 1e-6) before the times are reported.
"""
import json, os, pathlib, platform, subprocess, sys, time
import numpy as np

HERE = pathlib.Path(__file__).parent
THREADS = 2
ENV = {**os.environ, "RAYON_NUM_THREADS": str(THREADS), "OMP_NUM_THREADS": str(THREADS),
       "POLARS_MAX_THREADS": str(THREADS)}

PEER = r'''
import sys, json, pandas as pd, numpy as np
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
df = pd.read_csv(sys.argv[1])
out, ctrl = {}, df[df.arm == "control"]
for arm in ("call", "email"):
    t = df[df.arm == arm]
    x1, n1, x0, n0 = t.churned.sum(), len(t), ctrl.churned.sum(), len(ctrl)
    lo, hi = confint_proportions_2indep(x1, n1, x0, n0, method="newcomb", compare="diff")
    p = proportions_ztest([x1, x0], [n1, n0])[1]
    r = stats.ttest_ind(t.spend, ctrl.spend, equal_var=False)
    ci = r.confidence_interval(0.95)
    out[arm] = {"churned": [x1 / n1 - x0 / n0, lo, hi, p], "spend": [t.spend.mean() - ctrl.spend.mean(), ci.low, ci.high, r.pvalue]}
sizes = df.arm.value_counts()
out["srm"] = stats.chisquare([sizes["control"], sizes["call"], sizes["email"]]).pvalue
print(json.dumps(out, default=float))
'''


def timed(cmd, out_json=None):
    res = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + [str(c) for c in cmd], env=ENV,
                         capture_output=True, text=True, check=True)
    secs, kb = res.stderr.strip().splitlines()[-1].split()
    return float(secs), int(kb) / 1024, res.stdout


def make(path, n):
    if path.exists():
        return
    rng = np.random.default_rng(34)
    arm = rng.integers(0, 3, n)
    p = np.array([0.20, 0.17, 0.19])[arm]
    churned = (rng.random(n) < p).astype(np.int8)
    spend = np.round(rng.gamma(2.0, 50.0, n) + np.array([0.0, 4.0, 1.0])[arm], 2)
    import pyarrow as pa, pyarrow.csv as pc
    names = np.array(["control", "call", "email"])[arm]
    ids = np.char.add("K", np.arange(n).astype(str))
    pc.write_csv(pa.table({"customer_no": ids, "arm": names, "churned": churned, "spend": spend}), str(path))


def main():
    binary, work = sys.argv[1], pathlib.Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000_000
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"campaign_{n}.csv"
    make(data, n)
    runs = work / "runs"
    subprocess.run(["rm", "-rf", str(runs)])
    churn = timed([binary, "campaign", "--data", data, "--arm", "arm", "--control", "control",
                   "--outcome", "churned,spend", "--out", runs, "-q"])
    peer_script = work / "peer.py"
    peer_script.write_text(PEER)
    peer = timed([sys.executable, peer_script, data])
    ours = json.load(open(next(runs.iterdir()) / "campaign.json"))
    theirs = json.loads(peer[2])
    worst = 0.0
    for arm in ("call", "email"):
        for o in ("churned", "spend"):
            e = ours["arms"][arm][o]
            mine = [e["diff"], e["diff_ci_low"], e["diff_ci_high"], e["p_value"]]
            worst = max(worst, max(abs(a - b) for a, b in zip(mine, theirs[arm][o])))
    worst = max(worst, abs(ours["srm"]["p_value"] - theirs["srm"]))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    lines = ["# Campaign benchmark", "",
             f"CPU: {cpu}, {os.cpu_count()} cores; {THREADS} threads for every tool. Produced by `experiments/bench/campaign_bench.sh {n}`.", "",
             f"{n:,} customers in three arms (control, call, email), a binary outcome and a numeric one, CSV. "
             f"Largest difference between the two tools' differences, interval ends and p-values: {worst:.1e}.", "",
             "| tool | seconds | peak RSS MiB | ratio |", "|---|---:|---:|---:|",
             f"| churn-train campaign (whole job: read, effects, SRM, balance, campaign.json, report.html) | {churn[0]:.1f} | {churn[1]:.0f} | 1.00 |",
             f"| pandas read_csv + statsmodels + scipy (effects and SRM only) | {peer[0]:.1f} | {peer[1]:.0f} | {peer[0] / churn[0]:.2f} |"]
    (HERE / "campaign_results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
