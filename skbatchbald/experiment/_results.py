"""Summaries of saved results, as numbers: labels needed, accuracy, time."""

import collections
import dataclasses
import warnings

import numpy as np

from .._warnings import SkbatchbaldWarning, user_stacklevel
from ._checks import check_results
from ._store import REQUIRED, ResultsFolder, read_results_csv

__all__ = ["Summary", "complete_trials", "load_results", "summarize"]

COUNTINGS = ("paper", "set size")
QUANTILES = (25, 50, 75)


def load_results(folder):
    """Read ``results.csv`` and ``config.json`` written by :func:`run_experiment`.

    Parameters
    ----------
    folder : str or path
        The ``output`` folder of a run.

    Returns
    -------
    results : pandas.DataFrame
        The tidy table.
    config : ExperimentConfig
        The options the run used.

    Raises
    ------
    ValueError
        If the folder lacks either file, or they are not a run's: the rows
        must be rounds of config.json's options (see Notes).

    Notes
    -----
    Each (strategy, trial) curve must hold rounds 0, 1, ... once each, none
    after the round that reached the budget or the stop accuracy, with the
    labelled-set sizes that ``n_initial``, ``batch_size`` and ``budget``
    give; its strategy, data set and model must be config.json's, and each
    round's batch must hold as many labels and pool indices as it added,
    never a pool index picked before in the curve. The error names the file,
    the curve, the round, and what to delete.
    """
    store = ResultsFolder(folder)
    missing = [
        path.name for path in (store.csv_path, store.config_path) if not path.is_file()
    ]
    if missing:
        raise ValueError(
            f"{store.path} has no {' or '.join(missing)}; pass the --output folder of "
            "an `skbatchbald run`."
        )
    config, _ = store.read_config()
    results = read_results_csv(store.csv_path)
    return check_results(results, config, store.csv_path), config


@dataclasses.dataclass(frozen=True)
class Summary:
    """The numbers of a summary; :func:`format_summary` makes text of them.

    Parameters
    ----------
    strategies : tuple of str
        In run order.
    reference : str
        The strategy others are compared with (BatchBALD when run).
    n_trials : int
        Complete paired trials summarised.
    batch_size : int
        Points acquired per round (b).
    max_labels : int
        Largest labelled-set size in the results.
    labels : pandas.DataFrame
        Labels needed to first reach each accuracy: index (counting,
        strategy), columns (accuracy, percentile); ``inf`` where that
        percentile of trials never reached it. Counting
        ``"paper"`` is the set size minus b (never below 0), ``"set size"``
        the plain size; percentiles use the method ``"nearest"``, as the
        paper's notebook, so that each is one trial's value.
    per_trial : pandas.DataFrame
        Set size and cumulative seconds (on the ``clock``; NaN for a trial not
        timed on it) at which each (strategy, trial) first reached each
        accuracy; ``inf`` when never.
    time : pandas.DataFrame
        Median over the ``n_timed`` trials timed on the ``clock`` of the
        seconds (training + acquisition) until each accuracy was reached, per
        strategy, with the method ``"nearest"`` of ``labels`` (one trial's
        time, never a mean of two); ``inf`` when the median trial never
        reached it, NaN when no trial was timed.
    final : pandas.DataFrame
        Per strategy: final accuracy and mean accuracy over the curve
        (25th/50th/75th percentiles over trials, interpolated linearly: with
        two trials the median is their mean, unlike ``labels`` and ``time``)
        and the final set size.
    paired : pandas.DataFrame
        Per strategy other than the reference, for the final and the mean
        accuracy: the reference minus it per trial as mean and standard
        deviation (accuracy points), wins, ties and losses of the reference,
        and the two-sided Wilcoxon signed-rank p-value.
    batches : pandas.DataFrame
        Means over acquired batches: acquisition seconds (on the ``clock``,
        over the timed trials), class entropy, copies per batch and the
        fraction of saturated rounds.
    curve : pandas.DataFrame
        Median test accuracy over trials, per strategy (index) and
        labelled-set size (columns).
    clock : {"CPU", "wall-clock"}, default="wall-clock"
        The seconds of ``time`` and ``batches``: the process's CPU time (other
        jobs and pauses do not add to it) over the CPU trials whose every row
        has it, otherwise wall-clock time (rows written before CPU time was
        recorded have none; a GPU's work is not CPU time).
    n_timed : int, default=0
        Trials timed on the ``clock``: those whose rows all ran on ``device``.
    device : str, default="cpu"
        The torch device of the timed trials; trials of other devices, or of
        several, are not timed.
    """

    strategies: tuple
    reference: str
    n_trials: int
    batch_size: int
    max_labels: int
    labels: object
    per_trial: object
    time: object
    final: object
    paired: object
    batches: object
    curve: object
    clock: str = "wall-clock"
    n_timed: int = 0
    device: str = "cpu"


