"""Pools sampled out of core: chunk by chunk into a .npy file, or block by block
into a dask array (here on Dask's local threads; tests/test_distributed.py runs a
cluster)."""

import dask
import dask.array as da
import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from skbatchbald import MCDropoutClassifier
from skbatchbald.acquisition import bald, batchbald
from skbatchbald.nn import BayesianMLP
from skbatchbald.out_of_core import dask_log_proba_samples, write_log_proba_samples
from skbatchbald.sampling import predict_log_proba_samples


@pytest.fixture(autouse=True)
def _local_threads():
    """Dask's local threads, even when another test's cluster is the default."""
    with dask.config.set(scheduler="threads"):
        yield


@pytest.fixture(scope="module")
def mlp(digits_split):
    return MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        module__n_classes=10,
        max_epochs=3,
        verbose=0,
        random_state=0,
        n_mc_samples=8,
    ).fit(digits_split["X_init"].astype(np.float32), digits_split["y_init"])


@pytest.fixture(scope="module")
def X_pool(digits_split):
    return digits_split["X_pool"][:300].astype(np.float32)


def test_written_pool_equals_one_call(mlp, X_pool, tmp_path):
    expected = predict_log_proba_samples(mlp, X_pool, random_state=3)
    pool = write_log_proba_samples(
        mlp, X_pool, tmp_path / "pool.npy", random_state=3, chunk_size=70
    )
    assert isinstance(pool, np.memmap) and not pool.flags.writeable
    np.testing.assert_allclose(pool, expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(bald(pool, 5)[0], bald(expected, 5)[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool.npy"]


def test_generator_seed_gives_every_chunk_the_same_members(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(120, 3)), rng.integers(3, size=120)
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    pool = write_log_proba_samples(
        forest,
        X,
        tmp_path / "forest.npy",
        n_mc_samples=4,
        random_state=np.random.default_rng(5),
        chunk_size=25,
    )
    # the same 4 of 10 members for every chunk: each row matches one call's rows
    seed = np.random.default_rng(5).integers(0, 2**63 - 1)
    expected = predict_log_proba_samples(forest, X, n_mc_samples=4, random_state=seed)
    np.testing.assert_array_equal(pool, expected)


def test_failure_leaves_nothing_half_written(mlp, X_pool, tmp_path):
    class FailsLate:
        """Rows sliceable, but the third chunk cannot be read."""

        def __len__(self):
            return len(X_pool)

        def __getitem__(self, rows):
            if rows.start >= 200:
                raise OSError("disk gone")
            return X_pool[rows]

    path = tmp_path / "pool.npy"
    path.write_bytes(b"previous")
    with pytest.raises(OSError, match="disk gone"):
        write_log_proba_samples(mlp, FailsLate(), path, random_state=0, chunk_size=100)
    assert path.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool.npy"]


def test_bad_chunk_size(mlp, X_pool, tmp_path):
    with pytest.raises(ValueError, match="chunk_size"):
        write_log_proba_samples(mlp, X_pool, tmp_path / "p.npy", chunk_size=0)
    for bad in (2.5, True):
        with pytest.raises(TypeError, match="chunk_size"):
            write_log_proba_samples(mlp, X_pool, tmp_path / "p.npy", chunk_size=bad)
    assert not list(tmp_path.iterdir())


def test_dask_sampling_is_lazy_chunked_and_equals_one_call(mlp, X_pool):
    X = da.from_array(X_pool, chunks=(64, 16))  # chunked along features too
    log_probs = dask_log_proba_samples(mlp, X, random_state=2)
    assert isinstance(log_probs, da.Array)
    assert log_probs.chunks[0] == X.chunks[0]
    assert log_probs.chunks[1:] == ((8,), (10,))
    expected = predict_log_proba_samples(mlp, X_pool, random_state=2)
    np.testing.assert_allclose(log_probs.compute(), expected, rtol=0, atol=1e-6)
    picks = batchbald(log_probs, 4, random_state=0)[0]
    np.testing.assert_array_equal(picks, batchbald(expected, 4, random_state=0)[0])


def test_predict_log_proba_samples_returns_a_dask_array_for_one(mlp, X_pool):
    X = da.from_array(X_pool, chunks=100)
    log_probs = predict_log_proba_samples(mlp, X, n_mc_samples=3, random_state=0)
    assert isinstance(log_probs, da.Array) and log_probs.chunks[0] == X.chunks[0]
    expected = predict_log_proba_samples(mlp, X_pool, n_mc_samples=3, random_state=0)
    np.testing.assert_allclose(log_probs.compute(), expected, rtol=0, atol=1e-6)


def test_dask_sampling_needs_a_dask_array(mlp, X_pool):
    with pytest.raises(TypeError, match=r"X must be a dask\.array\.Array"):
        dask_log_proba_samples(mlp, X_pool)


def test_tilde_means_the_home_folder(tmp_path, monkeypatch):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.integers(3, size=30)
    forest = RandomForestClassifier(n_estimators=4, random_state=0).fit(X, y)
    pool = write_log_proba_samples(forest, X, "~/pool.npy", chunk_size=10)
    assert str(pool.filename) == str(home / "pool.npy")
    assert sorted(p.name for p in home.iterdir()) == ["pool.npy"]
    assert not any(cwd.iterdir())  # no folder literally named "~"


class _Counting:
    """Counts the rows the predict_proba of a model's class is asked for."""

    def __init__(self, model):
        self.model, self.rows = model, 0

    def wrap(self, monkeypatch):
        original = type(self.model).predict_proba

        def counted(model, X):
            self.rows += len(X)
            return original(model, X)

        monkeypatch.setattr(type(self.model), "predict_proba", counted)


def _forest_learner():
    from skbatchbald import ActiveLearner, BatchBALDQuery

    rng = np.random.default_rng(0)
    X = rng.standard_normal((4000, 6)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.standard_normal(4000) > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X[:60], y[:60])
    learner = ActiveLearner(forest, BatchBALDQuery(random_state=0))
    learner.X_training, learner.y_training = X[:60], y[:60]
    return learner, X[60:]  # the pool: the rows not labelled


def test_a_dask_pool_is_sampled_once_per_query(monkeypatch):
    # left lazy, every greedy step sampled the pool again (14 passes for a
    # batch of 20 in a user trial)
    learner, X = _forest_learner()
    tree = _Counting(learner.estimator.estimators_[0])
    tree.wrap(monkeypatch)
    expected, _ = learner.query(X, n_instances=8)
    in_memory = tree.rows
    tree.rows = 0
    picks, _ = learner.query(da.from_array(X, chunks=(500, 6)), n_instances=8)
    np.testing.assert_array_equal(picks, expected)
    assert in_memory == 10 * len(X)  # each of the 10 trees over the pool once
    assert tree.rows <= in_memory + 100  # and a probe of a few rows


def test_samples_too_big_to_keep_stay_lazy_with_a_warning(monkeypatch):
    from skbatchbald import SkbatchbaldWarning, query

    learner, X = _forest_learner()
    monkeypatch.setattr(query, "_available_memory", lambda: 1000)
    monkeypatch.setattr(query, "_on_cluster", lambda: False)  # another test's
    with pytest.warns(SkbatchbaldWarning, match="each greedy step samples the pool"):
        picks, _ = learner.query(da.from_array(X, chunks=(500, 6)), n_instances=4)
    assert len(set(picks.tolist())) == 4
    monkeypatch.setattr(query, "_available_memory", lambda: None)  # unmeasured
    with pytest.warns(SkbatchbaldWarning, match="memory that cannot be measured"):
        learner.query(da.from_array(X, chunks=(500, 6)), n_instances=4)
