"""PowerBALD: stochastic batch acquisition, sampling with probability ∝ BALD^β."""

from .._validation import check_beta
from ._bald import bald


def power_bald(log_probs, n_instances, *, beta=1.0, random_state=None):
    """Draw ``n_instances`` pool points without replacement, with probability ∝ BALD^β.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_classes)
        Posterior log-probabilities ``log p(y = c | x_n, ω_k)``; ``-inf`` allowed.
    n_instances : int
        Number of points to acquire, in ``[1, n_pool]``.
    beta : float, default=1.0
        Inverse temperature, > 0. Larger values concentrate the draw on the top
        BALD scores; ``np.inf`` is exactly :func:`bald` (top-k, no randomness).
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, \
default=None
        Source of the Gumbel noise; the same int gives the same picks.

    Returns
    -------
    indices : ndarray of shape (n_instances,), int64
        Distinct pool indices, in draw order.
    scores : ndarray of shape (n_instances,), float64
        The BALD score (mutual information, nats) of each picked point -- not the
        perturbed key used to draw it, so scores need not be decreasing.

    See Also
    --------
    bald : The deterministic top-k (``beta=np.inf``); ``bald(...,
        stochastic="power", beta=beta)`` is this function.
    batchbald : Joint scoring of the batch.

    Notes
    -----
    Kirsch, Farquhar, Atighehchian, Jesson, Branchaud-Charron & Gal (2023),
    "Stochastic Batch Acquisition: A Simple Baseline for Deep Active Learning",
    TMLR. Gumbel-top-k: with i.i.d. standard Gumbel noise ε_n, the ``n_instances``
    largest keys

    .. math:: s_n = \\beta \\log a_{BALD}(x_n) + \\epsilon_n

    are a draw without replacement in which each successive pick is taken with
    probability proportional to :math:`a_{BALD}(x)^{\\beta}` among the points
    not yet picked.

    Points whose BALD score is exactly 0 have probability 0: they are drawn only
    once every point with a positive score has been drawn, and then uniformly at
    random among themselves. No key is ever NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import power_bald
    >>> log_probs = np.log([[[0.5, 0.5], [0.5, 0.5]],
    ...                     [[0.9, 0.1], [0.1, 0.9]],
    ...                     [[0.6, 0.4], [0.4, 0.6]]])
    >>> indices, scores = power_bald(log_probs, 3, random_state=0)
    >>> int(indices[-1])  # MI 0: drawn last
    0
    """
    # BALD with stochastic="power": the same Gumbel draws, so the same picks
    return bald(
        log_probs,
        n_instances,
        stochastic="power",
        beta=check_beta(beta),
        random_state=random_state,
    )
