"""skbatchbald merge: one folder from runs of the same options."""

import dataclasses
import json

import pandas as pd
import pytest

from skbatchbald.experiment import load_results, merge_results
from skbatchbald.experiment._merge import joined_results
from skbatchbald.experiment.cli import main


def _split(folder, tmp_path, copy_run):
    first = copy_run(folder, tmp_path / "a", lambda r: r["trial"] == "0")
    # the second process ran trials 0 and 1: trial 0 twice, identically
    second = copy_run(folder, tmp_path / "b")
    return first, second


def test_merge_gives_the_single_run_back(tiny_run, tmp_path, copy_run, capsys):
    folder, _, config = tiny_run
    first, second = _split(folder, tmp_path, copy_run)
    merged = tmp_path / "merged"
    assert main(["merge", str(merged), str(first), str(second)]) == 0
    got, got_config = load_results(merged)
    expected, _ = load_results(folder)
    pd.testing.assert_frame_equal(got, expected)
    assert got_config == dataclasses.replace(config, first_trial=0, n_trials=2)
    document = json.loads((merged / "config.json").read_text())
    assert document["merged_from"] == [
        {"folder": str(first), "trials": [0]},
        {"folder": str(second), "trials": [0, 1]},
    ]


def test_joined_in_memory_is_the_merged_folder(tiny_run, tmp_path, copy_run):
    folder, _, _ = tiny_run
    first, second = _split(folder, tmp_path, copy_run)
    merged = tmp_path / "merged"
    merge_results(merged, [first, second])
    table, config, document = joined_results([first, second])
    written, written_config = load_results(merged)
    pd.testing.assert_frame_equal(table.astype(str), written.astype(str))
    assert config == written_config
    assert document == json.loads((merged / "config.json").read_text())


