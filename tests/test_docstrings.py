"""The one docstring-piece mechanism, and the strategies' pieces."""

import inspect
import re

import pytest

from skbatchbald import query
from skbatchbald._docstrings import fill_pieces


def test_a_piece_takes_its_placeholder_indentation():
    doc = "Title.\n\n    Parameters\n    ----------\n    {x}\n    y : int\n"
    pieces = {"x": "x : int\n    The x.\n"}
    assert fill_pieces(doc, pieces, "f") == (
        "Title.\n\n    Parameters\n    ----------\n    x : int\n        The x.\n"
        "    y : int\n"
    )


def test_only_whole_placeholder_lines_are_filled():
    doc = '    stochastic : {"power", "softmax"}\n    a {x} b\n'
    assert fill_pieces(doc, {"x": "X\n"}, "f") == doc


def test_unknown_piece_is_refused():
    with pytest.raises(ValueError, match="BALDQuery: no docstring piece 'nope'"):
        fill_pieces("    {nope}\n", {}, "BALDQuery")


@pytest.mark.parametrize("name", query.__all__)
def test_strategy_docstrings_are_filled(name):
    doc = getattr(query, name).__doc__
    assert not re.search(r"^ *\{\w+\}$", doc, re.MULTILINE)
    documented = re.findall(r"^    (\w+) : ", doc.split("See Also")[0], re.MULTILINE)
    cls = getattr(query, name)
    assert documented == list(inspect.signature(cls).parameters)


def test_each_shared_piece_is_used():
    docs = "".join(getattr(query, name).__doc__ for name in query.__all__)
    for piece in query._PIECES.values():
        assert inspect.cleandoc(piece).splitlines()[0] in docs
