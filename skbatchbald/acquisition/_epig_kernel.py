"""Shared by EPIG and batch EPIG: target rows, expected entropies of every candidate.

Bickford Smith, Kirsch, Farquhar, Gal, Foster & Rainforth (AISTATS 2023) write

    EPIG(x) = E_{x*} I(y; y* | x, x*) = H[y|x] − E_{x*} E_{y*|x*} H[y | x, x*, y*],

with p(y, y*) = mean_k p(y | x, ω_k) p(y* | x*, ω_k) from the same K posterior samples.
The last term has the shape BatchBALD's chain rule already computes
(``_batchbald_kernel``): each (target input, target label) pair, and in batch EPIG
each (target input, batch labels, target label) configuration, is one row with a
weight w_m and a posterior ``r_m[k] = P(ω_k | row m)``, and

    E H[y | x, row] = Σ_m w_m H(u_m(x)),   u_m(x) = Σ_k r_m[k] p(y | x, ω_k).

The posteriors are normalised in log space (max-shifted logsumexp over k), so tiny
probabilities never underflow into a 0/0; u_m(x) is then a convex combination of
probabilities, safe in float32.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._batchbald_kernel import _FLOOR32, CandidateScorer, _single_threaded_blas
from ._joint_configurations import rows_from_table

# float64 bytes per row of a target chunk: its log table, the shifted exp and the
# posterior rows (K each), and the float32 copy of the rows.
_ROW_BYTES_PER_SAMPLE = 8 * 3 + 4


def target_row_chunks(log_probs_target, log_table_batch, max_rows):
    """Exact rows (x*, ŷ_S, y*), a chunk of target inputs at a time.

    Parameters
    ----------
    log_probs_target : ndarray of shape (N_target, K, C)
        Validated target log-probabilities.
    log_table_batch : ndarray of shape (J, K), float64
        ``log P(ŷ_j | ω_k)`` of every configuration of the batch so far (one row
        of zeros for the empty batch).
    max_rows : int
        Rows per chunk, at most (a chunk holds at least one target input).

    Yields
    ------
    rows : JointRows
        Weights sum to one within the chunk.
    fraction : float
        The chunk's share of the target inputs: its rows' weight in the whole.
    """
    n_target, n_mc_samples, n_classes = log_probs_target.shape
    per_target = log_table_batch.shape[0] * n_classes
    step = max(1, max_rows // per_target)
    for start in range(0, n_target, step):
        chunk = log_probs_target[start : start + step].astype(np.float64)
        # (t, J, C, K): log P(ŷ_j | ω_k) + log p(y* = c | x*, ω_k)
        table = log_table_batch[None, :, None, :] + chunk.transpose(0, 2, 1)[:, None]
        table = table.reshape(-1, n_mc_samples)
        possible = table.max(axis=1) > -np.inf  # drop rows of probability 0
        # every x*'s rows sum to one under each ω_k: normalising over the chunk
        # gives each x* the weight 1 / t, E_{x*} over the chunk
        yield rows_from_table(table[possible]), chunk.shape[0] / n_target


def rows_bytes(n_rows, n_mc_samples):
    """Bytes the rows of a chunk take (see `target_row_chunks`)."""
    return n_rows * (n_mc_samples * _ROW_BYTES_PER_SAMPLE + 16)


def make_scorer(log_probs, budget, max_workers=None):
    """A `CandidateScorer`: float32 kernel for float32 pools, float64 otherwise."""
    if log_probs.dtype == np.float32:
        return CandidateScorer(log_probs, budget, max_workers=max_workers)
    # the float64 path reads the pool directly: no float32 copy, one worker
    return CandidateScorer(log_probs, CandidateScorer.worker_bytes(log_probs.shape))


def expected_entropies(scorer, posterior, weights):
    """Σ_m w_m H(u_m(x)) of every pool point, shape (N,), float64.

    The float32 kernel (float64 sums) when the pool is float32, each tile on one
    thread; float64 arithmetic throughout otherwise.
    """
    n_pool = scorer.log_probs.shape[0]
    if scorer.log_probs.dtype != np.float32:
        return scorer.expected_entropy64(posterior, weights, np.arange(n_pool))
    posterior32 = posterior.astype(np.float32)
    posterior32[posterior32 < _FLOOR32] = 0.0
    weights32 = weights.astype(np.float32)
    weights32[weights32 < _FLOOR32] = 0.0
    out = np.empty(n_pool)

    def score(tile):
        candidates = np.arange(tile.start, tile.stop)
        out[tile] = scorer._score_tile(candidates, posterior32, weights32)

    # one BLAS thread per worker: the workers already use every core
    with _single_threaded_blas():
        if scorer.n_workers == 1 or len(scorer.tiles) == 1:
            for tile in scorer.tiles:
                score(tile)
        else:
            with ThreadPoolExecutor(scorer.n_workers) as executor:
                list(executor.map(score, scorer.tiles))
    return out
