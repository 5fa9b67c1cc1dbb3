"""ExpectedInformation on regressors and multi-label models.

Both were refused with a message about predict_log_proba_samples that spoke
of query strategies; the rule now averages the score the strategies rank by:
regression BALD, 1/2 log(1 + Var_k f / σ²), and multi-label BALD, the sum over
labels of each label's BALD.
"""

import math
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, make_multilabel_classification
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel

from skbatchbald import ActiveLearner
from skbatchbald.acquisition import label_mutual_information
from skbatchbald.sampling import predict_multilabel_log_proba_samples, predict_samples
from skbatchbald.stopping import ExpectedInformation, evaluate_stop


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


def _binary_entropy(p):
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def test_regression_bald_closed_form():
    # Var_k f = 1, 4 and 0 (two samples each), noise 2
    f = np.array([[0.0, 2.0], [-2.0, 2.0], [5.0, 5.0]])
    rule = ExpectedInformation(threshold=0.01, window=1, noise_variance=2.0)
    assert not rule.update_from(f)
    expected = np.mean(0.5 * np.log1p(np.array([1.0, 4.0, 0.0]) / 2.0))
    record = rule.records_[0]
    assert record["mean_bald"] == pytest.approx(expected, rel=1e-12)
    assert record["ceiling"] == pytest.approx(math.log(2))  # K = 2 samples
    assert record["noise_variance"] == 2.0
    # the spread shrinks: the information falls below the threshold and stops
    assert rule.update_from(f * 1e-2)


def test_a_regressor_learner_is_scored_with_the_noise_given(diabetes):
    X, y = diabetes
    learner = ActiveLearner(
        RandomForestRegressor(20, random_state=0), X_training=X[:20], y_training=y[:20]
    )
    rule = ExpectedInformation(threshold=0.01, noise_variance=3000.0)
    assert rule.update(learner, X[300:]) is False
    samples = predict_samples(learner, X[300:])  # every tree: no draw
    expected = np.mean(0.5 * np.log1p(samples.var(axis=1) / 3000.0))
    assert rule.history_["mean_bald"].iloc[0] == pytest.approx(expected, rel=1e-9)
    # the next round, after teaching: the refitted forest's samples
    learner.teach(X[20:200], y[20:200])
    rule.update(learner, X[300:])
    samples = predict_samples(learner, X[300:])
    expected = np.mean(0.5 * np.log1p(samples.var(axis=1) / 3000.0))
    assert rule.history_["mean_bald"].iloc[1] == pytest.approx(expected, rel=1e-9)
    assert rule.history_["n_labels"].tolist() == [20, 200]


def test_a_noise_in_y_units_for_a_log_target_is_warned(diabetes):
    # σ = 20 in y's units, but the forest predicts log y: every label carries
    # ~1e-4 nats and the rule would stop once its window fills, unexplained
    from sklearn.compose import TransformedTargetRegressor

    from skbatchbald import SkbatchbaldWarning

    X, y = diabetes
    model = TransformedTargetRegressor(
        RandomForestRegressor(20, random_state=0), func=np.log, inverse_func=np.exp
    )
    learner = ActiveLearner(model, X_training=X[:40], y_training=y[:40])
    rule = ExpectedInformation(threshold=0.05, window=1, noise_variance=400.0)
    with pytest.warns(SkbatchbaldWarning, match="ExpectedInformation: noise_va") as w:
        assert rule.update(learner, X[300:]) is True
    assert "transformed target's units: give σ² in those" in str(w[0].message)
    # in log units the same rule does not stop, and says nothing
    rule = ExpectedInformation(threshold=0.05, window=1, noise_variance=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkbatchbaldWarning)
        assert rule.update(learner, X[300:]) is False


