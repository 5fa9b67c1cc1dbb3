"""Learning curves on frozen embeddings: an MNIST-trained CNN, a Fashion-MNIST pool.

The run behind the gallery example ``examples/plot_embedding_curves.py``
(issue 23, points 3 and 4). A small CNN is trained on MNIST (no hub weights),
frozen, and its 128-dimensional penultimate layer embeds Fashion-MNIST once
(cached with :func:`skbatchbald.embeddings.cached_embeddings`). Per seed, a
pool of 10,000 training images is drawn; 20 first labels (random, or picked by
TypiClust on the embeddings) grow by batches of 10 to 200, with an MC-dropout
head retrained every round and scored on the 10,000 official test images.
Every round also records the head's predictions and mean BALD on a fixed stop
set of 1,000 unlabelled training images, for evaluating stopping rules.

Run from the repository root (about 20 min a seed on one busy core)::

    nice -n 10 python docs/_scripts/embedding_curves.py --seeds 0-9 \\
        > results/embedding_curves.log 2>&1 &

It appends each finished (seed, start, strategy) run to
``docs/_static/embedding_curves/curves.csv`` and skips the runs already there,
so the same command resumes. A second process may take other seeds into
another file (``--csv docs/_static/embedding_curves/curves_b.csv``); the
example reads every ``curves*.csv`` there. The encoder and the embeddings are
kept in ``results/emb/`` (``--work-dir``).
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
import torch
from sklearn.cluster import kmeans_plusplus
from skorch import NeuralNetClassifier
from torch import nn

import skbatchbald
from skbatchbald import MCDropoutClassifier, TypiClustQuery
from skbatchbald.acquisition import (
    bald,
    batchbald,
    margin,
    marginal_entropy,
    mutual_information,
    power_bald,
)
from skbatchbald.datasets import fetch_fashion_mnist, fetch_mnist
from skbatchbald.embeddings import cached_embeddings
from skbatchbald.nn import BayesianMLP

ROOT = Path(__file__).resolve().parents[2]
CSV = ROOT / "docs" / "_static" / "embedding_curves" / "curves.csv"
D, K, BATCH, FIRST, BUDGET = 128, 20, 10, 20, 200
POOL, STOP = 10_000, 1_000
# (first batch, strategy) pairs; the random-start ones share round 0 per seed.
ARMS = [
    ("random", "batchbald"),
    ("random", "bald"),
    ("random", "power_bald"),
    ("random", "margin"),
    ("random", "kmeans_pp"),
    ("random", "random"),
    ("typiclust", "batchbald"),
    ("typiclust", "random"),
]


def make_encoder():
    """The CNN trunk: 28 x 28 images -> D features."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 5 * 5, D),
        nn.ReLU(),
    )


