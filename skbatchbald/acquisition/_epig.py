"""EPIG: expected predictive information gain about the labels of target inputs."""

import functools

import numpy as np

from .._memory import check_max_memory
from .._validation import check_stochastic
from ._batchbald_kernel import CandidateScorer
from ._docstrings import shared_doc
from ._entropy import _marginal
from ._epig_kernel import (
    expected_entropies,
    make_scorer,
    rows_bytes,
    target_row_chunks,
)
from ._per_point import per_point
from ._pool import as_chunked_pool
from ._single_point import acquire_top
from ._stochastic import select
from ._validation import (
    check_log_probs,
    check_n_instances,
    check_random_state,
)

# Python objects and small per-call temporaries.
_OVERHEAD_BYTES = 2**20


def check_target(log_probs_target, pool_shape):
    """Validate target log-probabilities against the pool's (N, K, C)."""
    if log_probs_target is None:
        raise ValueError(
            "log_probs_target is None: pass the posterior log-probabilities of the "
            "target inputs, shape (n_target, n_mc_samples, n_classes), drawn with "
            "the same posterior samples as log_probs"
        )
    shape = getattr(log_probs_target, "shape", None)
    if shape is not None and len(shape) == 3 and shape[0] == 0:
        raise ValueError(
            f"log_probs_target is empty (shape {tuple(shape)}): pass at least one "
            f"target input (the inputs whose predictions matter, or a sample of "
            f"the pool)"
        )
    target = check_log_probs(log_probs_target, name="log_probs_target")
    _, n_mc_samples, n_classes = pool_shape
    if target.shape[1:] != (n_mc_samples, n_classes):
        raise ValueError(
            f"log_probs_target has n_mc_samples={target.shape[1]} and n_classes="
            f"{target.shape[2]}, but log_probs has n_mc_samples={n_mc_samples} and "
            f"n_classes={n_classes}: sample the pool and the targets in one call "
            f"(concatenate them), so that sample k is the same posterior sample for "
            f"both and the classes are the same"
        )
    return target


def common_dtype(log_probs, target):
    """float32 only when both are float32: the arithmetic follows the inputs."""
    if log_probs.dtype == target.dtype == np.float32:
        return log_probs, target
    return log_probs.astype(np.float64, copy=False), target.astype(np.float64)