@pytest.mark.parametrize(
    "again",
    ["a", "a/", "./a", "{tmp}/a", "{tmp}/../{name}/a", "~/a", "link"],
    ids=["same", "slash", "dot", "absolute", "dotdot", "tilde", "symlink"],
)
def test_merge_refuses_one_folder_given_twice(
    tiny_run, tmp_path, copy_run, capsys, monkeypatch, again
):
    folder, _, _ = tiny_run
    first, second = _split(folder, tmp_path, copy_run)
    (tmp_path / "link").symlink_to(first, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    again = again.format(tmp=tmp_path, name=tmp_path.name)
    assert main(["merge", "m", "a", str(second), again]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"skbatchbald merge: error: the folder {first.resolve()} is given twice "
        f"(as 'a' and {again!r}); give each run folder once.\n"
    )
    assert not (tmp_path / "m").exists()


def test_merge_refuses_other_options(tiny_run, tmp_path, copy_run, capsys):
    folder, _, _ = tiny_run
    first, second = _split(folder, tmp_path, copy_run)
    path = second / "config.json"
    document = json.loads(path.read_text())
    document["config"]["n_mc_samples"] = 100
    path.write_text(json.dumps(document))
    assert main(["merge", str(tmp_path / "m"), str(first), str(second)]) == 1
    err = capsys.readouterr().err.strip()
    assert "the runs used different options: n_mc_samples 4 in" in err
    assert not (tmp_path / "m").exists()


def test_merge_refuses_rounds_that_disagree(tiny_run, tmp_path, copy_run):
    folder, _, _ = tiny_run
    first, second = _split(folder, tmp_path, copy_run)
    results = pd.read_csv(second / "results.csv", dtype=str, keep_default_na=False)
    before = results.loc[0, "test_accuracy"]
    results.loc[0, "test_accuracy"] = "0.999"
    results.to_csv(second / "results.csv", index=False)
    with pytest.raises(ValueError) as error:
        merge_results(tmp_path / "m", [first, second])
    # the column, and each folder once with its value
    assert str(error.value) == (
        f"trial 0, batchbald, round 0 differs in test_accuracy: {float(before)} in "
        f"{first}, 0.999 in {second}; these runs cannot be merged (delete that "
        "curve's rows from round 0 on in one of them)."
    )


def test_merge_needs_two_folders_and_a_new_output(tiny_run, tmp_path, copy_run):
    folder, _, _ = tiny_run
    with pytest.raises(ValueError, match="at least two folders"):
        merge_results(tmp_path / "m", [folder])
    first, second = _split(folder, tmp_path, copy_run)
    with pytest.raises(ValueError, match="is not empty"):
        merge_results(first, [first, second])


def test_runs_of_other_strategies_merge_into_paired_trials(
    tiny_run, tiny_argv, tmp_path, timing
):
    # BALD run alone gives the rows it gives beside BatchBALD and random (a
    # trial's seeds do not depend on the strategies run with it), so a run of
    # the other two and a run of BALD merge into the three-strategy run.
    _, expected, _ = tiny_run
    argv = list(tiny_argv)
    start = argv.index("--strategies")
    alone = tmp_path / "bald"
    argv[start + 1 : start + 4] = ["bald"]
    assert main(["run", *argv, "--output", str(alone), "--quiet"]) == 0
    others = tmp_path / "others"
    argv[start + 1 : start + 2] = ["batchbald", "random"]
    assert main(["run", *argv, "--output", str(others), "--quiet"]) == 0

    merged = tmp_path / "merged"
    got = merge_results(merged, [others, alone])
    _, got_config = load_results(merged)
    assert got_config.strategies == ("batchbald", "random", "bald")
    expected = expected.sort_values(["trial", "strategy", "round"])
    got = got.sort_values(["trial", "strategy", "round"])
    compare = [c for c in expected.columns if c not in timing]
    pd.testing.assert_frame_equal(
        got[compare].astype(str).reset_index(drop=True),
        expected[compare].astype(str).reset_index(drop=True),
    )


def test_a_tilde_output_is_in_the_home_folder(
    tiny_run, tmp_path, monkeypatch, copy_run
):
    folder, _, _ = tiny_run
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    _split(folder, home, copy_run)
    merge_results("~/merged", ["~/a", "~/b"])
    assert sorted(p.name for p in (home / "merged").iterdir()) == [
        "config.json",
        "results.csv",
    ]
    assert not any(cwd.iterdir())  # no folder literally named "~"


def test_merged_config_keeps_every_run_and_absolute_folders(
    tiny_run, tmp_path, copy_run, monkeypatch
):
    folder, _, _ = tiny_run
    first, second = _split(folder, tmp_path, copy_run)
    path = second / "config.json"
    document = json.loads(path.read_text())
    document["runs"].append({**document["runs"][0], "trials": [1], "n_jobs": 2})
    path.write_text(json.dumps(document))
    monkeypatch.chdir(tmp_path)
    merge_results("merged", ["a", "b"])  # relative, as typed
    merged = json.loads((tmp_path / "merged" / "config.json").read_text())
    assert [source["folder"] for source in merged["merged_from"]] == [
        str(first.resolve()),
        str(second.resolve()),
    ]
    runs = [(run["folder"], run["trials"]) for run in merged["runs"]]
    assert runs == [
        (str(first.resolve()), [0, 1]),
        (str(second.resolve()), [0, 1]),
        (str(second.resolve()), [1]),
    ]


def test_merge_takes_the_default_model_by_name(tiny_run, tmp_path, copy_run):
    # --model mlp on repeated digits is what the default (None) runs
    folder, _, _ = tiny_run
    first, second = _split(folder, tmp_path, copy_run)
    path = second / "config.json"
    document = json.loads(path.read_text())
    document["config"]["model"] = "mlp"
    document["config"]["strategies"].reverse()
    path.write_text(json.dumps(document))
    table = merge_results(tmp_path / "m", [first, second])
    assert set(table["trial"]) == {0, 1}
