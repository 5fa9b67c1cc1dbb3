"""Batch EPIG: greedy maximisation of E_{x*} I(y_1..y_b; y* | x*).

Private module name, as ``_batchbald``: see ``acquisition/__init__.py``.
"""

import numpy as np

from .._memory import check_max_memory
from ._batchbald_kernel import CandidateScorer
from ._copies import copies_of
from ._entropy import _conditional, _marginal
from ._epig import check_target, chunk_rows, common_dtype, epig
from ._epig_kernel import (
    expected_entropies,
    make_scorer,
    rows_bytes,
    target_row_chunks,
)
from ._joint_configurations import (
    _unique_rows,
    check_n_joint_samples,
    extend_exact,
    rows_from_table,
)
from ._per_point import per_point
from ._pool import as_chunked_pool
from ._saturation import gained_nothing, warn_no_target_gain, warn_only_copies
from ._validation import (
    check_log_probs,
    check_n_instances,
    check_random_state,
)

_OVERHEAD_BYTES = 2**20


def _target_exact(n_target, n_classes, n_chosen, n_joint_samples):
    """Whether every (x*, ŷ_S, y*) is enumerated: always for the first pick (EPIG)."""
    return n_chosen == 0 or n_target * n_classes ** (n_chosen + 1) <= n_joint_samples


def _draw(log_probs_k, uniform):
    """Labels drawn by inverse CDF: (..., C) log-probabilities, uniform (...)."""
    cdf = np.cumsum(np.exp(log_probs_k, dtype=np.float64), axis=-1)
    cdf /= cdf[..., -1:]
    # a cdf ending in exactly 1 maps [0, 1) onto classes of positive probability
    cdf[..., -1] = 1.0
    return (cdf <= uniform[..., None]).sum(axis=-1)


def sample_joint(log_probs_chosen, log_probs_target, n_joint_samples, rng):
    """Draw M joint samples of (target input, batch labels, target label).

    M // K samples come from each posterior sample ω_k: x* uniform over the
    targets, then ŷ_S and y* from p(· | ω_k). The proposal is the joint itself,
    so, as BatchBALD's configurations, each distinct draw has weight count / M
    (Kirsch, van Amersfoort & Gal, NeurIPS 2019, section 3.1).

    Parameters
    ----------
    log_probs_chosen : ndarray of shape (n, K, C)
    log_probs_target : ndarray of shape (N_target, K, C)
    n_joint_samples : int
    rng : numpy.random.Generator

    Returns
    -------
    target_table : ndarray of shape (J, K)
        ``log P(ŷ_S, y* | x*, ω_k)`` of the distinct draws.
    target_weights : ndarray of shape (J,)
    batch_table : ndarray of shape (J', K)
        ``log P(ŷ_S | ω_k)`` of the distinct batch labels among the same draws.
    batch_weights : ndarray of shape (J',)
    """
    n_chosen, n_mc_samples, _ = log_probs_chosen.shape
    n_target = log_probs_target.shape[0]
    per_sample = n_joint_samples // n_mc_samples
    draws = np.empty((n_mc_samples, per_sample, n_chosen + 2), dtype=np.int32)
    x_star = rng.integers(n_target, size=(n_mc_samples, per_sample))  # (K, M/K)
    draws[..., 0] = x_star
    for s in range(n_chosen):
        uniform = rng.random((n_mc_samples, per_sample))
        draws[..., 1 + s] = _draw(log_probs_chosen[s][:, None, :], uniform)
    sample = np.arange(n_mc_samples)[:, None]
    uniform = rng.random((n_mc_samples, per_sample))
    draws[..., -1] = _draw(log_probs_target[x_star, sample], uniform)
    draws = draws.reshape(-1, n_chosen + 2)
    n_draws = draws.shape[0]

    def table(labels, with_target):
        distinct, counts = _unique_rows(np.ascontiguousarray(labels))
        log_table = np.zeros((distinct.shape[0], n_mc_samples))  # (J, K)
        batch = distinct[:, 1:] if with_target else distinct
        for s in range(n_chosen):
            log_table += log_probs_chosen[s][:, batch[:, s]].T
        if with_target:
            log_table += log_probs_target[distinct[:, 0], :, distinct[:, -1]]
        return log_table, counts / n_draws

    return (*table(draws, True), *table(draws[:, 1:-1], False))


def _target_terms(scorer, target, exact_table, rows_per_chunk):
    """E_{x*} H(y_S, y* | x*) and Σ_m w_m H(u_m(x)) over exact rows (x*, ŷ_S, y*)."""
    joint = 0.0
    expected = np.zeros(scorer.log_probs.shape[0])
    for rows, fraction in target_row_chunks(target, exact_table, rows_per_chunk):
        joint += fraction * rows.joint_entropy
        expected += fraction * expected_entropies(scorer, rows.posterior, rows.weights)
    return joint, expected


