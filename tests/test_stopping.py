"""The stopping rules decide on constructed sequences as specified."""

import logging
import math
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import cohen_kappa_score

from skbatchbald.acquisition import SaturationWarning, batchbald
from skbatchbald.stopping import ExpectedInformation, StabilizingPredictions

N_STOP = 300


def _stabilising(r, n_rounds, seed=0):
    """Predictions random until round r - 1, equal from round r - 1 on.

    So round r is the first whose kappa with its predecessor is 1.
    """
    rng = np.random.default_rng(seed)
    final = rng.integers(10, size=N_STOP)
    return [
        rng.integers(10, size=N_STOP) if t < r - 1 else final for t in range(n_rounds)
    ]


@pytest.mark.parametrize("window", [1, 3, 5])
@pytest.mark.parametrize("r", [1, 2, 6])
def test_stable_from_round_r_stops_at_r_plus_window_minus_1(r, window):
    rule = StabilizingPredictions(window=window, threshold=0.99)
    decisions = [rule.update_from(p) for p in _stabilising(r, r + window + 4)]
    assert decisions.index(True) == r + window - 1
    assert not any(decisions[: r + window - 1])
    assert all(decisions[r + window - 1 :])
    assert rule.stop_round_ == r + window - 1


def test_noisy_predictions_never_stop():
    rng = np.random.default_rng(1)
    predictions = rng.integers(10, size=N_STOP)
    rule = StabilizingPredictions()
    decisions = []
    for _ in range(30):  # 3 % of the labels change every round: kappa ~ 0.97
        flip = rng.random(N_STOP) < 0.03
        predictions = np.where(flip, rng.integers(10, size=N_STOP), predictions)
        decisions.append(rule.update_from(predictions))
    assert not any(decisions)
    assert rule.stop_round_ is None
    kappas = rule.history_["kappa"].iloc[1:]
    assert kappas.between(0.9, 1.0, inclusive="left").all()
    assert (rule.history_["mean_kappa"].iloc[3:] < 0.99).all()


def test_kappa_is_sklearns():
    rounds = _stabilising(4, 6, seed=3)
    rounds[1] = np.where(np.arange(N_STOP) < 50, 0, rounds[0])  # kappa near 0.8
    rule = StabilizingPredictions(window=2)
    for p in rounds:
        rule.update_from(p)
    history = rule.history_
    assert math.isnan(history["kappa"][0])
    for t in range(1, len(rounds)):
        expected = cohen_kappa_score(rounds[t - 1], rounds[t])
        assert history["kappa"][t] == pytest.approx(expected, abs=1e-12)
        assert history["agreement"][t] == np.mean(rounds[t - 1] == rounds[t])
    assert history["mean_kappa"][2] == pytest.approx(history["kappa"][1:3].mean())


def test_one_class_predictions_never_stop_and_warn():
    # Both rounds one class: chance agreement is 1 and Cohen's kappa 0/0. The
    # rounds agree only trivially, so they must not count as stable.
    rule = StabilizingPredictions(window=1)
    labels = np.array(["cat"] * 5)
    with pytest.warns(UserWarning, match=r"one class \('cat'\) for all 5 stop-set"):
        assert rule.update_from(labels) is False
    with pytest.warns(UserWarning, match="cannot count towards a stop") as caught:
        assert rule.update_from(labels) is False
    assert caught[0].filename == __file__  # the user's line
    assert math.isnan(rule.history_["kappa"][1])
    assert rule.history_["agreement"][1] == 1.0
    assert math.isnan(rule.history_["mean_kappa"][1])


def test_an_imbalanced_loop_stops_only_once_the_rare_class_is_predicted():
    # The majority class for every stop-set input, five rounds in a row, then
    # the rare class predicted for the same 12 inputs from round 5 on.
    majority = np.zeros(1000, dtype=int)
    rare = majority.copy()
    rare[:12] = 1
    rule = StabilizingPredictions()  # window 3, threshold 0.99
    with pytest.warns(UserWarning, match="one class"):
        decisions = [rule.update_from(majority) for _ in range(5)]
    decisions += [rule.update_from(rare) for _ in range(4)]
    assert not any(decisions[:8])
    assert decisions[8] is True  # kappa 1 at rounds 6, 7, 8
    kappas = rule.history_["kappa"]
    assert kappas[1:5].isna().all()
    assert kappas[5] == 0.0  # one round all majority, the next not: no agreement
    assert rule.stop_round_ == 8


def test_a_stop_on_a_few_rare_predictions_warns():
    rare = np.zeros(1000, dtype=int)
    rare[:2] = 1  # two rare-class predictions, the same every round
    rule = StabilizingPredictions()
    decisions = [rule.update_from(rare) for _ in range(3)]
    with pytest.warns(UserWarning, match=r"class 1 for only 2 of 1000 stop-set"):
        assert rule.update_from(rare) is True  # kappa 1 is kappa 1: it stops
    assert not any(decisions)
    rare[:20] = 1  # 20 rare predictions: no warning
    rule = StabilizingPredictions()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [rule.update_from(rare) for _ in range(4)][-1] is True


