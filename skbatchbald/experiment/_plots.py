"""Learning curves and acquired-class entropy as PNG files.

Figures are drawn with :class:`matplotlib.figure.Figure` directly, which
renders to files without pyplot or a display, so nothing here changes the
caller's matplotlib backend.
"""

from matplotlib.figure import Figure

__all__ = ["PLOTS", "plot_class_entropy", "plot_learning_curves", "plot_run"]


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
    n_trials = results["trial"].nunique()
    trials = f"{n_trials} trial{'s' * (n_trials != 1)}"
    ax.set_title(f"{title} — median and IQR over {trials}", fontsize=10)
    ax.grid(alpha=0.3)
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

    Parameters
    ----------
    results : pandas.DataFrame
        The tidy table of :func:`run_experiment`.
    path : str or path
        PNG file to write.
    title : str, default=""
        Prefix of the plot title.
    """
    acquired = results[results["round"] > 0]
    _band_plot(acquired, "class_entropy", path, "class entropy of batch (nats)", title)


# Name (and PNG file stem) -> function of each plot of a run.
PLOTS = {
    "learning_curve": plot_learning_curves,
    "class_entropy": plot_class_entropy,
}


def plot_run(results, config, which, path):
    """Draw plot ``which`` (a key of `PLOTS`) of a run's rows, titled by its setup.

    Parameters
    ----------
    results : pandas.DataFrame
        The rows to plot: the run's complete trials.
    config : ExperimentConfig
        The options of the run (for the title).
    which : str
        ``"learning_curve"`` or ``"class_entropy"``.
    path : str or path
        PNG file to write.
    """
    title = f"{config.dataset}, {config.resolved_model}, b = {config.batch_size}"
    PLOTS[which](results, path, title=title)
