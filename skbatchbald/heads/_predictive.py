"""The Laplace head's predictive: logit variances and the probit approximation."""

import math

import numpy as np
from scipy.linalg import lapack
from scipy.special import softmax

__all__ = ["class_covariances", "logit_variances", "probit_proba"]


def class_covariances(chol, n_classes):
    """The posterior covariance of each class's weight column, (C, D, D).

    ``chol`` is the lower Cholesky factor of the precision H (P x P, row
    ``i * C + c`` for weight ``W[i, c]``). Only the C diagonal blocks of H⁻¹
    are kept: a logit's variance needs its own class's block alone.
    """
    inverse, info = lapack.dpotri(chol, lower=1)
    if info != 0:  # H was factorised at fit, so this is round-off gone wrong
        raise np.linalg.LinAlgError(f"inverting the posterior precision: {info}")
    inverse = np.tril(inverse) + np.tril(inverse, -1).T
    return np.stack([inverse[c::n_classes, c::n_classes] for c in range(n_classes)])


def logit_variances(features, *, covariances=None, kron=None):
    """Var[f_c(x)] of each row's logits under the weight posterior, (n, C).

    ``features`` are the rows' φ with the bias column (n, D). Full posterior:
    ``covariances`` from `class_covariances`, Var f_c = φᵀ Σ_c φ. Kronecker
    posterior: ``kron = (la, Qa, lb, Qb, λ)``, precision
    (Qa ⊗ Qb)(la lbᵀ + λ)(Qa ⊗ Qb)ᵀ, so with a = Qaᵀ φ,
    Var f_c = Σ_ij a_i² Qb[c, j]² / (la_i lb_j + λ).
    """
    if covariances is not None:
        return np.einsum("nd,cde,ne->nc", features, covariances, features)
    la, qa, lb, qb, prior_precision = kron
    a2 = (features @ qa) ** 2
    return a2 @ (1.0 / (np.outer(la, lb) + prior_precision)) @ (qb**2).T


def probit_proba(mean_logits, variances):
    """softmax(μ_c / sqrt(1 + π σ²_c / 8)): the probit approximation (MacKay 1992).

    It approximates E[softmax(f)] for Gaussian logits without drawing, so the
    prediction carries no Monte Carlo noise; Daxberger et al. (2021, "Laplace
    Redux") use it as the default predictive of a Laplace classifier.
    """
    scale = 1.0 / np.sqrt(1.0 + (math.pi / 8.0) * variances)
    return softmax(mean_logits * scale, axis=1)
