"""Training recipes of MCDropoutClassifier on digits: accuracy and fit time.

Fits ``MCDropoutClassifier(BayesianMLP, module__n_features=64)`` with each
recipe on stratified labelled sets of 20, 50, 200 and 1000 digits (pixels / 16;
the rest of the 1,797 images is the test set), over a few seeds, and prints
the median test accuracy and the median CPU seconds of the fit (one torch
thread, so other jobs on the machine change them little) per recipe and size.
A recipe is a dict of constructor keywords added to the minimal constructor;
``default`` (``{}``) is the classifier's own, ``skorch`` skorch's (the
classifier's before 2026-12-05). ``--rounds`` adds nested labelled sets, as in
an active-learning loop, trained from fresh weights each round or warm-started.

    python benchmarks/bench_training.py                  # all recipes, 3 seeds
    python benchmarks/bench_training.py --recipes default skorch --seeds 5
    python benchmarks/bench_training.py --recipes default --rounds
"""

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from skorch.callbacks import EarlyStopping

from skbatchbald import MCDropoutClassifier
from skbatchbald.nn import BayesianMLP

SIZES = (20, 50, 200, 1000)

# skorch's own training defaults, which the classifier had before 2026-12-05.
SKORCH = {"max_epochs": 10, "batch_size": 128, "iterator_train__shuffle": False}

RECIPES = {
    "default": {},
    "skorch": SKORCH,
    "gallery-100ep-bs32": {
        "max_epochs": 100,
        "batch_size": 32,
        "iterator_train__shuffle": True,
    },
    "300ep-bs32": {
        "max_epochs": 300,
        "batch_size": 32,
        "iterator_train__shuffle": True,
    },
    "100ep-bs16": {
        "max_epochs": 100,
        "batch_size": 16,
        "iterator_train__shuffle": True,
    },
    "200ep-bs16": {
        "max_epochs": 200,
        "batch_size": 16,
        "iterator_train__shuffle": True,
    },
    "100ep-bs32-noshuffle": {
        "max_epochs": 100,
        "batch_size": 32,
        "iterator_train__shuffle": False,
    },
    "100ep-bs32-lr3e-3": {
        "max_epochs": 100,
        "batch_size": 32,
        "iterator_train__shuffle": True,
        "lr": 3e-3,
    },
    "100ep-bs32-wd1e-4": {
        "max_epochs": 100,
        "batch_size": 32,
        "iterator_train__shuffle": True,
        "optimizer__weight_decay": 1e-4,
    },
    "100ep-bs64": {
        "max_epochs": 100,
        "batch_size": 64,
        "iterator_train__shuffle": True,
    },
    "100ep-bs128": {
        "max_epochs": 100,
        "batch_size": 128,
        "iterator_train__shuffle": True,
    },
    "200ep-bs64": {
        "max_epochs": 200,
        "batch_size": 64,
        "iterator_train__shuffle": True,
    },
    "200ep-bs128": {
        "max_epochs": 200,
        "batch_size": 128,
        "iterator_train__shuffle": True,
    },
    "300ep-bs64": {
        "max_epochs": 300,
        "batch_size": 64,
        "iterator_train__shuffle": True,
    },
    "300ep-bs128": {
        "max_epochs": 300,
        "batch_size": 128,
        "iterator_train__shuffle": True,
    },
    "es-train-loss": {
        "max_epochs": 500,
        "batch_size": 32,
        "iterator_train__shuffle": True,
        "callbacks": [
            ("early_stopping", EarlyStopping(monitor="train_loss", patience=10))
        ],
    },
}


def steps_recipe(n_steps, batch_size, n_labelled):
    """Epochs that give about ``n_steps`` gradient steps (at least 20 epochs)."""
    per_epoch = -(-n_labelled // batch_size)
    return {
        "max_epochs": max(20, -(-n_steps // per_epoch)),
        "batch_size": batch_size,
        "iterator_train__shuffle": True,
    }


def recipe(name, n_labelled):
    if name.startswith("steps"):  # e.g. steps1000-bs32
        steps, batch = name[len("steps") :].split("-bs")
        return steps_recipe(int(steps), int(batch), n_labelled)
    return RECIPES[name]


def run(names, seeds):
    X, y = load_digits(return_X_y=True)
    X = X / 16
    print(f"{'recipe':24s}" + "".join(f"{n:>8d} lab (s)  " for n in SIZES))
    for name in names:
        cells = []
        for n in SIZES:
            accuracy, seconds = [], []
            for seed in range(seeds):
                X_l, X_t, y_l, y_t = train_test_split(
                    X, y, train_size=n, stratify=y, random_state=seed
                )
                clf = MCDropoutClassifier(
                    BayesianMLP,
                    module__n_features=64,
                    random_state=seed,
                    verbose=0,
                    **recipe(name, n),
                )
                start = time.process_time()
                clf.fit(X_l, y_l)
                seconds.append(time.process_time() - start)
                accuracy.append(float(np.mean(clf.predict(X_t) == y_t)))
            cells.append(f"{np.median(accuracy):>8.3f} ({np.median(seconds):5.1f})")
        print(f"{name:24s}" + "  ".join(cells), flush=True)


def run_rounds(seeds):
    """Nested labelled sets, as rounds of a loop: fresh weights or warm start.

    Per seed, 1000 stratified labels are drawn and the rest is the test set;
    the rounds train on their first 20, 50, 200 and 1000 (in a stratified
    order), either with a new network per round (``warm_start=False``, the
    default) or continuing the previous round's weights (``warm_start=True``).
    """
    X, y = load_digits(return_X_y=True)
    X = X / 16
    for warm_start in (False, True):
        accuracy, seconds = np.zeros((seeds, len(SIZES))), np.zeros((seeds, len(SIZES)))
        for seed in range(seeds):
            X_l, X_t, y_l, y_t = train_test_split(
                X, y, train_size=max(SIZES), stratify=y, random_state=seed
            )
            # round robin over the classes: the first 20 hold 2 of each
            rng = np.random.default_rng(seed)
            rank = np.empty(len(y_l))
            for c in np.unique(y_l):
                members = rng.permutation(np.flatnonzero(y_l == c))
                rank[members] = np.arange(len(members))
            order = np.lexsort((rng.random(len(y_l)), rank))
            clf = MCDropoutClassifier(
                BayesianMLP,
                module__n_features=64,
                random_state=seed,
                verbose=0,
                warm_start=warm_start,
            )
            for j, n in enumerate(SIZES):
                rows = order[:n]
                start = time.process_time()
                clf.fit(X_l[rows], y_l[rows])
                seconds[seed, j] = time.process_time() - start
                accuracy[seed, j] = np.mean(clf.predict(X_t) == y_t)
        cells = [
            f"{a:>8.3f} ({t:5.1f})"
            for a, t in zip(np.median(accuracy, 0), np.median(seconds, 0), strict=True)
        ]
        name = f"rounds, warm_start={warm_start}"
        print(f"{name:24s}" + "  ".join(cells), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--rounds", action="store_true", help="also nested sets, fresh vs warm start"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    run(args.recipes, args.seeds)
    if args.rounds:
        run_rounds(args.seeds)


if __name__ == "__main__":
    main()
