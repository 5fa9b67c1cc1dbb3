"""The invariants BatchBALD needs of both heads, as MCDropoutClassifier has them.

Same random_state, same samples; one model per sample for every row, so the
samples do not depend on chunking or row order; their mean is (or, for
Laplace, is close to) predict_proba.
"""

import numpy as np
import pytest

from skbatchbald.heads import DeepEnsembleClassifier, LaplaceHeadClassifier

HEADS = {
    "ensemble": lambda **kw: DeepEnsembleClassifier(
        n_members=6, max_epochs=30, random_state=0, **kw
    ),
    "ensemble-mlp-bootstrap": lambda **kw: DeepEnsembleClassifier(
        n_members=6, hidden=16, bootstrap=True, max_epochs=30, random_state=0, **kw
    ),
    "laplace": lambda **kw: LaplaceHeadClassifier(max_epochs=30, random_state=0, **kw),
    "laplace-kron-marglik": lambda **kw: LaplaceHeadClassifier(
        hessian_structure="kron",
        prior_precision="marglik",
        max_epochs=30,
        random_state=0,
        **kw,
    ),
    "laplace-mlp": lambda **kw: LaplaceHeadClassifier(
        hidden=16, max_epochs=30, random_state=0, **kw
    ),
}


@pytest.fixture(scope="module", params=sorted(HEADS))
def fitted(request, blobs):
    X, y = blobs
    return HEADS[request.param]().fit(X, y)


def _samples(head, X, **kw):
    # K = 4 < E: the ensemble subsamples members, Laplace draws 4 weights
    return head.predict_log_proba_samples(X, n_mc_samples=4, random_state=3, **kw)


def test_same_random_state_gives_identical_samples(fitted, pool):
    first, second = _samples(fitted, pool), _samples(fitted, pool)
    np.testing.assert_array_equal(first, second)
    assert first.shape == (len(pool), 4, 3)
    assert first.dtype == np.float32
    np.testing.assert_allclose(np.exp(first).sum(axis=2), 1.0, atol=1e-5)


def test_another_random_state_gives_other_samples(blobs, pool):
    X, y = blobs
    laplace = HEADS["laplace"]().fit(X, y)
    a = laplace.predict_log_proba_samples(pool, random_state=1)
    b = laplace.predict_log_proba_samples(pool, random_state=2)
    assert np.abs(a - b).max() > 1e-3
    ensemble = HEADS["ensemble"]().fit(X, y)
    picks = {
        tuple(
            ensemble.predict_log_proba_samples(
                pool[:1], n_mc_samples=3, random_state=seed
            )[0, :, 0]
        )
        for seed in range(10)
    }
    assert len(picks) > 1  # different seeds pick different members


def test_refit_with_same_random_state_gives_same_model(blobs, pool):
    X, y = blobs
    for make in HEADS.values():
        a = make().fit(X, y).predict_log_proba_samples(pool, random_state=0)
        b = make().fit(X, y).predict_log_proba_samples(pool, random_state=0)
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("max_memory", [4_000, 1_000, 1])
def test_chunking_does_not_change_the_samples(fitted, pool, max_memory):
    whole = _samples(fitted, pool, max_memory="1GB")
    chunked = _samples(fitted, pool, max_memory=max_memory)
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-5)


def test_row_order_does_not_change_the_samples(fitted, pool):
    order = np.random.default_rng(0).permutation(len(pool))
    whole = _samples(fitted, pool)
    permuted = _samples(fitted, pool[order])
    np.testing.assert_allclose(permuted, whole[order], rtol=0, atol=1e-5)
    subset = _samples(fitted, pool[order[:7]])
    np.testing.assert_allclose(subset, whole[order[:7]], rtol=0, atol=1e-5)


def test_one_model_per_sample_for_every_row(fitted, pool):
    # Duplicated rows get identical samples: the k-th model is shared by all
    # rows, not drawn per row (as a per-input "GLM" predictive would be).
    X = np.concatenate([pool[:5], pool[:5], pool[5:10]])
    lp = _samples(fitted, X)
    np.testing.assert_array_equal(lp[:5], lp[5:10])
    # ... and the samples differ from each other for the same row
    assert np.abs(lp[:, 0] - lp[:, 1]).max() > 1e-4


def test_mean_of_samples_approximates_predict_proba(fitted, pool):
    proba = fitted.predict_proba(pool)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    if isinstance(fitted, DeepEnsembleClassifier):
        mean = np.exp(fitted.predict_log_proba_samples(pool).astype(float)).mean(1)
        np.testing.assert_allclose(mean, proba, atol=1e-6)
    else:
        # predict_proba is the probit approximation of the mean over the
        # posterior: close to 4,000 draws' mean, and it ranks classes alike
        many = fitted.predict_log_proba_samples(pool, n_mc_samples=4000, random_state=7)
        mean = np.exp(many.astype(float)).mean(axis=1)
        assert np.abs(mean - proba).max() < 0.15
        assert np.abs(mean - proba).mean() < 0.06
        assert (mean.argmax(axis=1) == proba.argmax(axis=1)).mean() > 0.95
    np.testing.assert_array_equal(
        fitted.predict(pool), fitted.classes_[proba.argmax(axis=1)]
    )


def test_predict_proba_is_the_same_every_time(fitted, pool):
    np.testing.assert_array_equal(
        fitted.predict_proba(pool), fitted.predict_proba(pool)
    )
