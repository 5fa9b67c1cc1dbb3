"""Label configurations of the points already in the batch: the rows of the joint table.

Greedy BatchBALD needs, at every step, the joint distribution of the labels y_S of the
n points already chosen. It is represented by J label configurations ŷ_j with weights
w_j and the table ``log P(ŷ_j | ω_k)`` of shape (J, K):

- exact: all configurations of positive probability (J <= C^n), ``w_j = P(ŷ_j)``;
- sampled: M configurations, M // K drawn from each ω_k, identical ones merged, with
  ``w_j = count_j / M``: the importance-sampling estimator of Kirsch, van Amersfoort &
  Gal (NeurIPS 2019, section 3.1) with proposal q(ŷ) = mean_k P(ŷ | ω_k).

`JointRows` turns either one into the posterior rows ``r_j[k] = P(ω_k | ŷ_j)`` that the
scoring kernel multiplies with the candidates' probabilities (chain rule, see
``_batchbald_kernel``).
"""

from dataclasses import dataclass

import numpy as np

from .._validation import check_int
from ._saturation import is_saturated

# Multiply-adds of an exact step (rows x candidates x K x C) a saturated batch
# still enumerates: 2^33, a few seconds on one core; small pools stay exact.
SATURATED_EXACT_WORK = 2**33


@dataclass(frozen=True)
class JointRows:
    """Weighted label configurations of the chosen points, ready for scoring.

    Attributes
    ----------
    posterior : ndarray of shape (J, K), float64
        ``P(ω_k | ŷ_j)``: each row sums to one.
    weights : ndarray of shape (J,), float64
        Sums to one: ``P(ŷ_j)`` (exact) or ``count_j / M`` (sampled).
    joint_entropy : float
        H(y_S) in nats: exact, or its importance-sampling estimate.
    exact : bool
        Whether the rows enumerate every configuration.
    """

    posterior: np.ndarray
    weights: np.ndarray
    joint_entropy: float
    exact: bool


def _logsumexp_rows(log_table):
    """logsumexp over axis 1 of a (J, K) table whose rows each hold a finite entry."""
    row_max = log_table.max(axis=1)  # (J,)
    shifted = np.exp(log_table - row_max[:, None])  # (J, K), -inf -> 0
    return row_max + np.log(shifted.sum(axis=1)), shifted


def rows_from_table(log_table, weights=None):
    """Posterior rows of a (J, K) table ``log P(ŷ_j | ω_k)``.

    Parameters
    ----------
    log_table : ndarray of shape (J, K), float64
        Every row has at least one finite entry.
    weights : ndarray of shape (J,) or None
        None: exact enumeration, ``w_j = P(ŷ_j) = mean_k P(ŷ_j | ω_k)``. Otherwise
        the sampling weights ``count_j / M``.

    Returns
    -------
    rows : JointRows
    """
    n_mc_samples = log_table.shape[1]
    log_norm, shifted = _logsumexp_rows(log_table)
    posterior = shifted / shifted.sum(axis=1, keepdims=True)  # (J, K)
    log_q = log_norm - np.log(n_mc_samples)  # (J,): log mean_k P(ŷ_j | ω_k)
    if weights is None:
        weights = np.exp(log_q)
        # Round-off only; keeps H(y_S) and the weighted sums consistent.
        weights /= weights.sum()
        exact = True
    else:
        exact = False
    joint_entropy = float(-np.dot(weights, log_q))
    return JointRows(posterior, weights, joint_entropy, exact)


def extend_exact(log_table, log_probs_point):
    """Add one point to an exact table: every configuration times every class.

    Parameters
    ----------
    log_table : ndarray of shape (J, K), float64
        ``log P(ŷ_j | ω_k)`` of the configurations so far (one row of zeros for the
        empty set).
    log_probs_point : ndarray of shape (K, C)
        ``log p(y | x, ω_k)`` of the new point.

    Returns
    -------
    log_table : ndarray of shape (J', K), J' <= J * C
        Configurations of probability exactly 0 under every ω_k are dropped: they
        contribute nothing to any entropy.
    """
    n_mc_samples = log_table.shape[1]
    point = np.asarray(log_probs_point, dtype=np.float64).T  # (C, K)
    extended = (log_table[:, None, :] + point[None, :, :]).reshape(-1, n_mc_samples)
    possible = extended.max(axis=1) > -np.inf  # (J * C,)
    return extended if possible.all() else extended[possible]


def sample_table(log_probs_chosen, n_joint_samples, rng):
    """Draw label configurations of the chosen points, M // K per posterior sample.

    Parameters
    ----------
    log_probs_chosen : ndarray of shape (n, K, C)
        Log-probabilities of the n chosen points.
    n_joint_samples : int
        M; ``M // K`` configurations are drawn from each ω_k (M >= K).
    rng : numpy.random.Generator

    Returns
    -------
    log_table : ndarray of shape (J, K), float64
        ``log P(ŷ_j | ω_k)`` of the J distinct configurations drawn, in
        lexicographic order of the configurations.
    weights : ndarray of shape (J,), float64
        Number of draws of each distinct configuration over the number of draws.
    """
    n_chosen, n_mc_samples, n_classes = log_probs_chosen.shape
    per_sample = n_joint_samples // n_mc_samples
    label_dtype = np.uint8 if n_classes <= 256 else np.int32
    configs = np.empty((n_mc_samples, per_sample, n_chosen), dtype=label_dtype)
    for s in range(n_chosen):
        cdf = np.cumsum(np.exp(log_probs_chosen[s], dtype=np.float64), axis=1)
        cdf /= cdf[:, -1:]
        # searchsorted(side="right") on a cdf ending in exactly 1 maps [0, 1) onto
        # the classes of positive probability only.
        cdf[:, -1] = 1.0
        uniform = rng.random((n_mc_samples, per_sample))  # (K, M // K)
        for k in range(n_mc_samples):
            configs[k, :, s] = np.searchsorted(cdf[k], uniform[k], side="right")
    configs = configs.reshape(n_mc_samples * per_sample, n_chosen)  # (M', n)
    # Identical configurations give identical rows: merging them changes nothing in
    # the estimate and shrinks the kernel's work (docs/benchmarks.rst).
    distinct, counts = _unique_rows(configs)  # (J, n), (J,)
    log_table = np.zeros((n_mc_samples, distinct.shape[0]))  # (K, J)
    for s in range(n_chosen):
        log_table += log_probs_chosen[s][:, distinct[:, s]]
    return log_table.T.copy(), counts / configs.shape[0]


