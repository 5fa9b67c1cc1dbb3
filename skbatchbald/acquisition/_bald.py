"""BALD: the top-b pool points by mutual information, each scored alone."""

from ._docstrings import shared_doc
from ._entropy import _mutual_information
from ._single_point import acquire_top


@shared_doc
def bald(log_probs, n_instances, *, stochastic=None, beta=None, random_state=None):
    """Acquire the ``n_instances`` pool points of highest BALD score.

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
        The mutual information of each picked point, in nats.

    See Also
    --------
    skbatchbald.acquisition.mutual_information : The score itself.
    skbatchbald.acquisition.batchbald : Scores the batch jointly.
    skbatchbald.acquisition.power_bald : Samples with probability ∝ BALD^β.

    Notes
    -----
    Houlsby et al. (2011), arXiv:1112.5745; Gal, Islam & Ghahramani (2017),
    "Deep Bayesian Active Learning with Image Data", ICML:

    .. math:: a_{BALD}(x) = H[\\bar p] - \\frac{1}{K} \\sum_k H[p_k]

    Each point is scored alone, so a batch of the top-b points can be made of
    near-duplicates (Kirsch et al. 2019); ``batchbald`` avoids that.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import bald
    >>> log_probs = np.log([[[0.5, 0.5], [0.5, 0.5]],    # samples agree: MI 0
    ...                     [[0.6, 0.4], [0.4, 0.6]],    # disagree a little
    ...                     [[0.9, 0.1], [0.1, 0.9]]])   # disagree more
    >>> indices, scores = bald(log_probs, 2)
    >>> indices
    array([2, 1])
    """
    return acquire_top(
        log_probs,
        n_instances,
        _mutual_information,
        stochastic=stochastic,
        beta=beta,
        random_state=random_state,
    )
