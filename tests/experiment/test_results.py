"""Summaries as numbers, their text, and the report re-rendered from saved files."""

import math
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from skbatchbald.experiment import format_summary, summarize, write_report
from skbatchbald.experiment._format import _title, summary_markdown
from skbatchbald.experiment._results import complete_trials, load_results

from ._curves import curves as _curves


def test_labels_needed_nearest_percentiles_in_both_countings():
    results = _curves(
        {
            "random": [[0.5, 0.6, 0.9], [0.5, 0.9, 0.9], [0.5, 0.6, 0.7], [0.9] * 3],
            "batchbald": [[0.5, 0.9, 0.9]] * 4,
        }
    )
    summary = summarize(results, thresholds=(0.9,))
    assert summary.batch_size == 10
    sizes = summary.labels.loc[("set size", "random"), 0.9]
    # reached at 40, 30, never, 20 labels; numpy's "nearest" on the sorted
    # [20, 30, 40, inf] picks ranks 0.75 -> 1, 1.5 -> 2 (round half to even), 2.25 -> 2
    expected = np.percentile([40, 30, np.inf, 20], [25, 50, 75], method="nearest")
    assert sizes.tolist() == expected.tolist() == [30, 40, 40]
    paper = summary.labels.loc[("paper", "random"), 0.9]
    assert paper.tolist() == [20, 30, 30]  # set size minus b
    tables = format_summary(summary)
    assert tables["labels_set_size"].loc["random", "90 %"] == "30/40/40"
    assert tables["labels"].loc["random", "90 %"] == "20/30/30"
    assert tables["labels"].loc["batchbald", "90 %"] == "20/20/20"
    assert list(tables["labels"].index) == ["random", "batchbald"]


def test_not_reached_is_shown_past_the_last_size():
    results = _curves({"random": [[0.5, 0.6]] * 3, "batchbald": [[0.5, 0.95]] * 3})
    summary = summarize(results, thresholds=(0.9,))
    assert math.isinf(summary.labels.loc[("paper", "random"), (0.9, 50)])
    tables = format_summary(summary)
    assert tables["labels_set_size"].loc["random", "90 %"] == ">30/>30/>30"
    assert tables["labels"].loc["random", "90 %"] == ">20/>20/>20"
    assert tables["time"].loc["random", "90 %"] == "not reached"


def test_the_paper_numbers_stand_beside_ours_for_its_settings():
    results = _curves({"batchbald": [[0.5, 0.95]] * 2, "bald": [[0.5, 0.8]] * 2})
    tables = format_summary(summarize(results, (0.9, 0.95)), dataset="mnist")
    labels = tables["labels"]
    assert labels.loc["batchbald", "90 %, paper"] == "70/90/110"
    assert labels.loc["bald", "95 %, paper"] == "250/250/>300"
    # the plain set-size table has no paper column: the paper counts differently
    assert "90 %, paper" not in tables["labels_set_size"]
    digits = format_summary(summarize(results, (0.9,)), dataset="repeated_digits")
    assert list(digits["labels"].columns) == ["90 %"]


def test_the_paper_numbers_follow_the_acquisition_size():
    # BALD one point a round and BatchBALD at b = 40: the paper's figure of
    # acquisition sizes; it reports no BALD at b = 40.
    one = _curves({"bald": [[0.5, 0.95]] * 2}, b=1)
    labels = format_summary(summarize(one, (0.9, 0.95)), dataset="mnist")["labels"]
    assert labels.loc["bald", "95 %, paper"] == "197/206/226"
    forty = _curves({"batchbald": [[0.5, 0.95]] * 2, "bald": [[0.5, 0.9]] * 2}, b=40)
    labels = format_summary(summarize(forty, (0.9,)), dataset="mnist")["labels"]
    assert labels.loc["batchbald", "90 %, paper"] == "100/100/140"
    assert labels.loc["bald", "90 %, paper"] == ""


def test_the_batch_size_is_inferred_or_given():
    results = _curves({"random": [[0.5, 0.9]]}, b=5)
    assert summarize(results, (0.9,)).batch_size == 5
    summary = summarize(results, (0.9,), batch_size=10)
    assert summary.labels.loc[("paper", "random"), (0.9, 50)] == 15


