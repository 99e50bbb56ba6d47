"""Log-feature benchmark (issue 14): one snapshot's point-in-time features
from a generated bank's logs, built by `churn-train features` (Rust, polars
lazy group-bys) and by the same aggregation written in pandas and in polars
from Python, each in its own process, timed with GNU time (wall, peak RSS).

Usage: logs_bench.py CHURN_TRAIN LOG_DIR AS_OF OUT.md
The peers compute the transaction and event aggregates and the derived
recency / trend / days-since columns exactly as documented in
src/logs/aggregate.rs (not the RFM scores or the lifecycle stage, which are
cheap per-customer columns); their values are checked against churn's.
"""

import json
import os
import platform
import subprocess
import sys

WINDOWS = [30, 90, 180, 365]
KINDS = {
    "login": ["login", "online_login", "app_login"],
    "branch": ["branch_visit", "branch"],
    "complaint": ["complaint"],
    "overdue": ["overdue", "overdue_notice"],
    "product_open": ["product_open", "product_opened"],
    "product_close": ["product_close", "product_closed"],
    "account_close": ["account_close", "closed", "account_closed"],
}
CHECK = ["txn_count_90d", "txn_amount_365d", "recency_days", "logins_30d",
         "complaints_365d", "overdue_90d", "count_trend_90d", "balance_change_90d"]


def day_number(iso):
    import datetime
    return (datetime.date.fromisoformat(iso) - datetime.date(1970, 1, 1)).days


def pandas_features(log_dir, as_of, out):
    import numpy as np
    import pandas as pd
    d = day_number(as_of)
    cust = pd.read_csv(os.path.join(log_dir, "customers.csv"))
    cust["open_day"] = (pd.to_datetime(cust["open_date"]) - pd.Timestamp("1970-01-01")).dt.days
    cust = cust[cust.open_day < d]
    t = pd.read_parquet(os.path.join(log_dir, "transactions.parquet"))
    t["day"] = (pd.to_datetime(t["timestamp"]) - pd.Timestamp("1970-01-01")).dt.days
    t = t[t.day < d]
    ago = d - t.day
    cols = {"customer_id": t.customer_id, "last_txn_day": t.day}
    for n in WINDOWS:
        m = (ago <= n)
        cols[f"txn_count_{n}d"] = m.astype("float64")
        cols[f"txn_amount_{n}d"] = t.amount.where(m, 0.0)
    prev = (ago > 90) & (ago <= 180)
    cols["txn_count_prev_90d"] = prev.astype("float64")
    cols["txn_amount_prev_90d"] = t.amount.where(prev, 0.0)
    m365 = ago <= 365
    cols["revenue_365d"] = t.revenue.where(m365, 0.0)
    cols["cost_365d"] = t.cost.where(m365, 0.0)
    frame = pd.DataFrame(cols)
    g = frame.groupby("customer_id", sort=False)
    agg = g.sum()
    agg["last_txn_day"] = g["last_txn_day"].max()
    agg["balance"] = t.groupby("customer_id", sort=False)["balance"].last()
    agg["balance_90d_ago"] = t[ago > 90].groupby("customer_id", sort=False)["balance"].last()
    e = pd.read_csv(os.path.join(log_dir, "events.csv"))
    e["day"] = (pd.to_datetime(e["timestamp"]) - pd.Timestamp("1970-01-01")).dt.days
    e = e[e.day < d]
    eago = d - e.day
    kind = e.kind.str.strip().str.lower()
    is_ = {k: kind.isin(v) for k, v in KINDS.items()}
    ec = {"customer_id": e.customer_id}
    for n in WINDOWS:
        ec[f"logins_{n}d"] = (is_["login"] & (eago <= n)).astype("float64")
    ec["logins_prev_90d"] = (is_["login"] & (eago > 90) & (eago <= 180)).astype("float64")
    for n in [90, 365]:
        ec[f"branch_visits_{n}d"] = (is_["branch"] & (eago <= n)).astype("float64")
        ec[f"complaints_{n}d"] = (is_["complaint"] & (eago <= n)).astype("float64")
        ec[f"overdue_{n}d"] = (is_["overdue"] & (eago <= n)).astype("float64")
    ec["products_opened_180d"] = (is_["product_open"] & (eago <= 180)).astype("float64")
    ec["products_closed_180d"] = (is_["product_close"] & (eago <= 180)).astype("float64")
    ec["closed_before"] = is_["account_close"].astype("float64")
    ec["last_login_day"] = e.day.where(is_["login"])
    ec["last_complaint_day"] = e.day.where(is_["complaint"])
    ef = pd.DataFrame(ec)
    eg = ef.groupby("customer_id", sort=False)
    eagg = eg.sum()
    eagg["last_login_day"] = eg["last_login_day"].max()
    eagg["last_complaint_day"] = eg["last_complaint_day"].max()
    out_df = cust.merge(agg, left_on="customer_id", right_index=True, how="left")
    out_df = out_df.merge(eagg, left_on="customer_id", right_index=True, how="left")
    zero = [c for c in list(agg.columns) + list(eagg.columns)
            if c not in ("last_txn_day", "balance", "balance_90d_ago", "last_login_day", "last_complaint_day")]
    out_df[zero] = out_df[zero].fillna(0.0)
    out_df["tenure_days"] = (d - out_df.open_day).astype("float64")
    out_df["recency_days"] = (d - out_df.last_txn_day).fillna(out_df.tenure_days)
    out_df["days_since_last_login"] = (d - out_df.last_login_day).fillna(out_df.tenure_days)
    out_df["days_since_last_complaint"] = (d - out_df.last_complaint_day).fillna(out_df.tenure_days)
    out_df["count_trend_90d"] = (out_df.txn_count_90d + 1) / (out_df.txn_count_prev_90d + 1)
    out_df["amount_trend_90d"] = (out_df.txn_amount_90d + 1) / (out_df.txn_amount_prev_90d + 1)
    out_df["login_trend_90d"] = (out_df.logins_90d + 1) / (out_df.logins_prev_90d + 1)
    out_df["balance_change_90d"] = out_df.balance - out_df.balance_90d_ago
    out_df["profitability_365d"] = np.where(out_df.revenue_365d > 0,
                                            (out_df.revenue_365d - out_df.cost_365d) / out_df.revenue_365d, np.nan)
    out_df = out_df[out_df.closed_before == 0]
    out_df.to_parquet(out)


