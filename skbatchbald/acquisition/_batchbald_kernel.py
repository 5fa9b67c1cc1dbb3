"""Score every candidate of one greedy BatchBALD step: tiled GEMM + one x log x pass.

Chain rule (Kirsch, van Amersfoort & Gal, NeurIPS 2019, eq. 9 rewritten): with the
chosen points' label configurations ŷ_j, weights w_j and posterior rows
``r_j[k] = P(ω_k | ŷ_j)`` (``_joint_configurations.JointRows``),

    P(ŷ_j, y_x = c) = P(ŷ_j) u_j(x)[c],   u_j(x) = Σ_k r_j[k] p(y_x | x, ω_k),

so ``H(y_S, y_x) = H(y_S) + Σ_j w_j H(u_j(x))``. For a tile of candidates this is one
(J, K) @ (K, tile * C) product and one pass of ``u log u``. Rows r_j are normalised,
so u lies in [0, 1] and sums to one whatever the joint probabilities are: float32 is
safe there (nothing underflows), and sums over rows are accumulated in float64.

The tiling is fixed by K and C only, never by the memory budget, and each tile is
computed by one thread: results are bitwise identical whatever ``max_memory`` and the
number of workers are.
"""

import math
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import ThreadpoolController

from .._memory import large_empty

# Rows of the joint table per GEMM, and GEMM output columns per candidate tile: an
# output block of 128 x 2048 float32 is 1 MiB, the L2 cache of one core here
# (cache-sized tiles are 2x faster than memory-sized chunks: docs/benchmarks.rst,
# "Measurements behind the kernel").
ROW_BLOCK = 128
TILE_COLUMNS = 2048
# The float64 re-scoring of a few candidates: rows per block and candidates per chunk.
ROW_BLOCK_64 = 256
CHUNK_64 = 16
MAX_WORKERS = 8
# Candidates scored first, alone, to find a good gain to skip the others against.
PROBE = 16

# Probabilities and posterior weights below 2^-60 are set to 2^-60 (probabilities)
# or 0 (weights) in the float32 kernel: u = r @ p is then either >= 2^-60 or, at
# worst, a sum of products >= 2^-120, far from float32 denormals (which are ~100x
# slower), and log(u) never sees 0. The change in any entropy is below 1e-15.
_FLOOR32 = np.float32(2.0**-60)
_EPS32 = float(np.finfo(np.float32).eps) / 2  # unit round-off
_TINY64 = np.finfo(np.float64).tiny


_CONTROLLER = []


def _single_threaded_blas():
    """Context manager limiting BLAS to one thread (library scan done once)."""
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


