"""Sampling benchmark: posterior samples of a pool against batchbald_redux 2.0.5.

Times ``MCDropoutClassifier.predict_log_proba_samples`` on random 28x28 pools
and compares it, in the same run and with the same weights, with
batchbald_redux's ``BayesianModule`` sampler (the input expanded K-fold and the
whole network run on B*K rows, as in the reference code's active-learning
loop). Every measured call runs in a fresh subprocess of this script
(``--one``), so its peak memory is the growth of the process's peak resident
size over its size before the call, the pool already loaded (see _measure.py);
with ``n_jobs`` workers, of the summed resident size of the process and its
workers, sampled every 5 ms by a thread that runs only then (its CPU time would
otherwise count in a one-thread measurement).

Workloads:

- the paper's MNIST CNN (BayesianCNN), N=10k, K=20 and K=100: CPU seconds on
  one torch thread, for ours and for batchbald_redux (K=100 on a 2k subset for
  batchbald_redux: per (point, sample) costs are reported, not totals), and
  for the earlier per-k loop and the generic folded path on 1k rows;
- the same at K=20 on both cores, next to a busy process: one thread, two
  torch threads, ``n_jobs=2``;
- a net with a deterministic conv trunk and an MC-dropout head: K=1 vs K=20;
- an MNIST-scale round, N=60k, K=20 and K=100: sampling with ``n_jobs=2`` plus
  ``batchbald`` (b=10), wall time and peak memory.

    python benchmarks/bench_sampling.py              # everything, `make bench`
    python benchmarks/bench_sampling.py --quick      # N / 10, a few minutes
"""

import argparse
import contextlib
import csv
import datetime
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import _peak_rss, _reset_peak_rss
from _trunk_net import TrunkNet
from bench_acquisition import _machine

HERE = Path(__file__).resolve().parent
BATCH_SIZE = 128
GROUPS = ("cnn20", "cnn100", "redux", "trunk", "round100", "round20", "cores", "paths")


# ---------------------------------------------------------------- one measurement


def _redux_cnn(state_dict):
    """The paper's MNIST CNN written with batchbald_redux's modules."""
    import torch
    from batchbald_redux import consistent_mc_dropout as mc
    from torch import nn
    from torch.nn import functional as F

    class ReduxCNN(mc.BayesianModule):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 5)
            self.conv1_drop = mc.ConsistentMCDropout2d()
            self.conv2 = nn.Conv2d(32, 64, 5)
            self.conv2_drop = mc.ConsistentMCDropout2d()
            self.fc1 = nn.Linear(1024, 128)
            self.fc1_drop = mc.ConsistentMCDropout()
            self.fc2 = nn.Linear(128, 10)

        def mc_forward_impl(self, x):
            x = F.relu(F.max_pool2d(self.conv1_drop(self.conv1(x)), 2))
            x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
            x = F.relu(self.fc1_drop(self.fc1(x.flatten(1))))
            return F.log_softmax(self.fc2(x), dim=1)

    net = ReduxCNN()
    net.load_state_dict(state_dict)
    torch.manual_seed(0)  # redux draws its masks from torch's global generator
    return net.eval()


def _redux_sample(net, X, n_mc_samples):
    """batchbald_redux's pool loop: model(batch, K) per batch, (N, K, C)."""
    import torch

    out = torch.empty((len(X), n_mc_samples, 10))
    with torch.no_grad():
        for start in range(0, len(X), BATCH_SIZE):
            batch = torch.from_numpy(X[start : start + BATCH_SIZE])
            out[start : start + BATCH_SIZE] = net(batch, n_mc_samples)
    return out.numpy()


def _loop_sample(module, X, n_mc_samples):
    """The earlier per-k loop: the whole net once per sample and batch."""
    import torch

    from skbatchbald.nn import consistent_dropout

    out = np.empty((len(X), n_mc_samples, 10), dtype=np.float32)
    with torch.no_grad(), consistent_dropout(module, n_mc_samples, 0) as masks:
        for start in range(0, len(X), BATCH_SIZE):
            batch = torch.from_numpy(X[start : start + BATCH_SIZE])
            for k in range(n_mc_samples):
                masks.select(k)
                out[start : start + BATCH_SIZE, k] = module(batch).log_softmax(-1)
    return out


