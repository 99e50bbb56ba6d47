"""churn's log features and log scoring on Spark, one customer bucket per
task — by calling the churn binaries, not by re-implementing the features
in Spark SQL.

  1. The three inputs are read with Spark; every transaction and event row
     gets its customer's bucket, `pmod(hash(trim(cast(id as string))), N)`:
     Spark's own Murmur3 hash, which churn computes the same way
     (src/logs/bucket.rs), so both agree on who is in bucket K.
  2. The two logs are written as Parquet, one folder per bucket
     (`_bucket=K`), each bucket's rows in the order of the input (file, then
     position in the file): sums and "latest row" ties see the rows in the
     order a single run sees them.
  3. One Spark task per bucket runs `churn-train features --bucket K/N`
     (or `churn-score --bucket K/N`) on that bucket's logs and the whole
     customer table, with the whole log's first and last dates
     (`--log-span`), and writes a part.
  4. features: `churn-train features --merge` puts the parts in the customer
     table's order and fits the RFM cut points once, on every customer (the
     one step that needs the whole snapshot). score: the parts' rows are
     concatenated in the customer table's order.

The output appears under its final name only when every task succeeded
(a failing task fails the job with its error); the staging folder is
removed whatever happens. See spark/README.md for cluster use.

Usage:
  spark-submit spark/churn_spark.py features --customers C --transactions T
      [--events E] --buckets N --out OUT.parquet [--binary churn-train]
      [--stage DIR] [--log-span FIRST..LAST] -- [churn-train features flags]
  spark-submit spark/churn_spark.py score --model M --customers C
      --transactions T [--events E] --as-of D --buckets N --out OUT.csv
      [--binary churn-score] ... -- [churn-score flags]
"""

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

from pyspark import SparkFiles
from pyspark.sql import SparkSession, functions as F

ID = "customer_id"


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=["features", "score"])
    p.add_argument("--customers", required=True)
    p.add_argument("--transactions", required=True)
    p.add_argument("--events")
    p.add_argument("--model", help="score: the model; features: build as it did")
    p.add_argument("--as-of", help="score: the as-of date")
    p.add_argument("--buckets", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--binary", help="churn-train / churn-score on the executors "
                   "[default: the file shipped with --files, else on PATH]")
    p.add_argument("--stage", help="staging folder every executor can reach "
                   "[default: a new folder beside --out]")
    p.add_argument("--id-column", default=ID, help="the customer id column of the logs")
    p.add_argument("--timestamp-column", default="timestamp")
    p.add_argument("--delimiter", default=",", help="CSV delimiter of the inputs")
    p.add_argument("--log-span", help="FIRST..LAST of the whole log [default: the "
                   "earliest and latest ISO date of the two logs]")
    own, rest = _split(argv)
    args = p.parse_args(own)
    args.extra = rest
    if args.buckets < 1:
        p.error("--buckets must be at least 1")
    if args.mode == "score" and not (args.model and args.as_of):
        p.error("score needs --model and --as-of")
    return args


def _split(argv):
    """Our flags, and the churn flags after `--`."""
    argv = list(argv)
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def read(spark, path, delimiter):
    """A log file or folder as Spark reads it: Parquet with its types, CSV
    with every cell as text (churn types the cells itself)."""
    parquet = path.endswith(".parquet") or (
        os.path.isdir(path) and any(f.endswith(".parquet") for _, _, fs in os.walk(path) for f in fs))
    if parquet:
        return spark.read.parquet(path)
    return (spark.read.option("header", True).option("inferSchema", False)
            .option("sep", delimiter).csv(path))


def bucket_of(col, n):
    return F.expr(f"pmod(hash(trim(cast(`{col}` as string))), {n})")


def split_log(spark, path, args, dest):
    """Write the log at `path` as `dest/_bucket=K/part-*.parquet`, each
    bucket's rows in input order; the log's earliest and latest ISO day."""
    df = read(spark, path, args.delimiter)
    if args.id_column not in df.columns:
        raise SystemExit(f"error: {path}: no column {args.id_column}")
    keyed = (df.withColumn("_file", F.input_file_name())
               .withColumn("_row", F.monotonically_increasing_id())
               .withColumn("_bucket", bucket_of(args.id_column, args.buckets)))
    (keyed.repartition(args.buckets, "_bucket")
          .sortWithinPartitions("_bucket", "_file", "_row")
          .drop("_file", "_row")
          .write.partitionBy("_bucket").parquet(dest))
    ts = F.col(f"`{args.timestamp_column}`")
    day = F.to_date(F.substring(F.trim(ts.cast("string")), 1, 10))
    lo, hi = df.select(F.min(day), F.max(day)).first()
    return lo, hi


