"""run_experiment: the paper's active-learning protocol, paired over trials."""

import dataclasses
import sys
import time
import warnings

import numpy as np
from tqdm.auto import tqdm

from .. import query
from .._interrupt import InterruptGuard
from ..acquisition import SaturationWarning
from ._checks import check_results
from ._config import STRATEGIES, ExperimentConfig
from ._environment import describe_environment
from ._model import epoch_rows, make_model
from ._splits import (
    MODEL,
    STRATEGY,
    check_sizes,
    derive_seed,
    load_source,
    make_trial,
    pool_rows,
)
from ._store import COLUMNS, ResultsFolder, _typed, indices_of

__all__ = ["run_experiment"]


@dataclasses.dataclass(frozen=True)
class Batch:
    """A batch acquired at the end of one round, for the next.

    ``indices`` are pool indices; ``seconds`` and ``cpu_seconds`` the
    acquisition's wall-clock and CPU time (NaN in batches saved by older
    versions); ``saturated`` whether BatchBALD warned that its score stopped
    growing (at log K, or with no gain left).
    """

    round: int
    indices: list
    seconds: float
    saturated: bool
    cpu_seconds: float = np.nan

    @classmethod
    def initial(cls, indices):
        return cls(0, [int(i) for i in indices], np.nan, np.nan)


class _Clock:
    """Wall-clock and CPU seconds of a block.

    CPU time is this process's: other jobs on the machine and a paused process
    (SIGSTOP) do not add to it, so it compares strategies run under changing
    load; with several torch threads it exceeds the wall-clock time.
    """

    def __enter__(self):
        self._start = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc_info):
        wall, cpu = self._start
        self.seconds = time.perf_counter() - wall
        self.cpu_seconds = time.process_time() - cpu