def _brute_force_bald(log_probs):
    p = np.exp(log_probs.astype(np.float64))
    mean = p.mean(axis=1)
    entropy = -(mean * np.log(mean)).sum(axis=-1)
    conditional = -(p * log_probs).sum(axis=-1).mean(axis=1)
    return entropy - conditional


def _log_probs(rng, n, k, c, spread):
    logits = rng.normal(size=(n, 1, c)) * 3 + spread * rng.normal(size=(n, k, c))
    return logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)


def test_information_is_brute_force_bald():
    rng = np.random.default_rng(0)
    rule = ExpectedInformation(threshold=1e-6)
    rounds = [_log_probs(rng, 7, 5, 3, spread) for spread in (2.0, 1.0, 0.5)]
    for log_probs in rounds:
        rule.update_from(log_probs)
    expected = [_brute_force_bald(lp).mean() for lp in rounds]
    np.testing.assert_allclose(rule.history_["mean_bald"], expected, rtol=1e-10)
    assert rule.history_["ceiling"][0] == pytest.approx(math.log(3))  # log C < log 5
    start = expected[0]
    assert rule.history_["decrease"][2] is not None
    assert math.isnan(rule.history_["decrease"][2])  # window 3: needs round 3
    assert start > expected[2]


def test_information_stops_after_window_rounds_below_threshold():
    rng = np.random.default_rng(1)
    spreads = [2.0, 1.0, 0.02, 0.02, 0.5, 0.02, 0.02, 0.02, 0.02]
    rule = ExpectedInformation(threshold=0.01, window=3)
    decisions = [
        rule.update_from(_log_probs(rng, 50, 8, 4, spread)) for spread in spreads
    ]
    below = list(rule.history_["mean_bald"] < 0.01)
    assert below == [False, False, True, True, False, True, True, True, True]
    # the run of three below the threshold first completes at round 7
    assert decisions == [False] * 7 + [True, True]


def _disagreeing(n_stop, n_disagree, n_classes=10):
    """K = 2 samples: ``n_disagree`` inputs where they are sure of different
    classes (BALD log 2, the ceiling), the rest where they agree (BALD 0)."""
    log_probs = np.full((n_stop, 2, n_classes), -np.inf)
    log_probs[:, :, 0] = 0.0
    log_probs[:n_disagree, 1, 0] = -np.inf
    log_probs[:n_disagree, 1, 1] = 0.0
    return log_probs


def test_batchbald_saturates_where_the_stop_set_mean_does_not():
    # Why the batch score cannot be the signal: 1 % or 50 % of the stop set
    # still informative, BatchBALD's batch score is log K either way.
    few, many = _disagreeing(200, 2), _disagreeing(200, 100)
    with pytest.warns(SaturationWarning):
        _, scores_few = batchbald(few, 3)
    with pytest.warns(SaturationWarning):
        _, scores_many = batchbald(many, 3)
    assert scores_few[-1] == pytest.approx(math.log(2))
    assert scores_many[-1] == pytest.approx(math.log(2))
    rule_few = ExpectedInformation(threshold=0.01, window=2)
    rule_many = ExpectedInformation(threshold=0.01, window=2)
    for _ in range(3):
        rule_few.update_from(few)
        rule_many.update_from(many)
    assert rule_few.history_["mean_bald"][0] == pytest.approx(0.01 * math.log(2))
    assert rule_many.history_["mean_bald"][0] == pytest.approx(0.5 * math.log(2))
    assert rule_few.stop_round_ == 1
    assert rule_many.stop_round_ is None


def test_a_saturated_flat_score_does_not_trigger(caplog):
    # 50 % of the stop set at the ceiling log K, round after round: flat, but
    # because K caps it. The flattening criterion must not read it as converged.
    saturated = _disagreeing(100, 50)
    rule = ExpectedInformation(threshold=0.01, window=2, min_decrease=0.05)
    with caplog.at_level(logging.WARNING, logger="skbatchbald.stopping"):
        decisions = [rule.update_from(saturated) for _ in range(6)]
    assert not any(decisions)
    assert rule.history_["saturated"].all()
    assert rule.history_["saturated_fraction"][0] == 0.5
    assert "Raise n_mc_samples" in caplog.text
    # the same flat level with K large enough to resolve it does trigger
    resolved = np.repeat(saturated, 10, axis=1)[:, :16]  # K = 16, samples alike
    resolved[:50, 8:] = resolved[:50, :8][:, :, [1, 0, *range(2, 10)]]
    flat = ExpectedInformation(threshold=0.01, window=2, min_decrease=0.05)
    decisions = [flat.update_from(resolved) for _ in range(4)]
    assert not flat.history_["saturated"].any()
    assert decisions == [False, False, True, True]


