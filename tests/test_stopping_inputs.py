"""Bad stop sets, outputs and parameters of the stopping rules: clear errors."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

from skbatchbald import ActiveLearner, stopping
from skbatchbald.stopping import (
    ExpectedInformation,
    StabilizingPredictions,
    evaluate_stop,
    hindsight_stop,
)

RULES = [StabilizingPredictions, ExpectedInformation]


@pytest.fixture(scope="module")
def forest():
    X, y = load_iris(return_X_y=True)
    return RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y), X


@pytest.mark.parametrize("rule", RULES)
def test_a_stop_set_that_changes_between_rounds_is_refused(rule, forest):
    model, X = forest
    fitted = rule()
    fitted.update(model, X[:50])
    with pytest.raises(ValueError, match="X_stop changed between rounds"):
        fitted.update(model, X[50:100])
    with pytest.raises(ValueError, match="X_stop changed between rounds"):
        fitted.update(model, X[:50] + 1e-3)  # same size, other content
    with pytest.raises(ValueError, match="shape or values differ from round 0's"):
        fitted.update(model, X[:50][::-1])  # rows paired by position: reordered
    assert fitted.n_rounds_ == 1
    fitted.update(model, X[:50].copy())  # the same content is the same set
    assert fitted.n_rounds_ == 2


def _same_stop_set_elsewhere(X):
    """The same stop-set values in the containers and layouts users pass."""
    import pandas as pd
    import scipy.sparse as sp
    import torch

    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    return {
        "DataFrame": frame,
        "to_numpy": frame.to_numpy(),
        "Fortran order": np.asfortranarray(X),
        "strided view": np.hstack([X, X])[:, :4],
        "float32 copy": X.astype(np.float32),
        "float32 copy back in float64": X.astype(np.float32).astype(np.float64),
        "list": X.tolist(),
        "CSR matrix": sp.csr_matrix(X),
        "CSC matrix": sp.csc_matrix(X),
        "tensor": torch.as_tensor(X),
    }


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.filterwarnings("ignore:X has feature names")
@pytest.mark.filterwarnings("ignore:the model predicts one class")  # all setosa
def test_the_same_stop_set_in_another_container_or_layout_is_the_same(rule, forest):
    # A loop that passes X_stop as a DataFrame one round and as an array, a list,
    # a float32 copy or a sparse matrix the next compares rounds on one stop set.
    model, X = forest
    pipeline = make_pipeline(FunctionTransformer(accept_sparse=True), model)
    fitted = rule()
    fitted.update(pipeline, X[:40])
    for X_stop in _same_stop_set_elsewhere(X[:40]).values():
        fitted.update(pipeline, X_stop)  # round 0's stop set: no error
    assert fitted.n_rounds_ == 1 + len(_same_stop_set_elsewhere(X[:40]))


def test_the_stop_set_hash_depends_on_values_and_shape_only(monkeypatch):
    X = np.random.default_rng(0).normal(size=(30, 4))
    X[::3, 1] = 0.0
    digests = {
        name: stopping._stop_set_digest(X_stop)
        for name, X_stop in _same_stop_set_elsewhere(X).items()
    }
    digests["negative zeros"] = stopping._stop_set_digest(np.where(X == 0, -0.0, X))
    assert set(digests.values()) == {digests["to_numpy"]}
    counts = np.arange(120).reshape(30, 4)
    assert {
        stopping._stop_set_digest(counts.astype(dtype))
        for dtype in (np.int64, np.uint8, np.float32, np.float64)
    } == {stopping._stop_set_digest(counts)}
    monkeypatch.setattr(stopping, "_DIGEST_BLOCK", 7)  # several row blocks
    assert stopping._stop_set_digest(X) == digests["to_numpy"]
    # other shapes, values or row orders are other stop sets
    for other in (X.reshape(60, 2), X[:, :3], X[::-1], X + 1e-3, X[:29]):
        assert stopping._stop_set_digest(other) != digests["to_numpy"]
    text = ["a cat", "a dog"]
    assert stopping._stop_set_digest(text) == stopping._stop_set_digest(
        np.array(text, dtype=object)
    )
    assert stopping._stop_set_digest(text) != stopping._stop_set_digest(text[::-1])


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.filterwarnings("ignore:the model predicts one class")
def test_outputs_for_another_stop_set_size_are_refused(rule):
    fitted = rule()
    if rule is StabilizingPredictions:
        first, second = np.zeros(4, int), np.zeros(5, int)
    else:
        first, second = (np.log(np.full((n, 2, 2), 0.5)) for n in (4, 5))
    fitted.update_from(first)
    with pytest.raises(ValueError, match="cover 5 stop-set inputs, the earlier"):
        fitted.update_from(second)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize(
    ("X_stop", "message"),
    [
        (np.empty((0, 4)), "X_stop is empty"),
        ([], "X_stop is empty"),
        (np.array([[1.0, np.inf, 0.0, 1.0]]), "X_stop holds infinite values"),
        (None, "X_stop is None"),
    ],
)
def test_empty_or_infinite_stop_sets_are_refused(rule, X_stop, message, forest):
    with pytest.raises(ValueError, match=message):
        rule().update(forest[0], X_stop)


@pytest.fixture(scope="module")
def iris_with_nan():
    import pandas as pd

    X, y = load_iris(return_X_y=True)
    X = X.copy()
    X[::7, 1] = np.nan
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["kind"] = np.where(y == 0, "setosa", "other")  # a mixed-type frame
    return X, y, frame


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize(
    "model",
    [
        LogisticRegression(max_iter=1000),
        GridSearchCV(LogisticRegression(max_iter=1000), {"C": [1.0]}, cv=2),
        ActiveLearner(LogisticRegression(max_iter=1000)),
    ],
    ids=["plain", "search", "learner"],
)
def test_nan_is_refused_where_the_model_refuses_it(rule, model, iris_with_nan):
    X, y, frame = iris_with_nan
    fitted = clone(model).fit(np.nan_to_num(X), y)
    for X_stop in (X, frame[["a", "b", "c", "d"]]):
        with pytest.raises(
            ValueError,
            # the model inside the wrapper is named, not the wrapper
            match=r"X_stop holds NaN values, and LogisticRegression does not "
            r"accept missing values.*impute or drop",
        ):
            rule().update(fitted, X_stop)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.filterwarnings("ignore:X has feature names")
def test_nan_is_taken_where_the_model_takes_it(rule, iris_with_nan):
    # scikit-learn's tag input_tags.allow_nan, looked for through the wrappers
    # that do not pass it on (Pipeline, search, learner, ColumnTransformer)
    X, y, frame = iris_with_nan
    forest = RandomForestClassifier(n_estimators=5, random_state=0)
    imputed = make_pipeline(SimpleImputer(), forest)
    mixed = make_pipeline(
        ColumnTransformer(
            [
                ("num", SimpleImputer(), ["a", "b", "c", "d"]),
                ("cat", OneHotEncoder(), ["kind"]),
            ]
        ),
        forest,
    )
    models = {
        "forest": (forest, X),
        "imputer pipeline": (imputed, X),
        "search": (GridSearchCV(imputed, {"simpleimputer__strategy": ["mean"]}), X),
        "learner": (ActiveLearner(imputed, force_all_finite=False), X),
        "mixed-type frame": (mixed, frame),
    }
    for name, (model, X_stop) in models.items():
        fitted = clone(model).fit(X_stop, y)
        fresh = rule()
        fresh.update(fitted, X_stop)  # no error
        assert fresh.n_rounds_ == 1, name


def test_predictions_must_be_labels():
    rule = StabilizingPredictions()
    with pytest.raises(ValueError, match=r"shape \(n_stop,\); got shape \(3, 2\)"):
        rule.update_from(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="predictions hold NaN"):
        rule.update_from(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="predictions are empty"):
        rule.update_from(np.array([]))
    with pytest.raises(TypeError, match="has no predict method"):
        rule.update(object(), np.zeros((3, 2)))


def test_regression_and_multi_label_are_named():
    X, y = load_iris(return_X_y=True)
    regressor = RandomForestRegressor(n_estimators=3, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="RandomForestRegressor is a regression"):
        StabilizingPredictions().update(regressor, X)
    # the regressor's predictions replayed: refused too, not a class per float
    rule = StabilizingPredictions(window=1)
    with pytest.raises(ValueError, match=r"continuous values \(.*a regressor's"):
        rule.update_from(regressor.predict(X))
    assert rule.update_from(y.astype(float)) is False  # labels as floats: classes
    Y = np.column_stack([y == 0, y == 1])
    multi = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, Y)
    with pytest.raises(ValueError, match=r"a multi-label model.*predictions\[:, l\]"):
        StabilizingPredictions().update(multi, X)


def test_an_information_threshold_above_log_c_is_refused():
    agree = np.log(np.full((5, 4, 3), 1 / 3))
    with pytest.raises(
        ValueError, match=r"threshold=50 nats is at or above min\(log K, log C\)"
    ):
        ExpectedInformation(threshold=50).update_from(agree)
    # two samples tell at most log 2 nats, whatever the classes
    few = np.log(np.full((5, 2, 10), 0.1))
    with pytest.raises(ValueError, match=r"= 0\.693 \(K=2 samples, C=10"):
        ExpectedInformation(threshold=1.0).update_from(few)


def test_log_probs_must_be_posterior_samples():
    rule = ExpectedInformation()
    with pytest.raises(ValueError, match="K >= 2 samples"):
        rule.update_from(np.log(np.full((3, 1, 2), 0.5)))
    with pytest.raises(ValueError, match=r"shape \(n_stop, n_mc_samples"):
        rule.update_from(np.zeros((3, 2)))
    nan = np.log(np.full((3, 2, 2), 0.5))
    nan[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        rule.update_from(nan)
    assert not hasattr(rule, "records_")  # nothing half-recorded


def test_a_point_estimate_is_refused_with_the_reason(forest):
    _, X = forest
    y = load_iris().target
    with pytest.raises(ValueError, match="posterior samples") as info:
        ExpectedInformation().update(
            LogisticRegression(max_iter=1000).fit(X, y), X[:10]
        )
    # a stopping rule's advice, not a query strategy's (MarginQuery)
    assert "Stop with StabilizingPredictions" in str(info.value)
    assert "Margin" not in str(info.value)
    assert "LogisticRegression gives one predictive distribution" in str(info.value)


@pytest.mark.parametrize(
    ("rule", "error", "message"),
    [
        (StabilizingPredictions(window=0), ValueError, "window must be a positive"),
        (StabilizingPredictions(window=2.0), TypeError, "window must be"),
        (StabilizingPredictions(threshold=1.5), ValueError, r"threshold must be .*1\]"),
        (StabilizingPredictions(threshold=0), ValueError, "threshold must be"),
        (ExpectedInformation(threshold=0), ValueError, "threshold must be a number"),
        (ExpectedInformation(threshold=np.nan), ValueError, "threshold must be"),
        (ExpectedInformation(min_decrease=1.0), ValueError, "min_decrease must be"),
        (ExpectedInformation(max_saturated=1.0), ValueError, "max_saturated must"),
        (ExpectedInformation(n_mc_samples=0), ValueError, "n_mc_samples must be"),
        (ExpectedInformation(random_state=-1), ValueError, "random_state"),
    ],
)
def test_bad_parameters_are_named(rule, error, message):
    outputs = (
        np.zeros(3, int)
        if isinstance(rule, StabilizingPredictions)
        else np.log(np.full((3, 2, 2), 0.5))
    )
    with pytest.raises(error, match=message):
        rule.update_from(outputs)


def test_negative_n_labels_is_refused():
    with pytest.raises(ValueError, match="n_labels must be an int >= 0"):
        StabilizingPredictions().update_from(np.zeros(3, int), n_labels=-1)


def test_evaluation_inputs_are_checked():
    with pytest.raises(ValueError, match="one length"):
        hindsight_stop([10, 20], [0.5])
    with pytest.raises(ValueError, match="must not hold NaN"):
        hindsight_stop([10, 20], [0.5, np.nan])
    with pytest.raises(ValueError, match="tolerance must be"):
        hindsight_stop([10], [0.5], tolerance=-0.1)
    with pytest.raises(ValueError, match="outputs has 1 rounds, n_labels 2"):
        evaluate_stop(StabilizingPredictions(), [10, 20], [0.5, 0.6], [np.zeros(3)])


@pytest.mark.parametrize("rule", RULES)
def test_a_committee_run_again_is_one_round(rule):
    from modAL.models import Committee

    X, y = load_iris(return_X_y=True)
    members = [
        ActiveLearner(
            RandomForestClassifier(n_estimators=5, random_state=seed),
            X_training=X[::3],
            y_training=y[::3],
        )
        for seed in range(2)
    ]
    committee = Committee(learner_list=members)
    fitted = rule()
    for _ in range(5):  # the same day's script, run five times
        fitted.update(committee, X[1::3])
    assert fitted.n_rounds_ == 1 and not fitted.stop_
    assert fitted.history_["n_labels"].tolist() == [50]
