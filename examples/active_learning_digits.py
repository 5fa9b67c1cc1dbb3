"""Active learning on scikit-learn's digits: uncertainty sampling vs random.

A short, real pool-based loop with :class:`skbatchbald.ActiveLearner`: start
from 20 labels (2 per class), then 10 rounds of query 10 / teach, printing the
test accuracy after each round. This is the interim ``make demo``; the
experiment runner replaces it with BatchBALD vs BALD vs random.
"""

import numpy as np
import pandas as pd
from modAL.uncertainty import uncertainty_sampling
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from skbatchbald import ActiveLearner

N_ROUNDS, BATCH = 10, 10


def random_sampling(learner, X_pool, n_instances=1, random_state=0):
    rng = np.random.default_rng([random_state, len(X_pool)])
    idx = rng.choice(len(X_pool), size=n_instances, replace=False)
    return idx, np.zeros(n_instances)


def run(strategy, X_pool, y_pool, X_init, y_init, X_test, y_test):
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=100, random_state=0),
        query_strategy=strategy,
        X_training=X_init,
        y_training=y_init,
    )
    accuracies = [learner.score(X_test, y_test)]
    for _ in range(N_ROUNDS):
        idx, rows = learner.query(X_pool, n_instances=BATCH)
        learner.teach(rows, y_pool[idx])
        X_pool, y_pool = np.delete(X_pool, idx, axis=0), np.delete(y_pool, idx)
        accuracies.append(learner.score(X_test, y_test))
    return accuracies


def main():
    X, y = load_digits(return_X_y=True)
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    init = np.concatenate([np.flatnonzero(y_rest == c)[:2] for c in range(10)])
    X_init, y_init = X_rest[init], y_rest[init]
    X_pool, y_pool = np.delete(X_rest, init, axis=0), np.delete(y_rest, init)

    results = {
        name: run(strategy, X_pool, y_pool, X_init, y_init, X_test, y_test)
        for name, strategy in [
            ("uncertainty", uncertainty_sampling),
            ("random", random_sampling),
        ]
    }
    table = pd.DataFrame(results)
    table.index = len(init) + BATCH * table.index
    table.index.name = "labels"
    print("Test accuracy after each round (RandomForest, digits)")
    print(table.to_string(float_format="{:.3f}".format))


if __name__ == "__main__":
    main()
