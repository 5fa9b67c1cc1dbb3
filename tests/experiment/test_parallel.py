"""Worker processes give the rows of a sequential run."""

import pandas as pd

from skbatchbald.experiment import load_results, run_experiment


def test_two_workers_give_the_sequential_rows(tiny_run, tmp_path, timing):
    _, results, config = tiny_run
    parallel = run_experiment(config, output=tmp_path, n_jobs=2)
    pd.testing.assert_frame_equal(
        parallel.drop(columns=timing), results.drop(columns=timing), check_dtype=False
    )
    saved, _ = load_results(tmp_path)
    pd.testing.assert_frame_equal(
        saved.drop(columns=timing), results.drop(columns=timing), check_dtype=False
    )
    assert not (tmp_path / ".lock").exists()
