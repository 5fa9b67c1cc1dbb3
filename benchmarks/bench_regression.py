"""Regression BatchBALD: the incremental Cholesky greedy against plain numpy.

The reference recomputes, at every greedy step, the log det of each candidate's
(j x j) matrix I + Cov_k(f_B)/σ² from scratch, batched over all candidates with
``numpy.linalg.slogdet``: the straightforward implementation of the same greedy.
``skbatchbald.acquisition.batchbald_regression`` extends a pivoted Cholesky
factor by one column per step instead. Both must pick the same batch; the script
fails otherwise. Times are CPU time of this process (``time.process_time``) and
wall time, best of ``--repeats``.

    python benchmarks/bench_regression.py                  # N = 10^5, K = 50
    python benchmarks/bench_regression.py --n-pool 20000 --batch-sizes 5 10
"""

import argparse
import time

import numpy as np

from skbatchbald.acquisition import batchbald_regression


def naive_greedy(predictions, n_instances, noise_variance):
    """Greedy log det, every candidate's (j x j) matrix rebuilt and factorised."""
    centred = predictions - predictions.mean(axis=1, keepdims=True)
    g = centred / np.sqrt(predictions.shape[1] * noise_variance)  # G G^T = Cov/σ²
    n_pool = len(g)
    picked = []
    scores = []
    for j in range(n_instances):
        candidates = np.setdiff1d(np.arange(n_pool), picked)
        rows = g[picked]  # (j, K)
        mats = np.empty((len(candidates), j + 1, j + 1))
        mats[:, :j, :j] = np.eye(j) + rows @ rows.T
        cross = g[candidates] @ rows.T  # (n, j)
        mats[:, :j, j] = cross
        mats[:, j, :j] = cross
        mats[:, j, j] = 1.0 + np.einsum("nk,nk->n", g[candidates], g[candidates])
        _, logdet = np.linalg.slogdet(mats)
        best = int(np.argmax(logdet))
        picked.append(int(candidates[best]))
        scores.append(0.5 * logdet[best])
    return np.array(picked), np.array(scores)


def _timed(fn, repeats):
    best_cpu = best_wall = np.inf
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        result = fn()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return result, best_cpu, best_wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pool", type=int, default=100_000)
    parser.add_argument("--n-mc-samples", type=int, default=50)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    # a pool with structure: a few directions shared by all points, plus noise
    basis = rng.standard_normal((args.n_pool, 8))
    predictions = basis @ rng.standard_normal((8, args.n_mc_samples))
    predictions += 0.3 * rng.standard_normal(predictions.shape)
    noise = 0.5
    print(
        f"N={args.n_pool} K={args.n_mc_samples}; best of {args.repeats}; "
        "CPU s (process_time) / wall s"
    )
    print("| b | skbatchbald CPU | wall | plain numpy CPU | wall | speed-up (CPU) |")
    print("|---|---|---|---|---|---|")
    for b in args.batch_sizes:
        ours, ours_cpu, ours_wall = _timed(
            lambda b=b: batchbald_regression(predictions, b, noise_variance=noise),
            args.repeats,
        )
        ref, ref_cpu, ref_wall = _timed(
            lambda b=b: naive_greedy(predictions, b, noise), args.repeats
        )
        np.testing.assert_array_equal(ours[0], ref[0])
        np.testing.assert_allclose(ours[1], ref[1], rtol=1e-8)
        print(
            f"| {b} | {ours_cpu:.3f} | {ours_wall:.3f} | {ref_cpu:.2f} | "
            f"{ref_wall:.2f} | {ref_cpu / ours_cpu:.0f}x |"
        )


if __name__ == "__main__":
    main()
