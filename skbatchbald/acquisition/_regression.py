"""BALD and BatchBALD for regression, from posterior samples of the prediction.

The estimator (docs: user guide "Regression"): K posterior samples f_k(x) of the
predicted mean, each with Gaussian observation noise of variance s_k(x)^2. The
predictive of a batch B, a mixture of K Gaussians, is replaced by the Gaussian
with the same mean and covariance, Cov_k f_B + diag(mean_k s_k^2); the
conditional entropy E_k H[y_B | ω_k] is exact. Then

    I(y_B; ω) ≈ 1/2 log det(I + D^-1/2 Cov_k(f_B) D^-1/2)
                + 1/2 Σ_{i in B} (log mean_k s_ik^2 - mean_k log s_ik^2),

D = diag(mean_k s_ik^2): with one noise variance σ², 1/2 log det(I + Cov_k(f_B)
/ σ²). A Gaussian has the largest entropy for its covariance, so this is an
upper bound on the mutual information of the K-sample mixture. The covariance
is the sample kernel of Kirsch, "Black-Box Batch Active Learning for
Regression", TMLR 2023; greedy maximisation of its log det is MaxDet of
Holzmüller et al., "A Framework and Benchmark for Deep Batch Active Learning
for Regression", JMLR 2023.
"""

import warnings

import numpy as np

from .._validation import check_stochastic
from .._warnings import user_stacklevel
from ._docstrings import shared_doc
from ._saturation import SaturationWarning, warn_no_gain
from ._stochastic import select
from ._validation import check_n_instances, check_random_state

__all__ = ["bald_regression", "batchbald_regression"]


def as_float64(value, name):
    """``value`` as a C-contiguous float64 array (a number stays 0-d)."""
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must hold real numbers, got an array of dtype {array.dtype}."
        )
    array = array.astype(np.float64, copy=False)
    # ascontiguousarray alone would make a number an array of shape (1,)
    return np.ascontiguousarray(array) if array.ndim else array


# Samples of a point that agree to this fraction of their size differ by
# round-off, not by what the model says: a forest fitted on a constant y
# predicts leaf means of copies of one number, whose float64 sums differ in
# the last digits (up to a few thousand ulps, 5e-13 of the value, measured on
# 20,000 rows), and the spread of such rows ranked the pool by round-off.
_AGREE_RTOL = 1e-12


def _equalise_agreeing_rows(f):
    """Set each row whose samples agree to 12 significant digits to one value.

    Its spread is float round-off (see ``_AGREE_RTOL``), so its information is
    0, exactly; the other rows are returned untouched. ``f`` is a float64
    array of shape (N, K), finite.
    """
    spread = f.max(axis=1) - f.min(axis=1)
    agree = (spread > 0) & (spread <= _AGREE_RTOL * np.abs(f).max(axis=1))
    if agree.any():
        f = f.copy()  # the caller's array may be ``f`` itself: never write to it
        f[agree] = f[agree, :1]
    return f


def check_positive_noise(noise):
    """ValueError unless every noise variance (an array) is finite and > 0."""
    if not (np.isfinite(noise).all() and (noise > 0).all()):
        raise ValueError(
            "noise_variance must be finite and > 0 (the variance of the "
            f"observation noise), got values in [{noise.min():.6g}, "
            f"{noise.max():.6g}]. With noise 0 the information of a regression "
            "label is infinite."
        )


