#!/usr/bin/env bash
# The Spark job against a single machine (issue 38), in Spark's local mode
# on 2 cores: on generated logs, churn_spark.py features with 4 buckets
# must write exactly the table of one `churn-train features` run, and
# churn_spark.py score exactly the scores of one `churn-score --as-of` run;
# a failing task must fail the job with the task's error and leave neither
# an output under the final name nor the staging folder.
# Needs Java (17+) and pyspark (installed here into SPARK_VENV from the
# package registry). Usage: spark/test.sh   (run by .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/churn-target}"
B="$CARGO_TARGET_DIR/release"
V="${SPARK_VENV:-/tmp/churn-spark-venv}"
if ! command -v java > /dev/null; then
  echo "spark test SKIPPED: no java on this machine (apt-get install default-jre-headless)"
  exit 0
fi
if ! "$V/bin/python" -c "import pyspark" 2> /dev/null; then
  python3 -m venv "$V"
  if ! "$V/bin/pip" install -q -r spark/requirements.txt; then
    echo "spark test SKIPPED: pyspark could not be installed from the package registry"
    exit 0
  fi
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export PYSPARK_PYTHON="$V/bin/python" SPARK_LOCAL_IP=127.0.0.1
submit() {
  "$V/bin/spark-submit" --master "local[2]" --conf spark.ui.enabled=false --conf spark.log.level=ERROR \
    --conf spark.ui.showConsoleProgress=false spark/churn_spark.py "$@"
}
"$B/churn-train" generate --logs --customers 3000 --seed 11 --out "$W/logs" > /dev/null
L=(--customers "$W/logs/customers.csv" --transactions "$W/logs/transactions.parquet" --events "$W/logs/events.csv")
SNAP=(--snapshots 2023-09-01..2024-03-01:monthly --horizon 30d)

"$B/churn-train" features "${L[@]}" "${SNAP[@]}" --out "$W/single.csv" 2> /dev/null
submit features "${L[@]}" --buckets 4 --out "$W/spark.csv" --binary "$B/churn-train" -- "${SNAP[@]}" 2> "$W/err" \
  || { cat "$W/err"; exit 1; }
cmp "$W/single.csv" "$W/spark.csv"
echo "spark features (4 buckets) = one churn-train features run: $(wc -l < "$W/single.csv") lines identical"

"$B/churn-train" "${L[@]}" --as-of 2023-10-01,2024-01-01 --horizon 30d --models logistic_regression -q \
  --out "$W/runs" --model-dir "$W/models"
"$B/churn-score" --model "$W/models/latest" "${L[@]}" --as-of 2024-04-01 -q --out "$W/scores.csv" --runs-dir "$W/sr"
submit score --model "$W/models/latest" "${L[@]}" --as-of 2024-04-01 --buckets 4 --out "$W/spark_scores.csv" \
  --binary "$B/churn-score" 2> "$W/err" || { cat "$W/err"; exit 1; }
cmp "$W/scores.csv" "$W/spark_scores.csv"
echo "spark score (4 buckets) = one churn-score --as-of run: $(wc -l < "$W/scores.csv") lines identical"

# A task that fails: the job fails with the task's error, nothing is left.
if submit features "${L[@]}" --buckets 4 --out "$W/bad.csv" --binary "$B/churn-train" -- --as-of 2030-01-01 \
  > "$W/err" 2>&1; then
  echo "a failing task did not fail the job"; exit 1
fi
grep -q "error: .*as-of date 2030-01-01 is outside the log" "$W/err" || { cat "$W/err"; exit 1; }
[ ! -e "$W/bad.csv" ] || { echo "output written despite a failed task"; exit 1; }
! ls -a "$W" | grep -q "churn-spark" || { echo "staging folder left behind"; exit 1; }
echo "a failing task fails the job with its error; no output, no staging folder"