def chunk_rows(budget, n_mc_samples):
    """Rows (target input, target label) per chunk in a budget of bytes."""
    return max(1, budget // rows_bytes(1, n_mc_samples))


def epig_scores(log_probs, target, max_memory, max_workers=None):
    """EPIG of every pool point, shape (N,), on validated inputs of one dtype."""
    n_pool, n_mc_samples, n_classes = log_probs.shape
    worker = CandidateScorer.worker_bytes(log_probs.shape)
    spare = max_memory - _OVERHEAD_BYTES - 16 * n_pool - worker
    if spare < rows_bytes(n_classes, n_mc_samples):
        raise ValueError(
            f"max_memory={max_memory} bytes is below the "
            f"{max_memory - spare + rows_bytes(n_classes, n_mc_samples)} bytes "
            f"EPIG needs for a pool of {n_pool} points with K={n_mc_samples} and "
            f"C={n_classes}; raise max_memory"
        )
    # half for the target rows, half for the scorer's pool copy and workers
    scorer = make_scorer(log_probs, worker + spare // 2, max_workers)
    conditional = np.zeros(n_pool)  # E_{x*, y*} H[y | x, x*, y*]
    for rows, fraction in target_row_chunks(
        target, np.zeros((1, n_mc_samples)), chunk_rows(spare // 2, n_mc_samples)
    ):
        conditional += fraction * expected_entropies(
            scorer, rows.posterior, rows.weights
        )
    marginal = per_point(log_probs, _marginal)  # H[y | x]
    # I(y; y*) >= 0; below only by round-off
    return np.maximum(marginal - conditional, 0.0)


def _epig_of_block(block, target, max_memory):
    """EPIG of one validated block of a chunked pool, on one thread."""
    block, target = common_dtype(block, target)
    return epig_scores(block, target, max_memory, max_workers=1)


@shared_doc
def epig(
    log_probs,
    n_instances,
    *,
    log_probs_target,
    stochastic=None,
    beta=None,
    max_memory=None,
    random_state=None,
):
    """Acquire the pool points that tell most about the predictions on target inputs.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_classes)
        Posterior log-probabilities ``log p(y = c | x_n, ω_k)`` of the pool;
        ``-inf`` allowed. A ``numpy.memmap`` or a dask array is read block by
        block, never whole (see :doc:`/scaling`).
    n_instances : int
        Number of points to acquire, in ``[1, n_pool]``.
    log_probs_target : array-like or torch.Tensor of shape \
(n_target, n_mc_samples, n_classes)
        ``log p(y* = c | x*_m, ω_k)`` of the target inputs x* (the inputs whose
        predictions matter), with the *same* posterior samples ω_k as
        ``log_probs``: sample k must be the same network for both.
    {stochastic}
    max_memory : int, str or None, default=None
        Bound on the working memory of the call (the inputs excluded), in bytes
        or as a string such as ``"512MB"``; None means the smaller of 1 GiB and a
        quarter of the available memory. The targets are processed in chunks
        that fit it: it never changes the result beyond round-off.
    {gumbel_random_state}

    Returns
    -------
    {picked_indices}
    scores : ndarray of shape (n_instances,), float64
        The EPIG of each picked point, in nats, in ``[0, log n_classes]`` and at
        most its BALD score.

    Raises
    ------
    ValueError
        If either input is not a valid (N, K, C) array of log-probabilities
        (NaN, +inf, rows that do not sum to one), if the target is empty or has
        another K or C than the pool, or if ``n_instances``, ``stochastic``,
        ``beta``, ``max_memory`` or ``random_state`` is invalid.

    See Also
    --------
    batch_epig : Scores the batch jointly.
    bald : Information about the parameters instead of the predictions.

    Notes
    -----
    Bickford Smith, Kirsch, Farquhar, Gal, Foster & Rainforth (2023),
    "Prediction-Oriented Bayesian Active Learning", AISTATS:

    .. math::
        \\mathrm{EPIG}(x) = \\mathbb{E}_{x_*} I(y; y_* \\mid x, x_*)
        = H[y \\mid x] - \\mathbb{E}_{x_*} \\mathbb{E}_{y_* \\mid x_*}
          H[y \\mid x, x_*, y_*]

    with :math:`p(y, y_*) = \\frac{1}{K} \\sum_k p(y \\mid x, \\omega_k)
    p(y_* \\mid x_*, \\omega_k)` and the expectation over x* the mean over the
    target inputs. y* depends on y only through ω, so EPIG <= BALD point by
    point (data processing), and EPIG <= H[y | x] <= log C.

    Each (x*, y*) pair is one row: weight p(y* | x*) / N_target and posterior
    P(ω_k | x*, y*), normalised in log space. Scoring is then BatchBALD's kernel:
    one (rows, K) @ (K, tile · C) product and one u log u pass per tile of
    candidates, O(N · N_target · K · C²) in all, with memory bounded by
    ``max_memory`` whatever N and N_target. The arithmetic follows the inputs:
    float32 products and logs (float64 sums, errors ~1e-6 nats) when both are
    float32, as the samplers return them; float64 otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import bald, epig
    >>> # two posterior samples: x0 decides between them, x1 does not
    >>> pool = np.log([[[0.9, 0.1], [0.1, 0.9]], [[0.5, 0.5], [0.5, 0.5]]])
    >>> target = np.log([[[0.8, 0.2], [0.2, 0.8]]])
    >>> indices, scores = epig(pool, 1, log_probs_target=target)
    >>> int(indices[0]), bool(scores[0] <= bald(pool, 1)[1][0])
    (0, True)
    """
    pool = as_chunked_pool(log_probs)
    if pool is not None:
        # a map over the pool's blocks with the targets sent along: one top-k
        # (or, for a stochastic draw, every score) back per block
        pool.check_layout()  # the target check reads K and C from its shape
        target = check_target(log_probs_target, pool.shape)
        max_memory = check_max_memory(max_memory)
        per_block = max_memory // getattr(pool, "n_threads", 1)
        score = functools.partial(_epig_of_block, target=target, max_memory=per_block)
        return acquire_top(
            log_probs,
            n_instances,
            score,
            stochastic=stochastic,
            beta=beta,
            random_state=random_state,
        )
    log_probs = check_log_probs(log_probs)
    n_instances = check_n_instances(n_instances, log_probs.shape[0])
    target = check_target(log_probs_target, log_probs.shape)
    stochastic, beta = check_stochastic(stochastic, beta)
    max_memory = check_max_memory(max_memory)
    rng = check_random_state(random_state)
    log_probs, target = common_dtype(log_probs, target)
    scores = epig_scores(log_probs, target, max_memory)
    indices = select(scores, n_instances, stochastic, beta, rng)
    return indices, scores[indices]
