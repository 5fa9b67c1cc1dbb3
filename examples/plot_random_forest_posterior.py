"""
A random forest as the posterior
================================

BatchBALD needs K samples from a posterior over models, each giving class
probabilities for every pool point. The K dropout masks of an MC-dropout
network are one way to get them; the K members of a fitted ensemble are
another. :func:`~skbatchbald.sampling.predict_log_proba_samples` treats each
tree of a :class:`~sklearn.ensemble.RandomForestClassifier` as one posterior
sample, so every strategy works with a forest unchanged, no torch involved.

Trees give hard probabilities (often exactly 0 or 1); the acquisition
functions accept the resulting ``-inf`` log-probabilities. Hard votes have a
consequence for BatchBALD, shown below: a few labels are enough to tell the
trees apart, so batch scores hit their ceiling of log K nats early.
"""

# %%
# The posterior samples of a forest
# ---------------------------------
import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from skbatchbald.sampling import predict_log_proba_samples

X, y = load_digits(return_X_y=True)
X_rest, X_test, y_rest, y_test = train_test_split(
    X, y, test_size=500, stratify=y, random_state=0
)
initial = np.concatenate([np.flatnonzero(y_rest == c)[:2] for c in range(10)])

forest = RandomForestClassifier(n_estimators=50, random_state=0)
forest.fit(X_rest[initial], y_rest[initial])
log_probs = predict_log_proba_samples(forest, X_rest)
print("posterior samples (N, K, C):", log_probs.shape)

# %%
# Each tree votes for one class on most images; where they disagree the
# mutual information (the BALD score) is high. The four pool images the trees
# disagree on most, and the fraction of trees voting for each class:
import matplotlib.pyplot as plt

from skbatchbald.acquisition import mutual_information

pool = np.setdiff1d(np.arange(len(y_rest)), initial)
scores = mutual_information(log_probs[pool])
most = pool[np.argsort(scores)[::-1][:4]]
scores = mutual_information(log_probs)
fig, axes = plt.subplots(2, 4, figsize=(10, 4.2), height_ratios=[1, 1.1])
for top, bottom, i in zip(axes[0], axes[1], most, strict=True):
    top.imshow(X_rest[i].reshape(8, 8), cmap="gray_r")
    top.set_title(f"label {y_rest[i]}, BALD {scores[i]:.2f}", fontsize=9)
    top.axis("off")
    votes = np.exp(log_probs[i]).argmax(axis=1)  # each tree's class
    bottom.bar(range(10), np.bincount(votes, minlength=10) / len(votes))
    bottom.set_xticks(range(10))
    bottom.set_ylim(0, 1)
axes[1, 0].set_ylabel("fraction of trees")
fig.suptitle("Where 50 trees disagree")
fig.tight_layout()
plt.show()

# %%
# How many points can K trees tell apart?
# ---------------------------------------
# The joint mutual information of a batch is at most log K: it is information
# about which of the K posterior samples is right. A tree that votes for one
# class gives each point up to log 10 nats about that, so a handful of points
# exhausts it. Past that ceiling no pick adds information the K trees can
# measure: :func:`~skbatchbald.acquisition.batchbald` takes the remaining
# picks in the order of their BALD scores (with ``on_saturation="greedy"``,
# greedy steps decided by the estimator's noise) and raises a
# :class:`~skbatchbald.acquisition.SaturationWarning`.
import warnings

from skbatchbald.acquisition import SaturationWarning, batchbald

fig, ax = plt.subplots(figsize=(6, 4))
for n_trees, color in zip((20, 50, 200), ("C0", "C1", "C2"), strict=True):
    trees = RandomForestClassifier(n_estimators=n_trees, random_state=0)
    trees.fit(X_rest[initial], y_rest[initial])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SaturationWarning)
        _, cumulative = batchbald(
            predict_log_proba_samples(trees, X_rest), 10, random_state=0
        )
    print(f"K={n_trees}: {len(caught)} SaturationWarning; scores {cumulative.round(2)}")
    ax.plot(range(1, 11), cumulative, marker="o", color=color, label=f"K={n_trees}")
    ax.axhline(np.log(n_trees), color=color, linestyle="--", linewidth=1)
ax.set_xlabel("picks in the batch")
ax.set_ylabel("joint mutual information (nats)")
ax.set_title("BatchBALD scores of a forest; dashed: log K")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()

# %%
# An active-learning loop with a forest
# -------------------------------------
# Batches of 10 with 200 trees, the same 20 initial labels for every strategy,
# ten rounds. BatchBALD saturates in every round, so only its first few picks
# per batch are informed choices; PowerBALD (sampling in proportion to the
# BALD score) is the cheap alternative that does not rely on a joint score.
# One forest seed: the curves show the mechanics, they do not rank strategies.
from skbatchbald import (
    ActiveLearner,
    BALDQuery,
    BatchBALDQuery,
    PowerBALDQuery,
    RandomQuery,
)


def run(strategy, n_rounds=10, batch=10):
    pool = np.setdiff1d(np.arange(len(y_rest)), initial)
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=200, random_state=0),
        query_strategy=strategy,
        X_training=X_rest[initial],
        y_training=y_rest[initial],
    )
    accuracy = [learner.score(X_test, y_test)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SaturationWarning)
        for _ in range(n_rounds):
            idx, rows = learner.query(X_rest[pool], n_instances=batch)
            learner.teach(rows, y_rest[pool[idx]])
            pool = np.delete(pool, idx)
            accuracy.append(learner.score(X_test, y_test))
    saturated = sum(issubclass(w.category, SaturationWarning) for w in caught)
    return len(initial) + batch * np.arange(n_rounds + 1), accuracy, saturated


curves = {
    "BatchBALD": run(BatchBALDQuery(random_state=0)),
    "BALD": run(BALDQuery(random_state=0)),
    "PowerBALD": run(PowerBALDQuery(random_state=0)),
    "random": run(RandomQuery(random_state=0)),
}
fig, ax = plt.subplots(figsize=(6, 4))
for (name, (n_labels, accuracy, saturated)), marker in zip(
    curves.items(), "os^D", strict=True
):
    ax.plot(n_labels, accuracy, marker=marker, label=name)
    warned = f"; SaturationWarning in {saturated} of 10 rounds" if saturated else ""
    print(f"{name:>9}: accuracy {accuracy[0]:.3f} -> {accuracy[-1]:.3f}{warned}")
ax.set_xlabel("labelled images")
ax.set_ylabel("test accuracy (500 images)")
ax.set_title("Random forest (200 trees), batches of 10, one seed")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
plt.show()
