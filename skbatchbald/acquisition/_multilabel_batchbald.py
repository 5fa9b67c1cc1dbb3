"""BatchBALD for multi-label models: greedy on the sum over labels of each
label's joint mutual information with the parameters, Σ_l I(y_{1..b, l}; ω).

Each label's joint over the batch is a `LabelJoint`. A greedy step bounds every
candidate's gain in two stages: first by BALD and, while the joints are exact,
by its gain at an earlier step (each label's term is submodular, so gains never
increase); then, for the candidates still in the race, by the joint with its
rows merged into at most K groups (`LabelJoint.joint_entropy_bound`). It scores
candidates in full, highest bound first, until no unscored bound reaches the
best gain. The pick is the plain greedy's: the argmax of every
candidate's gain, ties to the lowest index.
"""

import numpy as np

from .._memory import check_max_memory
from .._validation import check_int
from ._copies import copies_of
from ._multilabel_bald import multilabel_bald
from ._multilabel_inputs import check_label_log_probs
from ._multilabel_joint import LabelJoint
from ._saturation import (
    complete_in_order,
    gained_nothing,
    warn_multilabel_no_gain,
    warn_only_copies,
)
from ._validation import check_n_instances, check_random_state

# Temporaries per (row, candidate) of one label: q for y = 0, 1, their logs
# and products, in float64.
_BYTES_PER_CELL = 6 * 8
# Candidates scored in full first; the block doubles until the bounds stop.
_PROBE = 16
# The grouped bounds, coarse to fine: rows grouped by their most probable
# sample, then by their two most probable ones.
_DEPTHS = (1, 2)
# Pool points per block of the pool tables: two (block, K) float64
# temporaries that stay in a core's cache.
_TABLE_ROWS = 4096
# Float rounding between a bound and a gain computed by another route; far
# below any gain that decides a pick, far above the rounding (about 1e-13).
_SLACK = 1e-9


def _label_tables(log_probs):
    """(L, 2, N, K) p(y_l = y | ω_k, x_n), (L, N) H(y_l | ω) and H(y_l).

    One label and 4096 points at a time, in place: at N = 10^5 the pool's
    temporaries, not the greedy, are most of what a short batch costs, and a
    block's temporaries stay in the cache. A label's (N, K) slice is read row
    by row (a transpose to (K, N) costs three times as much), and a
    candidate's K probabilities of each y are contiguous, so gathering
    candidates copies rows (five times faster than gathering columns).
    """
    n_pool, n_mc_samples, n_labels = log_probs.shape
    probs = np.empty((n_labels, 2, n_pool, n_mc_samples))
    conditional = np.empty((n_labels, n_pool))
    mean = np.full(n_mc_samples, 1.0 / n_mc_samples)  # means over K as products
    block = np.empty((2, _TABLE_ROWS, n_mc_samples))
    for label in range(n_labels):
        for start in range(0, n_pool, _TABLE_ROWS):
            stop = min(start + _TABLE_ROWS, n_pool)
            zero, one = probs[label, :, start:stop]
            log_one, plogp = block[:, : stop - start]
            np.copyto(log_one, log_probs[start:stop, :, label])
            np.exp(log_one, out=one)
            np.negative(np.expm1(log_one, out=zero), out=zero)  # 1 - p, exact near 1
            with np.errstate(divide="ignore", invalid="ignore"):
                np.log(zero, out=plogp)
                plogp *= zero
                log_one *= one
            plogp += log_one
            # 0 log 0 = 0: a NaN is a p of 0 times log 0 (the other term is 0)
            np.copyto(plogp, 0.0, where=np.isnan(plogp))
            np.matmul(plogp, mean, out=conditional[label, start:stop])
    np.negative(conditional, out=conditional)
    marginal = probs @ mean  # (L, 2, N)
    with np.errstate(divide="ignore", invalid="ignore"):
        marginal = -np.where(marginal > 0, marginal * np.log(marginal), 0.0).sum(1)
    return probs, conditional, marginal


def _label_joints(joints, probs, candidates, chunk):
    """(L, n) H(y_{B, l}, y_{x, l}) of the candidates."""
    pairs = zip(joints, probs, strict=True)
    return np.stack(
        [
            joint.joint_entropy(np.take(p, candidates, axis=1), chunk)
            for joint, p in pairs
        ]
    )


def _cheap_bounds(joints, conditional, marginal, stale):
    """(L, N) bounds of each label's ``H(y_{B, l}, y_{x, l}) - H(y_{x, l} | ω)``.

    While label l's joint is exact, ``H(y_{B, l}) + H(y_{x, l})`` (the entropy
    is subadditive) and its marginal gain when last scored plus ``H(y_{B, l})``
    (each label's term is submodular, so its marginal gain never increases).
    Infinite once the label's joint is drawn.
    """
    bound = np.full(conditional.shape, np.inf)
    for label, joint in enumerate(joints):
        if joint.exact:
            gain = np.minimum(marginal[label] - conditional[label], stale[label])
            bound[label] = gain + joint.batch_entropy()
    return bound


