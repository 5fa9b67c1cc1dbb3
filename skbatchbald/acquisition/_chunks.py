"""Chunked passes over the pool: bound temporary memory, whatever N is.

Chunks of a few MB are also the fast size: each chunk's temporaries stay in cache
(2x over chunks sized to a large memory budget: docs/benchmarks.rst,
"Measurements behind the kernel").
"""

import numpy as np

# Bytes of one float64 temporary of shape (chunk, K, C).
TILE_BYTES = 4 * 2**20

# Replaces -inf in float64 log-probabilities: exp() of it is 0, and 0 * it is 0,
# so p * log p needs no special case for p == 0.
_MOST_NEGATIVE = np.finfo(np.float64).min


def row_slices(n_rows, bytes_per_row, max_bytes):
    """Yield slices covering ``range(n_rows)`` of at most ``max_bytes`` each.

    Parameters
    ----------
    n_rows : int
        Number of rows (pool points).
    bytes_per_row : int
        Temporary bytes one row needs.
    max_bytes : int
        Budget for one chunk; a chunk always holds at least one row.

    Yields
    ------
    rows : slice
    """
    step = max(1, int(max_bytes // max(1, bytes_per_row)))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def per_point_in_memory(log_probs, reduce, *, max_bytes=None):
    """Apply ``reduce(log_p, p)`` to float64 chunks of an array; return shape (N,).

    Parameters
    ----------
    log_probs : ndarray of shape (N, K, C)
        Validated log-probabilities (float32 or float64) in memory.
    reduce : callable
        ``reduce(log_p, p) -> ndarray of shape (chunk,)``, where ``log_p`` and
        ``p = exp(log_p)`` are float64 arrays of shape (chunk, K, C) and ``-inf``
        in ``log_p`` is replaced by the most negative finite float64, so that
        ``p * log_p`` is 0, not NaN, where ``p == 0``. ``reduce`` may overwrite
        both arrays.
    max_bytes : int, optional
        Size of one float64 temporary of a chunk; default ``TILE_BYTES``.

    Returns
    -------
    values : ndarray of shape (n_pool,), float64
    """
    n_pool, n_mc_samples, n_classes = log_probs.shape
    out = np.empty(n_pool, dtype=np.float64)
    max_bytes = TILE_BYTES if max_bytes is None else max_bytes
    for rows in row_slices(n_pool, n_mc_samples * n_classes * 8, max_bytes):
        # one pass: cast to float64 and replace -inf
        log_p = np.maximum(log_probs[rows], _MOST_NEGATIVE, dtype=np.float64)
        p = np.exp(log_p)  # (chunk, K, C)
        out[rows] = reduce(log_p, p)
    return out
