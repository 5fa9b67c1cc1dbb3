"""Every pool point with the same score: a seeded uniform batch and a warning."""

import warnings

import numpy as np
import pytest

from skbatchbald.acquisition import (
    TiedScoresWarning,
    bald,
    bald_regression,
    epig,
    margin,
    max_entropy,
    mean_std,
    multilabel_bald,
    variation_ratios,
)

N_POOL = 60


def _same_for_every_point(n_mc_samples=4):
    """Log-probs whose samples are the same for every point (and every sample)."""
    row = np.log([0.7, 0.2, 0.1])
    return np.broadcast_to(row, (N_POOL, n_mc_samples, 3)).copy()


ACQUIRE = {
    "bald": lambda X, n, **kw: bald(X, n, **kw),
    "max_entropy": lambda X, n, **kw: max_entropy(X, n, **kw),
    "variation_ratios": lambda X, n, **kw: variation_ratios(X, n, **kw),
    "mean_std": lambda X, n, **kw: mean_std(X, n, **kw),
    "margin": lambda X, n, **kw: margin(X, n, **kw),
    "epig": lambda X, n, **kw: epig(X, n, log_probs_target=X[:5], **kw),
    "multilabel_bald": lambda X, n, **kw: multilabel_bald(
        np.log(np.full((*X.shape[:2], 2), 0.3)), n, **kw
    ),
    "bald_regression": lambda X, n, **kw: bald_regression(
        np.ones(X.shape[:2]), n, noise_variance=1.0, **kw
    ),
}


@pytest.mark.parametrize("name", ACQUIRE)
def test_all_tied_scores_give_a_seeded_uniform_batch_and_say_so(name):
    acquire = ACQUIRE[name]
    log_probs = _same_for_every_point()
    with pytest.warns(TiedScoresWarning, match=r"all 60 pool points have the same"):
        indices, scores = acquire(log_probs, 5, random_state=0)
    assert len(set(indices.tolist())) == 5 and indices.dtype == np.int64
    assert (scores == scores[0]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TiedScoresWarning)
        again, _ = acquire(log_probs, 5, random_state=0)
        batches = {tuple(acquire(log_probs, 5, random_state=s)[0]) for s in range(20)}
    np.testing.assert_array_equal(again, indices)  # the seed decides
    assert len(batches) == 20  # not the first rows of the pool every time
    drawn = np.concatenate([list(batch) for batch in batches])
    assert drawn.min() < 10 and drawn.max() >= N_POOL - 10  # the whole pool


def test_the_warning_names_the_causes_and_the_fixes():
    with pytest.warns(TiedScoresWarning) as caught:
        margin(_same_for_every_point(1), 3, random_state=0)
    message = str(caught[0].message)
    for phrase in (
        "cannot rank them",
        "drawn uniformly at random (seeded by random_state)",
        "instead of being the first rows of the pool",
        "n_mc_samples=1 on a forest",
        "AdaBoost",
        "more posterior samples",
        "RandomQuery",
    ):
        assert phrase in message
    assert caught[0].filename == __file__  # points at the caller's line


def test_taking_the_whole_pool_keeps_its_order_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", TiedScoresWarning)
        indices, _ = margin(_same_for_every_point(), N_POOL, random_state=0)
    np.testing.assert_array_equal(indices, np.arange(N_POOL))


def test_some_ties_still_go_to_the_lowest_index(make_log_probs):
    log_probs = _same_for_every_point()
    log_probs[-1] = make_log_probs(1, 4, 3, seed=2)[0]  # one point differs
    with warnings.catch_warnings():
        warnings.simplefilter("error", TiedScoresWarning)
        indices, scores = max_entropy(log_probs, 3, random_state=0)
    expected = [59, 0, 1] if scores[0] > scores[1] else [0, 1, 2]
    np.testing.assert_array_equal(indices, expected)


def test_round_off_is_a_tie_and_a_real_difference_is_not():
    log_probs = _same_for_every_point()
    log_probs[7, :, :2] += [1e-15, -1e-15]  # the same probabilities, but for ulps
    with pytest.warns(TiedScoresWarning):
        margin(log_probs, 3, random_state=0)
    log_probs[7] = np.log([0.5, 0.4, 0.1])  # a real margin: point 7 first
    with warnings.catch_warnings():
        warnings.simplefilter("error", TiedScoresWarning)
        indices, _ = margin(log_probs, 3, random_state=0)
    np.testing.assert_array_equal(indices, [7, 0, 1])


def test_an_infinite_end_is_never_a_tie():
    # 1e-12 * inf would make any spread a tie, and the batch a random draw
    from skbatchbald._round_off import scores_tied
    from skbatchbald.acquisition._ties import uniform_if_tied

    assert not scores_tied(-np.inf, 0.3)
    assert not scores_tied(0.3, np.inf)
    assert scores_tied(0.3, 0.3 + 1e-14)
    rng = np.random.default_rng(0)
    assert uniform_if_tied(-np.inf, 0.3, 10, 3, rng) is None


def test_the_warning_names_the_cause_of_the_model_kind():
    from skbatchbald.acquisition import bald_gaussian

    constant = np.zeros((N_POOL, 5))  # trees fitted on one target value
    with pytest.warns(TiedScoresWarning, match="regressor's posterior samples") as w:
        bald_regression(constant, 3, noise_variance=1.0, random_state=0)
    assert "probabilities" not in str(w[0].message)
    with pytest.warns(TiedScoresWarning, match=r"Gaussian process.*length") as w:
        bald_gaussian(np.full(N_POOL, 2.0), 3, noise_variance=1.0, random_state=0)
    assert "probabilities" not in str(w[0].message)
    with pytest.warns(TiedScoresWarning, match="probabilities carry no uncertainty"):
        bald(_same_for_every_point(), 3, random_state=0)
