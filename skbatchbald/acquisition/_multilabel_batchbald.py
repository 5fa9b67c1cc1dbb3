"""BatchBALD for multi-label models: greedy on the sum over labels of each
label's joint mutual information with the parameters, Σ_l I(y_{1..b, l}; ω).

Each label's joint over the batch is a `LabelJoint`. A greedy step first bounds
every candidate's gain with one matrix-vector product per label
(`LabelJoint.joint_entropy_bound`) and, while the joints are exact, by its gain
at an earlier step (each label's term is submodular, so gains never increase);
it then scores candidates in full, highest bound first, until no unscored bound
reaches the best gain. The pick is the plain greedy's: the argmax of every
candidate's gain, ties to the lowest index.
"""

import numpy as np

from .._memory import check_max_memory
from .._validation import check_int
from ._multilabel_inputs import binary_log_probs, check_label_log_probs
from ._multilabel_joint import LabelJoint
from ._validation import check_n_instances, check_random_state

# Temporaries per (row, candidate) of one label: q for y = 0, 1, their logs
# and products, in float64.
_BYTES_PER_CELL = 6 * 8
# Candidates scored in full first; the block doubles until the bounds stop.
_PROBE = 16
# Float rounding between a bound and a gain computed by another route; far
# below any gain that decides a pick, far above the rounding (about 1e-13).
_SLACK = 1e-9


def _label_tables(log_probs):
    """(L, N, K, 2) probabilities of each label, and Σ_l H(y_l | ω) per point."""
    logs = binary_log_probs(log_probs)  # (N, K, L, 2)
    probs = np.exp(logs)
    plogp = np.where(probs > 0, probs * np.where(probs > 0, logs, 0.0), 0.0)
    conditional = -plogp.sum(axis=3).mean(axis=1).sum(axis=1)
    return np.ascontiguousarray(probs.transpose(2, 0, 1, 3)), conditional


def _gains(joints, probs, conditional, candidates, chunk):
    joint = sum(
        j.joint_entropy(p[candidates], chunk)
        for j, p in zip(joints, probs, strict=True)
    )
    return joint - conditional[candidates], joint


def _bounds(joints, probs, conditional, stale, batch_entropy):
    """Upper bounds of every candidate's ``joint - conditional``."""
    bound = sum(j.joint_entropy_bound(p) for j, p in zip(joints, probs, strict=True))
    bound -= conditional
    if all(j.exact for j in joints):
        # The marginal gain, ``joint - conditional - H(y_B)``, never increases.
        bound = np.minimum(bound, stale + batch_entropy)
    return bound + _SLACK


def _greedy(probs, conditional, n_instances, n_joint_samples, budget, rng, prune):
    """The greedy loop; ``prune=False`` scores every candidate at every step."""
    n_labels, n_pool, n_mc_samples, _ = probs.shape
    joints = [LabelJoint(n_mc_samples) for _ in range(n_labels)]
    available = np.ones(n_pool, dtype=bool)
    stale = np.full(n_pool, np.inf)  # marginal gains when last scored
    indices, scores = [], []
    batch_conditional = 0.0
    for _ in range(n_instances):
        n_rows = max(len(joint.rows) for joint in joints)
        chunk = max(1, budget // (_BYTES_PER_CELL * n_rows))
        gain = np.full(n_pool, -np.inf)
        joint = np.zeros(n_pool)
        batch_entropy = sum(j.batch_entropy() for j in joints)
        order = np.flatnonzero(available)
        if prune:
            bound = _bounds(joints, probs, conditional, stale, batch_entropy)
            order = order[np.argsort(-bound[order], kind="stable")]
            descending = -bound[order]  # ascending, for searchsorted
        start, size, end = 0, _PROBE if prune else len(order), len(order)
        while start < end:
            block = order[start : min(start + size, end)]
            gain[block], joint[block] = _gains(joints, probs, conditional, block, chunk)
            stale[block] = gain[block] - batch_entropy
            start += len(block)
            size *= 2
            if prune:  # only candidates whose bound reaches the best gain remain
                end = np.searchsorted(descending, -gain.max(), side="right")
        pick = int(np.argmax(gain))  # the first maximum: lowest index
        batch_conditional += conditional[pick]
        indices.append(pick)
        scores.append(joint[pick] - batch_conditional)
        available[pick] = False
        for label, label_joint in enumerate(joints):
            label_joint.extend(probs[label, pick], n_joint_samples, rng)
    return np.asarray(indices, dtype=np.int64), np.asarray(scores, dtype=np.float64)


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

    **Exactness.** Each label's objective is submodular in the batch (Kirsch
    et al. 2019), hence so is their sum, and greedy gains never increase
    while the joints are exact. The first pick is the top
    :func:`multilabel_bald` point.

    **Cost.** Step i bounds every candidate's gain with one N x K
    matrix-vector product per label, and scores in full, against at most
    ``min(2^i, n_joint_samples)`` configurations per label (about
    ``4 L K min(2^i, M)`` flops each), only the candidates whose bound reaches
    the best gain found: the bound is the sum over labels of each label's
    BALD score (the mixture of the posterior samples the drawn configurations
    imply, once they are drawn), and while the joints are exact also the
    candidate's gain at an earlier step. Without pruning a batch costs
    ``O(L b N K M)``. Memory: ``min(2^i, M)`` x K per label, and the scoring
    chunks within ``max_memory``. The exact joint of all ``L b`` labels would
    need ``2^{L b}`` configurations.

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
    probs, conditional = _label_tables(log_probs)
    return _greedy(
        probs, conditional, n_instances, n_joint_samples, budget, rng, prune=True
    )