def trained_encoder(work_dir):
    """The trunk trained on MNIST's training set, saved once and reloaded."""
    path = work_dir / "encoder_mnist.pt"
    encoder = make_encoder()
    if path.is_file():
        encoder.load_state_dict(torch.load(path))
        return encoder.eval().requires_grad_(False)
    X, y = fetch_mnist(return_X_y=True)
    torch.manual_seed(0)
    start = time.perf_counter()
    NeuralNetClassifier(
        nn.Sequential(encoder, nn.Linear(D, 10)),
        criterion=nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=2,
        batch_size=128,
        train_split=None,
        iterator_train__shuffle=True,
        verbose=1,
    ).fit(X[:60_000], y[:60_000])
    print(f"encoder trained in {time.perf_counter() - start:.0f} s", flush=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    torch.save(encoder.state_dict(), path)
    return encoder.eval().requires_grad_(False)


def mc_dropout_head(n_features, random_state):
    """The head of every round: an MC-dropout MLP on the embeddings."""
    return MCDropoutClassifier(
        BayesianMLP,
        module__n_features=n_features,
        module__hidden_sizes=(128,),
        classes=np.arange(10),
        max_epochs=100,
        batch_size=32,
        n_mc_samples=K,
        random_state=random_state,
        verbose=0,
    )


# Other heads (ensembles, last-layer Laplace) plug in here by name: a factory
# (n_features, random_state) -> classifier with predict_log_proba_samples.
HEADS = {"mc_dropout": mc_dropout_head}


def acquire(strategy, head, E_unlabelled, rng):
    """Positions in ``E_unlabelled`` of the next batch."""
    seed = int(rng.integers(2**31))
    if strategy == "random":
        return rng.choice(len(E_unlabelled), BATCH, replace=False)
    if strategy == "kmeans_pp":
        # diversity only: k-means++ seeding on the pool's embeddings
        return kmeans_plusplus(E_unlabelled, BATCH, random_state=seed)[1]
    log_probs = head.predict_log_proba_samples(E_unlabelled, random_state=seed)
    if strategy == "batchbald":
        return batchbald(log_probs, BATCH, random_state=seed)[0]
    if strategy == "bald":
        return bald(log_probs, BATCH)[0]
    if strategy == "power_bald":
        return power_bald(log_probs, BATCH, random_state=seed)[0]
    if strategy == "margin":
        return margin(log_probs, BATCH)[0]
    raise ValueError(f"unknown strategy {strategy!r}")


def run_arm(seed, start, strategy, data, make_head):
    """One learning curve; a list of row dicts, one per round."""
    E, y, test, stop = data["E"], data["y"], data["test"], data["stop"]
    split = np.random.default_rng(seed)
    pool = np.sort(split.choice(data["candidates"], POOL, replace=False))
    if start == "random":
        first = split.choice(len(pool), FIRST, replace=False)
    else:
        first, _ = TypiClustQuery(random_state=seed)(None, E[pool], FIRST)
    labelled = pool[first]
    unlabelled = np.delete(pool, first)
    rng = np.random.default_rng([seed, ARMS.index((start, strategy))])
    rows = []
    for round_ in range(1 + (BUDGET - FIRST) // BATCH):
        tic = time.perf_counter()
        head = make_head(E.shape[1], 1000 * seed + round_).fit(E[labelled], y[labelled])
        fit_s = time.perf_counter() - tic
        accuracy = head.score(E[test], y[test])
        stop_seed = 1000 * seed + 999
        stop_lp = head.predict_log_proba_samples(E[stop], random_state=stop_seed)
        stop_pred = np.exp(stop_lp).mean(axis=1).argmax(axis=1)
        row = dict(
            seed=seed,
            start=start,
            strategy=strategy,
            round=round_,
            n_labels=len(labelled),
            test_accuracy=accuracy,
            stop_bald_mean=float(mutual_information(stop_lp).mean()),
            stop_entropy_mean=float(marginal_entropy(stop_lp).mean()),
            stop_accuracy=float((stop_pred == y[stop]).mean()),
            stop_predictions="".join(map(str, stop_pred)),
            labelled_classes=len(np.unique(y[labelled])),
            fit_seconds=round(fit_s, 3),
        )
        if len(labelled) >= BUDGET:
            row.update(acquired="", acquire_seconds=0.0)
            rows.append(row)
            break
        tic = time.perf_counter()
        picks = np.asarray(acquire(strategy, head, E[unlabelled], rng))
        row["acquire_seconds"] = round(time.perf_counter() - tic, 3)
        row["acquired"] = " ".join(map(str, unlabelled[picks]))
        rows.append(row)
        labelled = np.concatenate([labelled, unlabelled[picks]])
        unlabelled = np.delete(unlabelled, picks)
    return rows


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds += range(int(low), int(high or low) + 1)
    return seeds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5-7")
    parser.add_argument("--head", default="mc_dropout", choices=sorted(HEADS))
    parser.add_argument("--work-dir", type=Path, default=ROOT / "results" / "emb")
    parser.add_argument("--csv", type=Path, default=CSV)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    encoder = trained_encoder(args.work_dir)
    fashion = fetch_fashion_mnist()
    tic = time.perf_counter()
    E = cached_embeddings(encoder, fashion.data, args.work_dir / "cache")
    E = np.asarray(E)
    print(f"embeddings {E.shape} in {time.perf_counter() - tic:.1f} s", flush=True)
    # The stop set is the same for every seed; pools are drawn from the rest.
    stop = np.sort(np.random.default_rng(12345).choice(60_000, STOP, replace=False))
    data = dict(
        E=E,
        y=fashion.target,
        test=fashion.test_index,
        stop=stop,
        candidates=np.setdiff1d(np.arange(60_000), stop),
    )
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    config = dict(
        encoder="CNN conv32-conv64-linear128, 2 epochs on MNIST train (Adam 1e-3)",
        head=args.head,
        d=D,
        n_mc_samples=K,
        batch_size=BATCH,
        first_batch=FIRST,
        budget=BUDGET,
        pool_size=POOL,
        test="Fashion-MNIST official test set (10,000 rows 60000-69999)",
        stop_set_rows=stop.tolist(),
        arms=ARMS,
        versions=dict(
            skbatchbald=skbatchbald.__version__,
            torch=torch.__version__,
            sklearn=sklearn.__version__,
            python=sys.version.split()[0],
        ),
        machine=platform.machine(),
    )
    (args.csv.parent / "config.json").write_text(json.dumps(config, indent=1))

    # As integers, the stop-set predictions would lose their leading zeros.
    done = (
        pd.read_csv(args.csv, dtype={"stop_predictions": str})
        if args.csv.is_file()
        else pd.DataFrame()
    )
    finished = set()
    if len(done):
        finished = set(zip(done.seed, done.start, done.strategy, strict=True))
    for seed in parse_seeds(args.seeds):
        for start, strategy in ARMS:
            if (seed, start, strategy) in finished:
                continue
            tic = time.perf_counter()
            rows = run_arm(seed, start, strategy, data, HEADS[args.head])
            new = pd.DataFrame(rows)
            done = pd.concat([done, new], ignore_index=True)
            tmp = args.csv.with_suffix(".tmp")
            done.to_csv(tmp, index=False)
            tmp.replace(args.csv)
            print(
                f"seed {seed} {start}/{strategy}: "
                f"{new.test_accuracy.iloc[0]:.3f} -> {new.test_accuracy.iloc[-1]:.3f}"
                f" in {time.perf_counter() - tic:.0f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
