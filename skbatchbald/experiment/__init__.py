"""Active-learning experiments after the BatchBALD paper: runs, results and plots.

:func:`run_experiment` runs strategies on paired trials, resumably, and
returns a tidy table; :func:`summarize` turns results into numbers,
:func:`format_summary` into tables of text, and :func:`write_report` writes
them as Markdown with learning-curve plots; :func:`merge_results` joins the
folders of several processes. ``skbatchbald run``, ``report`` and ``merge``
are the same from the command line. Names are loaded on first use, so that
``skbatchbald --help`` does not wait for torch.
"""

from ._config import DATASETS, MODELS, PRESETS, STRATEGIES, ExperimentConfig

_LAZY = {
    "run_experiment": "._protocol",
    "load_results": "._results",
    "complete_trials": "._results",
    "summarize": "._results",
    "Summary": "._results",
    "write_report": "._report",
    "format_summary": "._format",
    "merge_results": "._merge",
    "plot_learning_curves": "._plots",
    "plot_class_entropy": "._plots",
    "plot_class_histogram": "._plots",
}

__all__ = [
    "DATASETS",
    "MODELS",
    "PRESETS",
    "STRATEGIES",
    "ExperimentConfig",
    *sorted(_LAZY),
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
