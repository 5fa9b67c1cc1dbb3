"""Tables and numbers of docs/reproducing.rst, computed from the raw results.

``.. reproduction-table:: RUN TABLE`` renders table TABLE (a key of
:func:`skbatchbald.experiment.format_summary`, or ``progress``: where each curve
of a run under way stands) of the run saved in ``docs/_static/reproduction/RUN``;
``:repro:`RUN TABLE STRATEGY | COLUMN``` puts one cell of it in a sentence, and
``:repro-trials:`RUN``` the number of complete trials behind the tables. All
are recomputed from ``results.csv`` and ``config.json`` at every build, so the page
cannot drift from the data.
"""

import functools
from pathlib import Path
from typing import ClassVar

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList

from skbatchbald.experiment import load_results
from skbatchbald.experiment._format import TABLES, format_progress, summary_of_run

RESULTS = Path(__file__).resolve().parents[1] / "_static" / "reproduction"


@functools.cache
def _run(run):
    return load_results(RESULTS / run)


@functools.cache
def _tables(run):
    summary, tables, _ = summary_of_run(*_run(run))
    return summary, tables


def _table(run, name):
    if name == "progress":
        return format_progress(*_run(run))
    if name not in TABLES:
        raise ValueError(
            f"unknown table {name!r}; one of {', '.join(TABLES)} or progress"
        )
    return _tables(run)[1][name]


class ReproductionTable(Directive):
    """``.. reproduction-table:: RUN TABLE`` with an optional ``:columns:``."""

    required_arguments = 2
    option_spec: ClassVar[dict] = {"columns": directives.unchanged}

    def run(self):
        run, name = self.arguments
        try:
            table = _table(run, name)
        except (ValueError, KeyError) as exc:
            raise self.error(f"reproduction-table {run} {name}: {exc}") from exc
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
        container = nodes.container()
        self.state.nested_parse(StringList(lines), self.content_offset, container)
        return container.children


def repro_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``:repro:`RUN TABLE STRATEGY | COLUMN``` -> that cell, as text."""
    try:
        head, column = (" ".join(part.split()) for part in text.split("|"))
        run, table_name, strategy = head.split()
        value = _table(run, table_name).loc[strategy, column]
    except (ValueError, KeyError) as exc:
        message = inliner.reporter.error(f"repro {text!r}: {exc}", line=lineno)
        problem = inliner.problematic(rawtext, rawtext, message)
        return [problem], [message]
    return [nodes.Text(str(value))], []


def repro_trials_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``:repro-trials:`RUN``` -> the number of complete trials the tables use."""
    try:
        value = _tables(text.strip())[0].n_trials
    except (ValueError, KeyError) as exc:
        message = inliner.reporter.error(f"repro-trials {text!r}: {exc}", line=lineno)
        problem = inliner.problematic(rawtext, rawtext, message)
        return [problem], [message]
    return [nodes.Text(str(value))], []


def setup(app):
    app.add_directive("reproduction-table", ReproductionTable)
    app.add_role("repro", repro_role)
    app.add_role("repro-trials", repro_trials_role)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
