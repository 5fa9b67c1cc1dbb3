"""Answers decoded to classes: names matched as written, then more loosely."""

import unicodedata

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


def test_a_label_typed_in_another_case_is_answered():
    classes = ["Cat", "Dog"]
    _, labels = check_answers(
        [0, 1, 2], ["dog", " CAT", "Dog"], classes, ["row 1", "row 2", "row 3"]
    )
    assert labels.tolist() == ["Dog", "Cat", "Dog"]
    # two classes alike but for case: refused, not guessed
    with pytest.raises(ValueError, match=r"label 'CAT', which is not one of"):
        check_answers([0], ["CAT"], ["cat", "Cat"], ["row 1"])
    _, labels = check_answers([0], ["Cat"], ["cat", "Cat"], ["row 1"])
    assert labels.tolist() == ["Cat"]


def test_a_float_written_by_pandas_names_an_integer_class():
    # pandas writes a label column that had empty cells as floats: "8.0"
    _, labels = check_answers(
        [0, 1, 2], ["8.0", "3", " 0.0 "], range(10), ["row 1", "row 2", "row 3"]
    )
    assert labels.tolist() == [8, 3, 0] and labels.dtype.kind == "i"
    _, labels = check_answers([0], ["1"], [0.0, 1.0], ["row 1"])
    assert labels.tolist() == [1.0]
    for text in ("8.5", "nan", "inf"):
        with pytest.raises(ValueError, match=rf"label '{text}', which is not one of"):
            check_answers([0], [text], range(10), ["row 1"])


def test_a_label_in_decomposed_unicode_is_answered():
    # "Facturación" typed as "o" plus a combining accent looks the same on screen
    composed = "Facturación"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    _, labels = check_answers(
        [0, 1], [decomposed, decomposed.upper()], [composed, "Envío"], ["r1", "r2"]
    )
    assert labels.tolist() == [composed, composed]


@pytest.mark.parametrize(
    "text", ["even;round", "even, round", "even|round", "even round"]
)
def test_several_tags_in_one_cell_say_multi_label_is_not_supported(text):
    classes = ["even", "gt4", "prime", "round"]
    with pytest.raises(ValueError, match=r"names 2 classes.*not supported") as info:
        check_answers([0], [text], classes, ["row 1"])
    assert "add the class" not in str(info.value)
    # a class whose own name holds a separator is matched as it is
    _, labels = check_answers([0], ["a b"], ["a", "b", "a b"], ["row 1"])
    assert labels.tolist() == ["a b"]


def test_tag_lists_with_spaces_in_names_or_repeats():
    classes = ["big dog", "cat"]
    with pytest.raises(ValueError, match=r"names 2 classes \(\['big dog', 'cat'\]\)"):
        check_answers([0], ["big dog; cat"], classes, ["row 1"])
    # one class twice is that class's name repeated, not several classes
    with pytest.raises(ValueError, match="add the class") as info:
        check_answers([0], ["cat;cat"], classes, ["row 1"])
    assert "names" not in str(info.value)


def test_tags_between_spaces_and_marks_together():
    with pytest.raises(ValueError, match="names 3 classes"):
        check_answers([0], ["cat dog; bird"], ["cat", "dog", "bird"], ["row 1"])
