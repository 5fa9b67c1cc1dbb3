"""The evaluation table of docs/user_guide/stopping.rst, computed from its CSV.

``.. stopping-table:: FILE`` summarises ``docs/_static/stopping/FILE`` (written
by ``benchmarks/stopping_evaluation.py`` or
``benchmarks/stopping_on_embedding_curves.py``: one row per model, seed and
rule) at every build that reads the page, and the page is read again when the
file changes, so the table cannot drift from the data. The ``:by:`` option
names the columns to group by (comma-separated; default ``model, rule``); a
``closest`` column in the file, where present, adds its median.
"""

from pathlib import Path
from typing import ClassVar

import pandas as pd
from docutils import nodes
from docutils.parsers.rst import Directive, directives
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
CLOSEST = "closest evidence (median)"


def summarise(results, by=("model", "rule")):
    """One row per group of ``by``, in the order the rules were run."""
    grouped = results.groupby(list(by), sort=False)
    extra = {"closest": ("closest", "median")} if "closest" in results else {}
    table = grouped.agg(
        runs=("seed", "size"),
        stopped=("stopped", "sum"),
        stop_labels=("stop_labels", "median"),
        hindsight_labels=("hindsight_labels", "median"),
        extra_labels=("extra_labels", "mean"),
        accuracy_lost=("accuracy_lost", "mean"),
        worst_lost=("accuracy_lost", "max"),
        **extra,
    )
    return table.round(
        {"stop_labels": 0, "hindsight_labels": 0, "extra_labels": 0, "closest": 3}
    ).round({c: 2 for c in COLUMNS})


def _cell(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class StoppingTable(Directive):
    """``.. stopping-table:: FILE``: the summary as a list-table."""

    required_arguments = 1
    option_spec: ClassVar = {"by": directives.unchanged}

    def run(self):
        path = RESULTS / self.arguments[0]
        self.state.document.settings.env.note_dependency(str(path))
        by = [c.strip() for c in self.options.get("by", "model, rule").split(",")]
        try:
            table = summarise(pd.read_csv(path), by)
        except (OSError, KeyError, ValueError) as exc:
            raise self.error(f"stopping-table {path}: {exc}") from exc
        columns = {**COLUMNS, "closest": CLOSEST}
        columns = {c: name for c, name in columns.items() if c in table}
        lines = [".. list-table::", "   :header-rows: 1", ""]
        header = [*by, *columns.values()]
        lines.append(f"   * - {header[0]}")
        lines += [f"     - {h}" for h in header[1:]]
        for keys, row in table.iterrows():
            keys = keys if isinstance(keys, tuple) else (keys,)
            cells = [
                f"``{k}``" if c == "rule" else str(k)
                for c, k in zip(by, keys, strict=True)
            ]
            cells += [_cell(row[c]) for c in columns]
            lines.append(f"   * - {cells[0]}")
            lines += [f"     - {cell}" for cell in cells[1:]]
        container = nodes.container()
        self.state.nested_parse(StringList(lines), self.content_offset, container)
        return container.children


def setup(app):
    app.add_directive("stopping-table", StoppingTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
