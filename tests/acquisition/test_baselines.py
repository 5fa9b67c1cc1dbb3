"""Baselines (max entropy, variation ratios, mean STD, random) and the contract that
every single-point acquisition function shares."""

import math
import warnings

import numpy as np
import pytest
from scipy.stats import chisquare

from skbatchbald.acquisition import (
    TiedScoresWarning,
    bald,
    marginal_entropy,
    max_entropy,
    mean_std,
    power_bald,
    random_batch,
    variation_ratios,
)

DETERMINISTIC = [bald, max_entropy, variation_ratios, mean_std]
ALL = [*DETERMINISTIC, random_batch, power_bald]


def H(p):
    return -sum(q * math.log(q) for q in p if q > 0)


class TestMaxEntropy:
    def test_hand_computed(self):
        p = [
            [[0.9, 0.1], [0.7, 0.3]],  # p̄ = (0.8, 0.2)
            [[0.5, 0.5], [0.3, 0.7]],  # p̄ = (0.4, 0.6)
            [[1.0, 0.0], [1.0, 0.0]],  # p̄ = (1, 0): entropy 0
        ]
        with np.errstate(divide="ignore"):
            log_probs = np.log(p)
        indices, scores = max_entropy(log_probs, 3)
        np.testing.assert_array_equal(indices, [1, 0, 2])
        np.testing.assert_allclose(
            scores, [H([0.4, 0.6]), H([0.8, 0.2]), 0.0], atol=1e-15
        )

    def test_is_top_k_of_marginal_entropy(self, log_probs):
        entropy = marginal_entropy(log_probs)
        indices, scores = max_entropy(log_probs, 6)
        np.testing.assert_array_equal(indices, np.argsort(-entropy, kind="stable")[:6])
        np.testing.assert_array_equal(scores, entropy[indices])


class TestVariationRatios:
    def test_hand_computed(self):
        p = [
            [[0.9, 0.1, 0.0], [0.3, 0.5, 0.2]],  # p̄ = (0.6, 0.3, 0.1): 0.4
            [[0.2, 0.1, 0.7], [0.2, 0.2, 0.6]],  # p̄ = (0.2, .15, .65): 0.35
            [[0.4, 0.3, 0.3], [0.2, 0.5, 0.3]],  # p̄ = (0.3, 0.4, 0.3): 0.6
            [[1.0, 0.0, 0.0], [0.8, 0.1, 0.1]],  # p̄ = (0.9, .05, .05): 0.1
        ]
        with np.errstate(divide="ignore"):
            log_probs = np.log(p)
        indices, scores = variation_ratios(log_probs, 4)
        np.testing.assert_array_equal(indices, [2, 0, 1, 3])
        np.testing.assert_allclose(scores, [0.6, 0.4, 0.35, 0.1], atol=1e-15)

    def test_uses_the_mean_probability_not_votes(self):
        # both samples vote class 0, but p̄ = (0.55, 0.45): 0.45, not 0
        log_probs = np.log([[[0.6, 0.4], [0.5 + 1e-9, 0.5 - 1e-9]]])
        assert variation_ratios(log_probs, 1)[1][0] == pytest.approx(0.45)

    def test_bounded_by_one_minus_one_over_c(self, make_log_probs):
        _, scores = variation_ratios(make_log_probs(30, 5, 4), 30)
        assert (scores >= 0).all()
        assert (scores <= 1 - 1 / 4 + 1e-15).all()


class TestMeanStd:
    def test_hand_computed_population_std(self):
        p = [
            [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]],  # per class: std(1, 0, .5)
            [[0.9, 0.1], [0.1, 0.9], [0.5, 0.5]],  # std(.9, .1, .5)
            [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]],  # 0
        ]
        with np.errstate(divide="ignore"):
            log_probs = np.log(p)
        indices, scores = mean_std(log_probs, 3)
        # ddof=0: sqrt(((.5)^2 + (.5)^2 + 0) / 3) = sqrt(1/6); ddof=1 would be 0.5
        expected = [math.sqrt(1 / 6), math.sqrt((0.4**2 + 0.4**2) / 3), 0.0]
        np.testing.assert_array_equal(indices, [0, 1, 2])
        np.testing.assert_allclose(scores, expected, atol=1e-15)

    def test_averages_over_classes(self):
        # population stds over the 2 samples, per class: 0.15, 0.1, 0.05
        log_probs = np.log([[[0.4, 0.4, 0.2], [0.1, 0.6, 0.3]]])
        assert mean_std(log_probs, 1)[1][0] == pytest.approx((0.15 + 0.1 + 0.05) / 3)

    def test_one_sample_scores_zero(self, make_log_probs):
        # every score 0: a uniform draw, with a warning (see test_ties.py)
        with pytest.warns(TiedScoresWarning):
            indices, scores = mean_std(make_log_probs(10, 1, 3), 4)
        assert len(set(indices.tolist())) == 4
        np.testing.assert_array_equal(scores, 0.0)


