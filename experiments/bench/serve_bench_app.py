"""The Python service a team would otherwise deploy, for serve_bench.py:
FastAPI on uvicorn, a scikit-learn random forest (100 trees, as churn's)
fitted at start-up on the embedded data/customers.csv, one-hot encoding and
median imputation in pandas. POST /v1/score takes churn's request shape
({"customers": [{column: value}, ...]}) and answers each customer's id and
churn probability only: no reasons, tiers, levels or actions, so it does
less work per customer than churn-score serve.

Run: uvicorn serve_bench_app:app --workers 2 (from this folder)."""
from pathlib import Path

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from sklearn.ensemble import RandomForestClassifier

ROOT = Path(__file__).resolve().parent.parent.parent
TARGET, ID, DROP = "churned", "customer_id", ["customer_id", "surname"]

train = pd.read_csv(ROOT / "data/customers.csv")
X = train.drop(columns=DROP + [TARGET])
CATS = [c for c in X.columns if X[c].dtype == object]
NUMS = [c for c in X.columns if c not in CATS]
MEDIANS = X[NUMS].median()


def encode(df):
    num = df.reindex(columns=NUMS).apply(pd.to_numeric, errors="coerce").fillna(MEDIANS)
    cat = pd.get_dummies(df.reindex(columns=CATS).astype("string"), dummy_na=False)
    return pd.concat([num, cat], axis=1).reindex(columns=COLUMNS, fill_value=0).astype(np.float32)


COLUMNS = list(pd.concat([X[NUMS], pd.get_dummies(X[CATS].astype("string"))], axis=1).columns)
MODEL = RandomForestClassifier(n_estimators=100, min_samples_leaf=5, n_jobs=1, random_state=7)
MODEL.fit(encode(X), train[TARGET])

app = FastAPI()


@app.post("/v1/score")
async def score(request: Request):
    body = await request.json()
    df = pd.DataFrame.from_records(body["customers"])
    p = MODEL.predict_proba(encode(df))[:, 1]
    ids = df[ID].astype(str).tolist() if ID in df else [str(i) for i in range(len(df))]
    return {"results": [{"id": i, "churn_probability": float(x)} for i, x in zip(ids, p)]}
