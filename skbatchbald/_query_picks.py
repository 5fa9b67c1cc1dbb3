"""Calling a modAL-style query strategy once and checking what it returns."""

import numpy as np

from ._validation import count_rows

__all__ = ["checked_query_idx", "strategy_picks"]


def strategy_picks(strategy, learner, candidates, query_args=(), query_kwargs=None):
    """Call ``strategy`` once: (checked indices, metrics or None).

    modAL re-runs the strategy whenever unpacking its result into a pair
    fails, which doubles the cost and mis-reads a result of length 2.
    """
    result = strategy(learner, candidates, *query_args, **(query_kwargs or {}))
    if isinstance(result, tuple) and len(result) == 2:
        query_idx, query_metrics = result
    else:
        query_idx, query_metrics = result, None
    n_candidates = count_rows(candidates, "X_pool")
    return checked_query_idx(query_idx, n_candidates), query_metrics


def checked_query_idx(query_idx, n_candidates):
    """The strategy's indices as a 1-D int array of positions in the candidates.

    A bare int (``np.argmax(scores)``, modAL's custom-strategy idiom) becomes
    one index, so the picked rows keep the pool's 2-D shape and ``teach``
    takes them; floats, masks of another length and positions outside the
    pool are refused here rather than as an indexing error later.
    """
    query_idx = np.asarray(query_idx)
    if query_idx.size == 0 and query_idx.ndim <= 1:  # [] is float64
        return np.empty(0, dtype=np.int64)
    if query_idx.dtype == bool and query_idx.shape == (n_candidates,):
        return np.flatnonzero(query_idx)
    if query_idx.dtype.kind not in "iu" or query_idx.ndim > 1:
        raise TypeError(
            "the query strategy must return the picked positions in X_pool as "
            f"ints (a 1-D array, a list or one int); got an array of dtype "
            f"{query_idx.dtype} and shape {query_idx.shape}. Return e.g. "
            "np.argsort(-scores)[:n_instances], not the scores."
        )
    query_idx = np.atleast_1d(query_idx).astype(np.int64, copy=False)
    outside = (query_idx < -n_candidates) | (query_idx >= n_candidates)
    if outside.any():
        raise ValueError(
            f"the query strategy returned position {query_idx[outside][0]} for "
            f"a pool of {n_candidates} rows: positions must be in "
            f"[0, {n_candidates}). A strategy gets the untaught rows only when "
            "the pool is a torch Dataset; index what it was given."
        )
    return query_idx % n_candidates if n_candidates else query_idx
