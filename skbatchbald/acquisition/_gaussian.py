"""BALD and BatchBALD of a Gaussian posterior, from its exact covariance.

For a latent function f with a Gaussian posterior (a Gaussian process, Bayesian
linear regression) and Gaussian observation noise of variance σ_i² at input i,
the labels y_B of a batch are Gaussian, and their mutual information with f is
exactly

    I(y_B; f) = 1/2 log det(I + D_B^-1/2 Σ_B D_B^-1/2),   D = diag(σ²),

Σ the posterior covariance of f (Krause, Singh & Guestrin, JMLR 2008). No
posterior samples are drawn, so nothing is estimated: the regression functions
of ``_regression.py`` apply the same formula to the sample covariance of K
draws, whose picks scatter around these.
"""

import warnings

import numpy as np

from .._validation import check_stochastic
from .._warnings import user_stacklevel
from ._docstrings import shared_doc
from ._regression import as_float64, check_positive_noise, greedy_log_det
from ._saturation import SaturationWarning
from ._stochastic import select
from ._validation import check_n_instances, check_random_state

__all__ = ["bald_gaussian", "batchbald_gaussian"]

# Round-off allowed in a covariance computed as k(x, x') - v'v: a variance
# below 0 by at most this fraction of the largest is 0, and the matrix may be
# asymmetric by as much.
_ROUND_OFF = 1e-8


def _check_variances(variance, name):
    """Finite variances >= 0, round-off below 0 set to 0 (a new array)."""
    if not np.isfinite(variance).all():
        row = int(np.flatnonzero(~np.isfinite(variance))[0])
        raise ValueError(
            f"{name} holds NaN or inf (first at pool point {row}); the posterior "
            "variance of every pool point must be a finite number."
        )
    largest = float(variance.max(initial=0.0))
    if variance.size and variance.min() < -_ROUND_OFF * largest:
        row = int(np.argmin(variance))
        raise ValueError(
            f"{name} has a negative variance ({variance[row]:.6g} at pool point "
            f"{row}): a posterior variance is >= 0. Pass the posterior "
            "covariance of the latent function (for a GaussianProcessRegressor, "
            "skbatchbald.sampling.gaussian_process_covariance)."
        )
    return np.maximum(variance, 0.0)


def _check_noise(noise_variance, n_pool):
    """One noise variance per pool point, shape (N,)."""
    noise = as_float64(noise_variance, "noise_variance")
    if noise.shape == (n_pool, 1):  # a column, as bald_regression takes it
        noise = noise[:, 0]
    if noise.ndim > 1 or (noise.ndim == 1 and noise.shape[0] != n_pool):
        raise ValueError(
            f"noise_variance has shape {noise.shape}; pass one number, or one "
            f"variance per pool point, shape ({n_pool},) or ({n_pool}, 1)."
        )
    check_positive_noise(noise)
    return np.broadcast_to(noise, (n_pool,))


def _check_variance_vector(variance):
    variance = as_float64(variance, "variance")
    if variance.ndim != 1 or variance.shape[0] == 0:
        raise ValueError(
            f"variance must have shape (n_pool,), one posterior variance per "
            f"pool point, got shape {variance.shape}."
        )
    return _check_variances(variance, "variance")


