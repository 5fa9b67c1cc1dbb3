"""A tiny experiment run once through the command line, shared by the tests."""

import numpy as np
import pytest

from skbatchbald.experiment import ExperimentConfig
from skbatchbald.experiment._store import TIMING
from skbatchbald.experiment.cli import main

# Small enough to take a few seconds: 2 paired trials, 20 -> 45 labels.
TINY = [
    "--dataset", "repeated_digits",
    "--strategies", "batchbald", "bald", "random",
    "--batch-size", "10",
    "--budget", "45",
    "--n-trials", "2",
    "--n-mc-samples", "4",
    "--n-joint-samples", "200",
    "--eval-mc-samples", "2",
    "--validation-size", "60",
    "--test-size", "150",
    "--training", "early_stopping",
    "--max-epochs", "3",
    "--epoch-size", "64",
    "--seed", "7",
    "--n-jobs", "1",
]  # fmt: skip


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """(folder, results DataFrame, config) of the tiny run."""
    import pandas as pd

    folder = tmp_path_factory.mktemp("tiny")
    assert main(["run", *TINY, "--output", str(folder), "--quiet"]) == 0
    results = pd.read_csv(
        folder / "results.csv",
        dtype={"acquired_labels": str, "acquired_indices": str},
    )
    config = ExperimentConfig(
        dataset="repeated_digits",
        strategies=("batchbald", "bald", "random"),
        batch_size=10,
        budget=45,
        n_trials=2,
        n_mc_samples=4,
        n_joint_samples=200,
        eval_mc_samples=2,
        validation_size=60,
        test_size=150,
        training="early_stopping",
        max_epochs=3,
        epoch_size=64,
        seed=7,
    )
    return folder, results, config


@pytest.fixture
def tiny_argv():
    """The command-line options of the tiny run (without --output)."""
    return list(TINY)


@pytest.fixture
def timing():
    """Columns that differ between two runs of the same rounds."""
    return list(TIMING)


@pytest.fixture
def copy_run():
    """copy_run(folder, destination, keep=None): a copy of a run's files."""
    return _copy_run


def _copy_run(folder, destination, keep=None):
    """Copy a run's config.json and results.csv, only the rows ``keep`` selects."""
    import pandas as pd

    destination.mkdir(parents=True, exist_ok=True)
    (destination / "config.json").write_bytes((folder / "config.json").read_bytes())
    results = pd.read_csv(folder / "results.csv", dtype=str, keep_default_na=False)
    if keep is not None:
        results = results[keep(results)]
    results.to_csv(destination / "results.csv", index=False)
    return destination


@pytest.fixture
def rng():
    return np.random.default_rng(0)
