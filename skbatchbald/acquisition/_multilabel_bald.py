"""BALD for multi-label models: the sum over labels of each label's BALD score."""

import numpy as np

from .._validation import check_stochastic
from ._docstrings import shared_doc
from ._entropy import mutual_information
from ._multilabel_inputs import binary_log_probs, check_label_log_probs
from ._stochastic import select
from ._validation import check_n_instances, check_random_state


def label_mutual_information(log_probs):
    """Each label's mutual information with the parameters, I(y_l; ω | x).

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_labels)
        ``log p(y_l = 1 | x_n, ω_k)``; ``-inf`` allowed.

    Returns
    -------
    mutual_information : ndarray of shape (n_pool, n_labels), float64
        The binary BALD score of every label, in nats, in ``[0, log 2]``.

    See Also
    --------
    multilabel_bald : Their sum per point, and the top points by it.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import label_mutual_information
    >>> # one point, two samples; label 0: the samples agree, label 1: they do not
    >>> log_probs = np.log([[[0.5, 0.0001], [0.5, 0.9999]]])
    >>> label_mutual_information(log_probs).round(3)
    array([[0.   , 0.692]])
    """
    log_probs = check_label_log_probs(log_probs)
    n_pool, n_mc_samples, n_labels = log_probs.shape
    # (N, K, L, 2) -> (N * L, K, 2): one binary pool point per (point, label)
    binary = binary_log_probs(log_probs).transpose(0, 2, 1, 3)
    binary = np.ascontiguousarray(binary).reshape(n_pool * n_labels, n_mc_samples, 2)
    return mutual_information(binary).reshape(n_pool, n_labels)


@shared_doc
def multilabel_bald(
    log_probs, n_instances, *, stochastic=None, beta=None, random_state=None
):
    """Acquire the points of highest multi-label BALD score, Σ_l I(y_l; ω | x).

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_labels)
        ``log p(y_l = 1 | x_n, ω_k)`` of each label being present; ``-inf``
        allowed. Each label is a Bernoulli output.
    n_instances : int
        Number of points to acquire, in ``[1, n_pool]``.
    {stochastic}
    {gumbel_random_state}

    Returns
    -------
    {picked_indices}
    scores : ndarray of shape (n_instances,), float64
        The summed mutual information of each picked point, in nats, at most
        ``n_labels * log 2``.

    See Also
    --------
    label_mutual_information : The per-label terms.
    multilabel_batchbald : Scores the batch jointly.
    skbatchbald.acquisition.bald : The single-label score.

    Notes
    -----
    The score is the sum of the labels' binary BALD scores,
    ``Σ_l I(y_l; ω | x)``. It is not the mutual information of all labels
    together, ``I(y_1, ..., y_L; ω | x)``: with the labels independent given
    ω (the model's Bernoulli outputs),

    .. math:: \\sum_l I(y_l; ω) - I(y_1, \\ldots, y_L; ω)
              = \\sum_l H(y_l) - H(y_1, \\ldots, y_L) \\ge 0,

    the total correlation of the labels under the posterior predictive. So
    the sum is an upper bound of the joint mutual information, equal to it
    when the labels are independent under the posterior predictive too; it
    counts the information that correlated labels share once per label.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.acquisition import multilabel_bald
    >>> p = np.array([[[0.5, 0.5], [0.5, 0.5]],      # samples agree on both
    ...               [[0.1, 0.5], [0.9, 0.5]],      # disagree on label 0
    ...               [[0.1, 0.1], [0.9, 0.9]]])     # disagree on both
    >>> indices, scores = multilabel_bald(np.log(p), 2)
    >>> indices
    array([2, 1])
    """
    scores = label_mutual_information(log_probs).sum(axis=1)
    n_instances = check_n_instances(n_instances, len(scores))
    stochastic, beta = check_stochastic(stochastic, beta)
    rng = check_random_state(random_state)
    indices = select(scores, n_instances, stochastic, beta, rng)
    return indices, scores[indices]
