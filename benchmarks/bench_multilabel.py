"""Multi-label BatchBALD: the pruned greedy against a plain numpy implementation.

The reference is the same estimator written straightforwardly: at every greedy
step and for every label it rebuilds the table p(c | ω_k) of the batch's label
configurations c from scratch (a product over the picked points: all 2^i
configurations while that is at most ``n_joint_samples``, then the configurations
drawn from the posterior predictive), and scores every candidate with one
(configurations x K) @ (K x candidates) product per label value, then the joint
entropy ``-Σ_c w_c Σ_y q_c(y) log q_c(y)``. It draws its configurations with the
same random calls as ``multilabel_batchbald``, so both pick the same batch.

Checks: on a small pool (N = 2,000, into the sampled phase) the reference's
picks must equal ``multilabel_batchbald``'s and its scores agree to 1e-9; at the
benchmark size too, where the reference runs whole. Where it does not
(``--reference-candidates``), the reference follows ``multilabel_batchbald``'s
picks and scores, at every step, only the first that many available candidates;
its time is scaled linearly to all candidates (each candidate costs the same) and
marked "extrapolated". Times are CPU time of this process (``time.process_time``)
and wall time, best of ``--repeats``; peak memory is the growth of the process's
peak resident size during the first call (as in ``_measure.py``).

    python benchmarks/bench_multilabel.py                  # N = 10^5, K = 20
    python benchmarks/bench_multilabel.py --n-labels 10 --batch-sizes 10
"""

import argparse
import time

import numpy as np
import psutil
from _measure import _peak_rss, _reset_peak_rss

from skbatchbald.acquisition import multilabel_batchbald


def make_pool(n_pool, n_mc_samples, n_labels, seed=0):
    """log p(y_l = 1 | x_n, ω_k): logits with a per-point epistemic spread.

    The spread is log-uniform over 0.1 to 3 (BALD covers orders of magnitude),
    and half the pool are near-copies of other points (noise 0.05 on the
    logits), as in the single-label benchmark pools.
    """
    rng = np.random.default_rng(seed)
    center = rng.normal(0.0, 2.0, (n_pool, 1, n_labels))
    spread = np.exp(rng.uniform(np.log(0.1), np.log(3.0), (n_pool, 1, 1)))
    logits = center + spread * rng.standard_normal((n_pool, n_mc_samples, n_labels))
    half = n_pool // 2
    copy_of = rng.integers(0, n_pool - half, half)
    logits[n_pool - half :] = logits[copy_of] + 0.05 * rng.standard_normal(
        (half, n_mc_samples, n_labels)
    )
    return -np.logaddexp(0.0, -logits[rng.permutation(n_pool)])  # log sigmoid


def _all_configurations(n_bits):
    """(2^n, n) 0/1 rows in the order multilabel_batchbald builds its rows."""
    return (np.arange(2**n_bits)[:, None] >> np.arange(n_bits)) & 1


def _table(probs, picked, configurations):
    """p(c | ω_k) for every configuration c of the picked points: (C, K)."""
    table = np.ones((len(configurations), probs.shape[1]))
    for j, point in enumerate(picked):
        table *= probs[point][:, configurations[:, j]].T
    return table


def naive_greedy(
    log_probs, n_instances, n_joint_samples, seed, follow=None, n_cand=None
):
    """The plain greedy; returns (picks, scores, CPU s, wall s) to add for the
    candidates not scored: 0 unless ``n_cand``.

    ``follow``: picks to take instead of the argmax (for timing on a subset);
    ``n_cand``: score only the first that many available candidates per step.
    """
    rng = np.random.default_rng(seed)
    p1 = np.exp(log_probs)  # (N, K, L); no probability is exactly 0 or 1 here
    p0 = -np.expm1(log_probs)
    n_pool, n_mc_samples, n_labels = log_probs.shape
    probs = [np.stack([p0[:, :, i], p1[:, :, i]], axis=2) for i in range(n_labels)]
    conditional = -(p0 * np.log(p0) + p1 * np.log(p1)).mean(axis=1).sum(axis=1)
    configurations = [np.zeros((1, 0), dtype=np.int64)] * n_labels
    exact = [True] * n_labels
    picked, scores = [], []
    scoring_cpu = scoring_wall = 0.0
    for step in range(n_instances):
        candidates = np.setdiff1d(np.arange(n_pool), picked)
        scale = len(candidates) / min(len(candidates), n_cand or len(candidates))
        candidates = candidates[:n_cand]
        cpu, wall = time.process_time(), time.perf_counter()
        joint = np.zeros(len(candidates))
        for label in range(n_labels):
            table = _table(probs[label], picked, configurations[label])
            p_c = table.mean(axis=1)
            # exact: every c, weight 1; drawn: weight 1 / (M p(c))
            weight = np.ones_like(p_c) if exact[label] else 1 / (len(p_c) * p_c)
            for start in range(0, len(candidates), 2048):
                block = candidates[start : start + 2048]
                for y in (0, 1):
                    q = table @ probs[label][block, :, y].T / n_mc_samples
                    joint[start : start + 2048] -= weight @ (q * np.log(q))
        scoring_cpu += (time.process_time() - cpu) * (scale - 1)
        scoring_wall += (time.perf_counter() - wall) * (scale - 1)
        gain = joint - conditional[candidates]
        best = int(np.argmax(gain))
        pick = int(candidates[best]) if follow is None else int(follow[step])
        picked.append(pick)
        if follow is None:
            scores.append(joint[best] - conditional[picked].sum())
        for label in range(n_labels):  # the library's random calls, in its order
            if exact[label]:
                configurations[label] = _all_configurations(len(picked))
                if len(configurations[label]) > n_joint_samples:
                    table = _table(probs[label], picked, configurations[label])
                    p_c = table.mean(axis=1)
                    drawn = rng.choice(len(p_c), n_joint_samples, p=p_c / p_c.sum())
                    configurations[label] = configurations[label][drawn]
                    exact[label] = False
            else:
                table = _table(probs[label], picked[:-1], configurations[label])
                q1 = table @ probs[label][pick, :, 1]
                q0 = table @ probs[label][pick, :, 0]
                ones = rng.random(len(table)) * (q0 + q1) < q1
                configurations[label] = np.column_stack([configurations[label], ones])
    return np.array(picked), np.array(scores), scoring_cpu, scoring_wall


