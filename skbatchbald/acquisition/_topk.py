"""Top-k selection shared by every single-point acquisition function."""

import numpy as np

from ._validation import check_log_probs, check_n_instances, check_random_state


def top_k(scores, k):
    """Indices of the ``k`` largest scores, best first, ties to the lowest index.

    Parameters
    ----------
    scores : ndarray of shape (n,)
        No NaN.
    k : int
        In ``[0, n]``.

    Returns
    -------
    indices : ndarray of shape (k,), int64
        Ordered by decreasing score; equal scores in increasing index order, so the
        result is the first ``k`` of a stable sort by decreasing score.

    Notes
    -----
    O(n) partition to find the k-th largest score, then a stable sort of the
    candidates at or above it only (all of them, so that ties at the boundary go
    to the lowest indices, which ``argpartition`` alone does not guarantee).
    """
    if k == 0:
        return np.empty(0, dtype=np.int64)
    threshold = np.partition(scores, len(scores) - k)[len(scores) - k]
    candidates = np.flatnonzero(scores >= threshold)  # increasing index order
    order = np.argsort(-scores[candidates], kind="stable")[:k]
    return candidates[order].astype(np.int64, copy=False)


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
    from ._stochastic import check_stochastic, select  # _stochastic imports top_k

    log_probs = check_log_probs(log_probs)
    n_instances = check_n_instances(n_instances, log_probs.shape[0])
    stochastic, beta = check_stochastic(stochastic, beta)
    rng = check_random_state(random_state)
    scores = np.asarray(score_fn(log_probs), dtype=np.float64)
    indices = select(scores, n_instances, stochastic, beta, rng)
    return indices, scores[indices]