class TestRandomBatch:
    def test_same_seed_same_picks(self, log_probs):
        first = random_batch(log_probs, 10, random_state=7)
        second = random_batch(log_probs, 10, random_state=7)
        np.testing.assert_array_equal(first[0], second[0])

    def test_different_seeds_differ(self, log_probs):
        picks = {tuple(random_batch(log_probs, 10, random_state=s)[0]) for s in [1, 2]}
        assert len(picks) == 2

    def test_generator_advances(self, log_probs):
        rng = np.random.default_rng(0)
        first, _ = random_batch(log_probs, 10, random_state=rng)
        second, _ = random_batch(log_probs, 10, random_state=rng)
        assert not np.array_equal(first, second)

    def test_scores_are_zero(self, log_probs):
        _, scores = random_batch(log_probs, 5, random_state=0)
        np.testing.assert_array_equal(scores, np.zeros(5))

    def test_uniform(self):
        # every point is equally likely to be drawn (fixed seeds: deterministic)
        log_probs = np.full((8, 2, 2), np.log(0.5))
        counts = np.zeros(8)
        for seed in range(1000):
            indices, _ = random_batch(log_probs, 3, random_state=seed)
            counts[indices] += 1
        assert chisquare(counts).pvalue > 1e-3


@pytest.mark.parametrize("function", ALL)
class TestContract:
    """What every single-point acquisition function promises."""

    def test_return_types(self, function, log_probs):
        indices, scores = function(log_probs, 7, random_state=0)
        assert indices.dtype == np.int64
        assert scores.dtype == np.float64
        assert indices.shape == scores.shape == (7,)
        assert len(set(indices.tolist())) == 7
        assert ((indices >= 0) & (indices < len(log_probs))).all()

    def test_whole_pool(self, function, log_probs):
        indices, _ = function(log_probs, len(log_probs), random_state=0)
        np.testing.assert_array_equal(np.sort(indices), np.arange(len(log_probs)))

    def test_neg_inf_entries(self, function, log_probs_with_zeros):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _, scores = function(log_probs_with_zeros, 30, random_state=0)
        assert np.isfinite(scores).all()

    def test_float32(self, function, log_probs):
        indices, scores = function(log_probs.astype(np.float32), 5, random_state=0)
        assert scores.dtype == np.float64
        assert indices.dtype == np.int64

    @pytest.mark.parametrize(
        ("n_instances", "error", "got"),
        [
            (0, ValueError, "got 0"),
            (41, ValueError, "got 41"),
            (2.5, TypeError, "got 2.5 of type float"),
            (True, TypeError, "got True of type bool"),
            ("3", TypeError, "got '3' of type str"),
        ],
    )
    def test_bad_n_instances(self, function, log_probs, n_instances, error, got):
        expected = rf"n_instances must be an int in \[1, 40\], {got}"
        with pytest.raises(error, match=expected):
            function(log_probs, n_instances)

    def test_nan(self, function, log_probs):
        log_probs[3, 2, 1] = np.nan
        with pytest.raises(ValueError, match="log_probs contains NaN"):
            function(log_probs, 2)

    def test_pos_inf(self, function, log_probs):
        log_probs[3, 2, 1] = np.inf
        with pytest.raises(ValueError, match=r"log_probs contains \+inf"):
            function(log_probs, 2)

    def test_probabilities(self, function, log_probs):
        with pytest.raises(ValueError, match=r"did you pass probabilities\?"):
            function(np.exp(log_probs), 2)

    def test_logits(self, function, log_probs):
        with pytest.raises(ValueError, match="apply log_softmax over the class axis"):
            function(log_probs + 1.0, 2)

    def test_wrong_ndim(self, function, log_probs):
        with pytest.raises(ValueError, match=r"got an array of shape \(40, 8\)"):
            function(log_probs[:, :, 0], 2)

    def test_one_class(self, function):
        with pytest.raises(ValueError, match="at least 2 classes"):
            function(np.zeros((5, 3, 1)), 2)

    def test_empty_pool(self, function):
        with pytest.raises(ValueError, match="empty pool"):
            function(np.zeros((0, 3, 2)), 1)

    def test_no_samples(self, function):
        with pytest.raises(ValueError, match="no posterior samples"):
            function(np.zeros((5, 0, 2)), 1)


@pytest.mark.parametrize("function", DETERMINISTIC)
class TestDeterministic:
    def test_identical_points_tie_to_the_lowest_index(self, function, make_log_probs):
        # nine copies of one point and a last, other point: the copies tie
        a, b = make_log_probs(2, 5, 3, seed=6)
        pool = np.concatenate([np.repeat(a[None], 9, axis=0), b[None]])
        indices, scores = function(pool, 4)
        b_first = function(np.stack([a, b]), 1)[0][0] == 1
        expected = [9, 0, 1, 2] if b_first else [0, 1, 2, 3]
        np.testing.assert_array_equal(indices, expected)
        assert (scores[1:] == scores[1]).all()

    def test_ties_between_groups(self, function, make_log_probs):
        a, b = make_log_probs(2, 5, 3, seed=4)
        pool = np.stack([a, b, a, b, a])
        indices, _ = function(pool, 5)
        best_a = function(np.stack([a, b]), 1)[0][0] == 0
        expected = [0, 2, 4, 1, 3] if best_a else [1, 3, 0, 2, 4]
        np.testing.assert_array_equal(indices, expected)

    def test_permutation_equivariance(self, function, log_probs):
        perm = np.random.default_rng(5).permutation(len(log_probs))
        indices, scores = function(log_probs, 8)
        perm_indices, perm_scores = function(log_probs[perm], 8)
        np.testing.assert_array_equal(perm[perm_indices], indices)
        np.testing.assert_array_equal(perm_scores, scores)

    def test_scores_decrease(self, function, log_probs):
        _, scores = function(log_probs, 40)
        assert (np.diff(scores) <= 0).all()
