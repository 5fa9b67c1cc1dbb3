"""label_indices against a dictionary lookup."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skbatchbald._labels import label_indices


@given(
    classes=st.lists(st.integers(-5, 5), unique=True, max_size=8),
    labels=st.lists(st.integers(-7, 7), max_size=20),
)
def test_matches_a_dictionary_lookup(classes, labels):
    where = {c: i for i, c in enumerate(classes)}
    expected = [where.get(label, -1) for label in labels]
    out = label_indices(np.array(labels, dtype=np.int64), classes)
    assert out.dtype == np.int64
    assert out.tolist() == expected


@pytest.mark.parametrize(
    ("labels", "classes", "expected"),
    [
        (["b", "z", "a"], ["b", "a"], [0, -1, 1]),  # unsorted classes
        ([2.0, 0.0], [0, 1, 2], [2, 0]),  # floats equal to int classes
        ([0, 1], ["a", "b"], [-1, -1]),  # types that do not compare
        (["a"], [], [-1]),
        ([], ["a"], []),
    ],
)
def test_cases(labels, classes, expected):
    assert label_indices(labels, classes).tolist() == expected
