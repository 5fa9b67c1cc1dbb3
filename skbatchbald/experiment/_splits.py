"""Data of one trial: test, validation, pool and initial set, all seeded."""

import dataclasses

import numpy as np

from ..datasets import make_repeated

# Purposes of the seeds derived from (seed, trial): fixed numbers, so that adding
# a purpose never changes the others. FIXED_INITIAL is drawn with trial key 0.
SPLIT, INITIAL, NOISE, MODEL, STRATEGY, FIXED_INITIAL = range(6)

# Pixel mean and standard deviation of the training images (pixels in [0, 1]),
# with which ``normalize=True`` standardises; MNIST's are the paper's values.
PIXEL_STATISTICS = {
    "mnist": (0.1307, 0.3081),
    "repeated_mnist": (0.1307, 0.3081),
    "fashion_mnist": (0.2860, 0.3530),
}


def derive_seed(seed, trial, *keys):
    """One 32-bit seed for ``keys`` (purpose, round, ...) of a trial.

    Built with :class:`numpy.random.SeedSequence` from the base seed and the
    trial number, so trials are independent and each strategy of a trial gets
    the same seeds (paired trials).
    """
    sequence = np.random.SeedSequence(seed, spawn_key=(trial, *keys))
    return int(sequence.generate_state(1)[0])


@dataclasses.dataclass(frozen=True)
class Source:
    """The images a run draws its trials from; pixels in [0, 1], flat float32.

    ``X_test`` and ``y_test`` are None when the data set has no official test
    split (digits): the test images are then held out of ``X`` per trial.
    """

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    image_side: int


@dataclasses.dataclass(frozen=True)
class TrialData:
    """One trial's data: pool, initial set (pool indices), validation and test.

    ``pool_source`` is the original image of each pool row, for counting
    copies of one image within a batch.
    """

    X_pool: np.ndarray
    y_pool: np.ndarray
    pool_source: np.ndarray
    initial: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: np.ndarray


def load_source(config):
    """The images of ``config.dataset`` as a :class:`Source`."""
    if config.is_mnist:
        from .. import datasets

        fashion = "fashion" in config.dataset
        fetch = datasets.fetch_fashion_mnist if fashion else datasets.fetch_mnist
        data = fetch(data_home=config.data_home)
        X = np.asarray(data.data, dtype=np.float32)
        return Source(
            X[data.train_index],
            data.target[data.train_index],
            X[data.test_index],
            data.target[data.test_index],
            28,
        )
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return Source((X / 16.0).astype(np.float32), y, None, None, 8)


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


def _pool_sizes(config, source):
    """(training images, pool rows) of every trial, as :func:`make_trial` makes
    them; either may be below 1 when the options ask for too much."""
    n = len(source.y)
    n_test = 0
    if source.X_test is None:
        n_test = 500 if config.test_size is None else config.test_size
    n_pool = n - n_test - (0 if config.validation_from_pool else config.validation_size)
    if config.pool_size is not None:
        n_pool = min(n_pool, config.pool_size)
    n_labelled = n_pool * (config.n_repeats if config.is_repeated else 1)
    if config.validation_from_pool:
        n_labelled -= config.validation_size
    return n_pool, n_labelled


def pool_rows(config, source):
    """The number of pool rows of every trial (the range of its pool indices)."""
    return _pool_sizes(config, source)[1]


def check_sizes(config, source):
    """Raise ValueError if the data cannot hold test, validation and budget.

    Called before anything is written, so that a run that cannot work fails
    before it touches its output folder.
    """
    n_pool, n_labelled = _pool_sizes(config, source)
    if n_pool < 1 or n_labelled < config.budget:
        raise ValueError(
            f"the pool has {max(n_labelled, 0)} images after test_size, "
            f"validation_size and pool_size, fewer than budget={config.budget}."
        )


def _standardize(X, config):
    if not config.normalize:
        return X
    mean, std = PIXEL_STATISTICS[config.dataset]
    return ((X - mean) / std).astype(np.float32)


def make_trial(config, source, trial):
    """Split the data for one trial; return a :class:`TrialData`.

    With ``fixed_initial`` the initial images are drawn once (from the seed
    alone) and kept out of test and validation, so every trial starts from
    them; with ``validation_from_pool`` validation rows are drawn from the
    repeated, noisy pool (never from the initial set) and removed from it.
    """
    check_sizes(config, source)
    X, y, X_test, y_test = source.X, source.y, source.X_test, source.y_test
    classes = np.unique(y)
    rng = np.random.default_rng(derive_seed(config.seed, trial, SPLIT))
    order = rng.permutation(len(y))
    fixed = np.array([], dtype=np.int64)
    if config.fixed_initial:
        fixed_rng = np.random.default_rng(derive_seed(config.seed, 0, FIXED_INITIAL))
        fixed = _balanced(y, config.n_initial, classes, fixed_rng)
        order = order[~np.isin(order, fixed)]
    if X_test is None:  # no fixed test set: hold out originals, never repeated
        n_test = 500 if config.test_size is None else config.test_size
        test, order = order[:n_test], order[n_test:]
        X_test, y_test = X[test], y[test]
    elif config.test_size is not None and config.test_size < len(y_test):
        test = np.sort(rng.choice(len(y_test), size=config.test_size, replace=False))
        X_test, y_test = X_test[test], y_test[test]
    n_val = 0 if config.validation_from_pool else config.validation_size
    val, train = order[:n_val], order[n_val:]
    if config.pool_size is not None:
        train = train[: max(config.pool_size - len(fixed), 0)]
    train = np.sort(np.concatenate([train, fixed]))
    X_train = _standardize(X[train], config)
    X_val = _standardize(X[val], config)
    X_test = _standardize(X_test, config)
    if config.is_repeated:
        X_pool, y_pool, copy_of = make_repeated(
            X_train,
            y[train],
            n_repeats=config.n_repeats,
            noise_std=config.noise_std,
            random_state=derive_seed(config.seed, trial, NOISE),
        )
        X_pool, pool_source = X_pool.astype(np.float32), train[copy_of]
    else:
        X_pool, y_pool, pool_source = X_train, y[train], train
    if config.fixed_initial:
        # the first copy of each fixed image: row r * n + i holds copy r of i
        initial = np.searchsorted(train, fixed)
    else:
        initial_rng = np.random.default_rng(derive_seed(config.seed, trial, INITIAL))
        initial = _balanced(y_pool, config.n_initial, classes, initial_rng)
    if config.validation_from_pool:
        candidates = np.setdiff1d(np.arange(len(y_pool)), initial)
        val_rows = np.sort(rng.choice(candidates, config.validation_size, False))
        X_val, y_val = X_pool[val_rows], y_pool[val_rows]
        keep = np.setdiff1d(np.arange(len(y_pool)), val_rows)
        X_pool, y_pool, pool_source = X_pool[keep], y_pool[keep], pool_source[keep]
        initial = np.searchsorted(keep, initial)
    else:
        y_val = y[val]
    return TrialData(
        X_pool=X_pool,
        y_pool=y_pool,
        pool_source=pool_source,
        initial=initial,
        X_val=X_val,
        y_val=y_val,
        X_test=X_test,
        y_test=y_test,
        classes=classes,
    )
