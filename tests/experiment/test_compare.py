"""Runs at other acquisition sizes side by side: labels and time to accuracy."""

import dataclasses

import pytest

from skbatchbald.experiment import ExperimentConfig
from skbatchbald.experiment._compare import (
    compare_acquisition_sizes,
    joined_by_acquisition_size,
)

from ._curves import curves as _curves


def _run(curves, b, dataset="mnist", budget=None):
    """(results, config) of a run: {strategy: [[accuracy per round] per trial]}."""
    n_rounds = max(len(c) for trials in curves.values() for c in trials) - 1
    config = ExperimentConfig(
        dataset=dataset,
        strategies=tuple(curves),
        batch_size=b,
        budget=20 + b * n_rounds if budget is None else budget,
        n_trials=max(len(trials) for trials in curves.values()),
        thresholds=(0.9, 0.95),
    )
    return _curves(curves, b), config


def _runs():
    ten = _run(
        {"batchbald": [[0.5, 0.9, 0.95]] * 3, "bald": [[0.5, 0.6, 0.9]] * 3}, b=10
    )
    one = _run({"bald": [[0.5, 0.8, 0.9], [0.5, 0.9, 0.9]]}, b=1)
    return [ten, one]


def test_rows_per_strategy_and_acquisition_size_in_the_paper_counting():
    labels = compare_acquisition_sizes(_runs())["labels"]
    assert list(labels.index) == ["batchbald, b = 10", "bald, b = 10", "bald, b = 1"]
    assert labels["trials"].tolist() == ["3", "3", "2"]
    # labelled-set size at 90 % minus the run's own b
    assert labels.loc["batchbald, b = 10", "90 %"] == "20/20/20"
    assert labels.loc["bald, b = 10", "90 %"] == "30/30/30"
    # BALD b = 1 reached 90 % at 22 and 21 labels; "nearest" percentiles of
    # [21, 22] minus 1
    assert labels.loc["bald, b = 1", "90 %"] == "20/20/21"
    assert labels.loc["bald, b = 1", "95 %"] == ">21/>21/>21"
    # the paper's numbers at each run's own b
    assert labels.loc["bald, b = 1", "90 %, paper"] == "85/96/101"
    assert labels.loc["batchbald, b = 10", "95 %, paper"] == "190/200/230"


def test_time_to_accuracy_relative_to_batchbald_at_b_10():
    time = compare_acquisition_sizes(_runs())["time"]
    # batchbald b = 10 at 90 %: round 0 (1 s) + round 1 (1 + 3 s) = 5 s;
    # BALD b = 10 at round 2: 9 s; BALD b = 1: 5 s and 9 s, whose "nearest"
    # median is 5 s, the trial of the labels table's 21 labels (not 7 s)
    column = "wall-clock time to 90 %"
    assert time.loc["batchbald, b = 10", column] == "5.0 s (x1.00)"
    assert time.loc["bald, b = 10", column] == "9.0 s (x1.80)"
    assert time.loc["bald, b = 1", column] == "5.0 s (x1.00)"
    assert time.loc["bald, b = 1", "wall-clock time to 95 %"] == "not reached"
    assert time["trials timed"].tolist() == ["3", "3", "2"]


def test_without_batchbald_at_10_the_first_row_is_the_reference():
    time = compare_acquisition_sizes(_runs()[1:])["time"]
    assert time.loc["bald, b = 1", "wall-clock time to 90 %"] == "5.0 s (x1.00)"


def test_runs_without_a_complete_trial_are_left_out():
    under_way = _run({"batchbald": [[0.5, 0.6]]}, b=40, budget=340)
    tables = compare_acquisition_sizes([*_runs(), under_way])
    assert "batchbald, b = 40" not in tables["labels"].index
    with pytest.raises(ValueError, match="no run has a complete trial yet"):
        compare_acquisition_sizes([under_way])


def test_other_data_sets_or_clocks_are_refused():
    digits = _run({"bald": [[0.5, 0.9]]}, b=5, dataset="repeated_digits")
    with pytest.raises(ValueError, match="one data set; got mnist, repeated_digits"):
        compare_acquisition_sizes([*_runs(), digits])
    results, config = _run({"bald": [[0.5, 0.9]]}, b=5)
    results = results.assign(
        training_cpu_seconds=1.0, acquisition_cpu_seconds=results.acquisition_seconds
    )
    with pytest.raises(ValueError, match=r"clocks \['CPU', 'wall-clock'\]"):
        compare_acquisition_sizes([*_runs(), (results, config)])


def test_runs_timed_on_other_devices_are_refused():
    results, config = _run({"bald": [[0.5, 0.9]]}, b=5)
    results = results.assign(device="cuda")
    with pytest.raises(
        ValueError, match=r"clocks \['wall-clock', 'wall-clock \(cuda\)'\]"
    ):
        compare_acquisition_sizes([*_runs(), (results, config)])
    time = compare_acquisition_sizes([(results, config)])["time"]
    assert list(time.columns) == [
        "trials timed",
        "wall-clock (cuda) time to 90 %",
        "wall-clock (cuda) time to 95 %",
    ]


def test_joined_rows_are_renamed_for_the_plots():
    joined = joined_by_acquisition_size(_runs())
    assert joined.groupby("strategy", sort=False).size().to_dict() == {
        "batchbald, b = 10": 9,
        "bald, b = 10": 9,
        "bald, b = 1": 6,
    }


def test_the_same_strategy_at_the_same_size_twice_is_refused():
    ten = _runs()[0]
    expected = "two runs hold bald, b = 10, batchbald, b = 10; runs"
    with pytest.raises(ValueError, match=expected):
        compare_acquisition_sizes([ten, ten])


def test_other_thresholds_are_refused():
    results, config = _run({"bald": [[0.5, 0.9]]}, b=5)
    config = dataclasses.replace(config, thresholds=(0.8,))
    with pytest.raises(ValueError, match="same thresholds, clock and device"):
        compare_acquisition_sizes([*_runs(), (results, config)])
