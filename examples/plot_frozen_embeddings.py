"""
A frozen trunk, cached embeddings and an MC-dropout head
========================================================

With a pretrained network you often keep its feature extractor (the *trunk*)
frozen and train only a small head on the labels you collect. Then the trunk's
output for each pool image never changes: run the trunk once, keep the
embeddings, and let every round train and sample an MC-dropout head on them.
BatchBALD only needs the head's posterior samples.

Here the trunk is a small CNN trained on the digits 0-4 (it never sees a label
of the task that follows), and active learning learns the digits 5-9 from 10
labels. The same network is also run the other way, trunk and head as one
module in :class:`~skbatchbald.MCDropoutClassifier`, to compare the cost of a
round. See :doc:`/user_guide/frozen_embeddings` for when each way pays.
"""

# %%
# Tiny networks train faster on one thread than on several busy ones.
import torch

torch.set_num_threads(1)

# %%
# Data: the repeated digits, split by source image
# ------------------------------------------------
# :func:`~skbatchbald.datasets.load_repeated_digits` holds each digit three
# times with noise; copies of one source image stay on one side of each split.
import numpy as np

from skbatchbald.datasets import load_repeated_digits

digits = load_repeated_digits(random_state=0)
X = digits.data.astype(np.float32)
y, source = digits.target, digits.source
rng = np.random.default_rng(0)
test_sources = rng.choice(np.unique(source[y >= 5]), size=300, replace=False)
is_test = np.isin(source, test_sources)
_, first_copy = np.unique(source, return_index=True)
pretrain = first_copy[y[first_copy] < 5]  # one copy of each source image
pool = np.flatnonzero((y >= 5) & ~is_test)
test = np.flatnonzero((y >= 5) & is_test)
print(f"pretraining {len(pretrain)} images of 0-4; pool {len(pool)}, test {len(test)}")

# %%
# The trunk, pretrained elsewhere
# -------------------------------
# A stand-in for a downloaded model: a CNN trained on the digits 0-4, of which
# only the layers up to the 128-dimensional embedding are kept.
import time

from skorch import NeuralNetClassifier
from torch import nn

