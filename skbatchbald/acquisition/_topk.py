"""Top-k: the indices of the k largest scores, ties to the lowest index."""

import numpy as np


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
