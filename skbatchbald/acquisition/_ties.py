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
    probabilities, or ``RandomQuery`` to make the random batch explicit. For
    a regressor the message names its causes instead: samples that spread
    alike everywhere (a model fitted on one target value), or a Gaussian
    process whose fitted length scales leave every pool point at the same
    posterior variance.

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


# Why every score is equal, by the kind of model scored (uniform_if_tied's cause).
_CAUSES = {
    "classifier": (
        "The model's probabilities carry no uncertainty to rank by (a fully "
        "grown tree, n_mc_samples=1 on a forest, an AdaBoost whose "
        "probabilities coincide, or posterior samples that all agree): use "
        "more posterior samples or a model with graded probabilities"
    ),
    "regressor": (
        "The regressor's posterior samples spread alike at every point (a "
        "model fitted on one target value, trees that all agree, or a noise "
        "variance that dwarfs every spread): label more varied examples, use "
        "more varied posterior samples, or check noise_variance"
    ),
    "gaussian": (
        "The Gaussian process gives every pool point the same posterior "
        "variance (its fitted length scales, gp.kernel_, are so short that "
        "every pool point is as unknown as under the prior, or so long that "
        "none is): scale the inputs, or bound the kernel's length_scale_bounds"
    ),
}


def uniform_if_tied(low, high, n_pool, n_instances, rng, *, scale=1.0, cause=None):
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
    cause : {"classifier", "regressor", "gaussian"} or None, default=None
        The kind of model scored, for the warning's likely cause; None is
        "classifier".

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
        "by random_state) instead of being the first rows of the pool. "
        f"{_CAUSES[cause or 'classifier']}; or use RandomQuery to make the "
        "random batch explicit.",
        TiedScoresWarning,
        stacklevel=user_stacklevel(),
    )
    return rng.choice(n_pool, size=n_instances, replace=False).astype(np.int64)
