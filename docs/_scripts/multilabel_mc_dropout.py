"""Multi-label digits with an MC-dropout network: BatchBALD, BALD and random.

The neural-network counterpart of the gallery example
``examples/plot_multilabel.py`` (the same four labels, split, budget and
seeds), with an :class:`~skbatchbald.MCDropoutMultiLabelClassifier` retrained
from scratch every round instead of a forest; too slow for the gallery, so
its results are kept in ``docs/_static/multilabel/mc_dropout.csv`` and the
user guide page (Multi-label) reports them.

Run from the repository root (a few minutes on one busy core)::

    nice -n 10 python docs/_scripts/multilabel_mc_dropout.py
"""

import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import wilcoxon
from sklearn.datasets import load_digits
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from skbatchbald import (
    ActiveLearner,
    BALDQuery,
    BatchBALDQuery,
    MCDropoutMultiLabelClassifier,
    RandomQuery,
)
from skbatchbald.nn import BayesianMLP

torch.set_num_threads(1)  # tiny networks: one thread is the fastest
OUT = Path(__file__).resolve().parents[1] / "_static" / "multilabel" / "mc_dropout.csv"
N_START, BATCH, ROUNDS, SEEDS, K = 20, 8, 12, range(10), 20

X, digit = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
Y = np.stack(
    [
        digit % 2 == 0,
        digit > 4,
        np.isin(digit, [2, 3, 5, 7]),
        np.isin(digit, [0, 4, 6, 8, 9]),
    ],
    axis=1,
).astype(np.int64)
X_pool, X_test, Y_pool, Y_test = train_test_split(
    X, Y, test_size=500, random_state=0, stratify=digit
)
STRATEGIES = {
    "BatchBALD": lambda seed: BatchBALDQuery(n_mc_samples=K, random_state=seed),
    "BALD": lambda seed: BALDQuery(n_mc_samples=K, random_state=seed),
    "random": lambda seed: RandomQuery(random_state=seed),
}


def net(seed):
    return MCDropoutMultiLabelClassifier(
        BayesianMLP,
        module__n_features=64,
        module__hidden_sizes=(128,),
        n_mc_samples=K,
        max_epochs=150,
        lr=3e-3,
        batch_size=64,
        verbose=0,
        random_state=seed,
    )


def run(name, seed):
    rng = np.random.default_rng(seed)
    start = rng.choice(len(X_pool), N_START, replace=False)
    learner = ActiveLearner(
        net(seed),
        query_strategy=STRATEGIES[name](seed),
        X_training=X_pool[start],
        y_training=Y_pool[start],
    )
    pool = np.setdiff1d(np.arange(len(X_pool)), start)
    rows = []
    for round_ in range(ROUNDS + 1):
        f1 = f1_score(Y_test, learner.predict(X_test), average="micro")
        rows.append((name, seed, N_START + BATCH * round_, f1))
        if round_ == ROUNDS:
            return rows
        picked, _ = learner.query(X_pool[pool], n_instances=BATCH)
        learner.teach(X_pool[pool[picked]], Y_pool[pool[picked]])
        pool = np.delete(pool, picked)


def main():
    wall, cpu = time.perf_counter(), time.process_time()
    rows = [row for seed in SEEDS for name in STRATEGIES for row in run(name, seed)]
    seconds = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{seconds[0]:.0f} s wall, {seconds[1]:.0f} s CPU")
    table = pd.DataFrame(rows, columns=["strategy", "seed", "n_labelled", "micro_f1"])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUT, index=False)
    curves = table.pivot_table(
        index=["strategy", "seed"], columns="n_labelled", values="micro_f1"
    )
    x = curves.columns.to_numpy(dtype=float)
    area = {
        name: np.trapezoid(curves.loc[name].to_numpy(), x, axis=1) / (x[-1] - x[0])
        for name in STRATEGIES
    }
    for name in STRATEGIES:
        final = curves.loc[name].iloc[:, -1].mean()
        print(f"{name}: mean AUC {area[name].mean():.4f}, final F1 {final:.4f}")
    for first, second in [
        ("BatchBALD", "random"),
        ("BALD", "random"),
        ("BatchBALD", "BALD"),
    ]:
        difference = area[first] - area[second]
        print(
            f"{first} - {second}: {difference.mean():+.4f} "
            f"(wins {(difference > 0).sum()}/{len(SEEDS)}), Wilcoxon p = "
            f"{wilcoxon(area[first], area[second]).pvalue:.3g}"
        )


if __name__ == "__main__":
    main()
