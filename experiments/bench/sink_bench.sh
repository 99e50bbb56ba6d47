#!/usr/bin/env bash
# Database sink (issue 17): the same churn-score job with scores into a CSV
# file, an SQLite file and a PostgreSQL server (started here on 127.0.0.1 in
# a temporary folder), N customers (default 1,000,000) with a decision-tree
# model (so that writing, not the model, dominates). Rows/s of the whole job
# and the sink's own cost (job time minus the CSV job's); peak RSS.
# PostgreSQL runs twice: into an empty table, then as the next night's run
# into the table holding the first run. The server keeps its defaults.
# Writes experiments/bench/sink_results.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/churn-target}"
N="${1:-1000000}"
W="${BENCH_DIR:-/tmp/churn-sink-bench}"
rm -rf "$W"; mkdir -p "$W"; chmod 777 "$W"
cargo build --release -q
R="$CARGO_TARGET_DIR/release"
"$R/churn-train" -q --models decision_tree --folds 2 --out "$W/exp" --model-dir "$W/models"
"$R/churn-train" generate --rows "$N" --seed 99 --no-label --out "$W/batch.csv"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort | tail -1)
PORT=55439
# Server settings beyond initdb's defaults, e.g. PG_OPTS="-c max_wal_size=4GB".
PG_OPTS="${PG_OPTS:-}"
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
run_pg "$PGBIN/initdb" -D "$W/pg" -A trust -U churn >/dev/null
run_pg "$PGBIN/pg_ctl" -D "$W/pg" -o "-p $PORT -k $W -c listen_addresses=127.0.0.1 $PG_OPTS" -l "$W/pg.log" -w start >/dev/null
trap 'run_pg "$PGBIN/pg_ctl" -D "$W/pg" -m fast stop >/dev/null' EXIT
"$PGBIN/psql" -h 127.0.0.1 -p $PORT -U churn -d postgres -qc "CREATE DATABASE crm"
job() { # name out...
  local name=$1; shift
  local t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$W/rss" "$R/churn-score" --model "$W/models/latest" --data "$W/batch.csv" \
    --runs-dir "$W/runs" -q --out "$@"
  local t1=$(date +%s.%N)
  echo "$name $(echo "$t1 - $t0" | bc) $(cat "$W/rss")"
}
{
  job csv "$W/scores.csv"
  job sqlite "sqlite:$W/crm.db"
  job postgres "postgres://churn@127.0.0.1:$PORT/crm" --run-id night-1
  # A second nightly run: the table already holds the first run's rows.
  job postgres_2nd "postgres://churn@127.0.0.1:$PORT/crm" --run-id night-2
} > "$W/times"
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
python3 - "$W/times" "$N" "$CPU" "$PG_OPTS" "$("$PGBIN/postgres" --version | awk '{print $NF}')" > experiments/bench/sink_results.md <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
n, cpu, opts, pgv = int(sys.argv[2]), sys.argv[3], sys.argv[4].strip(), sys.argv[5]
t = {r[0]: (float(r[1]), int(r[2]) / 1024) for r in rows}
csv = t["csv"][0]
print("# Scores into a database (issue 17)\n")
print(f"CPU: {cpu}, 2 cores. {n:,} generated customers, decision-tree model, one churn-score job per output; "
      f"PostgreSQL {pgv} on 127.0.0.1 (same machine; settings: {opts or 'initdb defaults'}). Written by experiments/bench/sink_bench.sh.\n")
print("| output | job seconds | customers/s (job) | sink seconds over CSV | rows/s of the sink alone | peak RSS MiB |")
print("|---|---:|---:|---:|---:|---:|")
names = {"postgres_2nd": "postgres, 2nd run"}
for name in ["csv", "sqlite", "postgres", "postgres_2nd"]:
    s, rss = t[name]
    extra = s - csv
    alone = "–" if name == "csv" else (f"{n / extra:,.0f}" if extra > 0 else "n/a")
    print(f"| {names.get(name, name)} | {s:.2f} | {n / s:,.0f} | {'–' if name == 'csv' else f'{extra:.2f}'} | {alone} | {rss:.0f} |")
sink = [n / (t[k][0] - csv) for k in ["postgres", "postgres_2nd"]]
met = "met" if min(sink) >= 200_000 else "NOT MET"
print(f"\nGoal: >= 200,000 rows/s into PostgreSQL via COPY (the sink alone: job time over the CSV job's). "
      f"Measured {sink[0]:,.0f} rows/s into an empty table and {sink[1]:,.0f} rows/s for the next run: {met}. "
      f"The whole job into PostgreSQL runs at {n / t['postgres'][0]:,.0f} customers/s.")
PY
cat experiments/bench/sink_results.md
