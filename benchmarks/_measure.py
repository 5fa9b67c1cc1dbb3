"""Run one acquisition call in this (fresh) process and print its measurements as JSON.

Used by bench_acquisition.py: one subprocess per measured call, so that the peak
memory of the call is the growth of the process's peak resident size (VmHWM in
/proc/self/status, reset to the current size just before the call through
/proc/self/clear_refs; it sees numpy, torch and BLAS buffers alike) over the
resident size just before the call, with the pool already loaded. The pool is read
from a .npy file, which allocates nothing but the array.
"""

import argparse
import json
import os
import resource
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import psutil

os.environ.setdefault("TQDM_DISABLE", "1")  # batchbald_redux's progress bars


def _numpy_bald_topk(log_probs, n_instances):
    """A plain numpy BALD top-k, the yardstick for `bald`'s speed."""
    probs = np.exp(log_probs)
    mean = probs.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        marginal = -np.nansum(mean * np.log(mean), axis=1)
        conditional = -np.nansum(probs * log_probs, axis=(1, 2)) / probs.shape[1]
    scores = marginal - conditional
    top = np.argpartition(-scores, n_instances - 1)[:n_instances]
    return top[np.argsort(-scores[top])], scores


def _call(method, log_probs, n_instances, n_joint_samples, seed):
    if method in ("skbatchbald", "skbatchbald-lazy"):
        from skbatchbald.acquisition import batchbald

        return batchbald(
            log_probs,
            n_instances,
            n_joint_samples=n_joint_samples,
            random_state=seed,
            lazy=method == "skbatchbald-lazy",
            # batchbald_redux's algorithm: greedy steps after saturation too
            on_saturation="greedy",
        )
    if method == "redux":
        import torch
        from batchbald_redux.batchbald import get_batchbald_batch

        torch.manual_seed(seed)  # redux draws from torch's global generator
        batch = get_batchbald_batch(
            torch.from_numpy(log_probs),
            n_instances,
            n_joint_samples,
            dtype=torch.double,
        )
        return np.asarray(batch.indices), np.asarray(batch.scores)
    if method == "bald":
        from skbatchbald.acquisition import bald

        return bald(log_probs, n_instances)
    if method == "numpy-bald":
        return _numpy_bald_topk(log_probs, n_instances)
    if method == "full-step":
        return _full_step(log_probs, n_joint_samples, seed)
    raise ValueError(f"unknown method {method!r}")


def _full_step(log_probs, n_rows, seed):
    """One greedy step that scores every candidate against n_rows joint rows.

    The work of a sampled step without merging or skipping: the floor of one
    step (docs/benchmarks.rst, "Measurements behind the kernel"). Returns (all
    indices, gains).
    """
    from skbatchbald._memory import check_max_memory
    from skbatchbald.acquisition._batchbald_kernel import CandidateScorer

    n_pool, n_mc_samples, _ = log_probs.shape
    rng = np.random.default_rng(seed)
    posterior = rng.dirichlet(np.full(n_mc_samples, 0.5), size=n_rows)  # (J, K)
    weights = np.full(n_rows, 1.0 / n_rows)
    scorer = CandidateScorer(log_probs, check_max_memory(None) // 2)
    zeros = np.zeros(n_pool)
    gains, _ = scorer.best_gains32(posterior, weights, zeros, zeros, np.inf)
    return np.arange(n_pool), gains


def _trace(log_probs, n_instances, n_joint_samples, seed):
    """Per-step timings of skbatchbald's greedy loop, through its private seam.

    ``_greedy_steps.observe`` collects what each step of the public
    ``batchbald`` call did: its time (the pick and, in the sampled phase, the
    drawing of its label configurations), its table's rows and the candidates
    it scored.
    """
    from skbatchbald.acquisition import batchbald
    from skbatchbald.acquisition._greedy_steps import observe

    with warnings.catch_warnings(), observe() as trace:
        warnings.simplefilter("ignore")
        batchbald(
            log_probs,
            n_instances,
            n_joint_samples=n_joint_samples,
            random_state=seed,
            on_saturation="greedy",
        )
    return trace


def _reset_peak_rss():
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; False if not."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_rss():
    """Peak resident set size of this process since start or reset, in bytes.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across
    exec, so a child of a large benchmark driver would report the driver's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _RssSampler(threading.Thread):
    """Polls the resident set size every millisecond; a cross-check of ru_maxrss."""

    def __init__(self):
        super().__init__(daemon=True)
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(0.001):
            self.peak = max(self.peak, self.process.memory_info().rss)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--method", required=True)
    parser.add_argument("--pool", required=True, help=".npy file of log-probs")
    parser.add_argument("--n-instances", type=int, required=True)
    parser.add_argument("--n-joint-samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)

    log_probs = np.load(args.pool)
    process = psutil.Process()
    reset = _reset_peak_rss()
    rss_before = process.memory_info().rss
    maxrss_before = _peak_rss()
    walls, cpus = [], []
    for repeat in range(args.repeats):
        if repeat == 0:
            sampler = _RssSampler()
            sampler.start()
        cpu = time.process_time()
        wall = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            indices, scores = _call(
                args.method,
                log_probs,
                args.n_instances,
                args.n_joint_samples,
                args.seed,
            )
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        if repeat == 0:
            maxrss_after = _peak_rss()
            sampler.stop.set()
            sampler.join()
    trace = []
    if args.method == "skbatchbald":
        trace = _trace(log_probs, args.n_instances, args.n_joint_samples, args.seed)
    json.dump(
        {
            "method": args.method,
            "wall_s": walls,
            "cpu_s": cpus,
            # growth of the high-water mark during the first call, pool excluded
            "peak_mb": max(0, maxrss_after - max(rss_before, maxrss_before)) / 1e6,
            "peak_sampled_mb": max(0, sampler.peak - rss_before) / 1e6,
            "rss_before_mb": rss_before / 1e6,
            "maxrss_before_mb": maxrss_before / 1e6,
            "peak_reset": reset,
            "indices": np.asarray(indices).tolist(),
            "scores": np.asarray(scores, dtype=float).tolist(),
            "warnings": sorted({w.category.__name__ for w in caught}),
            "trace": trace,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
