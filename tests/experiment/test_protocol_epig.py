"""The runner's new strategies: margin, EPIG and batch EPIG, and EPIG's targets."""

import numpy as np

from skbatchbald import query
from skbatchbald.experiment import ExperimentConfig, run_experiment
from skbatchbald.experiment._splits import load_source, make_trial


def tiny_config(**changes):
    options = {
        "dataset": "digits",
        "strategies": ("margin", "epig", "batch_epig"),
        "budget": 30,
        "batch_size": 5,
        "n_trials": 1,
        "n_mc_samples": 3,
        "n_joint_samples": 300,
        "eval_mc_samples": 1,
        "validation_size": 40,
        "test_size": 50,
        "training": "early_stopping",
        "max_epochs": 1,
        "epoch_size": 32,
        "seed": 3,
    }
    return ExperimentConfig(**{**options, **changes})


def test_epig_targets_are_the_validation_inputs(monkeypatch):
    """EPIG's target set is training data held out of the pool, never the test."""
    targets = []
    for cls in (query.EPIGQuery, query.BatchEPIGQuery):
        original = cls._acquire

        def spy(self, *args, _original=original, **kwargs):
            targets.append(self.X_target)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "_acquire", spy)
    config = tiny_config()
    results = run_experiment(config)
    assert sorted(set(results["strategy"])) == ["batch_epig", "epig", "margin"]
    assert (results.groupby("strategy")["n_labels"].max() == 30).all()
    data = make_trial(config, load_source(config), 0)
    assert len(targets) == 4  # 2 rounds x 2 strategies
    for X_target in targets:
        np.testing.assert_array_equal(X_target, data.X_val)
        # no target row is a test image or a pool image
        assert not (X_target[:, None, :] == data.X_test[None]).all(-1).any()
        assert not (X_target[:, None, :] == data.X_pool[None]).all(-1).any()
