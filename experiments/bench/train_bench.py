"""Training benchmark (issue 5): churn-train's engines against scikit-learn and
LightGBM on the same data and the same 80/20 split.

Datasets: ../shared/datasets/bank_churn.csv (stratified 80/20 split, seed 42)
and make_classification tables of N x 30 (as ../shared/bench/sklearn_scale.py:
first 80% train, last 20% test). For every model: fit seconds, predict rows/s
(median of 5 timed predict calls),
peak RSS of the process that fitted it, ROC AUC on the test rows.
Each model runs in its own process so peak memory is its own.

Usage: python train_bench.py CHURN_TRAIN_BINARY WORKDIR [N ...]   (default N: 200000 1000000)
With BENCH_REUSE_REFERENCE=1 the scikit-learn and LightGBM rows are taken
from the existing train_results.json (they do not depend on churn's code;
same machine, same data) and only churn is rerun.
Writes experiments/bench/train_results.md and .json next to this script."""
import json, os, resource, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent.parent / "shared"


def peak_child_mib():
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def sklearn_worker(model, train_csv, test_csv, target):
    """Runs in a child process: fit and predict one scikit-learn/LightGBM model."""
    import numpy as np, pandas as pd
    from sklearn.metrics import roc_auc_score
    tr, te = pd.read_csv(train_csv), pd.read_csv(test_csv)
    ytr, yte = tr.pop(target).to_numpy(), te.pop(target).to_numpy()
    both = pd.get_dummies(pd.concat([tr, te]), dtype=float).fillna(0.0)
    Xtr, Xte = both.iloc[: len(tr)].to_numpy(), both.iloc[len(tr):].to_numpy()
    from sklearn.tree import DecisionTreeClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    import lightgbm as lgb
    if model == "logistic_regression":
        s = StandardScaler().fit(Xtr); Xtr, Xte = s.transform(Xtr), s.transform(Xte)
    m = {
        "decision_tree": lambda: DecisionTreeClassifier(max_depth=10, min_samples_leaf=20, random_state=0),
        "random_forest": lambda: RandomForestClassifier(n_estimators=100, min_samples_leaf=5, n_jobs=-1, random_state=0),
        "logistic_regression": lambda: LogisticRegression(max_iter=1000),
        "lightgbm": lambda: lgb.LGBMClassifier(n_estimators=300, learning_rate=0.05, verbose=-1),
    }[model]()
    t0 = time.perf_counter(); m.fit(Xtr, ytr); fit = time.perf_counter() - t0
    times = []
    for _ in range(5):  # median of 5 calls, as churn-train holdout does
        t0 = time.perf_counter(); p = m.predict_proba(Xte)[:, 1]; times.append(time.perf_counter() - t0)
    pr = sorted(times)[2]
    print(json.dumps({"fit_seconds": fit, "predict_rows_per_s": len(yte) / pr, "auc": roc_auc_score(yte, p)}))


def run(cmd):
    before = peak_child_mib()
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{cmd}: {out.stderr[-2000:]}")
    return out.stdout, peak_child_mib()


def churn_rows(binary, work, train_csv, test_csv, target, engines, models):
    cfg = work / "bench.toml"
    cfg.write_text('[decision_tree]\nmax_depth = 10\nmin_samples_leaf = 20\n'
                   '[random_forest]\nn_trees = 100\n[random_forest.tree]\nmin_samples_leaf = 5\n')
    rows = []
    for engine in engines:
        for model in models:
            if engine != "native" and model == "logistic_regression":
                continue
            cmd = ["/usr/bin/time", "-f", "%M", binary, "holdout", "--config", str(cfg), "--data", str(train_csv),
                   "--test", str(test_csv), "--target", target, "--models", model, "--engine", engine, "-q"]
            out = subprocess.run(cmd, capture_output=True, text=True)
            if out.returncode != 0:
                raise RuntimeError(out.stderr[-2000:])
            r = json.loads(out.stdout.strip().splitlines()[-1])
            rss = int(out.stderr.strip().splitlines()[-1]) / 1024
            rows.append({"tool": f"churn ({engine})", "model": model, "fit_seconds": r["fit_seconds"],
                         "predict_rows_per_s": r["predict_rows_per_s"], "peak_mib": rss, "auc": r["metrics"]["roc_auc"]})
            print(rows[-1], flush=True)
    return rows


def sklearn_rows(train_csv, test_csv, target, models):
    rows = []
    for model in models:
        cmd = ["/usr/bin/time", "-f", "%M", sys.executable, __file__, "--worker", model, str(train_csv), str(test_csv), target]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rss = int(out.stderr.strip().splitlines()[-1]) / 1024
        tool = "LightGBM" if model == "lightgbm" else "scikit-learn"
        rows.append({"tool": tool, "model": model, "fit_seconds": r["fit_seconds"], "predict_rows_per_s": r["predict_rows_per_s"],
                     "peak_mib": rss, "auc": r["auc"]})
        print(rows[-1], flush=True)
    return rows


