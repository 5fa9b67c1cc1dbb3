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
def test_several_tags_in_one_cell_name_the_multi_label_target_type(text):
    classes = ["even", "gt4", "prime", "round"]
    with pytest.raises(
        ValueError, match=r"names 2 classes.*pass target_type='multilabel'"
    ) as info:
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


# -- several tags per answer (target_type="multilabel") ----------------------

TAGS = ["even", "gt4", "prime", "big dog"]


def test_tags_decode_to_an_indicator_row_in_the_order_of_classes():
    answers = ["prime; even", "gt4", "-", ["big dog", "even"], [], "Prime|GT4"]
    indices, Y = check_answers(
        range(6),
        answers,
        TAGS,
        [f"row {i}" for i in range(6)],
        target_type="multilabel",
    )
    assert indices.tolist() == list(range(6))
    assert Y.dtype.kind == "i" and Y.shape == (6, 4)
    assert Y.tolist() == [
        [1, 0, 1, 0],
        [0, 1, 0, 0],
        [0, 0, 0, 0],
        [1, 0, 0, 1],
        [0, 0, 0, 0],
        [0, 1, 1, 0],
    ]


def test_every_separator_people_use_gives_the_same_tags():
    cells = ["even;prime", "even, prime", "even | prime", "even/prime", "even prime"]
    _, Y = check_answers(range(5), cells, TAGS, ["r"] * 5, target_type="multilabel")
    assert (Y == [1, 0, 1, 0]).all()
    # a tag whose own name holds a separator is read whole
    _, Y = check_answers([0], ["big dog"], TAGS, ["r"], target_type="multilabel")
    assert Y.tolist() == [[0, 0, 0, 1]]


def test_an_unknown_tag_is_named_with_how_to_write_none():
    with pytest.raises(
        ValueError, match=r"row 3 \(pool index 7\) has tag 'odd'.*'-' for no tags"
    ):
        check_answers([7], ["even; odd"], TAGS, ["row 3"], target_type="multilabel")
    # an empty cell is an unanswered row, not "no tags"
    with pytest.raises(
        ValueError, match=r"has no label; give it its tags.*'-' for none"
    ):
        check_answers([7], [""], TAGS, ["row 3"], target_type="multilabel")


def test_a_tag_named_like_no_tags_is_refused():
    with pytest.raises(ValueError, match="tag named '-'"):
        check_answers([0], ["a"], ["a", "-"], ["r"], target_type="multilabel")


def test_a_list_of_several_choices_is_refused_for_one_class_per_row():
    # Label Studio's multiple-choice result read for a multi-class target
    with pytest.raises(ValueError, match=r"names 2 classes.*target_type='multilabel'"):
        check_answers([0], [["even", "prime"]], TAGS, ["task 1"])
    _, labels = check_answers([0], [["prime"]], TAGS, ["task 1"])
    assert labels.tolist() == ["prime"]
    with pytest.raises(ValueError, match="has no label"):
        check_answers([0], [[]], TAGS, ["task 1"])


# -- a number per answer (target_type="continuous") --------------------------


def test_numbers_decode_to_floats():
    _, values = check_answers(
        range(5),
        ["3.5", " -2 ", 7, 1e-3, "1e3"],
        None,
        ["r"] * 5,
        target_type="continuous",
    )
    assert values.dtype == np.float64
    assert values.tolist() == [3.5, -2.0, 7.0, 1e-3, 1000.0]


@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_a_non_finite_number_is_refused(text):
    with pytest.raises(ValueError, match="not a finite number") as err:
        check_answers([0], [text], None, ["r"], target_type="continuous")
    # the way to set a row without a value aside, which deleting it is not
    assert "write '?' if the row has none" in str(err.value)


@pytest.mark.parametrize("label", ["3,5", "about 3", True, ["3"]])
def test_text_that_is_no_number_is_refused(label):
    with pytest.raises(ValueError, match=r"not a number.*decimal point"):
        check_answers([0], [label], None, ["r"], target_type="continuous")


