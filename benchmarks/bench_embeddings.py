"""One active-learning round on cached embeddings: 10^6 rows, d=384, C=10 (issue 23).

The round: train a head on 1,000 labelled embeddings, draw K=20 posterior
samples of the whole pool (memmapped from a .npy file), BatchBALD b=10. Each
round runs in a fresh subprocess (``--one``) that reports, per phase, wall and
CPU seconds and the peak resident size (VmHWM, reset before each phase through
/proc/self/clear_refs, as in _measure.py), and the peak of its anonymous part
(RssAnon, polled every 5 ms): the memmapped pool's pages are file-backed page
cache, which VmHWM counts once touched and the kernel can drop.

Embeddings are synthetic but not degenerate: C Gaussian class clusters in
384-d whose means are 6 within-class standard deviations apart along random
directions, so that classes overlap and BALD varies across the pool. Stored
float16 (as embedding caches often are: 768 MB at 10^6 x 384), read by blocks.

The head is a parameter (``--head``, see HEADS): add an entry there for
another Bayesian head (e.g. the deep-ensemble and Laplace heads of
skbatchbald.heads); anything ``skbatchbald.sampling.predict_log_proba_samples``
accepts works.

baal's and scikit-activeml's BatchBALD (``--others``) run from a separate
environment (docs/benchmarks.rst says how to create it) on the first n rows of
the same sampled pool, n doubling (from 100 for baal, 1,000 for
scikit-activeml) until a call exceeds 120 s or
2 GiB, or it fails.

    python benchmarks/bench_embeddings.py                  # `make bench`
    python benchmarks/bench_embeddings.py --n-pool 100000 --repeats 1
    python benchmarks/bench_embeddings.py --head laplace --sample-only
    python benchmarks/bench_embeddings.py --others .venv-others/bin/python
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import _peak_rss, _reset_peak_rss

HERE = Path(__file__).resolve().parent
N_FEATURES = 384
N_CLASSES = 10
N_LABELLED = 1_000
N_MC_SAMPLES = 20
N_INSTANCES = 10
SEPARATION = 6.0  # distance between class means, in within-class std units
GIB = 2**30


def _mc_dropout_head(n_features, n_classes, seed):
    from skbatchbald import MCDropoutClassifier
    from skbatchbald.nn import BayesianMLP

    return MCDropoutClassifier(
        BayesianMLP,
        module__n_features=n_features,
        module__n_classes=n_classes,
        module__hidden_sizes=(64,),
        max_epochs=30,
        batch_size=100,
        verbose=0,
        random_state=seed,
    )


def _ensemble_head(n_features, n_classes, seed):
    from skbatchbald import DeepEnsembleClassifier

    # K = 20 samples are the 20 members, trained together as one batched module
    return DeepEnsembleClassifier(
        n_members=20, max_epochs=30, batch_size=100, random_state=seed
    )


def _laplace_head(n_features, n_classes, seed):
    from skbatchbald import LaplaceHeadClassifier

    # Kronecker-factored: the full GGN of a 384 x 10 layer is a 3850 x 3850 matrix
    return LaplaceHeadClassifier(
        hessian_structure="kron",
        n_mc_samples=20,
        max_epochs=30,
        batch_size=100,
        random_state=seed,
    )


# name: factory(n_features, n_classes, seed) -> an unfitted classifier
HEADS = {
    "mc-dropout": _mc_dropout_head,
    "ensemble": _ensemble_head,
    "laplace": _laplace_head,
}


def make_embeddings(path, n_pool, seed=0, block=100_000):
    """Write (n_pool, 384) float16 class-cluster embeddings to ``path``; labels."""
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(N_CLASSES, N_FEATURES))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    means = (SEPARATION / np.sqrt(2)) * directions  # pairwise ~SEPARATION apart
    labels = rng.integers(0, N_CLASSES, size=n_pool)
    X = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float16, shape=(n_pool, N_FEATURES)
    )
    for start in range(0, n_pool, block):
        y = labels[start : start + block]
        noise = rng.standard_normal((y.size, N_FEATURES), dtype=np.float32)
        X[start : start + block] = means[y] + noise
    X.flush()
    del X
    return labels


class _AnonSampler(threading.Thread):
    """Polls RssAnon (memory not backed by a file) every 5 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0
        self.stop = threading.Event()

    @staticmethod
    def anon():
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
        return 0

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, self.anon())
            self.stop.wait(0.005)