def _measured(fn, repeats):
    """(result, best CPU s, best wall s, peak MB of the first call)."""
    _reset_peak_rss()
    rss_before = psutil.Process().memory_info().rss
    peak_before = _peak_rss()
    best_cpu = best_wall = np.inf
    for repeat in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        result = fn()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
        if repeat == 0:
            peak = max(0, _peak_rss() - max(rss_before, peak_before)) / 1e6
    return result, best_cpu, best_wall, peak


def _check_small(n_labels, n_joint_samples):
    """Same picks and scores on N = 2,000, 16 picks, drawn rows from the 11th."""
    log_probs = make_pool(2_000, 20, n_labels, seed=1)
    ours = multilabel_batchbald(log_probs, 16, n_joint_samples=1_000, random_state=0)
    ref = naive_greedy(log_probs, 16, 1_000, seed=0)
    np.testing.assert_array_equal(ours[0], ref[0])
    np.testing.assert_allclose(ours[1], ref[1], atol=1e-9)
    print(f"check: N=2000 L={n_labels} b=16 M=1000: same picks, scores within 1e-9")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pool", type=int, default=100_000)
    parser.add_argument("--n-mc-samples", type=int, default=20)
    parser.add_argument("--n-labels", type=int, default=4)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--n-joint-samples", type=int, default=10_000)
    parser.add_argument(
        "--reference-candidates",
        type=int,
        nargs="+",
        default=None,
        help="per batch size, candidates the reference scores per step (0: all)",
    )
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    subsets = args.reference_candidates or [0] * len(args.batch_sizes)
    _check_small(args.n_labels, args.n_joint_samples)
    log_probs = make_pool(args.n_pool, args.n_mc_samples, args.n_labels)
    print(
        f"N={args.n_pool} K={args.n_mc_samples} L={args.n_labels} "
        f"M={args.n_joint_samples}; best of {args.repeats}: CPU s (process_time) "
        "/ wall s; peak MB of the first call"
    )
    print(
        "| b | skbatchbald CPU | wall | peak MB | plain numpy CPU | wall | "
        "peak MB | speed-up (CPU) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for b, subset in zip(args.batch_sizes, subsets, strict=True):
        ours, cpu, wall, peak = _measured(
            lambda b=b: multilabel_batchbald(
                log_probs, b, n_joint_samples=args.n_joint_samples, random_state=0
            ),
            args.repeats,
        )
        follow = ours[0] if subset else None
        ref, ref_cpu, ref_wall, ref_peak = _measured(
            lambda b=b, f=follow, s=subset: naive_greedy(
                log_probs, b, args.n_joint_samples, 0, follow=f, n_cand=s or None
            ),
            args.repeats,
        )
        ref_cpu, ref_wall = ref_cpu + ref[2], ref_wall + ref[3]
        if subset:
            note = f" (extrapolated from {subset} candidates per step)"
        else:
            np.testing.assert_array_equal(ours[0], ref[0])
            np.testing.assert_allclose(ours[1], ref[1], atol=1e-9)
            note = " (whole; same picks)"
        print(
            f"| {b} | {cpu:.2f} | {wall:.2f} | {peak:.0f} | {ref_cpu:.1f} | "
            f"{ref_wall:.1f} | {ref_peak:.0f} | {ref_cpu / cpu:.0f}x{note} |"
        )


if __name__ == "__main__":
    main()