def test_paired_differences_against_batchbald():
    results = _curves(
        {
            "batchbald": [[0.5, 0.8], [0.5, 0.9], [0.5, 0.7]],
            "bald": [[0.5, 0.7], [0.5, 0.9], [0.5, 0.8]],
        }
    )
    summary = summarize(results, thresholds=(0.8,))
    row = summary.paired.loc["bald"]
    # final differences +10, 0, -10 points: mean 0, sd 10
    assert row[("final", "mean")] == pytest.approx(0.0, abs=1e-9)
    assert row[("final", "sd")] == pytest.approx(10.0)
    assert [row[("final", k)] for k in ("wins", "ties", "losses")] == [1, 1, 1]
    # +10 and -10 points: symmetric, the signed-rank test sees no difference
    assert row[("final", "p")] == pytest.approx(1.0)
    paired = format_summary(summary)["paired"]
    assert list(paired.index) == ["bald"]
    assert paired.loc["bald", "batchbald - it (final), points"] == "+0.0 ± 10.0"
    assert paired.loc["bald", "wins of batchbald (final)"] == "1/1/1"
    assert paired.loc["bald", "p (final)"] == "1"


def test_signed_rank_p_value_of_consistent_wins():
    better = [[0.5, 0.8 + 0.01 * t] for t in range(8)]
    worse = [[0.5, 0.7]] * 8
    summary = summarize(_curves({"batchbald": better, "random": worse}), (0.8,))
    # 8 of 8 positive differences: exact two-sided p = 2 / 2**8
    assert summary.paired.loc["random", ("final", "p")] == pytest.approx(2 / 2**8)
    assert format_summary(summary)["paired"].loc["random", "p (final)"] == "0.0078"


def test_time_to_accuracy_relative_to_the_reference():
    results = _curves({"batchbald": [[0.5, 0.9]], "random": [[0.5, 0.6, 0.9]]})
    summary = summarize(results, thresholds=(0.9,))
    # batchbald: 1 + 1 + 3 s; random: 1 + 4 + 4 s
    assert summary.time.loc["batchbald", 0.9] == pytest.approx(5.0)
    assert summary.time.loc["random", 0.9] == pytest.approx(9.0)
    time = format_summary(summary)["time"]
    assert time.loc["batchbald", "90 %"] == "5.0 s (x1.00)"
    assert time.loc["random", "90 %"] == "9.0 s (x1.80)"


def test_batch_table_ignores_the_initial_set():
    results = _curves({"random": [[0.5, 0.6, 0.7]]})
    batches = summarize(results, thresholds=(0.9,)).batches
    assert batches.loc["random", "copies per batch"] == pytest.approx(0.5)
    assert batches.loc["random", "acquisition s/round"] == pytest.approx(3.0)


def test_report_recreates_the_summary_from_files(tiny_run):
    folder, results, config = tiny_run
    saved = (folder / "summary.md").read_text()
    assert write_report(folder) == saved
    assert (folder / "summary.md").read_text() == saved
    assert summary_markdown(results, config) == saved
    assert "| batchbald" in saved and "80 %" in saved
    assert "the paper's counting" in saved and "labelled-set size" in saved
    for name in ("learning_curve.png", "class_entropy.png"):
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_without_matplotlib_says_so(tiny_run, tmp_path, monkeypatch, copy_run):
    folder, _, _ = tiny_run
    target = copy_run(folder, tmp_path / "run")
    monkeypatch.delitem(sys.modules, "skbatchbald.experiment._plots", raising=False)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails
    text = write_report(target)
    assert "No plots: matplotlib is not installed" in text
    assert not (target / "learning_curve.png").exists()


def test_plots_leave_the_matplotlib_backend_alone(tiny_run, tmp_path, copy_run):
    import matplotlib

    folder, _, _ = tiny_run
    before = matplotlib.get_backend()
    write_report(copy_run(folder, tmp_path / "run"))
    assert matplotlib.get_backend() == before


def test_load_results_round_trips(tiny_run):
    folder, results, config = tiny_run
    loaded, loaded_config = load_results(folder)
    assert loaded_config == config
    pd.testing.assert_frame_equal(loaded, results)
    assert set(loaded["device"]) == {"cpu"}


