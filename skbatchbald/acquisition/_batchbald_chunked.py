"""Greedy BatchBALD on a pool in row blocks (a memmap or a dask array).

Each greedy step is one map over the blocks and one small reduction. What travels to
a block is the joint state of the points chosen so far -- the posterior rows
``P(ω_k | ŷ_j)`` and weights of at most M label configurations, and their grouping
into at most K rows (``grouped_rows``) -- plus the chosen indices: at
most M (K + 1) + K (K + 1) floats, whatever the pool's size. Each block scores its
own candidates with the in-memory kernel (``CandidateScorer``, one thread) and sends
back its best few; the caller keeps the per-step picks and the picked points' rows.

The picks are those of the in-memory path. Exact phase: every block returns its
candidates whose float32 gain is within the slack of the block's best, which
includes every candidate of the block within the slack of the pool's best; their
float64 gains decide, lowest index first among equal ones. Sampled phase: the
argmax of the float32 gains, lowest index first; the label configurations are drawn
from the same generator, in the same order, from the same chosen rows.
"""

import time

import numpy as np

from ._batchbald_kernel import (
    PROBE,
    CandidateScorer,
    float32_error_bound,
    float32_sampled_slack,
)
from ._batchbald_memory import fixed_bytes, minimum_memory, table_bytes
from ._copies import copies_of
from ._greedy_steps import record
from ._joint_configurations import (
    conditional_information,
    enumerates,
    extend_exact,
    grouped_rows,
    rows_from_table,
    sample_table,
)
from ._normalisation import normalisation
from ._saturation import gained_nothing, is_saturated


def _prepare_block(block, start, tol):
    """Validation summary and the entropy tables of one block's points, (n,) each.

    E_ω H(y_x | ω), and the mean and the range over k of the cross-entropies
    ``CE[x, k]`` of the merged bound (`CandidateScorer.entropy_tables64`): a
    few floats a point, where the in-memory greedy keeps K of them.
    """
    summary = normalisation(block, tol, start)
    if summary.invalid:
        return summary, None
    conditional, cross = CandidateScorer(block, 0, max_workers=1).entropy_tables64()
    return summary, (conditional, cross.mean(axis=1), np.ptp(cross, axis=1))


def _merged_bound(tables, posterior, weights, available):
    """An upper bound of every candidate's gain from the block's (n,) tables.

    The merged bound of the in-memory greedy is ``Σ_k q_k CE[x, k] −
    conditional`` with ``q = Σ_j w_j r_j``; with ``d = q − 1/K`` (which sums to
    zero), ``Σ_k q_k CE[x, k] <= mean_k CE[x, k] + Σ_k max(d_k, 0) (max_k −
    min_k) CE[x, k]``. In the exact phase q is uniform and this is BALD's
    score, as there.
    """
    conditional, mean_cross, range_cross = tables
    q = weights @ posterior  # (K,)
    excess = float(np.maximum(q - 1.0 / q.size, 0.0).sum())
    bound = mean_cross + excess * range_cross - conditional
    return np.where(available, bound, -np.inf)


def _step_block(
    block,
    start,
    tables,
    posterior,
    weights,
    grouped,
    chosen,
    picked,
    slack,
    exact,
    budget,
):
    """Score one block's candidates for one greedy step.

    The pruning of the in-memory greedy, within the block: the merged bound
    (`_merged_bound`) picks the PROBE candidates scored first; only those
    whose merged bound reaches their best gain get the grouped bound, and only
    those whose grouped bound reaches it are scored, in decreasing order of
    it. A candidate left out cannot reach the block's best gain, let alone the
    pool's.

    Returns the global indices of the block's candidates within ``slack`` of its
    best float32 gain (exact phase) or of its best candidate (sampled phase),
    their float32 gains, their float64 expected entropies (exact phase, else
    None), their conditional entropies and the number of candidates scored.
    """
    conditional = tables[0]
    n_rows = block.shape[0]
    local = chosen - start
    local = local[(local >= 0) & (local < n_rows)]
    available = np.ones(n_rows, dtype=bool)
    available[local] = False
    for row, row_conditional in picked:  # and the picks' copies (see _copies)
        available[copies_of(block, conditional, row, row_conditional)] = False
    if not available.any():
        return np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0), 0
    scorer = CandidateScorer(block, budget, max_workers=1)
    merged = _merged_bound(tables, posterior, weights, available)
    n_probe = min(PROBE, int(np.count_nonzero(available)))
    probe = np.argpartition(-merged, n_probe - 1)[:n_probe]
    only = np.full(n_rows, -np.inf)
    only[probe] = merged[probe]
    first, _ = scorer.best_gains32(posterior, weights, conditional, only, np.inf)
    keep = available & (merged + slack >= first.max())
    upper = np.minimum(merged, scorer.bound_gains32(*grouped, conditional, keep))
    upper[probe] = -np.inf  # scored already
    upper[upper + slack < first.max()] = -np.inf
    gains, n_scored = scorer.best_gains32(posterior, weights, conditional, upper, slack)
    gains[probe] = first[probe]
    n_scored += n_probe
    if exact:
        near = np.flatnonzero(gains >= gains.max() - slack)
        entropies = scorer.expected_entropy64(posterior, weights, near)
    else:
        near = np.array([np.argmax(gains)])
        entropies = None
    return near + start, gains[near], entropies, conditional[near], n_scored


