"""Single-point baselines from the BatchBALD paper: max entropy, variation ratios,
mean STD and random acquisition."""

import numpy as np

from ._docstrings import shared_doc
from ._entropy import _marginal_entropy, _mean_over_samples
from ._per_point import per_point
from ._single_point import acquire_top
from ._validation import check_log_probs, check_n_instances, check_random_state


def _variation_ratio(log_p, p):
    return 1.0 - _mean_over_samples(p).max(axis=-1)  # (chunk, C) -> (chunk,)


def _mean_std(log_p, p):
    p -= _mean_over_samples(p)[:, None, :]  # (chunk, K, C): p_k − p̄
    np.square(p, out=p)
    std = np.sqrt(_mean_over_samples(p))  # population std over K (ddof=0): (chunk, C)
    return std.mean(axis=-1)


def _variation_ratios_scores(log_probs):
    return per_point(log_probs, _variation_ratio)


def _mean_std_scores(log_probs):
    return per_point(log_probs, _mean_std)


@shared_doc
def max_entropy(
    log_probs, n_instances, *, stochastic=None, beta=None, random_state=None
):
    """Acquire the ``n_instances`` pool points of highest predictive entropy.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_classes)
        Posterior log-probabilities ``log p(y = c | x_n, ω_k)``; ``-inf`` allowed.
    n_instances : int
        Number of points to acquire, in ``[1, n_pool]``.
    {stochastic}
    {gumbel_random_state}

    Returns
    -------
    {picked_indices}
    scores : ndarray of shape (n_instances,), float64
        The marginal entropy of each picked point, in nats.

    See Also
    --------
    skbatchbald.acquisition.marginal_entropy : The score itself.
    bald, variation_ratios, mean_std, random_batch

    Notes
    -----
    Shannon (1948); as an acquisition function in Gal, Islam & Ghahramani (2017),
    "Deep Bayesian Active Learning with Image Data":

    .. math:: a(x) = -\\sum_c \\bar p_c \\log \\bar p_c, \\quad
              \\bar p_c = \\frac{1}{K} \\sum_k p(y = c \\mid x, \\omega_k)

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import max_entropy
    >>> log_probs = np.log([[[0.9, 0.1]], [[0.5, 0.5]], [[0.7, 0.3]]])
    >>> max_entropy(log_probs, 2)[0]
    array([1, 2])
    """
    return acquire_top(
        log_probs,
        n_instances,
        _marginal_entropy,
        stochastic=stochastic,
        beta=beta,
        random_state=random_state,
    )


@shared_doc
def variation_ratios(
    log_probs, n_instances, *, stochastic=None, beta=None, random_state=None
):
    """Acquire the ``n_instances`` pool points of highest variation ratio.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_classes)
        Posterior log-probabilities ``log p(y = c | x_n, ω_k)``; ``-inf`` allowed.
    n_instances : int
        Number of points to acquire, in ``[1, n_pool]``.
    {stochastic}
    {gumbel_random_state}

    Returns
    -------
    {picked_indices}
    scores : ndarray of shape (n_instances,), float64
        The variation ratio of each picked point, in ``[0, 1 - 1/C]``.

    See Also
    --------
    bald, max_entropy, mean_std, random_batch

    Notes
    -----
    Freeman (1965); as an acquisition function in Gal, Islam & Ghahramani (2017),
    "Deep Bayesian Active Learning with Image Data", ICML, with the
    averaged softmax (as the BatchBALD paper's baseline), not a vote count of the
    per-sample argmax:

    .. math:: a(x) = 1 - \\max_c \\frac{1}{K} \\sum_k p(y = c \\mid x, \\omega_k)

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import variation_ratios
    >>> log_probs = np.log([[[0.9, 0.1]], [[0.5, 0.5]], [[0.7, 0.3]]])
    >>> indices, scores = variation_ratios(log_probs, 2)
    >>> indices, scores.round(6)
    (array([1, 2]), array([0.5, 0.3]))
    """
    return acquire_top(
        log_probs,
        n_instances,
        _variation_ratios_scores,
        stochastic=stochastic,
        beta=beta,
        random_state=random_state,
    )


@shared_doc
def mean_std(log_probs, n_instances, *, stochastic=None, beta=None, random_state=None):
    """Acquire the ``n_instances`` pool points of highest mean standard deviation.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_classes)
        Posterior log-probabilities ``log p(y = c | x_n, ω_k)``; ``-inf`` allowed.
    n_instances : int
        Number of points to acquire, in ``[1, n_pool]``.
    {stochastic}
    {gumbel_random_state}

    Returns
    -------
    {picked_indices}
    scores : ndarray of shape (n_instances,), float64
        The mean standard deviation of each picked point, in ``[0, 0.5]``.

    See Also
    --------
    bald, max_entropy, variation_ratios, random_batch

    Notes
    -----
    Kampffmeyer, Salberg & Jenssen (2016), "Semantic Segmentation of Small Objects
    and Modeling of Uncertainty in Urban Remote Sensing Images Using Deep
    Convolutional Neural Networks", CVPR workshops:

    .. math:: a(x) = \\frac{1}{C} \\sum_c \\sqrt{\\frac{1}{K} \\sum_k
              \\left(p_{kc} - \\bar p_c\\right)^2}, \\quad
              p_{kc} = p(y = c \\mid x, \\omega_k)

    The standard deviation is the population one (``ddof=0``, divide by K), so
    with ``n_mc_samples == 1`` every score is 0 and the lowest indices are picked.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import mean_std
    >>> log_probs = np.log([[[0.5, 0.5], [0.5, 0.5]],
    ...                     [[0.9, 0.1], [0.1, 0.9]],
    ...                     [[0.6, 0.4], [0.4, 0.6]]])
    >>> indices, scores = mean_std(log_probs, 2)
    >>> indices, scores.round(6)
    (array([1, 2]), array([0.4, 0.1]))
    """
    return acquire_top(
        log_probs,
        n_instances,
        _mean_std_scores,
        stochastic=stochastic,
        beta=beta,
        random_state=random_state,
    )


def random_batch(log_probs, n_instances, *, random_state=None):
    """Acquire ``n_instances`` pool points uniformly at random, without replacement.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_classes)
        Validated like every acquisition function's input (so a wrong input fails
        here too), but only its length is used.
    n_instances : int
        Number of points to acquire, in ``[1, n_pool]``.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, \
default=None
        Source of randomness; the same int gives the same picks. A Generator is
        used as is and advances; a RandomState seeds a new generator.

    Returns
    -------
    indices : ndarray of shape (n_instances,), int64
        Distinct pool indices, in draw order.
    scores : ndarray of shape (n_instances,), float64
        All zeros: random acquisition scores nothing. Returned so that every
        acquisition function has the same return convention.

    See Also
    --------
    bald, max_entropy, variation_ratios, mean_std

    Notes
    -----
    Every subset of size ``n_instances`` is equally likely
    (``Generator.choice(n_pool, n_instances, replace=False)``).

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import random_batch
    >>> log_probs = np.full((10, 2, 2), np.log(0.5))
    >>> indices, scores = random_batch(log_probs, 3, random_state=0)
    >>> len(set(indices.tolist())), scores
    (3, array([0., 0., 0.]))
    """
    log_probs = check_log_probs(log_probs)
    n_instances = check_n_instances(n_instances, log_probs.shape[0])
    rng = check_random_state(random_state)
    indices = rng.choice(log_probs.shape[0], size=n_instances, replace=False)
    return indices.astype(np.int64, copy=False), np.zeros(n_instances)
