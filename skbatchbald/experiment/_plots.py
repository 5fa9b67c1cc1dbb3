"""Learning curves, acquired-class entropy and class histograms as PNG files.

Figures are drawn with :class:`matplotlib.figure.Figure` directly, which
renders to files without pyplot or a display, so nothing here changes the
caller's matplotlib backend.
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "PLOTS",
    "plot_class_entropy",
    "plot_class_histogram",
    "plot_learning_curves",
    "plot_run",
]


def _trials(results):
    """ "3 trials", or "1-2 trials" when the curves (runs set side by side by
    acquisition size) hold different numbers of them."""
    counts = results.groupby("strategy")["trial"].nunique()
    if counts.empty:  # e.g. no batch acquired: every curve stopped at round 0
        return "0 trials"
    low, high = int(counts.min()), int(counts.max())
    count = f"{low}" if low == high else f"{low}-{high}"
    return f"{count} trial{'s' * (high != 1)}"


def _band_plot(results, column, path, ylabel, title):
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    for name, rows in results.groupby("strategy", sort=False):
        by_size = rows.groupby("n_labels")[column]
        q = by_size.quantile([0.25, 0.5, 0.75]).unstack()
        (line,) = ax.plot(q.index, q[0.5], label=name, marker=".")
        ax.fill_between(q.index, q[0.25], q[0.75], color=line.get_color(), alpha=0.2)
    ax.set_xlabel("labelled examples")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} — median and IQR over {_trials(results)}", fontsize=10)
    ax.grid(alpha=0.3)
    if len(results):  # an empty legend warns
        ax.legend()
    fig.savefig(path, dpi=120)


def plot_learning_curves(results, path, title=""):
    """Test accuracy against labels, median and interquartile band per strategy.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy table of :func:`run_experiment`.
    path : str or path
        PNG file to write.
    title : str, default=""
        Prefix of the plot title.
    """
    _band_plot(results, "test_accuracy", path, "test accuracy", title)


def plot_class_entropy(results, path, title=""):
    """Entropy of the acquired batch's class distribution, per round.

    The axes are empty when no batch was acquired (every curve stopped at
    round 0); :func:`write_report` then draws no such plot.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy table of :func:`run_experiment`.
    path : str or path
        PNG file to write.
    title : str, default=""
        Prefix of the plot title.
    """
    _require(results, "class_entropy", "the entropy of each acquired batch's labels")
    acquired = results[results["round"] > 0]
    _band_plot(acquired, "class_entropy", path, "class entropy of batch (nats)", title)


def _require(results, column, what):
    """ValueError naming ``column`` if a table of one's own loop lacks it."""
    if column not in results:
        raise ValueError(
            f"results lack the column {column!r} ({what}) that this plot draws: "
            "record it in each round's row, or draw plot_learning_curves only."
        )


def _acquired_classes(rows):
    """Every class label acquired in ``rows`` (round 0, the initial set, left
    out), as text: a cell is a list of labels (a loop of one's own), or the
    runner's text of labels separated by spaces."""
    labels = []
    for cell in rows.loc[rows["round"] > 0, "acquired_labels"]:
        if isinstance(cell, list | tuple | np.ndarray):
            labels.extend(str(label) for label in cell)
        elif isinstance(cell, str):
            labels.extend(cell.split())
        elif not pd.isna(cell):
            labels.append(str(cell))  # one label
    return np.array(labels, dtype=str)


# Integer classes 0 .. max are drawn one bar each below this; above it (codes
# such as 1000, 2000) only the labels acquired are.
_DENSE_CLASSES = 1000


def _class_axis(labels):
    """(classes to draw in order, each label array as those names).

    Integer labels from 0 below 1000 give 0 .. max (a class never acquired
    is a bar of 0, and "07" is class 7), other integers (negative, or codes
    of 1000 and more) the labels acquired, in order; other labels ("cat
    dog") their sorted names.
    """
    try:
        numbers = [v.astype(np.int64) for v in labels]
    except (ValueError, OverflowError):  # names, or integers past int64
        return sorted(set(np.concatenate(labels).tolist())), labels
    seen = np.unique(np.concatenate([np.zeros(0, np.int64), *numbers]))
    if not seen.size or (seen[0] >= 0 and seen[-1] < _DENSE_CLASSES):
        # 0 .. max (0 alone before any pick): a class never picked shows, and
        # the uniform line is over all of them (EMNIST's 47 before all are seen)
        seen = np.arange(seen[-1] + 1 if seen.size else 1)
    return [str(c) for c in seen], [v.astype(str) for v in numbers]


def plot_class_histogram(results, path, title=""):
    """Share of the acquired labels in each class, one bar per strategy and class.

    The paper's EMNIST figures show this: a strategy that fills its batches
    with look-alikes acquires a few classes far more often than the others.
    The initial labelled set (round 0) is not counted.

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy table of :func:`run_experiment`, or of a loop of one's own
        whose ``acquired_labels`` cells are the labels of each round's batch:
        a list per row (class names may hold spaces), or text of labels
        separated by spaces, as the runner writes it.
    path : str or path
        PNG file to write.
    title : str, default=""
        Prefix of the plot title.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure written to ``path``.
    """
    _require(results, "acquired_labels", "the class labels of each acquired batch")
    classes = {
        name: _acquired_classes(rows)
        for name, rows in results.groupby("strategy", sort=False)
    }
    axis, named = _class_axis(list(classes.values()))
    classes = dict(zip(classes, named, strict=True))
    n_classes = len(axis)
    fig = Figure(
        figsize=(max(6.4, 0.25 * n_classes * len(classes)), 4.2), layout="constrained"
    )
    ax = fig.subplots()
    width = 0.8 / max(len(classes), 1)
    for i, (name, labels) in enumerate(classes.items()):
        counts = pd.Series(labels).value_counts().reindex(axis, fill_value=0)
        share = counts.to_numpy() / max(labels.size, 1)
        ax.bar(
            np.arange(n_classes) + (i - (len(classes) - 1) / 2) * width,
            share,
            width=width,
            label=name,
        )
    ax.axhline(1 / n_classes, color="0.3", linestyle="--", linewidth=1, label="uniform")
    ax.set_xticks(np.arange(n_classes), axis)
    ax.set_xlabel("class")
    ax.set_ylabel("share of acquired labels")
    ax.set_title(f"{title} — acquired classes over {_trials(results)}", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend()
    fig.savefig(path, dpi=120)
    return fig


# Name (and PNG file stem) -> function of each plot of a run.
PLOTS = {
    "learning_curve": plot_learning_curves,
    "class_entropy": plot_class_entropy,
    "class_histogram": plot_class_histogram,
}
# The plots of acquired batches: nothing to draw before the first acquisition
# (nor without the column each draws, in a table of one's own loop).
OF_BATCHES = {"class_entropy": "class_entropy", "class_histogram": "acquired_labels"}


def plot_run(results, config, which, path):
    """Draw plot ``which`` (a key of `PLOTS`) of a run's rows, titled by its setup.

    Parameters
    ----------
    results : pandas.DataFrame
        The rows to plot: the run's complete trials.
    config : ExperimentConfig
        The options of the run (for the title).
    which : str
        ``"learning_curve"``, ``"class_entropy"`` or ``"class_histogram"``.
    path : str or path
        PNG file to write.
    """
    title = f"{config.dataset}, {config.resolved_model}, b = {config.batch_size}"
    PLOTS[which](results, path, title=title)