def test_decrease_stops_when_the_gain_flattens():
    rng = np.random.default_rng(2)
    p = np.exp(_log_probs(rng, 40, 6, 3, 1.0))
    rule = ExpectedInformation(threshold=1e-9, window=2, min_decrease=0.2)
    # samples pulled towards their mean: BALD falls fast, then barely
    decisions = [
        rule.update_from(np.log((1 - a) * p + a * p.mean(axis=1, keepdims=True)))
        for a in (0.0, 0.4, 0.7, 0.72, 0.73)
    ]
    history = rule.history_
    mean = history["mean_bald"].to_numpy()
    assert history["decrease"][4] == pytest.approx((mean[2] - mean[4]) / mean[2])
    assert history["decrease"][3] > 0.2 > history["decrease"][4]
    assert decisions == [False, False, False, False, True]


def test_evidence_is_recorded_and_logged_each_round(caplog):
    rule = StabilizingPredictions(window=2)
    with caplog.at_level(logging.INFO, logger="skbatchbald.stopping"):
        for t, p in enumerate(_stabilising(2, 4)):
            rule.update_from(p, n_labels=10 * (t + 1))
    history = rule.history_
    assert list(history.columns) == [
        "round",
        "n_labels",
        "kappa",
        "agreement",
        "mean_kappa",
        "stop",
    ]
    assert list(history["round"]) == [0, 1, 2, 3]
    assert list(history["n_labels"]) == [10, 20, 30, 40]
    assert list(history["stop"]) == [False, False, False, True]
    rounds = [r for r in caplog.records if "StabilizingPredictions round" in r.message]
    assert len(rounds) == 4
    assert "mean_kappa=1" in rounds[3].message
    assert any("says stop at round 3" in r.message for r in caplog.records)
    assert rule.n_rounds_ == 4
    assert rule.stop_labels_ == 40


@pytest.mark.parametrize(
    "rule",
    [
        StabilizingPredictions(window=4, threshold=0.95),
        ExpectedInformation(threshold=0.02, min_decrease=0.1, random_state=3),
    ],
)
def test_clone_and_get_params(rule):
    params = rule.get_params()
    assert clone(rule).get_params() == params
    if isinstance(rule, StabilizingPredictions):
        assert params == {"window": 4, "threshold": 0.95}
        rule.update_from(np.arange(5))
    else:
        assert params["threshold"] == 0.02 and params["random_state"] == 3
        rule.update_from(np.log(np.full((5, 2, 2), 0.5)))
    fresh = clone(rule)
    assert not hasattr(fresh, "records_")
    with pytest.raises(NotFittedError, match="no round yet"):
        fresh.history_  # noqa: B018
    assert rule.set_params(window=2).window == 2


def test_a_round_evaluated_again_replaces_its_record():
    # Re-running a day's script calls update at the labels of the last round:
    # that round again, compared with the one before, never a new round.
    rounds = _stabilising(3, 3, seed=4)  # rounds 0, 1 random, 2 the final labels
    rule = StabilizingPredictions(window=2)
    for t, p in enumerate(rounds):
        rule.update_from(p, n_labels=10 * (t + 1))
    kappa = rule.history_["kappa"][2]
    for _ in range(3):
        assert rule.update_from(rounds[2], n_labels=30) is False
    assert rule.n_rounds_ == 3 and rule.stop_round_ is None
    assert list(rule.history_["n_labels"]) == [10, 20, 30]
    assert rule.history_["kappa"][2] == kappa  # with round 1, not with itself
    # the round evaluated again on another model: compared with round 1 too
    rule.update_from(rounds[0], n_labels=30)
    assert rule.history_["kappa"][2] == pytest.approx(
        cohen_kappa_score(rounds[1], rounds[0])
    )
    assert rule.predictions_ is rounds[0]
    # the next round carries on from the replaced one
    assert rule.update_from(rounds[0], n_labels=40) is False  # window: 2 kappas
    assert rule.history_["kappa"][3] == 1.0 and rule.n_rounds_ == 4


def test_a_stop_evaluated_again_can_be_withdrawn():
    agree = np.log(np.full((6, 4, 2), 0.5))  # 0 nats
    rule = ExpectedInformation(threshold=0.05, window=1)
    assert rule.update_from(agree, n_labels=10) is True
    assert rule.stop_round_ == 0 and rule.stop_labels_ == 10
    split = np.log(np.tile([[0.1, 0.9], [0.9, 0.1]], (6, 2, 1)))  # 0.18 nats
    assert rule.update_from(split, n_labels=10) is False
    assert not rule.history_["saturated"][0]
    assert rule.n_rounds_ == 1 and not rule.stop_
    assert rule.stop_round_ is None and rule.stop_labels_ is None
    for _ in range(3):  # each round needs its own labels: the same ones once
        rule.update_from(agree, n_labels=20)
    assert rule.n_rounds_ == 2 and rule.stop_round_ == 1


def test_fewer_labels_than_the_last_round_are_refused():
    rule = StabilizingPredictions()
    rule.update_from(np.arange(4), n_labels=20)
    with pytest.raises(ValueError, match="n_labels=10 is fewer than the last"):
        rule.update_from(np.arange(4), n_labels=10)
    assert rule.n_rounds_ == 1
    rule.update_from(np.arange(4))  # labels unknown: a new round, as before
    assert rule.n_rounds_ == 2
