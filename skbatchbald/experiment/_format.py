"""Text of a summary: tables of strings and the Markdown of summary.md."""

import numpy as np

from ._paper import paper_labels
from ._results import QUANTILES, complete_trials, curve_ends, summarize

__all__ = ["TABLES", "format_progress", "format_summary", "summary_markdown"]

# Name -> title of each table format_summary makes.
TABLES = {
    "labels": "Labels to reach a test accuracy, the paper's counting (labelled-set "
    "size minus b; 25th/50th/75th percentile over trials, method 'nearest')",
    "labels_set_size": "Labels to reach a test accuracy, counted as labelled-set "
    "size (25th/50th/75th percentile over trials, method 'nearest')",
    "final": "Accuracy (median [25th, 75th percentile] over trials)",
    "paired": "Paired differences: {reference} minus each strategy, mean ± sd "
    "over trials (accuracy points); wins/ties/losses of {reference}",
    "time": "Time to accuracy (training + acquisition {clock} seconds, median "
    "over {timed}, method 'nearest'; x relative to {reference})",
    "batches": "Acquired batches (means over rounds and trials; copies: picks of "
    "an image already picked in the same batch)",
    "curve": "Test accuracy by labelled-set size (median over trials)",
}
PROGRESS = (
    "Progress: labelled-set size and test accuracy of each curve's last finished round"
)


def _accuracy_name(accuracy):
    return f"{100 * accuracy:g} %"


def _percentile_cell(values, limit):
    return "/".join(f">{limit:g}" if np.isinf(v) else f"{v:.0f}" for v in values)


def _labels(summary, counting, dataset):
    import pandas as pd

    shift = summary.batch_size if counting == "paper" else 0
    limit = max(summary.max_labels - shift, 0)
    table = summary.labels.loc[counting]
    columns = {}
    for accuracy in dict.fromkeys(table.columns.get_level_values(0)):
        name = _accuracy_name(accuracy)
        columns[name] = {
            s: _percentile_cell([table.loc[s, (accuracy, q)] for q in QUANTILES], limit)
            for s in summary.strategies
        }
        if counting != "paper" or dataset is None:
            continue
        cells = {
            s: paper_labels(dataset, summary.batch_size, s, accuracy)
            for s in summary.strategies
        }
        if any(cells.values()):
            columns[f"{name}, paper"] = {
                s: ""
                if cell is None
                else _percentile_cell(cell[0], 300)
                + (f" ({cell[1]})" if cell[1] else "")
                for s, cell in cells.items()
            }
    return pd.DataFrame(columns, index=list(summary.strategies))


def _iqr(row, what):
    q25, q50, q75 = (row[(what, q)] for q in QUANTILES)
    return f"{q50:.3f} [{q25:.3f}, {q75:.3f}]"


def _p(value):
    return "n/a" if np.isnan(value) else f"{value:.2g}"


def _paired(summary):
    import pandas as pd

    ref = summary.reference
    rows = {}
    for s, row in summary.paired.iterrows():
        cells = {}
        for what in ("final", "curve mean"):
            sd = row[(what, "sd")]
            spread = " (1 trial)" if np.isnan(sd) else f" ± {sd:.1f}"
            cells[f"{ref} - it ({what}), points"] = (
                f"{row[(what, 'mean')]:+.1f}{spread}"
            )
            cells[f"wins of {ref} ({what})"] = (
                f"{row[(what, 'wins')]:.0f}/{row[(what, 'ties')]:.0f}/"
                f"{row[(what, 'losses')]:.0f}"
            )
            cells[f"p ({what})"] = _p(row[(what, "p")])
        rows[s] = cells
    return pd.DataFrame.from_dict(rows, orient="index")


def _time_cell(value, reference):
    """Seconds, and their ratio to the reference's when it reached it too."""
    if np.isnan(value):  # no trial timed
        return "n/a"
    if np.isinf(value):
        return "not reached"
    if not np.isfinite(reference) or reference == 0:
        return f"{value:.1f} s"
    return f"{value:.1f} s (x{value / reference:.2f})"


def _time(summary):
    import pandas as pd

    if summary.n_timed == 0:  # no table rather than a table of n/a
        return pd.DataFrame(index=list(summary.strategies))
    ref = summary.time.loc[summary.reference]
    return summary.time.apply(
        lambda column: column.map(lambda v: _time_cell(v, ref[column.name]))
    ).rename(columns=_accuracy_name)


def _final(summary):
    import pandas as pd

    return pd.DataFrame(
        {
            "final accuracy": {
                s: _iqr(row, "final") for s, row in summary.final.iterrows()
            },
            "mean accuracy over rounds": {
                s: _iqr(row, "curve mean") for s, row in summary.final.iterrows()
            },
            "final labels": {
                s: f"{row[('final labels', '')]:.0f}"
                for s, row in summary.final.iterrows()
            },
        }
    )