def check_predictions(predictions, noise_variance):
    """Validated (N, K) samples, their mean noise variance (N,) and Jensen bonus.

    ``noise_variance`` is a number, one variance per point ((N,) or (N, 1))
    or an array broadcastable to (N, K): one variance s_k(x_n)^2 per point and
    sample. Returns the predictions (the
    samples of a point that agree to 12 significant digits set equal: their
    spread is round-off), the per-point mean variance and 1/2 (log mean_k s^2
    - mean_k log s^2) (zero for a constant variance).
    """
    f = as_float64(predictions, "predictions")
    if f.ndim == 3:
        raise ValueError(
            f"predictions has shape {f.shape}, which looks like class "
            "log-probabilities (N, K, C) of a classifier; regression needs "
            "posterior samples of the prediction, shape (n_pool, n_mc_samples). "
            "For a classifier use bald or batchbald."
        )
    if f.ndim != 2:
        raise ValueError(
            f"predictions must have shape (n_pool, n_mc_samples), got {f.shape}."
        )
    if f.shape[0] == 0:
        raise ValueError("predictions has no pool point (shape[0] == 0).")
    if f.shape[1] < 2:
        raise ValueError(
            f"predictions has {f.shape[1]} posterior sample per point; the mutual "
            "information of regression is the spread of the samples and is 0 "
            "everywhere with one. Pass at least 2 samples (n_mc_samples >= 2)."
        )
    if not np.isfinite(f).all():
        row = int(np.flatnonzero(~np.isfinite(f).all(axis=1))[0])
        raise ValueError(
            f"predictions holds NaN or inf (first at pool point {row}); every "
            "posterior sample must be a finite number. Check the model's inputs."
        )
    f = _equalise_agreeing_rows(f)
    noise = as_float64(noise_variance, "noise_variance")
    if noise.ndim == 1:
        # one variance per point, as bald_gaussian takes it (a vector of
        # another length would broadcast over the samples, by accident)
        if noise.shape[0] != f.shape[0]:
            raise ValueError(
                f"noise_variance has shape {noise.shape}, and there are "
                f"{f.shape[0]} pool points: pass a number, one variance per "
                f"point, shape ({f.shape[0]},) or ({f.shape[0]}, 1), or one per "
                f"point and sample, shape {f.shape}."
            )
        noise = noise[:, None]
    try:
        np.broadcast_shapes(noise.shape, f.shape)
    except ValueError:
        raise ValueError(
            f"noise_variance of shape {noise.shape} does not broadcast to the "
            f"predictions' shape {f.shape}: pass a number, one variance per "
            "point as shape (n_pool, 1), or one per point and sample (n_pool, "
            "n_mc_samples)."
        ) from None
    check_positive_noise(noise)
    if noise.ndim == 0 or noise.shape[-1] == 1:
        # one variance per point (or one for all): no Jensen term, and no
        # (N, K) temporaries
        mean_noise = np.broadcast_to(noise, (f.shape[0], 1))[:, 0].copy()
        return f, mean_noise, np.zeros(f.shape[0])
    noise = np.broadcast_to(noise, f.shape)
    mean_noise = noise.mean(axis=1)
    bonus = 0.5 * (np.log(mean_noise) - np.log(noise).mean(axis=1))
    return f, mean_noise, bonus


def _warn_few_samples(n_mc_samples, n_instances):
    """Warn when the K samples cannot tell more than K - 1 picks apart.

    The centred samples of a point are a vector in a (K - 1)-dimensional
    space, so the batch's kernel has rank at most K - 1: after K - 1 picks a
    point adds information only along directions the batch already has, and
    at K = 2 every point has the same direction and the greedy is BALD's top
    b, pick for pick (a modAL CommitteeRegressor of two learners).
    """
    rank = n_mc_samples - 1
    if n_instances <= rank:
        return
    same = (
        "; with K=2 the batch is exactly BALD's top points" if n_mc_samples == 2 else ""
    )
    warnings.warn(
        f"with K={n_mc_samples} posterior samples the spread of the predictions "
        f"spans at most {rank} direction(s): BatchBALD sees at most {rank} ways "
        f"in which pool points differ, and the {n_instances - rank} pick(s) "
        f"beyond {rank} add information only along them{same}. Use more "
        "posterior samples (more learners in the committee or members in the "
        f"ensemble, more MC-dropout samples) or acquire at most {rank} points.",
        SaturationWarning,
        stacklevel=user_stacklevel(),
    )


