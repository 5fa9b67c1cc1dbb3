"""Pool points whose posterior samples equal a picked point's: its copies.

BatchBALD treats two labels of one input as independent draws, so with soft
posterior samples a copy of a picked point still gains (an MC dropout head on
repeated images: a copy gained 91 % of the best new point, and 10 of 40 labels
were an image asked for twice). A person gives one answer per input: a copy's
label repeats its original's. So once a point is picked, the points whose
(K, C) log-probabilities are bitwise its own leave the candidates, as the
fill in BALD order already puts them last; they come back only when nothing
else is left. Found among the points whose conditional entropy, computed in
float64 from the same row, equals the pick's: a scan of (N,) floats, and an
exact comparison of the few found.
"""

import numpy as np

__all__ = ["copies_of"]

# Equal rows give equal conditional entropies up to the summation's round-off.
_TOLERANCE = 1e-9
# Candidates compared per slice: one-hot samples give many points conditional
# entropy ~0, and all of them reach the exact comparison; slices bound its copy.
_SLICE = 4096


def copies_of(rows, conditional, row, row_conditional):
    """Positions in ``rows`` whose (K, C) values equal ``row`` exactly.

    Parameters
    ----------
    rows : array of shape (n, K, C)
        Pool points (an array, memmap or one block of a chunked pool).
    conditional : ndarray of shape (n,)
        Their conditional entropies E_ω H(y | x, ω), float64.
    row : ndarray of shape (K, C)
        The picked point's log-probabilities.
    row_conditional : float
        Its conditional entropy.
    """
    tolerance = _TOLERANCE * max(1.0, abs(row_conditional))
    near = np.flatnonzero(np.abs(conditional - row_conditional) <= tolerance)
    row = np.asarray(row)
    found = [
        part[(np.asarray(rows[part]) == row).all(axis=(1, 2))]
        for part in np.array_split(near, max(1, -(-near.size // _SLICE)))
        if part.size
    ]
    return np.concatenate(found) if found else np.empty(0, dtype=np.int64)