def _class_entropy(labels):
    """Entropy (nats) of the class distribution of a batch of labels."""
    _, counts = np.unique(labels, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def _make_strategy(name, config, seed, data):
    cls = getattr(query, STRATEGIES[name])
    # A Generator, drawn from as given: the round's own seed already differs
    # per trial and round (an int would be combined with the pool's size).
    params = {"random_state": np.random.default_rng(seed)}
    if name != "random":
        params.update(n_mc_samples=config.n_mc_samples)
        params["pool_subsample"] = config.pool_subsample
    if name in ("batchbald", "batch_epig"):
        params["n_joint_samples"] = config.n_joint_samples
    if name == "batchbald":
        # the paper's code goes on greedily once the batch's score is near
        # log K; the runs reproduce it (and stay comparable across sessions)
        params["on_saturation"] = "greedy"
    if name in ("epig", "batch_epig"):
        # target inputs: the validation images, training data held out of the
        # pool (never the test set; their labels are not used); without them,
        # a random sample of the unlabelled pool
        params["X_target"] = data.X_val if len(data.X_val) else None
    return cls(**params)


# Devices this process has trained and predicted on (see _warm_up).
_WARM = set()


def _warm_up(config, data, labelled, image_side, device):
    """Train for one epoch and predict once, untimed, before a process's first
    timed round on ``device``.

    torch's first calls in a process (its kernels' set-up, the allocator)
    cost about 1.7 s of CPU on digits, which the time tables charged to
    whichever curve a process ran first: the first strategy, or the first
    curve after a resume. The throwaway model has seeds of its own and
    touches no global random state, so no row changes.
    """
    if device in _WARM:
        return
    _WARM.add(device)
    model = make_model(config, data, image_side, 0, device)
    model.set_params(max_epochs=1)
    model.fit(data.X_pool[labelled], data.y_pool[labelled])
    model.predict(data.X_test[:64])


def _train(config, data, labelled, image_side, trial, r, guard, device):
    """Train round ``r``'s fresh model on the labelled rows."""
    _warm_up(config, data, labelled, image_side, device)
    model = make_model(
        config, data, image_side, derive_seed(config.seed, trial, MODEL, r), device
    )
    rows = labelled
    if config.training == "early_stopping":
        rows = labelled[epoch_rows(len(labelled), config.epoch_size)]
    with _Clock() as clock:
        model.fit(data.X_pool[rows], data.y_pool[rows])
    # skorch's partial_fit swallows KeyboardInterrupt and returns a model
    # trained for fewer epochs: never record such a round.
    guard.check()
    return model, clock


def _test(model, data, training):
    history = model.history
    best = [h["epoch"] for h in history if h.get("valid_acc_best")]
    with _Clock() as clock:
        accuracy = float(np.mean(model.predict(data.X_test) == data.y_test))
    if "valid_acc" in history[-1]:  # early stopping: the best epoch's
        validation = max(history[:, "valid_acc"])
    else:  # the default recipe does not look at the validation set
        validation = np.mean(model.predict(data.X_val) == data.y_val)
    return {
        "test_accuracy": accuracy,
        "test_seconds": clock.seconds,
        "test_cpu_seconds": clock.cpu_seconds,
        "validation_accuracy": float(validation),
        "n_epochs": len(history),
        "best_epoch": best[-1] if best else np.nan,
        "training_seconds": training.seconds,
        "training_cpu_seconds": training.cpu_seconds,
    }


def _acquire(config, model, data, labelled, name, trial, r, progress):
    """Choose the batch that round ``r + 1`` adds."""
    unlabelled = np.setdiff1d(np.arange(len(data.y_pool)), labelled)
    b = min(config.batch_size, config.budget - len(labelled))
    strategy = _make_strategy(
        name, config, derive_seed(config.seed, trial, STRATEGY, r), data
    )
    model.progress = progress
    with warnings.catch_warnings(record=True) as caught:
        # Recorded per round in the table instead of flooding the log.
        warnings.simplefilter("always", SaturationWarning)
        with _Clock() as clock:
            picked, _ = strategy(model, data.X_pool[unlabelled], b)
    saturated = any(issubclass(w.category, SaturationWarning) for w in caught)
    for w in caught:
        if not issubclass(w.category, SaturationWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    batch = unlabelled[picked]
    return Batch(
        r + 1, [int(i) for i in batch], clock.seconds, saturated, clock.cpu_seconds
    )


def _finished(config, rows):
    """Whether a curve's recorded rows end it (budget or stop accuracy)."""
    if not rows:
        return False
    return bool(config.ends_curve(rows[-1]["round"], rows[-1]["test_accuracy"]))


def _row(config, data, name, trial, r, labelled, batch, record):
    indices = np.asarray(batch.indices, dtype=np.int64)
    labels = data.y_pool[indices]
    sources = data.pool_source[indices]
    return {
        "dataset": config.dataset,
        "model": config.resolved_model,
        "strategy": name,
        "trial": trial,
        "round": r,
        "n_labels": len(labelled),
        **record,
        "acquisition_seconds": batch.seconds,
        "acquisition_cpu_seconds": batch.cpu_seconds,
        "acquired_labels": " ".join(map(str, labels.tolist())),
        "class_entropy": _class_entropy(labels),
        "copies_in_batch": len(sources) - len(np.unique(sources))
        if config.is_repeated
        else np.nan,
        "saturated": batch.saturated,
        "acquired_indices": " ".join(map(str, batch.indices)),
    }


def _run_curve(
    config, data, name, trial, image_side, *, done, folder, progress, device
):
    """One learning curve, continued after the rows in ``done``.

    Each round trains a fresh model, tests it, records the row, then acquires
    the next batch; a resumed curve rebuilds its labelled set from the
    recorded ``acquired_indices`` and continues where they end.
    """
    rows = sorted(done, key=lambda row: row["round"])
    if _finished(config, rows):
        return rows
    labelled = np.asarray(data.initial, dtype=np.int64)
    if rows and indices_of(rows[0]["acquired_indices"]).tolist() != labelled.tolist():
        raise ValueError(
            f"trial {trial} of {name}: the recorded initial set differs from the "
            "one these options draw; the folder was written by other code or data."
        )
    for row in rows:
        batch = indices_of(row["acquired_indices"])
        labels = " ".join(map(str, data.y_pool[batch].tolist()))
        if row["acquired_labels"] != labels:
            raise ValueError(
                f"trial {trial} of {name}, round {row['round']}: the recorded "
                "acquired_labels are not the labels of its acquired_indices in "
                "the pool these options draw; the folder was written by other "
                "code or data, or edited: start a new --output folder."
            )
        if row["round"] > 0:
            labelled = np.concatenate([labelled, batch])
    r = len(rows)
    guard = InterruptGuard()
    with guard:
        if r == 0:
            batch = Batch.initial(labelled)
        else:
            batch = folder.load_pending(trial, name, r) if folder else None
            batch = None if batch is None else Batch(**batch)
            if batch is None:  # killed between a row and its acquisition
                model, _ = _train(
                    config, data, labelled, image_side, trial, r - 1, guard, device
                )
                batch = _acquire(
                    config, model, data, labelled, name, trial, r - 1, progress
                )
            labelled = np.concatenate([labelled, batch.indices])
        bar = tqdm(
            total=config.n_rounds + 1,
            initial=r,
            desc=f"trial {trial} {name}",
            leave=False,
            disable=_disabled(progress),
        )
        while True:
            model, training = _train(
                config, data, labelled, image_side, trial, r, guard, device
            )
            row = _row(
                config,
                data,
                name,
                trial,
                r,
                labelled,
                batch,
                {**_test(model, data, training), "device": device},
            )
            guard.check()
            if folder is not None:
                folder.append(row, config.strategies)
                folder.drop_pending(trial, name)
            rows.append(row)
            bar.update()
            bar.set_postfix(labels=len(labelled), acc=f"{row['test_accuracy']:.3f}")
            if _finished(config, rows):
                break
            batch = _acquire(config, model, data, labelled, name, trial, r, progress)
            guard.check()
            if folder is not None:
                folder.save_pending(trial, name, dataclasses.asdict(batch))
            labelled = np.concatenate([labelled, batch.indices])
            r += 1
        bar.close()
    return rows


# A worker process keeps the last data it built: consecutive units of one
# trial then share it.
_CACHE = {}


def _trial_data(config, trial):
    key = dataclasses.replace(config, first_trial=0, n_trials=1, thresholds=None)
    if _CACHE.get("source_key") != key:
        _CACHE.clear()
        _CACHE.update(source_key=key, source=load_source(config))
    if _CACHE.get("trial") != trial:
        _CACHE.update(trial=trial, data=make_trial(config, _CACHE["source"], trial))
    return _CACHE["source"], _CACHE["data"]


def _run_unit(config, trial, name, done, output, progress, threads, device):
    """One (trial, strategy) curve; in a worker process when ``threads``."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    source, data = _trial_data(config, trial)
    folder = None if output is None else ResultsFolder(output)
    return _run_curve(
        config, data, name, trial, source.image_side,
        done=done, folder=folder, progress=progress, device=device,
    )  # fmt: skip


def _disabled(progress):
    """tqdm's ``disable`` for ``progress``: None lets tqdm check for a terminal."""
    return None if progress is None else not progress


def run_experiment(
    config=None, *, output=None, n_jobs=None, progress=False, device="cpu"
):
    """Run every strategy of ``config`` on paired trials; return the tidy results.

    Each trial splits the data into test, validation and pool, picks the
    balanced initial set and (for repeated data) draws the noise, all from
    seeds derived from ``(config.seed, trial)``; every strategy of the trial
    then runs on that same data with the same model seeds per round. Each round
    trains a fresh network (see Notes), measures test accuracy, then
    acquires ``batch_size`` points, until ``budget`` labels (or
    ``stop_accuracy``).

    The data and networks are the built-in ones only (:data:`DATASETS`,
    :data:`MODELS`). For data or a model of your own, write the loop with
    :class:`~skbatchbald.ActiveLearner` and the query classes (see
    :doc:`/quickstart`), one run per strategy and seed, and record a row per
    round in the columns listed under Returns (``strategy``, ``trial``,
    ``round``, ``n_labels`` and ``test_accuracy`` at least):
    :func:`summarize` and :func:`format_summary` then compare the strategies
    as they compare this runner's.

    Parameters
    ----------
    config : ExperimentConfig or None, default=None
        The options; None uses :class:`ExperimentConfig`'s defaults.
    output : str, path or None, default=None
        Folder for ``config.json`` (options, seeds, package versions,
        machine) and ``results.csv``, which gains a row as each round
        finishes. If the folder holds results of the same options, the run
        continues them: finished rounds are kept, and each curve resumes
        after its last finished round with the result an uninterrupted run
        would give. Results of other options make the run refuse, and so do
        rows that are not whole rounds of these options (see
        :func:`load_results`), before anything is written.
    n_jobs : int or None, default=None
        Worker processes, each running whole (trial, strategy) curves with
        one torch thread; None means 1 unless a
        :func:`joblib.parallel_config` says otherwise, -1 all cores. The
        results do not depend on it.
    progress : bool or None, default=False
        Show tqdm bars for curves, rounds and MC inference: True always,
        False never, None only when standard error is a terminal (so that a
        log redirected to a file holds no carriage-return bars).
    device : str, default="cpu"
        Where the networks train and sample (``"cuda"`` on a GPU), recorded
        in ``config.json`` under ``runs`` and in each row. Trials run on
        another device are still paired and the options the same, but a
        GPU's random streams and rounding differ from the CPU's, and its
        CPU-time columns do not measure the work: the time tables time a
        GPU's trials by the wall clock and never mix devices.

    Returns
    -------
    results : pandas.DataFrame
        One row per (strategy, trial, round) of ``config``'s trials, columns:
        ``dataset``, ``model``, ``strategy``, ``trial``, ``round``,
        ``n_labels`` (labelled-set size the round's model was trained on),
        ``test_accuracy``, ``validation_accuracy`` (of the best epoch with
        early stopping, of the trained network otherwise),
        ``n_epochs``, ``best_epoch``, ``training_seconds``,
        ``acquisition_seconds`` (time to choose the batch this round added;
        NaN in round 0), ``test_seconds`` (time of the test predictions),
        ``acquired_labels`` (labels of that batch,
        space-separated; round 0: the initial set), ``class_entropy`` (nats,
        of those labels' class distribution), ``copies_in_batch`` (picks
        whose source image was already picked in the same batch; NaN unless
        the data are repeated), ``saturated`` (whether BatchBALD warned that
        its score stopped growing before the batch was full, at log K or
        with no gain left, so that later picks carried almost no
        information; NaN in round 0), ``acquired_indices`` (pool
        indices of the batch, from which a resumed run rebuilds the labelled
        set) and ``training_cpu_seconds``, ``acquisition_cpu_seconds``,
        ``test_cpu_seconds`` (the CPU time of the process running the curve
        in those three steps: unlike the wall-clock columns, neither other
        jobs on the machine nor a paused process add to it; empty in rows
        written by versions before 2026-12-02) and ``device`` (the torch
        device of the curve; rows written before 2026-12-06 read as
        ``"cpu"``, the only device those versions ran on).

    Raises
    ------
    ValueError
        If the data cannot hold the requested test, validation and budget,
        or ``output`` holds results of other options or rows that are not
        whole rounds of these (a row cut short, a round twice or missing, a
        pool index outside the pool or picked twice).
    KeyboardInterrupt
        On Ctrl-C, after the rounds that finished are saved; the round that
        was cut is not.

    See Also
    --------
    ExperimentConfig : The options.
    summarize : Labels needed, final accuracy and paired differences.

    Notes
    -----
    The loop of Kirsch, van Amersfoort & Gal (NeurIPS 2019), Section 5: a
    fresh model per round, 20 balanced initial labels. With
    ``config.training="early_stopping"`` each round trains as the paper does
    (Adam, early stopping with patience 3 on validation accuracy restoring
    the best weights); with ``"default"`` it uses
    :class:`~skbatchbald.MCDropoutClassifier`'s own training recipe on the
    labelled set. How closely a run follows the paper depends on ``config``;
    the presets ``paper-mnist`` and ``paper-repeated-mnist`` set its stated
    values.

    Examples
    --------
    >>> from skbatchbald.experiment import ExperimentConfig, run_experiment
    >>> config = ExperimentConfig(
    ...     dataset="digits", strategies=("batchbald", "random"), budget=30,
    ...     n_trials=1, n_mc_samples=5)
    >>> results = run_experiment(config)
    >>> results.groupby("strategy")["n_labels"].max().to_dict()
    {'batchbald': 30, 'random': 30}
    """
    config = ExperimentConfig() if config is None else config
    if not isinstance(config, ExperimentConfig):
        raise TypeError(
            f"config must be an ExperimentConfig, got {type(config).__name__}; "
            "build one with ExperimentConfig(dataset=..., ...)."
        )
    # one name per device ("cpu" for torch.device("cpu")): rows and time tables
    # compare them as text
    device = _check_device(device)
    source = load_source(config)
    check_sizes(config, source)
    n_workers = _check_n_jobs(n_jobs)
    folder = None if output is None else ResultsFolder(output)
    held = None
    if folder is not None:
        folder.prepare(config, _document(config))
        held = folder.hold()
    try:
        return _run_held(config, source, folder, n_jobs, n_workers, progress, device)
    finally:
        if folder is not None:
            folder.tidy()
            folder.release(held)


def _check_n_jobs(n_jobs):
    """joblib's number of workers for ``n_jobs``; ValueError for 0, before any
    folder is made (joblib's own message came after)."""
    from joblib import effective_n_jobs

    if n_jobs is not None and (
        isinstance(n_jobs, bool)
        or not isinstance(n_jobs, int | np.integer)
        or n_jobs == 0
    ):
        raise ValueError(
            f"n_jobs must be a nonzero integer or None, got {n_jobs!r}: the number "
            "of worker processes, or -1 for all cores."
        )
    return effective_n_jobs(n_jobs)


def _run_held(config, source, folder, n_jobs, n_workers, progress, device):
    """run_experiment once the folder (if any) is held."""
    import pandas as pd

    done, output = {}, None if folder is None else folder.path
    if folder is not None:
        saved = folder.rows()
        if saved is not None:
            if "acquired_indices" not in saved:
                raise ValueError(
                    f"{folder.path} was written before runs could be resumed (no "
                    "acquired_indices column); choose another --output."
                )
            # before config.json records this run: a refused folder is unchanged
            saved = check_results(
                saved, config, folder.csv_path, pool_rows(config, source)
            )
            for key, rows in saved.groupby(["trial", "strategy"]):
                done[key] = rows.to_dict("records")
            if progress is not False:  # the command line unless --quiet
                print(
                    f"continuing {folder.path}: its {len(saved)} finished rounds "
                    "are kept, and each curve goes on after its last one",
                    file=sys.stderr,
                )
        folder.update_document(lambda doc: _record_run(doc, config, n_jobs, device))
    units = [(t, s) for t in config.trials for s in config.strategies]
    n_workers = min(n_workers, len(units))
    records = _run_units(
        config, source, units, done, output, n_workers, progress, device
    )
    results = _typed(pd.DataFrame.from_records(records, columns=list(COLUMNS)))
    order = {name: i for i, name in enumerate(config.strategies)}
    results = results.sort_values(
        ["trial", "strategy", "round"],
        key=lambda c: c.map(order) if c.name == "strategy" else c,
        kind="stable",
    )
    return results.reset_index(drop=True)


def _check_device(device):
    """The device's name; refuse one torch cannot allocate on, before any data
    is loaded."""
    import torch

    try:
        return str(torch.empty(0, device=device).device)
    except (RuntimeError, AssertionError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(
            f"device={device!r} cannot be used on this machine ({reason}); pass "
            "device='cpu' (--device cpu)."
        ) from None


def _run_units(config, source, units, done, output, n_workers, progress, device):
    """The rows of every (trial, strategy) unit, in one process or several."""
    from joblib import Parallel, delayed

    records = []
    if n_workers == 1:
        _CACHE.clear()
        _CACHE.update(source_key=dataclasses.replace(
            config, first_trial=0, n_trials=1, thresholds=None
        ), source=source)  # fmt: skip
        for trial, name in tqdm(units, desc="curves", disable=_disabled(progress)):
            records += _run_unit(
                config, trial, name, done.get((trial, name), []), output,
                progress, None, device,
            )  # fmt: skip
    else:
        del source  # every worker loads its own
        jobs = (
            delayed(_run_unit)(
                config,
                trial,
                name,
                done.get((trial, name), []),
                output,
                False,
                1,
                device,
            )
            for trial, name in units
        )
        parallel = Parallel(n_jobs=n_workers, return_as="generator_unordered")
        for rows in tqdm(
            parallel(jobs),
            total=len(units),
            desc="curves",
            disable=_disabled(progress),
        ):
            records += rows
    return records


def _document(config):
    seeds = {
        "derivation": "numpy.random.SeedSequence(seed, spawn_key=(trial, purpose, "
        "round)); purposes: split 0, initial 1, noise 2, model 3, strategy 4, "
        "fixed initial set 5 (trial 0)",
    }
    return {
        "config": config.to_dict(),
        "resolved": {
            "model": config.resolved_model,
            "thresholds": list(config.resolved_thresholds),
            "n_rounds": config.n_rounds,
        },
        "seeds": seeds,
        **describe_environment(),
        "runs": [],
    }


def _record_run(document, config, n_jobs, device):
    """Note in config.json which trials a run (or a resumed run) covered."""
    document.setdefault("runs", []).append(
        {
            "trials": list(config.trials),
            "n_jobs": n_jobs,
            "device": device,
            **describe_environment()["machine"],
        }
    )
