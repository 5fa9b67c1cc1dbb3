"""
Active learning for regression: BatchBALD vs BALD vs random on diabetes
=======================================================================

BALD and BatchBALD for regression score posterior samples of the prediction,
f_k(x), here the members of a bagged ensemble. The joint information of a
batch is estimated as 1/2 log det(I + Cov_k(f_B) / σ²) (see the user guide,
*Regression*): BatchBALD picks points whose sampled predictions vary a lot
*and* differently from each other; BALD (top-k) takes the points of largest
variance, however alike.

The data set is scikit-learn's bundled diabetes regression (442 patients, 10
features; California housing needs a download). Each of 10 seeds splits it
into a pool and a test set, labels 10 random pool points, then runs 8 rounds
of 10 labels per strategy, refitting the model after each round. Two models
give the posterior samples: a bagged ridge regression and a random forest,
20 members each. We report test RMSE curves, the area under each curve (mean
RMSE over the rounds, lower is better) and paired Wilcoxon tests over the
seeds.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import wilcoxon
from sklearn.datasets import load_diabetes
from sklearn.ensemble import BaggingRegressor, RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.metrics import root_mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald import ActiveLearner, BALDQuery, BatchBALDQuery, RandomQuery

X, y = load_diabetes(return_X_y=True)
N_SEEDS, N_INITIAL, BATCH, ROUNDS = 10, 10, 10, 8
MODELS = {
    "bagged ridge": lambda seed: make_pipeline(
        StandardScaler(),
        BaggingRegressor(Ridge(alpha=1.0), n_estimators=20, random_state=seed),
    ),
    "random forest": lambda seed: RandomForestRegressor(
        n_estimators=20, random_state=seed
    ),
}


def run(make_model, strategy, seed):
    X_pool, X_test, y_pool, y_test = train_test_split(
        X, y, test_size=142, random_state=seed
    )
    rng = np.random.default_rng(seed)
    start = rng.choice(len(X_pool), N_INITIAL, replace=False)
    learner = ActiveLearner(
        make_model(seed),
        query_strategy=strategy,
        X_training=X_pool[start],
        y_training=y_pool[start],
    )
    pool = np.setdiff1d(np.arange(len(X_pool)), start)
    rmse = [root_mean_squared_error(y_test, learner.predict(X_test))]
    for _ in range(ROUNDS):
        idx, _ = learner.query(X_pool[pool], n_instances=BATCH)
        learner.teach(X_pool[pool[idx]], y_pool[pool[idx]])
        pool = np.delete(pool, idx)
        rmse.append(root_mean_squared_error(y_test, learner.predict(X_test)))
    return rmse


strategies = {
    "BatchBALD": lambda seed: BatchBALDQuery(random_state=seed),
    "BALD (top-k)": lambda seed: BALDQuery(random_state=seed),
    "random": lambda seed: RandomQuery(random_state=seed),
}
labels = N_INITIAL + BATCH * np.arange(ROUNDS + 1)
rows = [
    {"model": model, "strategy": name, "seed": seed, "labels": n, "rmse": value}
    for model, make_model in MODELS.items()
    for name, make in strategies.items()
    for seed in range(N_SEEDS)
    for n, value in zip(labels, run(make_model, make(seed), seed), strict=True)
]
curves = pd.DataFrame(rows)

# %%
# Learning curves
# ---------------
# Mean test RMSE over the seeds, with one standard error.

fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, (model, runs) in zip(axes, curves.groupby("model", sort=False), strict=True):
    for name, group in runs.groupby("strategy", sort=False):
        stats = group.groupby("labels")["rmse"].agg(["mean", "sem"])
        ax.plot(stats.index, stats["mean"], marker="o", label=name)
        low, high = stats["mean"] - stats["sem"], stats["mean"] + stats["sem"]
        ax.fill_between(stats.index, low, high, alpha=0.2)
    ax.set_xlabel("labelled points")
    ax.set_title(f"diabetes, {model}, {N_SEEDS} seeds")
axes[0].set_ylabel("test RMSE")
axes[0].legend()
fig.tight_layout()

# %%
# Area under the curve and paired tests
# -------------------------------------
# The area is the mean RMSE over the 9 evaluations of a run; each seed gives
# one area per strategy, paired across strategies (same split, same start).

PAIRS = [
    ("BatchBALD", "random"),
    ("BatchBALD", "BALD (top-k)"),
    ("BALD (top-k)", "random"),
]
for model, runs in curves.groupby("model", sort=False):
    area = runs.groupby(["strategy", "seed"])["rmse"].mean().unstack("strategy")
    print(f"--- {model}: area under the RMSE curve")
    print(area.agg(["mean", "std"]).T.round(2))
    for a, b in PAIRS:
        difference = area[a] - area[b]
        test = wilcoxon(area[a], area[b])
        wins = int((difference < 0).sum())
        print(
            f"{a} - {b}: mean area difference {difference.mean():+.2f} RMSE, "
            f"{a} lower on {wins}/{N_SEEDS} seeds, Wilcoxon p = {test.pvalue:.3f}"
        )

# %%
# Where each strategy wins
# ------------------------
# The RMSE difference to random, round by round, averaged over the seeds:
# below zero the strategy is ahead of random at that number of labels.

for model, runs in curves.groupby("model", sort=False):
    table = runs.pivot_table(
        index=["seed", "labels"], columns="strategy", values="rmse"
    )
    gap = table.sub(table["random"], axis=0).groupby("labels").mean()
    print(f"--- {model}: RMSE minus random's")
    print(gap.drop(columns="random").round(2))
