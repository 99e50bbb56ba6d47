"""Gradient boosting benchmark (issue 15): churn's native gradient boosting
against LightGBM and scikit-learn's HistGradientBoostingClassifier, same
defaults (31 leaves, learning rate 0.1, 100 rounds, 20 rows per leaf, 255
bins, no early stopping), 2 threads, in one process tree.

Tables: make_classification N x 30 (as train_bench.py, random_state 7), split
into two stratified halves A and B; 2-fold: fit on A, test on B, then fit on
B, test on A. Per tool and table: mean fit seconds per fold, predict rows/s
(median of 5 calls), peak RSS of the process (max over the two folds), test
ROC AUC (mean over the two folds).
Held-out comparison on the real tables: bank_churn and telco_churn, 5-fold
out-of-fold AUC of churn-train's default gradient boosting (early stopping
on) next to LightGBM with defaults on the very same folds (oof.csv's fold
column) and the same encoded features (churn's exclusions, one-hot).

Usage: python boost_bench.py CHURN_TRAIN_BINARY WORKDIR [N ...]   (default N: 200000 1000000)
Writes experiments/bench/boost_results.md and .json next to this script."""
import json, os, platform, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent.parent / "shared"
THREADS = 2


def worker(tool, train_csv, test_csv, target):
    """Child process: fit one Python model on train, predict test."""
    import numpy as np, pandas as pd
    from sklearn.metrics import roc_auc_score
    tr, te = pd.read_csv(train_csv), pd.read_csv(test_csv)
    ytr, yte = tr.pop(target).to_numpy(), te.pop(target).to_numpy()
    Xtr, Xte = tr.to_numpy(), te.to_numpy()
    if tool == "lightgbm":
        import lightgbm as lgb
        m = lgb.LGBMClassifier(n_jobs=THREADS, verbose=-1)
    else:
        from sklearn.ensemble import HistGradientBoostingClassifier
        # scikit-learn's names for LightGBM's defaults; no early stopping.
        m = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=31,
                                           min_samples_leaf=20, max_bins=255, early_stopping=False)
    t0 = time.perf_counter(); m.fit(Xtr, ytr); fit = time.perf_counter() - t0
    times = []
    for _ in range(5):
        t0 = time.perf_counter(); p = m.predict_proba(Xte)[:, 1]; times.append(time.perf_counter() - t0)
    print(json.dumps({"fit_seconds": fit, "predict_rows_per_s": len(yte) / sorted(times)[2],
                      "auc": roc_auc_score(yte, p)}))


def timed(cmd, env=None):
    out = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{cmd}: {out.stderr[-2000:]}")
    return out.stdout, int(out.stderr.strip().splitlines()[-1]) / 1024


def churn_fold(binary, work, train_csv, test_csv, target, simd=None):
    cfg = work / "gb.toml"
    cfg.write_text("[gradient_boosting]\nearly_stopping_rounds = 0\n")
    out, rss = timed([binary, "holdout", "--config", str(cfg), "--data", str(train_csv), "--test", str(test_csv),
                      "--target", target, "--models", "gradient_boosting", "-q"],
                     env={**os.environ, "RAYON_NUM_THREADS": str(THREADS), **({"CHURN_SIMD": simd} if simd else {})})
    r = json.loads(out.strip().splitlines()[-1])
    return {"fit_seconds": r["fit_seconds"], "predict_rows_per_s": r["predict_rows_per_s"],
            "auc": r["metrics"]["roc_auc"]}, rss


def python_fold(tool, train_csv, test_csv, target):
    env = {**os.environ, "OMP_NUM_THREADS": str(THREADS)}
    out, rss = timed([sys.executable, __file__, "--worker", tool, str(train_csv), str(test_csv), target], env=env)
    return json.loads(out.strip().splitlines()[-1]), rss


def halves(work, n):
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    a, b = work / f"s{n}_a.csv", work / f"s{n}_b.csv"
    if not (a.exists() and b.exists()):
        X, y = make_classification(n_samples=n, n_features=30, n_informative=12, n_redundant=6,
                                   weights=[0.8], flip_y=0.05, class_sep=0.8, random_state=7)
        df = pd.DataFrame(X, columns=[f"x{i}" for i in range(30)]); df["y"] = y
        da, db = train_test_split(df, test_size=0.5, stratify=df["y"], random_state=7)
        da.to_csv(a, index=False); db.to_csv(b, index=False)
    return a, b


def two_fold(binary, work, n):
    a, b = halves(work, n)
    rows = []
    for tool in ["churn", "lightgbm", "sklearn_hgb", "churn_avx2", "churn_scalar"]:
        folds, peak = [], 0.0
        for tr, te in [(a, b), (b, a)]:
            if tool.startswith("churn"):
                r, rss = churn_fold(binary, work, tr, te, "y", tool[6:] or None)
            else:
                r, rss = python_fold(tool, tr, te, "y")
            folds.append(r); peak = max(peak, rss)
        name = {"churn": "churn gradient_boosting", "lightgbm": f"LightGBM {lgb_version()}",
                "churn_avx2": "churn gradient_boosting, CHURN_SIMD=avx2 (as on CPUs without AVX-512)",
                "churn_scalar": "churn gradient_boosting, CHURN_SIMD=scalar (no vector walk)",
                "sklearn_hgb": f"scikit-learn {sk_version()} HistGradientBoosting"}[tool]
        row = {"tool": name, "fit_seconds": sum(f["fit_seconds"] for f in folds) / 2,
               "predict_rows_per_s": sum(f["predict_rows_per_s"] for f in folds) / 2,
               "peak_mib": peak, "auc": sum(f["auc"] for f in folds) / 2}
        print(row, flush=True)
        rows.append(row)
    return rows


