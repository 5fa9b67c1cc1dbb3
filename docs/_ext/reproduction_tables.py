"""Tables, numbers and plots of docs/reproducing.rst, computed from the raw results.

``.. reproduction-table:: RUN TABLE`` renders table TABLE (a key of
:func:`skbatchbald.experiment.format_summary`, or ``progress``: where each curve
of a run under way stands) of the run saved in ``docs/_static/reproduction/RUN``;
``:repro:`RUN TABLE STRATEGY | COLUMN``` puts one cell of it in a sentence,
``:repro-trials:`RUN``` the number of complete trials behind the tables, and
``.. reproduction-plot:: RUN learning_curve`` (or ``class_entropy``) draws the
run's plot into ``docs/generated/``. RUN may join runs of other strategies
with ``+`` (``RUN_A+RUN_B``: their paired trials, merged in memory as
``skbatchbald merge`` would), or list runs of other acquisition sizes with
``,`` (``RUN_A,RUN_B``: tables ``labels`` and ``time`` and the plots, a row
or curve per strategy and b; not ``:repro-trials:``). All are recomputed from
``results.csv`` and ``config.json`` at every build that reads the page, and a
page that uses a run is read again when its files change, so the page cannot
drift from the data.
"""

import functools
import re
from pathlib import Path
from typing import ClassVar

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList

from skbatchbald.experiment import load_results
from skbatchbald.experiment._compare import (
    compare_acquisition_sizes,
    joined_by_acquisition_size,
)
from skbatchbald.experiment._format import TABLES, format_progress, summary_of_run
from skbatchbald.experiment._merge import joined_results
from skbatchbald.experiment._results import complete_trials

DOCS = Path(__file__).resolve().parents[1]
RESULTS = DOCS / "_static" / "reproduction"


@functools.cache
def _run(run):
    folders = [RESULTS / part for part in run.split("+")]
    if len(folders) == 1:
        return load_results(folders[0])
    results, config, _ = joined_results(folders)
    return results, config


@functools.cache
def _tables(run):
    summary, tables, _ = summary_of_run(*_run(run))
    return summary, tables


@functools.cache
def _sizes(runs):
    return compare_acquisition_sizes([_run(run) for run in runs.split(",")])


def _table(run, name):
    if "," in run:
        tables = _sizes(run)
        if name not in tables:
            raise ValueError(f"runs listed with ',' have tables {', '.join(tables)}")
        return tables[name]
    if name == "progress":
        return format_progress(*_run(run))
    if name not in TABLES:
        raise ValueError(
            f"unknown table {name!r}; one of {', '.join(TABLES)} or progress"
        )
    return _tables(run)[1][name]


def _depends_on(env, run):
    """Read the page again whenever the run's files change."""
    for part in re.split("[+,]", run):
        for name in ("results.csv", "config.json"):
            env.note_dependency(str(RESULTS / part / name))


def _plot(run, which):
    """Draw the run's plot of its complete trials; its path under docs/."""
    from skbatchbald.experiment._plots import PLOTS, plot_run

    if which not in PLOTS:
        raise ValueError(f"unknown plot {which!r}; one of {', '.join(PLOTS)}")
    name = run.replace("+", "_and_").replace(",", "_vs_")
    path = DOCS / "generated" / "reproduction" / f"{name}_{which}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    if "," in run:
        runs = [_run(part) for part in run.split(",")]
        title = f"{runs[0][1].dataset} by acquisition size b"
        PLOTS[which](joined_by_acquisition_size(runs), path, title=title)
        return path.relative_to(DOCS)
    results, config = _run(run)
    complete, _ = complete_trials(results, config)
    if complete.empty:
        raise ValueError("no trial has finished every strategy yet")
    plot_run(complete, config, which, path)
    return path.relative_to(DOCS)


class _RunDirective(Directive):
    """A directive on a saved run: ``.. NAME:: RUN WHAT``, rendered as rST lines."""

    required_arguments = 2

    def lines(self, run, what):
        raise NotImplementedError

    def run(self):
        run, what = self.arguments
        _depends_on(self.state.document.settings.env, run)
        try:
            lines = self.lines(run, what)
        except (ValueError, KeyError) as exc:
            raise self.error(f"{self.name} {run} {what}: {exc}") from exc
        container = nodes.container()
        self.state.nested_parse(StringList(lines), self.content_offset, container)
        return container.children


class ReproductionTable(_RunDirective):
    """``.. reproduction-table:: RUN TABLE`` with an optional ``:columns:``."""

    option_spec: ClassVar[dict] = {"columns": directives.unchanged}

    def lines(self, run, name):
        table = _table(run, name)
        if "columns" in self.options:
            wanted = [c.strip() for c in self.options["columns"].split(",")]
            table = table[wanted]
        lines = [".. list-table::", "   :header-rows: 1", ""]
        header = ["strategy", *table.columns]
        lines.append("   * - " + header[0])
        lines += [f"     - {column}" for column in header[1:]]
        for strategy, row in table.iterrows():
            lines.append(f"   * - {strategy}")
            lines += [f"     - {cell if cell else '..'}" for cell in row]
        return lines


class ReproductionPlot(_RunDirective):
    """``.. reproduction-plot:: RUN PLOT`` with an ``:alt:`` text."""

    option_spec: ClassVar[dict] = {"alt": directives.unchanged_required}

    def lines(self, run, which):
        lines = [f".. image:: /{_plot(run, which).as_posix()}"]
        if "alt" in self.options:
            lines.append(f"   :alt: {self.options['alt']}")
        return lines


def _role_error(inliner, rawtext, lineno, what, exc):
    message = inliner.reporter.error(f"{what}: {exc}", line=lineno)
    return [inliner.problematic(rawtext, rawtext, message)], [message]


def repro_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``:repro:`RUN TABLE STRATEGY | COLUMN``` -> that cell, as text."""
    try:
        head, column = (" ".join(part.split()) for part in text.split("|"))
        # compare rows are named "bald, b = 10": the strategy may hold spaces
        run, table_name, strategy = head.split(maxsplit=2)
        _depends_on(inliner.document.settings.env, run)
        value = _table(run, table_name).loc[strategy, column]
    except (ValueError, KeyError) as exc:
        return _role_error(inliner, rawtext, lineno, f"repro {text!r}", exc)
    return [nodes.Text(str(value))], []


def repro_trials_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``:repro-trials:`RUN``` -> the number of complete trials the tables use."""
    try:
        if "," in text:
            raise ValueError("runs listed with ',' have no single trial count")
        _depends_on(inliner.document.settings.env, text.strip())
        value = _tables(text.strip())[0].n_trials
    except (ValueError, KeyError) as exc:
        return _role_error(inliner, rawtext, lineno, f"repro-trials {text!r}", exc)
    return [nodes.Text(str(value))], []


def setup(app):
    app.add_directive("reproduction-table", ReproductionTable)
    app.add_directive("reproduction-plot", ReproductionPlot)
    app.add_role("repro", repro_role)
    app.add_role("repro-trials", repro_trials_role)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