def test_rows_without_a_device_ran_on_the_cpu(tiny_run, tmp_path, copy_run):
    folder, results, _ = tiny_run
    target = copy_run(folder, tmp_path / "old")
    csv = target / "results.csv"
    pd.read_csv(csv).drop(columns="device").to_csv(csv, index=False)
    loaded, _ = load_results(target)
    pd.testing.assert_frame_equal(loaded, results)


def test_strategy_names_of_before_the_rename_are_refused(tiny_run, tmp_path, copy_run):
    # No compatibility mapping in an unreleased version: a folder naming a
    # strategy "varratios" is an error that names it, not silently renamed.
    folder, _, _ = tiny_run
    target = copy_run(folder, tmp_path / "run")
    path = target / "config.json"
    path.write_text(path.read_text().replace('"random"', '"varratios"'))
    with pytest.raises(ValueError, match="varratios"):
        load_results(target)


def test_report_on_a_folder_without_results(tmp_path):
    with pytest.raises(ValueError, match=r"results\.csv or config\.json"):
        write_report(tmp_path)


def test_report_on_a_foreign_csv(tiny_run, tmp_path):
    folder, _, _ = tiny_run
    (tmp_path / "config.json").write_bytes((folder / "config.json").read_bytes())
    (tmp_path / "results.csv").write_text("accuracy,labels\n0.9,20\n")
    with pytest.raises(ValueError, match="lacks the columns strategy, trial"):
        write_report(tmp_path)


def test_incomplete_trials_are_left_out(tiny_run):
    _, results, config = tiny_run
    cut = results.iloc[:-2]  # the last strategy of trial 1 stops early
    kept, dropped = complete_trials(cut, config)
    assert dropped == [1]
    assert set(kept["trial"]) == {0}
    assert "Trial 1 did not finish" in summary_markdown(cut, config)


def test_a_curve_stopped_at_the_stop_accuracy_is_complete(tiny_run):
    import dataclasses

    _, results, config = tiny_run
    first = results[results["round"] < 2]
    stop = float(first["test_accuracy"].min())
    kept, dropped = complete_trials(
        first, dataclasses.replace(config, stop_accuracy=stop)
    )
    assert dropped == [] and len(kept) == len(first)


def test_summary_of_a_run_under_way_is_its_progress(tiny_run):
    _, results, config = tiny_run
    first_rounds = results[results["round"] < 2]
    text = summary_markdown(first_rounds, config)
    assert "No trial has finished every strategy yet" in text
    assert "0 complete paired trials" in text
    assert "## Progress" in text and "Labels to reach" not in text
    assert "(finished)" not in text and "30 labels, " in text


def test_progress_of_each_curve(tiny_run):
    import dataclasses

    from skbatchbald.experiment._format import format_progress

    _, results, config = tiny_run
    cut = results.iloc[:-2]  # the last strategy of trial 1 loses its last 2 rounds
    last = cut.iloc[-1]
    table = format_progress(cut, dataclasses.replace(config, n_trials=3))
    assert list(table.columns) == ["trial 0", "trial 1", "trial 2"]
    assert list(table.index) == list(config.strategies)
    assert all(cell.endswith("(finished)") for cell in table["trial 0"])
    assert table.loc[last["strategy"], "trial 1"] == (
        f"{last['n_labels']} labels, {last['test_accuracy']:.4f}"
    )
    others = table["trial 1"].drop(last["strategy"])
    assert all(cell.endswith("(finished)") for cell in others)
    assert set(table["trial 2"]) == {"not started"}
    text = summary_markdown(cut, config)
    assert "## Progress" in text and "1 complete paired trial " in text
    assert "Trial 1 did not finish every strategy" in text


def test_a_finished_run_has_no_progress_table(tiny_run):
    _, results, config = tiny_run
    text = summary_markdown(results, config)
    assert "## Progress" not in text and "2 complete paired trials" in text


def test_report_of_a_run_under_way(tiny_run, tmp_path, copy_run):
    folder, _, _ = tiny_run
    target = copy_run(
        folder, tmp_path / "run", keep=lambda r: r["round"].astype(int) < 2
    )
    text = write_report(target)
    assert "## Progress" in text and (target / "summary.md").read_text() == text
    assert not (target / "learning_curve.png").exists()