def _budgets(shape, n_joint_samples, max_memory):
    """(scorer budget, target rows per chunk) for a pool of ``shape``."""
    n_pool, n_mc_samples, n_classes = shape
    worker = CandidateScorer.worker_bytes(shape)
    tables = 2 * rows_bytes(n_joint_samples, n_mc_samples)
    spare = max_memory - _OVERHEAD_BYTES - 32 * n_pool - worker - tables
    if spare < rows_bytes(n_classes, n_mc_samples):
        needed = max_memory - spare + rows_bytes(n_classes, n_mc_samples)
        raise ValueError(
            f"max_memory={max_memory} bytes is below the {needed} bytes batch EPIG "
            f"needs for a pool of {n_pool} points with K={n_mc_samples}, "
            f"C={n_classes} and n_joint_samples={n_joint_samples}; raise "
            f"max_memory or lower n_joint_samples"
        )
    return worker + spare // 2, chunk_rows(spare // 2, n_mc_samples)


def _step_values(scorer, state, rows_per_chunk):
    """E_{x*} I(y_S, y_x; y* | x*) of every point of the scorer's pool, (N,).

    ``state`` is what a step shares by all candidates: the target, E_{x*} H(y*),
    the exact table of the batch's labels, the joint samples (None while the
    target rows are enumerated) and the batch's own value E_{x*} I(y_S; y* | x*).
    """
    target, target_entropy, exact_table, sampled, previous = state
    if sampled is not None:
        # Chain rule: E I(y_S, y_x; y*) = E I(y_S; y*) + E I(y_x; y* | y_S), the
        # last as H(y_x | y_S) - H(y_x | y_S, y*) over the *same* draws
        # (x*, ŷ_S, y*). Paired, their noise cancels: the gains are small
        # differences of entropies, which two independent estimates (or an
        # exact term minus a sampled one) drown in noise.
        batch_rows = rows_from_table(sampled[2], sampled[3])
        rows = rows_from_table(sampled[0], sampled[1])
        return (
            previous
            + expected_entropies(scorer, batch_rows.posterior, batch_rows.weights)
            - expected_entropies(scorer, rows.posterior, rows.weights)
        )
    # H(y_S, y_x) = H(y_S) + Σ_j w_j H(u_j(x)), as in BatchBALD; every target
    # row enumerated means every configuration of the batch is too
    batch_rows = rows_from_table(exact_table)
    batch = batch_rows.joint_entropy + expected_entropies(
        scorer, batch_rows.posterior, batch_rows.weights
    )
    # E_{x*} H(y_S, y_x, y* | x*) = E_{x*} H(y_S, y*) + Σ_m w_m H(u_m(x))
    joint, expected = _target_terms(scorer, target, exact_table, rows_per_chunk)
    # E_{x*} I(y_S, y_x; y*) = H(y_S, y_x) + E H(y*) − E H(y_S, y_x, y*)
    return batch + target_entropy - (joint + expected)


