"""Small embeddings: three Gaussian blobs in 8 dimensions."""

import numpy as np
import pytest


@pytest.fixture(scope="session")
def blobs():
    """(X, y): 60 labelled rows of 3 well-separated classes, d = 8, float32."""
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=3.0, size=(3, 8))
    y = np.repeat(np.arange(3), 20)
    X = (centers[y] + rng.normal(size=(60, 8))).astype(np.float32)
    return X, y


@pytest.fixture(scope="session")
def pool(blobs):
    """200 unlabelled rows around the same blobs, plus far-away ones."""
    X, _ = blobs
    rng = np.random.default_rng(1)
    return (X[rng.integers(0, 60, 200)] + rng.normal(size=(200, 8))).astype(np.float32)