def bank_split(work):
    import pandas as pd
    from sklearn.model_selection import train_test_split
    df = pd.read_csv(SHARED / "datasets" / "bank_churn.csv").drop(columns=["RowNumber", "CustomerId", "Surname"])
    tr, te = train_test_split(df, test_size=0.2, stratify=df["Exited"], random_state=42)
    tr.to_csv(work / "bank_train.csv", index=False); te.to_csv(work / "bank_test.csv", index=False)
    return work / "bank_train.csv", work / "bank_test.csv", "Exited"


def synth_split(work, n):
    import pandas as pd
    from sklearn.datasets import make_classification
    X, y = make_classification(n_samples=n, n_features=30, n_informative=12, n_redundant=6,
                               weights=[0.8], flip_y=0.05, class_sep=0.8, random_state=7)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(30)]); df["y"] = y
    cut = int(n * 0.8)
    df.iloc[:cut].to_csv(work / f"s{n}_train.csv", index=False); df.iloc[cut:].to_csv(work / f"s{n}_test.csv", index=False)
    return work / f"s{n}_train.csv", work / f"s{n}_test.csv", "y"


def main():
    binary, work = sys.argv[1], Path(sys.argv[2])
    sizes = [int(a) for a in sys.argv[3:]] or [200_000, 1_000_000]
    work.mkdir(parents=True, exist_ok=True)
    trees = ["decision_tree", "random_forest"]
    all_models = trees + ["logistic_regression"]
    results = {}
    previous = json.loads((HERE / "train_results.json").read_text()) if os.environ.get("BENCH_REUSE_REFERENCE") == "1" else {}

    def reference(label, tr, te, t):
        if label in previous:
            return [r for r in previous[label] if not r["tool"].startswith("churn")]
        return sklearn_rows(tr, te, t, all_models + ["lightgbm"])

    tr, te, t = bank_split(work)
    label = "bank_churn (8,000 / 2,000)"
    results[label] = churn_rows(binary, work, tr, te, t, ["native", "linfa", "smartcore"], all_models) + reference(label, tr, te, t)
    for n in sizes:
        tr, te, t = synth_split(work, n)
        label = f"synthetic {n:,} x 30 ({int(n*0.8):,} / {n - int(n*0.8):,})"
        results[label] = churn_rows(binary, work, tr, te, t, ["native"], all_models) + reference(label, tr, te, t)
    (HERE / "train_results.json").write_text(json.dumps(results, indent=1))
    lines = ["# Training benchmark", "",
             f"Same data, same split for every tool; {os.cpu_count()} cores; each model fitted in its own process. "
             "Forest: 100 fully grown trees, 5 rows per leaf, sqrt(features) per split; tree: depth 10, 20 rows per leaf; LightGBM: 300 rounds. "
             "Fit and predict times include churn's preprocessing (binning, one-hot, scaling) but not CSV reading; predict rows/s is the median of 5 calls. "
             "linfa and smartcore trees give labels only (AUC from 0/1 labels or vote shares); they are run on the bank data only "
             "(linfa's forest needs minutes at 200k rows)."
             + (" The scikit-learn and LightGBM rows were reused from the previous run (BENCH_REUSE_REFERENCE=1)." if previous else ""), ""]
    for ds, rows in results.items():
        lines += [f"## {ds}", "", "| tool | model | fit s | predict rows/s | peak MiB | ROC AUC |", "|---|---|---:|---:|---:|---:|"]
        for r in rows:
            lines.append(f"| {r['tool']} | {r['model']} | {r['fit_seconds']:.2f} | {r['predict_rows_per_s']:,.0f} | {r['peak_mib']:.0f} | {r['auc']:.4f} |")
        sk = {r["model"]: r for r in rows if r["tool"] == "scikit-learn"}
        nat = {r["model"]: r for r in rows if r["tool"] == "churn (native)"}
        if "random_forest" in sk and "random_forest" in nat:
            a, b = nat["random_forest"], sk["random_forest"]
            lines += ["", f"Forest: fit {b['fit_seconds'] / a['fit_seconds']:.1f}x faster than scikit-learn, "
                          f"predict {a['predict_rows_per_s'] / b['predict_rows_per_s']:.1f}x, "
                          f"memory {a['peak_mib']:.0f} vs {b['peak_mib']:.0f} MiB, AUC {a['auc'] - b['auc']:+.4f}."]
        lines.append("")
    (HERE / "train_results.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        sklearn_worker(*sys.argv[2:6])
    else:
        main()