def test_a_regressor_without_a_noise_estimate_is_told_what_to_pass(diabetes):
    X, y = diabetes
    forest = RandomForestRegressor(5, random_state=0).fit(X[:20], y[:20])
    for noise in (None, "auto"):
        with pytest.raises(ValueError) as caught:
            ExpectedInformation(noise_variance=noise).update(forest, X[300:])
        message = str(caught.value)
        for phrase in (
            "regression BALD",
            "the RandomForestRegressor gives no estimate of its own",
            "ExpectedInformation(noise_variance=...)",
            "MCDropoutRegressor",
            "signal-to-noise ratio at 1 in every round",
        ):
            assert phrase in message
    with pytest.raises(ValueError, match=r"\(n_stop, n_mc_samples\).*noise_variance"):
        ExpectedInformation().update_from(np.zeros((3, 4)))


def test_a_gaussian_process_uses_its_own_noise(diabetes):
    X, y = diabetes
    y = (y - y.mean()) / y.std()
    gp = GaussianProcessRegressor(RBF(0.1) + WhiteKernel(0.4), optimizer=None)
    gp.fit(X[:30], y[:30])
    rule = ExpectedInformation(threshold=0.01, random_state=0)
    rule.update(gp, X[300:340], n_labels=30)
    assert rule.records_[0]["noise_variance"] == pytest.approx(0.4 + gp.alpha)
    assert 0 < rule.records_[0]["mean_bald"] < rule.records_[0]["ceiling"]


def test_a_regression_run_replays_with_the_noise_as_a_parameter():
    rounds = [np.array([[0.0, 3.0], [1.0, -1.0]]) * s for s in (1.0, 0.3, 0.01)]
    rule = ExpectedInformation(threshold=0.01, window=1, noise_variance=1.0)
    result = evaluate_stop(rule, [10, 20, 30], [0.5, 0.6, 0.61], rounds)
    assert result["stopped"] and result["stop_labels"] == 30
    assert clone(rule).get_params()["noise_variance"] == 1.0


def test_multilabel_bald_closed_form():
    # one input, two samples: label 0 disagrees (0.1 vs 0.9), label 1 agrees
    p = np.array([[[0.1, 0.3], [0.9, 0.3]]])
    rule = ExpectedInformation(threshold=0.01, window=1, multilabel=True)
    rule.update_from(np.log(p))
    expected = _binary_entropy(0.5) - _binary_entropy(0.1)
    assert rule.records_[0]["mean_bald"] == pytest.approx(expected, rel=1e-6)
    assert rule.records_[0]["ceiling"] == pytest.approx(2 * math.log(2))


def test_a_multilabel_learner_is_scored_by_multilabel_bald():
    X, Y = make_multilabel_classification(300, n_classes=4, random_state=0)
    learner = ActiveLearner(
        RandomForestClassifier(30, random_state=0), X_training=X[:40], y_training=Y[:40]
    )
    rule = ExpectedInformation(threshold=0.1, random_state=0)
    rule.update(learner, X[200:])
    samples = predict_multilabel_log_proba_samples(learner, X[200:])
    expected = label_mutual_information(samples).sum(axis=1).mean()
    assert rule.records_[0]["mean_bald"] == pytest.approx(expected, rel=1e-6)
    assert rule.records_[0]["ceiling"] == pytest.approx(4 * math.log(2))
    assert "noise_variance" not in rule.records_[0]


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"noise_variance": 0.0}, ValueError, "noise_variance must be"),
        ({"noise_variance": "fit"}, TypeError, r'None, "auto" or a finite'),
        ({"noise_variance": np.ones(3)}, TypeError, "must be one number"),
        ({"multilabel": "yes"}, TypeError, "multilabel must be None, True"),
    ],
)
def test_bad_new_parameters_are_named(params, error, message):
    with pytest.raises(error, match=message):
        ExpectedInformation(**params).update_from(np.log(np.full((3, 2, 2), 0.5)))


def test_the_threshold_is_checked_against_log_k_for_a_regressor():
    with pytest.raises(ValueError, match=r"at or above log K = 0\.693 \(K=2"):
        ExpectedInformation(threshold=1.0, noise_variance=1.0).update_from(
            np.array([[0.0, 1.0], [0.0, 2.0]])
        )
