"""MCDropoutClassifier's classes: labelled sets that miss some, refits, one class."""

import numpy as np
import pytest
from sklearn.metrics import log_loss

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


def test_constructor_classes_are_sorted_as_labels_are(data):
    """predict_proba's columns are the sorted labels, as scikit-learn's metrics
    (log_loss, the neg_log_loss scorer) read them, whatever order classes has."""
    X, y = data
    letters = np.array(list("abcdefghij"))
    labels = letters[y]
    given = mlp(classes=list(letters[::-1])).fit(X[:200], labels[:200])
    inferred = mlp().fit(X[:200], labels[:200])
    np.testing.assert_array_equal(given.classes_, letters)
    # y is encoded in the same order: the very same net, column for column
    proba = given.predict_proba(X[200:400])
    np.testing.assert_array_equal(proba, inferred.predict_proba(X[200:400]))
    np.testing.assert_array_equal(given.predict(X[200:400]), letters[proba.argmax(1)])
    deterministic = given.set_params(mc_predict=False).predict_proba(X[200:400])
    np.testing.assert_array_equal(
        deterministic, inferred.set_params(mc_predict=False).predict_proba(X[200:400])
    )
    own = -np.log(proba[np.arange(200), y[200:400]].astype(np.float64)).mean()
    assert log_loss(labels[200:400], proba) == pytest.approx(own, rel=1e-5)


def test_duplicate_classes_are_refused(data):
    X, y = data
    net = mlp(classes=[0, 1, 1, 2])
    with pytest.raises(ValueError, match=r"holds \[1\] more than once.*appear once"):
        net.fit(X[:30], y[:30] % 3)
    assert not net.initialized_


def test_classes_that_do_not_sort_are_refused(data):
    X, y = data
    with pytest.raises(TypeError, match="classes must be labels of one sortable"):
        mlp(classes=[0, None]).fit(X[:30], y[:30] % 2)


def test_a_new_label_in_a_warm_fit_names_warm_start(data):
    X, y = data
    two = np.flatnonzero(y < 2)[:20]
    learner = ActiveLearner(mlp(warm_start=True), X_training=X[two], y_training=y[two])
    twos = np.flatnonzero(y == 2)[:5]
    with pytest.raises(ValueError, match=r"warm_start=True") as error:
        learner.teach(X[twos], y[twos])  # refits on every label, warm
    message = str(error.value)
    assert "classes_=[0, 1]" in message
    assert "Pass classes=<all labels>" in message
    assert "set warm_start=False" in message


def test_a_label_outside_the_constructor_classes_says_to_add_it(data):
    X, y = data
    rows = np.flatnonzero(y < 3)[:30]
    with pytest.raises(ValueError, match=r"\[2\] that are not in classes=\[0, 1\]"):
        mlp(classes=[0, 1]).fit(X[rows], y[rows])
