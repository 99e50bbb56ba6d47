#!/bin/bash
# Same outputs before and after a change that must not change behaviour
# (issue 33's check): run the fixed jobs — bank and telco from ../shared,
# the embedded default, the logs sample, the offers panel — with the
# current release build into OUTDIR; compare two such folders with
# compare.py (timestamps, run ids, timings and paths masked).
#   experiments/golden/run.sh /tmp/before   # on the old commit
#   experiments/golden/run.sh /tmp/after    # on the new one
#   python3 experiments/golden/compare.py /tmp/before /tmp/after
set -e
O=$(realpath -m "$1"); rm -rf "$O"; mkdir -p "$O"
B=${CARGO_TARGET_DIR:-$HOME/.cache/churn-target}/release
cd "$(dirname "$0")/../.."
S=$(realpath "${SHARED:-../shared}")/datasets
$B/churn-train --data $S/bank_churn.csv --target Exited --out $O/bank --model-dir $O/bank-models > $O/bank.out 2>&1
$B/churn-score --model $O/bank-models/latest --data $S/bank_churn.csv --runs-dir $O/bank-score --run-id s1 > $O/bank-score.out 2>&1
$B/churn-train --data $S/telco_churn.csv --target Churn --out $O/telco --model-dir $O/telco-models > $O/telco.out 2>&1
$B/churn-score --model $O/telco-models/latest --data $S/telco_churn.csv --runs-dir $O/telco-score --run-id s1 > $O/telco-score.out 2>&1
$B/churn-train --customers data/logs/customers.csv --transactions data/logs/transactions.parquet --events data/logs/events.csv --snapshots 2023-07-01..2024-06-01:monthly --churn-rule closed --validation out-of-time --out $O/logs --model-dir $O/logs-models > $O/logs.out 2>&1
$B/churn-score --model $O/logs-models/latest --customers data/logs/customers.csv --transactions data/logs/transactions.parquet --events data/logs/events.csv --as-of 2024-12-01 --runs-dir $O/logs-score --run-id s1 > $O/logs-score.out 2>&1
$B/churn-train --out $O/def --model-dir $O/def-models > $O/def.out 2>&1
$B/churn-score --model $O/def-models/latest --runs-dir $O/def-score --run-id s1 > $O/def-score.out 2>&1
$B/churn-train offers --out $O/offers --model-dir $O/def-models > $O/offers.out 2>&1
$B/churn-score --model $O/def-models/latest --data data/holdings/latest.csv --runs-dir $O/offers-score --run-id s1 > $O/offers-score.out 2>&1
ls $O
