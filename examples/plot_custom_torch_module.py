"""
Your own torch module, with plain nn.Dropout
============================================

:class:`~skbatchbald.MCDropoutClassifier` wraps any :class:`torch.nn.Module`
that returns logits and contains dropout layers. The module does not need
skbatchbald's own layers: plain ``nn.Dropout`` (and ``Dropout1d/2d/3d``,
``AlphaDropout``) is sampled *consistently* as well. During
``predict_log_proba_samples`` the module stays in eval mode and posterior
sample k applies one fixed dropout mask to every pool point.

Why it matters: BatchBALD compares how different pool points' predictions
move together across the posterior samples. That only means something if
sample k is the same network for every point. The usual way of drawing MC
dropout samples, running the module in train mode, gives every row its own
mask; the paper (Kirsch et al. 2019, Fig. 7) found BatchBALD then does no
better than random acquisition.
"""

# %%
import torch

torch.set_num_threads(1)

# %%
# A small convolutional network, written as a user would
# ------------------------------------------------------
from torch import nn


class SmallCNN(nn.Module):
    def __init__(self, n_classes=10, p=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Unflatten(1, (1, 8, 8)),  # pipelines hand over flat rows
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.Dropout2d(p),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 4 * 4, 64),
            nn.ReLU(),
            nn.Dropout(p),
            nn.Linear(64, n_classes),
        )

    def forward(self, x):
        return self.head(self.features(x))


# %%
# Train it on 100 labelled images of the repeated digits
# ------------------------------------------------------
# :func:`~skbatchbald.datasets.load_repeated_digits` holds every digit three
# times with a little noise; ``source`` tells which rows are copies.
import numpy as np

from skbatchbald import MCDropoutClassifier
from skbatchbald.datasets import load_repeated_digits
from skbatchbald.nn import dropout_layers

digits = load_repeated_digits(random_state=0)
X, y, source = digits.data.astype(np.float32), digits.target, digits.source
rng = np.random.default_rng(0)
labelled = np.concatenate(
    [rng.choice(np.flatnonzero(y == c), 10, replace=False) for c in range(10)]
)
net = MCDropoutClassifier(
    SmallCNN,
    random_state=0,
    verbose=0,
).fit(X[labelled], y[labelled])
print("dropout layers sampled:", [name for name, _ in dropout_layers(net.module_)])

# %%
# Consistent samples do not depend on the batch
# ---------------------------------------------
# Sample k is one fixed network, so a row's k-th prediction is the same
# whether it is scored in batches of 7 or of 512 (up to float rounding).
pool = np.flatnonzero(~np.isin(source, source[labelled]))
first = np.sort(np.flatnonzero(source[pool] < 300))  # copies of 300 digits
X_small = X[pool[first]]
small_batches = net.set_params(batch_size=7).predict_log_proba_samples(
    X_small, n_mc_samples=20, random_state=0
)
big_batches = net.set_params(batch_size=512).predict_log_proba_samples(
    X_small, n_mc_samples=20, random_state=0
)
print(
    "largest difference between batch sizes 7 and 512:",
    float(np.abs(small_batches - big_batches).max()),
)

# %%
# Consistent vs per-row masks
# ---------------------------
# For pairs of copies of the same digit, compare the probability that sample k
# gives the digit's class on one copy with the same for the other copy. With
# consistent masks, sample k sees both copies through the same network and the
# two values move together. With the module simply put in train mode, each
# row draws its own masks, and the link between the copies is gone: to
# BatchBALD, the two copies then look like independent sources of
# information.
import matplotlib.pyplot as plt


def train_mode_samples(module, X, n_mc_samples, seed=0):
    """Naive MC dropout: train mode, a fresh mask for every row and call."""
    torch.manual_seed(seed)
    module.train()
    with torch.no_grad():
        x = torch.as_tensor(X)
        samples = [torch.log_softmax(module(x), dim=-1) for _ in range(n_mc_samples)]
    module.eval()
    return torch.stack(samples, dim=1).numpy()  # (N, K, C)


naive = train_mode_samples(net.module_, X_small, n_mc_samples=20)
origins = source[pool[first]]
pairs = [np.flatnonzero(origins == o)[:2] for o in np.unique(origins)]
pairs = np.array([p for p in pairs if len(p) == 2])  # (pairs, 2)
label = y[pool[first]][pairs[:, 0]]

fig, axes = plt.subplots(1, 2, figsize=(10, 4.4), sharex=True, sharey=True)
kinds = {"consistent masks": big_batches, "per-row masks (train mode)": naive}
for ax, (name, samples) in zip(axes, kinds.items(), strict=True):
    proba = np.exp(samples)  # (N, K, C)
    a = proba[pairs[:, 0], :, label]  # (pairs, K)
    b = proba[pairs[:, 1], :, label]
    # Remove each pair's mean over samples: what is left is how sample k
    # deviates, which is what BatchBALD's joint entropies see.
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    ax.scatter(a.ravel(), b.ravel(), s=2, alpha=0.3)
    ax.set_title(f"{name}\ncorrelation {r:.2f}")
    ax.set_xlabel("copy 1: p_k(class) − mean over k")
axes[0].set_ylabel("copy 2: p_k(class) − mean over k")
fig.suptitle("Sample k's predictions on two copies of the same digit")
fig.tight_layout()
plt.show()

# %%
# The same network drives a query strategy like any other estimator:
from skbatchbald import ActiveLearner, BatchBALDQuery

learner = ActiveLearner(
    net.set_params(batch_size=128),  # the default again
    query_strategy=BatchBALDQuery(n_mc_samples=20, random_state=0),
    X_training=X[labelled],
    y_training=y[labelled],
)
idx, scores = learner.query(X[pool], n_instances=10)
print("picked:", idx.tolist())
print("distinct originals among them:", len(set(source[pool[idx]])))