_CLOCKS = {
    "CPU": ("training_cpu_seconds", "acquisition_cpu_seconds"),
    "wall-clock": ("training_seconds", "acquisition_seconds"),
}


def _clock(results):
    """The clock and device of the time tables, and the trials timed on them.

    Only a trial whose every row ran on one device is timed, so that no time
    adds a GPU's seconds to a CPU's. CPU time over the CPU trials whose every
    row has it; otherwise wall-clock time over the trials of the device that
    ran the most (rows of older versions have no CPU time, and a GPU's work
    is not the process's CPU time).
    """
    import pandas as pd

    devices = results.get("device", pd.Series("cpu", index=results.index))
    devices = devices.fillna("cpu").astype(str)  # rows of older runs: the CPU
    per_trial = devices.groupby(results["trial"]).unique()
    on_one = {t: d[0] for t, d in per_trial.items() if len(d) == 1}
    training, acquisition = _CLOCKS["CPU"]
    if training in results and acquisition in results:
        missing = results[training].isna() | (
            (results["round"] > 0) & results[acquisition].isna()
        )
        untimed = set(results.loc[missing, "trial"])
        timed = {t for t, d in on_one.items() if d == "cpu" and t not in untimed}
        if timed:
            return "CPU", timed, "cpu"
    counts = collections.Counter(on_one.values())
    if not counts or not all(name in results for name in _CLOCKS["wall-clock"]):
        return "wall-clock", set(), "cpu"
    device = min(counts, key=lambda d: (-counts[d], d))
    return "wall-clock", {t for t, d in on_one.items() if d == device}, device


def _first_reaching(curve, threshold, clock):
    """Set size and cumulative seconds at the first round reaching ``threshold``."""
    reached = curve["test_accuracy"].to_numpy() >= threshold
    if not reached.any():
        return np.inf, np.inf
    i = int(np.argmax(reached))
    training, acquisition = _CLOCKS[clock]
    if training not in curve or acquisition not in curve:  # a table without times
        return float(curve["n_labels"].iloc[i]), np.nan
    seconds = curve[training].fillna(0.0) + curve[acquisition].fillna(0.0)
    return float(curve["n_labels"].iloc[i]), float(seconds.iloc[: i + 1].sum())


def _counted(size, shift):
    """A set size in a counting that subtracts ``shift``: never below 0 (a
    curve that reached the accuracy at round 0 with b above n_initial)."""
    return max(size - shift, 0.0)


def _infer_batch_size(results):
    first = results.sort_values("round").groupby(["strategy", "trial"])["n_labels"]
    steps = first.diff().dropna()
    return int(steps.mode().iloc[0]) if len(steps) else 0


