"""A tiny experiment run once through the command line, shared by the tests."""

import numpy as np
import pytest

from skbatchbald.experiment import ExperimentConfig
from skbatchbald.experiment.cli import main

# Small enough to take a few seconds: 2 paired trials, 20 -> 45 labels.
TINY = [
    "--dataset", "repeated_digits",
    "--strategies", "batchbald", "bald", "random",
    "--batch-size", "10",
    "--budget", "45",
    "--trials", "2",
    "--mc-samples", "4",
    "--joint-samples", "200",
    "--eval-samples", "2",
    "--validation-size", "60",
    "--test-size", "150",
    "--max-epochs", "3",
    "--epoch-size", "64",
    "--seed", "7",
]  # fmt: skip


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """(folder, results DataFrame, config) of the tiny run."""
    import pandas as pd

    folder = tmp_path_factory.mktemp("tiny")
    assert main(["run", *TINY, "--output", str(folder), "--quiet"]) == 0
    results = pd.read_csv(folder / "results.csv")
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
        max_epochs=3,
        epoch_size=64,
        seed=7,
    )
    return folder, results, config


@pytest.fixture
def rng():
    return np.random.default_rng(0)
