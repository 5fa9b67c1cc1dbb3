"""Answers decoded to classes: names matched as written, then without spaces."""

import numpy as np
import pytest

from skbatchbald.annotation._answers import check_answers


def test_a_class_name_with_its_own_spaces_is_answered():
    # a tool returns "setosa " as configured; a person editing a file may
    # write "setosa" or " virginica"
    classes = ["setosa ", "versicolor", "virginica"]
    where = ["task 1", "row 2", "row 3"]
    indices, labels = check_answers(
        [4, 7, 9], ["setosa ", "setosa", " virginica"], classes, where
    )
    assert indices.tolist() == [4, 7, 9]
    assert labels.tolist() == ["setosa ", "setosa ", "virginica"]


def test_names_alike_but_for_spaces_are_matched_exactly_first():
    classes = np.array(["a", "a "])
    _, labels = check_answers([0, 1], ["a ", "a"], classes, ["row 1", "row 2"])
    assert labels.tolist() == ["a ", "a"]
    # "b" could be either class: refused, not guessed
    with pytest.raises(ValueError, match=r"label 'b', which is not one of"):
        check_answers([0], ["b"], ["b ", " b"], ["row 1"])