def _unique_rows(labels):
    """Distinct rows of a (M, n) label array and their counts, in a fixed order.

    Each row's bytes are read as a few uint64 words and sorted with ``lexsort``:
    much faster than ``np.unique(axis=0)``, which compares rows byte by byte.
    """
    n_rows, n_cols = labels.shape
    row_bytes = n_cols * labels.itemsize
    padded = np.zeros((n_rows, -(-row_bytes // 8) * 8), dtype=np.uint8)
    padded[:, :row_bytes] = labels.view(np.uint8).reshape(n_rows, row_bytes)
    words = padded.view(np.uint64)  # (M, W)
    order = np.lexsort(words.T[::-1])  # first word most significant
    ordered = words[order]
    starts = np.flatnonzero(
        np.concatenate([[True], (ordered[1:] != ordered[:-1]).any(axis=1)])
    )
    counts = np.diff(np.append(starts, n_rows))
    return labels[order[starts]], counts


def check_n_joint_samples(n_joint_samples, n_mc_samples):
    return check_int(
        n_joint_samples,
        "n_joint_samples",
        min_val=n_mc_samples,
        hint=(
            f"n_joint_samples // K label configurations are drawn per posterior "
            f"sample, so at least K={n_mc_samples} are needed (the default is 10_000)"
        ),
    )


def is_exact(n_classes, n_chosen, n_joint_samples):
    """Whether the C^n configurations of the chosen points fit the budget M."""
    return n_classes**n_chosen <= n_joint_samples  # Python ints: no overflow


def enumerates(scores, n_joint_samples, shape):
    """Whether the step after the picks scored ``scores`` enumerates exactly.

    While C^n fits the budget M; but not for a saturated batch (its score
    within 1 % of log K, `SaturationWarning`'s threshold) whose exact step
    would be long: C^n rows times N candidates times K C above
    `SATURATED_EXACT_WORK`. Every gain left is below H(ω | y_S) <= 1 % of
    log K, for every candidate alike, so no bound separates them and an
    exact step scored every row for every pool point (a Laplace head's fifth
    pick over 10^5 points: 10^4 rows, 44 s; over 10^6, minutes) to rank
    picks that carry almost no information. Sampled configurations of a
    saturated batch merge into a few hundred rows. ``shape`` is the pool's
    (N, K, C).
    """
    n_pool, n_mc_samples, n_classes = shape
    n_rows = n_classes ** len(scores)  # Python ints: no overflow
    if not is_exact(n_classes, len(scores), n_joint_samples):
        return False
    if not is_saturated(scores, n_mc_samples):
        return True
    return n_rows * n_pool * n_mc_samples * n_classes <= SATURATED_EXACT_WORK


def grouped_rows(rows):
    """Merge the rows by the posterior sample they favour most: at most K rows.

    Returns the posterior rows ``Σ_{j∈g} w_j r_j / W_g`` and weights ``W_g`` of the
    groups. By Jensen (entropy is concave), Σ_g W_g H(ū_g(x)) >= Σ_j w_j H(u_j(x))
    for every candidate: scoring these few rows bounds every gain from above. Late
    in a batch the rows are posteriors concentrated on one ω_k, and the bound is
    tight.
    """
    group = rows.posterior.argmax(axis=1)  # (J,)
    weighted = rows.weights[:, None] * rows.posterior  # (J, K)
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.diff(group[order], prepend=-1))
    mass = np.add.reduceat(weighted[order], starts, axis=0)  # (G, K)
    weights = mass.sum(axis=1)  # (G,)
    return mass / weights[:, None], weights


def conditional_information(rows, entropy, log_probs_row):
    """I(y_x; ω | y_S) from the same rows on both sides: never negative.

    ``entropy`` is ``Σ_j w_j H(u_j(x))`` for these rows, ``u_j(x) = Σ_k r_jk
    p_k(x)``; ``log_probs_row`` is the candidate's (K, C) log-probabilities.
    Subtracting ``Σ_j w_j Σ_k r_jk H(p_k(x))`` pairs each configuration's
    predictive entropy with its own expected conditional entropy, so every
    term is a mutual information (>= 0 by concavity of H). The unpaired
    ``E_ω H(y_x | ω)`` uses the uniform posterior, which sampled rows only
    match on average: their difference is noise that exceeded the gains late in
    a batch, and the batch's estimated information fell from step to step.
    In the exact phase ``Σ_j w_j r_j`` is uniform and the two agree.
    """
    log_row = np.asarray(log_probs_row, dtype=np.float64)
    probs = np.exp(log_row)
    # 0 log 0 = 0 for classes a sample rules out
    terms = np.multiply(probs, log_row, out=np.zeros_like(probs), where=probs > 0)
    sample_entropies = -terms.sum(axis=1)  # (K,)
    mixture = rows.weights @ rows.posterior  # (K,)
    return max(entropy - float(mixture @ sample_entropies), 0.0)
