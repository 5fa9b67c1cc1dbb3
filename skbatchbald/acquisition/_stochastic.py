"""Stochastic acquisition: draw a batch without replacement, biased by a score.

Kirsch, Farquhar, Atighehchian, Jesson, Branchaud-Charron & Gal (2023), "Stochastic
Batch Acquisition: A Simple Baseline for Deep Active Learning", TMLR. Each successive
pick is drawn among the points not yet picked with probability proportional to

- ``"softmax"``:  exp(β s_i)
- ``"power"``:    s_i^β            (scores must be >= 0)
- ``"softrank"``: rank_i^(−β)      (rank 1 is the highest score; ties share
  their mean rank)

Gumbel-top-k makes that one vectorised draw: with i.i.d. standard Gumbel noise ε_i,
the k largest keys ``log p_i + ε_i`` are such a draw (Kool, van Hoof & Welling,
ICML 2019). Dividing a key by β does not change the ranking, so keys are formed as
``log-weight / β + ε_i / β`` with the β left out of the weight: no overflow for
large β, and β = inf is the deterministic top-k.
"""

import numpy as np

from ._ties import uniform_if_tied
from ._topk import top_k


def _power(scores, n_instances, beta, rng):
    if (scores < 0).any():
        raise ValueError(
            f"stochastic='power' needs scores >= 0 (p ∝ score^beta), got a minimum "
            f"of {scores.min():.6g}; use stochastic='softmax' or 'softrank' for "
            f"scores that can be negative"
        )
    positive = np.flatnonzero(scores > 0)
    # β log s + ε ranked the same as log s + ε / β, which cannot overflow for large β
    keys = np.log(scores[positive]) + rng.gumbel(size=positive.size) / beta
    indices = positive[top_k(keys, min(n_instances, positive.size))]
    if n_instances > positive.size:
        # probability 0: drawn only after every positive score, uniformly
        zero = np.flatnonzero(scores <= 0)
        rest = rng.choice(zero, size=n_instances - positive.size, replace=False)
        indices = np.concatenate([indices, rest])
    return indices


def _softmax(scores, n_instances, beta, rng):
    keys = scores + rng.gumbel(size=scores.size) / beta
    return top_k(keys, n_instances)


def _mean_ranks(scores):
    """Rank 1 for the highest score; equal scores share the mean of their ranks."""
    order = np.argsort(-scores, kind="stable")
    ordered = scores[order]
    group = np.cumsum(np.r_[True, ordered[1:] != ordered[:-1]]) - 1
    positions = np.arange(1, scores.size + 1)
    mean = np.bincount(group, weights=positions) / np.bincount(group)
    ranks = np.empty(scores.size)
    ranks[order] = mean[group]
    return ranks


def _softrank(scores, n_instances, beta, rng):
    # rank 1 for the highest score; equal scores share their mean rank, so they
    # are equally likely (ranked by index, the first of a tie group of a
    # forest's quantised scores was hundreds of times likelier than the last)
    ranks = _mean_ranks(scores)
    keys = -np.log(ranks) + rng.gumbel(size=scores.size) / beta
    return top_k(keys, n_instances)


_DRAW = {"power": _power, "softmax": _softmax, "softrank": _softrank}


def select(
    scores, n_instances, stochastic, beta, rng, *, tie_scale=1.0, tie_cause=None
):
    """Indices of the batch: top-k of ``scores``, or a Gumbel-top-k draw.

    Parameters
    ----------
    scores : ndarray of shape (n,), float64
        No NaN.
    n_instances : int
        In ``[1, n]``.
    stochastic : None or {"power", "softmax", "softrank"}
        Validated mode.
    beta : float
        Validated inverse temperature; ``inf`` is the deterministic top-k.
    rng : numpy.random.Generator
        Used for a stochastic draw with finite β, and for the top-k's uniform
        draw when every score is the same (see ``_ties``).
    tie_scale : float, default=1.0
        ``scale`` of :func:`~._ties.uniform_if_tied`: 1.0 for scores whose
        round-off is absolute, 0.0 for scores of full relative precision.
    tie_cause : str or None, default=None
        ``cause`` of :func:`~._ties.uniform_if_tied`: the kind of model scored.

    Returns
    -------
    indices : ndarray of shape (n_instances,), int64
        Distinct, in pick (draw) order.
    """
    if stochastic is None or np.isinf(beta):
        tied = uniform_if_tied(
            scores.min(),
            scores.max(),
            scores.size,
            n_instances,
            rng,
            scale=tie_scale,
            cause=tie_cause,
        )
        return top_k(scores, n_instances) if tied is None else tied
    indices = _DRAW[stochastic](scores, n_instances, beta, rng)
    return indices.astype(np.int64, copy=False)