def summarize(results, thresholds=(0.8, 0.85, 0.9), batch_size=None, reference=None):
    """The numbers that compare the strategies of a results table.

    Parameters
    ----------
    results : pandas.DataFrame
        The output of :func:`run_experiment` (or :func:`load_results`), with
        complete trials only (see :func:`complete_trials`), or a table of
        your own loop in the same columns. Required: ``strategy``, ``trial``,
        ``round`` (0 for the initial set), ``n_labels`` (labelled-set size
        the round's model was trained on) and ``test_accuracy``. Optional:
        ``training_seconds`` and ``acquisition_seconds`` (without both, and
        without ``training_cpu_seconds`` and ``acquisition_cpu_seconds``, no
        trial is timed and ``time`` is NaN), ``device``, and for ``batches``
        ``class_entropy``, ``copies_in_batch`` and ``saturated``.
    thresholds : tuple of float, default=(0.8, 0.85, 0.9)
        Test accuracies for the "labels needed" and "time to accuracy" tables.
    batch_size : int or None, default=None
        The number b of points acquired per round, for the paper's counting
        (set size minus b); None takes the most common step between rounds.
    reference : str or None, default=None
        The strategy the paired table and the time ratios compare the others
        with; None takes ``"batchbald"`` where it is there, else the first
        strategy in the rows' order.

    Returns
    -------
    summary : Summary
        Numbers only; :func:`format_summary` turns them into tables of text.

    Raises
    ------
    ValueError
        If ``results`` lacks a required column, holds an accuracy outside
        [0, 1] (a percentage) or NaN, a (strategy, trial, round) twice, or a
        curve whose rounds are not 0, 1, 2, ...; if a threshold is not in
        (0, 1]; or if ``reference`` is no strategy of ``results``.

    Warns
    -----
    SkbatchbaldWarning
        If not every strategy ran the same trials: the paired table compares
        only the trials both strategies have.

    See Also
    --------
    format_summary : The tables as text.
    write_report : Writes them as Markdown with the plots.

    Examples
    --------
    >>> import pandas as pd
    >>> from skbatchbald.experiment import summarize
    >>> rows = [
    ...     dict(strategy=s, trial=t, round=r, n_labels=20 + 10 * r,
    ...          test_accuracy=acc, training_seconds=1.0,
    ...          acquisition_seconds=float("nan") if r == 0 else 0.5,
    ...          class_entropy=2.0, copies_in_batch=0)
    ...     for s, accs in [("batchbald", [0.5, 0.9]), ("random", [0.5, 0.7])]
    ...     for t in range(2) for r, acc in enumerate(accs)]
    >>> summary = summarize(pd.DataFrame(rows), thresholds=(0.9,))
    >>> summary.labels.loc[("set size", "batchbald"), (0.9, 50)]
    np.float64(30.0)
    >>> summary.labels.loc[("paper", "batchbald"), (0.9, 50)]
    np.float64(20.0)
    >>> int(summary.paired.loc["random", ("final", "wins")])
    2
    """
    import pandas as pd

    missing = [name for name in REQUIRED if name not in results]
    if missing:
        raise ValueError(
            f"results lack the columns {', '.join(missing)}; summarize needs "
            f"{', '.join(REQUIRED)} (one row per strategy, trial and round)."
        )
    thresholds = tuple(thresholds)  # a generator is read once
    _check_curves(results, thresholds)
    strategies = tuple(dict.fromkeys(results["strategy"]))
    if reference is None:
        reference = "batchbald" if "batchbald" in strategies else strategies[0]
    elif reference not in strategies:
        raise ValueError(
            f"reference={reference!r} is not a strategy of the results; they "
            f"hold {', '.join(map(repr, strategies))}."
        )
    b = _infer_batch_size(results) if batch_size is None else int(batch_size)
    curves = {
        key: curve.sort_values("round")
        for key, curve in results.groupby(["strategy", "trial"], sort=False)
    }
    clock, timed, device = _clock(results)
    per_trial = pd.DataFrame(
        [
            (s, t, threshold, *_first_reaching(curve, threshold, clock))
            for (s, t), curve in curves.items()
            for threshold in thresholds
        ],
        columns=["strategy", "trial", "accuracy", "n_labels", "seconds"],
    )
    per_trial.loc[~per_trial["trial"].isin(timed), "seconds"] = np.nan
    labels, time = {}, {}
    for (s, threshold), rows in per_trial.groupby(["strategy", "accuracy"]):
        sizes = rows["n_labels"].to_numpy()
        # "nearest" picks an observed trial, so inf (never) stays inf
        q = np.percentile(sizes, QUANTILES, method="nearest")
        for counting, shift in zip(COUNTINGS, (b, 0), strict=True):
            for quantile, value in zip(QUANTILES, q, strict=True):
                labels[counting, s, threshold, quantile] = _counted(value, shift)
        seconds = rows["seconds"].dropna().to_numpy()
        # the labels' rule: with an even number of trials an interpolated
        # median could be a time no trial took, or finite beside "not reached"
        time[s, threshold] = (
            float(np.percentile(seconds, 50, method="nearest"))
            if len(seconds)
            else np.nan
        )
    labels = pd.Series(labels).unstack([2, 3])
    index = pd.MultiIndex.from_product([COUNTINGS, strategies])
    labels = labels.reindex(index=index).sort_index(axis=1)
    time = pd.Series(time).unstack().reindex(strategies)
    finals = results.loc[results.groupby(["strategy", "trial"])["round"].idxmax()]
    final = finals.set_index(["strategy", "trial"])["test_accuracy"]
    mean_curve = results.groupby(["strategy", "trial"])["test_accuracy"].mean()
    final_table = {}
    for s in strategies:
        row = {}
        for what, values in (("final", final[s]), ("curve mean", mean_curve[s])):
            q = np.percentile(values.to_numpy(dtype=float), QUANTILES)
            row.update(dict(zip([(what, k) for k in QUANTILES], q, strict=True)))
        row["final labels", ""] = float(
            finals.loc[finals.strategy == s, "n_labels"].max()
        )
        final_table[s] = row
    paired = {
        s: {
            **_paired(final[reference], final[s], "final"),
            **_paired(mean_curve[reference], mean_curve[s], "curve mean"),
        }
        for s in strategies
        if s != reference
    }
    acquired = results[results["round"] > 0]
    acquisition = _CLOCKS[clock][1]
    if acquisition in acquired:  # the mean over the timed trials only
        timed_rows = acquired["trial"].isin(timed)
        acquired = acquired.assign(
            **{acquisition: acquired[acquisition].where(timed_rows)}
        )
    columns = {
        acquisition: "acquisition s/round"
        if clock == "wall-clock"
        else "acquisition CPU s/round",
        "class_entropy": "class entropy (nats)",
        "copies_in_batch": "copies per batch",
        "saturated": "rounds saturated",
    }
    columns = {key: name for key, name in columns.items() if key in acquired}
    acquired = acquired[["strategy", *columns]].astype({c: float for c in columns})
    batches = acquired.groupby("strategy", sort=False).mean()
    batches = batches.reindex(strategies).rename(columns=columns)
    return Summary(
        strategies=strategies,
        reference=reference,
        n_trials=int(results["trial"].nunique()),
        batch_size=b,
        max_labels=int(results["n_labels"].max()),
        labels=labels,
        per_trial=per_trial,
        time=time,
        final=pd.DataFrame.from_dict(final_table, orient="index"),
        paired=pd.DataFrame.from_dict(paired, orient="index"),
        batches=batches.rename_axis("strategy"),
        curve=results.pivot_table(
            index="strategy",
            columns="n_labels",
            values="test_accuracy",
            aggfunc="median",
        ).reindex(strategies),
        clock=clock,
        n_timed=len(timed),
        device=device,
    )


