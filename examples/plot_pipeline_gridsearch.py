"""
Pipelines and GridSearchCV
==========================

Everything in skbatchbald is a scikit-learn estimator, so the usual tools
apply. Here a Pipeline (scaling, then an MC-dropout network) is tuned with
:class:`~sklearn.model_selection.GridSearchCV` on the labels we have, and the
tuned pipeline then drives an active-learning loop. The query strategy reads
its posterior samples through the Pipeline: the pool is transformed by every
step but the last, and the last step is sampled.
"""

# %%
import torch

torch.set_num_threads(1)

# %%
# Labels so far, the pool, and a test set
# ---------------------------------------
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X_rest, X_test, y_rest, y_test = train_test_split(
    X, y, test_size=500, stratify=y, random_state=0
)
rng = np.random.default_rng(0)
labelled = np.concatenate(
    [rng.choice(np.flatnonzero(y_rest == c), 6, replace=False) for c in range(10)]
)
pool = np.setdiff1d(np.arange(len(y_rest)), labelled)

# %%
# Tune the pipeline on the labelled set
# -------------------------------------
# Parameters of the network are reached as ``<step>__<parameter>``, and those
# of the torch module as ``<step>__module__<parameter>``, as in skorch.
import pandas as pd
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald import MCDropoutClassifier
from skbatchbald.nn import BayesianMLP

pipeline = make_pipeline(
    StandardScaler(),
    MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        random_state=0,
        verbose=0,
    ),
)
param_grid = {
    "mcdropoutclassifier__module__hidden_sizes": [(32,), (128,)],
    "mcdropoutclassifier__module__p": [0.25, 0.5],
}
search = GridSearchCV(
    pipeline, param_grid, cv=StratifiedKFold(3, shuffle=True, random_state=0)
)
search.fit(X_rest[labelled], y_rest[labelled])
results = pd.DataFrame(search.cv_results_)
table = results.pivot_table(
    index="param_mcdropoutclassifier__module__hidden_sizes",
    columns="param_mcdropoutclassifier__module__p",
    values="mean_test_score",
)
print(table.round(3))
print("best:", search.best_params_)

# %%
# Active learning with the tuned pipeline
# ---------------------------------------
# ``search.best_estimator_`` is a fitted Pipeline; the learner refits it on
# the labelled set and after every ``teach``. The strategy draws K = 50
# posterior samples: with K = 20 a batch of 10 on this model reaches the log K
# ceiling before it is full, and BatchBALD says so with a ``SaturationWarning``
# (see :ref:`saturation`).
from sklearn.base import clone

from skbatchbald import ActiveLearner, BatchBALDQuery

learner = ActiveLearner(
    search.best_estimator_,
    query_strategy=BatchBALDQuery(n_mc_samples=50, random_state=0),
    X_training=X_rest[labelled],
    y_training=y_rest[labelled],
)
n_labels, accuracy = [len(labelled)], [learner.score(X_test, y_test)]
for _ in range(4):
    idx, rows = learner.query(X_rest[pool], n_instances=10)
    learner.teach(rows, y_rest[pool[idx]])
    pool = np.delete(pool, idx)
    n_labels.append(len(learner.y_training))
    accuracy.append(learner.score(X_test, y_test))
print("test accuracy:", np.round(accuracy, 3))

# %%
# The learner, its strategy and its pipeline are one estimator: nested
# parameters are visible to ``get_params`` and ``clone`` gives a fresh,
# unfitted copy (the training data are not parameters).
params = learner.get_params()
print(params["query_strategy__n_joint_samples"], params["estimator__standardscaler"])
fresh = clone(learner)
print("clone has training data:", fresh.X_training is not None)

# %%
# Results
# -------
import matplotlib.pyplot as plt

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
image = left.imshow(table.to_numpy(), cmap="viridis")
left.set_xticks(range(table.shape[1]), [f"p={v:g}" for v in table.columns])
left.set_yticks(range(table.shape[0]), [f"hidden={v}" for v in table.index])
middle = table.to_numpy().mean()
for (i, j), value in np.ndenumerate(table.to_numpy()):
    color = "k" if value > middle else "w"
    left.text(j, i, f"{value:.3f}", ha="center", va="center", color=color)
left.set_title(f"3-fold CV accuracy on {len(labelled)} labels")
fig.colorbar(image, ax=left, shrink=0.8)

right.plot(n_labels, accuracy, marker="o")
right.set_xlabel("labelled images")
right.set_ylabel("test accuracy (500 images)")
right.set_title("BatchBALD with the tuned pipeline")
right.grid(alpha=0.3)
fig.tight_layout()
plt.show()
