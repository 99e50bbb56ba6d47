# Sourced by the benchmark scripts (from the checkout's root): the shared
# target directory, and the Python venv with the peers (BENCH_VENV, default
# /tmp/churn-bench-venv) installed from requirements.txt.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/churn-target}"
VENV="${BENCH_VENV:-/tmp/churn-bench-venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q -r experiments/bench/requirements.txt