def _row_name(row):
    return f"{row['strategy']}, trial {row['trial']}, round {row['round']}"


def _check_curves(results, thresholds):
    """ValueError for a table summarize would turn into wrong numbers.

    The runner's rows pass (``report`` checks them against their config); a
    table of one's own loop may hold accuracies in percent, NaN, a round
    recorded twice or rounds counted from 1, each of which gave tables of
    wrong numbers without a word. Trials that not every strategy ran are
    warned about: the paired table compares only the trials both have.
    """
    if not len(results):
        raise ValueError("results hold no rows: nothing to summarize.")
    thresholds = np.asarray(list(thresholds), dtype=float)
    if thresholds.size and not ((thresholds > 0) & (thresholds <= 1)).all():
        percent = (thresholds > 1).any() and thresholds.max() <= 100
        raise ValueError(
            f"thresholds are test accuracies in (0, 1]; got {thresholds.tolist()}"
            + ("; divide by 100." if percent else ".")
        )
    if results["round"].isna().any():
        row = results[results["round"].isna()].iloc[0]
        raise ValueError(
            f"round is missing for {row['strategy']}, trial {row['trial']}: every "
            "row needs its round (0 for the initial set)."
        )
    accuracy = results["test_accuracy"].to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(accuracy) | (accuracy < 0) | (accuracy > 1))
    if bad.size:
        row = results.iloc[bad[0]]
        value = accuracy[bad[0]]
        if np.isnan(value):
            raise ValueError(
                f"test_accuracy is NaN at {_row_name(row)}: every recorded "
                "round needs its accuracy; drop the round (and the rounds after "
                "it) or evaluate its model."
            )
        percent = np.nanmax(accuracy) <= 100 and value > 1
        raise ValueError(
            f"test_accuracy must be a fraction in [0, 1]; got {value:g} at "
            f"{_row_name(row)}" + ("; divide the column by 100." if percent else ".")
        )
    keys = ["strategy", "trial", "round"]
    twice = results[results.duplicated(keys, keep=False)]
    if len(twice):
        first = twice.iloc[0]
        times = int((twice[keys] == first[keys]).all(axis=1).sum())
        raise ValueError(
            f"{_row_name(first)} is recorded {times} times: keep one row per "
            "strategy, trial and round."
        )
    for (strategy, trial), rounds in results.groupby(["strategy", "trial"])["round"]:
        rounds = np.sort(rounds.to_numpy())
        if not np.array_equal(rounds, np.arange(len(rounds))):
            missing = sorted(set(range(int(rounds.max()) + 1)) - set(rounds.tolist()))
            raise ValueError(
                f"{strategy}, trial {trial} has rounds {rounds.tolist()[:6]}"
                f"{' ...' if len(rounds) > 6 else ''}, not 0, 1, 2, ...: round 0 is "
                "the initial labelled set and each later round adds one batch"
                + (f" (round {missing[0]} is missing)." if missing else ".")
            )
    trials = results.groupby("strategy")["trial"].unique()
    every = set.intersection(*(set(t.tolist()) for t in trials))
    unpaired = {s: sorted(set(t.tolist()) - every) for s, t in trials.items()}
    unpaired = {s: t for s, t in unpaired.items() if t}
    if unpaired:
        warnings.warn(
            "not every strategy ran the same trials ("
            + "; ".join(f"{s} alone has trials {t}" for s, t in unpaired.items())
            + "): the paired table compares only the trials both strategies "
            "have, and the other tables mix trials of different draws. Keep the "
            "trials every strategy finished.",
            SkbatchbaldWarning,
            stacklevel=user_stacklevel(),
        )


