#!/usr/bin/env bash
# Seasonal thresholds against one global threshold (issue 37), on logs
# generated with the planted calendar (a May promotion, December
# holidays; see src/synth/logs.rs) over 36 months from 2023-01: the first
# year is history only (every training snapshot has a full year of log
# behind it, as a bank's would), train on the 12 monthly snapshots of the
# second year, score each month of the third year out of time, judge each
# month's red level against the outcome built from the logs.
# Usage: seasonal.sh [SEEDS...]  (default 1 2 3); writes seasonal_results.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${CARGO_TARGET_DIR:-$HOME/.cache/churn-target}/release
W=${WORK:-/tmp/churn-seasonal}
RULE=${RULE:-max_f1}
N=${CUSTOMERS:-6000}
SEEDS=${*:-1 2 3}
# Settings of the committed run: CUSTOMERS=60000 RULE=precision:0.3.
# REUSE=1 keeps the logs and the seasonal runs of an earlier run of this
# script and redoes the global one only.
[ -n "${REUSE:-}" ] || { rm -rf "$W"; mkdir -p "$W"; }
common=(--snapshots 2024-02-01..2025-01-01:monthly --horizon 30d --churn-rule closed --models logistic_regression -q)
season=(--threshold-rule "$RULE" --threshold-by season --min-group-positives "${MINPOS:-50}" --threshold-shrink "${SHRINK:-0}")
score_months() { # $1 = run folder (g-S or s-S)
  for m in 01 02 03 04 05 06 07 08 09 10 11 12; do
    d=2025-$m-01
    $B/churn-score --model $1/m/latest "${logs[@]}" --as-of $d --out $1/$m.csv --runs-dir $1/sr -q
    $B/churn-train thresholds --scores $1/$m.csv "${logs[@]}" --as-of $d --horizon 30d --churn-rule closed \
      --by warning_level --out $1/re-$m -q > /dev/null
  done
}
for s in $SEEDS; do
  L=$W/logs-$s
  logs=(--customers $L/customers.csv --transactions $L/transactions.parquet --events $L/events.csv)
  if [ -z "${REUSE:-}" ]; then
    $B/churn-train generate --logs --calendar --months 36 --customers "$N" --seed "$s" --out "$L"
    $B/churn-train "${logs[@]}" "${common[@]}" "${season[@]}" --out $W/s-$s/runs --model-dir $W/s-$s/m
    score_months $W/s-$s
  fi
  # The global threshold flags as many training customers (out of fold) as
  # the seasonal ones together: the comparison is at equal flag rate.
  F=$(python3 -c "import json,glob,sys; print(json.load(open(glob.glob(sys.argv[1])[0]))['threshold_by']['with_groups']['flag_rate'])" "$W/s-$s/runs/*/metrics.json")
  rm -rf $W/g-$s
  $B/churn-train "${logs[@]}" "${common[@]}" --threshold-rule "capacity:$F" --out $W/g-$s/runs --model-dir $W/g-$s/m
  score_months $W/g-$s
done
python3 - "$W" "$SEEDS" "$RULE" <<'PY'
import json, glob, os, sys
w, seeds, rule = sys.argv[1], sys.argv[2].split(), sys.argv[3]
lines = ["# Seasonal thresholds against one global threshold (issue 37)", "",
         f"Logs generated with the planted calendar (`generate --logs --calendar`, {len(seeds)} seeds); trained on the 12 monthly snapshots "
         f"of 2024-02..2025-01, each with a full year of log behind it (36 months generated from 2023-01; 30-day churn window, logistic regression, rule {rule}, {os.environ.get('CUSTOMERS', '6000')} customers, "
         f"--min-group-positives {os.environ.get('MINPOS', '50')} for the seasonal run); each month of 2025 scored out of time and judged "
         "against the outcome built from the logs (`churn-train thresholds`). Red-level precision = churn rate among the customers at red. "
         "The global threshold is `capacity:F`, F the seasonal run's out-of-fold training flag rate: both flag as many training customers.",
         f"Reproduce: `CUSTOMERS={os.environ.get('CUSTOMERS', '6000')} RULE={rule} bash experiments/thresholds/seasonal.sh {' '.join(seeds)}`.", "",
         "| seed | thresholds | red precision per month (Jan..Dec) | spread (max − min) | flag rate |", "|---|---|---|---:|---:|"]
verdicts = []
for s in seeds:
    spreads = {}
    for kind, name in [("g", "global"), ("s", "season")]:
        prec, flagged, n = [], 0, 0
        for m in range(1, 13):
            f = glob.glob(f"{w}/{kind}-{s}/re-{m:02d}/*/thresholds.json")[0]
            r = json.load(open(f))["all"]["realised"]
            prec.append(r["red_precision"] if r["red_precision"] is not None else float("nan"))
            flagged += r["flagged"]; n += r["customers"]
        ok = [p for p in prec if p == p]
        spread = max(ok) - min(ok)
        spreads[name] = spread
        lines.append(f"| {s} | {name} | {' '.join('%.2f' % p for p in prec)} | {spread:.3f} | {flagged / n:.3f} |")
    verdicts.append(spreads["season"] <= 0.5 * spreads["global"])
lines += ["", f"Goal: with seasonal thresholds the spread is at most half the global one's on every seed: "
          f"{'met' if all(verdicts) else 'NOT MET'} ({sum(verdicts)} of {len(verdicts)} seeds)."]
open("experiments/thresholds/seasonal_results.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
