"""run_experiment end to end on a tiny Repeated-digits run."""

import dataclasses
import json
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from skbatchbald.acquisition import SaturationWarning
from skbatchbald.experiment import ExperimentConfig, _protocol, run_experiment
from skbatchbald.experiment._splits import load_source, make_trial
from skbatchbald.experiment._store import COLUMNS, TIMING


def test_columns_and_size(tiny_run):
    _, results, config = tiny_run
    assert tuple(results.columns) == COLUMNS
    # 3 strategies x 2 trials x (20, 30, 40, 45 labels)
    assert len(results) == 3 * 2 * 4
    assert set(results["strategy"]) == {"batchbald", "bald", "random"}
    assert (results["dataset"] == "repeated_digits").all()
    assert (results["model"] == "mlp").all()
    assert results["test_accuracy"].between(0, 1).all()
    assert (results["n_epochs"] <= config.max_epochs).all()
    assert (results["best_epoch"] <= results["n_epochs"]).all()


def test_labelled_sizes_grow_to_the_budget(tiny_run):
    _, results, _ = tiny_run
    for _, curve in results.groupby(["strategy", "trial"]):
        sizes = curve.sort_values("round")["n_labels"].tolist()
        # the last batch is cut to 5 so that the budget is met, never passed
        assert sizes == [20, 30, 40, 45]
        batches = curve.sort_values("round")["acquired_labels"].str.split()
        assert [len(b) for b in batches] == [20, 10, 10, 5]


def test_round_zero_is_paired_and_trials_differ(tiny_run):
    _, results, _ = tiny_run
    first = results[results["round"] == 0]
    for _, rows in first.groupby("trial"):
        # same initial set and same model seed: same labels, same accuracy
        assert rows["acquired_labels"].nunique() == 1
        assert rows["test_accuracy"].nunique() == 1
    # a balanced initial set: 2 labels of each class
    for labels in first["acquired_labels"]:
        counts = np.bincount(np.array(labels.split(), dtype=int), minlength=10)
        assert counts.tolist() == [2] * 10
    by_trial = first.groupby("trial")["acquired_labels"].first()
    accuracy = first.groupby("trial")["test_accuracy"].first()
    assert by_trial[0] != by_trial[1] or accuracy[0] != accuracy[1]


def test_batch_statistics(tiny_run):
    _, results, _ = tiny_run
    for row in results.itertuples():
        labels = np.array(row.acquired_labels.split(), dtype=int)
        p = np.bincount(labels) / len(labels)
        p = p[p > 0]
        assert row.class_entropy == pytest.approx(-(p * np.log(p)).sum())
        assert 0 <= row.copies_in_batch < len(labels)
    acquired = results[results["round"] > 0]
    assert acquired["acquisition_seconds"].gt(0).all()
    assert results.loc[results["round"] == 0, "acquisition_seconds"].isna().all()


def test_seeds_reproduce_the_run(tiny_run):
    _, results, config = tiny_run
    # Seeds depend on (seed, trial, round) only: BALD alone, trial 1 alone
    # (as a second process would run it) reproduces its rows.
    again = run_experiment(
        dataclasses.replace(config, strategies=("bald",), first_trial=1, n_trials=1)
    )
    expected = results[(results["strategy"] == "bald") & (results["trial"] == 1)]
    expected = expected.reset_index(drop=True)
    pd.testing.assert_frame_equal(
        again.drop(columns=list(TIMING)), expected.drop(columns=list(TIMING))
    )


def test_config_json_records_options_and_versions(tiny_run):
    folder, _, config = tiny_run
    document = json.loads((folder / "config.json").read_text())
    assert ExperimentConfig.from_dict(document["config"]) == config
    assert document["versions"]["torch"].startswith("2.")
    assert document["versions"]["skbatchbald"]
    assert document["machine"]["torch_threads"] == 1
    assert document["resolved"]["n_rounds"] == 3
    assert document["runs"][0]["trials"] == [0, 1]


def test_non_repeated_data_has_no_copy_count():
    config = ExperimentConfig(
        dataset="digits",
        strategies=("max_entropy",),
        budget=25,
        batch_size=5,
        n_trials=1,
        n_mc_samples=3,
        eval_mc_samples=1,
        validation_size=30,
        test_size=50,
        training="early_stopping",
        max_epochs=1,
        epoch_size=32,
        model="cnn",
    )
    results = run_experiment(config)
    assert results["copies_in_batch"].isna().all()
    assert results["n_labels"].tolist() == [20, 25]
    assert (results["model"] == "cnn").all()


def test_rejects_a_config_of_the_wrong_type():
    with pytest.raises(TypeError, match="ExperimentConfig"):
        run_experiment({"budget": 30})


def test_budget_larger_than_the_pool():
    config = ExperimentConfig(dataset="digits", budget=1700, test_size=500)
    with pytest.raises(ValueError, match="budget=1700"):
        run_experiment(config)


