#!/usr/bin/env bash
# Log-feature benchmark (issue 14): generate a bank's logs with N customers
# (default 1,000,000: ~20M transactions + ~20M events), build one snapshot's
# features with churn-train, pandas and polars (Python) side by side, and
# write experiments/bench/logs_results.md. Needs /usr/bin/time (GNU time).
# Usage: experiments/bench/logs_bench.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
. experiments/bench/venv.sh
# --all-targets: same dependency features as `cargo test`, so the two share one build
cargo build --release --all-targets -q
B="$CARGO_TARGET_DIR/release"
N="${1:-1000000}"
W="${BENCH_DIR:-/tmp/churn-logs-bench}/$N"
[ -f "$W/transactions.parquet" ] || "$B/churn-train" generate --logs --customers "$N" --seed 99 --out "$W"
"$VENV/bin/python" experiments/bench/logs_bench.py "$B/churn-train" "$W" 2024-07-01 experiments/bench/logs_results.md
