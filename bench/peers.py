"""Peer models for `npm run bench:models`: scikit-learn logistic regression and random forest,
and XGBoost, on folds prepared by bench/models.ts (the same outer folds and the same fitted
feature encoding as claimtrail's nested cross-validation).

Run with Debian's interpreter (the packages python3-sklearn and python3-xgboost load only there):
    /usr/bin/python3 bench/peers.py JOBS.json OUT.json
JOBS.json: {"jobs": [{"id", "width", "trainX" (row-major), "trainY", "testX", "seed"}]}.
OUT.json:  {"versions": {...}, "results": [{"id", "lr": [...], "rf": [...], "xgb": [...], "seconds": {...}}]}.
`--check` only imports the packages (exit 0 when they load).
"""
import json
import sys
import time

import numpy as np
import sklearn
import xgboost
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

if len(sys.argv) > 1 and sys.argv[1] == "--check":
    print(f"scikit-learn {sklearn.__version__}, xgboost {xgboost.__version__}")
    sys.exit(0)

with open(sys.argv[1], encoding="utf-8") as f:
    jobs = json.load(f)["jobs"]

results = []
for job in jobs:
    width = job["width"]
    x = np.asarray(job["trainX"], dtype=np.float64).reshape(-1, width)
    y = np.asarray(job["trainY"], dtype=np.int64)
    t = np.asarray(job["testX"], dtype=np.float64).reshape(-1, width)
    seed = int(job["seed"])
    seconds = {}
    out = {"id": job["id"]}

    start = time.process_time()
    lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    lr.fit(x, y)
    out["lr"] = lr.predict_proba(t)[:, 1].tolist()
    seconds["lr"] = time.process_time() - start

    start = time.process_time()
    rf = RandomForestClassifier(n_estimators=500, random_state=seed, n_jobs=1)
    rf.fit(x, y)
    out["rf"] = rf.predict_proba(t)[:, 1].tolist()
    seconds["rf"] = time.process_time() - start

    start = time.process_time()
    xgb = xgboost.XGBClassifier(n_estimators=400, max_depth=5, tree_method="hist", random_state=seed, n_jobs=1)
    xgb.fit(x, y)
    out["xgb"] = xgb.predict_proba(t)[:, 1].tolist()
    seconds["xgb"] = time.process_time() - start

    out["seconds"] = seconds
    results.append(out)

with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump({"versions": {"sklearn": sklearn.__version__, "xgboost": xgboost.__version__, "numpy": np.__version__}, "results": results}, f)
