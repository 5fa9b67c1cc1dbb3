"""MCDropoutClassifier on scipy sparse inputs: densified batch by batch."""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from torch import nn

from skbatchbald import ActiveLearner, BatchBALDQuery, MCDropoutClassifier
from skbatchbald.nn import BayesianMLP
from skbatchbald.sampling import predict_log_proba_samples


@pytest.fixture(scope="module")
def sparse_blobs():
    """60 rows, 30 features, about 80 % zeros; the class sets the first columns."""
    rng = np.random.default_rng(0)
    y = np.arange(60) % 3
    X = rng.random((60, 30)) * (rng.random((60, 30)) < 0.2)
    X[np.arange(60), y] += 2.0
    return X.astype(np.float32), y


def mlp(n_features, **kwargs):
    params = {"max_epochs": 10, "lr": 1e-2, "batch_size": 16, "verbose": 0}
    return MCDropoutClassifier(
        BayesianMLP,
        module__n_features=n_features,
        random_state=0,
        **{**params, **kwargs},
    )


@pytest.mark.parametrize(
    "to_sparse",
    [sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, sp.csr_array],
    ids=["csr_matrix", "csc_matrix", "coo_matrix", "csr_array"],
)
def test_sparse_inputs_fit_and_sample_like_the_dense_ones(sparse_blobs, to_sparse):
    X, y = sparse_blobs
    dense = mlp(30).fit(X, y)
    sparse = mlp(30).fit(to_sparse(X), y)
    np.testing.assert_allclose(
        sparse.history[:, "train_loss"], dense.history[:, "train_loss"], rtol=1e-5
    )
    np.testing.assert_allclose(
        sparse.predict_log_proba_samples(to_sparse(X), 4, random_state=1),
        dense.predict_log_proba_samples(X, 4, random_state=1),
        atol=1e-5,
    )
    np.testing.assert_allclose(
        sparse.predict_proba(to_sparse(X)), dense.predict_proba(X), atol=1e-6
    )
    assert (sparse.predict(to_sparse(X)) == y).mean() > 0.9


def test_a_sparse_pool_is_queried_and_taught(sparse_blobs):
    X, y = sparse_blobs
    X_sparse = sp.csr_matrix(X)
    learner = ActiveLearner(
        mlp(30),
        query_strategy=BatchBALDQuery(random_state=0),
        X_training=X_sparse[:15],
        y_training=y[:15],
    )
    samples = predict_log_proba_samples(learner, X_sparse[15:], 3, random_state=0)
    np.testing.assert_allclose(
        samples,
        predict_log_proba_samples(learner, X[15:], 3, random_state=0),
        atol=1e-5,
    )
    idx, rows = learner.query(X_sparse[15:], n_instances=4)
    learner.teach(rows, y[15:][idx])
    assert learner.X_training.shape == (19, 30)


def test_tfidf_pipeline_learns():
    texts = np.array(
        [f"good great fine {i}" for i in range(20)]
        + [f"bad awful poor {i}" for i in range(20)]
    )
    y = np.repeat(["pos", "neg"], 20)
    vectorizer = TfidfVectorizer(max_features=10, dtype=np.float32)
    pipe = make_pipeline(vectorizer, mlp(10, module__n_classes=2, max_epochs=30))
    pipe.fit(texts, y)
    assert (pipe.predict(texts) == y).mean() == 1.0


class WideNet(nn.Module):
    """A first layer of 50,000 inputs: the dense pool would take 400 MB."""

    def __init__(self, n_features=50_000):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, 4), nn.ReLU(), nn.Dropout(0.3), nn.Linear(4, 2)
        )

    def forward(self, x):
        return self.layers(x)


def test_a_sparse_pool_is_never_dense_whole():
    n_rows, n_features = 2000, 50_000
    X = sp.random(
        n_rows, n_features, density=1e-4, format="csr", dtype=np.float32, rng=0
    )
    y = np.arange(n_rows) % 2
    clf = MCDropoutClassifier(
        WideNet, max_epochs=1, batch_size=32, verbose=0, random_state=0
    )
    clf.fit(X[:64], y[:64])  # first calls import and allocate what they keep
    clf.predict_log_proba_samples(X[:64], 2, random_state=0)
    tracemalloc.start()
    try:
        clf.fit(X, y)
        clf.predict_log_proba_samples(X, 2, random_state=0)
        clf.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    dense_bytes = n_rows * n_features * 4
    assert peak < dense_bytes / 10, f"peak {peak / 1e6:.0f} MB"


@pytest.mark.parametrize(
    ("values", "error", "match"),
    [
        (np.nan, ValueError, "NaN or infinity"),
        (1 + 1j, ValueError, "Complex data not supported"),
    ],
)
def test_bad_sparse_values_are_refused(sparse_blobs, values, error, match):
    X, y = sparse_blobs
    bad = sp.csr_matrix(X.astype(np.result_type(X, values)))
    bad.data[0] = values
    with pytest.raises(error, match=match):
        mlp(30).fit(bad, y)
