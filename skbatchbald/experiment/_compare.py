"""Runs of one data set at other acquisition sizes b, side by side.

The paper's acquisition-size figure and its time figure compare BatchBALD and
BALD at b = 1, 5, 10 and 40: runs of other options, so not paired trials that
``merge`` could join. Each run is summarised over its own complete trials and
its rows are named ``"<strategy>, b = <b>"``.
"""

from ._format import _accuracy_name, _clock_name, _labels, _time_cell
from ._results import complete_trials, summarize

__all__ = ["compare_acquisition_sizes", "joined_by_acquisition_size"]


def _row_name(strategy, batch_size):
    return f"{strategy}, b = {batch_size}"


def _summaries(runs):
    """(config, complete rows, summary) of each run that has a complete trial."""
    done = []
    datasets = {config.dataset for _, config in runs}
    if len(datasets) > 1:
        raise ValueError(
            "runs compared by acquisition size must use one data set; got "
            f"{', '.join(sorted(datasets))}."
        )
    for results, config in runs:
        complete, _ = complete_trials(results, config)
        if complete.empty:
            continue
        summary = summarize(complete, config.resolved_thresholds, config.batch_size)
        done.append((config, complete, summary))
    if not done:
        raise ValueError("no run has a complete trial yet; nothing to compare.")
    rows = [(s, config.batch_size) for config, _, sm in done for s in sm.strategies]
    repeated = sorted({_row_name(*row) for row in rows if rows.count(row) > 1})
    if repeated:
        raise ValueError(
            f"two runs hold {', '.join(repeated)}; runs of the same acquisition "
            "size are paired trials: join them with skbatchbald merge (or '+' "
            "on the docs page) first."
        )
    return done


def joined_by_acquisition_size(runs):
    """The complete trials of several runs in one table, strategies renamed.

    Parameters
    ----------
    runs : list of (pandas.DataFrame, ExperimentConfig)
        Runs of one data set, as :func:`load_results` returns them.

    Returns
    -------
    results : pandas.DataFrame
        Their complete trials, ``strategy`` now ``"<strategy>, b = <b>"``,
        for the plots of :mod:`skbatchbald.experiment._plots`.
    """
    import pandas as pd

    return pd.concat(
        [
            complete.assign(
                strategy=complete["strategy"].map(
                    lambda s, b=config.batch_size: _row_name(s, b)
                )
            )
            for config, complete, _ in _summaries(runs)
        ],
        ignore_index=True,
    )


def compare_acquisition_sizes(runs):
    """Labels and time to accuracy of every strategy at every acquisition size.

    Parameters
    ----------
    runs : list of (pandas.DataFrame, ExperimentConfig)
        Runs of one data set at their batch sizes, as :func:`load_results`
        returns them; runs without a complete trial are left out.

    Returns
    -------
    tables : dict of str to pandas.DataFrame
        Tables of strings, one row per strategy and b: ``"labels"`` (the
        paper's counting, each run's own b subtracted, the paper's numbers
        beside them where it reports them, and the run's complete trials) and
        ``"time"`` (median training + acquisition seconds to each accuracy
        over the trials timed on the run's clock and device, and the ratio
        to BatchBALD at b = 10, or to the first row without it).

    Raises
    ------
    ValueError
        If the runs use other data sets or thresholds, were timed on other
        clocks or devices, hold the same strategy at the same b, or none has
        a complete trial.
    """
    import pandas as pd

    done = _summaries(runs)
    thresholds = {config.resolved_thresholds for config, _, _ in done}
    clocks = {_clock_name(summary) for _, _, summary in done}
    if len(thresholds) > 1 or len(clocks) > 1:
        raise ValueError(
            "runs compared by acquisition size must use the same thresholds, "
            "clock and device (keep a GPU's runs in their own folders); got "
            f"thresholds {sorted(thresholds)} and clocks {sorted(clocks)}."
        )
    labels, seconds = [], []
    for config, _, summary in done:
        b = config.batch_size
        table = _labels(summary, "paper", config.dataset)
        table.insert(0, "trials", str(summary.n_trials))
        labels.append(table.rename(index=lambda s, b=b: _row_name(s, b)))
        seconds.append(summary.time.rename(index=lambda s, b=b: _row_name(s, b)))
    labels = pd.concat(labels).fillna("")
    seconds = pd.concat(seconds)
    reference = _row_name("batchbald", 10)
    if reference not in seconds.index:
        reference = seconds.index[0]
    (clock,) = clocks
    time = pd.DataFrame(
        {
            f"{clock} time to {_accuracy_name(accuracy)}": [
                _time_cell(value, seconds.loc[reference, accuracy])
                for value in seconds[accuracy]
            ]
            for accuracy in seconds.columns
        },
        index=seconds.index,
    )
    timed = [str(s.n_timed) for _, _, s in done for _ in s.strategies]
    time.insert(0, "trials timed", timed)
    return {
        "labels": labels.rename_axis("strategy"),
        "time": time.rename_axis("strategy"),
    }