def _greedy(pool, target, n_instances, n_joint_samples, max_memory, rng, order):
    """Greedy batch EPIG; see `batch_epig`.

    ``order()`` gives the pool's indices by single-point EPIG, best first: a
    step where no point adds information takes the best available in it.

    ``pool`` is the validated (N, K, C) array, or a `MemmapPool` / `DaskPool`
    whose blocks each step scores where they are (one task per block, the step's
    shared state sent along, each block's best candidate back).
    """
    n_pool, n_mc_samples, n_classes = pool.shape
    n_target = target.shape[0]
    chunked = not isinstance(pool, np.ndarray)
    if chunked:
        budget = max_memory // getattr(pool, "n_threads", 1)  # blocks in flight
        _budgets(pool.largest_block(), n_joint_samples, budget)  # fails early
        pool.check()
    else:
        scorer_budget, rows_per_chunk = _budgets(
            pool.shape, n_joint_samples, max_memory
        )
        scorer = make_scorer(pool, scorer_budget)
    target_entropy = float(per_point(target, _marginal).mean())  # E_{x*} H(y*)
    # E_ω H(y | x, ω) per pool point, to find the picks' exact copies by
    conditional = per_point(pool.array if chunked else pool, _conditional)
    available = np.ones(n_pool, dtype=bool)
    chosen, chosen_rows, excluded = [], [], []
    scores = np.empty(n_instances)
    no_gain = []  # steps decided by single-point EPIG, every gain being 0
    ranking = None
    exact_table = np.zeros((1, n_mc_samples))  # log P(ŷ_S | ω) of the empty batch
    for step in range(n_instances):
        if not available.any():
            # only copies of the picks are left: they follow single-point EPIG
            if ranking is None:
                ranking = order()
            rest = ranking[~np.isin(ranking, chosen)][: n_instances - step]
            scores[step:] = scores[step - 1]
            return (
                np.concatenate([chosen, rest]).astype(np.int64),
                scores,
                no_gain,
                step,
            )
        sampled = None
        if not _target_exact(n_target, n_classes, step, n_joint_samples):
            sampled = sample_joint(np.stack(chosen_rows), target, n_joint_samples, rng)
        state = (
            target,
            target_entropy,
            exact_table,
            sampled,
            scores[step - 1] if step else 0.0,
        )
        if chunked:
            parts = pool.map(
                _best_of_block,
                state,
                np.asarray(excluded, np.int64),
                n_joint_samples,
                budget,
            )
            # ties to the lowest index: blocks come in index order
            pick, value = max(parts, key=lambda part: (part[1], -part[0]))
        else:
            values = _step_values(scorer, state, rows_per_chunk)
            pick = int(np.argmax(np.where(available, values, -np.inf)))
            value = values[pick]
        previous = scores[step - 1] if step else 0.0
        if gained_nothing(value, scores[:step]):
            # every candidate ties at no gain: the lowest index would win, so
            # the points most informative on their own go first
            if ranking is None:
                ranking = order()
            pick = int(ranking[~np.isin(ranking, excluded)][0])
            no_gain.append(step)
        # a batch never tells less than its part: >= but for noise and round-off
        scores[step] = max(value, previous)
        chosen.append(pick)
        available[pick] = False
        (row,) = pool.rows([pick]) if chunked else (pool[pick],)
        # a person gives one answer per input: exact copies of the pick leave
        # the candidates (see _copies)
        copies = copies_of(
            pool.array if chunked else pool, conditional, row, conditional[pick]
        )
        available[copies] = False
        excluded += [pick, *copies.tolist()]
        chosen_rows.append(row.astype(target.dtype, copy=False))
        if step + 1 < n_instances and _target_exact(
            n_target, n_classes, step + 1, n_joint_samples
        ):
            exact_table = extend_exact(exact_table, row)
    return np.asarray(chosen, dtype=np.int64), scores, no_gain, None


def _best_of_block(block, start, state, chosen, n_joint_samples, budget):
    """The block's best available candidate for one step: (index, value)."""
    block, target = common_dtype(block, state[0])
    scorer_budget, rows_per_chunk = _budgets(block.shape, n_joint_samples, budget)
    scorer = make_scorer(block, scorer_budget, max_workers=1)
    values = _step_values(scorer, (target, *state[1:]), rows_per_chunk)
    local = chosen - start
    values[local[(local >= 0) & (local < len(values))]] = -np.inf
    best = int(np.argmax(values))
    return best + start, float(values[best])


