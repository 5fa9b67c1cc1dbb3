"""A requested batch: checks of what the loop asks the annotators to label."""

import numpy as np

__all__ = ["check_batch"]


def check_batch(pool_indices, scores):
    """Return a batch as (int array, float array); ValueError if malformed.

    Parameters
    ----------
    pool_indices : array-like of int
        Pool rows to label, in acquisition order.
    scores : array-like of float or None
        The acquisition score of each row; None for zeros.
    """
    indices = np.asarray(pool_indices)
    if indices.ndim != 1 or not (
        indices.size == 0 or np.issubdtype(indices.dtype, np.integer)
    ):
        raise ValueError(
            f"pool_indices must be a 1-d array of ints, got {pool_indices!r}; pass "
            "the pool rows to label, e.g. the indices a query strategy returned."
        )
    indices = indices.astype(int)
    if indices.size and indices.min() < 0:
        raise ValueError(
            f"pool_indices must be >= 0, got {indices.min()}; pass positions in the "
            "pool, not negative offsets."
        )
    unique, counts = np.unique(indices, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(
            f"pool_indices holds {unique[counts > 1].tolist()} more than once; ask "
            "for each pool row once."
        )
    if scores is None:
        scores = np.zeros(indices.size)
    scores = np.asarray(scores, dtype=float)
    if scores.shape != indices.shape:
        raise ValueError(
            f"scores must have one value per pool index ({indices.size}), got shape "
            f"{scores.shape}; pass the scores the query strategy returned, or None."
        )
    return indices, scores