def _centred(f):
    """f_k - mean_k f, exactly 0 on a row whose samples are all equal.

    Centred after a shift by the first sample: the mean of K copies of a
    number is not always that number in float64 (3 x 0.1 / 3), and the
    round-off of f - mean would give equal samples a spread of ~1e-34, which
    the tie test and the no-gain test read as information.
    """
    shifted = f - f[:, :1]
    return shifted - shifted.mean(axis=1, keepdims=True)


def greedy_log_det(explained, bonus, column_of, n_instances):
    """Greedy maximisation of 1/2 log det(I + S_B) + Σ_{i in B} bonus_i.

    ``S`` is the batch kernel in units of the noise (D^-1/2 Cov(f) D^-1/2),
    given by its diagonal ``explained`` (N,) and ``column_of(p)``, a new
    array holding S[:, p]. Each step extends a pivoted Cholesky factor of S
    by one column: O(N b) memory, no N x N matrix unless the caller holds
    one. Returns the picks (int64, in pick order) and each pick's gain.
    """
    # The conditional variance of each point given the batch, in units of D,
    # is 1 (the noise) + ``explained`` (what the posterior adds). Only the
    # explained part is carried: 1 + explained rounds to 1 once it is below
    # ~1e-16 of the noise, and log1p keeps the gain's digits there (noise
    # 1e18 times the samples' variance gave gains of exactly 0).
    explained = np.array(explained, dtype=np.float64)  # updated in place
    n_pool = explained.size
    # pivoted Cholesky columns, one row each, so that each is contiguous
    factor = np.empty((n_instances, n_pool))
    picked = np.empty(n_instances, dtype=np.int64)
    gains = np.empty(n_instances)
    available = np.ones(n_pool, dtype=bool)
    for j in range(n_instances):
        candidate = np.where(available, 0.5 * np.log1p(explained) + bonus, -np.inf)
        p = int(np.argmax(candidate))  # ties: the lowest index
        picked[j], gains[j] = p, candidate[p]
        available[p] = False
        # the kernel's 1 on the diagonal is the pivot's own noise, which only
        # its own (now unavailable) entry sees
        column = column_of(p) - factor[:j, p] @ factor[:j]
        column /= np.sqrt(1.0 + explained[p])
        factor[j] = column
        # the noise alone keeps a conditional variance >= 1 (in units of D):
        # the explained part never goes below 0; the pivot's own entry, which
        # the full column would take to 0, is set so directly
        explained = np.maximum(explained - column**2, 0.0)
        explained[p] = 0.0
    return picked, gains


def _scaled_deviations(f, mean_noise):
    """(f_k - mean_k f) / sqrt(K mean_k s^2): G G^T = D^-1/2 Cov_k(f) D^-1/2."""
    centred = _centred(f)
    centred *= (1.0 / np.sqrt(f.shape[1] * mean_noise))[:, None]
    return centred


