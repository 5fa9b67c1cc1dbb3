"""Acquisition benchmark: skbatchbald's BatchBALD against batchbald_redux 2.0.5.

For each workload (a synthetic pool with near-duplicate groups, see
synthetic_pools.py) this measures, each call in a fresh subprocess (_measure.py):
wall and CPU time (default settings, and lazy=True, the documented fast option),
and the peak memory of the call with the pool excluded (growth
of the process's peak resident size, VmHWM reset just before the call, over its
resident size before the call; a 1 ms psutil RSS sampler cross-checks it). It
reports the exact-phase agreement of the picks with batchbald_redux,
near-duplicates per batch (BALD top-b vs BatchBALD), the per-step times and, at
N=10k, BALD against a plain numpy top-k and one full greedy step against the floor
measured during development (docs/benchmarks.rst, "Measurements behind the
kernel").

batchbald_redux runs only where it finishes in a few minutes (--redux auto: N=1k
and N=10k, K=20, C=10, b=10); elsewhere its time is projected from the numbers in
issue 4 (2-core machine), unscaled, and labelled as such.

    python benchmarks/bench_acquisition.py                 # everything, `make bench`
    python benchmarks/bench_acquisition.py --workloads N10k --redux none
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
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_pools import make_pool

HERE = Path(__file__).resolve().parent

# name: (N, K, C, b, batchbald_redux seconds reported in issue 4 on 2 cores)
WORKLOADS = {
    "N1k": (1_000, 20, 10, 10, 10.6),
    "N10k": (10_000, 20, 10, 10, 106.0),
    "N10k-K100": (10_000, 100, 10, 10, 157.0),
    "N60k": (60_000, 20, 10, 10, 11 * 60.0),
    "N10k-C47": (10_000, 20, 47, 10, 7 * 60.0),
    "N10k-b40": (10_000, 20, 10, 40, 12 * 60.0),
}
REDUX_AUTO = ("N1k", "N10k")
N_JOINT_SAMPLES = 10_000
# One float32 step, N=10k, M=10k, K=20, C=10, measured during development.
FLOOR_S = 0.44


def _measure(method, pool_path, n_instances, repeats=1, seed=0):
    env = dict(os.environ, TQDM_DISABLE="1")
    command = [
        sys.executable,
        str(HERE / "_measure.py"),
        "--method",
        method,
        "--pool",
        str(pool_path),
        "--n-instances",
        str(n_instances),
        "--n-joint-samples",
        str(N_JOINT_SAMPLES),
        "--repeats",
        str(repeats),
        "--seed",
        str(seed),
    ]
    load_before = os.getloadavg()[0]
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    result = json.loads(out.stdout)
    result["load_before"] = load_before
    result["load_after"] = os.getloadavg()[0]
    return result


def _duplicates(indices, group):
    """Picks that are near-copies of an earlier pick in the same batch."""
    return len(indices) - len(set(group[np.asarray(indices)].tolist()))


def _exact_steps(n_classes, n_instances):
    return sum(n_classes**n <= N_JOINT_SAMPLES for n in range(n_instances))


def _machine():
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import psutil
    import threadpoolctl
    import torch

    blas = [
        f"{info['internal_api']} {info['version']}"
        for info in threadpoolctl.threadpool_info()
        if info["user_api"] == "blas"
    ]
    return (
        f"{model}, {len(os.sched_getaffinity(0))} cores available, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM; Python "
        f"{platform.python_version()}, numpy {np.__version__} ({', '.join(blas)}), "
        f"torch {torch.__version__}"
    )


def run_workload(name, *, run_redux, repeats, seed):
    n_pool, n_mc_samples, n_classes, n_instances, redux_issue_s = WORKLOADS[name]
    log_probs, group = make_pool(n_pool, n_mc_samples, n_classes, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        pool_path = Path(tmp) / "pool.npy"
        np.save(pool_path, log_probs)
        ours = _measure("skbatchbald", pool_path, n_instances, repeats, seed)
        lazy = _measure("skbatchbald-lazy", pool_path, n_instances, repeats, seed)
        bald = _measure("bald", pool_path, n_instances, repeats, seed)
        extra = {}
        if name == "N10k":
            extra["numpy-bald"] = _measure(
                "numpy-bald", pool_path, n_instances, repeats, seed
            )
            extra["full-step"] = _measure(
                "full-step", pool_path, n_instances, repeats, seed
            )
        redux = (
            _measure("redux", pool_path, n_instances, 1, seed) if run_redux else None
        )
    n_exact = _exact_steps(n_classes, n_instances)
    steps = ours["trace"]
    sampled = [step["seconds"] for step in steps if not step["exact"]]
    row = {
        "workload": name,
        "N": n_pool,
        "K": n_mc_samples,
        "C": n_classes,
        "b": n_instances,
        "M": N_JOINT_SAMPLES,
        "ours_wall_min_s": min(ours["wall_s"]),
        "ours_wall_median_s": float(np.median(ours["wall_s"])),
        "ours_cpu_s": float(np.median(ours["cpu_s"])),
        "ours_peak_mb": ours["peak_mb"],
        "ours_peak_sampled_mb": ours["peak_sampled_mb"],
        "ours_saturation_warning": "SaturationWarning" in ours["warnings"],
        "lazy_wall_min_s": min(lazy["wall_s"]),
        "lazy_wall_median_s": float(np.median(lazy["wall_s"])),
        "lazy_peak_mb": lazy["peak_mb"],
        "dup_lazy": _duplicates(lazy["indices"], group),
        "ours_final_score": ours["scores"][-1],
        "step_max_s": max(step["seconds"] for step in steps),
        "sampled_step_mean_s": float(np.mean(sampled)) if sampled else float("nan"),
        "scored_mean": float(np.mean([step["scored"] for step in steps])),
        "rows_mean": float(np.mean([step["rows"] for step in steps])),
        "bald_wall_s": min(bald["wall_s"]),
        "dup_bald_topk": _duplicates(bald["indices"], group),
        "dup_ours": _duplicates(ours["indices"], group),
        "exact_steps": n_exact,
        "load_min": min(ours["load_before"], ours["load_after"]),
        "load_max": max(ours["load_before"], ours["load_after"]),
        "redux_issue_s": redux_issue_s,
        "redux_s": None,
        "redux_peak_mb": None,
        "redux_measured": run_redux,
        "exact_agreement": None,
        "dup_redux": None,
    }
    if redux is not None:
        agree = 0
        while agree < n_exact and ours["indices"][agree] == redux["indices"][agree]:
            agree += 1
        row.update(
            redux_s=redux["wall_s"][0],
            redux_cpu_s=redux["cpu_s"][0],
            redux_peak_mb=redux["peak_mb"],
            exact_agreement=agree,
            dup_redux=_duplicates(redux["indices"], group),
            redux_final_score=redux["scores"][-1],
        )
    if "numpy-bald" in extra:
        row["numpy_bald_wall_s"] = min(extra["numpy-bald"]["wall_s"])
        row["full_step_s"] = min(extra["full-step"]["wall_s"])
    return row


def _project(rows):
    """Fill redux_s for workloads not run with the issue's 2-core measurement.

    Unscaled, hence conservative: on this (shared) machine batchbald_redux ran
    slower than the issue's numbers wherever it was measured.
    """
    measured = [row for row in rows if row["redux_measured"]]
    for row in rows:
        if not row["redux_measured"]:
            row["redux_s"] = row["redux_issue_s"]
    if not measured:
        return "issue 4's 2-core measurements, as they are"
    ratios = ", ".join(
        f"{row['workload']} {row['redux_s'] / row['redux_issue_s']:.1f}x"
        for row in measured
    )
    return (
        "issue 4's 2-core measurements, unscaled (conservative: batchbald_redux "
        f"measured in this run took {ratios} the issue's time)"
    )


def _fmt(value, digits=2):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _tables(rows, basis):
    header = [
        "workload",
        "N",
        "K",
        "C",
        "b",
        "skbatchbald s (min / median)",
        "CPU s",
        "lazy=True s (min / median)",
        "peak MB",
        "redux s",
        "redux peak MB",
        "speed-up",
        "exact-phase picks = redux",
        "dups BALD / ours / redux",
        "sampled step s",
        "scored / step",
        "load",
    ]
    lines = []
    for row in rows:
        redux = _fmt(row["redux_s"], 1) + ("" if row["redux_measured"] else " (issue)")
        lines.append(
            [
                row["workload"],
                str(row["N"]),
                str(row["K"]),
                str(row["C"]),
                str(row["b"]),
                f"{row['ours_wall_min_s']:.3f} / {row['ours_wall_median_s']:.3f}",
                _fmt(row["ours_cpu_s"]),
                f"{row['lazy_wall_min_s']:.3f} / {row['lazy_wall_median_s']:.3f}",
                _fmt(row["ours_peak_mb"], 0),
                redux,
                _fmt(row["redux_peak_mb"], 0),
                f"{row['redux_s'] / row['ours_wall_median_s']:.0f}x",
                "-"
                if row["exact_agreement"] is None
                else f"{row['exact_agreement']}/{row['exact_steps']}",
                f"{row['dup_bald_topk']} / {row['dup_ours']} / "
                + _fmt(row["dup_redux"]),
                _fmt(row["sampled_step_mean_s"], 3),
                _fmt(row["scored_mean"], 0),
                f"{row['load_min']:.1f}-{row['load_max']:.1f}",
            ]
        )
    markdown = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    markdown += ["| " + " | ".join(line) + " |" for line in lines]
    widths = [
        max(len(cell) for cell in column) for column in zip(header, *lines, strict=True)
    ]
    rule = "  ".join("=" * width for width in widths)
    rst = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    rst.append(rule)
    rst += [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    rst[1] = rst[1].rstrip()
    rst.append(rule)
    notes = [f"redux projections: {basis}."]
    for row in rows:
        if row["redux_measured"]:
            notes.append(
                f"{row['workload']}: CPU seconds, skbatchbald {row['ours_cpu_s']:.2f}"
                f" vs batchbald_redux {row['redux_cpu_s']:.1f} "
                f"({row['redux_cpu_s'] / row['ours_cpu_s']:.0f}x)"
            )
        if "numpy_bald_wall_s" in row:
            notes.append(
                f"{row['workload']}: bald {row['bald_wall_s']:.4f} s vs plain numpy "
                f"top-k {row['numpy_bald_wall_s']:.4f} s "
                f"(ratio {row['bald_wall_s'] / row['numpy_bald_wall_s']:.2f}); one "
                f"full step scoring all {row['N']} candidates against {row['M']} "
                f"rows: {row['full_step_s']:.3f} s (floor measured during "
                f"development: {FLOOR_S} s); mean sampled step here "
                f"{row['sampled_step_mean_s']:.3f} s"
            )
    return "\n".join(markdown), "\n".join(rst), notes


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--workloads",
        default="all",
        help=f"comma-separated names from {', '.join(WORKLOADS)}, or 'all'",
    )
    parser.add_argument(
        "--redux",
        choices=("auto", "all", "none"),
        default="auto",
        help="where to run batchbald_redux: auto = " + ", ".join(REDUX_AUTO),
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE / "results",
        help="directory for bench_acquisition.{csv,md,rst}; '-' writes nothing",
    )
    args = parser.parse_args(argv)
    names = list(WORKLOADS) if args.workloads == "all" else args.workloads.split(",")
    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {list(WORKLOADS)}")
    if args.redux != "none":
        try:
            import batchbald_redux  # noqa: F401
        except ImportError:
            parser.error(
                "batchbald_redux is not installed: pip install --no-deps "
                "batchbald-redux==2.0.5 toma==1.1.0, or pass --redux none"
            )

    started = datetime.datetime.now(datetime.timezone.utc)
    rows = []
    for name in names:
        run_redux = args.redux == "all" or (args.redux == "auto" and name in REDUX_AUTO)
        row = run_workload(
            name, run_redux=run_redux, repeats=args.repeats, seed=args.seed
        )
        rows.append(row)
        print(json.dumps(row), flush=True)
    basis = _project(rows)
    markdown, rst, notes = _tables(rows, basis)
    command = "python benchmarks/bench_acquisition.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    context = [
        f"date: {started:%Y-%m-%d %H:%M} UTC",
        f"machine: {_machine()}",
        f"command: {command.strip()}",
        "times: wall seconds of the public call (validation included), min and "
        f"median of {args.repeats}; peak MB: growth of the peak resident size "
        "(VmHWM, reset before the call) over the resident size before the call, "
        "pool excluded; load: 1-min load average around the skbatchbald calls "
        "(2 cores shared with other jobs)",
    ]
    print("\n".join([*context, "", markdown, "", *notes]))
    if str(args.out) != "-":
        args.out.mkdir(parents=True, exist_ok=True)
        with open(args.out / "bench_acquisition.csv", "w", newline="") as handle:
            fields = sorted({key for row in rows for key in row})
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
        text = "\n".join(context) + "\n\n" + markdown + "\n\n" + "\n".join(notes)
        (args.out / "bench_acquisition.md").write_text(text + "\n")
        (args.out / "bench_acquisition.rst").write_text(
            rst + "\n\n" + "\n\n".join(context + notes) + "\n"
        )


if __name__ == "__main__":
    main()