def _pick(parts, slack, exact):
    """The step's pick, its expected entropy (exact phase; else None) and its
    conditional entropy."""
    indices = np.concatenate([part[0] for part in parts])  # ascending
    gains = np.concatenate([part[1] for part in parts])
    conditional = np.concatenate([part[3] for part in parts])
    if exact:
        entropies = np.concatenate([part[2] for part in parts])
        near = np.flatnonzero(gains >= gains.max() - slack)
        best = near[np.argmax(entropies[near] - conditional[near])]
        entropy = entropies[best]
    else:
        best = int(np.argmax(gains))  # first of equal gains: the lowest index
        entropy = None  # computed in float64 from the pick's row, as in memory
    return int(indices[best]), entropy, float(conditional[best])


def block_budget(max_memory, pool, n_instances, n_joint_samples):
    """Bytes one block's scorer may use: ``max_memory`` shared by the blocks in flight.

    A memmap's blocks run in threads of this process, which also keeps the
    entropy tables of the whole pool (24 bytes a point); a dask array's
    blocks each run in one task, where the budget applies, with their own
    tables. Raises ValueError if the budget cannot hold the joint table and one
    block's tiles.
    """
    n_in_flight = getattr(pool, "n_threads", 1)
    block_shape = pool.largest_block()
    # per point of a block: gains, bounds and candidate order (float64 / int64)
    per_point = 48 * n_in_flight * block_shape[0]
    if hasattr(pool, "n_threads"):
        per_point += 24 * pool.shape[0]
    needed = per_point + minimum_memory(block_shape, n_instances, n_joint_samples)
    if max_memory < needed:
        n_pool, n_mc_samples, _ = pool.shape
        raise ValueError(
            f"max_memory={max_memory} bytes is below the {needed} bytes this call "
            f"needs (pool of {n_pool} points in blocks of up to {block_shape[0]}, "
            f"K={n_mc_samples}, n_joint_samples={n_joint_samples}: the joint table "
            f"alone takes "
            f"{table_bytes(n_joint_samples, n_mc_samples, n_instances)} bytes); "
            f"raise max_memory or lower n_joint_samples"
        )
    fixed = fixed_bytes(block_shape, n_instances, n_joint_samples)
    return (max_memory - per_point - fixed) // n_in_flight


def greedy_chunked(
    pool,
    n_instances,
    n_joint_samples,
    max_memory,
    rng,
    name="log_probs",
    until_saturated=False,
):
    """Greedy BatchBALD on a `MemmapPool` or `DaskPool`; see `batchbald`.

    ``until_saturated``: stop after the pick that saturates the batch.
    """
    _, n_mc_samples, n_classes = pool.shape
    budget = block_budget(max_memory, pool, n_instances, n_joint_samples)
    # validation and entropy tables in one pass; the latter stay where their
    # block was computed
    prepared = pool.map(_prepare_block, pool.tol, keep=True)
    pool.raise_if_invalid(pool.compute([part[0] for part in prepared]), name)
    tables = [part[1] for part in prepared]
    chosen, chosen_rows, picked = [], [], []
    scores = np.empty(n_instances)
    conditional_sum = 0.0
    exact_table = np.zeros((1, n_mc_samples))  # the empty configuration
    for step in range(n_instances):
        start = time.perf_counter()
        exact = enumerates(scores[:step], n_joint_samples, pool.shape)
        if exact:
            rows = rows_from_table(exact_table)
            slack = 2.0 * float32_error_bound(n_mc_samples, n_classes)
        else:
            table, weights = sample_table(np.stack(chosen_rows), n_joint_samples, rng)
            rows = rows_from_table(table, weights)
            slack = float32_sampled_slack(n_classes)
        parts = pool.map(
            _step_block,
            rows.posterior,
            rows.weights,
            grouped_rows(rows),
            np.asarray(chosen, dtype=np.int64),
            picked,
            slack,
            exact,
            budget,
            per_block=[tables],
        )
        if not any(len(part[0]) for part in parts):
            return np.asarray(chosen, dtype=np.int64), scores[:step], True
        pick, entropy, pick_conditional = _pick(parts, slack, exact)
        # I(y_S, y_x; ω) = H(y_S) + Σ_j w_j H(u_j(x)) − Σ_{i ∈ S ∪ {x}} E_ω H(y_i|ω)
        (row,) = pool.rows([pick])
        if entropy is None:
            scorer = CandidateScorer(row[None], 0, max_workers=1)
            entropy = float(
                scorer.expected_entropy64(rows.posterior, rows.weights, [0])[0]
            )
        if exact:
            value = rows.joint_entropy + entropy - conditional_sum - pick_conditional
        else:  # the chain rule, each gain paired with its own draws
            value = scores[step - 1] + conditional_information(rows, entropy, row)
        if gained_nothing(value, scores[:step]):
            break
        conditional_sum += pick_conditional
        scores[step] = value
        chosen.append(pick)
        chosen_rows.append(row)
        picked.append((row, pick_conditional))
        if step + 1 < n_instances and enumerates(
            scores[: step + 1], n_joint_samples, pool.shape
        ):
            exact_table = extend_exact(exact_table, row)
        record(step, rows, sum(part[4] for part in parts), start)
        if until_saturated and is_saturated(scores[: step + 1], n_mc_samples):
            break
    return np.asarray(chosen, dtype=np.int64), scores[: len(chosen)], False
