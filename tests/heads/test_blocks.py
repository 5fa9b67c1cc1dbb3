"""Heads sample a big pool in fixed blocks, on several threads, within the budget."""

import threading
import tracemalloc

import numpy as np
import pytest
import torch

from skbatchbald._validation import check_random_state
from skbatchbald.classifier._stream import BLOCK_ROWS
from skbatchbald.heads import DeepEnsembleClassifier, LaplaceHeadClassifier
from skbatchbald.heads import _base as base_module

HEADS = {
    "ensemble": lambda: DeepEnsembleClassifier(
        n_members=5, hidden=8, max_epochs=5, random_state=0
    ),
    "laplace": lambda: LaplaceHeadClassifier(max_epochs=5, random_state=0),
}


@pytest.fixture(scope="module", params=sorted(HEADS))
def fitted(request, blobs):
    X, y = blobs
    return HEADS[request.param]().fit(X, y)


@pytest.fixture(scope="module")
def big_pool(blobs):
    """Two full blocks and a part: three blocks of the pool."""
    X, _ = blobs
    rng = np.random.default_rng(2)
    rows = X[rng.integers(0, len(X), 2 * BLOCK_ROWS + 300)]
    return (rows + rng.normal(size=rows.shape)).astype(np.float32)


def _spy(monkeypatch, threads):
    """Record each call's thread count; pretend the machine has ``threads``."""
    calls = []
    for_each_block = base_module.for_each_block

    def spy(fn, starts, n_threads):
        calls.append(n_threads)
        return for_each_block(fn, starts, n_threads)

    monkeypatch.setattr(base_module, "block_threads", lambda: threads)
    monkeypatch.setattr(base_module, "for_each_block", spy)
    return calls


def test_blocks_on_two_threads_give_the_samples_of_one(fitted, big_pool, monkeypatch):
    one = _spy(monkeypatch, 1)
    alone = fitted.predict_log_proba_samples(big_pool, 4, random_state=3)
    assert one == [1]
    two = _spy(monkeypatch, 2)
    shared = fitted.predict_log_proba_samples(big_pool, 4, random_state=3)
    assert two == [2]
    np.testing.assert_array_equal(shared, alone)


def test_threads_are_as_many_blocks_as_the_budget_holds(fitted, big_pool, monkeypatch):
    whole = fitted.predict_log_proba_samples(big_pool, 4, random_state=3)
    calls = _spy(monkeypatch, 2)
    k, n_classes = 4, len(fitted.classes_)
    per_row = 4 * (big_pool.shape[1] + fitted._n_members() * (fitted.hidden or 0))
    per_row += 4 * 3 * k * n_classes
    for blocks, threads in ((1.5, 1), (2.5, 2)):
        budget = int(blocks * BLOCK_ROWS * per_row)
        out = fitted.predict_log_proba_samples(
            big_pool, k, random_state=3, max_memory=budget
        )
        assert calls.pop() == threads
        # a block is BLOCK_ROWS rows whatever the budget above it
        np.testing.assert_array_equal(out, whole)


def test_every_block_runs_without_autograd(fitted, big_pool, monkeypatch):
    # grad mode is per thread: a block thread must turn it off itself
    seen = []
    logits = type(fitted)._chunk_logits

    def spy(self, X, draw):
        seen.append((threading.get_ident(), torch.is_grad_enabled()))
        return logits(self, X, draw)

    _spy(monkeypatch, 2)
    monkeypatch.setattr(type(fitted), "_chunk_logits", spy)
    fitted.predict_log_proba_samples(big_pool, 4, random_state=3)
    assert len(seen) == 3
    assert not any(grad for _, grad in seen)


def test_log_probs_are_the_log_softmax_of_the_logits(fitted, big_pool):
    out = fitted.predict_log_proba_samples(big_pool, 4, random_state=3)
    draw = fitted._draw(4, check_random_state(3))
    with torch.no_grad():
        fitted.module_.eval()
        logits = fitted._chunk_logits(torch.as_tensor(big_pool), draw)
    expected = torch.log_softmax(logits.double(), dim=-1).numpy()
    np.testing.assert_allclose(out, expected, rtol=0, atol=2e-6)


def test_a_bad_row_is_named_from_the_first_block_that_holds_one(
    fitted, big_pool, monkeypatch
):
    _spy(monkeypatch, 2)
    X = big_pool.copy()
    X[[BLOCK_ROWS + 5, 2 * BLOCK_ROWS + 7]] = np.nan
    with pytest.raises(ValueError, match=rf"1 row\(s\) \(first: \[{BLOCK_ROWS + 5}\]"):
        fitted.predict_log_proba_samples(X, 4, random_state=3)


def test_a_head_on_device_none_samples_on_the_cpu(blobs, pool):
    # skorch takes device=None for "leave the module where it is"
    X, y = blobs
    head = LaplaceHeadClassifier(max_epochs=2, random_state=0, device=None).fit(X, y)
    assert head.predict_log_proba_samples(pool, 4, random_state=3).shape == (
        len(pool),
        4,
        3,
    )


def test_an_ensembles_predict_proba_never_holds_every_members_samples(blobs):
    # many members and classes, and a budget of 2 MB: blocks of about 100 rows
    X, y = blobs
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 40, len(y))
    head = DeepEnsembleClassifier(n_members=16, max_epochs=1, random_state=0)
    head.fit(X, labels)
    pool = X[rng.integers(0, len(X), 3000)]
    samples = np.exp(head.predict_log_proba_samples(pool).astype(np.float64))
    head.set_params(max_memory=2**21)
    tracemalloc.start()
    try:
        proba = head.predict_proba(pool)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(proba, samples.mean(axis=1), rtol=0, atol=1e-7)
    # the samples in float64 are 10.8 MB; the budget and the output 0.7 MB
    assert peak < samples.nbytes / 3, (peak, samples.nbytes)
