#!/usr/bin/env bash
# Uplift benchmark (issue 34): churn-train uplift against scikit-uplift and
# causalml with LightGBM, 2 threads each, on generated campaigns with a
# planted effect. Installs the Python side into its own venv (causalml pins
# its own scikit-learn), builds churn, runs uplift_bench.py, writes
# uplift_results.md.
# Usage: experiments/bench/uplift_bench.sh [CUSTOMERS_FOR_SPEED]   (default 1500000)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/churn-target}"
VENV="${UPLIFT_VENV:-/tmp/churn-uplift-venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q -r experiments/bench/uplift_requirements.txt
cargo build --release -q
"$VENV/bin/python" experiments/bench/uplift_bench.py "$CARGO_TARGET_DIR/release" "${BENCH_DIR:-/tmp/churn-uplift-bench}" "$@"
