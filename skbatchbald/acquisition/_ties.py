"""When every pool point has the same score: a uniform draw, and a warning."""

import warnings

import numpy as np

from .._round_off import scores_tied
from .._warnings import SkbatchbaldWarning, user_stacklevel

__all__ = ["TiedScoresWarning", "uniform_if_tied"]


class TiedScoresWarning(SkbatchbaldWarning):
    """Every pool point had the same score, so the batch was drawn at random.

    A score that is the same for every point cannot rank them; the top-k of
    a single-point score (BALD, max entropy, variation ratios, mean STD,
    margin, EPIG) would then be the first rows of the pool, whatever their
    order. The batch is drawn uniformly at random instead, from the call's
    ``random_state``, as :class:`~skbatchbald.RandomQuery` would draw it, and
    this warning says so. The usual cause is a model whose probabilities
    carry no uncertainty: a fully grown tree, ``n_mc_samples=1`` on a forest,
    an AdaBoost whose probabilities coincide everywhere, or posterior samples
    that all agree. Use more posterior samples or a model with graded
    probabilities, or ``RandomQuery`` to make the random batch explicit.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skbatchbald.acquisition import TiedScoresWarning, margin
    >>> log_probs = np.log(np.full((6, 1, 2), 0.5))  # the same for every point
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     indices, scores = margin(log_probs, 2, random_state=0)
    >>> [w.category.__name__ for w in caught], scores
    (['TiedScoresWarning'], array([1., 1.]))
    """


def uniform_if_tied(low, high, n_pool, n_instances, rng, *, scale=1.0):
    """A uniform batch, with a warning, when every pool score is equal; else None.

    Parameters
    ----------
    low, high : float
        The smallest and largest score over the pool.
    n_pool : int
        Pool size.
    n_instances : int
        Batch size, in ``[1, n_pool]``. A batch of the whole pool is the
        pool in its order, without a warning: no choice is left to make.
    rng : numpy.random.Generator
        Source of the draw.
    scale : float, default=1.0
        Size of the terms the scores were computed from: scores within
        ``1e-12 * max(scale, |low|, |high|)`` of each other are tied. The
        classifiers' scores are differences of entropies of order 1, whose
        round-off is absolute (1.0); a score computed to full relative
        precision passes 0, so that tiny scores that differ 30-fold (BALD of
        a regression whose noise is 1e14 times the samples' variance) are
        not taken for a tie.

    Returns
    -------
    indices : ndarray of shape (n_instances,), int64, or None
        Distinct pool indices in draw order, or None when the scores differ.
    """
    if n_instances >= n_pool or not scores_tied(low, high, scale=scale):
        return None
    warnings.warn(
        f"all {n_pool} pool points have the same score ({high:.6g}), so the "
        "score cannot rank them: the batch is drawn uniformly at random (seeded "
        "by random_state) instead of being the first rows of the pool. The "
        "model's probabilities carry no uncertainty to rank by (a fully grown "
        "tree, n_mc_samples=1 on a forest, an AdaBoost whose probabilities "
        "coincide, or posterior samples that all agree): use more posterior "
        "samples or a model with graded probabilities, or RandomQuery to make "
        "the random batch explicit.",
        TiedScoresWarning,
        stacklevel=user_stacklevel(),
    )
    return rng.choice(n_pool, size=n_instances, replace=False).astype(np.int64)
