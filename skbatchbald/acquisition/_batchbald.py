"""BatchBALD: greedy maximisation of the joint mutual information of a batch."""

import time

import numpy as np

from .._memory import check_max_memory
from .._validation import check_on_saturation
from ._bald import bald
from ._batchbald_chunked import greedy_chunked
from ._batchbald_kernel import (
    CandidateScorer,
    float32_error_bound,
    float32_sampled_slack,
)
from ._batchbald_memory import check_budget
from ._copies import copies_of
from ._greedy_steps import record
from ._joint_configurations import (
    check_n_joint_samples,
    conditional_information,
    enumerates,
    extend_exact,
    grouped_rows,
    rows_from_table,
    sample_table,
)
from ._pool import as_chunked_pool
from ._saturation import (
    complete_in_order,
    gained_nothing,
    is_saturated,
    warn_if_saturated,
)
from ._validation import (
    check_log_probs,
    check_n_instances,
    check_random_state,
)

# Candidates scored in full first, best merged bound first: their best gain is
# what every other candidate's bound must reach.
_PROBE = 16
# The float32 copy of the pool is kept only while it is a small part of the
# budget: with the merged bound a step scores few candidates, and at N = 10^6
# the copy would double the pool's memory (800 MB at K = 20, C = 10).
_COPY_SHARE = 0.25


def _merged_bound(rows, conditional, cross, available):
    """Upper bound of every candidate's gain for these rows: one product.

    Merging all rows into one, ``Σ_j w_j H(u_j(x)) <= H(Σ_j w_j u_j(x))`` by
    Jensen, and ``Σ_j w_j u_j(x) = Σ_k q_k p_k(x)`` with ``q = Σ_j w_j r_j``;
    Gibbs' inequality then bounds its entropy by ``cross @ q``
    (`CandidateScorer.entropy_tables64`). In the exact phase q is uniform and
    this is the BALD score. Float64 throughout: -inf for picked points.
    """
    q = rows.weights @ rows.posterior  # (K,)
    return np.where(available, cross @ q - conditional, -np.inf)


def _gains(scorer, rows, conditional, cheap, slack, stale=None):
    """Float32-kernel gains of the candidates that can be the best; -inf elsewhere.

    ``cheap`` holds upper bounds of every candidate's gain for these very rows
    (-inf for picked points). The few candidates with the highest are scored in
    full; a candidate whose bound is below their best gain cannot be the
    argmax. The others get the tighter bound of the rows grouped by the
    posterior sample they favour most (at most K rows), and are scored in
    decreasing order of it, skipping those below the best gain found: the picks
    are those of scoring every candidate. ``stale`` (lazy greedy) tightens the
    bounds with the previous step's gains, which are not bounds for this step's
    samples.

    Returns the gains, the number of candidates scored and, for the next step,
    each candidate's gain if scored and its tightest bound otherwise.
    """
    upper = cheap if stale is None else np.minimum(cheap, stale)
    n_probe = min(_PROBE, int(np.count_nonzero(upper > -np.inf)))
    probe = np.argpartition(-upper, n_probe - 1)[:n_probe]
    only = np.full(upper.shape, -np.inf)
    only[probe] = upper[probe]
    first, _ = scorer.best_gains32(
        rows.posterior, rows.weights, conditional, only, np.inf
    )
    # the probe stays: with lazy bounds (not bounds of this step's gains) its
    # gains can exceed its bounds
    keep = upper + slack >= first.max()
    keep[probe] = True
    grouped = scorer.bound_gains32(
        *grouped_rows(rows), conditional, keep & (upper > -np.inf)
    )
    tight = np.minimum(upper, grouped)  # grouped is -inf where not computed
    # only those that can reach the probe's best gain are sorted and scored
    contenders = np.where(tight + slack >= first.max(), tight, -np.inf)
    gains, _ = scorer.best_gains32(
        rows.posterior, rows.weights, conditional, contenders, slack
    )
    bounds = np.where(grouped > -np.inf, tight, upper)
    gains = np.where(gains > -np.inf, gains, first)  # the probe's, if skipped now
    scored = gains > -np.inf  # the probe may be scored twice: counted once
    return gains, int(np.count_nonzero(scored)), np.where(scored, gains, bounds)


def _pick_exact(scorer, rows, conditional, cheap, stale=None):
    """The float64 argmax of the gains, checking the float32 kernel's near-best.

    Every candidate whose float32 gain is within twice the kernel's error bound of
    the best is re-scored in float64, so the pick is the float64 argmax (lowest
    index among exact ties).
    """
    _, n_mc_samples, n_classes = scorer.log_probs.shape
    # Each float32 value is within `float32_error_bound` of its exact value and
    # two of them are compared: bound vs gain when skipping, gain vs gain here.
    slack = 2.0 * float32_error_bound(n_mc_samples, n_classes)
    gains, n_scored, bounds = _gains(scorer, rows, conditional, cheap, slack)
    near = np.flatnonzero(gains >= gains.max() - slack)  # ascending indices
    entropies = scorer.expected_entropy64(rows.posterior, rows.weights, near)
    best = int(np.argmax(entropies - conditional[near]))
    return int(near[best]), float(entropies[best]), n_scored, bounds