def test_saturation_warnings_become_a_column(monkeypatch):
    def saturating(learner, X_pool, n_instances):
        warnings.warn("score reached log K", SaturationWarning, stacklevel=2)
        warnings.warn("something else", RuntimeWarning, stacklevel=2)
        return np.arange(n_instances), np.zeros(n_instances)

    monkeypatch.setattr(_protocol, "_make_strategy", lambda *args: saturating)
    config = ExperimentConfig(
        dataset="digits",
        strategies=("batchbald",),
        budget=30,
        n_trials=1,
        eval_mc_samples=1,
        training="early_stopping",
        max_epochs=1,
        epoch_size=32,
    )
    with pytest.warns(RuntimeWarning, match="something else"):
        results = _protocol.run_experiment(config)
    assert pd.isna(results["saturated"].iloc[0])
    assert results["saturated"].tolist()[1:] == [True]


def test_tiny_run_records_saturation_as_booleans(tiny_run):
    _, results, _ = tiny_run
    acquired = results[results["round"] > 0]
    assert set(acquired["saturated"]) <= {True, False}
    assert not acquired.loc[acquired["strategy"] != "batchbald", "saturated"].any()
    assert results.loc[results["round"] == 0, "saturated"].isna().all()


def test_split_keeps_test_and_validation_out_of_the_pool():
    config = ExperimentConfig(
        dataset="repeated_digits", pool_size=100, validation_size=50, budget=30
    )
    source = load_source(config)
    data = make_trial(config, source, trial=3)
    assert data.X_pool.shape == (300, 64)
    # every pool image comes with its 3 noisy copies
    _, counts = np.unique(data.pool_source, return_counts=True)
    assert counts.tolist() == [3] * 100
    # test and validation images are originals that have no copy in the pool
    pool_images = source.X[np.unique(data.pool_source)]
    for held_out in (data.X_test, data.X_val):
        distance = np.abs(held_out[:, None, :] - pool_images[None]).sum(-1)
        assert distance.min() > 0
    assert len(data.X_test) == 500 and len(data.X_val) == 50
    again = make_trial(config, source, trial=3)
    np.testing.assert_array_equal(again.X_pool, data.X_pool)
    other = make_trial(config, source, trial=4)
    assert not np.array_equal(other.initial, data.initial) or not (
        np.array_equal(other.pool_source, data.pool_source)
    )


@pytest.mark.slow  # a whole (small) experiment
def test_a_curve_stops_at_the_stop_accuracy():
    config = ExperimentConfig(
        dataset="digits",
        strategies=("random", "bald"),
        budget=40,
        n_trials=1,
        n_mc_samples=2,
        eval_mc_samples=1,
        validation_size=30,
        test_size=50,
        training="early_stopping",
        max_epochs=1,
        epoch_size=32,
        stop_accuracy=0.01,
    )
    results = run_experiment(config)
    # any trained model beats 1 % accuracy: every curve ends after round 0
    assert results["round"].tolist() == [0, 0]


@pytest.mark.slow  # trains a network
@pytest.mark.parametrize("mc_validation", [True, False])
def test_validation_scoring_mc_or_deterministic(mc_validation):
    from skorch import NeuralNetClassifier

    from skbatchbald.experiment._model import make_model

    config = ExperimentConfig(
        dataset="digits", validation_size=200, max_epochs=1, eval_mc_samples=3,
        mc_validation=mc_validation, training="early_stopping",
    )  # fmt: skip
    source = load_source(config)
    data = make_trial(config, source, 0)
    model = make_model(config, data, 8, seed=0)
    model.fit(data.X_pool[:200], data.y_pool[:200])
    deterministic = NeuralNetClassifier.predict_proba(model, data.X_val).argmax(1)
    mc = model.predict_proba(data.X_val).argmax(1)
    expected = deterministic if not mc_validation else mc
    y_val = np.searchsorted(data.classes, data.y_val)
    assert model.history[-1, "valid_acc"] == pytest.approx(np.mean(expected == y_val))
    assert not np.array_equal(deterministic, mc)  # the two differ on these data


def test_cpu_time_columns(tiny_run):
    _, results, _ = tiny_run
    assert (results["training_cpu_seconds"] > 0).all()
    assert (results["test_cpu_seconds"] >= 0).all()
    acquired = results["round"] > 0
    assert (results.loc[acquired, "acquisition_cpu_seconds"] >= 0).all()
    assert results.loc[~acquired, "acquisition_cpu_seconds"].isna().all()


def test_cpu_clock_leaves_out_waiting():
    with _protocol._Clock() as clock:
        time.sleep(0.3)
    assert clock.seconds >= 0.3
    assert clock.cpu_seconds < 0.1


def test_the_runs_go_on_greedily_after_saturation_as_the_papers_code():
    config = ExperimentConfig(dataset="digits", strategies=("batchbald", "bald"))
    batchbald = _protocol._make_strategy("batchbald", config, 0, None)
    assert batchbald.on_saturation == "greedy"
    assert (
        "on_saturation"
        not in _protocol._make_strategy("bald", config, 0, None).get_params()
    )