def polars_features(log_dir, as_of, out):
    import polars as pl
    d = day_number(as_of)
    day = lambda c: pl.col(c).cast(pl.Date).cast(pl.Int32)
    cust = (pl.scan_csv(os.path.join(log_dir, "customers.csv"))
            .with_columns(pl.col("open_date").str.to_date().cast(pl.Int32).alias("open_day"))
            .filter(pl.col("open_day") < d))
    ago = pl.lit(d) - pl.col("day")
    within = lambda lo, hi: (ago > lo) & (ago <= hi)
    cnt = lambda m: m.cast(pl.Float64).sum()
    t = (pl.scan_parquet(os.path.join(log_dir, "transactions.parquet"))
         .with_columns(day("timestamp").alias("day")).filter(pl.col("day") < d))
    aggs = [pl.col("day").max().alias("last_txn_day")]
    for n in WINDOWS:
        aggs += [cnt(within(0, n)).alias(f"txn_count_{n}d"),
                 pl.col("amount").filter(within(0, n)).sum().alias(f"txn_amount_{n}d")]
    aggs += [cnt(within(90, 180)).alias("txn_count_prev_90d"),
             pl.col("amount").filter(within(90, 180)).sum().alias("txn_amount_prev_90d"),
             pl.col("balance").last().alias("balance"),
             pl.col("balance").filter(ago > 90).last().alias("balance_90d_ago"),
             pl.col("revenue").filter(within(0, 365)).sum().alias("revenue_365d"),
             pl.col("cost").filter(within(0, 365)).sum().alias("cost_365d")]
    ta = t.group_by("customer_id").agg(aggs)
    kind = pl.col("kind").str.strip_chars().str.to_lowercase()
    is_ = {k: kind.is_in(v) for k, v in KINDS.items()}
    e = (pl.scan_csv(os.path.join(log_dir, "events.csv"))
         .with_columns(pl.col("timestamp").str.to_date().cast(pl.Int32).alias("day"))
         .filter(pl.col("day") < d))
    eaggs = [cnt(is_["login"] & within(0, n)).alias(f"logins_{n}d") for n in WINDOWS]
    eaggs += [cnt(is_["login"] & within(90, 180)).alias("logins_prev_90d"),
              pl.col("day").filter(is_["login"]).max().alias("last_login_day"),
              pl.col("day").filter(is_["complaint"]).max().alias("last_complaint_day")]
    for n in [90, 365]:
        eaggs += [cnt(is_["branch"] & within(0, n)).alias(f"branch_visits_{n}d"),
                  cnt(is_["complaint"] & within(0, n)).alias(f"complaints_{n}d"),
                  cnt(is_["overdue"] & within(0, n)).alias(f"overdue_{n}d")]
    eaggs += [cnt(is_["product_open"] & within(0, 180)).alias("products_opened_180d"),
              cnt(is_["product_close"] & within(0, 180)).alias("products_closed_180d"),
              cnt(is_["account_close"]).alias("closed_before")]
    ea = e.group_by("customer_id").agg(eaggs)
    tenure = (pl.lit(d) - pl.col("open_day")).cast(pl.Float64)
    since = lambda c: (pl.lit(d) - pl.col(c)).cast(pl.Float64).fill_null(tenure)
    res = (cust.join(ta, on="customer_id", how="left").join(ea, on="customer_id", how="left")
           .with_columns(pl.col(pl.Float64).exclude(["balance", "balance_90d_ago"]).fill_null(0.0))
           .with_columns(tenure.alias("tenure_days"),
                         since("last_txn_day").alias("recency_days"),
                         since("last_login_day").alias("days_since_last_login"),
                         since("last_complaint_day").alias("days_since_last_complaint"),
                         ((pl.col("txn_count_90d") + 1) / (pl.col("txn_count_prev_90d") + 1)).alias("count_trend_90d"),
                         ((pl.col("txn_amount_90d") + 1) / (pl.col("txn_amount_prev_90d") + 1)).alias("amount_trend_90d"),
                         ((pl.col("logins_90d") + 1) / (pl.col("logins_prev_90d") + 1)).alias("login_trend_90d"),
                         (pl.col("balance") - pl.col("balance_90d_ago")).alias("balance_change_90d"),
                         pl.when(pl.col("revenue_365d") > 0)
                         .then((pl.col("revenue_365d") - pl.col("cost_365d")) / pl.col("revenue_365d"))
                         .alias("profitability_365d"))
           .filter(pl.col("closed_before") == 0))
    res.collect().write_parquet(out)