def _pick_sampled(scorer, rows, conditional, cheap, stale=None):
    slack = float32_sampled_slack(scorer.log_probs.shape[2])
    gains, n_scored, bounds = _gains(scorer, rows, conditional, cheap, slack, stale)
    best = int(np.argmax(gains))
    # The score in float64: a float32 gain's last bits depend on the tile the
    # candidate was scored in, which depends on which others were pruned.
    entropy = scorer.expected_entropy64(rows.posterior, rows.weights, [best])[0]
    return best, float(entropy), n_scored, bounds


def _greedy(
    log_probs,
    n_instances,
    n_joint_samples,
    max_memory,
    rng,
    lazy=False,
    until_saturated=False,
):
    """Greedy BatchBALD on validated inputs; see `batchbald`.

    ``until_saturated``: stop after the pick whose score reaches 99 % of
    log K (`is_saturated`; ``on_saturation="bald"``).
    """
    n_pool, n_mc_samples, _ = log_probs.shape
    budget = check_budget(max_memory, log_probs.shape, n_instances, n_joint_samples)
    scorer = CandidateScorer(log_probs, budget, copy_share=_COPY_SHARE)
    conditional, cross = scorer.entropy_tables64()  # (N,), (N, K)
    available = np.ones(n_pool, dtype=bool)
    chosen = []
    scores = np.empty(n_instances)
    conditional_sum = 0.0
    exact_table = np.zeros((1, n_mc_samples))  # the empty configuration
    bounds = None
    for step in range(n_instances):
        if not available.any():
            return np.asarray(chosen, dtype=np.int64), scores[: len(chosen)], True
        start = time.perf_counter()
        exact = enumerates(scores[:step], n_joint_samples, log_probs.shape)
        if exact:
            rows = rows_from_table(exact_table)
            cheap = _merged_bound(rows, conditional, cross, available)
            if bounds is not None:
                # Submodularity: exact gains never increase from step to step,
                # so last step's gains and bounds bound this step's.
                cheap = np.minimum(cheap, bounds)
            pick, entropy, n_scored, bounds = _pick_exact(
                scorer, rows, conditional, cheap
            )
        else:
            table, weights = sample_table(log_probs[chosen], n_joint_samples, rng)
            rows = rows_from_table(table, weights)
            cheap = _merged_bound(rows, conditional, cross, available)
            pick, entropy, n_scored, bounds = _pick_sampled(
                scorer, rows, conditional, cheap, bounds if lazy else None
            )
        # I(y_S, y_x; ω) = H(y_S) + Σ_j w_j H(u_j(x)) − Σ_{i ∈ S ∪ {x}} E_ω H(y_i|ω)
        if exact:
            value = rows.joint_entropy + entropy - conditional_sum - conditional[pick]
        else:  # the chain rule, each gain paired with its own draws
            gain = conditional_information(rows, entropy, log_probs[pick])
            value = scores[step - 1] + gain
        if gained_nothing(value, scores[:step]):
            break
        conditional_sum += conditional[pick]
        scores[step] = value
        chosen.append(pick)
        available[pick] = False
        available[
            copies_of(log_probs, conditional, log_probs[pick], conditional[pick])
        ] = False
        if step + 1 < n_instances and enumerates(
            scores[: step + 1], n_joint_samples, log_probs.shape
        ):
            exact_table = extend_exact(exact_table, log_probs[pick])
        record(step, rows, n_scored, start)
        if until_saturated and is_saturated(scores[: step + 1], n_mc_samples):
            break
    return np.asarray(chosen, dtype=np.int64), scores[: len(chosen)], False


