"""Entropies of the posterior predictive, per pool point, and BALD's mutual information.

For one pool point x with K posterior samples ω_k and class probabilities
``p_k = p(y | x, ω_k)``, and their mean ``p̄ = mean_k p_k``:

- marginal entropy       H[y | x]          = H[p̄]
- conditional entropy    E_ω H[y | x, ω]   = mean_k H[p_k]
- mutual information     I(y; ω | x)       = H[p̄] − mean_k H[p_k]   (the BALD score)
"""

import numpy as np

from ._per_point import per_point
from ._validation import check_log_probs

# log p̄ is evaluated as log(max(p̄, TINY)): finite, so that 0 * log 0 = 0 exactly, and
# where 0 < p̄ < TINY the terms p̄ log p̄ and p_k log(p_k / p̄) (p_k <= K p̄) are below
# 1e-300 anyway.
_TINY = np.finfo(np.float64).tiny
# Below this, an MI may be the round-off of an exact 0 (about 1e-16 in
# float64): only then are the samples compared.
_ROUND_OFF = 1e-12


def _mean_over_samples(p):
    """p̄ = mean_k p_k, shape (chunk, C), from p of shape (chunk, K, C)."""
    return np.einsum("nkc->nc", p) / p.shape[1]  # 4x faster than p.mean(axis=1)


def _mean_and_log_mean(p):
    """p̄ and log p̄, each (chunk, C), from p of shape (chunk, K, C).

    log p̄ is logsumexp_k(log p_k) − log K. Valid log-probabilities are <= 0, so exp
    cannot overflow and no max-shift is needed: summing the probabilities is the
    logsumexp.
    """
    mean = _mean_over_samples(p)
    return mean, np.log(np.maximum(mean, _TINY))


def _marginal(log_p, p):
    mean, log_mean = _mean_and_log_mean(p)  # (chunk, C)
    return 0.0 - np.einsum("nc,nc->n", mean, log_mean)  # 0.0 - : no -0.0


def _conditional(log_p, p):
    return 0.0 - np.einsum("nkc,nkc->n", p, log_p) / p.shape[1]  # 0.0 - : no -0.0


def _mutual(log_p, p):
    # mean_k KL(p_k || p̄) = H[p̄] − mean_k H[p_k], without subtracting two entropies
    # of size log C: small MI keeps its relative precision.
    log_p -= _mean_and_log_mean(p)[1][:, None, :]  # (chunk, K, C): log(p_k / p̄)
    kl = np.einsum("nkc,nkc->n", p, log_p) / p.shape[1]
    # Jensen makes it >= 0; only round-off (~1e-16) can take it below.
    kl = np.maximum(kl, 0.0)
    # Samples that agree exactly (identical ensemble members) hold exactly 0:
    # left to round-off, p̄'s last bit would rank such points at random.
    small = np.flatnonzero(kl < _ROUND_OFF)
    agree = (p[small] == p[small, :1]).all(axis=(1, 2))
    kl[small[agree]] = 0.0
    return kl


def _mutual_information(log_probs):
    """BALD scores of validated log-probabilities, shape (N,)."""
    return per_point(log_probs, _mutual)


def _marginal_entropy(log_probs):
    """Marginal entropies of validated log-probabilities, shape (N,)."""
    return per_point(log_probs, _marginal)


def marginal_entropy(log_probs):
    """Entropy of the posterior predictive, H[mean_k p(y | x, ω_k)], per pool point.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_classes)
        Posterior log-probabilities ``log p(y = c | x_n, ω_k)``; ``-inf`` allowed.

    Returns
    -------
    entropy : ndarray of shape (n_pool,), float64
        In nats, in ``[0, log n_classes]``.

    See Also
    --------
    conditional_entropy, mutual_information
    skbatchbald.acquisition.max_entropy : Acquires the points of highest entropy.

    Notes
    -----
    .. math:: H[y \\mid x] = -\\sum_c \\bar p_c \\log \\bar p_c, \\quad
              \\bar p_c = \\frac{1}{K} \\sum_k p(y = c \\mid x, \\omega_k)

    ``log p̄`` is logsumexp over samples minus ``log K``; ``0 log 0 = 0``; all
    arithmetic is float64 whatever the input dtype, in chunks of a few MB.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import marginal_entropy
    >>> uniform = np.full((1, 3, 4), np.log(0.25))
    >>> float(marginal_entropy(uniform)[0]) == float(np.log(4))
    True
    """
    return _marginal_entropy(check_log_probs(log_probs))


def conditional_entropy(log_probs):
    """Expected entropy under the posterior, mean_k H[p(y | x, ω_k)], per pool point.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_classes)
        Posterior log-probabilities ``log p(y = c | x_n, ω_k)``; ``-inf`` allowed.

    Returns
    -------
    entropy : ndarray of shape (n_pool,), float64
        In nats, in ``[0, log n_classes]``.

    See Also
    --------
    marginal_entropy, mutual_information

    Notes
    -----
    .. math:: E_{\\omega} H[y \\mid x, \\omega] = -\\frac{1}{K} \\sum_k \\sum_c
              p_{kc} \\log p_{kc}, \\quad p_{kc} = p(y = c \\mid x, \\omega_k)

    ``0 log 0 = 0``; float64 arithmetic, in chunks of a few MB.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import conditional_entropy
    >>> one_hot = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]])  # log of one-hot
    >>> conditional_entropy(one_hot)
    array([0.])
    """
    return per_point(check_log_probs(log_probs), _conditional)


def mutual_information(log_probs):
    """BALD score: mutual information between the label and the model parameters.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_classes)
        Posterior log-probabilities ``log p(y = c | x_n, ω_k)``; ``-inf`` allowed.

    Returns
    -------
    mutual_information : ndarray of shape (n_pool,), float64
        In nats, in ``[0, min(log n_mc_samples, log n_classes)]``.

    See Also
    --------
    marginal_entropy, conditional_entropy
    skbatchbald.acquisition.bald : Acquires the points of highest mutual information.

    Notes
    -----
    Houlsby et al. (2011), "Bayesian Active Learning for Classification and
    Preference Learning", arXiv:1112.5745:

    .. math:: I(y; \\omega \\mid x) = H[\\bar p] - \\frac{1}{K} \\sum_k H[p_k]
              = \\frac{1}{K} \\sum_k \\mathrm{KL}(p_k \\,\\|\\, \\bar p)

    It is computed in the second form, which needs no difference of two entropies
    of size ``log C`` and so keeps small values precise. It is >= 0 by Jensen's
    inequality; values below 0 can only be round-off (~1e-16) and are set to 0.
    ``0 log 0 = 0``; float64 arithmetic, in chunks of a few MB.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import mutual_information
    >>> disagree = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]])  # opposite one-hots
    >>> bool(np.isclose(mutual_information(disagree)[0], np.log(2)))
    True
    """
    return _mutual_information(check_log_probs(log_probs))
