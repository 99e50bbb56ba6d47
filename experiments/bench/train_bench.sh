#!/usr/bin/env bash
# Training benchmark (issue 5): churn-train engines vs scikit-learn and LightGBM.
# Installs the Python side into a venv from requirements.txt, builds churn,
# runs train_bench.py and writes experiments/bench/train_results.md.
# Usage: experiments/bench/train_bench.sh [N ...]   (default 200000 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
. experiments/bench/venv.sh
# --all-targets: same dependency features as `cargo test`, so the two share one build
cargo build --release --all-targets -q
"$VENV/bin/python" experiments/bench/train_bench.py "$CARGO_TARGET_DIR/release/churn-train" "${BENCH_DIR:-/tmp/churn-train-bench}" "$@"
