"""Uplift benchmark (issue 34), run by uplift_bench.sh.

1. Quality on generated campaigns (`churn-train generate --campaign`, 60,000
   customers, seeds 11-15; control vs call, about 40,000 rows): each tool's
   5-fold out-of-fold Qini AUC as a share of the Qini of the planted effect
   (effects.csv's uplift_call) on the same rows. churn: `churn-train uplift`
   (auto: the best learner by out-of-fold Qini); peers: scikit-uplift's
   S-learner (SoloModel), T-learner (TwoModels) and class transformation
   with LightGBM defaults, folds stratified by arm x outcome.
2. Speed: a T-learner fitted on one half of a large campaign and scored on
   the other (`--learner t --no-cv --test`), against scikit-uplift's
   TwoModels and causalml's BaseTClassifier with LightGBM; test Qini beside.
3. Scoring: `churn-score` on the test half with and without
   `--uplift --capacity` (the contact list by value saved).
Every tool gets 2 threads; times are wall-clock of the whole job or call.
"""
import json, os, pathlib, platform, subprocess, sys, time, warnings
import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
from lightgbm import LGBMClassifier
from sklearn.model_selection import StratifiedKFold
from sklift.metrics import qini_auc_score, uplift_at_k
from sklift.models import ClassTransformation, SoloModel, TwoModels

HERE = pathlib.Path(__file__).parent
THREADS = 2
ENV = {**os.environ, "RAYON_NUM_THREADS": str(THREADS), "OMP_NUM_THREADS": str(THREADS)}
DROP = ["customer_id", "surname", "arm", "churned", "revenue_12m"]


def run(cmd):
    t = time.perf_counter()
    subprocess.run([str(c) for c in cmd], check=True, env=ENV, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def generate(bin_dir, out, n, seed):
    if not (out / "campaign.csv").exists():
        run([bin_dir / "churn-train", "generate", "--campaign", "--customers", n, "--seed", seed, "--out", out])
    c = pd.read_csv(out / "campaign.csv")
    e = pd.read_csv(out / "effects.csv")
    return c.merge(e, on="customer_id")


def features(df):
    return pd.get_dummies(df.drop(columns=[c for c in df.columns if c in DROP or c.startswith(("p_", "uplift_", "segment", "clv"))]), dtype=float)


def lgbm():
    return LGBMClassifier(n_jobs=THREADS, verbose=-1)


def peers_oof(m):
    X, y, t = features(m), m.churned.values, (m.arm == "call").astype(int).values
    out = {}
    for name, make in [("scikit-uplift S-learner + LightGBM", lambda: SoloModel(lgbm())),
                       ("scikit-uplift T-learner + LightGBM", lambda: TwoModels(lgbm(), lgbm(), method="vanilla")),
                       ("scikit-uplift class transformation + LightGBM", lambda: ClassTransformation(lgbm()))]:
        oof, start = np.zeros(len(y)), time.perf_counter()
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=1).split(X, 2 * t + y):
            model = make().fit(X.iloc[tr], y[tr], t[tr])
            oof[te] = model.predict(X.iloc[te])
        out[name] = (-oof, time.perf_counter() - start)  # retention uplift
    return out


def quality(bin_dir, work):
    rows = []
    for seed in (11, 12, 13, 14, 15):
        d = work / f"q{seed}"
        m = generate(bin_dir, d, 60000, seed)
        two = m[m.arm.isin(["control", "call"])]
        runs = d / "runs"
        secs = run([bin_dir / "churn-train", "uplift", "--data", d / "campaign.csv", "--arm", "arm", "--control", "control",
                    "--treatment", "call", "--outcome", "churned", "--drop", "revenue_12m", "--out", runs,
                    "--model-dir", d / "models", "-q"])
        run_dir = sorted(runs.iterdir())[-1]
        oof = pd.read_csv(run_dir / "oof_uplift.csv").merge(two, left_on="id", right_on="customer_id")
        learner = json.load(open(run_dir / "uplift.json"))["learner"]
        kept, t = 1 - oof.outcome, (oof.arm_x == "call").astype(int)
        planted = qini_auc_score(kept, oof.uplift_call, t)
        row = {"seed": seed, "rows": len(oof), "planted": planted,
               "churn": (qini_auc_score(kept, oof.retention_uplift, t), secs, learner)}
        for name, (score, s) in peers_oof(two.reset_index(drop=True)).items():
            row[name] = (qini_auc_score(1 - two.churned.values, score, (two.arm == "call").astype(int).values), s)
        rows.append(row)
        print(seed, {k: v for k, v in row.items()}, flush=True)
    return rows


