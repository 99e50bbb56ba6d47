#!/usr/bin/env bash
# Campaign benchmark (issue 34): churn-train campaign against the same
# tables in pandas + statsmodels + scipy on N customers x 3 arms (default
# 10M), each in its own process under GNU time. Writes campaign_results.md.
# Usage: experiments/bench/campaign_bench.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/churn-target}"
VENV="${UPLIFT_VENV:-/tmp/churn-uplift-venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q -r experiments/bench/uplift_requirements.txt statsmodels==0.15.0 pyarrow
cargo build --release -q
"$VENV/bin/python" experiments/bench/campaign_bench.py "$CARGO_TARGET_DIR/release/churn-train" "${BENCH_DIR:-/tmp/churn-campaign-bench}" "$@"
