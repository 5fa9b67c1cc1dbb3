"""The evaluation table of docs/user_guide/stopping.rst, computed from its CSV.

``.. stopping-table:: FILE`` summarises ``docs/_static/stopping/FILE`` (written
by ``benchmarks/stopping_evaluation.py``: one row per model, seed and rule) at
every build that reads the page, and the page is read again when the file
changes, so the table cannot drift from the data.
"""

from pathlib import Path

import pandas as pd
from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList

RESULTS = Path(__file__).resolve().parents[1] / "_static" / "stopping"

COLUMNS = {
    "runs": "runs",
    "stopped": "stopped",
    "stop_labels": "labels at stop (median)",
    "hindsight_labels": "labels in hindsight (median)",
    "extra_labels": "extra labels (mean)",
    "accuracy_lost": "accuracy lost, points (mean)",
    "worst_lost": "accuracy lost, points (worst)",
}


def summarise(results):
    """One row per model and rule, in the order the rules were run."""
    grouped = results.groupby(["model", "rule"], sort=False)
    table = grouped.agg(
        runs=("seed", "size"),
        stopped=("stopped", "sum"),
        stop_labels=("stop_labels", "median"),
        hindsight_labels=("hindsight_labels", "median"),
        extra_labels=("extra_labels", "mean"),
        accuracy_lost=("accuracy_lost", "mean"),
        worst_lost=("accuracy_lost", "max"),
    )
    return table.round(
        {"stop_labels": 0, "hindsight_labels": 0, "extra_labels": 0}
    ).round(2)


def _cell(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class StoppingTable(Directive):
    """``.. stopping-table:: FILE``: the summary as a list-table."""

    required_arguments = 1

    def run(self):
        path = RESULTS / self.arguments[0]
        self.state.document.settings.env.note_dependency(str(path))
        try:
            table = summarise(pd.read_csv(path))
        except (OSError, KeyError, ValueError) as exc:
            raise self.error(f"stopping-table {path}: {exc}") from exc
        lines = [".. list-table::", "   :header-rows: 1", ""]
        header = ["model", "rule", *COLUMNS.values()]
        lines.append(f"   * - {header[0]}")
        lines += [f"     - {h}" for h in header[1:]]
        for (model, rule), row in table.iterrows():
            lines += [f"   * - {model}", f"     - ``{rule}``"]
            lines += [f"     - {_cell(row[c])}" for c in COLUMNS]
        container = nodes.container()
        self.state.nested_parse(StringList(lines), self.content_offset, container)
        return container.children


def setup(app):
    app.add_directive("stopping-table", StoppingTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
