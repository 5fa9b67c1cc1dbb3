"""
BatchBALD vs BALD on repeated digits
====================================

Repeated MNIST (Kirsch et al. 2019, Section 5.1) holds every training image
three times, each copy with a little Gaussian noise. A copy tells the model
little that its twin has not told it already, yet on its own it scores the
same. Top-b BALD scores each point alone, so when one image is informative its
copies are too, and they end up in the same batch. BatchBALD scores the batch
jointly: once one copy is in the batch, the others add much less information.

Here both strategies pick a batch of 10 from the same posterior samples of an
MC-dropout network, on :func:`~skbatchbald.datasets.load_repeated_digits`
(scikit-learn's 8x8 digits, each repeated three times with N(0, 0.1²) noise).
Its ``source`` field says which rows are copies of the same image.
"""

# %%
import torch

torch.set_num_threads(1)

# %%
# The pool, and a model trained on 100 labels
# -------------------------------------------
# Two hidden layers, 300 epochs: a network sure enough of its predictions under
# each dropout mask that a second copy of an image adds little. (With a softer
# network, one hidden layer trained for 150 epochs, a second copy still carries
# some information of its own, and BatchBALD took one in some of our trial
# runs; BALD took more.)
import numpy as np

from skbatchbald import MCDropoutClassifier
from skbatchbald.datasets import load_repeated_digits
from skbatchbald.nn import BayesianMLP

digits = load_repeated_digits(random_state=0)
X, y, source = digits.data, digits.target, digits.source
print(f"{len(X)} images: {source.max() + 1} originals, 3 noisy copies of each")


def fit_model(seed):
    """Label 10 random images per class; fit an MC-dropout MLP on them."""
    rng = np.random.default_rng(seed)
    labelled = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), 10, replace=False) for c in range(10)]
    )
    # Copies of the labelled images stay out of the pool.
    pool = np.flatnonzero(~np.isin(source, source[labelled]))
    net = MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        module__hidden_sizes=(256, 256),
        max_epochs=300,  # sharper than the default (200 epochs of 128)
        batch_size=32,
        random_state=seed,
        verbose=0,
    )
    return net.fit(X[labelled], y[labelled]), pool


# %%
# One set of posterior samples, two strategies
# --------------------------------------------
# ``log_probs`` has shape (pool size, K, classes): K = 20 consistent MC-dropout
# samples. Both acquisition functions read the same array.
from skbatchbald.acquisition import bald, batchbald


def pick_batches(net, pool):
    log_probs = net.predict_log_proba_samples(X[pool], n_mc_samples=20, random_state=0)
    return log_probs, {
        "BALD": bald(log_probs, 10)[0],
        "BatchBALD": batchbald(log_probs, 10, random_state=0)[0],
    }


net, pool = fit_model(seed=0)
log_probs, batches = pick_batches(net, pool)
print("posterior samples:", log_probs.shape)
for name, picked in batches.items():
    origins = source[pool[picked]]
    print(
        f"{name:>9}: {len(np.unique(origins))} distinct originals: {origins.tolist()}"
    )

# %%
# The picked images
# -----------------
# Each picture is titled with the index of the original digit it copies;
# pictures framed in red share their original with another pick of the same
# batch, so one of them is a wasted label.
import matplotlib.pyplot as plt

fig, axes = plt.subplots(2, 10, figsize=(11, 3.2))
for row, (name, picked) in zip(axes, batches.items(), strict=True):
    origins = source[pool[picked]]
    values, counts = np.unique(origins, return_counts=True)
    repeated = set(values[counts > 1].tolist())
    for ax, i, origin in zip(row, picked, origins, strict=True):
        ax.imshow(digits.images[pool[i]], cmap="gray_r")
        ax.set_title(f"#{origin}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        duplicate = origin in repeated
        for spine in ax.spines.values():
            spine.set_edgecolor("tab:red" if duplicate else "0.7")
            spine.set_linewidth(3 if duplicate else 1)
    row[0].set_ylabel(
        f"{name}\n{len(values)} distinct", rotation=0, ha="right", va="center"
    )
fig.suptitle("A batch of 10 from the same posterior samples (red: repeated image)")
fig.tight_layout()
plt.show()

# %%
# Not a lucky draw: five models
# -----------------------------
# The same comparison for models trained on five different random label sets
# (model 0 is the one above). The copies are not exact duplicates, and a
# network trained on 100 labels is still unsure of some digits even under a
# fixed dropout mask, so a second copy can carry some information of its own.
distinct = {name: [len(np.unique(source[pool[p]]))] for name, p in batches.items()}
seeds = range(5)
for seed in seeds[1:]:
    net, pool = fit_model(seed)
    _, batches = pick_batches(net, pool)
    for name, picked in batches.items():
        distinct[name].append(len(np.unique(source[pool[picked]])))
print(distinct)

fig, ax = plt.subplots(figsize=(6, 3.5))
width = 0.38
for offset, (name, counts) in zip(
    (-width / 2, width / 2), distinct.items(), strict=True
):
    ax.bar(np.array(seeds) + offset, counts, width, label=name)
ax.axhline(10, color="0.5", linestyle="--", linewidth=1)
ax.set_xticks(list(seeds), [f"model {s}" for s in seeds])
ax.set_ylabel("distinct originals in 10 picks")
ax.set_ylim(0, 12.5)
ax.legend(loc="upper left", ncols=2)
fig.tight_layout()
plt.show()