def batchbald(
    log_probs,
    n_instances,
    *,
    n_joint_samples=10_000,
    max_memory=None,
    random_state=None,
    lazy=False,
    on_saturation="bald",
):
    """Acquire a batch by greedy maximisation of its joint mutual information.

    Each step adds the pool point x that maximises I(y_S, y_x; ω), where S is the
    batch so far. The joint entropy of S is exact while its C^n label configurations
    (n = ``|S|``) number at most ``n_joint_samples``, and estimated from
    ``n_joint_samples`` sampled configurations after that. Once the batch is
    saturated (its score within 1 % of log K, the most any batch can hold under
    K samples), the rest of it follows BALD's order by default: all later picks
    together can add at most 1 % of log K, so greedy steps would rank them by
    the estimator's noise, at a cost of N x M x K x C per step (minutes for
    C = 1000). With ``on_saturation="greedy"`` (the paper's code) the greedy
    steps go on; a saturated step is then sampled where an exact one would take
    more than 2^33 multiply-adds (C^n x N x K x C).

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_classes)
        Posterior log-probabilities ``log p(y = c | x_n, ω_k)`` for K posterior
        samples ω_k (e.g. MC-dropout masks), float32 or float64. ``-inf``
        (probability exactly 0) is allowed.
    n_instances : int
        Batch size b, in ``[1, n_pool]``.
    n_joint_samples : int, default=10_000
        M: the exact joint over the chosen points is used while C^n <= M (and,
        for a saturated batch, while the step is short: see above); after that,
        M configurations are drawn per greedy step (M // K per posterior
        sample). Must be >= K.
    max_memory : int, str or None, default=None
        Bound on the working memory of the call (the pool itself excluded), in
        bytes or as a string such as ``"512MB"``; None means the smaller of 1 GiB
        and a quarter of the available memory. It never changes the result: the
        tiles are cache-sized whatever the budget, which only decides whether a
        float32 copy of the pool is kept (when it takes at most a quarter of
        the budget) and how many worker threads run. The call also keeps two
        float64 tables of the pool, of shape (N,) and (N, K) (for a memmap or
        dask array, three of shape (N,)).
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, \
default=None
        Seeds the draws of label configurations (sampled phase only); one
        generator per call, the global numpy and torch generators are never used.
    lazy : bool, default=False
        Lazy greedy in the sampled phase: a candidate's gain at the previous step
        (or its bound, if it was not scored) also bounds its gain at this step, so
        fewer candidates are scored. Those gains were estimated from the previous
        step's samples, so they are not bounds for this step's: picks can differ
        from the default by more than a different seed makes them differ
        (:ref:`kernel-measurements`). Exact-phase picks are unchanged. Off by
        default.
    on_saturation : {"bald", "greedy"}, default="bald"
        What fills a batch after the pick whose cumulative score reaches
        99 % of log K: ``"bald"``, the remaining pool points in decreasing
        BALD score (copies of a pick, whose samples equal its own, last), each
        with the score reached; ``"greedy"``, further greedy steps (sampled
        where an exact step would be long, see above), as the paper's code
        does.

    Returns
    -------
    indices : ndarray of shape (n_instances,), int64
        Distinct pool indices, in pick order.
    scores : ndarray of shape (n_instances,), float64
        ``scores[i]`` is the joint mutual information I(y_1..y_{i+1}; ω) of the
        first i + 1 picks, in nats; ``scores[0]`` is the BALD score of the first
        pick. Picks that fill a saturated batch (``on_saturation="bald"``)
        repeat the score reached, within 1 % of log K of their own joint
        score. In the sampled phase each step adds the pick's gain
        I(y_x; ω | y_S), recomputed in float64 with both of its entropies taken
        from the same sampled configurations, so the estimate never decreases
        (a gain is a mutual information, never negative).

    Raises
    ------
    ValueError
        If ``log_probs`` is not a valid (N, K, C) array of normalised
        log-probabilities (NaN, +inf, wrong number of dimensions, rows that do not
        sum to one, C < 2, empty pool), if ``n_instances`` is not in
        ``[1, n_pool]``, if ``n_joint_samples`` < K, if ``max_memory`` is
        malformed or too small for the joint table of M configurations, or if
        ``random_state`` is a negative int.
    TypeError
        If ``n_instances``, ``n_joint_samples``, ``max_memory`` or
        ``random_state`` is of a wrong type, or ``lazy`` is not a bool.

    Warns
    -----
    SaturationWarning
        When the cumulative score reaches log K (within 1 %) before the batch is
        full: later picks then follow BALD's order (or, with
        ``on_saturation="greedy"``, are decided by estimator noise). Also when, in
        the exact phase, no point adds information (every gain 0: the K
        samples fall into groups that predict alike on every point left): the
        rest of the batch then follows BALD's order (copies of a pick, whose
        samples equal its own, last), each with the score reached, where ties
        would have picked the lowest indices.

    See Also
    --------
    skbatchbald.acquisition.bald : Top-b points by single-point mutual information.
    skbatchbald.acquisition.mutual_information : The BALD score of every point.

    Notes
    -----
    Kirsch, van Amersfoort & Gal, "BatchBALD: Efficient and Diverse Batch
    Acquisition for Deep Bayesian Active Learning", NeurIPS 2019:

    .. math::
        a_{\\mathrm{BatchBALD}}(x_{1:b}) = H(y_1, \\dots, y_b)
        - \\sum_{i=1}^{b} \\mathbb{E}_{\\omega} H(y_i \\mid x_i, \\omega)

    It is submodular, so the greedy batch is within 1 − 1/e of the best one. With
    the chosen points' label configurations ŷ_j, weights w_j and posterior rows
    ``r_j[k] = P(ω_k | ŷ_j)``, the chain rule gives

    .. math::
        H(y_S, y_x) = H(y_S) + \\sum_j w_j H\\Big(\\sum_k r_{jk}\\,
        p(y_x \\mid x, \\omega_k)\\Big)

    exactly when the ŷ_j enumerate every configuration (w_j = P(ŷ_j)), and as the
    paper's importance-sampling estimate when they are M draws, M // K from each
    ω_k (w_j = 1/M, identical draws merged; the estimate of H(y_S) is then
    ``−Σ_j w_j log mean_k P(ŷ_j | ω_k)``). The draws are renewed at each step and
    shared by all candidates of that step.

    Scoring a tile of candidates is one (J, K) @ (K, tile·C) float32 product and one ``u
    log u`` pass with float64 sums. Three upper bounds of the gains, each valid for the
    step's own rows, leave the argmax unchanged while sparing most candidates. (1) All
    rows merged into one: by Jensen's and Gibbs' inequalities ``Σ_j w_j H(u_j(x)) <= Σ_k
    q_k CE_k(x)``, with ``q = Σ_j w_j r_j`` and ``CE_k(x) = −Σ_c p(c | x, ω_k) log p̄(c
    | x)`` computed once: one matrix-vector product bounds every candidate (in the exact
    phase q is uniform and the bound is the BALD score). In the exact phase it is
    tightened by submodularity: exact gains never increase, so a candidate's gain or
    bound at the previous step bounds it now. The 16 candidates with the highest bound
    are scored first, and a candidate whose bound is below their best gain cannot be the
    argmax. (2) For the others, the rows merged by the posterior sample they favour most
    (Jensen, at most K rows). (3) Candidates are scored in decreasing order of that
    bound and skipped once it is below the best gain found. In the exact phase the
    comparisons allow twice a proven float32 round-off bound, and every candidate within
    it of the best is re-scored in float64: exact-phase picks are those of float64
    arithmetic. In the sampled phase the skip test allows 16 ε (log C + 1) ≈ 3e-6 nats
    instead (six times the largest round-off measured, 5e-7 for a gain and a bound
    together; the proven bound, ~1e-4, exceeds the gains late in a batch): a pick can
    then differ from scoring every candidate only between gains equal to float32
    precision, far below the estimator's own noise. Ties break to the lowest index;
    picked points are never picked again, nor are their exact copies (points whose
    samples equal a pick's bitwise: the same input, whose label a person gives
    once), which fill a batch only when nothing else is left, with a warning.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import batchbald
    >>> rng = np.random.default_rng(0)
    >>> logits = rng.normal(size=(100, 8, 3))  # 100 points, K=8 samples, C=3
    >>> log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    >>> indices, scores = batchbald(log_probs, 4, random_state=0)
    >>> indices.shape, scores.dtype
    ((4,), dtype('float64'))
    >>> bool(np.all(np.diff(scores) >= 0))
    True
    """
    pool = as_chunked_pool(log_probs)
    if pool is None:
        log_probs = check_log_probs(log_probs)
        shape = log_probs.shape
    else:  # a memmap or dask array: validated block by block while scoring
        pool.check_layout()
        shape = pool.shape
    n_pool, n_mc_samples, _ = shape
    n_instances = check_n_instances(n_instances, n_pool)
    n_joint_samples = check_n_joint_samples(n_joint_samples, n_mc_samples)
    max_memory = check_max_memory(max_memory)
    rng = check_random_state(random_state)
    if not isinstance(lazy, bool | np.bool_):
        raise TypeError(f"lazy must be True or False, got {lazy!r}")
    until_saturated = check_on_saturation(on_saturation) == "bald"
    if pool is None:
        indices, scores, _ = _greedy(
            log_probs,
            n_instances,
            n_joint_samples,
            max_memory,
            rng,
            lazy=bool(lazy),
            until_saturated=until_saturated,
        )
    else:
        if lazy:
            raise ValueError(
                "lazy=True keeps every candidate's last gain between steps and is "
                "only available for a pool in memory; pass lazy=False for a memmap "
                "or dask array, or np.asarray(log_probs) if it fits in memory"
            )
        indices, scores, _ = greedy_chunked(
            pool,
            n_instances,
            n_joint_samples,
            max_memory,
            rng,
            until_saturated=until_saturated,
        )
    n_greedy = len(indices)
    indices, scores, n_distinct = complete_in_order(
        log_probs, indices, scores, n_instances, bald
    )
    # a greedy that stopped because only copies were left gets only copies
    # from the fill (the same bitwise test): n_distinct == n_greedy then
    warn_if_saturated(
        scores, n_mc_samples, n_greedy, n_distinct, greedy_offered=until_saturated
    )
    return indices, scores
