"""
People in the loop through batch files
======================================

BatchBALD is there to save a person's labelling time, so the labels should come
from a person, not from ``y[idx]``. :func:`~skbatchbald.annotation.annotation_round`
runs one round of that loop: it fits the model on every answer so far and, when
no batch is waiting, writes the next one. With a
:class:`~skbatchbald.annotation.FileAnnotator` each batch is a CSV (or JSON
lines) file whose ``label`` column people fill in; the directory of files is the
whole state of the loop, so the same call, run again in any process, carries on.

Here a simulated annotator fills in the files with the true digits. With a Label
Studio server, only the annotator changes (see :doc:`/user_guide/annotation`).
"""

# %%
import torch

torch.set_num_threads(1)  # tiny networks: one thread is the fastest

# %%
# The pool and the learner
# ------------------------
# A pool of digits and a held-out test set. The learner starts with no labels,
# so its first batch comes from :class:`~skbatchbald.RandomQuery` (a posterior
# strategy needs a fitted model); BatchBALD takes over from the second round.
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skbatchbald import ActiveLearner, BatchBALDQuery, MCDropoutClassifier, RandomQuery
from skbatchbald.annotation import FileAnnotator, annotation_round
from skbatchbald.nn import BayesianMLP

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=500, random_state=0)


def make_learner(strategy):
    net = MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        module__hidden_sizes=(128,),
        classes=np.arange(10),  # the first batches may miss some classes
        lr=3e-3,
        max_epochs=100,
        batch_size=64,
        iterator_train__shuffle=True,
        n_mc_samples=20,
        random_state=0,
        verbose=0,
    )
    return ActiveLearner(net, query_strategy=strategy)


# %%
# The first round writes a batch file
# -----------------------------------
# ``reference`` is what a person sees for each row: here a made-up image path.
directory = Path(tempfile.mkdtemp())
annotator = FileAnnotator(
    directory, classes=range(10), reference=lambda i: f"images/{i:04d}.png"
)
result = annotation_round(
    make_learner(RandomQuery(random_state=0)), X_pool, annotator, n_instances=10
)
print(sorted(p.name for p in directory.iterdir()))
pd.read_csv(directory / "batch-001.csv").head()


# %%
# A person fills in the labels
# ----------------------------
# Any tool that edits a CSV will do (a spreadsheet, a script behind a web
# form). The simulated person writes the true digit of each pool row into the
# ``label`` column and saves the file under the same name.
def label_batch(path):
    batch = pd.read_csv(path)
    batch["label"] = y_pool[batch["pool_index"]]
    batch.to_csv(path, index=False)


label_batch(directory / "batch-001.csv")

# %%
# Rounds of BatchBALD
# -------------------
# Each call reads every answer, refits from scratch on them (so the same
# answers always give the same model) and writes the next batch. A batch that
# is still unlabelled is never asked for twice: calling again before the file
# is filled in only refits.
accuracy = []
for round_ in range(2, 6):
    learner = make_learner(BatchBALDQuery(random_state=0))
    result = annotation_round(learner, X_pool, annotator, n_instances=10)
    accuracy.append((result.answered.size, learner.score(X_test, y_test)))
    again = annotation_round(learner, X_pool, annotator, n_instances=10)
    assert again.requested.size == 0  # the batch is pending: nothing new asked
    label_batch(directory / f"batch-{round_:03d}.csv")

for n_labels, acc in accuracy:
    print(f"{n_labels:3d} labels: test accuracy {acc:.3f}")

# %%
# A bad file is refused whole
# ---------------------------
# A label outside ``classes`` (a typo) stops the round before anything is
# taught, and the error names the file and line to fix. (A ``?`` is no typo:
# it sets the row aside, and the row is not asked again.)
path = directory / "batch-005.csv"
good = path.read_text()
batch = pd.read_csv(path, dtype={"label": str})
batch.loc[3, "label"] = "sevn"
batch.to_csv(path, index=False)
try:
    annotation_round(
        make_learner(BatchBALDQuery(random_state=0)), X_pool, annotator, n_instances=10
    )
except ValueError as error:
    print(error)
else:
    raise AssertionError("a label outside classes was taught")
path.write_text(good)

# %%
# Resuming in a new process
# -------------------------
# Nothing lives in Python between rounds: a fresh ``FileAnnotator`` on the same
# directory (after a crash, the next morning) sees the same answers and the
# same pending batch.
resumed = FileAnnotator(directory, classes=range(10))
answered, labels = resumed.answers()
print(f"{answered.size} answers, {resumed.pending().size} rows pending")
np.testing.assert_array_equal(labels, y_pool[answered])

# %%
# Test accuracy per round
# -----------------------
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3))
n_labels, acc = np.transpose(accuracy)
ax.plot(n_labels, acc, marker="o")
ax.set_xlabel("labels given by the annotator")
ax.set_ylabel("test accuracy")
ax.set_title("BatchBALD through batch files")
fig.tight_layout()
