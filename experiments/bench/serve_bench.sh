#!/usr/bin/env bash
# The scoring service under load (issue 17): churn-score serve against
# FastAPI + uvicorn + scikit-learn, single customers at increasing rates and
# batches of 1,000, on 127.0.0.1 only, each step bounded in time (STEP=5 s).
# Installs the Python side into a venv, builds churn and the load generator,
# runs serve_bench.py, writes serve_results.md / .json.
set -euo pipefail
cd "$(dirname "$0")/../.."
. experiments/bench/venv.sh
cargo build --release -q --bins --example loadgen
R="$CARGO_TARGET_DIR/release"
W="${BENCH_DIR:-/tmp/churn-serve-bench}"
rm -rf "$W"
"$VENV/bin/python" experiments/bench/serve_bench.py "$R/churn-train" "$R/churn-score" "$R/examples/loadgen" "$W"
