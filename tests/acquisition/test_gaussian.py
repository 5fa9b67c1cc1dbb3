"""bald_gaussian and batchbald_gaussian against the Gaussian entropies."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skbatchbald.acquisition import (
    SaturationWarning,
    bald_gaussian,
    bald_regression,
    batchbald_gaussian,
    batchbald_regression,
)


def _covariance(rng, n, rank=None):
    rank = n if rank is None else rank
    factor = rng.normal(size=(n, rank)) * rng.uniform(0.1, 2.0, size=(n, 1))
    return factor @ factor.T


def _information(cov, noise, batch):
    """I(y_B; f) = H(y_B) - H(y_B | f) from the two Gaussians' log dets."""
    batch = list(batch)
    d = np.broadcast_to(noise, (len(cov),))[batch]
    joint = np.linalg.slogdet(cov[np.ix_(batch, batch)] + np.diag(d))[1]
    return 0.5 * (joint - np.log(d).sum())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("per_point", [False, True])
def test_greedy_picks_the_best_extension_of_every_batch(seed, per_point):
    rng = np.random.default_rng(seed)
    n = 7
    cov = _covariance(rng, n, rank=rng.integers(2, n + 1))
    noise = rng.uniform(0.05, 2.0, size=n) if per_point else 0.3
    indices, scores = batchbald_gaussian(cov, 4, noise_variance=noise)
    batch = []
    for pick, score in zip(indices, scores, strict=True):
        values = {
            x: _information(cov, noise, [*batch, x]) for x in range(n) if x not in batch
        }
        best = max(values.values())
        # the greedy's pick is a best extension (ties to the lowest index)
        assert pick == min(x for x, v in values.items() if v >= best - 1e-10)
        batch.append(pick)
        np.testing.assert_allclose(score, _information(cov, noise, batch), atol=1e-10)


def test_first_pick_is_balds_top_and_scores_agree():
    rng = np.random.default_rng(3)
    cov = _covariance(rng, 40)
    indices, scores = batchbald_gaussian(cov, 5, noise_variance=0.5)
    top, top_scores = bald_gaussian(np.diag(cov), 5, noise_variance=0.5)
    assert indices[0] == top[0]
    np.testing.assert_allclose(scores[0], top_scores[0])
    np.testing.assert_allclose(top_scores, 0.5 * np.log1p(np.diag(cov)[top] / 0.5))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 25),
    log_noise=st.floats(-6, 6),
)
def test_gains_never_increase_and_stay_below_the_sum_of_bald(seed, n, log_noise):
    rng = np.random.default_rng(seed)
    cov = _covariance(rng, n, rank=int(rng.integers(1, n + 1)))
    noise = 10.0**log_noise
    with warnings.catch_warnings():
        # a rank-deficient covariance leaves variance 0 after `rank` picks
        warnings.simplefilter("ignore", SaturationWarning)
        indices, scores = batchbald_gaussian(cov, n, noise_variance=noise)
    gains = np.diff(scores, prepend=0.0)
    assert (gains >= 0).all()
    assert (np.diff(gains) <= 1e-9 * max(1.0, gains[0])).all()
    # subadditivity: the joint information is at most the sum of the parts
    single = 0.5 * np.log1p(np.diag(cov)[indices] / noise)
    assert (scores <= np.cumsum(single) + 1e-9 * np.cumsum(single).max()).all()
    assert sorted(indices) == list(range(n))


@pytest.mark.parametrize("seed", range(4))
def test_equals_the_sample_functions_on_the_sample_covariance(seed):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(30, 12)) * rng.uniform(0.1, 3.0, size=(30, 1))
    cov = np.cov(f, bias=True)  # Var_k divided by K, as the sample functions
    noise = 0.7
    expected = batchbald_regression(f, 8, noise_variance=noise)
    got = batchbald_gaussian(cov, 8, noise_variance=noise)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-9)
    expected = bald_regression(f, 8, noise_variance=noise)
    got = bald_gaussian(np.diag(cov), 8, noise_variance=noise)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-9)


def test_picks_do_not_change_with_the_units_of_y():
    rng = np.random.default_rng(0)
    cov = _covariance(rng, 30, rank=6)
    picks = batchbald_gaussian(cov, 10, noise_variance=0.2)
    for c in (1e-12, 1e12):
        scaled = batchbald_gaussian(cov * c, 10, noise_variance=0.2 * c)
        np.testing.assert_array_equal(scaled[0], picks[0])
        np.testing.assert_allclose(scaled[1], picks[1], rtol=1e-9)


def test_a_diverse_point_beats_a_near_copy():
    cov = np.array([[1.0, 0.999, 0.0], [0.999, 1.0, 0.0], [0.0, 0.0, 0.5]])
    assert list(batchbald_gaussian(cov, 2, noise_variance=0.1)[0]) == [0, 2]
    assert list(bald_gaussian(np.diag(cov), 2, noise_variance=0.1)[0]) == [0, 1]


