"""stochastic=: Gumbel-top-k draws for every single-point acquisition function."""

import itertools

import numpy as np
import pytest
from scipy.stats import chisquare

from skbatchbald.acquisition import (
    bald,
    margin,
    marginal_entropy,
    max_entropy,
    mean_std,
    mutual_information,
    power_bald,
    variation_ratios,
)

SINGLE_POINT = [bald, max_entropy, variation_ratios, mean_std, margin]


@pytest.fixture
def graded_pool():
    """5 points, 2 samples, 2 classes: p_k = (0.5 ± d, 0.5 ∓ d), BALD grows with d."""
    d = np.array([0.05, 0.1, 0.2, 0.3, 0.45])[:, None]
    probs = np.stack([np.hstack([0.5 + d, 0.5 - d]), np.hstack([0.5 - d, 0.5 + d])], 1)
    return np.log(probs)  # (5, 2, 2)


def law(scores, stochastic, beta):
    """The first pick's probabilities the paper defines, from the scores."""
    if stochastic == "power":
        weights = scores**beta
    elif stochastic == "softmax":
        weights = np.exp(beta * (scores - scores.max()))
    else:
        ranks = np.empty(len(scores))
        ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
        for value in np.unique(scores):  # ties share their mean rank
            tied = scores == value
            ranks[tied] = ranks[tied].mean()
        weights = ranks**-beta
    return weights / weights.sum()


def first_picks(log_probs, stochastic, beta, n_trials):
    counts = np.zeros(len(log_probs))
    for seed in range(n_trials):
        picked, _ = bald(log_probs, 1, stochastic=stochastic, beta=beta,
                         random_state=seed)  # fmt: skip
        counts[picked[0]] += 1
    return counts


@pytest.mark.parametrize(
    ("stochastic", "beta"),
    [
        ("power", 1.0),
        ("softmax", 4.0),
        ("softmax", 10.0),
        ("softrank", 1.0),
        ("softrank", 2.0),
    ],
)
def test_first_pick_follows_the_law(graded_pool, stochastic, beta):
    scores = mutual_information(graded_pool)
    n_trials = 3000
    counts = first_picks(graded_pool, stochastic, beta, n_trials)
    assert chisquare(counts, n_trials * law(scores, stochastic, beta)).pvalue > 1e-3
    # the test can tell the law from the same law at another temperature
    wrong = law(scores, stochastic, 2 * beta)
    assert chisquare(counts, n_trials * wrong).pvalue < 1e-6


@pytest.mark.parametrize("stochastic", ["softmax", "softrank"])
def test_ordered_pairs_follow_sampling_without_replacement(graded_pool, stochastic):
    weights = law(mutual_information(graded_pool), stochastic, 3.0)
    pairs = list(itertools.permutations(range(5), 2))
    expected = np.array([weights[i] * weights[j] / (1 - weights[i])
                         for i, j in pairs])  # fmt: skip
    counts = dict.fromkeys(pairs, 0)
    n_trials = 5000
    for seed in range(n_trials):
        i, j = bald(graded_pool, 2, stochastic=stochastic, beta=3.0,
                    random_state=seed)[0]  # fmt: skip
        counts[int(i), int(j)] += 1
    observed = np.array([counts[pair] for pair in pairs])
    assert chisquare(observed, n_trials * expected).pvalue > 1e-3


def test_softrank_ignores_the_score_values_only_their_order(graded_pool):
    # a monotone transform of the scores leaves the rank law unchanged
    squashed = mutual_information(graded_pool) ** 5
    counts = first_picks(graded_pool, "softrank", 1.0, 2000)
    assert chisquare(counts, 2000 * law(squashed, "softrank", 1.0)).pvalue > 1e-3


def test_softrank_gives_tied_scores_equal_chances(graded_pool):
    # four copies of the top point: equal scores, so equally likely first
    # picks (ranked 1 to 4 by index, the first was four times the last)
    top = int(np.argmax(mutual_information(graded_pool)))
    rest = np.delete(graded_pool, top, axis=0)
    pool = np.concatenate([np.repeat(graded_pool[top : top + 1], 4, axis=0), rest])
    counts = first_picks(pool, "softrank", 1.0, 3000)
    assert chisquare(counts[:4]).pvalue > 1e-3
    scores = mutual_information(pool)
    assert chisquare(counts, 3000 * law(scores, "softrank", 1.0)).pvalue > 1e-3