def batch_epig(
    log_probs,
    n_instances,
    *,
    log_probs_target,
    n_joint_samples=10_000,
    max_memory=None,
    random_state=None,
):
    """Acquire a batch by greedy maximisation of its information about target labels.

    Each step adds the pool point x that maximises E_{x*} I(y_S, y_x; y* | x*),
    where S is the batch so far and x* runs over the target inputs.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_classes)
        Posterior log-probabilities ``log p(y = c | x_n, ω_k)`` of the pool;
        ``-inf`` allowed. A ``numpy.memmap`` or a dask array is read block by
        block, never whole (see :doc:`/scaling`).
    n_instances : int
        Batch size b, in ``[1, n_pool]``.
    log_probs_target : array-like or torch.Tensor of shape \
(n_target, n_mc_samples, n_classes)
        ``log p(y* = c | x*_m, ω_k)`` of the target inputs, with the *same*
        posterior samples ω_k as ``log_probs``.
    n_joint_samples : int, default=10_000
        M. The first pick is exact (it is EPIG's). After it, every
        (target input, batch labels, target label) is enumerated while
        ``n_target * C^(n+1) <= M`` (n = ``|S|``); beyond, M joint samples of
        them are drawn per step and shared by all candidates, and each step
        adds its estimated gain to the batch's value. Must be >= K.
    max_memory : int, str or None, default=None
        Bound on the working memory of the call (the inputs excluded), in bytes
        or as a string such as ``"512MB"``; None means the smaller of 1 GiB and a
        quarter of the available memory.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, \
default=None
        Seeds the joint samples (sampled phase only).

    Returns
    -------
    indices : ndarray of shape (n_instances,), int64
        Distinct pool indices, in pick order.
    scores : ndarray of shape (n_instances,), float64
        ``scores[i]`` is E_{x*} I(y_1..y_{i+1}; y* | x*) of the first i + 1
        picks, in nats (in the sampled phase, the last exact value plus the
        estimated gains, never decreasing); ``scores[0]`` is the EPIG of the
        first pick.

    Raises
    ------
    ValueError
        If either input is not a valid (N, K, C) array of log-probabilities,
        if the target is empty or has another K or C than the pool, or if
        ``n_instances``, ``n_joint_samples``, ``max_memory`` or
        ``random_state`` is invalid.

    Warns
    -----
    SaturationWarning
        When at some step no pool point adds information about the target
        labels (every gain 0: the K samples fall into groups that predict
        alike on every point left). Such a step takes the available point of
        highest single-point EPIG, where equal gains would otherwise pick the
        lowest pool index; the greedy goes on after it. Also when only exact
        copies of the picks are left: a point whose samples equal a pick's
        leaves the candidates (a person gives one answer per input), and
        copies come back, in single-point EPIG order, only when nothing else
        is left.

    See Also
    --------
    epig : Each point scored alone.
    batchbald : The joint information about the parameters instead.

    Notes
    -----
    Bickford Smith, Kirsch, Farquhar, Gal, Foster & Rainforth (2023),
    "Prediction-Oriented Bayesian Active Learning", AISTATS, for the score;
    the greedy joint estimator is BatchBALD's (Kirsch, van Amersfoort & Gal,
    NeurIPS 2019). With the batch's configurations ŷ_j (weights w_j,
    posteriors P(ω | ŷ_j)) and the rows m = (x*, ŷ_S, y*) (weights w_m,
    posteriors P(ω | x*, ŷ_S, y*)), the chain rule gives

    .. math::
        \\mathbb{E}_{x_*} I(y_S, y_x; y_*) = H(y_S) + \\sum_j w_j H(u_j(x))
        + \\mathbb{E}_{x_*} H(y_*)
        - \\mathbb{E}_{x_*} H(y_S, y_*) - \\sum_m w_m H(u_m(x))

    with :math:`u(x) = \\sum_k P(\\omega_k \\mid \\cdot)\\, p(y \\mid x,
    \\omega_k)`: two BatchBALD-kernel passes per step. Exact rows have
    w_m = P(ŷ_S, y* | x*) / N_target; sampled rows are drawn from that very
    joint (x* uniform, then ω_k, then the labels), so their weights are
    count / M. Drawing y* with them keeps a step at O(M · N · K · C), where
    enumerating y* would cost C times more. Once sampled, a step scores only
    the gain E_{x*} I(y_x; y* | y_S) = Σ_j w_j H(u_j(x)) − Σ_m w_m H(u_m(x)),
    both sums over the same draws (ŷ_S of the draw m for j): the gains are
    small differences of entropies, so paired draws cancel the noise that an
    exact first sum and a sampled second would leave (at near-uniform
    predictions that noise was ten times the gains). The arithmetic follows the inputs:
    float32 products and logs (float64 sums) when both are float32, float64
    otherwise. Ties break to the lowest index.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import batch_epig, epig
    >>> rng = np.random.default_rng(0)
    >>> logits = rng.normal(size=(60, 8, 3))
    >>> log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    >>> pool, target = log_probs[:50], log_probs[50:]
    >>> indices, scores = batch_epig(pool, 4, log_probs_target=target)
    >>> int(indices[0]) == int(epig(pool, 1, log_probs_target=target)[0][0])
    True
    >>> bool(np.all(np.diff(scores) >= 0))
    True
    """
    pool = as_chunked_pool(log_probs)
    if pool is None:
        pool = check_log_probs(log_probs)
    else:  # a memmap or dask array: validated block by block
        pool.check_layout()
    n_pool, n_mc_samples, _ = pool.shape
    n_instances = check_n_instances(n_instances, n_pool)
    target = check_target(log_probs_target, pool.shape)
    n_joint_samples = check_n_joint_samples(n_joint_samples, n_mc_samples)
    max_memory = check_max_memory(max_memory)
    rng = check_random_state(random_state)
    if isinstance(pool, np.ndarray):
        pool, target = common_dtype(pool, target)
    elif not pool.dtype == target.dtype == np.float32:  # as common_dtype does
        target = target.astype(np.float64)

    def order():
        ranked, _ = epig(
            log_probs, n_pool, log_probs_target=log_probs_target, max_memory=max_memory
        )
        return ranked

    indices, scores, no_gain, only_copies_after = _greedy(
        pool, target, n_instances, n_joint_samples, max_memory, rng, order
    )
    if no_gain:
        warn_no_target_gain(scores, no_gain)
    if only_copies_after is not None:
        warn_only_copies(scores, only_copies_after)
    return indices, scores