PHASES = {}


def pandas_cap():
    """PANDAS_MEM_GB=G: pandas runs under an address-space cap of G GiB (at
    5M customers it needs more memory than the machine has: the cap makes
    that a clean MemoryError instead of the machine swapping or the kernel
    killing other work)."""
    g = os.environ.get("PANDAS_MEM_GB")
    return ["prlimit", f"--as={int(float(g) * 2**30)}"] if g else []


def timed(name, cmd):
    """(wall seconds, peak RSS MiB) of a command under GNU time; None when it
    fails (out of memory: the failure is the result). churn's phase line is
    kept in PHASES."""
    r = subprocess.run(["/usr/bin/time", "-f", "%e %M"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"{name} failed: {r.stderr[-500:]}", flush=True)
        return None
    lines = r.stderr.strip().splitlines()
    PHASES.update({name: l.split(":", 1)[1].strip() for l in lines if l.startswith("phases:")})
    wall, kib = lines[-1].split()
    return float(wall), int(kib) / 1024


def check(a_path, b_path):
    """Largest difference over the CHECK columns, customers matched by id."""
    import pandas as pd
    a = pd.read_parquet(a_path).set_index("customer_id").sort_index()
    b = pd.read_parquet(b_path)
    b["customer_id"] = b["customer_id"].astype(str)
    b = b.set_index("customer_id").sort_index()
    a.index = a.index.astype(str)
    if len(a) != len(b) or not (a.index == b.index).all():
        return float("inf")
    return max(float((a[c] - b[c]).abs().max()) for c in CHECK)


def main():
    if sys.argv[1] in ("pandas", "polars"):
        (pandas_features if sys.argv[1] == "pandas" else polars_features)(*sys.argv[2:5])
        return
    churn, log_dir, as_of, out_md = sys.argv[1:5]
    work = log_dir
    args = ["--customers", f"{log_dir}/customers.csv", "--transactions", f"{log_dir}/transactions.parquet",
            "--events", f"{log_dir}/events.csv", "--as-of", as_of]
    import pandas as pd
    n_txn = len(pd.read_parquet(f"{log_dir}/transactions.parquet", columns=["customer_id"]))
    n_ev = sum(1 for _ in open(f"{log_dir}/events.csv")) - 1
    n_cust = sum(1 for _ in open(f"{log_dir}/customers.csv")) - 1
    outs = {k: f"{work}/features_{k}.parquet" for k in ("churn", "churn1", "pandas", "polars")}
    peers = os.environ.get("PEERS", "pandas,polars").split(",")
    runs = [
        ("churn-train features, --partitions auto", [churn, "features", *args, "--horizon", "30d", "--out", outs["churn"]]),
        ("churn-train features, --partitions 1", [churn, "features", *args, "--horizon", "30d", "--partitions", "1", "--out", outs["churn1"]]),
        ("pandas " + pd.__version__, pandas_cap() + [sys.executable, __file__, "pandas", log_dir, as_of, outs["pandas"]]),
        ("polars (Python) " + __import__("polars").__version__, [sys.executable, __file__, "polars", log_dir, as_of, outs["polars"]]),
    ]
    rows = []
    for name, cmd in runs:
        one = os.environ.get("ONE_BUCKET", "1") == "1"
        if (not name.startswith("churn") and name.split()[0] not in peers) or (name.endswith("1") and not one):
            rows.append((name, None, None, "not run (PEERS / ONE_BUCKET=0)"))
            continue
        r = timed(name, cmd)
        cap = os.environ.get("PANDAS_MEM_GB") if name.startswith("pandas") else None
        rows.append((name, *(r or (None, None)), "" if r else
                     (f"failed: out of memory under a {cap} GiB cap" if cap else "failed")))
        print(f"{name}: {r}", flush=True)
    # Same rows, order, columns and values (the Parquet bytes differ: the
    # row groups follow the buckets).
    same = (os.environ.get("ONE_BUCKET", "1") == "1"
            and pd.read_parquet(outs["churn"]).equals(pd.read_parquet(outs["churn1"])))
    diff_pd = check(outs["churn"], outs["pandas"]) if os.path.exists(outs["pandas"]) and "pandas" in peers else None
    diff_pl = check(outs["churn"], outs["polars"]) if "polars" in peers else None
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    base = rows[0][1]
    with open(out_md, "w") as f:
        f.write("# Log-feature benchmark\n\n")
        f.write(f"One snapshot (as of {as_of}) of point-in-time features from `churn-train generate --logs` "
                f"logs: {n_cust:,} customers, {n_txn:,} transactions (Parquet), {n_ev:,} events (CSV). "
                f"Each tool reads the three files, aggregates and writes the feature table as Parquet, "
                f"in its own process (wall time and peak RSS from GNU time).\n\n")
        f.write(f"Machine: {cpu}, {os.cpu_count()} cores. Reproduce: `experiments/bench/logs_bench.sh {n_cust}`.\n\n")
        f.write("| tool | wall s | log rows/s | peak RSS MiB | time vs churn |\n|---|---:|---:|---:|---:|\n")
        for name, wall, rss, note in rows:
            if wall is None:
                f.write(f"| {name} | {note} | | | |\n")
                continue
            f.write(f"| {name} | {wall:.1f} | {(n_txn + n_ev) / wall:,.0f} | {rss:,.0f} | {wall / base:.2f}x |\n")
        if os.environ.get("ONE_BUCKET", "1") == "1":
            f.write(f"\nThe auto and one-bucket feature tables are {'identical (rows, order, values)' if same else 'DIFFERENT'}.\n")
        f.write("\nWhere churn's time goes (its `phases:` line; reading includes typing, checking and bucketing):\n\n")
        f.write("| run | phases |\n|---|---|\n")
        for name, ph in PHASES.items():
            f.write(f"| {name} | {ph} |\n")
        fmt = lambda d: "not run" if d is None else f"{d:.2g}"
        f.write(f"\nSame values: the largest difference between churn's and the peers' "
                f"{', '.join(CHECK)} is {fmt(diff_pd)} (pandas) and {fmt(diff_pl)} (polars).\n"
                f"churn also builds the RFM scores and cell, the lifecycle stage and the "
                f"data-quality counts; the peers do not.\n")
    json.dump({"rows": rows, "phases": PHASES, "same_auto_and_one": same, "diff_pandas": diff_pd,
               "diff_polars": diff_pl}, open(out_md.replace(".md", ".json"), "w"), indent=1)


if __name__ == "__main__":
    main()
