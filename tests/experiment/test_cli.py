"""The skbatchbald command: help, one-line errors, report."""

import subprocess
import sys

import pytest

from skbatchbald.experiment.cli import main


def _one_line_error(capsys, argv, status):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == status
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    return err[-1]


def test_bad_option_value_is_one_line(capsys):
    line = _one_line_error(capsys, ["run", "-o", "x", "--budget", "ten"], 2)
    assert line.startswith("skbatchbald run: error: argument --budget")
    line = _one_line_error(capsys, ["run", "-o", "x", "--n-trials", "0"], 2)
    assert line == "skbatchbald run: error: n_trials must be a positive int, got 0"


def test_unknown_strategy(capsys):
    line = _one_line_error(capsys, ["run", "-o", "x", "--strategies", "bold"], 2)
    assert "invalid choice: 'bold'" in line


def test_library_validation_becomes_a_parser_error(capsys, tmp_path):
    line = _one_line_error(capsys, ["run", "-o", str(tmp_path), "--budget", "20"], 2)
    assert line == (
        "skbatchbald run: error: budget must be an int >= 30, got 20; n_initial=20 "
        "plus one batch of batch_size=10 (raise budget or lower batch_size)"
    )
    assert not any(tmp_path.iterdir())  # nothing ran


def test_run_error_is_one_line_with_status_1(capsys, tmp_path):
    argv = ["run", "-o", str(tmp_path), "--dataset", "digits", "--budget", "1700"]
    assert main([*argv, "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("skbatchbald run: error: the pool")


def test_a_device_torch_cannot_use_is_refused_before_anything_runs(
    capsys, tmp_path, monkeypatch
):
    import torch

    def no_such_device(*args, device=None, **kwargs):
        raise AssertionError("Torch not compiled with CUDA enabled")

    # the CPU build says exactly this for "cuda"; a GPU machine would accept it
    monkeypatch.setattr(torch, "empty", no_such_device)
    argv = ["run", "-o", str(tmp_path), "--dataset", "digits", "--device", "cuda"]
    assert main([*argv, "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "skbatchbald run: error: device='cuda' cannot be used on this machine "
        "(Torch not compiled with CUDA enabled); pass device='cpu' (--device cpu)."
    ]
    assert not any(tmp_path.iterdir())  # nothing ran


def test_report_of_a_missing_folder(capsys, tmp_path):
    assert main(["report", str(tmp_path / "nothing")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no results.csv" in err[0]


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "skbatchbald run --preset demo" in capsys.readouterr().out


def test_report_prints_the_summary(capsys, tiny_run):
    folder, _, _ = tiny_run
    assert main(["report", str(folder)]) == 0
    assert (
        capsys.readouterr().out.strip() == (folder / "summary.md").read_text().strip()
    )


@pytest.mark.slow  # a fresh interpreter
def test_python_dash_m_help():
    done = subprocess.run(
        [sys.executable, "-m", "skbatchbald", "run", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--strategies NAME" in done.stdout and "examples:" in done.stdout


def test_report_with_other_thresholds(capsys, tiny_run, tmp_path):
    folder, _, _ = tiny_run
    for name in ("results.csv", "config.json"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    assert main(["report", str(tmp_path), "--thresholds", "0.5", "0.65"]) == 0
    out = capsys.readouterr().out
    assert "| 50 %" in out and "| 65 %" in out and "80 %" not in out
    line = _one_line_error(capsys, ["report", str(tmp_path), "--thresholds", "2"], 2)
    assert "expected an accuracy in (0, 1]" in line


@pytest.mark.parametrize(
    ("argv", "n_jobs"),
    [([], -1), (["--device", "cuda"], 1), (["--device", "cuda", "--n-jobs", "2"], 2)],
)
def test_one_worker_by_default_on_an_accelerator(argv, n_jobs, monkeypatch, tmp_path):
    from skbatchbald.experiment import _protocol, _report

    seen = {}
    monkeypatch.setattr(
        _protocol, "run_experiment", lambda config, **kwargs: seen.update(kwargs)
    )
    monkeypatch.setattr(_report, "write_report", lambda folder, thresholds: "")
    assert main(["run", "-o", str(tmp_path), "--quiet", *argv]) == 0
    assert seen["n_jobs"] == n_jobs
    assert seen["device"] == (argv[1] if argv else "cpu")


def test_the_device_reaches_every_round_s_network(monkeypatch):
    from skbatchbald.experiment import ExperimentConfig, _protocol, run_experiment

    devices = []
    make_model = _protocol.make_model

    def spy(*args, **kwargs):
        model = make_model(*args, **kwargs)
        devices.append(model.device)
        return model

    monkeypatch.setattr(_protocol, "make_model", spy)
    monkeypatch.setattr(_protocol, "_WARM", set())
    config = ExperimentConfig(
        dataset="digits", strategies=("random",), budget=22, batch_size=1,
        n_trials=1,
    )  # fmt: skip
    run_experiment(config, n_jobs=1, device="cpu")
    assert devices == ["cpu"] * 4  # the warm-up's, then rounds 0, 1 and 2


def test_run_help_says_the_runner_takes_built_in_data_only(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "The data sets and networks are the built-in ones" in text
    assert "skbatchbald.ActiveLearner and the query classes" in text
