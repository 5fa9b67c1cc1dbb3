"""
modAL's Keras deep Bayesian active learning example, ported
===========================================================

modAL's ``examples/deep_bayesian_active_learning.py`` (after Gal, Islam &
Ghahramani 2017) trains a Keras CNN that ends in a softmax, on one-hot labels,
starting from two labelled images per class. Its query strategy draws T = 100
MC-dropout predictions on a random subset of 2000 pool images and picks the
highest predictive entropy; ``uniform`` is the random baseline. Each round
teaches 10 images with ``epochs=50, batch_size=128, verbose=0``.

The same loop in PyTorch with skbatchbald, on scikit-learn's 8x8 digits:

- the Keras ``Sequential`` becomes a torch module with the same layers (3x3
  kernels instead of 4x4, so that 8x8 images keep a 2x2 map) and the same
  final softmax;
- Keras's ``categorical_crossentropy`` on softmax outputs is skorch's
  ``criterion=torch.nn.NLLLoss`` on softmax outputs (skorch takes their log);
- one-hot labels become class labels: ``y`` as it comes from the dataset;
- ``batch_size`` and ``verbose`` move from ``teach`` to the classifier:
  ``batch_size=128, verbose=0``. ``epochs=50`` does not carry over: with at
  most 128 labels, all in one batch, it is 50 optimizer steps, too few for this
  network (below); the port keeps the classifier's default training;
- the hand-written ``max_entropy(learner, X, n_instances, T=100)`` becomes
  ``MaxEntropyQuery(n_mc_samples=100, pool_subsample=...)`` and ``uniform``
  becomes :class:`~skbatchbald.RandomQuery`.
"""

# %%
# Tiny networks train faster on one thread than on several busy ones.
import torch

torch.set_num_threads(1)

# %%
# The network: modAL's Keras model in torch, softmax output kept
# --------------------------------------------------------------
from torch import nn


class KerasModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1, 32, 3),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Dropout(0.25),
            nn.Flatten(),
            nn.Linear(32 * 2 * 2, 128),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(128, 10),
            nn.Softmax(dim=1),
        )

    def forward(self, x):
        return self.layers(x)


# %%
# Data: two labelled images per class, the rest is the pool
# ---------------------------------------------------------
import numpy as np
from sklearn.datasets import load_digits

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32).reshape(-1, 1, 8, 8)  # Keras: (N, 8, 8, 1)
X_train, X_test, y_train, y_test = X[:1300], X[1300:], y[:1300], y[1300:]

rng = np.random.default_rng(0)
initial_idx = np.concatenate(
    [rng.choice(np.flatnonzero(y_train == i), size=2, replace=False) for i in range(10)]
)
X_initial, y_initial = X_train[initial_idx], y_train[initial_idx]
X_pool_0 = np.delete(X_train, initial_idx, axis=0)
y_pool_0 = np.delete(y_train, initial_idx, axis=0)

# %%
# The classifier: Keras's fit arguments are skorch parameters
# -----------------------------------------------------------
from skbatchbald import MCDropoutClassifier


def create_classifier():
    return MCDropoutClassifier(
        KerasModel,
        criterion=nn.NLLLoss,  # softmax outputs: skorch logs them, as Keras does
        batch_size=128,
        verbose=0,
        random_state=0,
    )


# %%
# The query strategies
# --------------------
# modAL's ``max_entropy`` scores a random subset of 2000 pool images with 100
# MC-dropout passes; here the pool has 1280 images, so the subset is 500.
from skbatchbald import ActiveLearner, MaxEntropyQuery, RandomQuery

strategies = {
    "max entropy": MaxEntropyQuery(
        n_mc_samples=100, pool_subsample=500, random_state=0
    ),
    "uniform": RandomQuery(random_state=0),
}

# %%
# The loop, as modAL wrote it
# ---------------------------
n_queries = 6


def run(query_strategy):
    X_pool, y_pool = X_pool_0, y_pool_0
    learner = ActiveLearner(
        estimator=create_classifier(),
        X_training=X_initial,
        y_training=y_initial,
        query_strategy=query_strategy,
    )
    perf_hist = [learner.score(X_test, y_test)]
    for _ in range(n_queries):
        query_idx, _ = learner.query(X_pool, n_instances=10)
        learner.teach(X_pool[query_idx], y_pool[query_idx])
        X_pool = np.delete(X_pool, query_idx, axis=0)
        y_pool = np.delete(y_pool, query_idx, axis=0)
        perf_hist.append(learner.score(X_test, y_test))
    return perf_hist


history = {name: run(strategy) for name, strategy in strategies.items()}
for name, perf_hist in history.items():
    print(f"{name:>11}: " + ", ".join(f"{a:.3f}" for a in perf_hist))

# %%
# With Keras's ``epochs=50`` instead (``max_epochs=50`` above), the same run
# gave, after 20, 30, ... 120 labels (ten rounds), test accuracies of 0.70,
# 0.41, 0.33, ... 0.68 for max entropy and 0.70, 0.27, 0.37, ... 0.73 for
# uniform (and 0.70, 0.26, 0.35, ... 0.28 for BatchBALD): a network stopped
# after 50 steps is still in the middle of its training, its accuracy varies
# from fit to fit, and each strategy learns from those noisy models. With 300
# epochs (the default while this was measured) and ten rounds they reached
# 0.94, 0.90 (and 0.95).

# %%
# Test accuracy per round
# -----------------------
import matplotlib.pyplot as plt

n_labels = 20 + 10 * np.arange(n_queries + 1)
fig, ax = plt.subplots(figsize=(6, 4))
for (name, perf_hist), marker in zip(history.items(), "os", strict=True):
    ax.plot(n_labels, perf_hist, marker=marker, label=name)
ax.set_xlabel("labelled images")
ax.set_ylabel(f"test accuracy ({len(y_test)} images)")
ax.set_title("modAL's Keras example on digits (one seed)")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
plt.show()
