"""Evaluate the stopping rules: labels spent against accuracy lost, over seeds.

Each seed runs one active-learning loop on scikit-learn's digits (a test set, a
fixed unlabelled stop set and a pool, drawn by the seed) to a fixed budget and
records, per round, the labels spent, the test accuracy and the model's outputs
on the stop set. Every rule is then replayed over the recorded rounds by
:func:`skbatchbald.stopping.evaluate_stop` and compared with the best fixed
stopping point in hindsight (the first round within ``--tolerance`` of the
final accuracy). Replaying recorded rounds is what any other run that keeps
its stop-set outputs can do too.

    OMP_NUM_THREADS=1 python benchmarks/stopping_evaluation.py  # the CSVs below
    python benchmarks/stopping_evaluation.py --seeds 2 --out /tmp/stopping

Writes ``results.csv`` (one row per model, seed and rule) and ``rounds.csv``
(one row per model, seed and round: labels, accuracy, kappa with the previous
round, mean BALD on the stop set) to ``docs/_static/stopping/``, which
``docs/user_guide/stopping.rst`` builds its table from.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald import ActiveLearner, BALDQuery, BatchBALDQuery, MCDropoutClassifier
from skbatchbald.nn import BayesianMLP
from skbatchbald.sampling import predict_log_proba_samples
from skbatchbald.stopping import (
    ExpectedInformation,
    StabilizingPredictions,
    evaluate_stop,
)

OUT = Path(__file__).resolve().parents[1] / "docs" / "_static" / "stopping"
N_TEST, N_STOP, N_INIT, BATCH = 400, 300, 20, 10

# Mean BALD is in nats of the model's own posterior: a forest's trees disagree
# far more than dropout masks (1-2 nats against 0.05-0.1 here), so the
# information thresholds are per model; the kappa thresholds are not.
BALD_THRESHOLDS = {"forest-BALD": (1.4, 1.3, 1.2), "mlp-BatchBALD": (0.07, 0.06, 0.05)}


def rules(model):
    """The rules replayed over ``model``'s runs, by name."""
    return {
        **{
            f"kappa>={t}": StabilizingPredictions(window=3, threshold=t)
            for t in (0.95, 0.97, 0.99)
        },
        **{
            f"BALD<{t}": ExpectedInformation(threshold=t, window=3)
            for t in BALD_THRESHOLDS[model]
        },
        "BALD falls <5%": ExpectedInformation(
            threshold=1e-9, window=3, min_decrease=0.05
        ),
    }


def _forest(seed):
    return RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)


def _mlp(seed):
    net = MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        module__hidden_sizes=(128,),
        max_epochs=60,
        batch_size=32,
        n_mc_samples=20,
        random_state=seed,
        verbose=0,
    )
    return make_pipeline(StandardScaler(), net)


# name: (model factory, query strategy factory)
MODELS = {
    "forest-BALD": (_forest, lambda seed: BALDQuery(random_state=seed)),
    "mlp-BatchBALD": (_mlp, lambda seed: BatchBALDQuery(random_state=seed)),
}


def _split(seed):
    X, y = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(y))
    test, stop, pool = np.split(order, [N_TEST, N_TEST + N_STOP])
    # a balanced start: the first two pool points of each class
    init = np.concatenate([pool[y[pool] == c][:2] for c in range(10)])
    pool = np.setdiff1d(pool, init)
    return X, y, test, stop, init, pool


def run_loop(model, seed, budget):
    """One loop to ``budget`` labels; per round: labels, accuracy, stop-set outputs."""
    make_model, make_strategy = MODELS[model]
    X, y, test, stop, init, pool = _split(seed)
    learner = ActiveLearner(
        make_model(seed), make_strategy(seed), X_training=X[init], y_training=y[init]
    )
    rounds = []
    while True:
        rounds.append(
            {
                "n_labels": len(learner.y_training),
                "accuracy": learner.score(X[test], y[test]),
                "predictions": learner.predict(X[stop]),
                "log_probs": predict_log_proba_samples(
                    learner, X[stop], random_state=seed
                ),
            }
        )
        if len(learner.y_training) >= budget:
            return rounds
        idx, rows = learner.query(X[pool], n_instances=BATCH)
        learner.teach(rows, y[pool][idx])
        pool = np.delete(pool, idx)


def evaluate(model, rounds, tolerance):
    """One row per rule: :func:`evaluate_stop` over the recorded rounds."""
    n_labels = [r["n_labels"] for r in rounds]
    accuracy = [r["accuracy"] for r in rounds]
    rows = []
    for name, rule in rules(model).items():
        key = "predictions" if isinstance(rule, StabilizingPredictions) else "log_probs"
        outputs = [r[key] for r in rounds]
        rows.append(
            {
                "rule": name,
                **evaluate_stop(rule, n_labels, accuracy, outputs, tolerance=tolerance),
            }
        )
    return rows


def per_round(rounds):
    """Labels, accuracy, kappa and mean BALD of each round, from two replays."""
    kappa, bald = StabilizingPredictions(), ExpectedInformation()
    for r in rounds:
        kappa.update_from(r["predictions"])
        bald.update_from(r["log_probs"])
    return pd.DataFrame(
        {
            "round": range(len(rounds)),
            "n_labels": [r["n_labels"] for r in rounds],
            "accuracy": [r["accuracy"] for r in rounds],
            "kappa": kappa.history_["kappa"],
            "mean_bald": bald.history_["mean_bald"],
        }
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument(
        "--budget", type=int, default=None, help="labels; default 500 forest, 300 mlp"
    )
    parser.add_argument("--tolerance", type=float, default=0.005)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    results, curves = [], []
    for model in args.models:
        for seed in range(args.seeds):
            start = time.perf_counter()
            budget = args.budget or {"forest-BALD": 500, "mlp-BatchBALD": 300}[model]
            rounds = run_loop(model, seed, budget)
            for row in evaluate(model, rounds, args.tolerance):
                results.append({"model": model, "seed": seed, **row})
            curves.append(per_round(rounds).assign(model=model, seed=seed))
            print(
                f"{model} seed {seed}: {len(rounds)} rounds, final accuracy "
                f"{rounds[-1]['accuracy']:.3f}, {time.perf_counter() - start:.0f} s",
                flush=True,
            )
    args.out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(results).assign(tolerance=args.tolerance).to_csv(
        args.out / "results.csv", index=False, float_format="%.6g"
    )
    columns = ["model", "seed", "round", "n_labels", "accuracy", "kappa", "mean_bald"]
    pd.concat(curves)[columns].to_csv(
        args.out / "rounds.csv", index=False, float_format="%.6g"
    )


if __name__ == "__main__":
    main()