def available_cores():
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def tile_size(shape):
    """Candidates per tile: TILE_COLUMNS GEMM columns, fixed by the pool's shape."""
    n_pool, _, n_classes = shape
    return min(n_pool, max(1, TILE_COLUMNS // n_classes))


def _probs32(log_probs_tile):
    """(t, K, C) log-probabilities -> (K, t * C) float32 probabilities, floored."""
    probs = np.exp(log_probs_tile, dtype=np.float32)  # (t, K, C)
    np.maximum(probs, _FLOOR32, out=probs)
    n_tile, n_mc_samples, n_classes = probs.shape
    return np.ascontiguousarray(probs.transpose(1, 0, 2)).reshape(
        n_mc_samples, n_tile * n_classes
    )


def _rows32(posterior, weights):
    """Float32 posterior rows and weights, entries below 2^-60 set to 0."""
    posterior32 = posterior.astype(np.float32)
    posterior32[posterior32 < _FLOOR32] = 0.0
    weights32 = weights.astype(np.float32)
    weights32[weights32 < _FLOOR32] = 0.0
    return posterior32, weights32


def float32_error_bound(n_mc_samples, n_classes):
    """Bound on |Σ_j w_j H(u_j) (float32 kernel) − the same in exact arithmetic|.

    Round-off of a sum of same-sign terms is at most (terms) x unit round-off of the
    sum (Higham, Accuracy and Stability of Numerical Algorithms, 2002, eq. 3.5).
    Each u is a K-term dot product of numbers rounded to float32: relative error
    <= (K + 3) ε, which moves u log u by <= (K + 3) ε u |log u + 1|; summed over c
    and over rows this is <= (K + 3) ε (H + 1). The log, the product, the
    ROW_BLOCK-row float32 sum and float32 weights add <= (ROW_BLOCK + 8) ε H. With
    H <= log C, doubled for safety.
    """
    terms = n_mc_samples + ROW_BLOCK + 11
    return 2.0 * _EPS32 * terms * (math.log(n_classes) + 1.0) + 1e-12


def float32_sampled_slack(n_classes):
    """Round-off allowance of the sampled phase's skip test: 16 ε (log C + 1).

    The worst-case bound (`float32_error_bound`) is ~1e-4 nats, more than the
    gains late in a batch, where it would disable skipping. The errors measured on
    the benchmark pools (K = 20..100, C = 2..47) never exceeded 3.2e-7 nats for a
    gain and 1.6e-7 for a bound; this allowance (3.1e-6 at C = 10, 4.6e-6 at
    C = 47) is six to ten times their sum. A skipped candidate could only have
    won by less than the float32 round-off of its own gain: far below the
    estimator's sampling noise.
    """
    return 16.0 * _EPS32 * (math.log(n_classes) + 1.0)


class CandidateScorer:
    """Expected entropies Σ_j w_j H(u_j(x)) of every pool point, tile by tile.

    Parameters
    ----------
    log_probs : ndarray of shape (N, K, C), float32 or float64
        Validated pool log-probabilities.
    budget : int
        Bytes this scorer may use for its buffers (pool copy and per-worker tiles).
        At least `worker_bytes`.
    max_workers : int, optional
        Most worker threads; default: the cores this process may run on. A block of
        a chunked pool is scored with one, its siblings running alongside.
    copy_share : float, default=1.0
        Largest share of ``budget`` the float32 copy of the pool may take.
    """

    def __init__(self, log_probs, budget, max_workers=None, copy_share=1.0):
        self.log_probs = log_probs
        n_pool, n_mc_samples, n_classes = log_probs.shape
        self.tile = tile_size(log_probs.shape)  # candidates per tile
        self.tiles = [
            slice(start, min(start + self.tile, n_pool))
            for start in range(0, n_pool, self.tile)
        ]
        worker = self.worker_bytes(log_probs.shape)
        cache = 4 * n_pool * n_mc_samples * n_classes
        cores = available_cores() if max_workers is None else max_workers
        n_workers = min(cores, len(self.tiles), MAX_WORKERS)
        n_workers = max(1, min(n_workers, budget // worker))
        # The pool's float32 probabilities, laid out (K, N, C) so that a tile's columns
        # are one gather: kept when it fits, else recomputed per tile (same values).
        self.pool32 = None
        if n_workers * worker + cache <= budget and cache <= copy_share * budget:
            self.pool32 = np.empty((n_mc_samples, n_pool, n_classes), np.float32)
            for tile in self.tiles:
                columns = _probs32(log_probs[tile])  # (K, t * C)
                self.pool32[:, tile, :] = columns.reshape(n_mc_samples, -1, n_classes)
        self.n_workers = n_workers
        self._buffers = queue.SimpleQueue()
        for _ in range(n_workers):
            self._buffers.put(
                (
                    np.empty(ROW_BLOCK * self.tile * n_classes, np.float32),
                    np.empty(ROW_BLOCK * self.tile * n_classes, np.float32),
                )
            )

    @staticmethod
    def worker_bytes(shape):
        """Bytes one worker thread needs: its GEMM output, log and pool tile."""
        _, n_mc_samples, n_classes = shape
        columns = tile_size(shape) * n_classes
        # float32 u and log u, the pool tile in float32 (and float64 while the
        # conditional entropies are computed), the float64 accumulator
        return (
            4 * columns * (2 * ROW_BLOCK + n_mc_samples) + 24 * columns * n_mc_samples
        )

    @staticmethod
    def rescore_bytes(n_rows, shape):
        """Bytes of the float64 re-scoring of CHUNK_64 candidates."""
        _, n_mc_samples, n_classes = shape
        columns = CHUNK_64 * n_classes
        rows = min(n_rows, ROW_BLOCK_64)
        return 8 * columns * (3 * rows + 2 * n_mc_samples + 2)

    def conditional_entropy64(self):
        """E_ω H(y_x | ω) = −mean_k Σ_c p log p for every pool point, float64."""
        out = np.empty(self.log_probs.shape[0])
        for tile in self.tiles:
            log_p = self.log_probs[tile].astype(np.float64)  # (t, K, C)
            p = np.exp(log_p)
            # 0 log 0 = 0: -inf log-probabilities have p == 0 exactly
            log_p[p == 0.0] = 0.0
            out[tile] = -np.einsum("tkc,tkc->t", p, log_p) / p.shape[1]
        return out

    def entropy_tables64(self):
        """`conditional_entropy64` and the (N, K) cross-entropies, in one pass.

        ``CE[x, k] = −Σ_c p_k(x)[c] log m(x)[c]`` with m(x) = mean_k p_k(x). For
        any posterior weights q (a distribution over the K samples), Gibbs'
        inequality gives ``H(Σ_k q_k p_k(x)) <= Σ_k q_k CE[x, k]``: one
        matrix-vector product bounds every candidate's expected entropy for the
        rows of a step merged into one (see ``_batchbald._merged_bound``). At q
        uniform the bound minus the conditional entropy is BALD's score.

        Returns
        -------
        conditional : ndarray of shape (N,), float64
        cross : ndarray of shape (N, K), float64
        """
        n_pool, n_mc_samples, _ = self.log_probs.shape
        conditional = np.empty(n_pool)
        cross = large_empty((n_pool, n_mc_samples), np.float64)

        def fill(tile):
            log_p = self.log_probs[tile].astype(np.float64)  # (t, K, C)
            p = np.exp(log_p)
            log_p[p == 0.0] = 0.0  # 0 log 0 = 0
            conditional[tile] = -np.einsum("tkc,tkc->t", p, log_p) / n_mc_samples
            # a sum over the middle axis: einsum's is several times p.mean's speed
            mean = np.einsum("tkc->tc", p) / n_mc_samples
            log_mean = np.log(np.maximum(mean, _TINY64))  # (t, C)
            cross[tile] = -np.einsum("tkc,tc->tk", p, log_mean)

        # tiles are independent: the same numbers on any number of threads
        self._map_tiles(fill, self.tiles)
        return conditional, cross

    def _map_tiles(self, fn, tiles):
        """Call ``fn`` on every tile, on the worker threads (BLAS single-threaded)."""
        with _single_threaded_blas():
            if self.n_workers == 1 or len(tiles) <= 1:
                for tile in tiles:
                    fn(tile)
                return
            with ThreadPoolExecutor(min(self.n_workers, len(tiles))) as executor:
                list(executor.map(fn, tiles))

    def _columns(self, candidates):
        """(K, t * C) float32 probabilities of a few candidates (sorted or not)."""
        if self.pool32 is None:
            return _probs32(self.log_probs[candidates])
        n_mc_samples = self.pool32.shape[0]
        return self.pool32[:, candidates, :].reshape(n_mc_samples, -1)

    def _score_tile(self, candidates, posterior32, weights32):
        n_classes = self.log_probs.shape[2]
        columns = self._columns(candidates)  # (K, t * C)
        width = columns.shape[1]
        acc = np.zeros(width)  # (t * C,) float64
        flat_u, flat_log = self._buffers.get()
        try:
            for start in range(0, posterior32.shape[0], ROW_BLOCK):
                block = slice(start, start + ROW_BLOCK)
                rows = posterior32[block]  # (b, K)
                u = flat_u[: rows.shape[0] * width].reshape(rows.shape[0], width)
                log_u = flat_log[: u.size].reshape(u.shape)
                np.matmul(rows, columns, out=u)  # (b, t * C): u_j(x)[c]
                np.log(u, out=log_u)
                np.multiply(u, log_u, out=log_u)
                acc += weights32[block] @ log_u  # (t * C,)
        finally:
            self._buffers.put((flat_u, flat_log))
        return -acc.reshape(-1, n_classes).sum(axis=1)

    def bound_gains32(self, posterior, weights, conditional, candidates):
        """Gains Σ_j w_j H(u_j(x)) − E_ω H(y_x | ω) of every candidate, float32
        kernel, for a few rows (those of a bound: at most K).

        Nothing is skipped, so the candidates are scored in pool order: spans
        of consecutive points, wider than a tile by as much as the few rows
        leave room for in a worker's buffers, one span per task on the worker
        threads. Each candidate's value is computed as in `best_gains32`.

        Parameters
        ----------
        posterior : ndarray of shape (G, K), float64
        weights : ndarray of shape (G,), float64
        conditional : ndarray of shape (N,), float64
        candidates : ndarray of shape (N,), bool

        Returns
        -------
        gains : ndarray of shape (N,), float64
            -inf where ``candidates`` is False.
        """
        posterior32, weights32 = _rows32(posterior, weights)
        _, n_mc_samples, _ = self.log_probs.shape
        n_rows = min(posterior32.shape[0], ROW_BLOCK)
        # float32 u, log u and pool columns of a span take no more than a tile's
        span = self.tile * (2 * ROW_BLOCK + n_mc_samples) // (2 * n_rows + n_mc_samples)
        gains = np.full(candidates.shape, -np.inf)

        def score(start):
            inside = candidates[start : start + span]
            if inside.all():  # late in a batch, most spans: a view, no gather
                points = slice(start, start + inside.size)
            else:
                points = start + np.flatnonzero(inside)
                if not points.size:
                    return
            values = self._score_tile(points, posterior32, weights32)
            gains[points] = values - conditional[points]

        self._map_tiles(score, range(0, candidates.shape[0], span))
        return gains

    def best_gains32(self, posterior, weights, conditional, upper, slack):
        """Gains Σ_j w_j H(u_j(x)) − E_ω H(y_x | ω), float32 kernel, best first.

        Candidates are scored in tiles in decreasing order of ``upper``; a tile is
        skipped when ``upper + slack`` of its first candidate is below the best
        gain found so far, so it cannot hold the argmax.

        Parameters
        ----------
        posterior : ndarray of shape (J, K), float64
        weights : ndarray of shape (J,), float64
        conditional : ndarray of shape (N,), float64
        upper : ndarray of shape (N,), float64
            Upper bounds of the gains; -inf for points that are not candidates.
        slack : float
            Bound on |float32 gain − exact gain| plus the bound's own error.

        Returns
        -------
        gains : ndarray of shape (N,), float64
            Float32-kernel gains (within `float32_error_bound` of the exact ones)
            of every scored candidate; -inf elsewhere.
        n_scored : int
        """
        posterior32, weights32 = _rows32(posterior, weights)
        # only the candidates are sorted (ascending indices, stable: the order of
        # sorting every point and dropping the -inf ones)
        order = np.flatnonzero(upper > -np.inf)
        order = order[np.argsort(-upper[order], kind="stable")]
        gains = np.full(upper.shape, -np.inf)
        if order.size == 0:
            return gains, 0
        best = [-np.inf]
        lock = threading.Lock()

        def score(candidates):
            if upper[candidates[0]] + slack < best[0]:
                return 0
            values = self._score_tile(candidates, posterior32, weights32)
            values -= conditional[candidates]
            gains[candidates] = values
            with lock:
                best[0] = max(best[0], float(values.max()))
            return candidates.size

        # Single-threaded BLAS inside each worker: the workers already use every
        # core, and BLAS threads that spin-wait collapse when another process
        # holds a core (docs/benchmarks.rst, "Measurements behind the kernel").
        with _single_threaded_blas():
            # The few most promising candidates first: their best gain usually
            # rules out all but a few others before any tile is formed.
            probe = min(PROBE, self.tile)
            n_scored = score(order[:probe])
            rest = order[probe:]
            rest = rest[upper[rest] + slack >= best[0]]
            # two tiles at least when there is work for two workers; the width
            # depends on the candidates only, never on the number of workers
            width = min(self.tile, max(probe, -(-rest.size // 2)))
            tiles = [rest[i : i + width] for i in range(0, rest.size, width)]
            if self.n_workers == 1 or len(tiles) <= 1:
                n_scored += sum(score(tile) for tile in tiles)
            else:
                with ThreadPoolExecutor(min(self.n_workers, len(tiles))) as executor:
                    n_scored += sum(executor.map(score, tiles))
        return gains, n_scored

    def expected_entropy64(self, posterior, weights, candidates):
        """Σ_j w_j H(u_j(x)) for a few candidates, in float64 with exact zeros.

        Parameters
        ----------
        posterior : ndarray of shape (J, K), float64
        weights : ndarray of shape (J,), float64
        candidates : ndarray of shape (n,), int

        Returns
        -------
        entropy : ndarray of shape (n,), float64
        """
        n_classes = self.log_probs.shape[2]
        out = np.empty(len(candidates))
        for start in range(0, len(candidates), CHUNK_64):
            chunk = candidates[start : start + CHUNK_64]
            probs = np.exp(self.log_probs[chunk], dtype=np.float64)  # (t, K, C)
            columns = np.ascontiguousarray(probs.transpose(1, 0, 2)).reshape(
                probs.shape[1], -1
            )  # (K, t * C)
            acc = np.zeros(columns.shape[1])
            for row in range(0, posterior.shape[0], ROW_BLOCK_64):
                block = slice(row, row + ROW_BLOCK_64)
                u = posterior[block] @ columns  # (b, t * C)
                # 0 log 0 = 0: log(tiny) is finite and multiplies an exact 0.
                acc += weights[block] @ (u * np.log(np.maximum(u, _TINY64)))
            out[start : start + len(chunk)] = -acc.reshape(-1, n_classes).sum(axis=1)
        return out
