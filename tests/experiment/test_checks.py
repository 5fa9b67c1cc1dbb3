"""Saved rows are checked against config.json before a run resumes or reports."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from skbatchbald.experiment import load_results, run_experiment, write_report
from skbatchbald.experiment._merge import joined_results
from skbatchbald.experiment._results import complete_trials
from skbatchbald.experiment.cli import main

DOCS = Path(__file__).resolve().parents[2] / "docs"
REPRODUCTION = DOCS / "_static" / "reproduction"


def _edit(folder, change):
    """Apply ``change`` to results.csv's rows (all text) and write them back:
    in place, or the table it returns."""
    csv = folder / "results.csv"
    rows = pd.read_csv(csv, dtype=str, keep_default_na=False)
    changed = change(rows)
    rows = rows if changed is None else changed
    rows.to_csv(csv, index=False)
    return rows


def _where(rows, strategy, trial, round_):
    return (
        (rows["strategy"] == strategy)
        & (rows["trial"] == str(trial))
        & (rows["round"] == str(round_))
    )


def _refused(folder, config, match):
    """load_results and a resumed run both refuse, the run changing nothing."""
    with pytest.raises(ValueError, match=match) as error:
        load_results(folder)
    assert "\n" not in str(error.value)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(ValueError, match=match):
        run_experiment(config, output=folder, n_jobs=1)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    return str(error.value)


def test_a_row_cut_short_is_refused_and_the_remedy_resumes(
    tiny_run, tmp_path, copy_run, timing
):
    folder, results, config = tiny_run
    target = copy_run(folder, tmp_path / "run")

    def cut(rows):
        rows.loc[
            _where(rows, "bald", 1, 2), ["acquired_labels", "acquired_indices"]
        ] = ""
        # the resumed run of the old code recorded a round 3 on the short set
        return rows.drop(rows.index[_where(rows, "bald", 1, 3)])

    _edit(target, cut)
    message = _refused(target, config, "bald, trial 1, round 2 has no acquired_labels")
    assert message.startswith(f"{target / 'results.csv'}: bald, trial 1, round 2")
    assert "delete the rows of bald, trial 1 from round 2 on" in message
    with pytest.raises(ValueError, match="round 2 has no acquired_labels"):
        write_report(target)
    # doing what the message says: the run gives the uninterrupted rows back
    _edit(
        target,
        lambda rows: rows.drop(
            rows.index[
                (rows["strategy"] == "bald")
                & (rows["trial"] == "1")
                & (rows["round"].astype(int) >= 2)
            ]
        ),
    )
    run_experiment(config, output=target, n_jobs=1)
    got, _ = load_results(target)
    pd.testing.assert_frame_equal(
        got.drop(columns=timing), results.drop(columns=timing), check_dtype=False
    )


def test_pool_indices_picked_twice_are_refused(tiny_run, tmp_path, copy_run):
    folder, _, config = tiny_run
    target = copy_run(folder, tmp_path / "run")

    def repeat(rows):
        first = rows.loc[_where(rows, "random", 0, 1), "acquired_indices"]
        rows.loc[_where(rows, "random", 0, 2), "acquired_indices"] = first.iloc[0]

    _edit(target, repeat)
    _refused(target, config, r"random, trial 0, round 2 acquires pool index \d+ again")


def test_a_pool_index_outside_the_pool_is_a_message(tiny_run, tmp_path, copy_run):
    folder, _, config = tiny_run
    target = copy_run(folder, tmp_path / "run", lambda r: r["round"].astype(int) < 2)

    def outside(rows):
        where = _where(rows, "batchbald", 0, 1)
        indices = rows.loc[where, "acquired_indices"].iloc[0].split()
        rows.loc[where, "acquired_indices"] = " ".join(["99999", *indices[1:]])

    _edit(target, outside)
    load_results(target)  # a report does not know the pool's size
    before = (target / "config.json").read_bytes()
    with pytest.raises(
        ValueError,
        match="batchbald, trial 0, round 1 has acquired_indices outside the pool "
        r"of \d+ points \(99999\)",
    ):
        run_experiment(config, output=target, n_jobs=1)
    assert (target / "config.json").read_bytes() == before


def test_indices_whose_labels_differ_are_refused(tiny_run, tmp_path, copy_run):
    # swapped with another curve's batch: unique and in the pool, but not the
    # points whose labels the row recorded
    folder, _, config = tiny_run
    target = copy_run(folder, tmp_path / "run", lambda r: r["round"].astype(int) < 2)

    def swap(rows):
        a, b = _where(rows, "random", 0, 1), _where(rows, "bald", 0, 1)
        first, second = rows.loc[a, "acquired_indices"], rows.loc[b, "acquired_indices"]
        rows.loc[a, "acquired_indices"] = second.iloc[0]
        rows.loc[b, "acquired_indices"] = first.iloc[0]

    rows = _edit(target, swap)
    labels = rows.loc[_where(rows, "random", 0, 1), "acquired_labels"].iloc[0]
    assert labels != rows.loc[_where(rows, "bald", 0, 1), "acquired_labels"].iloc[0]
    with pytest.raises(ValueError, match="round 1: the recorded acquired_labels"):
        run_experiment(config, output=target, n_jobs=1)


@pytest.mark.parametrize(
    ("cell", "value", "match"),
    [
        # another batch size: round 1 added 5 points
        (
            ("bald", 0, 1, "n_labels"),
            "25",
            "bald, trial 0, round 1 has n_labels 25, but n_initial=20, batch_size=10",
        ),
        (
            ("bald", 0, 0, "strategy"),
            "power_bald",
            "power_bald, trial 0, round 0: strategy 'power_bald' is not config.json's",
        ),
        (
            ("bald", 0, 0, "dataset"),
            "digits",
            "bald, trial 0, round 0: dataset 'digits' is not config.json's",
        ),
        (
            ("bald", 0, 3, "test_accuracy"),
            "abc",
            r"results\.csv, line \d+: test_accuracy 'abc' is not an accuracy",
        ),
    ],
)
def test_rows_of_another_configuration_are_refused(
    tiny_run, tmp_path, copy_run, cell, value, match
):
    folder, _, config = tiny_run
    target = copy_run(folder, tmp_path / "run")
    *curve, column = cell

    def change(rows):
        rows.loc[_where(rows, *curve), column] = value

    _edit(target, change)
    _refused(target, config, match)


def _duplicate(rows, strategy, trial, round_, **values):
    row = rows[_where(rows, strategy, trial, round_)].assign(**values)
    return pd.concat([rows, row], ignore_index=True)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (
            lambda rows: _duplicate(rows, "bald", 0, 1),
            "bald, trial 0, round 1 is recorded twice",
        ),
        (
            lambda rows: _duplicate(rows, "bald", 0, 1, test_accuracy="0.99"),
            "bald, trial 0, round 1 is recorded twice",
        ),
        (
            lambda rows: rows.drop(rows.index[_where(rows, "random", 1, 2)]),
            r"random, trial 1, round 2 is missing \(round 3 follows round 1\)",
        ),
        (
            # a fourth round after the budget's last: a run of a larger budget
            lambda rows: _duplicate(rows, "random", 1, 3, round="4"),
            r"random, trial 1, round 4 follows round 3, which ended the curve "
            r"\(the budget, 45 labels",
        ),
    ],
)
def test_rounds_twice_missing_or_past_the_end_are_refused(
    tiny_run, tmp_path, copy_run, change, match
):
    folder, _, config = tiny_run
    target = copy_run(folder, tmp_path / "run")
    _edit(target, change)
    _refused(target, config, match)
    assert main(["report", str(target)]) == 1


def test_rounds_after_the_stop_accuracy_are_refused(tiny_run, tmp_path, copy_run):
    import dataclasses

    folder, results, config = tiny_run
    target = copy_run(folder, tmp_path / "run")
    # reached by some curve before its last round
    stop = float(results.query("round == 2")["test_accuracy"].max())
    stopping = dataclasses.replace(config, stop_accuracy=stop)
    document = json.loads((target / "config.json").read_text())
    document["config"]["stop_accuracy"] = stop
    (target / "config.json").write_text(json.dumps(document))
    _refused(
        target, stopping, r"round \d follows round \d, which ended the curve \(stop_acc"
    )


def test_every_committed_reproduction_run_loads():
    # rows of every version the runner had: without acquired_indices, CPU
    # times or a device, runs stopped at the stop accuracy, smaller last batches
    folders = sorted(p.parent for p in REPRODUCTION.glob("*/results.csv"))
    assert len(folders) >= 10
    for folder in folders:
        results, config = load_results(folder)
        assert len(results) and set(results["strategy"]) <= set(config.strategies)
    # and the runs the page joins with "+" (paired trials of other strategies)
    page = (DOCS / "reproducing.rst").read_text()
    joins = set(re.findall(r"\b\w+(?:\+\w+)+", page))
    assert joins
    for join in joins:
        results, config, _ = joined_results([REPRODUCTION / r for r in join.split("+")])
        assert not complete_trials(results, config)[0].empty
