#!/usr/bin/env bash
# Offers at scoring time (issue 16): churn-score with churn + offers models vs
# pandas + scikit-learn + LightGBM, 2 threads each. Installs the Python side
# into a venv, builds churn, runs offers_bench.py, writes offers_results.md.
# Usage: experiments/bench/offers_bench.sh [N ...]   (default 250000 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/churn-target}"
VENV="${BENCH_VENV:-/tmp/churn-bench-venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q -r experiments/bench/requirements.txt
cargo build --release -q
R="$CARGO_TARGET_DIR/release"
"$VENV/bin/python" experiments/bench/offers_bench.py "$R/churn-train" "$R/churn-score" "${BENCH_DIR:-/tmp/churn-offers-bench}" "$@"
