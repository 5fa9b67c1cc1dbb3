"""Summaries of saved results: labels needed, final accuracy, paired differences."""

import dataclasses
import json
from pathlib import Path

import numpy as np

from ._config import ExperimentConfig

__all__ = [
    "complete_trials",
    "load_results",
    "summarize",
    "summary_markdown",
    "write_report",
]


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
        If the folder lacks either file.
    """
    import pandas as pd

    folder = Path(folder)
    missing = [
        name for name in ("results.csv", "config.json") if not (folder / name).is_file()
    ]
    if missing:
        raise ValueError(
            f"{folder} has no {' or '.join(missing)}; pass the --output folder of "
            "an `skbatchbald run`."
        )
    document = json.loads((folder / "config.json").read_text())
    config = ExperimentConfig.from_dict(document["config"])
    results = pd.read_csv(folder / "results.csv", keep_default_na=True)
    results["acquired_labels"] = results["acquired_labels"].fillna("").astype(str)
    return results, config


def _reference(results):
    strategies = list(dict.fromkeys(results["strategy"]))
    return "batchbald" if "batchbald" in strategies else strategies[0], strategies


def _first_reaching(curve, threshold):
    """Labels and cumulative seconds at the first round reaching ``threshold``."""
    reached = curve["test_accuracy"].to_numpy() >= threshold
    if not reached.any():
        return np.inf, np.inf
    i = int(np.argmax(reached))
    seconds = curve["training_seconds"] + curve["acquisition_seconds"].fillna(0.0)
    return float(curve["n_labels"].iloc[i]), float(seconds.iloc[: i + 1].sum())


def _percentiles(values, limit):
    """25/50/75th percentiles; anything past ``limit`` (not reached) is '>limit'."""
    finite = np.where(np.isinf(values), 10 * limit + 1, values)
    cells = []
    for q in np.percentile(finite, [25, 50, 75]):
        cells.append(f">{limit:g}" if q > limit else f"{q:.0f}")
    return "/".join(cells)


def summarize(results, thresholds=(0.8, 0.85, 0.9)):
    """Summary tables of a results table, strategies in their run order.

    Parameters
    ----------
    results : pandas.DataFrame
        The output of :func:`run_experiment` (or :func:`load_results`).
    thresholds : tuple of float, default=(0.8, 0.85, 0.9)
        Test accuracies for the "labels needed" and "time to accuracy" tables.

    Returns
    -------
    tables : dict of str to pandas.DataFrame
        ``"labels"``: labels to reach each accuracy, 25th/50th/75th
        percentiles over trials (">budget" when not reached, budget being the
        largest labelled-set size of the run); ``"final"``: final accuracy and
        mean accuracy over the learning curve; ``"paired"``: per strategy, the
        reference (BatchBALD when run, else the first strategy) minus it, per
        trial, as mean ± standard deviation, with wins/ties/losses of the
        reference and the two-sided Wilcoxon signed-rank p-value; ``"time"``:
        median seconds (training + acquisition) to reach each accuracy,
        relative to the reference; ``"batches"``: mean acquisition time,
        class entropy, copies per acquired batch and fraction of rounds in
        which BatchBALD saturated.

    See Also
    --------
    write_report : Writes these as Markdown with the plots.

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
    >>> tables = summarize(pd.DataFrame(rows), thresholds=(0.9,))
    >>> tables["labels"].loc["random", "90 %"]
    '>30/>30/>30'
    >>> tables["paired"].loc["random", "wins of batchbald (final)"]
    '2/0/0'
    """
    import pandas as pd

    reference, strategies = _reference(results)
    limit = float(results["n_labels"].max())
    curves = {
        key: curve.sort_values("round")
        for key, curve in results.groupby(["strategy", "trial"], sort=False)
    }
    labels, time = {}, {}
    for threshold in thresholds:
        column = f"{100 * threshold:g} %"
        reached = {
            s: np.array(
                [
                    _first_reaching(c, threshold)
                    for (s2, _), c in curves.items()
                    if s2 == s
                ]
            )
            for s in strategies
        }
        labels[column] = {s: _percentiles(reached[s][:, 0], limit) for s in strategies}
        median_time = {s: np.median(reached[s][:, 1]) for s in strategies}
        time[column] = {
            s: _relative(median_time[s], median_time[reference]) for s in strategies
        }
    finals = results.loc[results.groupby(["strategy", "trial"])["round"].idxmax()]
    final = finals.set_index(["strategy", "trial"])["test_accuracy"]
    mean_curve = results.groupby(["strategy", "trial"])["test_accuracy"].mean()
    final_table = {
        "final accuracy, median [IQR]": {s: _iqr(final[s]) for s in strategies},
        "mean accuracy over rounds": {s: _iqr(mean_curve[s]) for s in strategies},
        "final labels": {
            s: f"{finals.loc[finals.strategy == s, 'n_labels'].max():.0f}"
            for s in strategies
        },
    }
    paired = {}
    for s in strategies:
        if s == reference:
            continue
        paired[s] = {
            **_paired(final[reference], final[s], "final", reference),
            **_paired(mean_curve[reference], mean_curve[s], "curve mean", reference),
        }
    acquired = results[results["round"] > 0].copy()
    columns = {
        "acquisition_seconds": "acquisition s/round",
        "class_entropy": "class entropy (nats)",
        "copies_in_batch": "copies per batch",
        "saturated": "rounds saturated",
    }
    columns = {key: name for key, name in columns.items() if key in acquired}
    acquired = acquired[["strategy", *columns]].astype({c: float for c in columns})
    batches = acquired.groupby("strategy", sort=False).mean()
    batches = batches.reindex(strategies).rename(columns=columns)
    return {
        "labels": pd.DataFrame(labels).rename_axis("strategy"),
        "final": pd.DataFrame(final_table).rename_axis("strategy"),
        "paired": pd.DataFrame.from_dict(paired, orient="index").rename_axis(
            "strategy"
        ),
        "time": pd.DataFrame(time).rename_axis("strategy"),
        "batches": batches.rename_axis("strategy"),
    }


def _relative(value, reference):
    if np.isinf(value):
        return "not reached"
    if np.isinf(reference) or reference == 0:
        return f"{value:.1f} s"
    return f"{value:.1f} s (x{value / reference:.2f})"


def _iqr(values):
    q25, q50, q75 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return f"{q50:.3f} [{q25:.3f}, {q75:.3f}]"


def _paired(reference_values, values, what, reference):
    common = reference_values.index.intersection(values.index)
    diff = (reference_values[common] - values[common]).to_numpy()
    wins, losses = int((diff > 0).sum()), int((diff < 0).sum())
    spread = f" ± {100 * diff.std(ddof=1):.1f}" if len(diff) > 1 else " (1 trial)"
    return {
        f"{reference} - it ({what}), points": f"{100 * diff.mean():+.1f}{spread}",
        f"wins of {reference} ({what})": f"{wins}/{len(diff) - wins - losses}/{losses}",
        f"p ({what})": _signed_rank_p(diff),
    }


def _signed_rank_p(diff):
    """Two-sided Wilcoxon signed-rank p-value of paired differences, as text."""
    from scipy.stats import wilcoxon

    if np.count_nonzero(diff) < 2:
        return "n/a"
    return f"{wilcoxon(diff, zero_method='wilcox').pvalue:.2g}"


def summary_markdown(results, config):
    """The summary as Markdown: a header with the setup, then the tables.

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

    Raises
    ------
    ValueError
        If no trial has finished every strategy.
    """
    results, dropped = complete_trials(results, config)
    if results.empty:
        raise ValueError(
            "no trial has finished every strategy yet, so there is nothing to "
            "compare; run `skbatchbald report` again once one has."
        )
    tables = summarize(results, config.resolved_thresholds)
    n_trials = results["trial"].nunique()
    reference, _ = _reference(results)
    header = (
        f"# {config.dataset}, {config.resolved_model}: "
        f"{', '.join(dict.fromkeys(results['strategy']))}\n\n"
        f"b = {config.batch_size}, {config.n_initial} -> {config.budget} labels, "
        f"{n_trials} paired trial{'s' * (n_trials != 1)} (seed {config.seed}), "
        f"K = {config.n_mc_samples}, "
        f"M = {config.n_joint_samples}, pool subsample "
        f"{config.pool_subsample or 'none'}, validation {config.validation_size}, "
        f"pool {config.pool_size or 'all'} images"
        f"{f' x {config.n_repeats}' if config.dataset.startswith('repeated') else ''}"
        f", test {config.test_size or 'all'}.\n"
    )
    if dropped:
        which = "Trials" if len(dropped) > 1 else "Trial"
        header += (
            f"\n{which} {', '.join(map(str, dropped))} did not finish every "
            "strategy: left out.\n"
        )
    sections = [
        (
            "Labels to reach a test accuracy (25th/50th/75th percentile over trials)",
            tables["labels"],
        ),
        ("Accuracy", tables["final"]),
        (
            f"Paired differences: {reference} minus each strategy, mean ± sd over "
            "trials; wins/ties/losses of " + reference,
            tables["paired"],
        ),
        (
            "Time to accuracy (training + acquisition, median over trials; "
            f"x relative to {reference})",
            tables["time"],
        ),
        (
            "Acquired batches (means over rounds and trials; copies: picks of an "
            "image already picked in the same batch)",
            tables["batches"],
        ),
    ]
    body = "\n".join(
        f"\n## {title}\n\n{_as_text(table).to_markdown(disable_numparse=True)}\n"
        for title, table in sections
        if len(table)
    )
    return header + body


def _as_text(table):
    """Format numbers with 3 decimals; text cells (p-values, ranges) stay as is."""

    def cell(value):
        if isinstance(value, float):
            return "n/a" if np.isnan(value) else f"{value:.3f}"
        return value

    return table.map(cell)


def complete_trials(results, config):
    """Keep the trials in which every strategy reached the last round.

    An interrupted run leaves a partial trial; comparing strategies on it
    would break the pairing.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy table.
    config : ExperimentConfig
        The options of the run (for the strategies and the number of rounds).

    Returns
    -------
    results : pandas.DataFrame
        The rows of complete trials.
    dropped : list of int
        The trials left out.
    """
    last = results.groupby(["trial", "strategy"])["round"].max()
    done = last[last == config.n_rounds].reset_index()
    n_strategies = len(config.strategies)
    counts = done.groupby("trial")["strategy"].nunique()
    keep = sorted(counts.index[counts == n_strategies])
    dropped = sorted(set(results["trial"]) - set(keep))
    return results[results["trial"].isin(keep)], dropped


def write_report(folder, thresholds=None):
    """Re-render ``summary.md`` and the plots from a run's saved files.

    Parameters
    ----------
    folder : str or path
        The ``output`` folder of a run (``results.csv`` + ``config.json``).
    thresholds : tuple of float or None, default=None
        Accuracies for the "labels needed" and "time" tables; None uses the
        run's own (``config.json``).

    Returns
    -------
    text : str
        The Markdown summary, also written to ``summary.md``; the plots go to
        ``learning_curve.png`` and ``class_entropy.png``.

    Raises
    ------
    ValueError
        If the folder lacks the saved files.

    See Also
    --------
    summarize : The tables.
    """
    from ._plots import plot_class_entropy, plot_learning_curves

    folder = Path(folder)
    results, config = load_results(folder)
    if thresholds is not None:
        config = dataclasses.replace(config, thresholds=tuple(thresholds))
    text = summary_markdown(results, config)
    results, _ = complete_trials(results, config)
    (folder / "summary.md").write_text(text)
    title = f"{config.dataset}, {config.resolved_model}, b = {config.batch_size}"
    plot_learning_curves(results, folder / "learning_curve.png", title=title)
    plot_class_entropy(results, folder / "class_entropy.png", title=title)
    return text
