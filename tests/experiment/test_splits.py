"""The data of a trial: fixed initial sets, validation from the pool, noise."""

import dataclasses

import numpy as np
import pytest

from skbatchbald.experiment import ExperimentConfig
from skbatchbald.experiment._splits import Source, make_trial


def _fake_mnist(n=600, n_test=100, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 784), dtype=np.float32)
    X_test = rng.random((n_test, 784), dtype=np.float32)
    return Source(X, np.arange(n) % 10, X_test, np.arange(n_test) % 10, 28)


def test_fixed_initial_images_start_every_trial():
    config = ExperimentConfig(
        dataset="mnist", fixed_initial=True, validation_size=100, budget=40
    )
    source = _fake_mnist()
    images = []
    for trial in range(3):
        data = make_trial(config, source, trial)
        assert np.bincount(data.y_pool[data.initial]).tolist() == [2] * 10
        images.append(data.X_pool[data.initial])
        # never in validation
        initial = data.X_pool[data.initial]
        assert np.abs(data.X_val[:, None] - initial[None]).sum(-1).min() > 0
    np.testing.assert_array_equal(images[0], images[1])
    np.testing.assert_array_equal(images[0], images[2])
    per_trial = dataclasses.replace(config, fixed_initial=False)
    a, b = (make_trial(per_trial, source, t) for t in (0, 1))
    assert not np.array_equal(a.X_pool[a.initial], b.X_pool[b.initial])


def test_validation_drawn_from_the_noisy_repeated_pool():
    config = ExperimentConfig(
        dataset="repeated_mnist", validation_from_pool=True, validation_size=90,
        fixed_initial=True, normalize=True, budget=40,
    )  # fmt: skip
    source = _fake_mnist()
    data = make_trial(config, source, 0)
    # 600 images x 3 copies, 90 of them moved to validation
    assert len(data.y_pool) == 1800 - 90 and len(data.y_val) == 90
    # validation rows are noisy copies: each differs from every original image
    standardized = (source.X - 0.1307) / 0.3081
    distance = np.abs(data.X_val[:, None, :50] - standardized[None, :, :50]).min(1)
    assert distance.max() > 0
    # the initial set survives the removal: still 2 per class, first copies
    assert np.bincount(data.y_pool[data.initial]).tolist() == [2] * 10


def test_noise_is_added_after_standardising():
    config = ExperimentConfig(
        dataset="repeated_mnist", normalize=True, noise_std=0.1,
        validation_size=50, budget=40,
    )  # fmt: skip
    source = _fake_mnist()
    data = make_trial(config, source, 0)
    clean = (source.X[data.pool_source] - 0.1307) / 0.3081
    noise = data.X_pool - clean
    # N(0, 0.1) in standardised units, i.e. 0.1 * 0.3081 in pixel units
    assert noise.std() == pytest.approx(0.1, rel=0.02)
    assert data.X_test.mean() == pytest.approx((0.5 - 0.1307) / 0.3081, abs=0.02)
    raw = make_trial(dataclasses.replace(config, normalize=False), source, 0)
    assert (raw.X_pool - source.X[raw.pool_source]).std() == pytest.approx(
        0.1, rel=0.02
    )
