#!/usr/bin/env bash
# Scoring benchmark (issue 4): generate N customers with the project's own
# generator, score them end-to-end with a 100-tree forest, report rows/s and
# peak RSS. Usage: experiments/bench/score_bench.sh [N ...]  (default 1000000 10000000)
# Writes experiments/bench/score_results.md. Needs /usr/bin/time (GNU time).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/churn-target}"
# --all-targets: same dependency features as `cargo test`, so the two share one build
cargo build --release --all-targets -q
B="$CARGO_TARGET_DIR/release"
W="${BENCH_DIR:-/tmp/churn-bench}"
mkdir -p "$W"
SIZES=("$@"); [ ${#SIZES[@]} -gt 0 ] || SIZES=(1000000 10000000)

cat > "$W/forest100.toml" <<'TOML'
[train]
models = ["random_forest"]
[random_forest]
n_trees = 100
TOML
"$B/churn-train" -q --config "$W/forest100.toml" --out "$W/runs" --model-dir "$W/models"

out=experiments/bench/score_results.md
{
  echo "# Scoring benchmark"
  echo
  echo "\`churn-score\` end-to-end (CSV in → CSV scores + summary, drift, reasons, actions out),"
  echo "100-tree random forest trained on the embedded data, $(nproc) cores, chunk 50,000 rows."
  echo "Machine: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs). Date: $(date -u +%F)."
  echo
  echo "One row per tree walk, forced with CHURN_SIMD on the same machine in the same run"
  echo "(every walk gives the same scores, byte for byte: tests/suite/engine.rs, tests/suite/score.rs);"
  echo "a walk the CPU lacks is listed as n/a."
  echo
  echo "| customers | walk | input MB | wall s | rows/s | peak RSS MiB |"
  echo "|---:|---|---:|---:|---:|---:|"
} > "$out"
# Which walk a forced path really runs on this CPU (summary.json says).
"$B/churn-train" generate --rows 1000 --seed 1 --no-label --out "$W/probe.csv"
actual_walk() {
  rm -rf "$W/probe_runs"
  CHURN_SIMD="$1" "$B/churn-score" --model "$W/models/latest" --data "$W/probe.csv" --out "$W/probe_scores.csv" --runs-dir "$W/probe_runs" -q
  python3 -c "import json,glob; print(json.load(open(glob.glob('$W/probe_runs/*/summary.json')[0]))['walk'])"
}
for n in "${SIZES[@]}"; do
  f="$W/customers_$n.csv"
  [ -f "$f" ] || "$B/churn-train" generate --rows "$n" --seed 99 --no-label --out "$f"
  mb=$(( $(stat -c %s "$f") / 1048576 ))
  for walk in avx512 avx2 scalar; do
    if [ "$(actual_walk "$walk")" != "$walk" ]; then
      python3 -c "print(f'| {$n:,} | $walk | $mb | n/a (CPU lacks it) | | |')" >> "$out"
      continue
    fi
    CHURN_SIMD="$walk" /usr/bin/time -v "$B/churn-score" --model "$W/models/latest" --data "$f" --out "$W/scores_$n.csv" --runs-dir "$W/runs" -q 2> "$W/time_$n.txt"
    wall=$(grep 'Elapsed' "$W/time_$n.txt" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
    rss=$(grep 'Maximum resident' "$W/time_$n.txt" | awk '{print $NF}')
    python3 -c "print(f'| {$n:,} | $walk | $mb | {$wall:.1f} | {$n/$wall:,.0f} | {$rss/1024:.0f} |')" >> "$out"
    rm -f "$W/scores_$n.csv"
  done
done
# Issue 18's goal, from the rows above: each walk's rows/s against avx512's.
python3 - "$out" <<'PY'
import re, sys
path = sys.argv[1]
rows = {}
for line in open(path):
    m = re.match(r"\| ([\d,]+) \| (\w+) \| \d+ \| [\d.]+ \| ([\d,]+) \|", line)
    if m:
        rows.setdefault(m[1], {})[m[2]] = float(m[3].replace(",", ""))
notes = []
for n, r in rows.items():
    if "avx512" in r:
        parts = [f"{w} {r[w] / r['avx512']:.0%}" for w in ("avx2", "scalar") if w in r]
        notes.append(f"- {n} customers: " + ", ".join(parts) + " of the avx512 walk's rows/s.")
if notes:
    with open(path, "a") as f:
        f.write("\nGoal (issue 18): avx2 >= 70% and scalar >= 40% of the avx512 walk's rows/s.\n")
        f.write("\n".join(notes) + "\n")
PY
cat "$out"
