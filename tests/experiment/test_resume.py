"""A run that stops anywhere continues to the result of an uninterrupted run."""

import dataclasses
import json
import os
import signal

import pandas as pd
import pytest

from skbatchbald.experiment import _protocol, load_results, run_experiment
from skbatchbald.experiment._store import TIMING, ResultsFolder, atomic_write
from skbatchbald.experiment.cli import main


def _same_rows(folder, expected):
    got, _ = load_results(folder)
    pd.testing.assert_frame_equal(
        got.drop(columns=list(TIMING)).reset_index(drop=True),
        expected.drop(columns=list(TIMING)).reset_index(drop=True),
        check_dtype=False,
    )


def test_resume_after_a_kill_between_rounds(tiny_run, tmp_path, copy_run):
    folder, results, config = tiny_run
    # As if killed after recording round 1 of every curve, before its
    # acquisition was saved: the run retrains round 1 to acquire again.
    partial = copy_run(folder, tmp_path / "run", lambda r: r["round"].astype(int) < 2)
    finished = (partial / "results.csv").read_text().splitlines()
    run_experiment(config, output=partial, n_jobs=1)
    _same_rows(partial, results)
    # the rows that were there are kept byte for byte
    lines = (partial / "results.csv").read_text().splitlines()
    assert set(finished) <= set(lines)


def test_resume_a_folder_written_before_the_cpu_time_columns(
    tiny_run, tmp_path, copy_run
):
    folder, results, config = tiny_run
    partial = copy_run(folder, tmp_path / "run", lambda r: r["round"].astype(int) < 2)
    csv = partial / "results.csv"
    cpu = ["training_cpu_seconds", "acquisition_cpu_seconds", "test_cpu_seconds"]
    old = pd.read_csv(csv, dtype=str, keep_default_na=False).drop(columns=cpu)
    old.to_csv(csv, index=False)
    run_experiment(config, output=partial, n_jobs=1)
    _same_rows(partial, results)
    got, _ = load_results(partial)
    early = got["round"] < 2
    assert got.loc[early, cpu].isna().all().all()
    assert got.loc[~early, "training_cpu_seconds"].notna().all()


def _sigint_in_training(monkeypatch, model_number):
    """Send SIGINT during the 2nd epoch of the ``model_number``-th model trained."""
    from skorch.callbacks import Callback

    class SigintOnEpoch2(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                os.kill(os.getpid(), signal.SIGINT)

    make_model = _protocol.make_model
    count = {"models": 0}

    def with_callback(*args, **kwargs):
        model = make_model(*args, **kwargs)
        count["models"] += 1
        if count["models"] == model_number:
            model.callbacks = [*model.callbacks, ("sigint", SigintOnEpoch2())]
        return model

    monkeypatch.setattr(_protocol, "make_model", with_callback)
    monkeypatch.setattr(_protocol, "_WARM", {"cpu"})  # models counted from round 0


def test_interrupt_drops_the_cut_round_and_resumes(tiny_run, tmp_path, monkeypatch):
    _, results, config = tiny_run
    target = tmp_path / "run"
    _sigint_in_training(monkeypatch, 3)  # round 2 of the first curve
    with pytest.raises(KeyboardInterrupt):
        run_experiment(config, output=target, n_jobs=1)
    saved, _ = load_results(target)
    # skorch swallowed the KeyboardInterrupt, yet the cut round 2 is not recorded
    assert saved["round"].tolist() == [0, 1]
    # the batch acquired after round 1 waits in pending/ for the resumed run
    assert len(list((target / "pending").iterdir())) == 1
    monkeypatch.undo()
    run_experiment(config, output=target, n_jobs=1)
    _same_rows(target, results)
    assert not (target / "pending").exists()


@pytest.mark.slow  # trains a network
def test_ctrl_c_exits_130(tmp_path, monkeypatch, capsys, tiny_argv):
    handler = signal.getsignal(signal.SIGINT)
    _sigint_in_training(monkeypatch, 1)
    status = main(["run", *tiny_argv, "--output", str(tmp_path), "--quiet"])
    assert status == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "results.csv").exists()
    assert signal.getsignal(signal.SIGINT) is handler


