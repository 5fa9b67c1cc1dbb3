import inspect
import re

import pytest

from skbatchbald import acquisition
from skbatchbald.acquisition._docstrings import PIECES, shared_doc


def _documented_parameters(doc):
    section = doc.split("Parameters\n    ----------\n", 1)[1]
    section = re.split(r"\n\n    \w[\w ]*\n    -+\n", section, maxsplit=1)[0]
    return re.findall(r"^    (\w+) : ", section, re.MULTILINE)


FUNCTIONS = [
    name
    for name in acquisition.__all__
    if inspect.isfunction(getattr(acquisition, name))
]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_parameter_documented_in_order(name):
    fn = getattr(acquisition, name)
    assert _documented_parameters(fn.__doc__) == list(inspect.signature(fn).parameters)
    assert not re.search(r"^    \{\w+\}$", fn.__doc__, re.MULTILINE)


def test_shared_pieces_filled_in():
    for fn in (acquisition.bald, acquisition.margin, acquisition.epig):
        for piece in PIECES.values():
            assert piece in fn.__doc__


def test_unknown_piece_refused():
    def f():
        """Doc.

        Parameters
        ----------
        {no_such_piece}
        """

    with pytest.raises(ValueError, match="no_such_piece"):
        shared_doc(f)


def test_piece_takes_the_placeholder_indentation():
    def f():
        """Doc.

        Returns
        -------
        {picked_indices}
        """

    assert "\n        indices : ndarray" in shared_doc(f).__doc__
    assert "\n            Distinct pool indices" in f.__doc__


def test_stripped_docstring_left_alone():
    def f():
        pass

    assert shared_doc(f) is f and f.__doc__ is None
