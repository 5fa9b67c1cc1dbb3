"""Summaries and the report re-rendered from saved files."""

import numpy as np
import pandas as pd
import pytest

from skbatchbald.experiment import summarize, write_report
from skbatchbald.experiment._results import (
    complete_trials,
    load_results,
    summary_markdown,
)


def _curves(accuracies):
    """A results table from {strategy: [[acc per round] per trial]}."""
    rows = []
    for strategy, trials in accuracies.items():
        for trial, curve in enumerate(trials):
            for r, acc in enumerate(curve):
                rows.append(
                    {
                        "strategy": strategy,
                        "trial": trial,
                        "round": r,
                        "n_labels": 20 + 10 * r,
                        "test_accuracy": acc,
                        "training_seconds": 1.0,
                        "acquisition_seconds": np.nan if r == 0 else 3.0,
                        "class_entropy": 2.0,
                        "copies_in_batch": r % 2,
                    }
                )
    return pd.DataFrame(rows)


def test_labels_needed_percentiles_and_not_reached():
    results = _curves(
        {
            "random": [[0.5, 0.6, 0.9], [0.5, 0.9, 0.9], [0.5, 0.6, 0.7], [0.9] * 3],
            "batchbald": [[0.5, 0.9, 0.9]] * 4,
        }
    )
    tables = summarize(results, thresholds=(0.9,))
    # reached at 40, 30, never, 20 labels; 25th percentile 27.5 rounds to 28
    assert tables["labels"].loc["random", "90 %"] == "28/35/>40"
    assert tables["labels"].loc["batchbald", "90 %"] == "30/30/30"
    assert list(tables["labels"].index) == ["random", "batchbald"]


def test_paired_differences_against_batchbald():
    results = _curves(
        {
            "batchbald": [[0.5, 0.8], [0.5, 0.9], [0.5, 0.7]],
            "bald": [[0.5, 0.7], [0.5, 0.9], [0.5, 0.8]],
        }
    )
    paired = summarize(results, thresholds=(0.8,))["paired"]
    assert list(paired.index) == ["bald"]
    # final differences +10, 0, -10 points: mean 0, sd 10
    assert paired.loc["bald", "batchbald - it (final), points"] == "+0.0 ± 10.0"
    assert paired.loc["bald", "wins of batchbald (final)"] == "1/1/1"
    # +10 and -10 points: symmetric, the signed-rank test sees no difference
    assert paired.loc["bald", "p (final)"] == "1"


def test_signed_rank_p_value_of_consistent_wins():
    better = [[0.5, 0.8 + 0.01 * t] for t in range(8)]
    worse = [[0.5, 0.7]] * 8
    paired = summarize(_curves({"batchbald": better, "random": worse}), (0.8,))
    # 8 of 8 positive differences: exact two-sided p = 2 / 2**8
    assert paired["paired"].loc["random", "p (final)"] == "0.0078"


def test_time_to_accuracy_relative_to_the_reference():
    results = _curves({"batchbald": [[0.5, 0.9]], "random": [[0.5, 0.6, 0.9]]})
    time = summarize(results, thresholds=(0.9,))["time"]
    # batchbald: 1 + 1 + 3 s; random: 1 + 4 + 4 s
    assert time.loc["batchbald", "90 %"] == "5.0 s (x1.00)"
    assert time.loc["random", "90 %"] == "9.0 s (x1.80)"


def test_batch_table_ignores_the_initial_set():
    results = _curves({"random": [[0.5, 0.6, 0.7]]})
    batches = summarize(results, thresholds=(0.9,))["batches"]
    assert batches.loc["random", "copies per batch"] == pytest.approx(0.5)
    assert batches.loc["random", "acquisition s/round"] == pytest.approx(3.0)


def test_report_recreates_the_summary_from_files(tiny_run):
    folder, results, config = tiny_run
    saved = (folder / "summary.md").read_text()
    assert write_report(folder) == saved
    assert (folder / "summary.md").read_text() == saved
    assert summary_markdown(results, config) == saved
    assert "| batchbald" in saved and "80 %" in saved
    # text cells (p-values, percentile ranges) are printed as computed, not
    # re-parsed as numbers and rounded by tabulate
    paired = summarize(results, config.resolved_thresholds)["paired"]
    for p_value in paired["p (final)"]:
        assert f"| {p_value} " in saved
    for name in ("learning_curve.png", "class_entropy.png"):
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_load_results_round_trips(tiny_run):
    folder, results, config = tiny_run
    loaded, loaded_config = load_results(folder)
    assert loaded_config == config
    pd.testing.assert_frame_equal(loaded, results)


def test_report_on_a_folder_without_results(tmp_path):
    with pytest.raises(ValueError, match=r"results\.csv or config\.json"):
        write_report(tmp_path)


def test_incomplete_trials_are_left_out(tiny_run):
    _, results, config = tiny_run
    cut = results.iloc[:-2]  # the last strategy of trial 1 stops early
    kept, dropped = complete_trials(cut, config)
    assert dropped == [1]
    assert set(kept["trial"]) == {0}
    assert "Trial 1 did not finish" in summary_markdown(cut, config)


def test_summary_needs_one_finished_trial(tiny_run):
    _, results, config = tiny_run
    first_rounds = results[results["round"] < 2]
    with pytest.raises(ValueError, match="no trial has finished every strategy"):
        summary_markdown(first_rounds, config)