def old_power_bald(log_probs, n_instances, beta, seed):
    """power_bald as it was before stochastic= existed (the picks to keep)."""
    rng = np.random.default_rng(seed)
    mi = mutual_information(log_probs)
    positive = np.flatnonzero(mi > 0)
    keys = np.log(mi[positive]) + rng.gumbel(size=positive.size) / beta
    order = np.argsort(-keys, kind="stable")[: min(n_instances, positive.size)]
    indices = positive[order]
    if n_instances > positive.size:
        zero = np.flatnonzero(mi <= 0)
        rest = rng.choice(zero, size=n_instances - positive.size, replace=False)
        indices = np.concatenate([indices, rest])
    return indices


@pytest.mark.parametrize("beta", [0.5, 1.0, 8.0])
def test_power_bald_keeps_its_picks(log_probs, beta):
    # one pool point with BALD exactly 0, to exercise the zero-score tail
    pool = log_probs.copy()
    pool[0] = np.log(0.25)
    for seed in range(20):
        expected = old_power_bald(pool, 40, beta, seed)
        got, _ = power_bald(pool, 40, beta=beta, random_state=seed)
        same, _ = bald(pool, 40, stochastic="power", beta=beta, random_state=seed)
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(same, expected)


@pytest.mark.parametrize("function", SINGLE_POINT)
@pytest.mark.parametrize("stochastic", ["power", "softmax", "softrank"])
def test_same_seed_same_draw_and_distinct_picks(log_probs, function, stochastic):
    first = function(log_probs, 15, stochastic=stochastic, random_state=7)
    second = function(log_probs, 15, stochastic=stochastic, random_state=7)
    np.testing.assert_array_equal(first[0], second[0])
    assert len(set(first[0].tolist())) == 15
    other = function(log_probs, 15, stochastic=stochastic, random_state=8)
    assert not np.array_equal(first[0], other[0])
    # scores are the function's own, not the perturbed keys
    all_indices, all_scores = function(log_probs, len(log_probs))
    by_index = dict(zip(all_indices.tolist(), all_scores.tolist(), strict=True))
    np.testing.assert_array_equal(first[1], [by_index[i] for i in first[0]])


@pytest.mark.parametrize("function", SINGLE_POINT)
@pytest.mark.parametrize("stochastic", ["power", "softmax", "softrank"])
def test_beta_inf_is_the_top_k(log_probs, function, stochastic):
    expected = function(log_probs, 10)
    got = function(log_probs, 10, stochastic=stochastic, beta=np.inf, random_state=1)
    np.testing.assert_array_equal(got[0], expected[0])


def test_large_beta_concentrates_on_the_top(log_probs):
    top = set(max_entropy(log_probs, 5)[0].tolist())
    for seed in range(10):
        picked, _ = max_entropy(log_probs, 5, stochastic="softmax", beta=1e6,
                                random_state=seed)  # fmt: skip
        assert set(picked.tolist()) == top


def test_the_default_remains_deterministic(log_probs):
    scores = marginal_entropy(log_probs)
    picked, _ = max_entropy(log_probs, 5, random_state=3)
    np.testing.assert_array_equal(picked, np.argsort(-scores, kind="stable")[:5])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"stochastic": "gumbel"}, ValueError, "stochastic must be None"),
        ({"stochastic": True}, TypeError, "stochastic must be None"),
        ({"stochastic": "power", "beta": 0.0}, ValueError, "beta must be a real"),
        ({"stochastic": "power", "beta": np.nan}, ValueError, "beta must be a real"),
        ({"stochastic": "softmax", "beta": "2"}, TypeError, "beta must be a real"),
        ({"beta": 2.0}, ValueError, "only used by stochastic acquisition"),
        ({"stochastic": "power", "random_state": -1}, ValueError, "random_state"),
        ({"stochastic": "power", "random_state": 1.5}, TypeError, "random_state"),
    ],
)
@pytest.mark.parametrize("function", SINGLE_POINT)
def test_bad_arguments_raise(log_probs, function, kwargs, error, match):
    with pytest.raises(error, match=match):
        function(log_probs, 3, **kwargs)


def test_mean_ranks_are_scipys_average_ranks_of_the_negated_scores():
    from scipy.stats import rankdata

    from skbatchbald.acquisition._stochastic import _mean_ranks

    rng = np.random.default_rng(0)
    for size in (1, 2, 7, 40):
        scores = rng.integers(0, 4, size=size).astype(float)  # many ties
        np.testing.assert_allclose(
            _mean_ranks(scores), rankdata(-scores, method="average")
        )
