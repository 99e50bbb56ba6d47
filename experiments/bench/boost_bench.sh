#!/usr/bin/env bash
# Gradient boosting benchmark (issue 15): churn vs LightGBM and scikit-learn's
# HistGradientBoostingClassifier, 2 threads each. Installs the Python side into
# a venv, builds churn, runs boost_bench.py, writes boost_results.md.
# Usage: experiments/bench/boost_bench.sh [N ...]   (default 200000 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
. experiments/bench/venv.sh
cargo build --release --all-targets -q
"$VENV/bin/python" experiments/bench/boost_bench.py "$CARGO_TARGET_DIR/release/churn-train" "${BENCH_DIR:-/tmp/churn-boost-bench}" "$@"