def lgb_version():
    import lightgbm
    return lightgbm.__version__


def sk_version():
    import sklearn
    return sklearn.__version__


def held_out(binary, work):
    """5-fold OOF AUC on the shared tables: churn default vs LightGBM on churn's folds."""
    import numpy as np, pandas as pd, lightgbm as lgb
    from sklearn.metrics import roc_auc_score
    rows = []
    for name, target in [("bank_churn.csv", "Exited"), ("telco_churn.csv", "Churn")]:
        out = work / f"ho_{name}"
        subprocess.run(["rm", "-rf", str(out)])
        subprocess.run([binary, "--data", str(SHARED / "datasets" / name), "--target", target,
                        "--models", "gradient_boosting", "--out", str(out), "--model-dir", str(out / "m"), "-q"],
                       check=True)
        run = next(p for p in out.iterdir() if p.is_dir() and p.name != "m")
        rep = json.loads((run / "data_report.json").read_text())
        oof = pd.read_csv(run / "oof.csv", dtype={"id": str})
        df = pd.read_csv(SHARED / "datasets" / name, dtype=str)
        idc = rep["id_column"]
        df = df.drop_duplicates(subset=[idc]).set_index(idc).loc[oof["id"]]
        y = oof["label"].to_numpy()
        df = df.drop(columns=[target] + [e["name"] for e in rep["excluded_columns"] if e["name"] in df.columns])
        num = {c: pd.to_numeric(df[c], errors="coerce") for c in df.columns}
        # Numbers where the column parses as numbers (blanks = missing), else one-hot.
        cols = [c for c in df.columns if num[c].notna().sum() >= 0.99 * df[c].str.strip().ne("").sum()]
        X = pd.concat([pd.DataFrame({c: num[c] for c in cols}),
                       pd.get_dummies(df.drop(columns=cols), dtype=float)], axis=1)
        p = np.zeros(len(y))
        for k in sorted(oof["fold"].unique()):
            te = (oof["fold"] == k).to_numpy()
            m = lgb.LGBMClassifier(n_jobs=THREADS, verbose=-1).fit(X[~te], y[~te])
            p[te] = m.predict_proba(X[te])[:, 1]
        metrics = json.loads((run / "metrics.json").read_text())
        es = metrics["models"]["gradient_boosting"].get("rounds", [])
        rows.append({"table": name, "churn_auc": roc_auc_score(y, oof["gradient_boosting"]),
                     "lightgbm_auc": roc_auc_score(y, p), "rounds": es})
        print(rows[-1], flush=True)
    return rows


def main():
    binary, work = sys.argv[1], Path(sys.argv[2])
    sizes = [int(a) for a in sys.argv[3:]] or [200_000, 1_000_000]
    work.mkdir(parents=True, exist_ok=True)
    results = {"cpu": cpu(), "held_out": held_out(binary, work), "two_fold": {}}
    for n in sizes:
        results["two_fold"][f"{n:,} x 30"] = two_fold(binary, work, n)
    (HERE / "boost_results.json").write_text(json.dumps(results, indent=1))
    lines = ["# Gradient boosting benchmark", "",
             f"CPU: {results['cpu']}; {THREADS} threads for every tool; each fit in its own process. "
             "Same defaults everywhere: 31 leaves, learning rate 0.1, 100 rounds, 20 rows per leaf, 255 bins, no early stopping. "
             "2-fold: the table in two stratified halves, fit on one and test on the other, both ways; fit seconds and AUC are "
             "means over the two folds, predict rows/s the mean of each fold's median of 5 calls, peak MiB the larger fold's. "
             "churn's times include its preprocessing (binning) but not CSV reading; so do the others'. "
             "churn predicts with the widest vector path the CPU has; the CHURN_SIMD rows force a narrower one "
             "(fitting is the same code in every row).", ""]
    for ds, rows in results["two_fold"].items():
        lines += [f"## {ds}", "", "| tool | fit s | predict rows/s | peak MiB | test ROC AUC |", "|---|---:|---:|---:|---:|"]
        for r in rows:
            lines.append(f"| {r['tool']} | {r['fit_seconds']:.2f} | {r['predict_rows_per_s']:,.0f} | {r['peak_mib']:.0f} | {r['auc']:.4f} |")
        c, l, v2, sc = rows[0], rows[1], rows[3], rows[4]
        lines += ["", f"churn vs LightGBM: fit {l['fit_seconds'] / c['fit_seconds']:.2f}x faster, predict "
                      f"{c['predict_rows_per_s'] / l['predict_rows_per_s']:.1f}x the rows/s, AUC {c['auc'] - l['auc']:+.4f}; "
                      f"prediction forced to AVX2 {v2['predict_rows_per_s'] / l['predict_rows_per_s']:.1f}x, "
                      f"to scalar {sc['predict_rows_per_s'] / l['predict_rows_per_s']:.1f}x LightGBM's rows/s.", ""]
    lines += ["## Held out: 5-fold out-of-fold ROC AUC on the shared tables", "",
              "churn-train defaults (gradient boosting with early stopping after 20 rounds on a 10% stratified share of each training fold; "
              "protected attributes such as Gender left out) against LightGBM with its defaults on the same folds and the same features.", "",
              "| table | churn gradient_boosting | LightGBM | rounds chosen per fold |", "|---|---:|---:|---|"]
    for r in results["held_out"]:
        lines.append(f"| {r['table']} | {r['churn_auc']:.4f} | {r['lightgbm_auc']:.4f} | {', '.join(map(str, r['rounds']))} |")
    (HERE / "boost_results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "")
                simd = "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else "no AVX2"
                return line.split(":", 1)[1].strip() + f", {os.cpu_count()} cores, {simd}"
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:6])
    else:
        main()
