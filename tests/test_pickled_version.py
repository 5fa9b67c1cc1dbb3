"""Every estimator's pickle records the package version, checked on load."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier

import skbatchbald
from skbatchbald import (
    ActiveLearner,
    BatchBALDQuery,
    Committee,
    DeepEnsembleClassifier,
    LaplaceHeadClassifier,
    MCDropoutClassifier,
    MCDropoutRegressor,
    RandomQuery,
    SkbatchbaldWarning,
    TypiClustQuery,
)
from skbatchbald.nn import BayesianMLP
from skbatchbald.stopping import ExpectedInformation, StabilizingPredictions


@pytest.fixture(scope="module")
def fitted():
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    learner = ActiveLearner(
        RandomForestClassifier(5, random_state=0),
        BatchBALDQuery(random_state=0),
        X_training=X[:30],
        y_training=y[:30],
    )
    net = dict(module__n_features=64, max_epochs=2, verbose=0, random_state=0)
    return [
        learner,
        Committee([learner]),
        BatchBALDQuery(),
        RandomQuery(),
        TypiClustQuery(),
        StabilizingPredictions(),
        ExpectedInformation(threshold=0.1),
        MCDropoutClassifier(BayesianMLP, **net).fit(X[:30], y[:30]),
        MCDropoutRegressor(BayesianMLP, **net).fit(X[:30], y[:30].astype(np.float32)),
        DeepEnsembleClassifier(max_epochs=2, random_state=0).fit(X[:30], y[:30]),
        LaplaceHeadClassifier(max_epochs=2, random_state=0).fit(X[:30], y[:30]),
    ]


def test_a_pickle_of_this_version_loads_in_silence(fitted):
    for estimator in fitted:
        with warnings.catch_warnings():
            warnings.simplefilter("error", SkbatchbaldWarning)
            again = pickle.loads(pickle.dumps(estimator))
        assert "_skbatchbald_version" not in vars(again)


def test_a_pickle_of_another_version_is_named(fitted, monkeypatch):
    import re

    written = re.escape(skbatchbald.__version__)
    for estimator in fitted:
        data = pickle.dumps(estimator)
        monkeypatch.setattr(skbatchbald, "__version__", "9.9")
        name = type(estimator).__name__
        message = (
            rf"this {name} was pickled by skbatchbald {written} and is loaded by 9\.9"
        )
        with pytest.warns(SkbatchbaldWarning, match=message):
            pickle.loads(data)
        monkeypatch.undo()


def test_a_pickle_without_a_version_is_named(fitted):
    state = fitted[2].__getstate__()
    del state["_skbatchbald_version"]
    old = BatchBALDQuery.__new__(BatchBALDQuery)
    with pytest.warns(SkbatchbaldWarning, match=r"before 0\.1\.0\.dev0 \(no version"):
        old.__setstate__(state)
    assert old.get_params() == BatchBALDQuery().get_params()
