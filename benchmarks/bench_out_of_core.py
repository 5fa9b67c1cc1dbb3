"""Acquisition on pools stored on disk, and on a Dask LocalCluster.

Three measurements, each printed as one JSON line (with the load average before
and after) and appended to benchmarks/results/bench_out_of_core.jsonl:

``disk``: a pool of N points written to a .npy file (synthetic_pools.make_pool,
chunk by chunk), read warm from the page cache as a numpy memmap: BALD top-10 and
BatchBALD b=10 (M=10,000, lazy off) wall time, with the peak anonymous memory
(RssAnon: the page cache holding the pool is not counted) polled every 10 ms.

``cluster``: BatchBALD b=10 on a pool of N points persisted on a LocalCluster of
1 and then 2 single-threaded worker processes: wall time and picks of each.

``sampling``: consistent MC-dropout samples of the paper's MNIST CNN for N random
images through ``dask_log_proba_samples`` on 1 and on 2 workers.

Usage::

    python benchmarks/bench_out_of_core.py disk --n-pool 10_000_000 --path /tmp/p.npy
    python benchmarks/bench_out_of_core.py cluster --n-pool 1_000_000
    python benchmarks/bench_out_of_core.py sampling --n-pool 20_000

``make bench`` runs small versions of the three (N = 10^6, 10^5 and 2,000).
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
from synthetic_pools import make_pool  # benchmarks/ is on the script's path

RESULTS = Path(__file__).parent / "results" / "bench_out_of_core.jsonl"
CHUNK = 200_000  # points generated per chunk: ~300 MB of float64 temporaries


def _load():
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def _rss_anon():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0


class _AnonPeak(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = _rss_anon()
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.01):
            self.peak = max(self.peak, _rss_anon())


def write_pool(path, n_pool, n_mc_samples, n_classes):
    """A make_pool pool of n_pool points written chunk by chunk (seed = chunk)."""
    out = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float32, shape=(n_pool, n_mc_samples, n_classes)
    )
    for seed, start in enumerate(range(0, n_pool, CHUNK)):
        rows = min(CHUNK, n_pool - start)
        out[start : start + rows] = make_pool(rows, n_mc_samples, n_classes, seed=seed)[
            0
        ]
    out.flush()
    del out


def _warm(path):
    with open(path, "rb") as f:
        while f.read(64 * 2**20):
            pass


def _timed(fn):
    sampler = _AnonPeak()
    before = _rss_anon()
    sampler.start()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = fn()
    wall = time.perf_counter() - start
    sampler.stop.set()
    sampler.join()
    return result, wall, sampler.peak, before


class _Steps(list):
    """A trace that prints each greedy step as it ends (long runs show progress)."""

    def append(self, step):
        super().append(step)
        print(json.dumps({**step, "load": _load()}), file=sys.stderr, flush=True)


def _batchbald_traced(pool, n_instances, trace):
    """``batchbald(pool, n_instances, random_state=0)``, each step into ``trace``."""
    from skbatchbald.acquisition import batchbald
    from skbatchbald.acquisition._greedy_steps import observe

    with observe(into=trace):
        return batchbald(pool, n_instances, random_state=0)


def bench_disk(args):
    from skbatchbald.acquisition import bald

    path = Path(args.path)
    if not path.exists():
        start = time.perf_counter()
        write_pool(path, args.n_pool, args.k, args.c)
        print(f"wrote {path} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    _warm(path)
    pool = np.load(path, mmap_mode="r")
    out = {"bench": "disk", "shape": list(pool.shape), "GB": path.stat().st_size / 1e9}
    steps = _Steps()
    for name, call in (
        ("bald_top10", lambda: bald(pool, 10)),
        ("batchbald_b10", lambda: _batchbald_traced(pool, 10, steps)),
    ):
        load = _load()
        (indices, _), wall, peak, before = _timed(call)
        out[name] = {
            "wall_s": round(wall, 1),
            "rss_anon_peak_GiB": round(peak / 2**30, 3),
            "rss_anon_before_GiB": round(before / 2**30, 3),
            "indices": indices.tolist(),
            "load_before": load,
            "load_after": _load(),
        }
    out["batchbald_b10"]["step_s"] = [round(step["seconds"], 1) for step in steps]
    return out


def _cluster(n_workers):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        memory_limit="6GiB",
    )
    return cluster, Client(cluster)


def _load_rows(path, start, stop):
    return np.array(np.load(path, mmap_mode="r")[start:stop])


def bench_cluster(args):
    import dask
    import dask.array as da
    from distributed import wait

    from skbatchbald.acquisition import batchbald

    path = Path(args.path)
    if not path.exists():
        write_pool(path, args.n_pool, args.k, args.c)
    shape = (args.n_pool, args.k, args.c)
    step = args.block_rows
    blocks = [
        da.from_delayed(
            dask.delayed(_load_rows)(str(path), s, min(s + step, shape[0])),
            shape=(min(step, shape[0] - s), *shape[1:]),
            dtype=np.float32,
        )
        for s in range(0, shape[0], step)
    ]
    lazy = da.concatenate(blocks)
    out = {"bench": "cluster", "shape": list(shape), "block_rows": step}
    for n_workers in (1, 2):
        cluster, client = _cluster(n_workers)
        try:
            pool = client.persist(lazy)
            wait(pool)
            load = _load()
            (indices, _), wall, _, _ = _timed(
                lambda pool=pool: batchbald(pool, 10, random_state=0)
            )
            out[f"workers_{n_workers}"] = {
                "wall_s": round(wall, 1),
                "indices": indices.tolist(),
                "load_before": load,
                "load_after": _load(),
            }
        finally:
            client.close()
            cluster.close()
    out["speedup"] = round(out["workers_1"]["wall_s"] / out["workers_2"]["wall_s"], 2)
    out["same_picks"] = out["workers_1"]["indices"] == out["workers_2"]["indices"]
    return out


def bench_sampling(args):
    import dask.array as da
    import torch

    from skbatchbald import MCDropoutClassifier
    from skbatchbald.nn import BayesianCNN
    from skbatchbald.out_of_core import dask_log_proba_samples

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    X_train = rng.random((64, 1, 28, 28), dtype=np.float32)
    y_train = np.arange(64) % 10
    clf = MCDropoutClassifier(
        BayesianCNN, max_epochs=1, verbose=0, random_state=0, n_mc_samples=args.k
    ).fit(X_train, y_train)
    X = da.from_array(
        rng.random((args.n_pool, 1, 28, 28), dtype=np.float32),
        chunks=(args.n_pool // 8, 1, 28, 28),
    )
    out = {"bench": "sampling", "n_pool": args.n_pool, "k": args.k}
    results = {}
    for n_workers in (1, 2):
        cluster, client = _cluster(n_workers)
        try:
            client.run(lambda: __import__("torch").set_num_threads(1))
            # workers import torch and receive the net before the clock starts
            dask_log_proba_samples(clf, X[:8], random_state=0).compute()
            load = _load()
            lp, wall, _, _ = _timed(
                lambda: dask_log_proba_samples(clf, X, random_state=0).compute()
            )
            results[n_workers] = lp
            out[f"workers_{n_workers}"] = {
                "wall_s": round(wall, 1),
                "load_before": load,
                "load_after": _load(),
            }
        finally:
            client.close()
            cluster.close()
    out["speedup"] = round(out["workers_1"]["wall_s"] / out["workers_2"]["wall_s"], 2)
    out["max_abs_diff"] = float(np.abs(results[1] - results[2]).max())
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["disk", "cluster", "sampling", "small"])
    parser.add_argument("--n-pool", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--c", type=int, default=10)
    parser.add_argument("--path", default=None, help=".npy pool (written if absent)")
    parser.add_argument("--block-rows", type=int, default=62_500)
    parser.add_argument("--keep", action="store_true", help="keep the pool file")
    args = parser.parse_args(argv)
    if args.what == "small":  # what `make bench` runs: a few minutes
        runs = [
            ("disk", {"n_pool": 1_000_000}),
            ("cluster", {"n_pool": 100_000, "block_rows": 6_250}),
            ("sampling", {"n_pool": 2_000}),
        ]
    else:
        runs = [(args.what, {})]
    for what, overrides in runs:
        run_args = argparse.Namespace(**{**vars(args), **overrides})
        tmp = None
        if run_args.path is None and what != "sampling":
            tmp = tempfile.mkdtemp(dir=os.environ.get("SKBB_BENCH_DIR"))
            run_args.path = os.path.join(tmp, "pool.npy")
        try:
            bench = {"disk": bench_disk, "cluster": bench_cluster}.get(
                what, bench_sampling
            )
            result = bench(run_args)
        finally:
            if run_args.path and (tmp or not args.keep) and what != "sampling":
                Path(run_args.path).unlink(missing_ok=True)
            if tmp:
                os.rmdir(tmp)
        line = json.dumps(result)
        print(line, flush=True)
        with RESULTS.open("a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
