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
