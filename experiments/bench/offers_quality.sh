#!/usr/bin/env bash
# Offers quality out of time (issue 35): churn-train offers against a plain
# per-product LightGBM on generated panels with the real-panel mechanisms.
# Usage: experiments/bench/offers_quality.sh [SEEDS...]   (default 1 2 3 4 5;
# env CUSTOMERS [20000], MONTHS [6]); writes offers_quality.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
. experiments/bench/venv.sh
[ $# -gt 0 ] || set -- 1 2 3 4 5
cargo build --release -q --bin churn-train
"$VENV/bin/python" experiments/bench/offers_quality.py "$CARGO_TARGET_DIR/release/churn-train" \
  "${BENCH_DIR:-/tmp/churn-offers-quality}" experiments/bench/offers_quality.md "$@"
