"""Synthetic pools of posterior log-probabilities for the acquisition benchmark.

A pool looks like what consistent MC dropout gives on Repeated MNIST: each base point
has a class-score vector; posterior sample k adds its own perturbation, scaled by the
point's epistemic spread (log-uniform, so BALD covers about two orders of
magnitude); some points come in groups of 3 near-duplicates that share the base
point's perturbations (the same dropout mask acts the same way on near-identical
inputs) plus a little noise of their own.
"""

import numpy as np
from scipy.special import log_softmax


def make_pool(
    n_pool,
    n_mc_samples,
    n_classes,
    *,
    duplicate_fraction=0.5,
    copies=3,
    copy_noise=0.1,
    spread=(0.1, 1.5),
    seed=0,
    dtype=np.float32,
):
    """Return (log_probs (N, K, C), group (N,)): points of one group are near-copies.

    Parameters
    ----------
    n_pool, n_mc_samples, n_classes : int
        N, K, C.
    duplicate_fraction : float
        Fraction of the pool made of groups of ``copies`` near-duplicates.
    copies : int
        Size of a duplicate group (3 in Repeated MNIST).
    copy_noise : float
        Standard deviation of each copy's own logit noise.
    spread : (float, float)
        Range of the per-point epistemic scale (log-uniform).
    seed : int
    dtype : numpy dtype of the result.

    Returns
    -------
    log_probs : ndarray of shape (N, K, C)
    group : ndarray of shape (N,), int
        Points with the same group id are copies of one base point; singletons
        have their own id.
    """
    rng = np.random.default_rng(seed)
    n_grouped = int(duplicate_fraction * n_pool) // copies
    n_base = n_pool - n_grouped * (copies - 1)
    true_class = rng.integers(n_classes, size=n_base)
    center = 1.5 * rng.standard_normal((n_base, n_classes))
    center[np.arange(n_base), true_class] += 4.0
    scale = np.exp(rng.uniform(np.log(spread[0]), np.log(spread[1]), size=n_base))
    noise = rng.standard_normal((n_base, n_mc_samples, n_classes))
    base_logits = center[:, None, :] + scale[:, None, None] * noise  # (N0, K, C)
    # the first n_grouped base points get copies - 1 extra near-copies each
    copy_of = np.repeat(np.arange(n_grouped), copies - 1)
    copy_logits = base_logits[copy_of] + copy_noise * rng.standard_normal(
        (copy_of.size, n_mc_samples, n_classes)
    )
    logits = np.concatenate([base_logits, copy_logits])
    group = np.concatenate([np.arange(n_base), copy_of])
    order = rng.permutation(n_pool)  # copies are not adjacent
    return log_softmax(logits[order], axis=-1).astype(dtype), group[order]
