"""Array pools streamed in blocks: chunk invariance and no whole copy (issue 23)."""

import os
import threading
import tracemalloc
from unittest.mock import patch

import joblib
import numpy as np
import pytest
import torch

from skbatchbald import MCDropoutClassifier
from skbatchbald.classifier import _estimator as estimator_module
from skbatchbald.classifier._stream import BLOCK_ROWS, block_threads
from skbatchbald.nn import BayesianMLP


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 16)).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int)
    clf = MCDropoutClassifier(
        BayesianMLP,
        module__n_features=16,
        module__n_classes=2,
        module__hidden_sizes=(12,),
        max_epochs=3,
        verbose=0,
        random_state=0,
    )
    return clf.fit(X[:100], y[:100]), X


@pytest.mark.parametrize("chunk", [1, 7, 300])
def test_samples_are_bitwise_identical_whatever_the_chunks(fitted, chunk):
    clf, X = fitted
    whole = clf.predict_log_proba_samples(X, 5, random_state=3)
    parts = [
        clf.predict_log_proba_samples(X[start : start + chunk], 5, random_state=3)
        for start in range(0, len(X), chunk)
    ]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_tensor_and_float64_pools_give_the_same_samples(fitted):
    clf, X = fitted
    whole = clf.predict_log_proba_samples(X, 5, random_state=3)
    as_tensor = clf.predict_log_proba_samples(torch.from_numpy(X), 5, random_state=3)
    as_float64 = clf.predict_log_proba_samples(X.astype(np.float64), 5, random_state=3)
    np.testing.assert_array_equal(as_tensor, whole)
    np.testing.assert_array_equal(as_float64, whole)


def test_memmapped_pool_is_read_in_blocks_not_copied(fitted, tmp_path):
    clf, _ = fitted
    rng = np.random.default_rng(1)
    path = tmp_path / "pool.npy"
    pool = np.lib.format.open_memmap(path, "w+", np.float32, (200_000, 16))
    pool[:] = rng.normal(size=pool.shape)
    pool.flush()
    pool = np.load(path, mmap_mode="r")  # read-only: a cast would copy it whole
    tracemalloc.start()
    try:
        out = clf.predict_log_proba_samples(pool, 1, random_state=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (200_000, 1, 2)
    # the output (1.6 MB) and a few blocks, never the 12.8 MB pool
    assert peak < pool.nbytes / 2, peak
    np.testing.assert_array_equal(
        out[-5:], clf.predict_log_proba_samples(np.array(pool[-5:]), 1, random_state=0)
    )


@pytest.mark.parametrize("threads", [1, 2])
def test_non_finite_rows_in_a_later_block_are_refused(fitted, monkeypatch, threads):
    monkeypatch.setattr(estimator_module, "block_threads", lambda: threads)
    clf, X = fitted
    pool = np.tile(X, (80, 1))  # 24,000 rows: three blocks
    pool[11_000, 3] = np.nan
    pool[20_000, 3] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        clf.predict_log_proba_samples(pool, 2, random_state=0)


def test_blocks_sampled_on_two_threads_give_the_same_samples(fitted, monkeypatch):
    clf, _ = fitted
    rng = np.random.default_rng(2)
    pool = rng.normal(size=(3 * BLOCK_ROWS + 100, 16)).astype(np.float32)
    monkeypatch.setattr(estimator_module, "block_threads", lambda: 1)
    serial = clf.predict_log_proba_samples(pool, 5, random_state=3)
    threads = []
    for_each_block = estimator_module.for_each_block

    def spy(fn, starts, n_threads):
        threads.append(n_threads)
        return for_each_block(fn, starts, n_threads)

    monkeypatch.setattr(estimator_module, "block_threads", lambda: 2)
    monkeypatch.setattr(estimator_module, "for_each_block", spy)
    parallel = clf.predict_log_proba_samples(pool, 5, random_state=3)
    assert threads == [2]  # the blocks after the first ran on two threads
    np.testing.assert_array_equal(parallel, serial)
    # and a chunk of the pool gives its rows' samples, bitwise
    part = clf.predict_log_proba_samples(pool[BLOCK_ROWS - 7 :], 5, random_state=3)
    np.testing.assert_array_equal(part, serial[BLOCK_ROWS - 7 :])


def test_two_threads_share_max_memory(fitted, monkeypatch):
    # a budget that holds one block's pass but not two runs the blocks one by one
    clf, _ = fitted
    rng = np.random.default_rng(2)
    pool = rng.normal(size=(3 * BLOCK_ROWS, 16)).astype(np.float32)
    engines, threads = [], []

    class Recorded(estimator_module.MCForward):
        def __init__(self, *args):
            super().__init__(*args)
            engines.append(self)

    for_each_block = estimator_module.for_each_block

    def spy(fn, starts, n_threads):
        threads.append(n_threads)
        return for_each_block(fn, starts, n_threads)

    monkeypatch.setattr(estimator_module, "MCForward", Recorded)
    monkeypatch.setattr(estimator_module, "block_threads", lambda: 2)
    monkeypatch.setattr(estimator_module, "for_each_block", spy)
    whole = clf.predict_log_proba_samples(pool, 5, random_state=3)
    assert engines[0].path == "mc_forward" and threads == [2]
    pass_bytes = BLOCK_ROWS * engines[0].row_bytes
    for budget, expected in ((1.5, [2]), (2.5, [2, 2])):
        out = clf.predict_log_proba_samples(
            pool, 5, random_state=3, max_memory=int(budget * pass_bytes)
        )
        np.testing.assert_array_equal(out, whole)
        assert threads == expected  # 1.5 passes: blocks one by one, not threaded


def test_n_jobs_shards_sample_their_blocks_one_by_one(fitted, monkeypatch):
    # each shard is one of n_jobs workers sharing the cores: no block threads
    clf, _ = fitted
    rng = np.random.default_rng(2)
    pool = rng.normal(size=(4 * BLOCK_ROWS, 16)).astype(np.float32)
    monkeypatch.setattr(estimator_module, "block_threads", lambda: 2)
    threads = []
    for_each_block = estimator_module.for_each_block

    def spy(fn, starts, n_threads):
        threads.append(n_threads)
        return for_each_block(fn, starts, n_threads)

    monkeypatch.setattr(estimator_module, "for_each_block", spy)
    whole = clf.predict_log_proba_samples(pool, 5, random_state=3)
    assert threads == [2]
    with joblib.parallel_backend("threading"):
        sharded = clf.predict_log_proba_samples(pool, 5, random_state=3, n_jobs=2)
    assert threads == [2]  # the shards ran their blocks in order
    np.testing.assert_array_equal(sharded, whole)


def test_no_block_threads_off_the_main_thread():
    # a Dask task or a joblib worker thread: its pool already shares the cores
    out = []
    worker = threading.Thread(target=lambda: out.append(block_threads()))
    worker.start()
    worker.join()
    assert out == [1]
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    with patch.object(torch, "get_num_threads", lambda: 1):
        assert block_threads() == cores  # on the main thread: every core
