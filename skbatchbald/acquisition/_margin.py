"""Margin: one minus the gap between the two most probable classes."""

import numpy as np

from ._docstrings import shared_doc
from ._entropy import _mean_over_samples
from ._per_point import per_point
from ._single_point import acquire_top


def _margin(log_p, p):
    mean = _mean_over_samples(p)  # (chunk, C)
    top_two = np.partition(mean, -2, axis=-1)[:, -2:]  # (chunk, 2): p2, p1
    return 1.0 - (top_two[:, 1] - top_two[:, 0])


def _margin_scores(log_probs):
    """Margin scores of validated log-probabilities, shape (N,)."""
    return per_point(log_probs, _margin)


@shared_doc
def margin(log_probs, n_instances, *, stochastic=None, beta=None, random_state=None):
    """Acquire the ``n_instances`` pool points whose two likeliest classes are closest.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_classes)
        Posterior log-probabilities ``log p(y = c | x_n, ω_k)``; ``-inf`` allowed.
        ``n_mc_samples == 1`` (a plain, deterministic classifier) works.
    n_instances : int
        Number of points to acquire, in ``[1, n_pool]``.
    {stochastic}
    {gumbel_random_state}

    Returns
    -------
    {picked_indices}
    scores : ndarray of shape (n_instances,), float64
        ``1 − (p1 − p2)`` of each picked point, in ``[0, 1]``.

    See Also
    --------
    variation_ratios : One minus the largest class probability.
    bald : Mutual information with the parameters.

    Notes
    -----
    Scheffer, Decomain & Wrobel (2001), "Active Hidden Markov Models for
    Information Extraction"; the strongest cheap baseline in Kirsch et al.
    (2023), "Stochastic Batch Acquisition: A Simple Baseline for Deep Active
    Learning", TMLR. With p1 >= p2 the two largest class probabilities of the
    predictive mean :math:`\\bar p = \\frac{1}{K} \\sum_k p(y \\mid x, \\omega_k)`,

    .. math:: a(x) = 1 - (p_1 - p_2)

    in [0, 1]: 1 where the two classes tie, 0 where one class is certain. Being
    non-negative, it can be drawn with ``stochastic="power"``.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import margin
    >>> log_probs = np.log([[[0.9, 0.05, 0.05]], [[0.45, 0.4, 0.15]],
    ...                     [[0.6, 0.3, 0.1]]])
    >>> indices, scores = margin(log_probs, 2)
    >>> indices, scores.round(6)
    (array([1, 2]), array([0.95, 0.7 ]))
    """
    return acquire_top(
        log_probs,
        n_instances,
        _margin_scores,
        stochastic=stochastic,
        beta=beta,
        random_state=random_state,
    )
