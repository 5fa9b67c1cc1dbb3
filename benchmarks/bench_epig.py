"""EPIG and batch EPIG benchmark: time and peak memory on synthetic pools.

Each call runs in a fresh subprocess (``--one``), so that its peak memory is the
growth of the process's peak resident size (VmHWM, reset just before the call, as
in _measure.py) over its resident size before the call, the pool and the target
already loaded. Pool and target come from one synthetic pool (synthetic_pools.py)
split in two, so that posterior sample k is the same "network" for both.

    python benchmarks/bench_epig.py            # every workload, part of `make bench`
    python benchmarks/bench_epig.py --workloads epig-N10k
"""

import argparse
import csv
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import _peak_rss, _reset_peak_rss
from synthetic_pools import make_pool

HERE = Path(__file__).resolve().parent

# name: (function, N, N_target, K, C, b, M); the targets of issue 15
WORKLOADS = {
    "epig-N10k": ("epig", 10_000, 1_000, 20, 10, 10, None),
    "batch-epig-N10k": ("batch_epig", 10_000, 1_000, 20, 10, 10, 10_000),
    "bald-N10k": ("bald", 10_000, 0, 20, 10, 10, None),
    "margin-N10k": ("margin", 10_000, 0, 20, 10, 10, None),
    "softmax-bald-N10k": ("softmax-bald", 10_000, 0, 20, 10, 10, None),
}


def _call(function, log_probs, target, n_instances, n_joint_samples):
    from skbatchbald import acquisition

    if function == "epig":
        return acquisition.epig(log_probs, n_instances, log_probs_target=target)
    if function == "batch_epig":
        return acquisition.batch_epig(
            log_probs,
            n_instances,
            log_probs_target=target,
            n_joint_samples=n_joint_samples,
            random_state=0,
        )
    if function == "softmax-bald":
        return acquisition.bald(
            log_probs, n_instances, stochastic="softmax", beta=1.0, random_state=0
        )
    return getattr(acquisition, function)(log_probs, n_instances)


def _one(args):
    """Measure one call in this process; print JSON."""
    import psutil

    function, _, n_target, *_ = WORKLOADS[args.one]
    both = np.load(args.pool)
    n_pool = both.shape[0] - n_target
    log_probs, target = both[:n_pool], both[n_pool:]
    _, _, _, _, _, n_instances, n_joint_samples = WORKLOADS[args.one]
    process = psutil.Process()
    reset = _reset_peak_rss()
    rss_before = process.memory_info().rss
    peak_before = _peak_rss()
    walls, cpus = [], []
    for repeat in range(args.repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        _call(function, log_probs, target, n_instances, n_joint_samples)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        if repeat == 0:
            peak_after = _peak_rss()
    json.dump(
        {
            "wall_s": walls,
            "cpu_s": cpus,
            "peak_mb": max(0, peak_after - max(rss_before, peak_before)) / 1e6,
            "peak_reset": reset,
        },
        sys.stdout,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workloads", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(HERE / "results" / "bench_epig"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--pool", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        return _one(args)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.workloads:
            _, n_pool, n_target, n_mc_samples, n_classes, b, m = WORKLOADS[name]
            both, _ = make_pool(n_pool + n_target, n_mc_samples, n_classes, seed=0)
            path = Path(tmp) / f"{name}.npy"
            np.save(path, both)
            load = os.getloadavg()[0]
            out = subprocess.run(
                [sys.executable, __file__, "--one", name, "--pool", str(path),
                 "--repeats", str(args.repeats)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            result = json.loads(out.stdout)
            row = {
                "workload": name,
                "N": n_pool,
                "N_target": n_target,
                "K": n_mc_samples,
                "C": n_classes,
                "b": b,
                "M": m or "",
                "wall_min_s": round(min(result["wall_s"]), 2),
                "wall_median_s": round(float(np.median(result["wall_s"])), 2),
                "cpu_median_s": round(float(np.median(result["cpu_s"])), 2),
                "peak_mb": round(result["peak_mb"], 1),
                "load_before": round(load, 2),
            }
            print(row, flush=True)
            rows.append(row)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output.with_suffix(".csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    header = (
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{args.repeats} calls per workload"
    )
    lines = [header, "", "| " + " | ".join(rows[0]) + " |"]
    lines.append("|" + "---|" * len(rows[0]))
    lines += ["| " + " | ".join(str(v) for v in row.values()) + " |" for row in rows]
    output.with_suffix(".md").write_text("\n".join(lines) + "\n")
    return None


if __name__ == "__main__":
    main()
