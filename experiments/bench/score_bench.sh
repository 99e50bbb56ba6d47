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
  echo "| customers | input MB | wall s | rows/s | peak RSS MiB |"
  echo "|---:|---:|---:|---:|---:|"
} > "$out"
for n in "${SIZES[@]}"; do
  f="$W/customers_$n.csv"
  [ -f "$f" ] || "$B/churn-train" generate --rows "$n" --seed 99 --no-label --out "$f"
  /usr/bin/time -v "$B/churn-score" --model "$W/models/latest" --data "$f" --out "$W/scores_$n.csv" --runs-dir "$W/runs" -q 2> "$W/time_$n.txt"
  wall=$(grep 'Elapsed' "$W/time_$n.txt" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep 'Maximum resident' "$W/time_$n.txt" | awk '{print $NF}')
  mb=$(( $(stat -c %s "$f") / 1048576 ))
  python3 -c "print(f'| {$n:,} | $mb | {$wall:.1f} | {$n/$wall:,.0f} | {$rss/1024:.0f} |')" >> "$out"
  rm -f "$W/scores_$n.csv"
done
cat "$out"
