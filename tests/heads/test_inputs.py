"""Bad embeddings get clear errors, at fit and when sampled; nothing is reused."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skbatchbald.heads import DeepEnsembleClassifier, LaplaceHeadClassifier

HEADS = [
    lambda: DeepEnsembleClassifier(n_members=3, max_epochs=5, random_state=0),
    lambda: LaplaceHeadClassifier(max_epochs=5, random_state=0),
]


@pytest.fixture(params=HEADS, ids=["ensemble", "laplace"])
def make(request):
    return request.param


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_embeddings_are_refused_at_fit(make, blobs, bad):
    X, y = blobs
    X = X.copy()
    X[7, 3] = bad
    with pytest.raises(
        ValueError,
        match=r"X contains NaN or infinity in 1 row\(s\) "
        r"\(first: \[7\]\).*np\.isfinite",
    ):
        make().fit(X, y)


def test_non_finite_embeddings_are_refused_when_sampled(make, blobs, pool):
    X, y = blobs
    head = make().fit(X, y)
    bad = pool.copy()
    bad[150, 0] = np.nan
    # found also in a later chunk, with its row number in the whole pool
    for method in (
        head.predict_log_proba_samples,
        head.predict_proba,
        head.predict,
    ):
        with pytest.raises(ValueError, match=r"first: \[150\]"):
            method(bad)
    with pytest.raises(ValueError, match=r"first: \[150\]"):
        head.predict_log_proba_samples(bad, max_memory=2_000)


def test_a_float64_overflow_is_named(make, blobs):
    X, y = blobs
    X = X.astype(np.float64)
    X[0, 0] = 1e300  # finite in float64, inf in float32
    with pytest.raises(ValueError, match="float32's range"):
        make().fit(X, y)


def test_dimension_mismatch_follows_scikit_learn(make, blobs, pool):
    X, y = blobs
    head = make().fit(X, y)
    message = (
        rf"X has 7 features, but {type(head).__name__} is expecting 8 features "
        "as input"
    )
    for method in (
        head.predict_log_proba_samples,
        head.predict_proba,
        head.predict,
    ):
        with pytest.raises(ValueError, match=message):
            method(pool[:, :7])


def test_refit_on_other_embeddings_starts_over(make, blobs):
    X, y = blobs
    head = make().fit(X, y)
    head.fit(X[:, :5], y)  # a new encoder: nothing of the old fit is reused
    assert head.n_features_in_ == 5
    assert head.predict_log_proba_samples(X[:, :5]).shape[0] == 60
    with pytest.raises(ValueError, match="X has 8 features"):
        head.predict(X)


def test_warm_start_on_other_embeddings_is_refused(blobs):
    X, y = blobs
    head = DeepEnsembleClassifier(n_members=2, max_epochs=2, warm_start=True)
    head.fit(X, y)
    with pytest.raises(ValueError, match="set warm_start=False"):
        head.fit(X[:, :5], y)


def test_warm_start_keeps_the_fitted_classes(make, blobs):
    # a later batch of some classes must not renumber the logits
    X, y = blobs
    head = make().set_params(warm_start=True, max_epochs=100).fit(X, y)
    two = y != 1
    head.fit(X[two], y[two])
    assert head.classes_.tolist() == [0, 1, 2]
    assert head.predict_proba(X).shape == (60, 3)
    assert np.mean(head.predict(X) == y) > 0.9  # class 2 still class 2
    grown = make().set_params(warm_start=True).fit(X[two], y[two])
    with pytest.raises(ValueError, match=r"labels \[1\] that the fitted heads"):
        grown.fit(X, y)


def test_warm_start_with_another_size_starts_over(make, blobs):
    X, y = blobs
    two = y != 2
    head = make().set_params(warm_start=True).fit(X[two], y[two])
    # starting over, the heads take the new classes and features
    head.set_params(hidden=4).fit(X[:, :5], y)
    sizes = {tuple(p.shape) for p in head.module_.parameters()}
    assert any(4 in shape for shape in sizes)  # the hidden layer exists
    assert head.classes_.tolist() == [0, 1, 2] and head.n_features_in_ == 5


def test_a_refused_fit_keeps_the_fitted_heads(make, blobs):
    X, y = blobs
    head = make().fit(X, y)
    before = head.predict_proba(X)
    with pytest.raises(ValueError, match="sample_weight"):
        head.fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(head.predict_proba(X), before)


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.zeros(10), r"2-D array of embeddings .* got shape \(10,\)"),
        (np.zeros((10, 2, 4)), r"2-D array .* X\.reshape\(len\(X\), -1\)"),
        (np.zeros((0, 8)), "0 sample"),
        (np.zeros((10, 0)), "0 feature"),
        (np.array([["a", "b"]] * 10), "dtype <U1"),
        (np.zeros((10, 8), dtype=complex), "Complex data not supported"),
    ],
)
def test_wrong_shapes_and_dtypes_are_refused(make, X, match):
    y = np.arange(len(X)) % 2
    with pytest.raises(ValueError, match=match):
        make().fit(X, y)


def test_wrong_shapes_are_refused_when_sampled(make, blobs):
    X, y = blobs
    head = make().fit(X, y)
    with pytest.raises(ValueError, match="2-D array of embeddings"):
        head.predict_log_proba_samples(X[0])


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.zeros(60), "only one class"),
        (np.linspace(0, 1, 60), "Unknown label type"),
        (np.arange(120).reshape(60, 2), "y should be a 1d array"),
        # was scikit-learn's bare "y should be a 1d array"
        (
            np.eye(4, dtype=int)[np.arange(60) % 4] | (np.arange(60) % 3 == 0)[:, None],
            r"multi-label indicator.*MCDropoutMultiLabelClassifier",
        ),
        (np.eye(3, dtype=int)[np.arange(60) % 3], "looks one-hot encoded"),
    ],
)
def test_bad_labels_are_refused(make, blobs, y, match):
    X, _ = blobs
    with pytest.raises(ValueError, match=match):
        make().fit(X, y)


def test_unfitted_heads_raise_not_fitted(make, blobs):
    X, _ = blobs
    head = make()
    for method in (head.predict_log_proba_samples, head.predict_proba, head.predict):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            method(X)


def test_partial_fit_is_not_offered(make, blobs):
    X, y = blobs
    head = make()
    assert not hasattr(head, "partial_fit")  # scikit-learn's tools check this
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'"):
        head.partial_fit(X, y)


def test_sparse_embeddings_are_refused(make, blobs):
    import scipy.sparse as sp

    X, y = blobs
    with pytest.raises(TypeError, match=r"sparse data .* X\.toarray\(\)"):
        make().fit(sp.csr_matrix(X), y)


def test_numeric_object_arrays_are_read_as_numbers(make, blobs):
    X, y = blobs
    head = make().fit(X.astype(object), y)
    assert head.n_features_in_ == 8


@pytest.mark.parametrize("classes", [None, np.arange(100)])
def test_many_classes_warn_of_regression_only_without_classes(classes):
    # 30 rows of 20 classes: scikit-learn's "could represent a regression
    # problem", which a classes parameter answers
    X = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    y = np.arange(30) % 20
    head = DeepEnsembleClassifier(n_members=2, max_epochs=1, classes=classes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        head.fit(X, y)
    regression = [w for w in caught if "regression problem" in str(w.message)]
    assert len(regression) == (classes is None)


def test_a_tensor_dataset_pool_names_its_tensor(make, blobs, pool):
    # an MCDropoutClassifier takes a TensorDataset pool; a head takes arrays
    import torch
    from torch.utils.data import TensorDataset

    X, y = blobs
    head = make().fit(X, y)
    dataset = TensorDataset(torch.as_tensor(np.asarray(pool, np.float32)))
    with pytest.raises(TypeError, match=r"not a torch TensorDataset.*tensors\[0\]"):
        head.predict_log_proba_samples(dataset)
    samples = head.predict_log_proba_samples(dataset.tensors[0])
    assert samples.shape[0] == len(pool)
