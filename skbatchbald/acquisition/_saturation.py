"""When a BatchBALD batch stops gaining information before it is full."""

import math
import warnings

import numpy as np

from .._warnings import SkbatchbaldWarning, user_stacklevel

__all__ = [
    "SaturationWarning",
    "complete_in_order",
    "fill_in_order",
    "gained_nothing",
    "is_saturated",
    "pool_rows",
    "warn_if_saturated",
    "warn_no_gain",
    "warn_no_target_gain",
    "warn_only_copies",
]

# Within 1 % of log K the remaining gains are smaller than the estimator's noise.
_SATURATION = 0.99
# An exact gain this small is round-off of a gain of 0 (float64 sums of
# float32-bounded, float64-recomputed entropies).
_NO_GAIN = 1e-9


class SaturationWarning(SkbatchbaldWarning):
    """The batch's joint mutual information stopped growing before the batch was full.

    With K posterior samples, I(y_1..y_b; ω) <= H(ω) = log K, so once the cumulative
    BatchBALD score is within 1 % of log K the true gains of the remaining points are
    tiny and greedy picks would be decided by estimator noise: `batchbald` fills the
    rest of the batch in BALD order (unless ``on_saturation="greedy"``). The score
    can also
    stop below log K: when the samples fall into groups that predict alike on
    every pool point (trees with the same leaves, identical members), no label
    tells them apart, and the gains are exactly 0 once the batch has told the
    groups apart. BatchBALD then fills the batch in BALD order. Either way,
    use more (and more varied) posterior samples or acquire fewer points.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skbatchbald.acquisition import SaturationWarning, batchbald
    >>> # two posterior samples that disagree completely: one point holds log 2 nats
    >>> log_probs = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]] * 3)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = batchbald(log_probs, 2)
    >>> [w.category.__name__ for w in caught]
    ['SaturationWarning']
    """


def is_saturated(scores, n_mc_samples):
    """Whether a batch's cumulative score is within 1 % of log K.

    ``scores`` are the picks' cumulative scores so far (nondecreasing; empty
    for an empty batch). The threshold is `SaturationWarning`'s.
    """
    return len(scores) > 0 and scores[-1] >= _SATURATION * math.log(n_mc_samples)


def gained_nothing(value, scores):
    """Whether a step's best gain is 0, so that every later one is too.

    The K posterior samples then fall into groups that predict alike on every
    point left, and the batch already tells which group holds ω. At an exact
    step submodularity proves the later gains 0; at a sampled step the paired
    estimate (never negative) is 0 under every configuration drawn, and the
    next picks would be ties at 0 broken by float32 round-off, so the batch
    is completed in BALD order all the same. A group structure rarely reaches
    log K, so without this the batch was filled by round-off silently (128
    groups of 2 samples: picks 11 to 16 of 16 gained 0.0, without a warning).
    """
    return value - (scores[-1] if len(scores) else 0.0) <= _NO_GAIN


def fill_in_order(order, indices, scores, n_instances, rows_of):
    """Complete a batch whose greedy gains reached 0 from ``order`` (BALD's).

    Under the K samples every such point adds nothing, so ties would pick the
    lowest indices; BALD's order prefers points uncertain on their own. A point
    whose samples equal those of a point in the batch (a copy) goes last:
    where the model tells nothing apart, a copy is certain to repeat a label.
    ``order`` is the whole pool's, read a block at a time until enough points
    that are not copies are found (a copy has its original's BALD score, so
    copies can fill the top of the order). Each added pick keeps the score
    reached. ``rows_of(idx)`` gives the log-probabilities of pool points ``idx``.
    Also returns how many picks come before the first copy (all of them when
    no copy was needed).
    """
    need = n_instances - len(indices)
    candidates = order[~np.isin(order, indices)]
    seen = list(rows_of(np.asarray(indices, dtype=np.int64))) if len(indices) else []
    kept, copies = [], []
    block = 2 * max(need, 1)
    for start in range(0, len(candidates), block):
        if len(kept) >= need:
            break
        part = candidates[start : start + block]
        for candidate, row in zip(part, rows_of(part), strict=True):
            if any(np.array_equal(row, other) for other in seen):
                copies.append(candidate)
            else:
                kept.append(candidate)
                seen.append(row)
    rest = np.asarray([*kept, *copies], dtype=np.int64)[:need]
    last = scores[-1] if len(scores) else 0.0
    return (
        np.concatenate([indices, rest]).astype(np.int64),
        np.concatenate([scores, np.full(len(rest), last)]),
        len(indices) + min(len(kept), need),
    )


