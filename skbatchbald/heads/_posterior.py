"""The Gaussian last-layer posterior: GGN, prior precision, weight draws (numpy)."""

import numpy as np
from scipy.linalg import cholesky, eigh, solve_triangular
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

__all__ = [
    "draw_kron_weights",
    "draw_weights",
    "ggn_eigenvalues",
    "kron_factors",
    "last_layer_ggn",
    "marglik_prior_precision",
]

# Bounds of the marginal-likelihood search over the prior precision.
_LOG_PRECISION_BOUNDS = (np.log(1e-4), np.log(1e4))


def last_layer_ggn(features, probs):
    """Σ_n (diag(p_n) - p_n p_nᵀ) ⊗ φ_n φ_nᵀ, for W of shape (D, C) read row-major.

    The Hessian of the summed cross-entropy with respect to the last layer's
    weights (exact for a softmax on a linear last layer: the generalised
    Gauss-Newton matrix of the network, Fisher of the likelihood).

    Parameters
    ----------
    features : ndarray of shape (N, D)
        Inputs φ_n of the last layer (with a column of ones for the bias).
    probs : ndarray of shape (N, C)
        Predicted class probabilities at the MAP.

    Returns
    -------
    ggn : ndarray of shape (D * C, D * C), float64
        Row and column i * C + c stand for W[i, c].
    """
    phi = np.asarray(features, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    n, d = phi.shape
    c = p.shape[1]
    ggn = np.zeros((d, c, d, c))
    for k in range(c):  # Σ_n p_nk φ_n φ_nᵀ on the diagonal blocks
        ggn[:, k, :, k] = (phi * p[:, k : k + 1]).T @ phi
    ggn = ggn.reshape(d * c, d * c)
    outer = (phi[:, :, None] * p[:, None, :]).reshape(n, d * c)  # φ_n ⊗ p_n
    ggn -= outer.T @ outer
    return (ggn + ggn.T) / 2  # exactly symmetric, for Cholesky


def kron_factors(features, probs):
    """Kronecker factors (A, B) with A ⊗ B ≈ the GGN, W of shape (D, C) row-major.

    A = Σ_n φ_n φ_nᵀ (D, D) and B = (1/N) Σ_n (diag(p_n) - p_n p_nᵀ) (C, C):
    the expectation of a product replaced by the product of expectations
    (K-FAC; Martens & Grosse 2015, Ritter et al. 2018). Exact for one row.
    """
    phi = np.asarray(features, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    a = phi.T @ phi
    b = np.diag(p.mean(axis=0)) - p.T @ p / len(p)
    return (a + a.T) / 2, (b + b.T) / 2


def ggn_eigenvalues(ggn):
    """Eigenvalues of a full GGN (clipped at 0, as it is positive semi-definite)."""
    return np.clip(eigh(ggn, eigvals_only=True), 0.0, None)


def marglik_prior_precision(eigenvalues, weights, log_likelihood):
    """The prior precision λ that maximises the Laplace marginal likelihood.

    log Z(λ) = log p(y | θ*) - λ/2 |θ*|² + P/2 log λ - 1/2 log det(G + λ I),
    with the MAP θ* and the GGN G (given by its eigenvalues) held fixed
    (post hoc, as in Immer et al. 2021), searched over λ in [1e-4, 1e4].
    """
    eigenvalues = np.asarray(eigenvalues, dtype=np.float64).ravel()
    sq_norm = float(np.sum(np.square(weights)))
    n_params = len(eigenvalues)

    def negative_log_evidence(log_precision):
        precision = np.exp(log_precision)
        return -(
            log_likelihood
            - precision / 2 * sq_norm
            + n_params / 2 * log_precision
            - np.sum(np.log(eigenvalues + precision)) / 2
        )

    result = minimize_scalar(
        negative_log_evidence, bounds=_LOG_PRECISION_BOUNDS, method="bounded"
    )
    return float(np.exp(result.x))


def log_likelihood(features, weights, y_index, row_weights=None):
    """Σ_n r_n log softmax(φ_n W)[y_n], with r_n = 1 unless ``row_weights``."""
    log_probs = log_softmax(features @ weights, axis=1)
    per_row = log_probs[np.arange(len(y_index)), y_index]
    if row_weights is not None:
        per_row = per_row * row_weights
    return float(per_row.sum())


def precision_cholesky(precision):
    """Lower Cholesky factor L of the posterior precision, L Lᵀ = H."""
    return cholesky(precision, lower=True)


def draw_weights(mean, chol, n_samples, rng):
    """K draws of W ~ N(mean, H⁻¹), shape (K, D, C), from H's Cholesky factor.

    W_k = mean + L⁻ᵀ z_k with z_k standard normal: its covariance is
    L⁻ᵀ L⁻¹ = H⁻¹. The K draws depend on ``rng`` only.
    """
    z = rng.standard_normal((chol.shape[0], n_samples))
    delta = solve_triangular(chol, z, lower=True, trans="T")  # Lᵀ x = z
    return mean[None] + delta.T.reshape(n_samples, *mean.shape)


def kron_eigen(a, b):
    """Eigendecompositions (values clipped at 0, vectors) of both factors."""
    la, qa = eigh(a)
    lb, qb = eigh(b)
    return np.clip(la, 0.0, None), qa, np.clip(lb, 0.0, None), qb


def draw_kron_weights(mean, eigen, prior_precision, n_samples, rng):
    """K draws of W ~ N(mean, (A ⊗ B + λ I)⁻¹), shape (K, D, C).

    With A = Qa La Qaᵀ and B = Qb Lb Qbᵀ the precision is
    (Qa ⊗ Qb)(La ⊗ Lb + λ)(Qa ⊗ Qb)ᵀ, so W_k = mean + Qa (Z_k ⊙ S) Qbᵀ with
    S = (la lbᵀ + λ)^(-1/2) and Z_k standard normal (D, C).
    """
    la, qa, lb, qb = eigen
    scale = 1.0 / np.sqrt(np.outer(la, lb) + prior_precision)
    z = rng.standard_normal((n_samples, *mean.shape))
    return mean[None] + qa @ (z * scale) @ qb.T