def format_summary(summary, dataset=None):
    """The tables of a summary as text.

    Parameters
    ----------
    summary : Summary
        The output of :func:`summarize`.
    dataset : str or None, default=None
        The run's data set; for ``"mnist"`` (b = 1, 5, 10, 40) and
        ``"repeated_mnist"`` (b = 10) the paper's numbers, where it reports
        them, are shown beside ours in ``"labels"``.

    Returns
    -------
    tables : dict of str to pandas.DataFrame
        Tables of strings, index the strategies: ``"labels"`` (the paper's
        counting), ``"labels_set_size"``, ``"final"``, ``"paired"``,
        ``"time"`` (without columns when no trial was timed), ``"batches"``
        and ``"curve"``; see ``TABLES`` in this module for their titles.

    See Also
    --------
    summarize : The numbers.
    """
    batches = summary.batches.map(lambda v: "n/a" if np.isnan(v) else f"{v:.3f}")
    tables = {
        "labels": _labels(summary, "paper", dataset),
        "labels_set_size": _labels(summary, "set size", dataset),
        "final": _final(summary),
        "paired": _paired(summary),
        "time": _time(summary),
        "batches": batches,
        "curve": summary.curve.map(lambda v: "" if np.isnan(v) else f"{v:.3f}").rename(
            columns=lambda n: f"{n:g}"
        ),
    }
    return {name: table.rename_axis("strategy") for name, table in tables.items()}


def format_progress(results, config):
    """Where each (strategy, trial) curve of a run stands, finished or not.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy table, complete trials or not.
    config : ExperimentConfig
        The options of the run (its strategies, trials, rounds and stop).

    Returns
    -------
    table : pandas.DataFrame
        Strings, index the strategies, a column per trial: the labelled-set
        size and test accuracy of the curve's last finished round, then
        ``(finished)`` when it reached the budget or the stop accuracy;
        ``not started`` for a curve with no row.
    """
    import pandas as pd

    last = curve_ends(results, config).set_index(["strategy", "trial"])
    trials = sorted({*config.trials, *map(int, results["trial"])})
    strategies = list(
        dict.fromkeys([*config.strategies, *results["strategy"].unique()])
    )

    def cell(strategy, trial):
        if (strategy, trial) not in last.index:
            return "not started"
        row = last.loc[(strategy, trial)]
        text = f"{row['n_labels']:.0f} labels, {row['test_accuracy']:.4f}"
        return text + (" (finished)" if row["finished"] else "")

    table = pd.DataFrame(
        {f"trial {t}": {s: cell(s, t) for s in strategies} for t in trials}
    )
    return table.rename_axis("strategy")


_NOTHING_TO_COMPARE = (
    "no trial has finished every strategy yet, so there is nothing to compare; "
    "run `skbatchbald report` again once one has."
)


def _summary_of_complete(complete, config):
    summary = summarize(complete, config.resolved_thresholds, config.batch_size)
    return summary, format_summary(summary, config.dataset)


def summary_of_run(results, config):
    """(summary, formatted tables, dropped trials) of a run's complete trials."""
    complete, dropped = complete_trials(results, config)
    if complete.empty:
        raise ValueError(_NOTHING_TO_COMPARE)
    return (*_summary_of_complete(complete, config), dropped)


def _header(config, n_complete):
    pool = f"pool {config.pool_size or 'all'} images"
    if config.is_repeated:
        pool += f" x {config.n_repeats}"
    return (
        f"# {config.dataset}, {config.resolved_model}: "
        f"{', '.join(config.strategies)}\n\n"
        f"b = {config.batch_size}, {config.n_initial} -> {config.budget} labels"
        + (f" or {config.stop_accuracy:g} accuracy" if config.stop_accuracy else "")
        + f", {n_complete} complete paired trial{'s' * (n_complete != 1)} "
        f"(seed {config.seed}), "
        f"K = {config.n_mc_samples} (test {config.eval_mc_samples}), "
        f"M = {config.n_joint_samples}, pool subsample "
        f"{config.pool_subsample or 'none'}, validation {config.validation_size}"
        + (" from the pool" if config.validation_from_pool else "")
        + f", {pool}, test {config.test_size or 'all'}.\n"
    )


def _title(name, summary):
    n = summary.n_timed
    timed = (
        "trials"
        if n == summary.n_trials
        else f"the {n} trial{'s' * (n != 1)} timed on it"
    )
    return TABLES[name].format(
        reference=summary.reference, clock=_clock_name(summary), timed=timed
    )


def _clock_name(summary):
    """The clock of a summary's seconds, and its device where not the CPU."""
    if summary.device == "cpu":
        return summary.clock
    return f"{summary.clock} ({summary.device})"


def _section(title, table):
    return f"\n## {title}\n\n{table.to_markdown(disable_numparse=True)}\n"


def summary_markdown(results, config):
    """The summary as Markdown: a header with the setup, then the tables.

    A run whose trials have not all finished gets a progress table (each
    curve's last finished round) first; one with no complete trial gets only
    that, since there is nothing to compare yet.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy table.
    config : ExperimentConfig
        The options of the run (for the header and the thresholds).

    Returns
    -------
    text : str
        Markdown.
    """
    complete, dropped = complete_trials(results, config)
    n_complete = complete["trial"].nunique()
    text = _header(config, n_complete)
    if dropped or n_complete < config.n_trials:
        text += _section(PROGRESS, format_progress(results, config))
    if complete.empty:
        return text + f"\n{_NOTHING_TO_COMPARE[0].upper()}{_NOTHING_TO_COMPARE[1:]}\n"
    if dropped:
        which = "Trials" if len(dropped) > 1 else "Trial"
        text += (
            f"\n{which} {', '.join(map(str, dropped))} did not finish every "
            "strategy: left out of the tables below.\n"
        )
    summary, tables = _summary_of_complete(complete, config)
    return text + "".join(
        _section(_title(name, summary), table)
        for name, table in tables.items()
        if len(table) and len(table.columns)
    )