@shared_doc
def bald_regression(
    predictions,
    n_instances,
    *,
    noise_variance,
    stochastic=None,
    beta=None,
    random_state=None,
):
    """Acquire the ``n_instances`` pool points of highest regression BALD score.

    Parameters
    ----------
    predictions : array-like or torch.Tensor of shape (n_pool, n_mc_samples)
        Posterior samples f_k(x_n) of the predicted mean: one column per
        posterior sample (a dropout mask set, a tree, an ensemble member),
        the same sample for every pool point. At least 2 samples.
    n_instances : int
        Number of points to acquire, in ``[1, n_pool]``.
    noise_variance : float or array-like broadcastable to (n_pool, n_mc_samples)
        Variance σ² > 0 of the Gaussian observation noise: one number, one per
        point (shape (n_pool,) or (n_pool, 1)), or one per point and sample
        s_k(x_n)^2 for a model that predicts its own noise.
    {stochastic}
    {gumbel_random_state}

    Returns
    -------
    {picked_indices}
    scores : ndarray of shape (n_instances,), float64
        The score of each picked point, in nats.

    See Also
    --------
    batchbald_regression : Scores the batch jointly.
    skbatchbald.acquisition.bald : BALD for classification.

    Notes
    -----
    With one noise variance the score is the mutual information of y and ω
    when the predictive is taken as Gaussian:

    .. math:: a(x) = \\frac{1}{2} \\log\\left(1 + \\frac{\\mathrm{Var}_k f_k(x)}
              {\\sigma^2}\\right)

    with the variance over the K samples (divided by K). With a variance per
    sample, σ² is their mean and the score gains
    :math:`\\frac{1}{2}(\\log \\bar{s}^2 - \\overline{\\log s^2}) \\ge 0`.
    It is the b = 1 case of :func:`batchbald_regression`; see there for the
    approximation. Ranking by it is ranking by the sample variance when σ² is
    one number, at any ratio of the variance to σ² (the score is computed as
    log1p, so scores of order 1e-18 still rank the pool, and they are a tie
    only when equal to 12 significant digits). A point whose samples agree
    to 12 significant digits scores 0: their spread is round-off (a forest
    fitted on a constant target), not information.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import bald_regression
    >>> predictions = np.array([[1.0, 1.0], [0.0, 2.0], [0.5, 0.7]])
    >>> indices, scores = bald_regression(predictions, 2, noise_variance=1.0)
    >>> indices
    array([1, 2])
    >>> bool(np.isclose(scores[0], 0.5 * np.log(2.0)))
    True
    """
    f, mean_noise, bonus = check_predictions(predictions, noise_variance)
    n_instances = check_n_instances(n_instances, f.shape[0])
    stochastic, beta = check_stochastic(stochastic, beta)
    rng = check_random_state(random_state)
    centred = _centred(f)
    variance = np.einsum("nk,nk->n", centred, centred) / f.shape[1]
    scores = 0.5 * np.log1p(variance / mean_noise) + bonus
    # log1p of a ratio has full relative precision, so only the Jensen bonus,
    # a difference of logs of the noise, brings absolute round-off into the
    # tie test: scores 1e-13 apart at noise 1e14 are not a tie
    tie_scale = np.abs(np.log(mean_noise)).max() + 1.0 if bonus.any() else 0.0
    indices = select(
        scores,
        n_instances,
        stochastic,
        beta,
        rng,
        tie_scale=tie_scale,
        tie_cause="regressor",
    )
    return indices, scores[indices]


