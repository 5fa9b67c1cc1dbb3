"""
modAL's PyTorch integration example, ported
===========================================

modAL's ``examples/pytorch_integration.py`` wraps a small convolutional network
in skorch's ``NeuralNetClassifier``, starts a modAL ``ActiveLearner`` from a
random labelled set and, ten times, queries 100 MNIST images with the default
query strategy (uncertainty sampling) and teaches them with ``only_new=True``.

This is the same loop on scikit-learn's 8x8 digits (no download), scaled down:
50 random labels to start, then six rounds of 25. Three lines change:

- ``from modAL.models import ActiveLearner`` becomes
  ``from skbatchbald import ActiveLearner`` (modAL's fails on scikit-learn 1.8);
- ``NeuralNetClassifier`` becomes :class:`~skbatchbald.MCDropoutClassifier`,
  a subclass that also draws posterior samples from the dropout layers;
- ``warm_start=True`` is added: ``teach(..., only_new=True)`` fits on the new
  images only, so the network must keep its weights between rounds. Without it
  skorch starts every ``fit`` from fresh weights, and the model after the last
  round would have seen the last 25 images only; the learner refuses that
  (below).

The network keeps modAL's layers; only the size of the flattened feature map
follows the smaller images.
"""

# %%
# Tiny networks train faster on one thread than on several busy ones.
import torch

torch.set_num_threads(1)

# %%
# The network, as in modAL's example
# ----------------------------------
# Two convolutions, max pooling and dropout, then a dense head. It returns
# logits, which is what ``CrossEntropyLoss`` expects.
from torch import nn


class Torch_Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(1, 32, 3),
            nn.ReLU(),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Dropout(0.25),
        )
        self.fcs = nn.Sequential(
            nn.Linear(2 * 2 * 64, 128),  # 8x8 inputs: 2x2 maps (MNIST: 12x12)
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        out = self.convs(x)
        out = out.view(-1, 2 * 2 * 64)
        return self.fcs(out)


# %%
# The classifier: modAL's settings, on an MC-dropout subclass
# -----------------------------------------------------------
from skbatchbald import MCDropoutClassifier

classifier = MCDropoutClassifier(
    Torch_Model,
    criterion=nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam,
    train_split=None,
    warm_start=True,  # the one addition: only_new=True continues training
    max_epochs=30,  # modAL: skorch's 10; here warm starts add up
    verbose=0,
    device="cpu",
    random_state=0,
)

# %%
# Data: images of shape (1, 8, 8), a random labelled set and a pool
# -----------------------------------------------------------------
import numpy as np
from sklearn.datasets import load_digits

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32).reshape(-1, 1, 8, 8)
X_train, X_test, y_train, y_test = X[:1300], X[1300:], y[:1300], y[1300:]

rng = np.random.default_rng(0)
n_initial = 50
initial_idx = rng.choice(len(X_train), size=n_initial, replace=False)
X_initial, y_initial = X_train[initial_idx], y_train[initial_idx]
X_pool_0 = np.delete(X_train, initial_idx, axis=0)
y_pool_0 = np.delete(y_train, initial_idx, axis=0)

# %%
# The active-learning loop, as modAL wrote it
# -------------------------------------------
# ``run(only_new=True)`` is modAL's loop line for line. ``run(only_new=False)``
# is the same loop with skbatchbald's (and modAL's) default ``teach``: the new
# images join the training set and the network is refitted on all of them.
from sklearn.base import clone

from skbatchbald import ActiveLearner


def run(only_new):
    X_pool, y_pool = X_pool_0, y_pool_0
    learner = ActiveLearner(
        estimator=clone(classifier),
        X_training=X_initial,
        y_training=y_initial,
    )
    accuracy = [learner.score(X_test, y_test)]
    n_queries = 6
    for _ in range(n_queries):
        query_idx, _ = learner.query(X_pool, n_instances=25)
        learner.teach(X_pool[query_idx], y_pool[query_idx], only_new=only_new)
        X_pool = np.delete(X_pool, query_idx, axis=0)
        y_pool = np.delete(y_pool, query_idx, axis=0)
        accuracy.append(learner.score(X_test, y_test))
    return learner, accuracy


learner, accuracy_only_new = run(only_new=True)
_, accuracy_all = run(only_new=False)
n_seen = n_initial + 25 * np.arange(len(accuracy_all))
print("labels seen   only_new=True   teach all")
for n, a, b in zip(n_seen, accuracy_only_new, accuracy_all, strict=True):
    print(f"{n:>11}   {a:>13.3f}   {b:>9.3f}")

# %%
# ``only_new=True`` does not add the new images to ``learner.X_training``, as
# in modAL: it still holds the initial set only. Each round's ``fit`` trained
# ``max_epochs`` epochs on the 25 new images alone, starting from the weights
# of the round before, and the accuracy shows the network forgetting what the
# earlier images taught it. Teaching all labels, the default, avoids that.
print("X_training holds", len(learner.X_training), "images")
print("epochs trained in all:", len(learner.estimator.history))

# %%
# modAL's example as written, without ``warm_start=True``, would train the
# last network on the last 25 images alone. The learner refuses and says why:
plain = ActiveLearner(
    estimator=clone(classifier).set_params(warm_start=False),
    X_training=X_initial,
    y_training=y_initial,
)
try:
    plain.teach(X_pool_0[:25], y_pool_0[:25], only_new=True)
except ValueError as exc:
    print(exc)

# %%
# Test accuracy per round
# -----------------------
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(n_seen, accuracy_only_new, marker="o", label="teach(only_new=True)")
ax.plot(n_seen, accuracy_all, marker="s", label="teach (all labels)")
ax.legend()
ax.set_xlabel("labelled images seen")
ax.set_ylabel(f"test accuracy ({len(y_test)} images)")
ax.set_title("modAL's PyTorch example on digits (uncertainty sampling)")
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()
