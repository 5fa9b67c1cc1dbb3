"""Warnings raised deep in the package point at the user's line."""

import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier

from skbatchbald import ActiveLearner, BatchBALDQuery
from skbatchbald.acquisition import SaturationWarning, batchbald


def test_saturation_from_a_strategy_points_at_the_query_line():
    # a forest's hard votes exhaust log K within a few picks
    X, y = load_digits(return_X_y=True)
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5, random_state=0),
        query_strategy=BatchBALDQuery(random_state=0),
        X_training=X[:40],
        y_training=y[:40],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        learner.query(X[40:400], n_instances=20)
    saturation = [w for w in caught if w.category is SaturationWarning]
    assert saturation
    assert {w.filename for w in saturation} == {__file__}


def test_saturation_from_the_function_points_at_its_caller():
    log_probs = np.log(np.array([[[1.0, 1e-12], [1e-12, 1.0]]] * 3))
    log_probs -= np.logaddexp.reduce(log_probs, axis=2, keepdims=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batchbald(log_probs, 3)
    assert [w.filename for w in caught if w.category is SaturationWarning] == [__file__]
