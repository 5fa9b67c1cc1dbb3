"""MCDropoutClassifier's classes: labelled sets that miss some, refits, one class."""

import numpy as np
import pytest

from skbatchbald import ActiveLearner, MCDropoutClassifier
from skbatchbald.nn import BayesianMLP


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return (X / 16).astype(np.float32), y


def mlp(**kwargs):
    params = {"module__n_features": 64, "max_epochs": 2, "verbose": 0}
    return MCDropoutClassifier(BayesianMLP, **{**params, "random_state": 0, **kwargs})


def test_refit_on_a_batch_missing_classes_suggests_classes_first(data):
    X, y = data
    net = mlp(module__n_classes=10).fit(X[:100], y[:100])
    batch = np.flatnonzero(y < 5)[:10]
    with pytest.raises(ValueError, match="classes=<all labels>") as error:
        net.fit(X[batch], y[batch])  # a refit, e.g. a cold start's first batch
    message = str(error.value)
    assert "5 classes in y ([0, 1, 2, 3, 4])" in message
    assert message.index("classes=<all labels>") < message.index("module__n_classes")


def test_constructor_classes_survive_every_refit(data):
    X, y = data
    learner = ActiveLearner(
        mlp(classes=np.arange(10), warm_start=True),
        X_training=X[:100],
        y_training=y[:100],
    )
    for low in (0, 5, 8):
        batch = np.flatnonzero((y >= low) & (y < low + 2))[:10]
        learner.teach(X[batch], y[batch], only_new=True)
        np.testing.assert_array_equal(learner.estimator.classes_, np.arange(10))
        learner.estimator.fit(X[batch], y[batch])  # a refit from new weights
        np.testing.assert_array_equal(learner.estimator.classes_, np.arange(10))
        assert learner.predict_proba(X[:4]).shape == (4, 10)


def test_partial_fit_classes_hold_until_the_next_fit(data):
    """As scikit-learn's SGDClassifier: partial_fit's classes, fit starts over."""
    X, y = data
    net = mlp()
    three = np.flatnonzero(y < 3)[:30]
    net.partial_fit(X[three], y[three], classes=np.arange(10))
    for low in (3, 7):
        batch = np.flatnonzero((y >= low) & (y < low + 2))[:10]
        net.partial_fit(X[batch], y[batch])
        np.testing.assert_array_equal(net.classes_, np.arange(10))
    net.partial_fit(X[three], y[three], classes=list(range(10))[::-1])  # same set
    with pytest.raises(ValueError, match=r"classes=\[0, 1, 2\] differs from"):
        net.partial_fit(X[three], y[three], classes=[0, 1, 2])
    net.fit(X[three], y[three])
    np.testing.assert_array_equal(net.classes_, [0, 1, 2])
    assert net.predict_proba(X[:4]).shape == (4, 3)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_one_class_without_classes_asks_for_classes(data, method):
    X, y = data
    ones = np.flatnonzero(y == 1)[:10]
    pattern = r"at least 2 classes.*only one class: \[1\].*classes=<all labels>"
    with pytest.raises(ValueError, match=pattern):
        getattr(mlp(), method)(X[ones], y[ones])


def test_one_class_with_classes_fits_a_cold_start(data):
    X, y = data
    ones = np.flatnonzero(y == 1)[:10]
    net = mlp(classes=np.arange(10)).fit(X[ones], y[ones])
    assert net.predict_log_proba_samples(X[:3], 4, random_state=0).shape == (3, 4, 10)


@pytest.mark.parametrize("where", ["constructor", "partial_fit"])
def test_classes_of_one_label_are_refused(data, where):
    X, y = data
    ones = np.flatnonzero(y == 1)[:10]
    with pytest.raises(ValueError, match=r"classes must hold .*at least 2.*\[1\]"):
        if where == "constructor":
            mlp(classes=[1]).fit(X[ones], y[ones])
        else:
            mlp().partial_fit(X[ones], y[ones], classes=[1])
