"""label_indices against a dictionary lookup; labels as messages show them."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from skbatchbald._labels import is_one_hot, label_indices, shown_labels


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


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        (np.eye(3, dtype=int)[[0, 2, 1, 2]], True),
        (np.eye(3, dtype=bool)[[0, 2]], True),  # pandas get_dummies gives bools
        (np.eye(2)[[1, 0]], True),  # floats 0.0 and 1.0
        (sp.csr_matrix(np.eye(3)[[0, 2]]), True),
        ([[0, 1], [1, 0]], True),
        (np.array([[1, 1, 0], [1, 0, 0]]), False),  # several labels in a row
        (np.array([[0, 0, 0], [1, 0, 0]]), False),  # a row with none
        (sp.csr_matrix([[1, 1], [0, 1]]), False),
        (np.array([[2, 0], [0, 1]]), False),  # not 0/1
        (np.array([[1], [1]]), False),  # one column: a label per row
        (np.array([0, 1, 2]), False),
        (np.empty((0, 3)), False),
        (np.array([["a", "b"], ["b", "a"]]), False),
        ([[0, 1], [1]], False),  # ragged
    ],
)
def test_is_one_hot(y, expected):
    assert is_one_hot(y) is expected


def test_a_long_list_of_labels_is_shown_by_its_ends():
    assert shown_labels([3, 1, 2]) == "[3, 1, 2]"
    assert shown_labels(np.array(["a", "b"])) == "['a', 'b']"
    shown = shown_labels(np.arange(1000))
    assert shown == "[0, 1, 2, 3, 4, 5, 6, 7, ..., 998, 999] (1000 labels)"


def test_an_error_about_1000_classes_stays_short():
    from skbatchbald.heads import DeepEnsembleClassifier

    X = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    head = DeepEnsembleClassifier(classes=np.arange(1000), max_epochs=1)
    with pytest.raises(ValueError, match=r"\[1000\] that are not in classes=") as e:
        head.fit(X, np.r_[np.arange(19), 1000])
    assert len(str(e.value)) < 200
