"""
A first active-learning loop
============================

Start with 20 labelled digits (two per class), then repeat: ask the query
strategy which 10 pool images to label next, "label" them (here the true labels
stand in for a human), and refit. The model is an MC-dropout network inside a
scikit-learn Pipeline; :class:`~skbatchbald.BatchBALDQuery` picks the batches
and :class:`~skbatchbald.RandomQuery` is the baseline.

This is one run with one seed on scikit-learn's 8x8 digits: it shows how the
pieces fit together, not which strategy is better. The :doc:`/benchmarks` and
:doc:`/reproducing` pages hold the measured comparisons.
"""

# %%
# Tiny networks train faster on one thread than on several busy ones.
import torch

torch.set_num_threads(1)

# %%
# Data: a labelled seed set, an unlabelled pool and a held-out test set
# ---------------------------------------------------------------------
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X_rest, X_test, y_rest, y_test = train_test_split(
    X, y, test_size=500, stratify=y, random_state=0
)
initial = np.concatenate([np.flatnonzero(y_rest == c)[:2] for c in range(10)])
print(f"{len(initial)} initial labels, {len(y_rest) - len(initial)} in the pool")

# %%
# The model: scaler + MC-dropout MLP
# ----------------------------------
# :class:`~skbatchbald.MCDropoutClassifier` is a skorch classifier; its
# ``predict_log_proba_samples`` gives K = ``n_mc_samples`` posterior samples
# drawn with consistent dropout masks, which is what the strategies read.
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald import ActiveLearner, BatchBALDQuery, MCDropoutClassifier, RandomQuery
from skbatchbald.nn import BayesianMLP


def make_model():
    net = MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        module__hidden_sizes=(128,),
        n_mc_samples=20,
        random_state=0,
        verbose=0,
    )
    return make_pipeline(StandardScaler(), net)


# %%
# The loop: query, label, teach
# -----------------------------
# :class:`skbatchbald.ActiveLearner` is modAL's learner, working on current
# scikit-learn. ``query`` returns the picked pool indices and rows; ``teach``
# adds them to the training set and refits.
N_ROUNDS, BATCH = 6, 10


def run(strategy):
    pool = np.setdiff1d(np.arange(len(y_rest)), initial)
    learner = ActiveLearner(
        make_model(),
        query_strategy=strategy,
        X_training=X_rest[initial],
        y_training=y_rest[initial],
    )
    n_labels, accuracy = [len(initial)], [learner.score(X_test, y_test)]
    for _ in range(N_ROUNDS):
        idx, rows = learner.query(X_rest[pool], n_instances=BATCH)
        learner.teach(rows, y_rest[pool[idx]])
        pool = np.delete(pool, idx)
        n_labels.append(len(learner.y_training))
        accuracy.append(learner.score(X_test, y_test))
    return n_labels, accuracy


curves = {
    "BatchBALD": run(BatchBALDQuery(random_state=0)),
    "random": run(RandomQuery(random_state=0)),
}
for name, (_, accuracy) in curves.items():
    print(f"{name:>9}: " + ", ".join(f"{a:.3f}" for a in accuracy))

# %%
# Test accuracy against the number of labels
# -------------------------------------------
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 4))
for (name, (n_labels, accuracy)), marker in zip(curves.items(), "os", strict=True):
    ax.plot(n_labels, accuracy, marker=marker, label=name)
ax.set_xlabel("labelled images")
ax.set_ylabel("test accuracy (500 images)")
ax.set_title("Active learning on digits, batches of 10 (one seed)")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
plt.show()
