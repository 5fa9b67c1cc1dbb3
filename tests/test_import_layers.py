"""The package's layers, held by a check: every import (function-level ones
included) goes down the layers or stays in its own, and never into another
layer's private modules.

docs/design.rst ("Layers") describes the same order. A new module must be
placed in `LAYERS` before this passes.
"""

import ast
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skbatchbald"

# Lowest first. A layer may import any layer before it. Entries are module
# names or prefixes (a package and everything in it).
LAYERS = [
    # numpy-only helpers the whole package shares; any layer may import them
    (
        "base",
        [
            "skbatchbald",
            "skbatchbald._validation",
            "skbatchbald._memory",
            "skbatchbald._arrays",
            "skbatchbald._labels",
            "skbatchbald._docstrings",
            "skbatchbald._warnings",
            "skbatchbald._models",
            "skbatchbald._missing",
            "skbatchbald._round_off",
            "skbatchbald._query_picks",
            "skbatchbald._interrupt",
            "skbatchbald._folder_lock",
            "skbatchbald._pickled_version",
        ],
    ),
    ("acquisition", ["skbatchbald.acquisition"]),
    ("nn", ["skbatchbald.nn"]),
    ("classifier", ["skbatchbald.classifier", "skbatchbald.heads"]),
    (
        "sampling",
        [
            "skbatchbald.sampling",
            "skbatchbald.out_of_core",
            "skbatchbald._samplers",
            "skbatchbald._multilabel_samplers",
            "skbatchbald._regression_samplers",
        ],
    ),
    (
        "query",
        ["skbatchbald.query", "skbatchbald.cold_start", "skbatchbald._gaussian_ties"],
    ),
    ("stopping", ["skbatchbald.stopping"]),
    (
        "modal",
        [
            "skbatchbald.modal",
            "skbatchbald.committee",
            "skbatchbald._modal_ports",
            "skbatchbald._taught_dataset",
            "skbatchbald._dataset_identity",
            "skbatchbald._dataset_pool",
            "skbatchbald._row_weights",
        ],
    ),
    ("datasets", ["skbatchbald.datasets", "skbatchbald.embeddings"]),
    ("annotation", ["skbatchbald.annotation"]),
    ("experiment", ["skbatchbald.experiment", "skbatchbald.__main__"]),
]

# Private modules of a lower layer that a higher one may import, and why.
SEAMS = {
    # the sampling engine is torch-level (nn) but has one client, the classifier
    ("classifier", "skbatchbald.nn._engine"),
    # `skbatchbald label --target-type` offers the answer types the annotators read
    ("experiment", "skbatchbald.annotation._answers"),
}


def module_name(path, root):
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(root):
    """Every import of the package in ``root``: (importer, imported, line).

    ``imported`` is the module a name comes from, or the submodule it is.
    Imports inside functions count: they hide an edge, they do not remove it.
    """
    modules = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    edges = []
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[
                        : len(package.split(".")) - node.level + 1
                    ]
                    source = ".".join([*base, *filter(None, [node.module])])
                else:
                    source = node.module or ""
                targets = [
                    f"{source}.{alias.name}"
                    if f"{source}.{alias.name}" in modules
                    else source
                    for alias in node.names
                ]
            else:
                continue
            for target in targets:
                if target.split(".")[0] == root.name:
                    edges.append((name, target, node.lineno))
    return modules, edges


def layer_of(module):
    """Index and name of the module's layer; KeyError if it has none."""
    for rank, (layer, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            # the root package itself is base, its submodules are not all base
            if layer == "base" and module not in prefixes:
                continue
            return rank, layer
    raise KeyError(module)


def _private(module):
    return any(part.startswith("_") for part in module.split(".")[1:])


def violations(modules, edges):
    """Messages for every import that breaks the layers."""
    found = [
        f"{m} is in no layer: add it to LAYERS in tests/test_import_layers.py"
        for m in modules
        if _layer_or_none(m) is None
    ]
    for importer, imported, line in edges:
        source, target = _layer_or_none(importer), _layer_or_none(imported)
        if source is None or target is None:
            continue
        where = f"{importer}:{line} imports {imported}"
        if target[0] > source[0]:
            found.append(f"{where}: {target[1]} is above {source[1]}")
        elif (
            target[1] not in ("base", source[1])
            and _private(imported)
            and (source[1], imported) not in SEAMS
        ):
            found.append(
                f"{where}: a private module of {target[1]}; use its public names"
            )
    return found


def _layer_or_none(module):
    try:
        return layer_of(module)
    except KeyError:
        return None


def cycles(edges):
    """The import circles: groups of modules that import each other, sorted.

    Tarjan's strongly connected components of the import graph; a group of
    more than one module (or a module importing itself) is a circle.
    """
    graph = {}
    for importer, imported, _ in edges:
        graph.setdefault(importer, set()).add(imported)
        graph.setdefault(imported, set())
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
                on_stack.discard(group[-1])
            if len(group) > 1 or node in graph[node]:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_no_import_circle():
    assert cycles(imports(PACKAGE)[1]) == []


def test_a_seeded_circle_is_reported(tmp_path):
    root = _package(
        tmp_path,
        {
            "sampling.py": "from .out_of_core import dask_log_proba_samples",
            "out_of_core.py": """
                def f():
                    from .sampling import predict_log_proba_samples
            """,
            "query.py": "from .sampling import predict_log_proba_samples",
        },
    )
    assert cycles(imports(root)[1]) == [
        ["skbatchbald.out_of_core", "skbatchbald.sampling"]
    ]


def test_every_import_follows_the_layers():
    assert violations(*imports(PACKAGE)) == []


def _package(tmp_path, files):
    root = tmp_path / "skbatchbald"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (  # an upward import hidden in a function
            {
                "acquisition/__init__.py": "",
                "acquisition/_bald.py": """
                    def f():
                        from ..query import BALDQuery
                """,
                "query.py": "",
            },
            "skbatchbald.acquisition._bald:3 imports skbatchbald.query: "
            "query is above acquisition",
        ),
        (  # a reach-in to a lower layer's private module
            {
                "acquisition/__init__.py": "",
                "acquisition/_validation.py": "",
                "query.py": "from .acquisition._validation import check_log_probs",
            },
            "skbatchbald.query:1 imports skbatchbald.acquisition._validation: a "
            "private module of acquisition; use its public names",
        ),
        (  # a module nobody placed
            {"_stray.py": ""},
            "skbatchbald._stray is in no layer: add it to LAYERS in "
            "tests/test_import_layers.py",
        ),
    ],
)
def test_a_seeded_violation_is_reported(tmp_path, files, expected):
    assert violations(*imports(_package(tmp_path, files))) == [expected]


def test_allowed_imports_are_not_reported(tmp_path):
    root = _package(
        tmp_path,
        {
            "_validation.py": "",
            "acquisition/__init__.py": "from .._validation import check_int",
            "query.py": "from . import acquisition\nfrom .acquisition import bald",
        },
    )
    assert violations(*imports(root)) == []
