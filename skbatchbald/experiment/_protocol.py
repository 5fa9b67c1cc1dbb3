"""run_experiment: the paper's active-learning protocol, paired over trials."""

import json
import time
import warnings
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import query
from ..acquisition import SaturationWarning
from ._config import STRATEGIES, ExperimentConfig
from ._environment import describe_environment
from ._model import epoch_rows, make_model
from ._splits import MODEL, STRATEGY, derive_seed, load_source, make_trial

__all__ = ["run_experiment"]

COLUMNS = (
    "dataset",
    "model",
    "strategy",
    "trial",
    "round",
    "n_labels",
    "test_accuracy",
    "validation_accuracy",
    "n_epochs",
    "best_epoch",
    "training_seconds",
    "acquisition_seconds",
    "acquired_labels",
    "class_entropy",
    "copies_in_batch",
    "saturated",
)


def _class_entropy(labels):
    """Entropy (nats) of the class distribution of a batch of labels."""
    _, counts = np.unique(labels, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def _make_strategy(name, config, seed):
    cls = getattr(query, STRATEGIES[name])
    params = {"random_state": seed}
    if name != "random":
        params.update(n_mc_samples=config.n_mc_samples)
        params["pool_subsample"] = config.pool_subsample
    if name == "batchbald":
        params["n_joint_samples"] = config.n_joint_samples
    return cls(**params)


def _fit(config, data, labelled, image_side, seed):
    """Train a fresh model on the labelled rows; return it and its record."""
    model = make_model(config, data, image_side, seed)
    rows = labelled[epoch_rows(len(labelled), config.epoch_size)]
    start = time.perf_counter()
    model.fit(data["X_pool"][rows], data["y_pool"][rows])
    seconds = time.perf_counter() - start
    history = model.history
    best = [h["epoch"] for h in history if h.get("valid_acc_best")]
    accuracy = float(np.mean(model.predict(data["X_test"]) == data["y_test"]))
    return model, {
        "test_accuracy": accuracy,
        "validation_accuracy": float(max(history[:, "valid_acc"])),
        "n_epochs": len(history),
        "best_epoch": best[-1] if best else np.nan,
        "training_seconds": seconds,
    }


def _run_strategy(config, data, name, trial, image_side, progress):
    """One learning curve: rounds of train, test, acquire until the budget."""
    labelled = data["initial"].copy()
    unlabelled = np.setdiff1d(np.arange(len(data["y_pool"])), labelled)
    repeated = config.dataset.startswith("repeated")
    records, batch, seconds, saturated = [], None, np.nan, np.nan
    rounds = tqdm(
        range(config.n_rounds + 1),
        desc=f"trial {trial} {name}",
        leave=False,
        disable=not progress,
    )
    for r in rounds:
        model, record = _fit(
            config,
            data,
            labelled,
            image_side,
            derive_seed(config.seed, trial, MODEL, r),
        )
        labels = data["y_pool"][labelled if batch is None else batch]
        sources = data["pool_source"][labelled if batch is None else batch]
        record.update(
            dataset=config.dataset,
            model=config.resolved_model,
            strategy=name,
            trial=trial,
            round=r,
            n_labels=len(labelled),
            acquisition_seconds=seconds,
            acquired_labels=" ".join(map(str, labels.tolist())),
            class_entropy=_class_entropy(labels),
            copies_in_batch=len(sources) - len(np.unique(sources))
            if repeated
            else np.nan,
            saturated=saturated,
        )
        records.append(record)
        rounds.set_postfix(labels=len(labelled), acc=f"{record['test_accuracy']:.3f}")
        if r == config.n_rounds:
            break
        b = min(config.batch_size, config.budget - len(labelled))
        strategy = _make_strategy(
            name, config, derive_seed(config.seed, trial, STRATEGY, r)
        )
        model.progress = "MC inference" if progress else None
        with warnings.catch_warnings(record=True) as caught:
            # Recorded per round in the table instead of flooding the log.
            warnings.simplefilter("always", SaturationWarning)
            start = time.perf_counter()
            picked, _ = strategy(model, data["X_pool"][unlabelled], b)
            seconds = time.perf_counter() - start
        saturated = any(issubclass(w.category, SaturationWarning) for w in caught)
        for w in caught:
            if not issubclass(w.category, SaturationWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        batch = unlabelled[picked]
        labelled = np.concatenate([labelled, batch])
        unlabelled = np.setdiff1d(unlabelled, batch)
    return records


def run_experiment(config=None, *, output=None, progress=False):
    """Run every strategy of ``config`` on paired trials; return the tidy results.

    Each trial splits the data into test, validation and pool, picks the
    balanced initial set and (for repeated data) draws the noise, all from
    seeds derived from ``(config.seed, trial)``; every strategy of the trial
    then runs on that same data with the same model seeds per round. Each round
    trains a fresh network with early stopping, measures test accuracy, then
    acquires ``batch_size`` points, until ``budget`` labels.

    Parameters
    ----------
    config : ExperimentConfig or None, default=None
        The options; None uses :class:`ExperimentConfig`'s defaults.
    output : str, path or None, default=None
        Folder to write ``config.json`` (options, seeds, package versions,
        machine) and ``results.csv`` to; the CSV is rewritten after each
        strategy of each trial, so an interrupted run keeps what it finished.
    progress : bool, default=False
        Show tqdm bars for trials, rounds and MC inference.

    Returns
    -------
    results : pandas.DataFrame
        One row per (strategy, trial, round), columns: ``dataset``, ``model``,
        ``strategy``, ``trial``, ``round``, ``n_labels`` (labelled-set size the
        round's model was trained on), ``test_accuracy``,
        ``validation_accuracy`` (best epoch), ``n_epochs``, ``best_epoch``,
        ``training_seconds``, ``acquisition_seconds`` (time to choose the
        batch this round added; NaN in round 0), ``acquired_labels`` (labels of
        that batch, space-separated; round 0: the initial set),
        ``class_entropy`` (nats, of those labels' class distribution) and
        ``copies_in_batch`` (picks whose source image was already picked in the
        same batch; NaN unless the data are repeated) and ``saturated``
        (whether BatchBALD warned that its score reached log K, so that later
        picks were decided by estimator noise; NaN in round 0).

    Raises
    ------
    ValueError
        If the data cannot hold the requested test, validation and budget.

    See Also
    --------
    ExperimentConfig : The options.
    summarize : Tables of labels needed, final accuracy and paired differences.

    Notes
    -----
    Protocol of Kirsch, van Amersfoort & Gal (NeurIPS 2019), Section 5: a
    fresh model per round, Adam, early stopping with patience 3 on validation
    accuracy restoring the best weights, 20 balanced initial labels.

    Examples
    --------
    >>> from skbatchbald.experiment import ExperimentConfig, run_experiment
    >>> config = ExperimentConfig(
    ...     dataset="digits", strategies=("batchbald", "random"), budget=30,
    ...     n_trials=1, max_epochs=3, epoch_size=64, n_mc_samples=5)
    >>> results = run_experiment(config)
    >>> results.groupby("strategy")["n_labels"].max().to_dict()
    {'batchbald': 30, 'random': 30}
    """
    import pandas as pd

    config = ExperimentConfig() if config is None else config
    if not isinstance(config, ExperimentConfig):
        raise TypeError(
            f"config must be an ExperimentConfig, got {type(config).__name__}; "
            "build one with ExperimentConfig(dataset=..., ...)."
        )
    folder = None if output is None else Path(output)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        _write_config(folder / "config.json", config)
    source = load_source(config)
    records = []
    trials = range(config.first_trial, config.first_trial + config.n_trials)
    for trial in tqdm(trials, desc="trials", disable=not progress):
        data = make_trial(config, source, trial)
        for name in config.strategies:
            records += _run_strategy(config, data, name, trial, source[4], progress)
            results = pd.DataFrame.from_records(records, columns=list(COLUMNS))
            if folder is not None:
                results.to_csv(folder / "results.csv", index=False)
    return results


def _write_config(path, config):
    seeds = {
        "derivation": "numpy.random.SeedSequence(seed, spawn_key=(trial, purpose, "
        "round)); purposes: split 0, initial 1, noise 2, model 3, strategy 4",
    }
    document = {
        "config": config.to_dict(),
        "resolved": {
            "model": config.resolved_model,
            "thresholds": list(config.resolved_thresholds),
            "n_rounds": config.n_rounds,
        },
        "seeds": seeds,
        **describe_environment(),
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