class _TreeRss(threading.Thread):
    """Peak of the summed resident size of this process and its children
    (joblib's workers), sampled every 5 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.process = psutil.Process()
        self.base = self.peak = self._now()
        self.stop = threading.Event()

    def _now(self):
        total = 0
        for p in [self.process, *self.process.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def run(self):
        while not self.stop.wait(0.005):
            self.peak = max(self.peak, self._now())


def one(spec):
    """Run one measured call described by ``spec``; return its measurements."""
    import torch

    from skbatchbald import MCDropoutClassifier
    from skbatchbald.nn import BayesianCNN

    torch.set_num_threads(spec["threads"])
    X = np.random.default_rng(0).random((spec["n"], 1, 28, 28), dtype=np.float32)
    module = TrunkNet if spec["net"] == "trunk" else BayesianCNN
    clf = MCDropoutClassifier(
        module,
        batch_size=BATCH_SIZE,
        max_epochs=1,
        verbose=0,
        random_state=0,
        n_jobs=spec.get("n_jobs"),
    ).fit(X[:20], np.arange(20) % 10)
    k, method = spec["k"], spec["method"]
    if method == "redux":
        redux = _redux_cnn(clf.module_.state_dict())
        call = lambda: _redux_sample(redux, X, k)  # noqa: E731
    elif method == "loop":
        call = lambda: _loop_sample(clf.module_, X, k)  # noqa: E731
    else:
        if method == "folded":  # the generic path: no mc_forward
            clf.module_.mc_forward = lambda x, masks: NotImplemented
        call = lambda: clf.predict_log_proba_samples(X, k, random_state=0)  # noqa: E731
    if spec.get("warm"):
        clf.predict_log_proba_samples(X[:256], k, random_state=0)  # start workers
    reset = _reset_peak_rss()
    rss_before = _peak_rss()
    # Only where workers run: the sampler's own thread would add its CPU time
    # to a one-process measurement, whose peak VmHWM gives anyway.
    tree = _TreeRss() if spec.get("n_jobs") else None
    if tree is not None:
        tree.start()
    wall, cpu = time.perf_counter(), time.process_time()
    log_probs = call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    result = {"wall_s": wall, "cpu_s": cpu, "shape": list(log_probs.shape)}
    if spec.get("batchbald"):
        from skbatchbald.acquisition import batchbald

        start = time.perf_counter()
        batchbald(log_probs, 10, random_state=0)
        result["batchbald_s"] = time.perf_counter() - start
    # this process's peak growth (VmHWM), and that of the process tree (workers)
    result["peak_mb"] = (_peak_rss() - rss_before) / 1e6 if reset else None
    result["tree_peak_mb"] = 0.0
    if tree is not None:
        tree.stop.set()
        tree.join()
        result["tree_peak_mb"] = (tree.peak - tree.base) / 1e6
    return result


# ---------------------------------------------------------------- the driver


def _spin():
    """A busy process: the "other core busy" of the two-core measurements."""
    return subprocess.Popen(
        [sys.executable, "-c", "while True: pass"], stdout=subprocess.DEVNULL
    )


def measure(spec, busy=False):
    spinner = _spin() if busy else None
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--one", json.dumps(spec)],
            check=True,
            capture_output=True,
            text=True,
            env=dict(os.environ, TQDM_DISABLE="1"),
        ).stdout
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    result = json.loads(out.strip().splitlines()[-1])
    result["load"] = os.getloadavg()[0]
    print(json.dumps({**spec, **result}), flush=True)
    return result


def _rows(scale, groups=GROUPS):
    n10k, n1k, n2k, n60k = (
        max(256, n // scale) for n in (10_000, 1_000, 2_000, 60_000)
    )
    cnn = {"net": "cnn", "threads": 1}
    rows = []

    def add(group, label, spec, busy=False):
        result = measure(spec, busy)
        per = result["cpu_s"] / (spec["n"] * spec["k"]) * 1e6
        rows.append({"group": group, "setting": label, **spec, **result, "us": per})
        return result

    # most important first: a run cut short by the load still has the targets
    for k in (20, 100):
        group = f"paper CNN, K={k}, one thread"
        if f"cnn{k}" in groups:
            add(
                group,
                "skbatchbald (mc_forward)",
                {**cnn, "method": "ours", "n": n10k, "k": k},
            )
        if "redux" in groups:
            redux = {**cnn, "method": "redux", "n": n10k if k == 20 else n2k, "k": k}
            add(group, "batchbald_redux", redux)
    trunk = {"net": "trunk", "threads": 1, "method": "ours", "n": n2k}
    if "trunk" in groups:
        add("trunk net, one thread", "K=1", {**trunk, "k": 1})
        add("trunk net, one thread", "K=20", {**trunk, "k": 20})
    for k in (100, 20):
        if f"round{k}" in groups:
            group = f"MNIST-scale round, K={k}, n_jobs=2"
            spec = {**cnn, "method": "ours", "n": n60k, "k": k, "n_jobs": 2}
            add(
                group, "sampling + batchbald", {**spec, "warm": True, "batchbald": True}
            )
    if "cores" in groups:
        group = "paper CNN, K=20, two cores, other core busy"
        base = {**cnn, "method": "ours", "n": n10k, "k": 20}
        add(group, "1 torch thread", base, busy=True)
        add(group, "2 torch threads", {**base, "threads": 2}, busy=True)
        add(group, "n_jobs=2", {**base, "n_jobs": 2, "warm": True}, busy=True)
    if "paths" in groups:
        for k in (20, 100):
            group = f"paper CNN, K={k}, one thread"
            folded = {**cnn, "method": "folded", "n": n1k, "k": k}
            add(group, "skbatchbald, generic folded path", folded)
            add(group, "per-k loop (before)", {**folded, "method": "loop"})
        loop = {**trunk, "method": "loop", "k": 20, "n": max(64, n2k // 10)}
        add("trunk net, one thread", "K=20, per-k loop (before)", loop)
    return rows


def _table(rows):
    header = [
        "group",
        "setting",
        "N",
        "K",
        "wall s",
        "CPU s",
        "us per (point, sample)",
        "peak MB",
        "batchbald s",
        "load",
    ]
    lines = []
    for r in rows:
        lines.append(
            [
                r["group"],
                r["setting"],
                f"{r['n']:,}",
                str(r["k"]),
                f"{r['wall_s']:.1f}",
                f"{r['cpu_s']:.1f}",
                "-" if r.get("n_jobs") else f"{r['us']:.0f}",  # workers' CPU unseen
                f"{max(r['peak_mb'] or 0, r['tree_peak_mb']):.0f}",
                f"{r['batchbald_s']:.2f}" if "batchbald_s" in r else "-",
                f"{r['load']:.1f}",
            ]
        )
    widths = [
        max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)
    ]
    rule = "  ".join("=" * w for w in widths)
    rst = [
        rule,
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
        rule,
    ]
    rst += [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    rst.append(rule)
    md = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(line) + " |" for line in lines]
    return header, lines, "\n".join(rst), "\n".join(md)


def _ratios(rows):
    def get(group, setting):
        return next(r for r in rows if r["group"] == group and r["setting"] == setting)

    notes = []
    for k in (20, 100):
        group = f"paper CNN, K={k}, one thread"
        with contextlib.suppress(StopIteration):  # a subset of the groups was run
            ours = get(group, "skbatchbald (mc_forward)")
            redux = get(group, "batchbald_redux")
            notes.append(
                f"Paper CNN, K={k}, one thread: {ours['us']:.0f} us per (point, "
                f"sample), batchbald_redux {redux['us']:.0f} "
                f"({redux['us'] / ours['us']:.1f}x), in CPU time."
            )
        with contextlib.suppress(StopIteration):
            ours = get(group, "skbatchbald (mc_forward)")
            loop = get(group, "per-k loop (before)")
            notes.append(
                f"Paper CNN, K={k}: the per-k loop costs "
                f"{loop['us'] / ours['us']:.1f}x ours per (point, sample)."
            )
    with contextlib.suppress(StopIteration):
        group = "paper CNN, K=20, two cores, other core busy"
        walls = [
            get(group, s)["wall_s"]
            for s in ("1 torch thread", "2 torch threads", "n_jobs=2")
        ]
        notes.append(
            "Two cores, other core busy, wall: 1 thread {:.1f} s, 2 torch threads "
            "{:.1f} s, n_jobs=2 {:.1f} s.".format(*walls)
        )
    with contextlib.suppress(StopIteration):
        k1 = get("trunk net, one thread", "K=1")
        k20 = get("trunk net, one thread", "K=20")
        notes.append(
            f"Trunk net: K=20 costs {k20['cpu_s'] / k1['cpu_s']:.2f}x K=1 "
            "(CPU time, same N)."
        )
    return notes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="pools 10x smaller")
    parser.add_argument(
        "--groups",
        default=",".join(GROUPS),
        help=f"comma-separated subset of {','.join(GROUPS)}",
    )
    parser.add_argument(
        "--out", default=str(HERE / "results"), help="'-' writes nothing"
    )
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(json.loads(args.one))))
        return
    started = datetime.datetime.now(datetime.timezone.utc)
    context = [
        f"Run {started:%Y-%m-%d %H:%M} UTC; {_machine()}; batchbald_redux 2.0.5.",
        f"Load average (1 min) at start {os.getloadavg()[0]:.1f}.",
    ]
    rows = _rows(10 if args.quick else 1, args.groups.split(","))
    context.append(f"Load average (1 min) at end {os.getloadavg()[0]:.1f}.")
    header, lines, rst, md = _table(rows)
    notes = _ratios(rows)
    print(md, *context, *notes, sep="\n")
    if args.out != "-":
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        name = "bench_sampling_quick" if args.quick else "bench_sampling"
        if args.groups != ",".join(GROUPS):
            name += "_" + args.groups.replace(",", "_")
        with open(out / f"{name}.csv", "w", newline="") as f:
            csv.writer(f).writerows([header, *lines])
        command = "python benchmarks/bench_sampling.py" + (
            " --quick" if args.quick else ""
        )
        if args.groups != ",".join(GROUPS):
            command += f" --groups {args.groups}"
        text = "\n\n".join([*context, f"Command: ``{command}``", *notes])
        (out / f"{name}.md").write_text(md + "\n\n" + text + "\n")
        (out / f"{name}.rst").write_text(rst + "\n\n" + text + "\n")


if __name__ == "__main__":
    main()
