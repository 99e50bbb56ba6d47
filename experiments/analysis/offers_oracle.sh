#!/usr/bin/env bash
# How close the offers models come to the planted truth (issue 16): generate
# holdings panels (the embedded one, seed 7, and seeds 11-13), run
# `churn-train offers` on each, and compare its backtest with an oracle that
# ranks by the generator's own take-up probabilities. Writes
# experiments/analysis/offers_oracle.md. Needs python3 >= 3.11 (tomllib) only.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q --bin churn-train
T="${CARGO_TARGET_DIR:-target}/release/churn-train"
W="${ORACLE_DIR:-/tmp/churn-offers-oracle}"
rm -rf "$W" && mkdir -p "$W"
args=()
for seed in 7 11 12 13; do
  d="$W/seed$seed"
  "$T" generate --holdings --seed "$seed" --out "$d" > /dev/null
  "$T" offers --data "$d/holdings.csv" --id customer_id --period period \
    --risk-column risk_profile --products data/products.toml \
    --out "$d/runs" --model-dir "$d/models" -q
  label="seed $seed"; [ "$seed" = 7 ] && label="seed 7 (embedded)"
  args+=("$d/holdings.csv" "$(ls "$d"/runs/offers-*/offers_metrics.json)" "$label")
done
python3 experiments/analysis/offers_oracle.py data/products.toml \
  experiments/analysis/offers_oracle.md "${args[@]}"
