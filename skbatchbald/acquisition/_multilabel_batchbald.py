"""BatchBALD for multi-label models: greedy on the sum over labels of each
label's joint mutual information with the parameters, Σ_l I(y_{1..b, l}; ω).

Per label l the batch's labels y_{1..b, l} are a joint over 2^b
configurations c. Each configuration is kept as one row of ``p(c | ω_k)``
over the K samples (rescaled by its largest entry, the scale kept as a log),
so that for a candidate x

    H(y_{B, l}, y_{x, l}) = -Σ_c w_c Σ_y q_c(y) log q_c(y),
    q_c(y) = (1/K) Σ_k p(c | ω_k) p(y_{x, l} = y | ω_k)

is two (rows x K) @ (K x N) products. Exact rows enumerate every configuration
(w_c = 1); once there would be more than ``n_joint_samples`` of them, rows are
configurations drawn from the posterior predictive and w_c = 1 / (M p(c)),
the estimator of Kirsch, van Amersfoort & Gal (2019, Sec. 3.2).
"""

import numpy as np

from .._memory import check_max_memory
from .._validation import check_int
from ._multilabel_inputs import binary_log_probs, check_label_log_probs
from ._validation import check_n_instances, check_random_state

# Temporaries per (row, candidate) of one label: q for y = 0, 1, their logs
# and products, in float64.
_BYTES_PER_CELL = 6 * 8


class _LabelJoint:
    """The joint of one label's batch labels: rows p(c | ω_k) and their weights."""

    def __init__(self, n_mc_samples):
        self.rows = np.ones((1, n_mc_samples))  # the empty batch: one configuration
        self.log_scale = np.zeros(1)
        self.exact = True

    def _weights(self):
        if self.exact:
            return np.exp(self.log_scale)
        return 1.0 / (len(self.rows) * self.rows.mean(axis=1))

    def joint_entropy(self, probs, chunk):
        """H(batch, y_x) for every candidate x; ``probs`` (N, K, 2) of the label."""
        weights = self._weights()[:, None]  # (rows, 1)
        n_pool, n_mc_samples, _ = probs.shape
        entropy = np.empty(n_pool)
        for start in range(0, n_pool, chunk):
            block = probs[start : start + chunk]
            total = np.zeros(len(block))
            for y in (0, 1):
                q = self.rows @ block[:, :, y].T / n_mc_samples  # (rows, chunk)
                with np.errstate(divide="ignore", invalid="ignore"):
                    terms = q * (np.log(q) + self.log_scale[:, None])
                total -= (weights * np.where(q > 0, terms, 0.0)).sum(axis=0)
            entropy[start : start + len(block)] = total
        return entropy

    def extend(self, probs_x, n_joint_samples, rng):
        """Add the picked point, whose label probabilities are ``probs_x`` (K, 2)."""
        if self.exact:
            rows = np.concatenate(
                [self.rows * probs_x[:, 0], self.rows * probs_x[:, 1]]
            )
            log_scale = np.concatenate([self.log_scale, self.log_scale])
        else:
            # Draw each configuration's next label from p(y_x | c), so that
            # the rows stay draws from the posterior predictive.
            q1 = self.rows @ probs_x[:, 1]
            q0 = self.rows @ probs_x[:, 0]
            ones = rng.random(len(self.rows)) * (q0 + q1) < q1
            rows = self.rows * np.where(ones[:, None], probs_x[:, 1], probs_x[:, 0])
            log_scale = self.log_scale
        largest = rows.max(axis=1)
        keep = largest > 0  # configurations of probability 0 add nothing
        self.rows = rows[keep] / largest[keep, None]
        self.log_scale = log_scale[keep] + np.log(largest[keep])
        if self.exact and len(self.rows) > n_joint_samples:
            # p(c) = exp(scale) mean_k rows: draw the configurations by it
            p = np.exp(self.log_scale) * self.rows.mean(axis=1)
            drawn = rng.choice(len(p), size=n_joint_samples, p=p / p.sum())
            self.rows, self.log_scale = self.rows[drawn], self.log_scale[drawn]
            self.exact = False


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

    **Cost.** Step i scores N candidates against at most
    ``min(2^i, n_joint_samples)`` configurations per label: about
    ``4 L N K min(2^i, M)`` flops, ``O(L b N K M)`` for a batch. Memory:
    ``min(2^i, M)`` x K per label, and the scoring chunks within
    ``max_memory``. The exact joint of all ``L b`` labels would need
    ``2^{L b}`` configurations.

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
    n_pool, n_mc_samples, n_labels = log_probs.shape
    n_instances = check_n_instances(n_instances, n_pool)
    n_joint_samples = check_int(
        n_joint_samples,
        "n_joint_samples",
        min_val=2,
        hint="configurations per label (the default is 10_000)",
    )
    budget = check_max_memory(max_memory)
    rng = check_random_state(random_state)
    # (L, N, K, 2): each label's binary probabilities, contiguous per label
    probs = np.exp(
        np.ascontiguousarray(binary_log_probs(log_probs).transpose(2, 0, 1, 3))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(probs > 0, probs * np.log(probs), 0.0)
    conditional = -plogp.sum(axis=3).mean(axis=2).sum(axis=0)  # (N,) Σ_l H(y_l|ω)
    joints = [_LabelJoint(n_mc_samples) for _ in range(n_labels)]
    available = np.ones(n_pool, dtype=bool)
    indices, scores = [], []
    batch_conditional = 0.0
    for _ in range(n_instances):
        n_rows = max(len(joint.rows) for joint in joints)
        chunk = max(1, budget // (_BYTES_PER_CELL * n_rows))
        joint = sum(
            j.joint_entropy(p, chunk) for j, p in zip(joints, probs, strict=True)
        )
        gain = np.where(available, joint - conditional, -np.inf)
        pick = int(np.argmax(gain))  # the first maximum: lowest index
        batch_conditional += conditional[pick]
        indices.append(pick)
        scores.append(joint[pick] - batch_conditional)
        available[pick] = False
        for label, label_joint in enumerate(joints):
            label_joint.extend(probs[label, pick], n_joint_samples, rng)
    return np.asarray(indices, dtype=np.int64), np.asarray(scores, dtype=np.float64)
