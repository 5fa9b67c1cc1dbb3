"""Shared fixtures for the acquisition tests: small pools of random log-probs."""

import numpy as np
import pytest
from scipy.special import log_softmax


def _random_log_probs(
    n_pool, n_mc_samples, n_classes, *, seed=0, scale=3.0, dtype=None
):
    """log_softmax of Gaussian logits, shape (n_pool, n_mc_samples, n_classes)."""
    rng = np.random.default_rng(seed)
    logits = scale * rng.standard_normal((n_pool, n_mc_samples, n_classes))
    out = log_softmax(logits, axis=-1)
    return out if dtype is None else out.astype(dtype)


@pytest.fixture
def make_log_probs():
    """Factory: ``make_log_probs(n_pool, n_mc_samples, n_classes, seed=0, scale=3.0,
    dtype=None)`` -> float64 (or ``dtype``) log-probs of that shape."""
    return _random_log_probs


@pytest.fixture
def log_probs():
    """A small pool: 40 points, 8 posterior samples, 4 classes, float64, all
    mutual informations distinct."""
    return _random_log_probs(40, 8, 4, seed=0)


@pytest.fixture
def log_probs_with_zeros():
    """A small pool where about a third of the probabilities are exactly 0
    (log-prob -inf), every row keeping at least one positive probability."""
    rng = np.random.default_rng(1)
    logits = 3.0 * rng.standard_normal((30, 6, 5))
    zero = rng.random(logits.shape) < 0.35
    zero[..., 0] &= ~zero[..., 1:].all(axis=-1)  # keep one class per row
    logits[zero] = -np.inf
    return log_softmax(logits, axis=-1)
