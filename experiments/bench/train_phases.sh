#!/usr/bin/env bash
# Training job per phase (issue 18): churn-train vs pandas + scikit-learn and a
# polars read, on generated tables. Writes experiments/bench/train_phases.md.
# Usage: experiments/bench/train_phases.sh [N ...]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
. experiments/bench/venv.sh
cargo build --release --all-targets -q
"$VENV/bin/python" experiments/bench/train_phases.py "$CARGO_TARGET_DIR/release/churn-train" "${BENCH_DIR:-/tmp/churn-phases-bench}" "$@"
