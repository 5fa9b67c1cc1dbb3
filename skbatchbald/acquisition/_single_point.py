"""A single-point score's batch: validate, score every point, take the top-k or draw.

What every single-point acquisition function (BALD, max entropy, variation
ratios, mean STD, margin, EPIG) shares: in memory or block by block over a
memmap or dask pool, with the same picks.
"""

import numpy as np

from .._validation import check_stochastic
from ._normalisation import normalisation
from ._pool import as_chunked_pool
from ._stochastic import select
from ._ties import uniform_if_tied
from ._topk import top_k
from ._validation import (
    check_log_probs,
    check_n_instances,
    check_random_state,
)


def acquire_top(
    log_probs, n_instances, score_fn, *, stochastic=None, beta=None, random_state=None
):
    """Validate, score every pool point, return the batch: top-k or a stochastic draw.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_classes)
    n_instances : int
    score_fn : callable
        ``score_fn(log_probs) -> ndarray of shape (n_pool,)`` on validated input.
    stochastic : None or {"power", "softmax", "softrank"}, default=None
        See ``_stochastic``.
    beta : None or float, default=None
    random_state : None, int, Generator or RandomState, default=None

    Returns
    -------
    indices : ndarray of shape (n_instances,), int64
    scores : ndarray of shape (n_instances,), float64
        ``score_fn``'s values at ``indices``.
    """
    pool = as_chunked_pool(log_probs)
    if pool is not None:
        stochastic, beta = check_stochastic(stochastic, beta)
        rng = check_random_state(random_state)
        if stochastic is None:
            return _acquire_top_blocks(pool, n_instances, score_fn, rng)
        # a draw needs every point's score (8 bytes a point), block by block
        n_instances = _check_pool(pool, n_instances)
        scores = _scores_of_blocks(pool, score_fn)
        indices = select(scores, n_instances, stochastic, beta, rng)
        return indices, scores[indices]
    log_probs = check_log_probs(log_probs)
    n_instances = check_n_instances(n_instances, log_probs.shape[0])
    stochastic, beta = check_stochastic(stochastic, beta)
    rng = check_random_state(random_state)
    scores = np.asarray(score_fn(log_probs), dtype=np.float64)
    indices = select(scores, n_instances, stochastic, beta, rng)
    return indices, scores[indices]


def _top_block(block, start, score_fn, n_instances, tol):
    """One block's validation summary and its best ``n_instances`` candidates."""
    summary = normalisation(block, tol, start)
    if summary.invalid:
        return summary, np.empty(0, np.int64), np.empty(0), (np.inf, -np.inf)
    scores = np.asarray(score_fn(block), dtype=np.float64)
    best = top_k(scores, min(n_instances, len(scores)))
    return summary, best + start, scores[best], (scores.min(), scores.max())


def _block_scores(block, start, score_fn, tol):
    """One block's validation summary and every point's score."""
    summary = normalisation(block, tol, start)
    if summary.invalid:
        return summary, np.empty(0)
    return summary, np.asarray(score_fn(block), dtype=np.float64)


def _check_pool(pool, n_instances):
    """Check a chunked pool's dtype and shape (not its values); n_instances."""
    pool.check_layout()
    return check_n_instances(n_instances, pool.shape[0])


def _scores_of_blocks(pool, score_fn):
    """Every point's score of a memmap or dask pool, validated, shape (N,)."""
    parts = pool.map(_block_scores, score_fn, pool.tol)
    pool.raise_if_invalid([part[0] for part in parts], "log_probs")
    return np.concatenate([part[1] for part in parts])


def _acquire_top_blocks(pool, n_instances, score_fn, rng):
    """`acquire_top` on a memmap or dask pool: one pass, a top-k per block.

    A block's top ``n_instances`` holds every point of the pool's top
    ``n_instances`` that lies in the block (ties to the lowest index in both), so
    the top of their union is the pool's top: the same picks as in memory,
    also the uniform draw made when every score is the same.
    """
    n_instances = _check_pool(pool, n_instances)
    parts = pool.map(_top_block, score_fn, n_instances, pool.tol)
    pool.raise_if_invalid([part[0] for part in parts], "log_probs")
    low = min(part[3][0] for part in parts)
    high = max(part[3][1] for part in parts)
    tied = uniform_if_tied(low, high, pool.shape[0], n_instances, rng)
    if tied is not None:
        return tied, np.full(n_instances, high)
    indices = np.concatenate([part[1] for part in parts])  # ascending per block
    scores = np.concatenate([part[2] for part in parts])
    order = np.argsort(indices, kind="stable")  # ties go to the lowest index
    best = order[top_k(scores[order], n_instances)]
    return indices[best], scores[best]
