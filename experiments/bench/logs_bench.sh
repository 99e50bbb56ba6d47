#!/usr/bin/env bash
# Log-feature benchmark (issue 14): generate a bank's logs with N customers
# (default 1,000,000: ~15M transactions + ~19M events), build one snapshot's
# features with churn-train (auto buckets and one bucket), pandas and polars
# (Python) side by side, and write experiments/bench/logs_results.md. Needs /usr/bin/time (GNU time).
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
# The committed tables: logs_results.md (1M customers) and, for another
# N, logs_results_N.md (PEERS=polars leaves pandas out: at 5M it needs
# more memory than the machine has; ONE_BUCKET=0 leaves out churn's
# one-bucket run; PANDAS_MEM_GB=20 caps pandas' memory so that its failure
# is clean). The 5M table: PANDAS_MEM_GB=20 ONE_BUCKET=0 logs_bench.sh 5000000
OUT=experiments/bench/logs_results.md
[ "$N" = 1000000 ] || OUT=experiments/bench/logs_results_$N.md
"$VENV/bin/python" experiments/bench/logs_bench.py "$B/churn-train" "$W" 2024-07-01 "$OUT"