def _check_covariance(covariance):
    cov = as_float64(covariance, "covariance")
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or cov.shape[0] == 0:
        raise ValueError(
            "covariance must be the posterior covariance of the pool, shape "
            f"(n_pool, n_pool), got shape {cov.shape}. For a variance per point "
            "only, use bald_gaussian."
        )
    diagonal = _check_variances(np.diag(cov).copy(), "covariance's diagonal")
    if not np.isfinite(cov).all():
        raise ValueError("covariance holds NaN or inf off its diagonal.")
    # row blocks: no N x N temporary beside the covariance
    rows = max(1, 2**19 // cov.shape[0])
    asymmetry = max(
        float(np.abs(cov[i : i + rows] - cov[:, i : i + rows].T).max())
        for i in range(0, cov.shape[0], rows)
    )
    if asymmetry > _ROUND_OFF * max(float(diagonal.max()), np.finfo(float).tiny):
        raise ValueError(
            f"covariance is not symmetric (entries differ from their transpose "
            f"by up to {asymmetry:.3g}): pass a covariance matrix."
        )
    return cov, diagonal


@shared_doc
def bald_gaussian(
    variance,
    n_instances,
    *,
    noise_variance,
    stochastic=None,
    beta=None,
    random_state=None,
):
    """Acquire the ``n_instances`` pool points of highest BALD of a Gaussian posterior.

    Parameters
    ----------
    variance : array-like of shape (n_pool,)
        Posterior variance of the latent function at each pool point, in the
        units of y squared (for a Gaussian process, without its white noise:
        :func:`skbatchbald.sampling.gaussian_process_covariance` with
        ``diagonal=True``). Values below 0 by float round-off count as 0.
    n_instances : int
        Number of points to acquire, in ``[1, n_pool]``.
    noise_variance : float or array-like of shape (n_pool,) or (n_pool, 1)
        Variance σ² > 0 of the Gaussian observation noise, one number or one
        per pool point.
    {stochastic}
    {gumbel_random_state}

    Returns
    -------
    {picked_indices}
    scores : ndarray of shape (n_instances,), float64
        The mutual information of each picked point's label with the latent
        function, in nats.

    See Also
    --------
    batchbald_gaussian : Scores the batch jointly.
    bald_regression : The same score estimated from posterior samples.

    Notes
    -----
    With Gaussian noise the label of a point whose latent value is Gaussian
    with variance v carries

    .. math:: I(y; f) = \\frac{1}{2} \\log\\left(1 + \\frac{v}{\\sigma^2}\\right)

    nats about the latent function, exactly (computed as log1p, so tiny
    scores keep their digits). :func:`bald_regression` is this formula on
    the variance of K posterior samples; with an exact variance the ranking
    has no sampling noise.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import bald_gaussian
    >>> indices, scores = bald_gaussian([0.5, 3.0, 1.0], 2, noise_variance=1.0)
    >>> indices
    array([1, 2])
    >>> bool(np.isclose(scores[0], 0.5 * np.log(4.0)))
    True
    """
    variance = _check_variance_vector(variance)
    n_instances = check_n_instances(n_instances, variance.shape[0])
    noise = _check_noise(noise_variance, variance.shape[0])
    stochastic, beta = check_stochastic(stochastic, beta)
    rng = check_random_state(random_state)
    scores = 0.5 * np.log1p(variance / noise)
    # log1p of a ratio keeps its relative precision: a tie only when equal
    indices = select(
        scores, n_instances, stochastic, beta, rng, tie_scale=0.0, tie_cause="gaussian"
    )
    return indices, scores[indices]


def batchbald_gaussian(covariance, n_instances, *, noise_variance, random_state=None):
    """Greedily acquire the batch of most joint information, Gaussian posterior.

    Parameters
    ----------
    covariance : array-like of shape (n_pool, n_pool)
        Posterior covariance of the latent function over the pool, in the units
        of y squared (for a Gaussian process, without its white noise:
        :func:`skbatchbald.sampling.gaussian_process_covariance`). Symmetric;
        variances below 0 by float round-off count as 0.
    n_instances : int
        Number of points to acquire, in ``[1, n_pool]``.
    noise_variance : float or array-like of shape (n_pool,) or (n_pool, 1)
        Variance σ² > 0 of the Gaussian observation noise, one number or one
        per pool point.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Unused: the greedy picks are exact. Validated, for the package's
        common signature.

    Returns
    -------
    indices : ndarray of shape (n_instances,), int64
        Distinct pool indices, in pick order; ties go to the lowest index.
    scores : ndarray of shape (n_instances,), float64
        The joint mutual information I(y_1, ..., y_i; f) after each pick, in
        nats; non-decreasing, with non-increasing increments.

    Warns
    -----
    SaturationWarning
        When a pick adds no information: every point left has posterior
        variance 0 given the batch (the rest of the batch is then those points
        in pool order).

    See Also
    --------
    bald_gaussian : Each point scored alone (the first pick is the same).
    batchbald_regression : The same score estimated from posterior samples.

    Notes
    -----
    The labels of a batch B are Gaussian, and their information about the
    latent function is exactly

    .. math:: I(y_B; f) = \\frac{1}{2} \\log\\det\\left(I + D_B^{-1/2}\\,
              \\Sigma_B\\, D_B^{-1/2}\\right), \\quad D = \\mathrm{diag}(\\sigma^2)

    (Krause, Singh & Guestrin, JMLR 2008). The log det is submodular, so greedy
    gains never increase, and the greedy batch is within 1 - 1/e of the best
    batch of its size (Nemhauser, Wolsey & Fisher 1978). Each step extends a
    pivoted Cholesky factor by one column of the covariance, O(N b) memory
    beyond the covariance itself. :func:`batchbald_regression` applies the
    same greedy to the sample covariance of K posterior draws, whose rank is
    at most K - 1; here the rank is that of the posterior.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import bald_gaussian, batchbald_gaussian
    >>> cov = np.array([[1.0, 0.99, 0.0],   # points 0 and 1 vary together
    ...                 [0.99, 1.0, 0.0],
    ...                 [0.0, 0.0, 0.8]])   # less variance, but independent
    >>> batchbald_gaussian(cov, 2, noise_variance=0.1)[0]
    array([0, 2])
    >>> bald_gaussian(np.diag(cov), 2, noise_variance=0.1)[0]
    array([0, 1])
    """
    cov, diagonal = _check_covariance(covariance)
    n_pool = cov.shape[0]
    n_instances = check_n_instances(n_instances, n_pool)
    noise = _check_noise(noise_variance, n_pool)
    check_random_state(random_state)
    scale = 1.0 / np.sqrt(noise)  # S = D^-1/2 Σ D^-1/2

    def column_of(p):
        return cov[:, p] * scale * scale[p]

    picked, gains = greedy_log_det(
        diagonal * scale**2, np.zeros(n_pool), column_of, n_instances
    )
    scores = np.cumsum(gains)
    n_informative = int(np.count_nonzero(gains > 0))
    if n_informative < n_instances:
        warnings.warn(
            f"the batch's information stopped growing at "
            f"{scores[n_informative - 1] if n_informative else 0.0:.4g} nats "
            f"after pick {n_informative} of {n_instances}: every point left has "
            "posterior variance 0 given the batch (inputs the model has seen, "
            "with no noise in the kernel), so the remaining picks are in pool "
            "order. Acquire fewer points or drop known inputs from the pool.",
            SaturationWarning,
            stacklevel=user_stacklevel(),
        )
    return picked, scores
