#!/usr/bin/env bash
# Renders the README screenshots of real reports with headless Chromium:
#   docs/report-train.png  training run on the embedded data (out-of-fold results)
#   docs/report-score.png  scoring a later, labelled month of new customers
#                          with --previous (tier migration)
# Needs Chromium from the system package manager (apt-get install chromium).
# CI does not run this script; it needs no browser for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { echo "chromium not installed (apt-get install chromium)"; exit 1; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/churn-target}"
# --all-targets: same dependency features as `cargo test`, so the two share one build
cargo build --release --all-targets -q
# Fixed clock for the run ids and dates shown.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1795000000}"
BIN="$CARGO_TARGET_DIR/release"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

"$BIN/churn-train" -q --out "$W/runs" --model-dir "$W/models"
# Last month: new customers (another seed); this month: the same customers,
# 15% of them gone quiet (inactive, fewer transactions and logins).
"$BIN/churn-train" generate --rows 20000 --seed 8 --out "$W/last_month.csv"
python3 - "$W/last_month.csv" "$W/this_month.csv" <<'PY'
import csv, random, sys
random.seed(3)
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    if random.random() < 0.15:
        r["is_active"] = "0"
        for c in ["txn_count_3m", "online_logins_30d"]:
            if r[c]:
                r[c] = str(int(float(r[c]) // 3))
        if r["days_since_last_txn"]:
            r["days_since_last_txn"] = str(int(float(r["days_since_last_txn"])) + 60)
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), fieldnames=rows[0].keys())
w.writeheader(); w.writerows(rows)
PY
"$BIN/churn-score" -q --model "$W/models/latest" --data "$W/last_month.csv" --runs-dir "$W/last" >/dev/null
"$BIN/churn-score" -q --model "$W/models/latest" --data "$W/this_month.csv" --runs-dir "$W/this" \
  --previous "$(ls -d "$W"/last/score-*)/scores.csv" >/dev/null

shot() {
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking --hide-scrollbars \
    --window-size="1200,$3" --screenshot="$2" "file://$1" 2>/dev/null
}
shot "$(ls -d "$W"/runs/*/)report.html" docs/report-train.png 6200
shot "$(ls -d "$W"/this/score-*)/report.html" docs/report-score.png 3600
echo "wrote docs/report-train.png docs/report-score.png"
