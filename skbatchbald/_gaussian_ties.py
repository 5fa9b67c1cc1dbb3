"""Ties among a Gaussian process's top points, broken at random instead of by row.

A GP's posterior variance is its prior variance, the same number, at every
point far from the labels (measured in the kernel's length scales): with
unscaled features or a length scale fitted on a few labels, most of a pool
can be far. A top-k or a greedy over tied scores takes the lowest pool
indices, so a pool sorted by date would have its oldest rows measured first.
The strategies score a seeded permutation of the pool instead, which breaks
those ties at random and leaves every untied pick as it was.
"""

import warnings

import numpy as np

from ._round_off import TIE_RTOL
from ._warnings import user_stacklevel
from .acquisition import TiedScoresWarning

__all__ = ["tie_breaking_order", "warn_tied_top"]


def _tied_with(variance, value):
    """Which variances equal ``value`` up to round-off (relative to their size)."""
    return np.abs(variance - value) <= TIE_RTOL * np.maximum(np.abs(variance), value)


def tie_breaking_order(variance, n_instances, *, joint, seed):
    """A seeded permutation of the pool when ties decide the batch, else None.

    Parameters
    ----------
    variance : ndarray of shape (n_pool,)
        The posterior variance of each pool point (BALD's score is monotone
        in it, ``log(1 + v / noise) / 2``).
    n_instances : int
        Batch size.
    joint : bool
        The batch is BatchBALD's greedy, whose first pick is the largest
        variance and whose later picks go on among tied points: ties at the
        top decide it, also when every point is tied (the caller checks
        whether the covariance ties too, for its uniform draw). Otherwise
        BALD's top-k, which ties straddling its ``n_instances``-th score
        decide; None when every point is tied (BALD draws a uniform batch
        then, with its own warning).
    seed : int
        Seeds the permutation.

    Returns
    -------
    order : ndarray of shape (n_pool,) or None
        Pool indices in the order to score them; None when no tie decides the
        batch.
    """
    n_pool = variance.shape[0]
    if n_instances >= n_pool:
        return None
    n_top = int(_tied_with(variance, float(variance.max())).sum())
    if joint:
        decides = n_top > 1
    elif n_top == n_pool:
        return None
    else:
        nth = float(np.partition(variance, n_pool - n_instances)[n_pool - n_instances])
        tied = _tied_with(variance, nth)
        n_above = int(((variance > nth) & ~tied).sum())
        decides = tied.sum() > n_instances - n_above
    return np.random.default_rng(seed).permutation(n_pool) if decides else None


def warn_tied_top(variance, n_instances):
    """TiedScoresWarning when more points than the batch holds, and over half
    the pool, share the largest variance: the batch is a random choice among
    them. A few tied points are more often copies of one another."""
    n_pool = variance.shape[0]
    largest = float(variance.max())
    n_top = int(_tied_with(variance, largest).sum())
    if n_top <= n_instances or 2 * n_top <= n_pool:
        return
    warnings.warn(
        f"{n_top} of the {n_pool} points (over half) of the pool share the largest "
        f"posterior variance ({largest:.4g}), the prior's: the Gaussian "
        "process sees them as far from every label and cannot rank them, so "
        "the batch is chosen among them at random (seeded by random_state), "
        "not by their order in the pool. The kernel's length scales are short "
        "next to the spread of the inputs: scale the inputs (e.g. a "
        "StandardScaler in a Pipeline) or bound the length scales "
        "(length_scale_bounds).",
        TiedScoresWarning,
        stacklevel=user_stacklevel(),
    )
