"""On a dask.distributed LocalCluster of 2 worker processes: acquisition and
sampling give one process's results, survive a worker's death, and say so when
every worker is lost."""

import os
import pickle
import sys

import cloudpickle
import dask.array as da
import numpy as np
import pytest

from skbatchbald import MCDropoutClassifier
from skbatchbald.acquisition import bald, batch_epig, batchbald, epig, mean_std
from skbatchbald.nn import BayesianMLP
from skbatchbald.out_of_core import dask_log_proba_samples
from skbatchbald.sampling import predict_log_proba_samples

# pytest's importlib mode gives this module a name the workers cannot import:
# its helpers travel by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


_META = np.empty((0, 0, 0), np.float32)


def _die_first_time(block, marker):
    """Kill this worker process the first time any block is read."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return block
    os._exit(1)


def _die_always(block):
    os._exit(1)


@pytest.fixture(scope="module")
def pool_values():
    rng = np.random.default_rng(7)
    logits = 1.5 * rng.standard_normal((1200, 16, 5))
    logits -= np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    return logits.astype(np.float32)


def test_acquisition_on_the_cluster_equals_in_memory(dask_client, pool_values):
    pool = dask_client.persist(da.from_array(pool_values, chunks=(150, 16, 5)))
    for acquire in (bald, mean_std):
        np.testing.assert_array_equal(acquire(pool, 9)[0], acquire(pool_values, 9)[0])
    target = pool_values[:40]
    np.testing.assert_array_equal(
        epig(pool, 9, log_probs_target=target)[0],
        epig(pool_values, 9, log_probs_target=target)[0],
    )
    np.testing.assert_array_equal(
        batch_epig(pool, 4, log_probs_target=target, random_state=1)[0],
        batch_epig(pool_values, 4, log_probs_target=target, random_state=1)[0],
    )
    for n_joint_samples in (10_000, 200):  # exact, then sampled phase
        expected = batchbald(
            pool_values, 6, n_joint_samples=n_joint_samples, random_state=3
        )
        got = batchbald(pool, 6, n_joint_samples=n_joint_samples, random_state=3)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_allclose(got[1], expected[1], rtol=0, atol=1e-7)


def test_a_worker_killed_mid_computation_is_retried(dask_client, pool_values, tmp_path):
    marker = str(tmp_path / "died")
    pool = da.from_array(pool_values, chunks=(150, 16, 5)).map_blocks(
        _die_first_time,
        marker,
        meta=_META,  # meta: never called here
    )
    got = bald(pool, 20)
    assert os.path.exists(marker)  # a worker did die
    expected = bald(pool_values, 20)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    dask_client.wait_for_workers(2, timeout=600)  # a nanny restart, under load


def test_losing_every_worker_is_one_clear_error(dask_client, pool_values):
    import dask
    from distributed import Client, LocalCluster
    from distributed.scheduler import KilledWorker

    # A cluster of its own: waiting for the shared cluster's nannies to restart
    # every worker timed out on a loaded machine and broke the tests after it.
    pool = da.from_array(pool_values, chunks=(600, 16, 5)).map_blocks(
        _die_always, meta=_META
    )
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
        client.as_current(),
        pytest.raises(RuntimeError, match="lost the workers") as caught,
    ):
        bald(pool, 3)
    assert isinstance(caught.value.__cause__, KilledWorker)
    assert "\n" not in str(caught.value)


@pytest.fixture(scope="module")
def clf(digits_split):
    return MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        module__n_classes=10,
        max_epochs=2,
        verbose=0,
        random_state=0,
        n_mc_samples=6,
    ).fit(digits_split["X_init"].astype(np.float32), digits_split["y_init"])


def test_sampling_on_the_cluster_equals_one_process(dask_client, clf, digits_split):
    X = digits_split["X_pool"][:400].astype(np.float32)
    log_probs = dask_log_proba_samples(
        clf, da.from_array(X, chunks=(100, 64)), random_state=1
    )
    expected = predict_log_proba_samples(clf, X, random_state=1)
    np.testing.assert_allclose(log_probs.compute(), expected, rtol=0, atol=1e-6)
    # Each call samples the pool again: the estimator moves between workers while
    # they sample (before the estimator travelled as bytes, one of the first few
    # calls lost a block and waited for it forever).
    for _ in range(4):
        np.testing.assert_array_equal(
            batchbald(log_probs, 3, random_state=0)[0],
            batchbald(expected, 3, random_state=0)[0],
        )


def test_the_graph_carries_the_estimator_pickled(clf, digits_split):
    """A worker fetching the estimator from a worker that is sampling with it gets
    bytes, never the module with that worker's dropout hooks on it."""
    X = da.from_array(digits_split["X_pool"][:40].astype(np.float32), chunks=20)
    graph = dask_log_proba_samples(clf, X, random_state=1).__dask_graph__()
    # a constant is the task itself in older Dask, a DataNode's .value in newer
    values = [getattr(task, "value", task) for task in graph.values()]
    carried = [value for value in values if isinstance(value, bytes)]
    assert len(carried) == 1
    assert not any(isinstance(value, MCDropoutClassifier) for value in values)
    clone = pickle.loads(carried[0])
    np.testing.assert_array_equal(
        predict_log_proba_samples(clone, X.compute(), random_state=2),
        predict_log_proba_samples(clf, X.compute(), random_state=2),
    )


def test_sharded_sampling_on_the_dask_backend_equals_one_process(
    dask_client, clf, digits_split
):
    """joblib's dask backend scatters the net to one worker and the other fetches
    it from there, possibly while the first samples its shard."""
    import joblib

    X = digits_split["X_pool"][:600].astype(np.float32)
    expected = clf.predict_log_proba_samples(X, random_state=4, n_jobs=1)
    with joblib.parallel_config(backend="dask"):
        for _ in range(3):
            got = clf.predict_log_proba_samples(X, random_state=4, n_jobs=2)
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