def speed(bin_dir, work, n):
    d = work / f"s{n}"
    m = generate(bin_dir, d, n, 31)
    two = m[m.arm.isin(["control", "call"])].reset_index(drop=True)
    train, test = two.iloc[0::2], two.iloc[1::2]
    cols = [c for c in pd.read_csv(d / "campaign.csv", nrows=1).columns]
    if not (d / "train.csv").exists():
        train[cols].to_csv(d / "train.csv", index=False)
        test[cols].to_csv(d / "test.csv", index=False)
    runs = d / "runs"
    secs = run([bin_dir / "churn-train", "uplift", "--data", d / "train.csv", "--test", d / "test.csv", "--arm", "arm",
                "--control", "control", "--treatment", "call", "--outcome", "churned", "--drop", "revenue_12m",
                "--learner", "t", "--no-cv", "--out", runs, "--model-dir", d / "models", "-q"])
    fig = json.load(open(sorted(runs.iterdir())[-1] / "uplift.json"))["test"]["figures"]
    out = {"rows_train": len(train), "rows_test": len(test),
           "churn T-learner (our gradient boosting)": (secs, fig["qini_auc"], fig["uplift_at_30"])}
    Xtr, Xte = features(train), features(test)
    ytr, ttr = train.churned.values, (train.arm == "call").astype(int).values
    kept, tte = 1 - test.churned.values, (test.arm == "call").astype(int).values
    start = time.perf_counter()
    p = TwoModels(lgbm(), lgbm(), method="vanilla").fit(Xtr, ytr, ttr).predict(Xte)
    out["scikit-uplift TwoModels + LightGBM"] = (time.perf_counter() - start, qini_auc_score(kept, -p, tte), uplift_at_k(kept, -p, tte, "overall", 0.3))
    from causalml.inference.meta import BaseTClassifier
    start = time.perf_counter()
    cm = BaseTClassifier(learner=lgbm(), control_name="control")
    cm.fit(X=Xtr.values, treatment=np.where(ttr == 1, "call", "control"), y=ytr)
    p = cm.predict(Xte.values).ravel()
    out["causalml BaseTClassifier + LightGBM"] = (time.perf_counter() - start, qini_auc_score(kept, -p, tte), uplift_at_k(kept, -p, tte, "overall", 0.3))
    # Scoring: a churn model on the control half of the training rows.
    control = train[train.arm == "control"][cols]
    control.to_csv(d / "control.csv", index=False)
    run([bin_dir / "churn-train", "--data", d / "control.csv", "--target", "churned", "--drop", "arm,revenue_12m",
         "--models", "gradient_boosting", "--out", runs, "--model-dir", d / "models", "-q"])
    base = [bin_dir / "churn-score", "--model", d / "models/latest", "--data", d / "test.csv", "--runs-dir", d / "scores", "-q"]
    plain = min(run(base) for _ in range(2))
    with_uplift = min(run(base + ["--uplift", d / "models/uplift-latest", "--capacity", len(test) // 10]) for _ in range(2))
    out["scoring"] = (plain, with_uplift)
    print(out, flush=True)
    return out


def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip() + f", {os.cpu_count()} cores"
    return platform.processor()


def main():
    bin_dir, work = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1_500_000
    work.mkdir(parents=True, exist_ok=True)
    q = quality(bin_dir, work)
    s = speed(bin_dir, work, n)
    json.dump({"cpu": cpu(), "quality": q, "speed": s}, open(HERE / "uplift_results.json", "w"), indent=1)
    peers = [k for k in q[0] if k.startswith("scikit")]
    lines = ["# Uplift benchmark", "",
             f"CPU: {cpu()}; {THREADS} threads for every tool. Produced by `experiments/bench/uplift_bench.sh`.", "",
             "## Out-of-fold Qini AUC as a share of the planted effect's (generated campaigns, 60,000 customers, control vs call)", "",
             "| seed | rows | planted Qini | churn (kept learner) | " + " | ".join(peers) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(peers)]
    for r in q:
        c = r["churn"]
        lines.append(f"| {r['seed']} | {r['rows']} | {r['planted']:.4f} | {c[0] / r['planted']:.3f} ({c[2]}, {c[1]:.1f} s) | "
                     + " | ".join(f"{r[p][0] / r['planted']:.3f} ({r[p][1]:.1f} s)" for p in peers) + " |")
    mean = lambda f: np.mean([f(r) for r in q])
    lines.append(f"| mean | | | {mean(lambda r: r['churn'][0] / r['planted']):.3f} | "
                 + " | ".join(f"{mean(lambda r, p=p: r[p][0] / r['planted']):.3f}" for p in peers) + " |")
    lines += ["", "churn's time is the whole command (read, clean, 5-fold cross-validation of six learners, refit, "
              "artifact, run folder); a peer's is its 5-fold loop of one learner on a ready matrix.", "",
              f"## T-learner: fit on {s['rows_train']:,} rows, score {s['rows_test']:,} (halves of one campaign of {n:,} customers)", "",
              "| tool | seconds | test Qini AUC | test uplift@30% |", "|---|---:|---:|---:|"]
    for k, v in s.items():
        if isinstance(v, tuple) and len(v) == 3:
            lines.append(f"| {k} | {v[0]:.1f} | {v[1]:.4f} | {v[2]:.4f} |")
    lines += ["", "churn's seconds are the whole `churn-train uplift --learner t --no-cv --test` command (reading and "
              "cleaning both CSV files included); the peers' are fit + predict on matrices already in memory.", "",
              "## Scoring with the uplift model and a contact list", "",
              "| job | seconds | ratio |", "|---|---:|---:|",
              f"| churn-score, {s['rows_test']:,} customers | {s['scoring'][0]:.2f} | 1.00 |",
              f"| same + --uplift --capacity {s['rows_test'] // 10:,} | {s['scoring'][1]:.2f} | {s['scoring'][1] / s['scoring'][0]:.2f} |"]
    (HERE / "uplift_results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