def complete_in_order(log_probs, indices, scores, n_instances, rank):
    """Fill a batch the greedy stopped early from ``rank``'s order of the whole pool.

    ``rank(log_probs, n)`` is the per-point strategy whose order fills the
    batch (BALD, or multi-label BALD), ties to the lowest index; a full batch
    is returned as it is. Returns `fill_in_order`'s three values.
    """
    if len(indices) >= n_instances:
        return indices, scores, len(indices)
    order, _ = rank(log_probs, log_probs.shape[0])
    return fill_in_order(order, indices, scores, n_instances, pool_rows(log_probs))


def pool_rows(log_probs):
    """``rows_of`` for `fill_in_order`: rows of an array, memmap or dask array."""

    def rows_of(idx):
        order = np.argsort(idx, kind="stable")
        rows = log_probs[idx[order]]  # sorted: what dask and memmaps read best
        rows = np.asarray(rows.compute() if hasattr(rows, "compute") else rows)
        out = np.empty_like(rows)
        out[order] = rows
        return out

    return rows_of


def warn_no_gain(scores, n_mc_samples, n_greedy):
    """Warn that the greedy stopped after ``n_greedy`` picks, every gain 0."""
    if n_greedy == 0:
        message = (
            f"no pool point carries information about ω: the K={n_mc_samples} "
            "posterior samples predict alike on every point (e.g. a bagging "
            "ensemble with bootstrap=False over a deterministic model fits the "
            f"same member K times), so the scores are 0 and the {scores.size} "
            "picks follow BALD's order, ties to the lowest index."
        )
    else:
        message = (
            "the batch's joint mutual information stopped growing at "
            f"{scores[n_greedy - 1]:.4g} nats after pick {n_greedy} of "
            f"{scores.size}: no pool point adds information, as the "
            f"K={n_mc_samples} posterior samples fall into groups that predict "
            "alike on every point left (e.g. trees with the same leaves). The "
            f"remaining {scores.size - n_greedy} picks follow their BALD scores."
        )
    warnings.warn(
        f"{message} Use more varied posterior samples (bootstrap=True, more trees "
        "or members, more MC-dropout samples) or acquire fewer points.",
        SaturationWarning,
        stacklevel=user_stacklevel(),
    )


def warn_multilabel_no_gain(scores, n_mc_samples, n_labels, n_greedy):
    """Warn that multi-label greedy steps stopped after ``n_greedy`` picks:
    at the ceiling L log K (each label's information about ω is at most
    log K), or for want of any gain below it."""
    limit = n_labels * math.log(n_mc_samples)
    if n_greedy == 0 or scores[n_greedy - 1] < _SATURATION * limit:
        warn_no_gain(scores, n_mc_samples, n_greedy)
        return
    warnings.warn(
        f"multi-label BatchBALD's cumulative score reached "
        f"{scores[n_greedy - 1]:.4g} nats after pick {n_greedy} of {scores.size}, "
        f"within 1% of L log K = {limit:.4g} (L={n_labels} labels, "
        f"K={n_mc_samples} posterior samples): no batch carries more than log K "
        "nats about each label, so the remaining "
        f"{scores.size - n_greedy} picks follow their multi-label BALD scores. "
        "Raise the number of posterior samples K (n_mc_samples; for an "
        "ensemble, its members: n_members, trees) or acquire fewer points.",
        SaturationWarning,
        stacklevel=user_stacklevel(),
    )


