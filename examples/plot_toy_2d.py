"""
Acquisition functions on a 2-D toy problem
==========================================

Two interleaved half-moons, 16 labelled points, and an MC-dropout network.
With two input dimensions we can draw everything: the decision boundary, the
uncertainty maps the acquisition functions are built from, and the batch of 10
each strategy picks from the pool.

Two maps matter. The *predictive entropy* H[mean_k p_k] is high wherever the
averaged prediction is unsure, including where the classes genuinely overlap.
The *mutual information* (the BALD score) H[mean_k p_k] − mean_k H[p_k] is
high only where the posterior samples disagree: where a label would teach the
model something.
"""

# %%
import torch

torch.set_num_threads(1)

# %%
# Data and model
# --------------
import numpy as np
from sklearn.datasets import make_moons

from skbatchbald import MCDropoutClassifier
from skbatchbald.nn import BayesianMLP

X, y = make_moons(n_samples=600, noise=0.2, random_state=0)
rng = np.random.default_rng(0)
labelled = np.concatenate([rng.choice(np.flatnonzero(y == c), 8) for c in (0, 1)])
pool = np.setdiff1d(np.arange(len(y)), labelled)

net = MCDropoutClassifier(
    BayesianMLP,
    module__n_features=2,
    module__n_classes=2,
    module__hidden_sizes=(64, 64),
    max_epochs=300,  # sharper than the default 200: BALD's batch then clusters
    random_state=0,
    verbose=0,
).fit(X[labelled], y[labelled])

# %%
# Uncertainty maps
# ----------------
# Posterior samples on a grid: ``log_probs`` of shape (grid points, K, 2).
from skbatchbald.acquisition import marginal_entropy, mutual_information

K = 30
xx, yy = np.meshgrid(np.linspace(-1.6, 2.6, 120), np.linspace(-1.1, 1.6, 80))
grid = np.column_stack([xx.ravel(), yy.ravel()])
grid_log_probs = net.predict_log_proba_samples(grid, n_mc_samples=K, random_state=0)
mean_proba = np.exp(grid_log_probs).mean(axis=1)[:, 1].reshape(xx.shape)
maps = {
    "predictive entropy H[mean p]": marginal_entropy(grid_log_probs),
    "mutual information (BALD score)": mutual_information(grid_log_probs),
}

import matplotlib.pyplot as plt


def draw_background(ax, values, cmap):
    ax.contourf(xx, yy, values.reshape(xx.shape), levels=12, cmap=cmap)
    ax.contour(xx, yy, mean_proba, levels=[0.5], colors="k", linewidths=1.5)
    ax.scatter(*X[pool].T, s=3, c="0.4", alpha=0.5)
    ax.scatter(
        *X[labelled].T, c=y[labelled], cmap="coolwarm", s=60, edgecolors="k", zorder=3
    )
    ax.set_xticks([])
    ax.set_yticks([])


fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for ax, (title, values) in zip(axes, maps.items(), strict=True):
    draw_background(ax, values, "Greens")
    ax.set_title(title)
fig.suptitle("Black line: decision boundary; big dots: the 16 labelled points")
fig.tight_layout()
plt.show()

# %%
# The batch each strategy picks
# -----------------------------
# All six strategies read the same posterior samples of the pool. Top-b
# strategies (BALD, max entropy, variation ratios, mean STD) take the 10 best
# single points, which tend to sit next to each other; BatchBALD scores the
# batch jointly, so once a region is represented in the batch, points from
# other regions gain more; PowerBALD samples with probability proportional to
# the BALD score.
from skbatchbald.acquisition import (
    bald,
    batchbald,
    max_entropy,
    mean_std,
    power_bald,
    variation_ratios,
)

# sphinx_gallery_thumbnail_number = 2
log_probs = net.predict_log_proba_samples(X[pool], n_mc_samples=K, random_state=0)
strategies = {
    "BALD": bald,
    "BatchBALD": batchbald,
    "PowerBALD": power_bald,
    "max entropy": max_entropy,
    "variation ratios": variation_ratios,
    "mean STD": mean_std,
}
fig, axes = plt.subplots(2, 3, figsize=(12, 6.4))
for ax, (name, acquire) in zip(axes.ravel(), strategies.items(), strict=True):
    picked, _ = acquire(log_probs, 10, random_state=0)
    draw_background(ax, maps["mutual information (BALD score)"], "Greens")
    ax.scatter(*X[pool[picked]].T, marker="*", s=220, c="gold", edgecolors="k")
    ax.set_title(name)
fig.suptitle("Batches of 10 (stars) over the mutual-information map")
fig.tight_layout()
plt.show()
