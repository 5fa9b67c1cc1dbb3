"""Time consistent MC-dropout sampling with the paper's MNIST CNN.

Draws ``predict_log_proba_samples`` for N pool images of 28x28 (random pixels)
with K posterior samples from :class:`skbatchbald.nn.BayesianCNN` wrapped in
:class:`skbatchbald.MCDropoutClassifier`, and prints the wall time, the
throughput and the process's peak resident memory. For reference it also times
the inconsistent way (skorch's ``forward`` in train mode, K times), which costs
the same arithmetic but draws a fresh mask per row.

Usage::

    python benchmarks/bench_sampling.py                 # N=10,000, K=20
    python benchmarks/bench_sampling.py --n 2000 --threads 1 --no-reference
"""

import argparse
import os
import platform
import resource
import time

import numpy as np
import torch

from skbatchbald import MCDropoutClassifier
from skbatchbald.nn import BayesianCNN


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="pool size N")
    parser.add_argument("--k", type=int, default=20, help="posterior samples K")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the train-mode reference"
    )
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    X = rng.random((args.n, 1, 28, 28), dtype=np.float32)  # (N, 1, 28, 28)
    net = MCDropoutClassifier(
        BayesianCNN,
        batch_size=args.batch_size,
        max_epochs=1,
        verbose=0,
        random_state=0,
    ).fit(X[:20], np.arange(20) % 10)
    rss_before = peak_rss_mib()

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} CPUs ({platform.machine()}), load average "
        f"{os.getloadavg()[0]:.1f} (CPU time is the figure less affected by load)"
    )
    print(f"N={args.n}, K={args.k}, 28x28, batch_size={args.batch_size}")
    # wall time, and process CPU time (less sensitive to other load on the machine)
    times = []
    for _ in range(args.repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        log_probs = net.predict_log_proba_samples(
            X, n_mc_samples=args.k, random_state=0
        )
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    assert log_probs.shape == (args.n, args.k, 10)
    wall, cpu = min(times)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(
        f"predict_log_proba_samples: {wall:.1f} s wall, {cpu:.1f} s CPU (best of "
        f"{args.repeats}), {args.n * args.k / wall:,.0f} image-forwards/s; output "
        f"{log_probs.nbytes / 2**20:.1f} MiB; peak RSS {peak_rss_mib():.0f} MiB "
        f"(before sampling {rss_before:.0f} MiB)"
    )

    if not args.no_reference:
        wall, cpu = time.perf_counter(), time.process_time()
        with torch.no_grad():
            for _ in range(args.k):
                net.forward(X, training=True)
        print(
            "reference, K x skorch forward(training=True), inconsistent masks: "
            f"{time.perf_counter() - wall:.1f} s wall, "
            f"{time.process_time() - cpu:.1f} s CPU"
        )


if __name__ == "__main__":
    main()
