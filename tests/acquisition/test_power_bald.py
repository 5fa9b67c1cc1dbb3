"""power_bald: draws without replacement with probability ∝ BALD^β."""

import itertools
import warnings

import numpy as np
import pytest
from scipy.stats import chisquare

from skbatchbald.acquisition import bald, mutual_information, power_bald


@pytest.fixture
def graded_pool():
    """5 points, 2 samples, 2 classes: p_k = (0.5 ± d, 0.5 ∓ d), BALD grows with d."""
    d = np.array([0.05, 0.1, 0.2, 0.3, 0.45])[:, None]
    probs = np.stack([np.hstack([0.5 + d, 0.5 - d]), np.hstack([0.5 - d, 0.5 + d])], 1)
    return np.log(probs)  # (5, 2, 2)


def first_pick_counts(log_probs, beta, n_trials):
    counts = np.zeros(len(log_probs))
    for seed in range(n_trials):
        counts[power_bald(log_probs, 1, beta=beta, random_state=seed)[0][0]] += 1
    return counts


@pytest.mark.parametrize("beta", [0.5, 1.0])
def test_first_pick_follows_bald_to_the_beta(graded_pool, beta):
    weights = mutual_information(graded_pool) ** beta
    counts = first_pick_counts(graded_pool, beta, n_trials=3000)
    expected = counts.sum() * weights / weights.sum()
    assert chisquare(counts, expected).pvalue > 1e-3
    # and the test has the power to tell another law apart
    wrong = counts.sum() * weights**2 / (weights**2).sum()
    assert chisquare(counts, wrong).pvalue < 1e-6


def test_ordered_pairs_follow_sampling_without_replacement(graded_pool):
    # P(i then j) = w_i / W * w_j / (W - w_i)
    weights = mutual_information(graded_pool)
    total = weights.sum()
    pairs = list(itertools.permutations(range(5), 2))
    expected = np.array([weights[i] / total * weights[j] / (total - weights[i])
                         for i, j in pairs])  # fmt: skip
    counts = dict.fromkeys(pairs, 0)
    n_trials = 5000
    for seed in range(n_trials):
        i, j = power_bald(graded_pool, 2, random_state=seed)[0]
        counts[int(i), int(j)] += 1
    observed = np.array([counts[pair] for pair in pairs])
    assert chisquare(observed, n_trials * expected).pvalue > 1e-3


def test_same_seed_same_picks(log_probs):
    first = power_bald(log_probs, 10, random_state=3)
    second = power_bald(log_probs, 10, random_state=3)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_generator_advances(log_probs):
    rng = np.random.default_rng(0)
    first, _ = power_bald(log_probs, 10, random_state=rng)
    second, _ = power_bald(log_probs, 10, random_state=rng)
    assert not np.array_equal(first, second)


def test_scores_are_the_bald_of_the_picks(log_probs):
    indices, scores = power_bald(log_probs, 12, random_state=0)
    np.testing.assert_array_equal(scores, mutual_information(log_probs)[indices])


@pytest.mark.parametrize("n_instances", [1, 5, 40])
def test_beta_inf_equals_bald(log_probs, n_instances):
    expected = bald(log_probs, n_instances)
    for seed in range(3):
        result = power_bald(log_probs, n_instances, beta=np.inf, random_state=seed)
        np.testing.assert_array_equal(result[0], expected[0])
        np.testing.assert_array_equal(result[1], expected[1])


def test_beta_inf_equals_bald_with_zero_scores(make_log_probs):
    pool = make_log_probs(10, 4, 3)
    pool[[1, 4, 6]] = np.log(1 / 3)  # uniform: BALD exactly 0
    expected = bald(pool, 10)
    result = power_bald(pool, 10, beta=float("inf"), random_state=0)
    np.testing.assert_array_equal(result[0], expected[0])


def test_huge_beta_is_top_k_without_overflow(log_probs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        indices, _ = power_bald(log_probs, 10, beta=1e300, random_state=0)
    np.testing.assert_array_equal(indices, bald(log_probs, 10)[0])


def test_small_beta_is_nearly_uniform(graded_pool):
    counts = first_pick_counts(graded_pool, beta=1e-6, n_trials=2000)
    assert chisquare(counts).pvalue > 1e-3


class TestZeroBald:
    ZERO = np.array([0, 2, 5, 6, 8])

    @pytest.fixture
    def pool(self, make_log_probs):
        pool = make_log_probs(9, 3, 2)
        pool[self.ZERO] = np.log(0.5)  # all samples agree: BALD exactly 0
        return pool

    def test_drawn_only_after_every_positive_point(self, pool):
        assert (mutual_information(pool)[self.ZERO] == 0).all()
        positive = np.setdiff1d(np.arange(9), self.ZERO)
        for seed in range(20):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                indices, scores = power_bald(pool, 7, random_state=seed)
            assert set(indices[:4].tolist()) == set(positive.tolist())
            assert set(indices[4:].tolist()) <= set(self.ZERO.tolist())
            assert len(set(indices.tolist())) == 7
            np.testing.assert_array_equal(scores[4:], 0.0)

    def test_zero_points_come_in_random_order(self, pool):
        tails = {tuple(power_bald(pool, 9, random_state=s)[0][4:]) for s in range(10)}
        assert len(tails) > 1

    def test_all_zero(self):
        pool = np.full((6, 4, 3), np.log(1 / 3))
        indices, scores = power_bald(pool, 6, random_state=0)
        np.testing.assert_array_equal(np.sort(indices), np.arange(6))
        np.testing.assert_array_equal(scores, 0.0)


@pytest.mark.parametrize("beta", [0, 0.0, -1.0, np.nan, -np.inf])
def test_bad_beta(log_probs, beta):
    with pytest.raises(ValueError, match=r"beta must be a real number > 0 .*got"):
        power_bald(log_probs, 2, beta=beta)


@pytest.mark.parametrize("beta", [True, "1", None, 1j])
def test_beta_of_a_wrong_type(log_probs, beta):
    with pytest.raises(TypeError, match=r"beta must be a real number > 0 .*of type"):
        power_bald(log_probs, 2, beta=beta)
