"""Acquisition functions: pure math on posterior log-probabilities.

Every function takes ``log_probs`` of shape ``(n_pool, n_samples, n_classes)`` --
``log p(y = c | x_n, ω_k)`` for N pool points and K posterior samples -- and returns
``(indices, scores)``: ``indices`` int64, distinct, in pick order; ``scores`` float64.
This layer imports only numpy (and torch, if the caller passes tensors); it knows
nothing of scikit-learn, skorch or modAL.
"""

from .entropy import conditional_entropy, marginal_entropy, mutual_information

__all__ = [
    "conditional_entropy",
    "marginal_entropy",
    "mutual_information",
]
