"""Plain enumeration references for BatchBALD, independent of the chain-rule kernel.

Everything here is float64 and written for clarity on tiny pools: the joint
distribution of the labels of a set of points is built as an explicit table of all
C^n configurations, P(y_1..y_n) = mean_k prod_i p(y_i | x_i, ω_k).
"""

import numpy as np


def _entropy(probs):
    probs = probs[probs > 0]
    return float(-(probs * np.log(probs)).sum())


def joint_probs_per_sample(probs, points):
    """P(y_{points} | ω_k) for every configuration: shape (K, C^n), float64."""
    n_mc_samples = probs.shape[1]
    table = np.ones((n_mc_samples, 1))
    for point in points:
        # (K, J, 1) * (K, 1, C) -> (K, J * C): configuration index j * C + c
        table = (table[:, :, None] * probs[point][:, None, :]).reshape(n_mc_samples, -1)
    return table


def joint_entropy(probs, points):
    """H(y_{points}) by enumeration of every label configuration."""
    return _entropy(joint_probs_per_sample(probs, points).mean(axis=0))


def joint_mutual_information(probs, points):
    """I(y_{points}; ω) = H(y_points) − Σ_i E_ω H(y_i | ω), by enumeration."""
    conditional = sum(
        np.mean([_entropy(probs[i, k]) for k in range(probs.shape[1])]) for i in points
    )
    return joint_entropy(probs, points) - conditional


def brute_force_batchbald(log_probs, n_instances):
    """Greedy BatchBALD, every gain by enumeration; ties go to the lowest index.

    Returns
    -------
    indices : list of int
    scores : list of float
        Joint mutual information after each pick.
    gaps : list of float
        At each step, best gain minus second-best gain (to spot near-ties).
    """
    probs = np.exp(np.asarray(log_probs, dtype=np.float64))
    chosen, scores, gaps = [], [], []
    for _ in range(n_instances):
        candidates = [x for x in range(probs.shape[0]) if x not in chosen]
        values = [joint_mutual_information(probs, [*chosen, x]) for x in candidates]
        order = np.argsort(-np.asarray(values), kind="stable")
        best = order[0]
        gaps.append(values[best] - values[order[1]] if len(order) > 1 else float("inf"))
        chosen.append(candidates[best])
        scores.append(values[best])
    return chosen, scores, gaps