def _grouped_bounds(joints, probs, conditional, candidates, bound, best, cells):
    """Tighten ``bound`` (L, n) label by label with the grouped bounds.

    `LabelJoint.joint_entropy_bound` of label l replaces its part where lower;
    candidates whose summed bound falls below ``best`` are dropped before the
    next label. Returns the remaining candidates and their summed bounds.
    """
    total = bound.sum(axis=0) + _SLACK
    for depth in _DEPTHS:
        for label, joint in enumerate(joints):
            label_probs = np.take(probs[label], candidates, axis=1)
            grouped = joint.joint_entropy_bound(label_probs, depth, cells)
            grouped -= conditional[label, candidates]
            bound[label] = np.minimum(bound[label], grouped)
            total = bound.sum(axis=0) + _SLACK
            keep = total >= best
            candidates, bound, total = candidates[keep], bound[:, keep], total[keep]
    return candidates, total


def _greedy(log_probs, tables, n_instances, n_joint_samples, budget, rng, prune):
    """The greedy loop; ``prune=False`` scores every candidate at every step.

    ``log_probs`` (N, K, L); ``tables`` its (L, 2, N, K) probabilities and the
    (L, N) conditional and marginal entropies of each label. Returns the
    picks, their scores and whether it stopped because only exact copies of
    its picks were left (see `copies_of`).
    """
    probs, conditional, marginal = tables
    n_labels, _, n_pool, n_mc_samples = probs.shape
    joints = [LabelJoint(n_mc_samples) for _ in range(n_labels)]
    available = np.ones(n_pool, dtype=bool)
    total_conditional = conditional.sum(axis=0)  # Σ_l H(y_l | ω) per point
    stale = np.full((n_labels, n_pool), np.inf)  # marginal gains when last scored
    indices, scores = [], []
    batch_conditional = 0.0
    for _ in range(n_instances):
        if not available.any():
            break
        n_rows = max(len(joint.rows) for joint in joints)
        chunk = max(1, budget // (_BYTES_PER_CELL * n_rows))
        gain = np.full(n_pool, -np.inf)
        joint = np.zeros(n_pool)
        batch_entropy = np.array([[j.batch_entropy()] for j in joints])  # (L, 1)

        def score(block, chunk=chunk, gain=gain, joint=joint, h_batch=batch_entropy):
            label_joint = _label_joints(joints, probs, block, chunk)
            stale[:, block] = label_joint - conditional[:, block] - h_batch
            joint[block] = label_joint.sum(axis=0)
            gain[block] = joint[block] - total_conditional[block]

        order = np.flatnonzero(available)
        if not prune:
            score(order)
        else:
            # Stage 1: the cheap bounds; the best of a few candidates by them.
            cheap = _cheap_bounds(joints, conditional, marginal, stale)
            total = cheap.sum(axis=0) + _SLACK
            probe = min(_PROBE, len(order) - 1)
            top = np.argpartition(-total[order], probe)[: probe + 1]
            score(order[top])
            # Stage 2: the grouped bounds of the candidates still in the race.
            order = order[(total[order] >= gain.max()) & (gain[order] == -np.inf)]
            order, bound = _grouped_bounds(
                joints,
                probs,
                conditional,
                order,
                cheap[:, order],
                gain.max(),
                max(1, budget // _BYTES_PER_CELL),
            )
            ranked = np.argsort(-bound, kind="stable")
            order, descending = order[ranked], -bound[ranked]
            start, size, end = 0, _PROBE, len(order)
            while start < end:
                block = order[start : min(start + size, end)]
                score(block)
                start += len(block)
                size *= 2
                # only the candidates whose bound reaches the best gain remain
                end = np.searchsorted(descending, -gain.max(), side="right")
        pick = int(np.argmax(gain))  # the first maximum: lowest index
        value = joint[pick] - batch_conditional - total_conditional[pick]
        if all(j.exact for j in joints) and gained_nothing(value, scores):
            break
        batch_conditional += total_conditional[pick]
        indices.append(pick)
        scores.append(value)
        available[pick] = False
        # a person labels an input once: its exact copies would repeat the
        # pick's labels, yet the labels' joints count them as new draws
        available[
            copies_of(
                log_probs, total_conditional, log_probs[pick], total_conditional[pick]
            )
        ] = False
        for label, label_joint in enumerate(joints):
            label_joint.extend(probs[label, :, pick], n_joint_samples, rng)
    only_copies = len(indices) < n_instances and not available.any()
    return (
        np.asarray(indices, dtype=np.int64),
        np.asarray(scores, dtype=np.float64),
        only_copies,
    )


def multilabel_batchbald(
    log_probs,
    n_instances,
    *,
    n_joint_samples=10_000,
    max_memory=None,
    random_state=None,
):
    """Greedily acquire the batch of most summed per-label joint mutual information.

    Maximises ``Σ_l I(y_{1,l}, ..., y_{b,l}; ω)``: for each label, the mutual
    information of the batch's labels with the parameters, as BatchBALD does
    for one label; the labels' terms are added.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_labels)
        ``log p(y_l = 1 | x_n, ω_k)`` of each label being present; ``-inf``
        allowed. Each label is a Bernoulli output.
    n_instances : int
        Batch size b, in ``[1, n_pool]``.
    n_joint_samples : int, default=10_000
        Per label, the joint over the batch is exact while it has at most this
        many configurations (2^i after i picks), and estimated from this many
        configurations drawn from the posterior predictive afterwards.
    max_memory : None, int or str, default=None
        Budget in bytes (or a string such as ``"512MB"``) for the temporaries
        of one scoring pass; candidates are scored in chunks that fit it.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Source of the drawn configurations. Unused while the joint is exact.

    Returns
    -------
    indices : ndarray of shape (n_instances,), int64
        Distinct pool indices in pick order (ties to the lowest index).
    scores : ndarray of shape (n_instances,), float64
        The objective after each pick, ``Σ_l I(y_{1..i, l}; ω)``, in nats: at
        most ``min(i log 2, log K)`` per label.

    See Also
    --------
    multilabel_bald : Each point scored alone; its top point is the first pick.
    skbatchbald.acquisition.batchbald : The single-label algorithm.

    Notes
    -----
    **The assumption.** The objective treats the labels as independent of
    each other: it adds the labels' joint mutual informations instead of
    taking the mutual information of all b x L labels together,
    ``I(y_{B,1..L}; ω)``. Given ω the model's labels are independent, so the
    two differ by the total correlation of the labels' batch vectors under
    the posterior predictive, ``Σ_l H(y_{B,l}) - H(y_{B,1..L}) >= 0``: the sum
    is an upper bound of the full joint, equal to it when the labels are
    independent under the posterior predictive as well. What it ignores:
    information two correlated labels share (e.g. "is even" and "is 4") is
    counted for each. Within a label, the batch is scored jointly, so a point
    that repeats what the batch already says about label l adds little to
    that label's term. The upside: only one label's posterior matters per
    term, so ensembles fitted label by label (one forest per label) qualify.

    **Copies.** The objective counts a second label of one input as a new
    draw, so with soft probabilities an exact copy of a pick (its samples equal
    the pick's bitwise) still gains; a person labels an input once, so copies
    leave the candidates and fill the batch only when nothing else is left
    (with a `SaturationWarning`).

    **Exactness.** Each label's objective is submodular in the batch (Kirsch
    et al. 2019), hence so is their sum, and greedy gains never increase
    while the joints are exact. The first pick is the top
    :func:`multilabel_bald` point.

    **Cost.** Scoring a candidate in full at step i costs about
    ``4 L K min(2^i, M)`` flops (M = ``n_joint_samples``); the plain greedy
    scores all N at every step, ``O(L b N K M)`` for a batch. This one scores
    only the candidates whose upper bound reaches the best gain found: the
    bounds are each label's BALD score and, while the joints are exact, the
    candidate's gain at an earlier step (submodularity), then the joint with
    its rows merged into at most K groups (concavity of the entropy), about
    ``4 L K^2`` flops per candidate. The picks are the plain greedy's. Memory:
    the pool's probabilities, 2 N K L floats, ``min(2^i, M)`` x K per label,
    and the scoring chunks within ``max_memory``. The exact joint of all
    ``L b`` labels would need ``2^{L b}`` configurations.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import multilabel_bald, multilabel_batchbald
    >>> a = [0.01, 0.99, 0.01, 0.99]  # p(y_l = 1) under each of K = 4 samples
    >>> b = [0.1, 0.1, 0.9, 0.9]
    >>> p = np.array([[a, a],           # point 0: both labels split samples 0,2 / 1,3
    ...               [a, a],           # point 1: a copy of point 0
    ...               [b, [0.5] * 4]])  # point 2: label 0 splits 0,1 / 2,3
    >>> log_probs = np.log(p).transpose(0, 2, 1)  # (N, K, L) = (3, 4, 2)
    >>> multilabel_bald(log_probs, 2)[0]  # each point alone: the copies
    array([0, 1])
    >>> multilabel_batchbald(log_probs, 2)[0]  # jointly: the copy adds nothing
    array([0, 2])
    """
    log_probs = check_label_log_probs(log_probs)
    n_pool = log_probs.shape[0]
    n_instances = check_n_instances(n_instances, n_pool)
    n_joint_samples = check_int(
        n_joint_samples,
        "n_joint_samples",
        min_val=2,
        hint="configurations per label (the default is 10_000)",
    )
    budget = check_max_memory(max_memory)
    rng = check_random_state(random_state)
    tables = _label_tables(log_probs)
    indices, scores, only_copies = _greedy(
        log_probs, tables, n_instances, n_joint_samples, budget, rng, prune=True
    )
    n_greedy = len(indices)
    if n_greedy < n_instances:
        # every gain 0 (exact) or only copies left: the rest in multi-label
        # BALD's order, as batchbald does
        indices, scores, _ = complete_in_order(
            log_probs, indices, scores, n_instances, multilabel_bald
        )
        if only_copies:
            warn_only_copies(scores, n_greedy)
        else:
            n_labels = log_probs.shape[2]
            warn_multilabel_no_gain(scores, log_probs.shape[1], n_labels, n_greedy)
    return indices, scores