def test_other_options_refuse_and_change_nothing(
    tiny_run, tmp_path, capsys, tiny_argv, copy_run
):
    folder, _, _ = tiny_run
    target = copy_run(folder, tmp_path / "run")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    argv = ["run", *tiny_argv, "--budget", "55", "--output", str(target), "--quiet"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "holds results of another configuration (budget 45 there, 55 here)" in err[0]
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before


def test_a_failing_run_leaves_config_json_alone(
    tiny_run, tmp_path, capsys, tiny_argv, copy_run
):
    folder, _, _ = tiny_run
    target = copy_run(folder, tmp_path / "run")
    before = (target / "config.json").read_bytes()
    argv = ["run", *tiny_argv, "--pool-size", "10", "--output", str(target), "-q"]
    assert main(argv) == 1
    assert "fewer than budget=45" in capsys.readouterr().err
    assert (target / "config.json").read_bytes() == before


def test_more_trials_into_the_same_folder_keep_the_first(tiny_run, tmp_path, copy_run):
    folder, results, config = tiny_run
    # the example: trials 0-1, then trial 1 alone into the same folder
    target = copy_run(folder, tmp_path / "run")
    rows = run_experiment(
        dataclasses.replace(config, first_trial=1, n_trials=1),
        output=target,
        n_jobs=1,
    )
    assert set(rows["trial"]) == {1}
    _same_rows(target, results)  # trial 0 is still there, trial 1 unchanged
    runs = json.loads((target / "config.json").read_text())["runs"]
    assert runs[-1]["trials"] == [1]
    assert runs[-1]["device"] == "cpu"


def test_a_foreign_results_csv_is_refused(tmp_path, capsys, tiny_argv):
    (tmp_path / "results.csv").write_text("a,b\n1,2\n")
    assert main(["run", *tiny_argv, "--output", str(tmp_path), "-q"]) == 1
    assert "has a results.csv but no config.json" in capsys.readouterr().err


def test_atomic_write_keeps_the_old_file_when_killed(tmp_path, monkeypatch):
    path = tmp_path / "results.csv"
    path.write_text("old rows\n")

    def killed(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, "new rows\n" * 1000)
    assert path.read_text() == "old rows\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_finished_rounds_are_never_recorded_twice(tiny_run, tmp_path, copy_run):
    folder, results, config = tiny_run
    target = copy_run(folder, tmp_path / "run")
    row = results.iloc[0].to_dict()
    with pytest.raises(RuntimeError, match="already recorded"):
        ResultsFolder(target).append(row, config.strategies)


def test_atomic_write_follows_the_umask_without_touching_it(tmp_path):
    # The file gets 0666 less the umask in force when it is written, and the
    # process's umask (global state) is neither read nor set, not at import.
    import os
    import subprocess
    import sys

    spy = (
        "import os; calls = []; real = os.umask\n"
        "os.umask = lambda mask: calls.append(mask) or real(mask)\n"
        "from skbatchbald.experiment import _store\n"
        f"_store.atomic_write(__import__('pathlib').Path(r'{tmp_path}') / 'b.txt', "
        "'y')\nprint(calls)"
    )
    out = subprocess.run(
        [sys.executable, "-c", spy], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    previous = os.umask(0o077)
    try:
        atomic_write(tmp_path / "a.txt", "x")
    finally:
        os.umask(previous)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "a.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


def test_a_tilde_output_is_in_the_home_folder(
    tiny_run, tmp_path, monkeypatch, copy_run
):
    folder, results, config = tiny_run
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    partial = copy_run(folder, home / "run", lambda r: r["round"].astype(int) < 2)
    run_experiment(config, output="~/run", n_jobs=1)
    _same_rows(partial, results)  # resumed there
    assert not any(cwd.iterdir())  # no folder literally named "~"
    # messages name the folder by its real path
    csv = partial / "results.csv"
    pd.read_csv(csv).drop(columns="acquired_indices").to_csv(csv, index=False)
    with pytest.raises(ValueError) as error:
        run_experiment(config, output="~/run", n_jobs=1)
    assert str(error.value).startswith(f"{partial} was written before runs")


def test_harmless_differences_resume(tiny_run, tmp_path, copy_run):
    # the default model by name and the strategies in another order give the
    # same rows: the finished folder is continued (here: nothing left to run)
    folder, results, config = tiny_run
    target = copy_run(folder, tmp_path / "run")
    same = dataclasses.replace(
        config, model="mlp", strategies=tuple(reversed(config.strategies))
    )
    rows = run_experiment(same, output=target, n_jobs=1)
    key = ["trial", "strategy", "round"]
    pd.testing.assert_frame_equal(
        rows.sort_values(key).reset_index(drop=True),
        results.sort_values(key).reset_index(drop=True),
        check_dtype=False,
    )


def test_a_folder_another_run_writes_to_is_refused(
    tiny_run, tmp_path, capsys, tiny_argv, copy_run
):
    # a second run of the same command computed the same curves again, and
    # died on "round 1 was already recorded" (or both wrote on)
    import subprocess
    import sys

    folder, _, _ = tiny_run
    target = copy_run(folder, tmp_path / "run", keep=lambda r: r["round"] == "0")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time; "
         f"handle = os.open({str(target)!r}, os.O_RDONLY); "
         "fcntl.flock(handle, fcntl.LOCK_EX); "
         "print('held'); sys.stdout.flush(); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        before = {p.name: p.read_bytes() for p in target.iterdir() if p.is_file()}
        argv = ["run", *tiny_argv, "--output", str(target), "--quiet"]
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "is in use by another skbatchbald run still writing there" in err
        after = {p.name: p.read_bytes() for p in target.iterdir() if p.is_file()}
        assert after == before
    finally:
        holder.kill()
        holder.wait()
    # once the other run is gone, the same command continues the folder
    assert main(["run", *tiny_argv, "--output", str(target), "--quiet"]) == 0


def test_n_jobs_0_is_refused_before_a_folder_is_made(tmp_path, capsys, tiny_argv):
    argv = [*tiny_argv, "--n-jobs", "0"]
    assert main(["run", *argv, "--output", str(tmp_path / "new"), "-q"]) == 1
    assert "n_jobs must be a nonzero integer" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_the_summary_of_a_resumed_run_uses_the_thresholds_given(
    tiny_run, tmp_path, capsys, tiny_argv, copy_run
):
    # config.json keeps the thresholds the run started with; those asked for
    # now were ignored
    folder, _, _ = tiny_run
    target = copy_run(folder, tmp_path / "run")
    argv = ["run", *tiny_argv, "--thresholds", "0.42", "--output", str(target)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "42 %" in captured.out
    assert "continuing" in captured.err and "finished rounds are kept" in captured.err
    # a refused run does not say it continues
    argv = ["run", *tiny_argv, "--seed", "8", "--output", str(target)]
    assert main(argv) == 1
    assert "continuing" not in capsys.readouterr().err


def test_a_process_warms_up_once_before_its_first_timed_round(
    tmp_path, tiny_argv, monkeypatch
):
    # torch's first calls in a process cost ~1.7 s of CPU, charged to the
    # first curve's round 0; the warm-up takes them, untimed, and changes no row
    calls = []
    monkeypatch.setattr(_protocol, "_WARM", set())
    original = _protocol._warm_up

    def spy(*args):
        calls.append(args[-1])
        original(*args)

    monkeypatch.setattr(_protocol, "_warm_up", spy)
    fits = []
    make = _protocol.make_model
    monkeypatch.setattr(
        _protocol, "make_model", lambda *a, **k: fits.append(a[3]) or make(*a, **k)
    )
    assert main(["run", *tiny_argv, "--output", str(tmp_path / "a"), "-q"]) == 0
    assert set(calls) == {"cpu"} and fits.count(0) >= 1  # seed 0: the throwaway
    n_warm = fits.count(0)
    assert main(["run", *tiny_argv, "--output", str(tmp_path / "b"), "-q"]) == 0
    assert fits.count(0) == n_warm  # warm already
    # and the rows, timings aside, are those of a run without it
    monkeypatch.setattr(_protocol, "_WARM", {"cpu"})
    monkeypatch.setattr(_protocol, "_warm_up", original)
    cold = fits.count(0)
    assert main(["run", *tiny_argv, "--output", str(tmp_path / "c"), "-q"]) == 0
    assert fits.count(0) == cold
    warm, plain = (
        pd.read_csv(tmp_path / name / "results.csv").drop(columns=list(TIMING))
        for name in ("a", "c")
    )
    pd.testing.assert_frame_equal(warm, plain)
