"""Training job per phase (issue 18): churn-train's whole job against the
equivalent scikit-learn pipeline, on `churn-train generate --rows N --seed 5`
tables, in one process tree.

churn: `churn-train --data F --models decision_tree --folds 2 -q`; phases
from its run.json (read, clean, cross_validation, refit, reference, reports,
save). scikit-learn: pandas read_csv; clean (drop id and name columns, de-
duplicate ids, one-hot categoricals, median-impute numbers); 2-fold
StratifiedKFold of DecisionTreeClassifier(max_depth=8, min_samples_leaf=20)
with predict_proba and ROC AUC; refit on all rows (scikit-learn has no
reference or report phase). polars: read_csv of the same file alone, the
reference for reading. Each tool in its own process (GNU time: peak RSS).

Goals (issue 18): churn read + clean within 2x of polars' read time;
everything after cross-validation except the refit (reference + reports +
save) within 1x the refit's time.

Usage: python train_phases.py CHURN_TRAIN_BINARY WORKDIR [N ...]  (default 1000000)
Writes experiments/bench/train_phases.md and .json next to this script."""
import json, os, platform, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def sklearn_job(path):
    import numpy as np, pandas as pd
    from sklearn.model_selection import StratifiedKFold
    from sklearn.tree import DecisionTreeClassifier
    from sklearn.metrics import roc_auc_score
    ph = {}
    t = time.perf_counter()
    df = pd.read_csv(path)
    ph["read"] = time.perf_counter() - t; t = time.perf_counter()
    df = df.drop_duplicates(subset=["customer_id"]).drop(columns=["customer_id", "surname"])
    y = df.pop("churned").to_numpy()
    num = df.select_dtypes("number")
    X = pd.concat([num.fillna(num.median()), pd.get_dummies(df.select_dtypes(exclude="number"), dtype=float)], axis=1).to_numpy()
    ph["clean"] = time.perf_counter() - t; t = time.perf_counter()
    oof = np.zeros(len(y))
    for tr, te in StratifiedKFold(2, shuffle=True, random_state=42).split(X, y):
        m = DecisionTreeClassifier(max_depth=8, min_samples_leaf=20, random_state=0).fit(X[tr], y[tr])
        oof[te] = m.predict_proba(X[te])[:, 1]
    auc = roc_auc_score(y, oof)
    ph["cross_validation"] = time.perf_counter() - t; t = time.perf_counter()
    DecisionTreeClassifier(max_depth=8, min_samples_leaf=20, random_state=0).fit(X, y)
    ph["refit"] = time.perf_counter() - t
    print(json.dumps({"phases": ph, "auc": auc}))


def polars_read(path):
    import polars as pl
    t = time.perf_counter()
    pl.read_csv(path)
    print(json.dumps({"phases": {"read": time.perf_counter() - t}}))


def timed(cmd):
    out = subprocess.run(["/usr/bin/time", "-f", "%M %e"] + cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{cmd}: {out.stderr[-2000:]}")
    rss, wall = out.stderr.strip().splitlines()[-1].split()
    return out.stdout, int(rss) / 1024, float(wall)


def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip() + f", {os.cpu_count()} cores"
    return platform.processor()


def main():
    binary, work = sys.argv[1], Path(sys.argv[2])
    sizes = [int(a) for a in sys.argv[3:]] or [1_000_000]
    work.mkdir(parents=True, exist_ok=True)
    results = {"cpu": cpu(), "sizes": {}}
    for n in sizes:
        data = work / f"gen{n}.csv"
        if not data.exists():
            subprocess.run([binary, "generate", "--rows", str(n), "--seed", "5", "--out", str(data)], check=True)
        out = work / f"run{n}"
        subprocess.run(["rm", "-rf", str(out)])
        _, rss, wall = timed([binary, "--data", str(data), "--models", "decision_tree", "--folds", "2", "-q",
                              "--out", str(out / "exp"), "--model-dir", str(out / "models")])
        run = next((out / "exp").iterdir())
        info = json.loads((run / "run.json").read_text())
        m = json.loads((run / "metrics.json").read_text())
        churn = {"phases": {p["phase"]: p["seconds"] for p in info["phases"]}, "rss": rss, "wall": wall,
                 "auc": m["models"]["decision_tree"]["oof"]["roc_auc"]}
        s_out, s_rss, s_wall = timed([sys.executable, __file__, "--sklearn", str(data)])
        sk = {**json.loads(s_out.strip().splitlines()[-1]), "rss": s_rss, "wall": s_wall}
        p_out, p_rss, p_wall = timed([sys.executable, __file__, "--polars", str(data)])
        pl = {**json.loads(p_out.strip().splitlines()[-1]), "rss": p_rss, "wall": p_wall}
        results["sizes"][n] = {"churn": churn, "scikit-learn": sk, "polars": pl,
                               "mb": data.stat().st_size / 1e6}
        print(results["sizes"][n], flush=True)
    (HERE / "train_phases.json").write_text(json.dumps(results, indent=1))
    phases = ["read", "clean", "cross_validation", "refit", "reference", "reports", "save"]
    lines = ["# Training job per phase", "",
             f"CPU: {results['cpu']}. `churn-train --models decision_tree --folds 2` on `churn-train generate --rows N --seed 5`, "
             "against pandas + scikit-learn doing the same (read, clean, 2-fold CV of a depth-8 tree, refit) and polars reading the file. "
             "Seconds of wall-clock time per phase (churn: run.json `phases`); peak RSS by GNU time; each tool in its own process.", ""]
    for n, r in results["sizes"].items():
        c, s, p = r["churn"], r["scikit-learn"], r["polars"]
        lines += [f"## {int(n):,} customers ({r['mb']:.0f} MB CSV)", "",
                  "| tool | " + " | ".join(phases) + " | total s | peak MiB | OOF ROC AUC |",
                  "|---|" + "---:|" * (len(phases) + 3)]
        cell = lambda d, k: f"{d['phases'][k]:.2f}" if k in d["phases"] else ""
        lines.append("| churn | " + " | ".join(cell(c, k) for k in phases) + f" | {c['wall']:.1f} | {c['rss']:.0f} | {c['auc']:.4f} |")
        lines.append("| pandas + scikit-learn | " + " | ".join(cell(s, k) for k in phases) + f" | {s['wall']:.1f} | {s['rss']:.0f} | {s['auc']:.4f} |")
        lines.append("| polars (read only) | " + " | ".join(cell(p, k) for k in phases) + f" | {p['wall']:.1f} | {p['rss']:.0f} | |")
        rc = c["phases"]["read"] + c["phases"]["clean"]
        after = c["phases"]["reference"] + c["phases"]["reports"] + c["phases"]["save"]
        lines += ["", f"Goal read + clean ≤ 2x polars' read: {rc:.2f} s vs {2 * p['phases']['read']:.2f} s "
                      f"({rc / p['phases']['read']:.1f}x) — {'met' if rc <= 2 * p['phases']['read'] else 'not met'}. "
                      f"Goal reference + reports + save ≤ 1x refit: {after:.2f} s vs {c['phases']['refit']:.2f} s "
                      f"({after / c['phases']['refit']:.1f}x) — {'met' if after <= c['phases']['refit'] else 'not met'}.", ""]
    (HERE / "train_phases.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--sklearn":
        sklearn_job(sys.argv[2])
    elif len(sys.argv) > 2 and sys.argv[1] == "--polars":
        polars_read(sys.argv[2])
    else:
        main()