def test_time_on_the_cpu_clock_when_every_row_has_it():
    results = _curves({"batchbald": [[0.5, 0.9]], "random": [[0.5, 0.6, 0.9]]})
    results["training_cpu_seconds"] = 0.5
    results["acquisition_cpu_seconds"] = np.where(results["round"] > 0, 2.0, np.nan)
    summary = summarize(results, thresholds=(0.9,))
    assert summary.clock == "CPU"
    # batchbald: 0.5 + (0.5 + 2) s; random: 0.5 + (0.5 + 2) + (0.5 + 2) s
    assert summary.time.loc["batchbald", 0.9] == pytest.approx(3.0)
    assert summary.time.loc["random", 0.9] == pytest.approx(5.5)
    assert summary.batches.loc["random", "acquisition CPU s/round"] == 2.0
    # one row without CPU time (an older version's): wall-clock for all
    results.loc[3, "training_cpu_seconds"] = np.nan
    summary = summarize(results, thresholds=(0.9,))
    assert summary.clock == "wall-clock" and summary.n_timed == 1
    assert summary.time.loc["batchbald", 0.9] == pytest.approx(5.0)


def test_time_over_the_trials_timed_on_the_cpu_clock():
    results = _curves({"batchbald": [[0.5, 0.9]] * 2, "random": [[0.5, 0.9]] * 2})
    results["training_cpu_seconds"] = np.where(results["trial"] == 1, 0.5, np.nan)
    results["acquisition_cpu_seconds"] = np.where(results["round"] > 0, 2.0, np.nan)
    results.loc[results["trial"] == 0, "acquisition_cpu_seconds"] = 99.0
    summary = summarize(results, thresholds=(0.9,))
    assert summary.clock == "CPU" and summary.n_timed == 1
    # trial 1 only: 0.5 + (0.5 + 2) s; trial 0 has no training CPU time
    assert summary.time.loc["batchbald", 0.9] == pytest.approx(3.0)
    assert summary.per_trial.query("trial == 0")["seconds"].isna().all()
    assert summary.batches.loc["random", "acquisition CPU s/round"] == 2.0
    title = _title("time", summary)
    assert "CPU seconds, median over the 1 trial timed on it" in title