def _phase(name, fn, phases):
    _reset_peak_rss()
    sampler = _AnonSampler()
    sampler.start()
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    sampler.stop.set()
    sampler.join()
    phases[name] = {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": _peak_rss() / 1e6,
        "peak_anon_mb": max(sampler.peak, _AnonSampler.anon()) / 1e6,
    }
    return out


def one_round(args):
    """The measured round, in this process; prints JSON."""
    import torch

    from skbatchbald.acquisition import batchbald
    from skbatchbald.sampling import predict_log_proba_samples

    torch.set_num_threads(args.threads)
    # One-time imports (Adam's first construction imports torch._dynamo, ~2 s):
    # paid once per process, not per round; timed apart.
    start = time.perf_counter()
    import torch._dynamo

    warm_up_s = time.perf_counter() - start
    X = np.load(args.embeddings, mmap_mode="r")
    y = np.load(args.labels, mmap_mode="r")
    rng = np.random.default_rng(args.seed)
    labelled = np.sort(rng.choice(len(X), N_LABELLED, replace=False))
    head = HEADS[args.head](X.shape[1], N_CLASSES, args.seed)
    phases = {}
    _phase("fit", lambda: head.fit(X[labelled], y[labelled]), phases)
    log_probs = _phase(
        "sample",
        lambda: predict_log_proba_samples(head, X, N_MC_SAMPLES, args.seed),
        phases,
    )
    indices, scores = np.empty(0, np.int64), np.empty(0)
    if not args.sample_only:
        indices, scores = _phase(
            "batchbald",
            lambda: batchbald(log_probs, N_INSTANCES, random_state=args.seed),
            phases,
        )
    if args.save_log_probs:
        np.save(args.save_log_probs, log_probs)
    from skbatchbald.acquisition import mutual_information

    bald = mutual_information(log_probs)
    from skbatchbald.acquisition._batchbald_kernel import available_cores
    from skbatchbald.classifier._stream import block_threads

    json.dump(
        {
            "phases": phases,
            "block_threads": block_threads(),
            "batchbald_workers": min(available_cores(), 8),
            "warm_up_s": warm_up_s,
            "total_wall_s": sum(p["wall_s"] for p in phases.values()),
            "peak_rss_mb": max(p["peak_rss_mb"] for p in phases.values()),
            "peak_anon_mb": max(p["peak_anon_mb"] for p in phases.values()),
            "indices": indices.tolist(),
            "scores": scores.tolist(),
            "accuracy": float(
                (np.exp(log_probs).mean(axis=1).argmax(axis=1) == y).mean()
            ),
            "bald_quantiles": np.quantile(bald, [0.1, 0.5, 0.9, 1.0]).tolist(),
        },
        sys.stdout,
    )


def _run_round(args, tmp, save=None):
    command = [
        sys.executable,
        __file__,
        "--one",
        "--embeddings",
        str(tmp / "X.npy"),
        "--labels",
        str(tmp / "y.npy"),
        "--head",
        args.head,
        "--threads",
        str(args.threads),
        "--seed",
        str(args.seed),
    ]
    if save:
        command += ["--save-log-probs", str(save)]
    if args.sample_only:
        command.append("--sample-only")
    load = os.getloadavg()[0]
    out = subprocess.run(
        ["taskset", "-c", args.cpus, *command] if args.cpus else command,
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout)
    result["load"] = (load, os.getloadavg()[0])
    return result