def run(cmd):
    """Run a churn binary; raise with its error line when it fails."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        lines = ([l.removeprefix("error: ") for l in r.stderr.splitlines() if l.startswith("error")]
                 or r.stderr.splitlines()[-3:])
        raise RuntimeError(f"{os.path.basename(cmd[0])} {cmd[1] if len(cmd) > 1 else ''}: {' '.join(lines)}")
    return r


def binary(args, name):
    if args.binary:
        return args.binary
    shipped = SparkFiles.get(name)
    return shipped if os.path.exists(shipped) else name


def main(argv):
    args = parse(argv)
    out = os.path.abspath(args.out)
    stage = os.path.abspath(args.stage or os.path.join(os.path.dirname(out), f".churn-spark-{uuid.uuid4().hex[:12]}"))
    base, ext = os.path.splitext(os.path.basename(out))
    tmp = os.path.join(os.path.dirname(out), f".{base}.{uuid.uuid4().hex[:8]}{ext}")
    spark = SparkSession.builder.appName(f"churn {args.mode}").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        os.makedirs(stage, exist_ok=False)
        spans = [split_log(spark, args.transactions, args, f"{stage}/transactions")]
        if args.events:
            spans.append(split_log(spark, args.events, args, f"{stage}/events"))
        if args.log_span:
            span = args.log_span
        else:
            days = [d for s in spans for d in s if d is not None]
            if not days:
                raise SystemExit(f"error: {args.transactions}: no ISO date in the logs; give --log-span")
            span = f"{min(days).isoformat()}..{max(days).isoformat()}"
        tool = "churn-train" if args.mode == "features" else "churn-score"
        exe = binary(args, tool)
        n, customers, model, as_of, extra = args.buckets, os.path.abspath(args.customers), args.model, args.as_of, args.extra
        have_events = bool(args.events)
        os.makedirs(f"{stage}/parts")

        def task(k):
            logs = ["--customers", customers, "--transactions", f"{stage}/transactions/_bucket={k}"]
            if have_events:
                logs += ["--events", f"{stage}/events/_bucket={k}"]
            common = ["--bucket", f"{k}/{n}", "--log-span", span, "--partitions", "1"]
            if tool == "churn-train":
                cmd = [exe, "features", *logs, *common, *(["--model", model] if model else []),
                       *extra, "--out", f"{stage}/parts/part-{k:05d}.parquet"]
            else:
                cmd = [exe, "--model", model, *logs, "--as-of", as_of, *common, "-q", *extra,
                       "--out", f"{stage}/parts/part-{k:05d}.csv", "--runs-dir", f"{stage}/runs-{k}"]
            run(cmd)
            return k

        for k in range(n):
            if not os.path.isdir(f"{stage}/transactions/_bucket={k}"):
                raise SystemExit(f"error: bucket {k} of {n} has no transaction: use fewer --buckets")
        try:
            spark.sparkContext.parallelize(range(n), n).map(task).collect()
        except Exception as e:  # a task's error, wrapped by Spark and py4j
            text = str(e)
            line = next((l for l in text.splitlines() if "RuntimeError:" in l), text.splitlines()[0])
            raise RuntimeError(line.split("RuntimeError:", 1)[-1].strip()) from None
        if args.mode == "features":
            run([exe, "features", "--merge", f"{stage}/parts", "--customers", customers,
                 *(["--model", model] if model else []), "--out", tmp])
        else:
            concat_scores(customers, [f"{stage}/parts/part-{k:05d}.csv" for k in range(n)], tmp, args.delimiter)
        os.replace(tmp, out)
        print(f"{out}: {args.buckets} buckets on Spark", file=sys.stderr)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        if os.path.exists(tmp):
            os.remove(tmp)
        spark.stop()


def concat_scores(customers, parts, out, delimiter):
    """The parts' score rows in the customer table's order (its first row
    of an id), one header."""
    order = {}
    with open(customers, newline="", encoding="utf-8-sig") as f:
        for i, row in enumerate(csv.DictReader(f, delimiter=delimiter)):
            order.setdefault(row[ID].strip(), i)
    header, rows = None, []
    for p in parts:
        with open(p, newline="", encoding="utf-8") as f:
            r = csv.reader(f)
            h = next(r)
            if header is None:
                header = h
            elif h != header:
                raise SystemExit(f"error: {p}: another header than the first part's")
            rows.extend(r)
    at = next((header.index(c) for c in ("id", ID) if c in header), 0)
    rows.sort(key=lambda row: order.get(row[at], len(order)))
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except RuntimeError as e:
        sys.exit(f"error: {e}")