def test_time_never_mixes_devices():
    results = _curves({"batchbald": [[0.5, 0.9]] * 3, "random": [[0.5, 0.9]] * 3})
    results["training_cpu_seconds"] = 0.5
    results["acquisition_cpu_seconds"] = np.where(results["round"] > 0, 2.0, np.nan)
    results["device"] = np.where(results["trial"] == 0, "cpu", "cuda")
    # trial 2's random curve was resumed on the CPU: on no one device
    results.loc[
        (results["trial"] == 2) & (results["strategy"] == "random"), "device"
    ] = "cpu"
    summary = summarize(results, thresholds=(0.9,))
    assert (summary.clock, summary.device, summary.n_timed) == ("CPU", "cpu", 1)
    assert summary.per_trial.query("trial > 0")["seconds"].isna().all()
    # without a CPU trial, a GPU's trials on the wall clock, never its CPU time
    gpu = results[results["trial"] > 0]
    summary = summarize(gpu, thresholds=(0.9,))
    assert (summary.clock, summary.device, summary.n_timed) == (
        "wall-clock",
        "cuda",
        1,
    )
    assert summary.time.loc["batchbald", 0.9] == pytest.approx(5.0)
    assert "wall-clock (cuda) seconds, median over the 1 trial" in _title(
        "time", summary
    )
    # no trial on one device: nothing is timed, and no warning
    mixed = results[results["trial"] == 2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary = summarize(mixed, thresholds=(0.9,))
    assert summary.n_timed == 0 and summary.time.isna().all().all()


def test_rows_without_a_device_in_memory_are_the_cpu():
    # an older table concatenated with a newer one: NaN devices
    results = _curves({"batchbald": [[0.5, 0.9]] * 2})
    results["device"] = results["trial"].map({0: "cuda", 1: np.nan})
    summary = summarize(results, thresholds=(0.9,))
    assert (summary.device, summary.n_timed) == ("cpu", 1)


def test_the_time_table_names_its_clock(tiny_run):
    _, results, config = tiny_run
    assert "acquisition CPU seconds" in summary_markdown(results, config)
    old = results.drop(columns=["training_cpu_seconds", "acquisition_cpu_seconds"])
    assert "acquisition wall-clock seconds" in summary_markdown(old, config)


def test_a_tilde_folder_is_in_the_home_folder(
    tiny_run, tmp_path, monkeypatch, copy_run
):
    folder, results, _ = tiny_run
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    target = copy_run(folder, home / "run")
    loaded, _ = load_results("~/run")
    pd.testing.assert_frame_equal(loaded, results)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # no plots: faster
    monkeypatch.delitem(sys.modules, "skbatchbald.experiment._plots", raising=False)
    assert write_report("~/run") == (target / "summary.md").read_text()
    assert not any(cwd.iterdir())  # no folder literally named "~"
    with pytest.raises(ValueError) as error:
        load_results("~/elsewhere")
    assert str(error.value).startswith(f"{home / 'elsewhere'} has no results.csv")


def test_time_takes_the_median_trial_as_the_labels_do():
    # two trials: one reached 90 % at round 1, the other never; numpy's
    # "nearest" takes the first trial for both tables (an interpolated
    # median of the times was inf, "not reached", beside 30 labels)
    results = _curves({"batchbald": [[0.5, 0.9], [0.5, 0.6]]})
    summary = summarize(results, thresholds=(0.9,))
    assert summary.labels.loc[("set size", "batchbald"), (0.9, 50)] == 30
    assert summary.time.loc["batchbald", 0.9] == pytest.approx(5.0)
    # and never a time no trial took: 5 s and 9 s give one of them, not 7 s
    results = _curves({"batchbald": [[0.5, 0.9], [0.5, 0.6, 0.9]]})
    summary = summarize(results, thresholds=(0.9,))
    assert summary.time.loc["batchbald", 0.9] in (5.0, 9.0)
    labels = summary.labels.loc[("set size", "batchbald"), (0.9, 50)]
    assert summary.time.loc["batchbald", 0.9] == {30: 5.0, 40: 9.0}[labels]


def test_the_paper_counting_is_never_negative():
    # b = 40 from 20 initial labels: reached at round 0 would count 20 - 40
    results = _curves({"batchbald": [[0.95, 0.95]] * 2, "random": [[0.5]] * 2}, b=40)
    summary = summarize(results, thresholds=(0.9,))
    assert summary.labels.loc[("paper", "batchbald"), 0.9].tolist() == [0, 0, 0]
    stopped = summarize(results[results["round"] == 0], (0.9,), batch_size=40)
    labels = format_summary(stopped)["labels"]
    assert labels.loc["batchbald", "90 %"] == "0/0/0"
    assert labels.loc["random", "90 %"] == ">0/>0/>0"


def test_a_table_of_ones_own_needs_no_time_columns():
    results = _curves({"batchbald": [[0.5, 0.9]] * 2, "random": [[0.5, 0.6]] * 2})
    results = results.drop(columns=["training_seconds", "acquisition_seconds"])
    summary = summarize(results, thresholds=(0.9,))
    assert summary.n_timed == 0 and summary.time.isna().all().all()
    tables = format_summary(summary)
    assert tables["time"].empty and tables["labels"].loc["batchbald", "90 %"]
    with pytest.raises(ValueError) as error:
        summarize(results.drop(columns="test_accuracy"))
    assert str(error.value) == (
        "results lack the columns test_accuracy; summarize needs strategy, "
        "trial, round, n_labels, test_accuracy (one row per strategy, trial and "
        "round)."
    )


def test_report_when_every_curve_stopped_at_round_0(tiny_run, tmp_path, copy_run):
    import json

    folder, results, _ = tiny_run
    target = copy_run(folder, tmp_path / "run", lambda r: r["round"] == "0")
    document = json.loads((target / "config.json").read_text())
    document["config"]["stop_accuracy"] = float(results["test_accuracy"].min())
    (target / "config.json").write_text(json.dumps(document))
    text = write_report(target)
    assert "2 complete paired trials" in text
    assert (target / "summary.md").read_text() == text
    assert (target / "learning_curve.png").exists()
    # no batch acquired: nothing to draw of the acquired classes
    assert not (target / "class_entropy.png").exists()
    assert not (target / "class_histogram.png").exists()


def test_options_this_version_refuses_name_the_config_file(
    tiny_run, tmp_path, copy_run
):
    import json

    folder, _, _ = tiny_run
    target = copy_run(folder, tmp_path / "run")
    path = target / "config.json"
    document = json.loads(path.read_text())
    document["config"]["batch_size"] = 40  # budget 45 holds no whole batch
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError) as error:
        load_results(target)
    assert str(error.value).startswith(f"{path}: budget must be an int >= 60")


