"""margin: 1 − (p1 − p2) of the predictive mean."""

import numpy as np
import pytest

from skbatchbald.acquisition import margin


def brute_force_margin(log_probs):
    mean = np.exp(log_probs.astype(np.float64)).mean(axis=1)  # (N, C)
    ordered = np.sort(mean, axis=1)
    return 1.0 - (ordered[:, -1] - ordered[:, -2])


def test_scores_match_brute_force(make_log_probs):
    log_probs = make_log_probs(50, 6, 5, seed=3)
    indices, scores = margin(log_probs, 50)
    expected = brute_force_margin(log_probs)
    np.testing.assert_allclose(scores, expected[indices], rtol=0, atol=1e-12)
    assert np.all(np.diff(scores) <= 0)
    np.testing.assert_array_equal(np.sort(indices), np.arange(50))


def test_single_posterior_sample_works(make_log_probs):
    # K = 1: a deterministic classifier's own predict_proba
    log_probs = make_log_probs(20, 1, 3, seed=1)
    indices, _ = margin(log_probs, 4)
    expected = brute_force_margin(log_probs)
    np.testing.assert_array_equal(indices, np.argsort(-expected, kind="stable")[:4])


def test_range_is_zero_to_one():
    certain = np.array([[[0.0, -np.inf, -np.inf]]])
    tie = np.array([[[np.log(0.5), np.log(0.5), -np.inf]]])
    log_probs = np.concatenate([certain, tie])
    indices, scores = margin(log_probs, 2)
    np.testing.assert_array_equal(indices, [1, 0])
    np.testing.assert_array_equal(scores, [1.0, 0.0])


def test_uses_the_mean_over_samples_not_each_sample():
    # each sample is certain, of different classes: the mean is a tie
    log_probs = np.array([[[0.0, -np.inf], [-np.inf, 0.0]],
                          np.log([[0.8, 0.2], [0.8, 0.2]])])  # fmt: skip
    indices, scores = margin(log_probs, 1)
    assert indices[0] == 0 and scores[0] == 1.0


def test_power_draw_is_possible_because_scores_are_non_negative(make_log_probs):
    log_probs = make_log_probs(30, 4, 3, seed=2)
    indices, _ = margin(log_probs, 10, stochastic="power", beta=2.0, random_state=0)
    assert len(set(indices.tolist())) == 10


@pytest.mark.parametrize("bad", [np.full((3, 2, 2), np.nan), np.zeros((3, 2, 2))])
def test_bad_log_probs_raise(bad):
    with pytest.raises(ValueError, match="log_probs"):
        margin(bad, 1)