def test_points_with_nothing_left_to_tell_come_last_with_a_warning():
    v = np.array([1.0, 2.0, 0.5, 1.5])
    # rank 1: with noise, each pick still leaves some variance elsewhere
    indices, scores = batchbald_gaussian(np.outer(v, v), 3, noise_variance=1e-3)
    assert indices[0] == 1 and (np.diff(scores) > 0).all()
    # variance exactly 0 (a noiseless kernel at seen inputs): nothing to tell
    cov = np.diag([1.0, 0.0, 0.0, 2.0])
    with pytest.warns(SaturationWarning, match="after pick 2 of 3"):
        indices, scores = batchbald_gaussian(cov, 3, noise_variance=1.0)
    assert list(indices) == [3, 0, 1]  # then pool order
    assert scores[2] == scores[1]


def test_round_off_below_zero_counts_as_zero():
    cov = np.diag([1.0, -1e-14, 0.5])
    with pytest.warns(SaturationWarning, match="after pick 2 of 3"):
        indices, _ = batchbald_gaussian(cov, 3, noise_variance=1.0)
    assert list(indices) == [0, 2, 1]
    assert bald_gaussian(np.diag(cov), 1, noise_variance=1.0)[0][0] == 0


def test_stochastic_draws_follow_the_scores():
    variance = np.array([0.0, 0.0, 5.0, 0.0, 4.0])
    draws = [
        set(
            bald_gaussian(
                variance, 2, noise_variance=1.0, stochastic="power", random_state=seed
            )[0]
        )
        for seed in range(20)
    ]
    # power sampling never draws a score of 0 while positive ones are left
    assert all(draw == {2, 4} for draw in draws)


@pytest.mark.parametrize(
    ("covariance", "noise", "match"),
    [
        (np.ones((3, 2)), 1.0, r"shape \(n_pool, n_pool\)"),
        (np.ones(3), 1.0, r"shape \(n_pool, n_pool\)"),
        (np.array([[1.0, 0.5], [0.2, 1.0]]), 1.0, "not symmetric"),
        (np.diag([1.0, -0.5]), 1.0, "negative variance"),
        (np.diag([1.0, np.nan]), 1.0, "NaN or inf"),
        (np.array([[1.0, np.inf], [np.inf, 1.0]]), 1.0, "NaN or inf"),
        (np.eye(3), 0.0, "finite and > 0"),
        (np.eye(3), [1.0, 2.0], r"one variance per pool point, shape \(3,\)"),
        (np.eye(3), np.ones((3, 2)), r"shape \(3,\) or \(3, 1\)"),
    ],
)
def test_bad_input_is_refused(covariance, noise, match):
    with pytest.raises(ValueError, match=match):
        batchbald_gaussian(covariance, 1, noise_variance=noise)


@pytest.mark.parametrize(
    ("variance", "match"),
    [
        (np.eye(2), r"shape \(n_pool,\)"),
        (np.array([]), r"shape \(n_pool,\)"),
        (np.array([1.0, -1.0]), "negative variance"),
        (np.array([1.0, np.inf]), "NaN or inf"),
    ],
)
def test_bald_refuses_bad_variances(variance, match):
    with pytest.raises(ValueError, match=match):
        bald_gaussian(variance, 1, noise_variance=1.0)


def test_one_noise_per_point_as_a_column_too():
    # bald_regression and batchbald_regression take (N, 1)
    rng = np.random.default_rng(0)
    factor = rng.normal(size=(8, 5))
    covariance, noise = factor @ factor.T, rng.uniform(0.2, 2.0, 8)
    for fn, posterior in (
        (batchbald_gaussian, covariance),
        (bald_gaussian, np.diag(covariance)),
    ):
        vector = fn(posterior, 3, noise_variance=noise)
        column = fn(posterior, 3, noise_variance=noise[:, None])
        np.testing.assert_array_equal(vector[0], column[0])
        np.testing.assert_allclose(vector[1], column[1])


def test_strings_are_a_type_error():
    with pytest.raises(TypeError, match="real numbers"):
        bald_gaussian(np.array(["a", "b"]), 1, noise_variance=1.0)


def test_every_batch_of_the_pool_is_enumerated_against_the_greedy_bound():
    # the greedy batch of 3 is within 1 - 1/e of the best batch of 3
    rng = np.random.default_rng(7)
    cov = _covariance(rng, 8, rank=3)
    best = max(
        _information(cov, 0.1, batch) for batch in itertools.combinations(range(8), 3)
    )
    score = batchbald_gaussian(cov, 3, noise_variance=0.1)[1][-1]
    assert (1 - 1 / np.e) * best <= score <= best + 1e-12
