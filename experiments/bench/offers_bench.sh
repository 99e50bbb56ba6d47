#!/usr/bin/env bash
# Offers at scoring time (issue 16): churn-score with churn + offers models vs
# pandas + scikit-learn + LightGBM, 2 threads each. Installs the Python side
# into a venv, builds churn, runs offers_bench.py, writes offers_results.md.
# Usage: experiments/bench/offers_bench.sh [N ...]   (default 250000 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
. experiments/bench/venv.sh
cargo build --release -q
R="$CARGO_TARGET_DIR/release"
"$VENV/bin/python" experiments/bench/offers_bench.py "$R/churn-train" "$R/churn-score" "${BENCH_DIR:-/tmp/churn-offers-bench}" "$@"
