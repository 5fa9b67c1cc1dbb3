"""The greedy steps' seam: both greedy loops report the same steps."""

import numpy as np

from skbatchbald.acquisition import batchbald
from skbatchbald.acquisition._greedy_steps import observe


def test_in_memory_and_memmap_report_the_same_steps(make_log_probs, tmp_path):
    log_probs = make_log_probs(40, 20, 3, seed=2, dtype=np.float32)
    np.save(tmp_path / "pool.npy", log_probs)
    pool = np.load(tmp_path / "pool.npy", mmap_mode="r")
    runs = []
    for source in (log_probs, pool):
        with observe() as steps:
            batchbald(source, 5, n_joint_samples=30, random_state=0)
        runs.append([{k: v for k, v in s.items() if k != "seconds"} for s in steps])
        assert all(step["seconds"] >= 0 for step in steps)
    # the candidates scored differ: in memory, a merged-row bound prunes first
    scored = [[step.pop("scored") for step in run] for run in runs]
    assert all(0 < n <= 40 for n in scored[0] + scored[1])
    assert runs[0] == runs[1]
    assert [step["step"] for step in runs[0]] == list(range(5))
    assert [step["exact"] for step in runs[0]] == [True] * 4 + [
        False
    ]  # 3^3 <= 30 < 3^4


def test_nothing_is_kept_outside_observe(make_log_probs):
    steps = []
    with observe(into=steps):
        pass
    batchbald(make_log_probs(10, 4, 3), 2, random_state=0)
    assert steps == []
