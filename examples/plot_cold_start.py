"""
Starting from zero labels
=========================

BatchBALD, BALD, margin and the other posterior strategies score the pool with
the model's predictions, so they cannot choose the very first labels: before
the first ``teach`` there is no fitted model to ask. The first batch has to come
from a strategy that looks only at the inputs: :class:`~skbatchbald.RandomQuery`
or :class:`~skbatchbald.TypiClustQuery`, which splits the pool into k-means
clusters and labels the most typical point of each (Hacohen, Dekel & Weinshall,
ICML 2022). Once the learner has been taught that batch, a posterior strategy
takes over.
"""

# %%
import torch

torch.set_num_threads(1)  # tiny networks: one thread is the fastest

# %%
# What happens without a first batch
# ----------------------------------
# A learner built without ``X_training`` holds an unfitted network. Asking a
# posterior strategy for a batch fails: there is nothing to sample from yet.
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skbatchbald import (
    ActiveLearner,
    BatchBALDQuery,
    MCDropoutClassifier,
    RandomQuery,
    TypiClustQuery,
)
from skbatchbald.nn import BayesianMLP

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_pool, X_test, y_pool, y_test = train_test_split(
    X, y, test_size=500, stratify=y, random_state=0
)


def make_model(seed=0):
    return MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        module__hidden_sizes=(128,),
        classes=np.arange(10),  # the first batch may miss some classes
        lr=3e-3,
        max_epochs=100,
        batch_size=64,
        iterator_train__shuffle=True,
        random_state=seed,
        verbose=0,
    )


learner = ActiveLearner(make_model(), query_strategy=BatchBALDQuery(random_state=0))
try:
    learner.query(X_pool, n_instances=10)
except Exception as error:  # what the user sees
    print(f"{type(error).__name__}: {error}")

# %%
# The first batch without a model
# -------------------------------
# Both strategies below never call the model, so they work on the unfitted
# learner. A good first batch shows the model as many classes as it can: we
# count the classes among the 10 picks, for 10 seeds. TypiClust here measures
# distances on the raw pixels; pass ``embedding=`` (a transformer, a fitted
# Pipeline front, or any function returning features) where raw distances mean
# little.
import pandas as pd

SEEDS = range(10)
FIRST = {"random": RandomQuery, "TypiClust": TypiClustQuery}


def first_batch(name, seed):
    learner = ActiveLearner(
        make_model(seed), query_strategy=FIRST[name](random_state=seed)
    )
    idx, rows = learner.query(X_pool, n_instances=10)
    return learner, idx, rows


batches = {(name, s): first_batch(name, s) for name in FIRST for s in SEEDS}
coverage = pd.DataFrame(
    {
        name: [len(np.unique(y_pool[batches[name, s][1]])) for s in SEEDS]
        for name in FIRST
    },
    index=pd.Index(SEEDS, name="seed"),
)
print("classes among the first 10 labels:")
print(coverage.T.to_string())
print(coverage.agg(["mean", "min", "max"]).round(2).to_string())

# %%
# The picks of seed 0, each titled with its label:
import matplotlib.pyplot as plt

fig, axes = plt.subplots(2, 10, figsize=(11, 2.8))
for row, name in zip(axes, FIRST, strict=True):
    idx = batches[name, 0][1]
    for ax, i in zip(row, idx, strict=True):
        ax.imshow(X_pool[i].reshape(8, 8), cmap="gray_r")
        ax.set_title(str(y_pool[i]), fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    n = len(np.unique(y_pool[idx]))
    row[0].set_ylabel(f"{name}\n{n} classes", rotation=0, ha="right", va="center")
fig.suptitle("First batch of 10, chosen without a model (seed 0)")
fig.tight_layout()
plt.show()

# %%
# Teach, then let BatchBALD take over
# -----------------------------------
# ``teach`` fits the network on the first batch; from then on the learner has a
# model and the strategy can be swapped for BatchBALD. The test accuracy of the
# network fitted on the first 10 labels, and after two BatchBALD rounds of 10:


def continue_with_batchbald(name, seed, n_rounds=2):
    learner, idx, rows = batches[name, seed]
    learner.teach(rows, y_pool[idx])
    accuracy = [learner.score(X_test, y_test)]
    learner.query_strategy = BatchBALDQuery(random_state=np.random.default_rng(seed))
    pool = np.delete(np.arange(len(y_pool)), idx)
    for _ in range(n_rounds):
        picked, rows = learner.query(X_pool[pool], n_instances=10)
        learner.teach(rows, y_pool[pool[picked]])
        pool = np.delete(pool, picked)
        accuracy.append(learner.score(X_test, y_test))
    return accuracy


accuracy = pd.DataFrame(
    [[name, s, *continue_with_batchbald(name, s)] for name in FIRST for s in SEEDS[:5]],
    columns=["first batch", "seed", "10 labels", "20 labels", "30 labels"],
)
print("test accuracy, mean over 5 seeds (BatchBALD after the first batch):")
print(accuracy.groupby("first batch").mean().drop(columns="seed").round(3))
wins = accuracy.pivot(index="seed", columns="first batch", values="10 labels").pipe(
    lambda a: int(np.sum(a["TypiClust"] > a["random"]))
)
print(f"TypiClust's first batch gives the better first model on {wins} of 5 seeds")
