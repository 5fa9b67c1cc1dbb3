"""
modAL's MC-dropout BALD example, ported
=======================================

modAL's ``examples/pytorch_mc_dropout.py`` trains a skorch network inside a
``DeepActiveLearner`` and queries with ``mc_dropout_bald``: ten dropout forward
passes (``num_cycles=10``) with the dropout layers chosen by
``dropout_layer_indexes``. Each round it appends the queried images to
``X_teach`` and teaches the learner everything taught so far; the
``DeepActiveLearner`` keeps the network's weights between rounds (warm start).

skbatchbald has one learner, :class:`~skbatchbald.ActiveLearner`, which keeps
the training set itself, and query strategies that are objects holding their
settings. The port, on scikit-learn's 8x8 digits:

- ``DeepActiveLearner(estimator=NeuralNetClassifier(...))`` becomes
  ``ActiveLearner(estimator=MCDropoutClassifier(..., warm_start=True))``;
- ``query_strategy=mc_dropout_bald`` becomes ``BALDQuery()``, and
  ``num_cycles=10`` its ``n_mc_samples=10``;
- ``dropout_layer_indexes=[7, 11]`` goes: every dropout layer is sampled
  (these two are all of them);
- ``X_teach = torch.cat(...)`` then ``teach(X_teach, y_teach)`` becomes
  ``teach(X_new, y_new)``: the learner keeps the earlier labels itself.

The posterior samples differ in one way: modAL switches the dropout layers to
training mode, so every image gets its own masks; skbatchbald's sample k uses
one set of masks for every image (consistent MC dropout), which BatchBALD needs
and BALD does not mind. The last section runs :class:`~skbatchbald.BatchBALDQuery`
on the same loop.
"""

# %%
# Tiny networks train faster on one thread than on several busy ones.
import torch

torch.set_num_threads(1)

# %%
# The network, as in modAL's example
# ----------------------------------
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
# modAL's ``dropout_layer_indexes=[7, 11]`` index ``list(model.modules())``;
# both are the model's dropout layers. skbatchbald samples every dropout layer;
# :func:`~skbatchbald.nn.dropout_layers` lists them by name.
from skbatchbald.nn import dropout_layers

modules = list(Torch_Model().modules())
print("modAL's indexes 7 and 11:", [type(modules[i]).__name__ for i in (7, 11)])
print("sampled by skbatchbald:", [name for name, _ in dropout_layers(Torch_Model())])

# %%
# Data: images of shape (1, 8, 8), a random labelled set and a pool
# -----------------------------------------------------------------
import numpy as np
from sklearn.datasets import load_digits

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32).reshape(-1, 1, 8, 8)
X_train, X_test, y_train, y_test = X[:1300], X[1300:], y[:1300], y[1300:]

rng = np.random.default_rng(0)
initial_idx = rng.choice(len(X_train), size=50, replace=False)
X_initial, y_initial = X_train[initial_idx], y_train[initial_idx]
X_pool_0 = np.delete(X_train, initial_idx, axis=0)
y_pool_0 = np.delete(y_train, initial_idx, axis=0)

# %%
# The learner and the loop
# ------------------------
# modAL's ``learner.teach(X_initial, y_initial)`` after an empty learner works
# the same here. ``warm_start=True`` keeps the weights between rounds, as the
# ``DeepActiveLearner`` does.
from sklearn.base import clone

from skbatchbald import ActiveLearner, BALDQuery, BatchBALDQuery, MCDropoutClassifier

classifier = MCDropoutClassifier(
    Torch_Model,
    criterion=torch.nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam,
    train_split=None,
    warm_start=True,
    max_epochs=30,  # modAL: skorch's 10; here warm starts add up
    verbose=0,
    device="cpu",
    random_state=0,
)


def run(query_strategy, n_queries=6, n_instances=25):
    X_pool, y_pool = X_pool_0, y_pool_0
    learner = ActiveLearner(estimator=clone(classifier), query_strategy=query_strategy)
    learner.teach(X_initial, y_initial)
    accuracy = [learner.score(X_test, y_test)]
    for _ in range(n_queries):
        query_idx, _ = learner.query(X_pool, n_instances=n_instances)
        # modAL: X_teach = torch.cat((X_teach, X_pool[query_idx])), then
        # learner.teach(X_teach, y_teach). ActiveLearner appends by itself.
        learner.teach(X_pool[query_idx], y_pool[query_idx])
        X_pool = np.delete(X_pool, query_idx, axis=0)
        y_pool = np.delete(y_pool, query_idx, axis=0)
        accuracy.append(learner.score(X_test, y_test))
    return learner, accuracy


learner, accuracy_bald = run(BALDQuery(n_mc_samples=10, random_state=0))
print("labelled images:", len(learner.y_training), "(each once)")
print("BALD accuracy per round:", ", ".join(f"{a:.3f}" for a in accuracy_bald))

# %%
# modAL's query arguments
# -----------------------
# The strategy holds its settings, so ``query`` takes only the pool and
# ``n_instances``. modAL's call fails with a message naming the replacement:
try:
    learner.query(
        X_pool_0, n_instances=25, dropout_layer_indexes=[7, 11], num_cycles=10
    )
except TypeError as exc:
    print(exc)

# %%
# modAL's ``mc_dropout_bald`` itself is refused on an MCDropoutClassifier, with
# the replacement named: it samples by switching the layers whose class name
# starts with "Dropout" to training mode (fresh masks for every image, and
# skbatchbald's own dropout layers would not be switched at all), and it reads
# torch tensors only.
from modAL.dropout import mc_dropout_bald

try:
    ActiveLearner(
        estimator=clone(classifier),
        query_strategy=mc_dropout_bald,
        X_training=X_initial,
        y_training=y_initial,
    ).query(X_pool_0, n_instances=25)
except ValueError as exc:
    print(exc)

# %%
# BatchBALD on the same loop
# --------------------------
# BALD scores each image alone and takes the top 25, which can be 25 copies of
# one confusing stroke; BatchBALD scores the batch jointly. A batch can carry at
# most log K nats, so BatchBALD gets K = 50 samples here: with modAL's 10 it
# saturates (and warns) before the 25th pick (:ref:`saturation`).
_, accuracy_batchbald = run(BatchBALDQuery(n_mc_samples=50, random_state=0))
print(
    "BatchBALD accuracy per round:", ", ".join(f"{a:.3f}" for a in accuracy_batchbald)
)

# %%
# Test accuracy per round
# -----------------------
import matplotlib.pyplot as plt

n_seen = 50 + 25 * np.arange(len(accuracy_bald))
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(n_seen, accuracy_bald, marker="o", label="BALDQuery (mc_dropout_bald)")
ax.plot(n_seen, accuracy_batchbald, marker="s", label="BatchBALDQuery")
ax.set_xlabel("labelled images")
ax.set_ylabel(f"test accuracy ({len(y_test)} images)")
ax.set_title("modAL's MC-dropout example on digits (one seed)")
ax.grid(alpha=0.3)
ax.legend()
fig.tight_layout()
plt.show()