def _own_loop():
    """A table of a loop of one's own: two strategies, three paired trials."""
    return _curves(
        {
            "mine": [[0.5, 0.7, 0.9]] * 3,
            "random": [[0.5, 0.6, 0.8]] * 3,
        }
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: r.assign(test_accuracy=100 * r["test_accuracy"]),
            r"test_accuracy must be a fraction in \[0, 1\]; got 50 at mine, trial 0, "
            r"round 0; divide the column by 100\.",
        ),
        (
            lambda r: r.assign(
                test_accuracy=r["test_accuracy"].where(r.index != 4, np.nan)
            ),
            r"test_accuracy is NaN at mine, trial 1, round 1: every recorded round "
            r"needs its accuracy",
        ),
        (
            lambda r: pd.concat([r, r.iloc[[4]].assign(test_accuracy=0.99)]),
            r"mine, trial 1, round 1 is recorded 2 times: keep one row",
        ),
        (
            lambda r: r.assign(round=r["round"] + 1),
            r"mine, trial 0 has rounds \[1, 2, 3\], not 0, 1, 2, \.\.\.: round 0 is "
            r"the initial labelled set .*\(round 0 is missing\)\.",
        ),
        (
            lambda r: r[~((r["strategy"] == "random") & (r["round"] == 1))],
            r"random, trial 0 has rounds \[0, 2\].*\(round 1 is missing\)\.",
        ),
    ],
    ids=["percent", "nan", "twice", "from 1", "gap"],
)
def test_a_table_of_ones_own_loop_that_would_give_wrong_numbers_is_refused(
    change, message
):
    summarize(_own_loop(), thresholds=(0.8,))  # the clean table passes
    with pytest.raises(ValueError, match=message):
        summarize(change(_own_loop()), thresholds=(0.8,))


def test_thresholds_in_percent_are_refused():
    with pytest.raises(ValueError, match=r"in \(0, 1\]; got \[80\.0\]; divide by 100"):
        summarize(_own_loop(), thresholds=(80,))


def test_trials_not_every_strategy_ran_are_named():
    results = _own_loop()
    results = results[~((results["strategy"] == "mine") & (results["trial"] == 2))]
    with pytest.warns(UserWarning, match=r"random alone has trials \[2\]"):
        summary = summarize(results, thresholds=(0.8,))
    assert int(summary.paired.loc["random", ("final", "wins")]) == 2


def test_the_reference_of_the_paired_table_can_be_chosen():
    results = pd.concat(
        [_own_loop(), _curves({"bald": [[0.5, 0.65, 0.85]] * 3})], ignore_index=True
    )
    summary = summarize(results.sort_values("strategy"), thresholds=(0.8,))
    assert summary.reference == "bald"  # the first in the rows' order
    summary = summarize(results, thresholds=(0.8,), reference="mine")
    assert summary.reference == "mine"
    assert sorted(summary.paired.index) == ["bald", "random"]
    with pytest.raises(ValueError, match=r"reference='BALD' is not a strategy"):
        summarize(results, thresholds=(0.8,), reference="BALD")


def test_summarize_edge_cases_are_named():
    results = _own_loop()
    summarize(results, thresholds={0.8})  # a set of thresholds
    with pytest.raises(ValueError, match=r"got \[0\.0, 0\.9\]\.$"):  # no /100
        summarize(results, thresholds=(0, 0.9))
    with pytest.raises(ValueError, match="results hold no rows"):
        summarize(results.iloc[:0])
    with pytest.raises(ValueError, match=r"round is missing for mine, trial 0"):
        summarize(results.assign(round=results["round"].where(results.index != 1)))


def test_thresholds_given_as_a_generator():
    summary = summarize(_own_loop(), thresholds=(t for t in (0.8, 0.9)))
    assert sorted({c[0] for c in summary.labels.columns}) == [0.8, 0.9]