D = 128
trunk = nn.Sequential(
    nn.Unflatten(1, (1, 8, 8)),
    nn.Conv2d(1, 32, 3, padding=1),
    nn.ReLU(),
    nn.Conv2d(32, 64, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(64, 64, 3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(64 * 2 * 2, D),
    nn.ReLU(),
)
torch.manual_seed(0)
NeuralNetClassifier(
    nn.Sequential(trunk, nn.Linear(D, 5)),
    criterion=nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam,
    lr=1e-3,
    max_epochs=15,
    batch_size=32,
    train_split=None,
    iterator_train__shuffle=True,
    verbose=0,
).fit(X[pretrain], y[pretrain])
trunk.eval().requires_grad_(False)  # frozen from here on

# %%
# Embeddings: the trunk runs once over pool and test
# --------------------------------------------------
start = time.perf_counter()
with torch.no_grad():
    E = np.zeros((len(y), D), dtype=np.float32)
    rows = np.concatenate([pool, test])
    for chunk in np.array_split(rows, max(1, len(rows) // 512)):
        E[chunk] = trunk(torch.from_numpy(X[chunk])).numpy()
t_embed = time.perf_counter() - start
print(f"embedded {len(rows)} images in {t_embed:.2f} s")

# %%
# The head and the loop
# ---------------------
# The head is an MC-dropout MLP on the embeddings. Each round it is fitted on
# the labelled embeddings, draws K posterior samples for the pool, and
# BatchBALD picks the next 10 images from them. The steps are timed apart.
from skbatchbald import MCDropoutClassifier
from skbatchbald.acquisition import batchbald
from skbatchbald.nn import BayesianMLP

K, BATCH, N_ROUNDS = 20, 10, 5
# The head alone and the whole network below train with the same settings.
TRAINING = dict(
    classes=np.arange(5, 10),
    max_epochs=100,
    batch_size=32,
    iterator_train__shuffle=True,
    n_mc_samples=K,
    random_state=0,
    verbose=0,
)


def make_head():
    return MCDropoutClassifier(
        BayesianMLP,
        module__n_features=D,
        module__hidden_sizes=(128,),
        **TRAINING,
    )


labelled = np.concatenate(
    [rng.choice(pool[y[pool] == c], size=2, replace=False) for c in range(5, 10)]
)
unlabelled = np.setdiff1d(pool, labelled)
timings = {"training": [], "sampling": [], "acquisition": []}
accuracy = []
for round_ in range(N_ROUNDS + 1):
    start = time.perf_counter()
    head = make_head().fit(E[labelled], y[labelled])
    timings["training"].append(time.perf_counter() - start)
    accuracy.append(head.score(E[test], y[test]))
    if round_ == N_ROUNDS:
        break
    start = time.perf_counter()
    log_probs = head.predict_log_proba_samples(E[unlabelled], random_state=round_)
    timings["sampling"].append(time.perf_counter() - start)
    start = time.perf_counter()
    picks, _ = batchbald(log_probs, BATCH, random_state=round_)
    timings["acquisition"].append(time.perf_counter() - start)
    labelled = np.concatenate([labelled, unlabelled[picks]])
    unlabelled = np.delete(unlabelled, picks)

print("labels:", 10 + BATCH * np.arange(N_ROUNDS + 1))
print("test accuracy:", ", ".join(f"{a:.3f}" for a in accuracy))

# %%
# The same network as one module
# ------------------------------
# Trunk and head in one module: every epoch of training runs the frozen trunk
# over the labelled images again, and every round's sampling runs it over the
# pool again (once per image, not K times: the layers before the first dropout
# are folded). One round, on the last round's labelled set, is enough to
# compare.


class TrunkAndHead(nn.Module):
    def __init__(self, n_classes=5):
        super().__init__()
        self.trunk = trunk
        self.head = BayesianMLP(n_features=D, n_classes=n_classes, hidden_sizes=(128,))

    def forward(self, x):
        return self.head(self.trunk(x))


whole = MCDropoutClassifier(TrunkAndHead, **TRAINING)
start = time.perf_counter()
whole.fit(X[labelled], y[labelled])
t_whole_train = time.perf_counter() - start
start = time.perf_counter()
whole.predict_log_proba_samples(X[unlabelled], random_state=0)
t_whole_sample = time.perf_counter() - start

# %%
# Seconds per round
# -----------------
# ``training`` is the last round's (the largest labelled set); sampling and
# acquisition are the mean over rounds.
n_pool = len(unlabelled) + BATCH * N_ROUNDS
print(f"N = {n_pool} pool images, d = {D}, K = {K}, batches of {BATCH}")
print(f"{'seconds':<26}{'cached embeddings':>18}{'trunk in the module':>21}")
print(f"{'embedding (once)':<26}{t_embed:>18.2f}{'-':>21}")
print(
    f"{'training (last round)':<26}{timings['training'][-1]:>18.2f}"
    f"{t_whole_train:>21.2f}"
)
t_sample = np.mean(timings["sampling"])
print(f"{'sampling (per round)':<26}{t_sample:>18.2f}{t_whole_sample:>21.2f}")
t_acq = np.mean(timings["acquisition"])
print(f"{'acquisition (per round)':<26}{t_acq:>18.2f}{t_acq:>21.2f}")

# %%
# Test accuracy of the head
# -------------------------
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(10 + BATCH * np.arange(N_ROUNDS + 1), accuracy, marker="o")
ax.set_xlabel("labelled images of 5-9")
ax.set_ylabel(f"test accuracy ({len(test)} images)")
ax.set_title("MC-dropout head on frozen embeddings, BatchBALD")
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()