def test_the_target_type_and_classes_must_agree():
    with pytest.raises(ValueError, match="target_type must be one of"):
        check_answers([0], ["1"], [0, 1], ["r"], target_type="binary")
    with pytest.raises(ValueError, match="classes must be None"):
        check_answers([0], ["1"], [0, 1], ["r"], target_type="continuous")
    with pytest.raises(ValueError, match="classes is required"):
        check_answers([0], ["1"], None, ["r"], target_type="multilabel")


def test_tag_names_holding_marks_or_spaces_are_read_whole_beside_others():
    tags = ["T-shirt/top", "casual", "a", "b", "a/b", "big dog"]
    cells = ["T-shirt/top; casual", "T-shirt/top, Casual", "a/b; b", "big dog a"]
    _, Y = check_answers(range(4), cells, tags, ["r"] * 4, target_type="multilabel")
    assert Y.tolist() == [
        [1, 1, 0, 0, 0, 0],
        [1, 1, 0, 0, 0, 0],
        [0, 0, 0, 1, 1, 0],  # the tag "a/b", not the tags "a" and "b"
        [0, 0, 1, 0, 0, 1],
    ]
    with pytest.raises(ValueError, match=r"has tag 'top-ish'"):
        check_answers([0], ["casual; top-ish"], tags, ["r"], target_type="multilabel")


@pytest.mark.parametrize("text", ["1_5", "3.5 mg", "0x10", "1e"])
def test_only_plain_numbers_are_numbers(text):
    # Python's float() reads "1_5" as 15
    with pytest.raises(ValueError, match="not a number"):
        check_answers([0], [text], None, ["r"], target_type="continuous")


@pytest.mark.parametrize(
    "cell",
    ["even;prime;", "even; prime; ", ";even;prime", "even;;prime", "even, prime,"],
)
def test_stray_separators_around_tags_are_ignored(cell):
    _, Y = check_answers([0], [cell], TAGS, ["r"], target_type="multilabel")
    assert Y.tolist() == [[1, 0, 1, 0]]


def test_no_tags_read_as_a_class_names_the_multi_label_target_type():
    with pytest.raises(ValueError, match=r"for tags, pass target_type='multilabel'"):
        check_answers([0], ["-"], TAGS, ["r"])


def test_a_typographic_minus_and_a_doubled_inner_space_are_read():
    _, values = check_answers([0], ["\u22123.5"], None, ["r"], target_type="continuous")
    assert values.tolist() == [-3.5]
    _, labels = check_answers([0], ["Golden  retriever"], ["Golden Retriever"], ["r"])
    assert labels.tolist() == ["Golden Retriever"]


def test_an_unknown_tag_is_shown_in_its_cell():
    with pytest.raises(ValueError, match=r"has tag 'n' \(in 'n/a'\).*'-' for no tags"):
        check_answers([0], ["n/a"], TAGS, ["r"], target_type="multilabel")


@pytest.mark.parametrize(
    ("cell", "mark"),
    [("billing; -", "'-' (no tags)"), ("-;-", "'-' (no tags)"),
     ("billing; ?", "'?' (skip the row)")],
)  # fmt: skip
def test_a_no_tags_or_skip_mark_beside_tags_says_it_goes_alone(cell, mark):
    with pytest.raises(ValueError) as err:
        check_answers(
            [0], [cell], ["billing", "login"], ["r"], target_type="multilabel"
        )
    message = str(err.value)
    assert f"has {mark} beside other tags in {cell!r}" in message
    assert "alone in the cell" in message and "write '-' for no tags" not in message


def test_a_mark_inside_a_list_of_tags_names_the_list_forms():
    # in a JSON list of tags the marks have their own forms
    with pytest.raises(ValueError, match=r"in the list \['-'\]; .*no tags is \[\]"):
        check_answers([0], [["-"]], ["billing"], ["r"], target_type="multilabel")
