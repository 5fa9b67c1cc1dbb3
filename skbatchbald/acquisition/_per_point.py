"""Per-point values of a pool, in memory or block by block."""

from ._chunks import per_point_in_memory
from ._pool import as_chunked_pool, map_per_point


def per_point(log_probs, reduce):
    """Apply ``reduce(log_p, p)`` to float64 chunks of the pool; return shape (N,).

    Parameters
    ----------
    log_probs : ndarray, numpy.memmap or dask array of shape (N, K, C)
        Validated log-probabilities (float32 or float64). A memmap or dask array
        is mapped over its row blocks, in parallel (``_pool.py``).
    reduce : callable
        As for ``_chunks.per_point_in_memory``.

    Returns
    -------
    values : ndarray of shape (n_pool,), float64
    """
    pool = as_chunked_pool(log_probs)
    if pool is not None:
        return map_per_point(pool, reduce)
    return per_point_in_memory(log_probs, reduce)
