"""Docstring pieces shared word for word: one mechanism for the whole package.

A placeholder line such as ``{stochastic}`` in a docstring becomes the piece of
that name, so that what several functions or strategies share (the stochastic
draw, the seed, the order of the picks, which models a strategy takes) is
written in one place. Each layer keeps its own pieces: the acquisition
functions' in ``acquisition/_docstrings.py``, the strategies' in ``query.py``.
"""

import re
import textwrap


def fill_pieces(doc, pieces, owner):
    """``doc`` with each placeholder line replaced by the piece it names.

    A piece takes the indentation of its placeholder, which depends on where the
    docstring is defined and, from Python 3.13, on the compiler's dedenting.
    ``owner`` names the function or class in the error for an unknown piece.
    """
    if doc is None:  # python -OO strips docstrings
        return doc

    def piece(match):
        indent, name = match.groups()
        if name not in pieces:
            raise ValueError(f"{owner}: no docstring piece {name!r}")
        return textwrap.indent(textwrap.dedent(pieces[name]), indent)

    return re.sub(r"^( *)\{(\w+)\}\n", piece, doc, flags=re.MULTILINE)


def shared_doc(pieces):
    """A decorator filling its function's placeholders from ``pieces``."""

    def decorate(fn):
        fn.__doc__ = fill_pieces(fn.__doc__, pieces, fn.__name__)
        return fn

    return decorate