def batchbald_regression(
    predictions, n_instances, *, noise_variance, random_state=None
):
    """Greedily acquire the batch of largest joint mutual information, regression.

    Parameters
    ----------
    predictions : array-like or torch.Tensor of shape (n_pool, n_mc_samples)
        Posterior samples f_k(x_n) of the predicted mean, the same sample k for
        every pool point; at least 2.
    n_instances : int
        Number of points to acquire, in ``[1, n_pool]``.
    noise_variance : float or array-like broadcastable to (n_pool, n_mc_samples)
        Variance σ² > 0 of the Gaussian observation noise: one number, one per
        point (shape (n_pool,) or (n_pool, 1)), or one per point and sample.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Unused: the greedy picks are exact. Validated, for the package's
        common signature.

    Returns
    -------
    indices : ndarray of shape (n_instances,), int64
        Distinct pool indices, in pick order; ties go to the lowest index.
    scores : ndarray of shape (n_instances,), float64
        The estimated joint mutual information I(y_1, ..., y_i; ω) after each
        pick, in nats; non-decreasing, with non-increasing increments.

    Warns
    -----
    SaturationWarning
        When a pick adds no information (gain 0: every point left has the same
        prediction under all K samples, and one noise variance): the rest of
        the batch is then those points in pool order, as in
        :func:`~skbatchbald.acquisition.batchbald`. Also when ``n_instances``
        exceeds K - 1: the samples' spread spans K - 1 directions, so later
        picks add information only along directions the batch covers (with
        K = 2 the batch is :func:`bald_regression`'s).

    See Also
    --------
    bald_regression : Each point scored alone (the first pick is the same).
    skbatchbald.acquisition.batchbald : BatchBALD for classification.

    Notes
    -----
    The predictive of the batch labels, a mixture of K Gaussians (one per
    posterior sample), is replaced by the Gaussian of the same covariance,
    :math:`\\Sigma_B = \\mathrm{Cov}_k f_B + D_B` with
    :math:`D = \\mathrm{diag}(\\bar{s}^2)`, while
    :math:`E_k H[y_B \\mid \\omega_k]` is exact:

    .. math:: I(y_B; \\omega) \\approx \\frac{1}{2} \\log\\det\\left(I +
              D_B^{-1/2}\\, \\mathrm{Cov}_k(f_B)\\, D_B^{-1/2}\\right)
              + \\frac{1}{2} \\sum_{i \\in B} \\left(\\log \\bar{s}_i^2 -
              \\overline{\\log s_i^2}\\right)

    which is :math:`\\frac{1}{2}\\log\\det(I + \\mathrm{Cov}_k(f_B)/\\sigma^2)`
    with one noise variance. A Gaussian has the largest entropy of all
    distributions with its covariance, so the estimate is an upper bound on the
    mutual information of the K-sample mixture; it is exact when the
    posterior of f is Gaussian and K grows (Bayesian linear regression). The
    covariance (divided by K) is the sample kernel of Kirsch, "Black-Box Batch
    Active Learning for Regression", TMLR 2023, and greedy log-det
    maximisation is MaxDet of Holzmüller, Zaverkin, Kästner & Steinwart, JMLR
    2023. The log det is submodular, so greedy gains never increase.

    Exact copies of a pick stay candidates, unlike in the classifiers'
    BatchBALD: the noise model says a second measurement of one input is a new
    noisy draw (a replicate), and the estimate gives it the information such a
    replicate carries; drop duplicate inputs from the pool if the target is
    measured once per input.

    Each greedy step extends a pivoted Cholesky factor of the kernel by one
    column, computed from the (N, K) centred samples: O(N K b + N b²) time,
    O(N (K + b)) memory, no N x N matrix. The conditional variances are kept
    as the part the samples explain, beyond the noise, and the gains taken
    with log1p, so they keep their digits when σ² is far above the samples'
    variance (the picks do not change when f and σ² are scaled by c and c²).
    As in :func:`bald_regression`, samples of a point that agree to 12
    significant digits count as equal.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import bald_regression, batchbald_regression
    >>> f = np.array([[0.0, 1.0, 2.1],   # points 0 and 1 vary alike
    ...               [0.0, 1.0, 2.0],
    ...               [1.0, 0.0, 1.0]])  # less spread, but a different way
    >>> batchbald_regression(f, 2, noise_variance=0.1)[0]
    array([0, 2])
    >>> bald_regression(f, 2, noise_variance=0.1)[0]  # takes the near-duplicate
    array([0, 1])
    """
    f, mean_noise, bonus = check_predictions(predictions, noise_variance)
    n_instances = check_n_instances(n_instances, f.shape[0])
    check_random_state(random_state)
    _warn_few_samples(f.shape[1], n_instances)
    g = _scaled_deviations(f, mean_noise)  # (N, K)
    # off the diagonal, the kernel I + G G^T is G G^T
    picked, gains = greedy_log_det(
        np.einsum("nk,nk->n", g, g), bonus, lambda p: g @ g[p], n_instances
    )
    scores = np.cumsum(gains)
    # gains never increase: the informative picks come first, then points whose
    # samples all agree (gain 0), in pool order, as batchbald says with a warning
    n_informative = int(np.count_nonzero(gains > 0))
    if n_informative < n_instances:
        warn_no_gain(scores, f.shape[1], n_informative)
    return picked, scores
