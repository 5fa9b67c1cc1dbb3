"""A run's report: the Markdown summary and the learning-curve plots, written."""

import dataclasses
from pathlib import Path

from ._format import summary_markdown
from ._results import complete_trials, load_results
from ._store import atomic_write

__all__ = ["write_report"]


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
        ``learning_curve.png``, ``class_entropy.png`` and
        ``class_histogram.png`` when matplotlib is installed (a note in the
        text says when it is not) and a trial has finished every strategy
        (the plots of acquired classes only once a batch was acquired: not
        when every curve stopped at round 0). A run
        still under way gets a progress table.

    Raises
    ------
    ValueError
        If the folder lacks the saved files.

    See Also
    --------
    summarize : The numbers.
    """
    folder = Path(folder).expanduser()
    results, config = load_results(folder)
    if thresholds is not None:
        config = dataclasses.replace(config, thresholds=tuple(thresholds))
    text = summary_markdown(results, config)
    try:
        from ._plots import OF_BATCHES, PLOTS, plot_run
    except ImportError:
        text += (
            "\nNo plots: matplotlib is not installed "
            "(pip install 'skbatchbald[experiment]').\n"
        )
    else:
        results, _ = complete_trials(results, config)
        acquired = bool((results["round"] > 0).any())
        if len(results):  # plots of complete trials only, like the tables
            for which in PLOTS:
                # a plot of batches needs one acquired and its column
                column = OF_BATCHES.get(which)
                if column is None or (acquired and column in results):
                    plot_run(results, config, which, folder / f"{which}.png")
    atomic_write(folder / "summary.md", text)
    return text
