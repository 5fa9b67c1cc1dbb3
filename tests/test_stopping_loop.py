"""The stopping rules in real loops: ActiveLearner, sampled estimators, a plain
loop, and the evaluation against the best fixed stop in hindsight."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald import ActiveLearner, BALDQuery, MCDropoutClassifier
from skbatchbald.acquisition import mutual_information
from skbatchbald.nn import BayesianMLP
from skbatchbald.sampling import predict_log_proba_samples
from skbatchbald.stopping import (
    ExpectedInformation,
    StabilizingPredictions,
    evaluate_stop,
    hindsight_stop,
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X, y


def test_rules_follow_an_active_learner(digits):
    X, y = digits
    forest = RandomForestClassifier(n_estimators=10, random_state=0)
    learner = ActiveLearner(
        forest, BALDQuery(random_state=0), X_training=X[:30], y_training=y[:30]
    )
    X_stop, X_pool, y_pool = X[1500:], X[30:1500], y[30:1500]
    stable = StabilizingPredictions(window=2)
    information = ExpectedInformation(random_state=0)
    for _ in range(3):
        idx, rows = learner.query(X_pool, n_instances=20)
        learner.teach(rows, y_pool[idx])
        X_pool, y_pool = np.delete(X_pool, idx, axis=0), np.delete(y_pool, idx)
        stable.update(learner, X_stop)
        information.update(learner, X_stop)
        expected = predict_log_proba_samples(learner.estimator, X_stop)
        assert information.records_[-1]["mean_bald"] == pytest.approx(
            mutual_information(expected).mean()
        )
    assert list(stable.history_["n_labels"]) == [50, 70, 90]
    assert list(information.history_["n_labels"]) == [50, 70, 90]
    assert stable.predictions_.tolist() == learner.predict(X_stop).tolist()
    assert information.history_["mean_bald"].iloc[-1] > 0


@pytest.mark.slow
def test_information_of_an_mc_dropout_pipeline_uses_its_samples(digits):
    X, y = digits
    net = MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        module__hidden_sizes=(32,),
        max_epochs=20,
        n_mc_samples=8,
        random_state=0,
        verbose=0,
    )
    model = make_pipeline(StandardScaler(), net).fit(X[:200], y[:200])
    X_stop = X[1600:]
    rule = ExpectedInformation(random_state=3)
    rule.update(model, X_stop, n_labels=200)
    rule.update(model, X_stop, n_labels=210)  # a second round (no refit)
    samples = predict_log_proba_samples(model, X_stop, random_state=np.int64(0))
    assert samples.shape[1] == 8
    # an int random_state draws the same masks each round: same model, same score
    first, second = rule.history_["mean_bald"]
    assert first == second > 0
    assert rule.history_["ceiling"][0] == pytest.approx(np.log(8))


def test_a_plain_loop_without_a_learner(digits):
    X, y = digits
    X_stop = X[1500:]
    rule = StabilizingPredictions(window=2, threshold=0.9)
    forest = RandomForestClassifier(n_estimators=100, random_state=0)
    decisions = []
    for n in (100, 400, 800, 1200, 1300, 1400):
        forest.fit(X[:n], y[:n])
        decisions.append(rule.update(forest, X_stop, n_labels=n))
    assert list(rule.history_["n_labels"]) == [100, 400, 800, 1200, 1300, 1400]
    kappas = rule.history_["kappa"].to_numpy()
    assert kappas[1] < kappas[-1]  # more data, steadier predictions
    assert decisions == [False, False, False, True, True, True]


@pytest.mark.parametrize(
    "rule",
    [StabilizingPredictions(), ExpectedInformation(threshold=2.0, random_state=0)],
)
def test_re_running_a_round_on_the_same_learner_never_stops(rule, digits):
    # A day's script run again (the rule saved and loaded in between): the
    # same 100 labels, the same model, three times.
    X, y = digits
    forest = RandomForestClassifier(n_estimators=10, random_state=0)
    learner = ActiveLearner(forest, X_training=X[:100], y_training=y[:100])
    X_stop = X[1500:]
    for _ in range(4):
        rule = pickle.loads(pickle.dumps(rule))
        assert rule.update(learner, X_stop) is False
    assert rule.n_rounds_ == 1
    assert list(rule.history_["n_labels"]) == [100]
    assert rule.stop_round_ is None


def test_hindsight_stop_is_the_first_round_within_tolerance():
    accuracy = [0.50, 0.80, 0.894, 0.896, 0.91, 0.90]
    labels = [10, 20, 30, 40, 50, 60]
    assert hindsight_stop(labels, accuracy, tolerance=0.005) == 3
    assert hindsight_stop(labels, accuracy, tolerance=0.0) == 4  # >= final
    assert hindsight_stop(labels, accuracy, tolerance=0.5) == 0


def test_evaluate_stop_scores_the_rules_first_stop():
    labels = [10, 20, 30, 40, 50, 60]
    accuracy = [0.5, 0.7, 0.8, 0.85, 0.86, 0.9]
    final = np.arange(40) % 3
    noise = np.random.default_rng(0).integers(3, size=(2, 40))
    preds = [noise[0], noise[1], final, final, final, final]
    result = evaluate_stop(StabilizingPredictions(window=2), labels, accuracy, preds)
    # stable from round 3 (kappa 1 at 3 and 4): stop at round 4 = 3 + 2 - 1
    assert result["stopped"] and result["stop_round"] == 4
    assert result["stop_labels"] == 50 and result["stop_accuracy"] == 0.86
    assert result["hindsight_labels"] == 60
    assert result["extra_labels"] == -10
    assert result["accuracy_lost"] == pytest.approx(4.0)
    assert result["labels_saved"] == 10


def test_a_rule_that_never_stops_is_scored_at_the_last_round():
    preds = [np.random.default_rng(t).integers(5, size=30) for t in range(4)]
    result = evaluate_stop(
        StabilizingPredictions(), [10, 20, 30, 40], [0.1, 0.2, 0.3, 0.4], preds
    )
    assert not result["stopped"]
    assert result["stop_labels"] == 40 and result["labels_saved"] == 0
    assert result["accuracy_lost"] == 0.0


def test_accuracy_in_percent_is_refused():
    labels, accuracy = [10, 20, 30], [89.7, 89.9, 90.0]
    message = r"a fraction, at most 1; got 89\.7 at round 0 \(a percentage\?\); divide"
    with pytest.raises(ValueError, match=message):
        hindsight_stop(labels, accuracy)
    preds = [np.arange(10) % 3] * 3
    with pytest.raises(ValueError, match=message):
        evaluate_stop(StabilizingPredictions(window=2), labels, accuracy, preds)


def test_rounds_out_of_order_name_the_sort():
    preds = [np.arange(10) % 3] * 3
    with pytest.raises(ValueError, match=r"must not decrease.*\(sort by round\)"):
        evaluate_stop(StabilizingPredictions(), [20, 10, 30], [0.5, 0.6, 0.7], preds)


def test_a_negative_score_is_a_score():
    # R² of a regressor may be below 0
    assert hindsight_stop([10, 20, 30, 40], [-0.3, 0.4, 0.7, 0.72]) == 3


def test_a_model_of_one_class_puts_the_round_off_not_the_batch():
    # a cold start's first answers of one class: the rule's advice, not a
    # strategy's
    from skbatchbald.stopping import ExpectedInformation

    X, _ = load_digits(return_X_y=True)
    learner = ActiveLearner(
        RandomForestClassifier(5, random_state=0),
        X_training=X[:8],
        y_training=np.full(8, 3),
    )
    with pytest.raises(ValueError, match=r"one class.*if not result.cold_start"):
        ExpectedInformation().update(learner, X[100:150])


def test_fewer_labels_name_the_labels_spent_of_an_annotation_loop():
    from skbatchbald.stopping import StabilizingPredictions

    rule = StabilizingPredictions()
    rule.update_from(np.arange(10) % 3, n_labels=24)
    with pytest.raises(ValueError, match=r"withdrawn answer.*answered.size \+ "):
        rule.update_from(np.arange(10) % 3, n_labels=23)