def _others(python, pool_path, limit_s, limit_bytes):
    """Largest n each other library's BatchBALD finishes on, by doubling n."""
    rows = []
    # baal needs ~30 s for 100 points here: start where each takes a second or so
    for library, n in (("baal", 100), ("skactiveml", 1_000)):
        while True:
            command = [python, str(HERE / "_others_batchbald.py"), library]
            command += [str(pool_path), str(n), str(N_INSTANCES)]
            try:
                out = subprocess.run(
                    command, capture_output=True, text=True, timeout=limit_s
                )
            except subprocess.TimeoutExpired:
                rows.append({"library": library, "n": n, "stop": f"> {limit_s} s"})
                break
            if out.returncode != 0:
                reason = (out.stderr.strip().splitlines() or ["failed"])[-1]
                rows.append({"library": library, "n": n, "stop": reason[:120]})
                break
            result = json.loads(out.stdout)
            rows.append({"library": library, "n": n, **result})
            if result["peak_rss_mb"] * 1e6 > limit_bytes or n >= 1_000_000:
                break
            n *= 2
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--embeddings")
    parser.add_argument("--labels")
    parser.add_argument("--save-log-probs")
    parser.add_argument("--n-pool", type=int, default=1_000_000)
    parser.add_argument(
        "--sample-only",
        action="store_true",
        help="fit and sample, no BatchBALD (a head whose batch saturates)",
    )
    parser.add_argument("--head", choices=sorted(HEADS), default="mc-dropout")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--cpus", default="", help="taskset CPU list, e.g. 0,1")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--others", default="", help="python of the venv with baal, skactiveml"
    )
    parser.add_argument("--others-limit-s", type=float, default=120.0)
    args = parser.parse_args(argv)
    if args.one:
        one_round(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        labels = make_embeddings(tmp / "X.npy", args.n_pool, args.seed)
        np.save(tmp / "y.npy", labels)
        runs = [
            _run_round(args, tmp, tmp / "log_probs.npy" if r == 0 else None)
            for r in range(args.repeats)
        ]
        others = []
        if args.others:
            others = _others(
                args.others, tmp / "log_probs.npy", args.others_limit_s, 2 * GIB
            )
    _report(args, runs, others)


def _report(args, runs, others):
    median = lambda values: float(np.median(values))  # noqa: E731
    print(
        f"N={args.n_pool:,} d={N_FEATURES} C={N_CLASSES} labelled={N_LABELLED} "
        f"K={N_MC_SAMPLES} b={N_INSTANCES} head={args.head} torch "
        f"threads={args.threads} cpus={args.cpus or 'all'} "
        f"repeats={len(runs)} (median); machine cores={psutil.cpu_count()}"
    )
    print(
        f"{'phase':<10} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12} {'anon MB':>8}"
    )
    for name in runs[0]["phases"]:
        values = [run["phases"][name] for run in runs]
        print(
            f"{name:<10} {median([v['wall_s'] for v in values]):8.2f} "
            f"{median([v['cpu_s'] for v in values]):8.2f} "
            f"{max(v['peak_rss_mb'] for v in values):12.0f} "
            f"{max(v['peak_anon_mb'] for v in values):8.0f}"
        )
    total = median([run["total_wall_s"] for run in runs])
    cpu = median([sum(p["cpu_s"] for p in run["phases"].values()) for run in runs])
    anon = max(r["peak_anon_mb"] for r in runs)
    print(f"{'round':<10} {total:8.2f} {cpu:8.2f}")
    if args.sample_only:
        verdict = "no BatchBALD (--sample-only): not a whole round"
    elif args.n_pool == 1_000_000:
        verdict = (
            f"target 10 s wall {'met' if total <= 10 else 'NOT met'} "
            f"({total / 10:.2f}x), 2 GiB {'met' if anon <= 2147 else 'NOT met'}"
        )
    else:
        verdict = "the targets (10 s, 2 GiB) are for N=1,000,000"
    print(
        f"round: {total:.2f} s wall, {cpu:.2f} CPU s (medians), peak anonymous "
        f"{anon:.0f} MB (peak RSS {max(r['peak_rss_mb'] for r in runs):.0f} MB, "
        f"with the memmapped pool's page cache): {verdict}"
    )
    print(f"walls: {[round(r['total_wall_s'], 2) for r in runs]}")
    print(
        f"threads: {runs[0]['block_threads']} sampling the pool's blocks, "
        f"{runs[0]['batchbald_workers']} BatchBALD workers (CPU s over wall s of a "
        f"phase: how many were busy at once)"
    )
    print(f"one-time imports, not in the round: {runs[0]['warm_up_s']:.2f} s")
    print(f"load average (before, after): {[r['load'] for r in runs]}")
    print(f"head accuracy on the pool: {runs[0]['accuracy']:.3f}")
    print(f"BALD 10/50/90/100 %: {np.round(runs[0]['bald_quantiles'], 4).tolist()}")
    if not args.sample_only:
        print(f"picks: {runs[0]['indices']}")
        same = len({str(r["indices"]) for r in runs}) == 1
        print(f"same picks in every repeat: {same}")
    for row in others:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
