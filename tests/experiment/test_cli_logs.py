"""The command's log: progress bars only on a terminal or when asked for."""

import subprocess
import sys

import pytest

from skbatchbald.experiment.cli import main

from .conftest import TINY

# One trial of the tiny run: a few seconds.
ONE_TRIAL = [*TINY, "--n-trials", "1", "--strategies", "batchbald", "random"]
SUMMARY = "results, summary.md and plots in"


def test_redirected_run_has_no_bars_and_ends_with_the_summary(capsys, tmp_path):
    # Under capsys standard error is no terminal, as in `make demo > log 2>&1`.
    assert main(["run", *ONE_TRIAL, "--output", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "\r" not in out + err
    assert "it/s" not in err and "MC inference" not in err
    assert SUMMARY in out.strip().splitlines()[-1]
    assert "| batchbald" in out  # the summary tables themselves


def test_bars_can_be_forced_on(capsys, tmp_path):
    assert main(["run", *ONE_TRIAL, "--output", str(tmp_path), "--progress"]) == 0
    out, err = capsys.readouterr()
    assert "\r" in err and "trial 0 batchbald" in err
    assert SUMMARY in out


def test_quiet_wins_over_progress(capsys, tmp_path):
    argv = ["run", *ONE_TRIAL, "--output", str(tmp_path), "--progress", "--quiet"]
    assert main(argv) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.slow  # a fresh interpreter
def test_log_redirected_to_a_file(tmp_path):
    log = tmp_path / "log"
    with log.open("w") as stream:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "skbatchbald",
                "run",
                *ONE_TRIAL,
                "-o",
                str(tmp_path / "run"),
            ],
            stdout=stream,
            stderr=subprocess.STDOUT,
            check=True,
        )
    text = log.read_bytes().decode()  # read_text() would turn "\r" into "\n"
    assert "\r" not in text and "it/s" not in text
    assert SUMMARY in text.strip().splitlines()[-1]
    assert len(text) < 8_000  # the summary, not pages of bars