def _paired(reference_values, values, what):
    common = reference_values.index.intersection(values.index)
    diff = (reference_values[common] - values[common]).to_numpy(dtype=float)
    wins, losses = int((diff > 0).sum()), int((diff < 0).sum())
    return {
        (what, "mean"): 100 * diff.mean(),
        (what, "sd"): 100 * diff.std(ddof=1) if len(diff) > 1 else np.nan,
        (what, "wins"): wins,
        (what, "ties"): len(diff) - wins - losses,
        (what, "losses"): losses,
        (what, "p"): _signed_rank_p(diff),
    }


def _signed_rank_p(diff):
    """Two-sided Wilcoxon signed-rank p-value of paired differences (NaN if <2)."""
    from scipy.stats import wilcoxon

    if np.count_nonzero(diff) < 2:
        return np.nan
    return float(wilcoxon(diff, zero_method="wilcox").pvalue)


def curve_ends(results, config):
    """The last row of every (trial, strategy) curve, and whether it ends the curve.

    A curve is finished at the budget's round, or earlier when it reached
    ``config.stop_accuracy``.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy table.
    config : ExperimentConfig
        The options of the run (for the rounds and the stop).

    Returns
    -------
    last : pandas.DataFrame
        One row per curve, with a boolean column ``finished``.
    """
    last = results.loc[results.groupby(["trial", "strategy"])["round"].idxmax()]
    return last.assign(finished=config.ends_curve(last["round"], last["test_accuracy"]))


def complete_trials(results, config):
    """Keep the trials in which every strategy finished its curve.

    A curve is finished at the budget's round, or earlier when it reached
    ``config.stop_accuracy``. An interrupted run leaves a partial trial;
    comparing strategies on it would break the pairing.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy table.
    config : ExperimentConfig
        The options of the run (for the strategies, rounds and stop).

    Returns
    -------
    results : pandas.DataFrame
        The rows of complete trials.
    dropped : list of int
        The trials left out.
    """
    last = curve_ends(results, config)
    done = last[last["finished"] & last["strategy"].isin(config.strategies)]
    counts = done.groupby("trial")["strategy"].nunique()
    keep = sorted(counts.index[counts == len(config.strategies)])
    dropped = sorted(set(results["trial"]) - set(keep))
    kept = results[results["trial"].isin(keep)]
    return kept[kept["strategy"].isin(config.strategies)], [int(t) for t in dropped]