def warn_if_saturated(
    scores, n_mc_samples, n_greedy, n_distinct=None, *, greedy_offered=False
):
    """Warn of how a batch was completed past its informative picks.

    ``n_greedy`` picks came from greedy steps; then, up to ``n_distinct``
    (None: the whole batch), points in BALD order, and after those copies of
    picks (points whose samples equal a pick's), which fill a batch only when
    nothing else is left. Warns of the copies; of a greedy pick that reached
    log K (within 1 %) with distinct picks after it; and otherwise of greedy
    steps that stopped for want of any gain. ``greedy_offered``: the batch
    was filled in BALD's order at saturation (``on_saturation="bald"``), so
    the warning offers greedy steps instead.
    """
    limit = math.log(n_mc_samples)
    n_distinct = scores.size if n_distinct is None else n_distinct
    # a greedy pick that saturated the batch, with picks after it
    saturated = np.flatnonzero(
        scores[: min(n_greedy, scores.size - 1)] >= _SATURATION * limit
    )
    first = int(saturated[0]) if saturated.size else None
    if n_distinct < scores.size:
        warn_only_copies(scores, n_distinct)
    if first is None:
        if n_greedy < n_distinct:
            warn_no_gain(scores, n_mc_samples, n_greedy)
        return
    if first + 1 >= n_distinct:
        return  # only copies came after it: their warning says it
    warnings.warn(
        f"BatchBALD's cumulative score reached {scores[first]:.4g} nats after "
        f"pick {first + 1} of {scores.size}, within 1% of log K = {limit:.4g} "
        f"(K={n_mc_samples} posterior samples): no batch carries more than log K "
        f"nats, so the picks after it carry almost no information; "
        f"{_remaining(n_greedy - first - 1, n_distinct - n_greedy)} Acquire "
        "fewer points or raise the number of posterior samples K (n_mc_samples; "
        "for an ensemble, its members: n_members, trees; log K grows slowly)"
        + (
            # only where BALD's order filled the batch by choice
            ", or pass on_saturation='greedy' (e.g. BatchBALDQuery("
            "on_saturation='greedy')): further greedy steps, slower, which keep "
            "near-copies of a pick out of the batch where BALD's order takes "
            "them."
            if greedy_offered and n_distinct > n_greedy
            else "."
        ),
        SaturationWarning,
        stacklevel=user_stacklevel(),
    )


def _remaining(n_greedy_after, n_filled):
    """How the distinct picks after the saturating one were made."""
    if n_filled == 0:
        return f"the next {n_greedy_after} were decided by estimator noise."
    if n_greedy_after == 0:
        return f"the next {n_filled} follow their BALD scores."
    return (
        f"the next {n_greedy_after} were decided by estimator noise, then "
        f"{n_filled} follow their BALD scores, once no gain was left."
    )


def warn_no_target_gain(scores, steps):
    """Warn that batch EPIG's greedy found no gain at ``steps`` (0-based picks)."""
    first = steps[0]
    reached = f" at {scores[first - 1]:.4g} nats" if first else ""
    warnings.warn(
        f"the batch's expected information about the target labels stopped "
        f"growing{reached} at pick {first + 1} of {scores.size}: no pool point "
        f"added information about them there ({len(steps)} picks), as the "
        "posterior samples fall into groups that predict alike on every point "
        "left (e.g. trees with the same leaves). Those picks follow the points' "
        "own EPIG scores. Use more varied posterior samples (bootstrap=True, "
        "more trees or members, more MC-dropout samples) or acquire fewer "
        "points.",
        SaturationWarning,
        stacklevel=user_stacklevel(),
    )


def warn_only_copies(scores, n_greedy):
    """Warn that after ``n_greedy`` picks only copies of them were left."""
    warnings.warn(
        f"after pick {n_greedy} of {scores.size} only copies of the batch's points "
        "(points whose posterior samples equal a pick's: the same input, for a "
        f"person) are left in the pool, so the remaining {scores.size - n_greedy} "
        "picks repeat inputs already in the batch. Remove duplicate inputs from "
        "the pool, or acquire fewer points.",
        SaturationWarning,
        stacklevel=user_stacklevel(),
    )
