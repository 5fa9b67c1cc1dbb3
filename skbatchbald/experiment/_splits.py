"""Data of one trial: test, validation, pool and initial set, all seeded."""

import numpy as np

from ..datasets import make_repeated

# Purposes of the seeds derived from (seed, trial): fixed numbers, so that adding
# a purpose never changes the others.
SPLIT, INITIAL, NOISE, MODEL, STRATEGY = range(5)


def derive_seed(seed, trial, *keys):
    """One 32-bit seed for ``keys`` (purpose, round, ...) of a trial.

    Built with :class:`numpy.random.SeedSequence` from the base seed and the
    trial number, so trials are independent and each strategy of a trial gets
    the same seeds (paired trials).
    """
    sequence = np.random.SeedSequence(seed, spawn_key=(trial, *keys))
    return int(sequence.generate_state(1)[0])


def load_source(config):
    """Return ``(X, y, X_test, y_test, image_side)``; the tests are None for digits.

    Pixels are in [0, 1]; X is flat (n, side * side), float32.
    """
    if config.is_mnist:
        from .. import datasets

        fashion = "fashion" in config.dataset
        fetch = datasets.fetch_fashion_mnist if fashion else datasets.fetch_mnist
        data = fetch(data_home=config.data_home)
        X = np.asarray(data.data, dtype=np.float32)
        return (
            X[data.train_index],
            data.target[data.train_index],
            X[data.test_index],
            data.target[data.test_index],
            28,
        )
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y, None, None, 8


def _balanced(y, n, classes, rng):
    """Indices of ``n`` rows of y, as equal per class as possible."""
    per_class = np.full(len(classes), n // len(classes))
    per_class[rng.permutation(len(classes))[: n % len(classes)]] += 1
    picks = []
    for c, k in zip(classes, per_class, strict=True):
        rows = np.flatnonzero(y == c)
        if len(rows) < k:
            raise ValueError(
                f"n_initial asks for {k} labels of class {c!r} but the pool has "
                f"{len(rows)}; lower n_initial."
            )
        picks.append(rng.choice(rows, size=k, replace=False))
    return np.sort(np.concatenate(picks))


def make_trial(config, source, trial):
    """Split the data for one trial.

    Returns a dict with ``X_pool``, ``y_pool``, ``pool_source`` (the original
    image of each pool row, for counting copies), ``initial`` (pool indices),
    ``X_val``, ``y_val``, ``X_test``, ``y_test`` and ``classes``.
    """
    X, y, X_test, y_test, _ = source
    classes = np.unique(y)
    rng = np.random.default_rng(derive_seed(config.seed, trial, SPLIT))
    order = rng.permutation(len(y))
    if X_test is None:  # no fixed test set: hold out originals, never repeated
        n_test = 500 if config.test_size is None else config.test_size
        test, order = order[:n_test], order[n_test:]
        X_test, y_test = X[test], y[test]
    elif config.test_size is not None and config.test_size < len(y_test):
        test = np.sort(rng.choice(len(y_test), size=config.test_size, replace=False))
        X_test, y_test = X_test[test], y_test[test]
    val, train = order[: config.validation_size], order[config.validation_size :]
    if config.pool_size is not None:
        train = train[: config.pool_size]
    if len(train) < config.budget:
        raise ValueError(
            f"the pool has {len(train)} images after test_size, validation_size "
            f"and pool_size, fewer than budget={config.budget}."
        )
    train = np.sort(train)
    if config.dataset.startswith("repeated"):
        X_pool, y_pool, copy_of = make_repeated(
            X[train],
            y[train],
            n_repeats=config.n_repeats,
            noise_std=config.noise_std,
            random_state=derive_seed(config.seed, trial, NOISE),
        )
        X_pool, pool_source = X_pool.astype(np.float32), train[copy_of]
    else:
        X_pool, y_pool, pool_source = X[train], y[train], train
    initial_rng = np.random.default_rng(derive_seed(config.seed, trial, INITIAL))
    return {
        "X_pool": X_pool,
        "y_pool": y_pool,
        "pool_source": pool_source,
        "initial": _balanced(y_pool, config.n_initial, classes, initial_rng),
        "X_val": X[val],
        "y_val": y[val],
        "X_test": X_test,
        "y_test": y_test,
        "classes": classes,
    }
