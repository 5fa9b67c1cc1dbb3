"""Batch files as a person edits them: read, write, fill in labels; and the
learner the batch-file tests fit."""

import csv
import json

from sklearn.linear_model import LogisticRegression

from skbatchbald import ActiveLearner, RandomQuery


def learner():
    return ActiveLearner(
        LogisticRegression(max_iter=50), query_strategy=RandomQuery(random_state=0)
    )


def read_rows(path):
    if path.suffix == ".csv":
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    return [json.loads(line) for line in path.read_text().splitlines()]


def write_rows(path, rows):
    if path.suffix == ".csv":
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def label_file(path, y, change=None):
    """Fill in a batch file's labels as a person would; ``change`` edits rows."""
    rows = read_rows(path)
    for row in rows:
        row["label"] = str(y[int(row["pool_index"])])
    if change is not None:
        change(rows)
    write_rows(path, rows)
