"""Batch files of tags (multi-label) and of numbers (regression), end to end."""

import csv
import json
import warnings

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from skbatchbald import ActiveLearner, BatchBALDQuery, RandomQuery
from skbatchbald.annotation import FileAnnotator, annotation_round

TAGS = ["even", "gt4", "prime", "round"]


def _digit_tags(y):
    """Four tags of each digit: a 0/1 indicator matrix (n, 4)."""
    return np.column_stack(
        [y % 2 == 0, y > 4, np.isin(y, [2, 3, 5, 7]), np.isin(y, [0, 6, 8, 9])]
    ).astype(int)


def _rows(path):
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    return [json.loads(line) for line in path.read_text().splitlines()]


def _save(path, rows):
    if path.suffix == ".csv":
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        path.write_text(text, encoding="utf-8")


def _tag_batch(path, Y):
    """Tag a batch as a person would: names joined by '; ', '-' for none."""
    rows = _rows(path)
    for row in rows:
        tags = [t for t, on in zip(TAGS, Y[int(row["pool_index"])], strict=True) if on]
        if path.suffix == ".jsonl":
            row["label"] = tags  # a script's JSON list ([] for none)
        else:
            row["label"] = "; ".join(tags) or "-"
    _save(path, rows)


def _multilabel_learner():
    return ActiveLearner(
        RandomForestClassifier(n_estimators=50, random_state=0),
        query_strategy=RandomQuery(random_state=0),
    )


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_tags_in_batch_files_teach_a_multi_label_learner(tmp_path, digits, fmt):
    X, y = digits
    X, Y = X[:400], _digit_tags(y[:400])
    annotator = FileAnnotator(
        tmp_path, classes=TAGS, target_type="multilabel", format=fmt
    )
    learner = _multilabel_learner()
    asked = []
    for round_ in range(1, 4):
        result = annotation_round(learner, X, annotator, n_instances=6)
        asked.append(result.requested)
        _tag_batch(tmp_path / f"batch-{round_:03d}.{fmt}", Y)
        learner.query_strategy = BatchBALDQuery(random_state=0)
    result = annotation_round(learner, X, annotator, n_instances=6)

    labelled = np.concatenate(asked)
    np.testing.assert_array_equal(result.answered, labelled)
    np.testing.assert_array_equal(result.labels, Y[labelled])
    np.testing.assert_array_equal(learner.y_training, Y[labelled])

    # The same loop in memory, with Y as the tagger: the same batches.
    reference, known = _multilabel_learner(), np.empty(0, dtype=int)
    for picks in [*asked, result.requested]:
        if known.size:
            reference.fit(X[known], Y[known])
            reference.query_strategy = BatchBALDQuery(random_state=0)
        unasked = np.setdiff1d(np.arange(len(X)), known)
        positions, _ = reference.query(X[unasked], n_instances=6)
        np.testing.assert_array_equal(unasked[positions], picks)
        known = np.concatenate([known, unasked[positions]])


def test_a_batch_whose_every_answer_is_no_tags_or_zero_is_answered(tmp_path):
    # JSON's [] and 0 are answers; only null or empty text is unanswered
    tags = FileAnnotator(
        tmp_path / "t", classes=TAGS, target_type="multilabel", format="jsonl"
    )
    tags.request([3, 1])
    path = tmp_path / "t" / "batch-001.jsonl"
    _save(path, [{**row, "label": []} for row in _rows(path)])
    assert tags.pending().size == 0
    indices, Y = tags.answers()
    assert indices.tolist() == [3, 1] and Y.tolist() == [[0] * 4, [0] * 4]

    classes = FileAnnotator(tmp_path / "c", classes=range(3), format="jsonl")
    classes.request([2, 0])
    path = tmp_path / "c" / "batch-001.jsonl"
    _save(path, [{**row, "label": 0} for row in _rows(path)])
    assert classes.pending().size == 0
    assert classes.answers()[1].tolist() == [0, 0]


def test_an_unknown_tag_names_its_line_and_teaches_nothing(tmp_path, digits):
    X, _ = digits
    annotator = FileAnnotator(tmp_path, classes=TAGS, target_type="multilabel")
    learner = _multilabel_learner()
    annotation_round(learner, X, annotator, n_instances=3)
    path = tmp_path / "batch-001.csv"
    rows = _rows(path)
    for row, label in zip(rows, ["even", "odd; prime", "-"], strict=True):
        row["label"] = label
    _save(path, rows)
    with pytest.raises(ValueError, match=r"batch-001\.csv line 3 .* tag 'odd'"):
        annotation_round(learner, X, annotator, n_instances=3)
    assert learner.X_training is None


def _measure(path, values, *, delimiter=","):
    """Fill in numbers as a spreadsheet saves them, with its separator."""
    rows = _rows(path)
    for row, value in zip(rows, values, strict=True):
        row["label"] = value
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)


def test_numbers_in_batch_files_teach_a_regressor(tmp_path, digits):
    X = digits[0][:300]
    target = X.mean(axis=1)  # a number per image

    def learner():
        return ActiveLearner(
            RandomForestRegressor(n_estimators=20, random_state=0),
            query_strategy=RandomQuery(random_state=0),
        )

    annotator = FileAnnotator(tmp_path, target_type="continuous")
    model, asked = learner(), []
    for round_ in range(1, 3):
        result = annotation_round(model, X, annotator, n_instances=6)
        asked.append(result.requested)
        path = tmp_path / f"batch-{round_:03d}.csv"
        _measure(path, [repr(float(target[i])) for i in result.requested])
        model.query_strategy = BatchBALDQuery(noise_variance=0.1, random_state=0)
    result = annotation_round(model, X, annotator, n_instances=6)

    labelled = np.concatenate(asked)
    assert result.labels.dtype == np.float64
    np.testing.assert_array_equal(result.labels, target[labelled])
    reference = learner()
    reference.fit(X[labelled], target[labelled])
    reference.query_strategy = BatchBALDQuery(noise_variance=0.1, random_state=0)
    unasked = np.setdiff1d(np.arange(len(X)), labelled)
    positions, _ = reference.query(X[unasked], n_instances=6)
    np.testing.assert_array_equal(result.requested, unasked[positions])


def test_a_decimal_comma_is_read_where_cells_are_split_by_semicolons(tmp_path):
    annotator = FileAnnotator(tmp_path, target_type="continuous")
    annotator.request([4, 0, 9])
    path = tmp_path / "batch-001.csv"
    _measure(path, ["3,5", "-0,25", "12"], delimiter=";")
    indices, values = annotator.answers()
    assert indices.tolist() == [4, 0, 9] and values.tolist() == [3.5, -0.25, 12.0]
    # a ';' file's comma is its decimal mark; dots grouping digits are in doubt
    # ("12.500"), unless a decimal comma follows them ("1.234,5")
    read = {"1,250": 1.25, "1.234,5": 1234.5, "1250": 1250.0, "12.500": None}
    for text, value in read.items():
        annotator = FileAnnotator(tmp_path / text, target_type="continuous")
        annotator.request([4, 0, 9])
        path = tmp_path / text / "batch-001.csv"
        _measure(path, ["0,125", text, "3.5"], delimiter=";")
        if value is not None:
            assert annotator.answers()[1].tolist() == [0.125, value, 3.5]
            continue
        with pytest.raises(
            ValueError, match=r"line 3 \(pool index 0\) .* thousands separator"
        ):
            annotator.answers()
    # a tab-separated file does not tell its locale: "1,250" is in doubt
    annotator = FileAnnotator(tmp_path / "tabs", target_type="continuous")
    annotator.request([4, 0, 9])
    _measure(
        tmp_path / "tabs" / "batch-001.csv", ["0,125", "1,250", "3"], delimiter="\t"
    )
    with pytest.raises(ValueError, match=r"line 3 .* thousands separator"):
        annotator.answers()
    # a comma in a comma-separated file may be a thousands separator: refused
    annotator = FileAnnotator(tmp_path / "plain", target_type="continuous")
    annotator.request([4, 0, 9])
    _measure(tmp_path / "plain" / "batch-001.csv", ["3,5", "1", "2"])
    with pytest.raises(ValueError, match=r"line 2 .* '3,5', which is not a number"):
        annotator.answers()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "classes is required for target_type='multiclass'"),
        ({"target_type": "multilabel"}, "classes is required"),
        ({"classes": [0, 1], "target_type": "continuous"}, "classes must be None"),
        ({"classes": [0, 1], "target_type": "binary"}, "target_type must be one of"),
        ({"classes": ["a", "-"], "target_type": "multilabel"}, "tag named '-'"),
    ],
)
def test_target_type_and_classes_are_checked_before_a_file_is_written(
    tmp_path, kwargs, message
):
    with pytest.raises(ValueError, match=message):
        FileAnnotator(tmp_path, **kwargs).request([0])
    assert not any(tmp_path.iterdir())


def test_a_labelled_batch_moved_away_stops_the_round_and_nothing_is_overwritten(
    tmp_path, digits
):
    X = digits[0][:200]
    annotator = FileAnnotator(tmp_path, target_type="continuous")
    learner = ActiveLearner(
        RandomForestRegressor(n_estimators=5, random_state=0),
        query_strategy=RandomQuery(random_state=0),
    )
    for round_ in (1, 2):
        result = annotation_round(learner, X, annotator, n_instances=3)
        _measure(tmp_path / f"batch-{round_:03d}.csv", ["1.5"] * 3)
    second = (tmp_path / "batch-002.csv").read_text()
    (tmp_path / "done").mkdir()
    (tmp_path / "batch-001.csv").rename(tmp_path / "done" / "batch-001.csv")
    with pytest.raises(ValueError, match=r"lacks batch-001\.csv.*Put it back"):
        annotation_round(learner, X, annotator, n_instances=3)
    assert (tmp_path / "batch-002.csv").read_text() == second  # not written over
    assert result.requested.size == 3


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_json_lines_saved_with_a_byte_order_mark_or_in_utf16_are_read(
    tmp_path, encoding
):
    # PowerShell's ">" writes UTF-16, some editors a byte-order mark
    annotator = FileAnnotator(tmp_path, classes=["café", "thé"], format="jsonl")
    annotator.request([2, 5])
    path = tmp_path / "batch-001.jsonl"
    rows = [{**row, "label": "thé"} for row in _rows(path)]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    path.write_bytes(text.encode(encoding))
    indices, labels = annotator.answers()
    assert indices.tolist() == [2, 5] and labels.tolist() == ["thé", "thé"]


def test_rows_of_one_tag_each_are_not_taken_for_a_one_hot_y(tmp_path, digits):
    X = digits[0][:100]
    annotator = FileAnnotator(tmp_path, classes=TAGS, target_type="multilabel")
    learner = _multilabel_learner()
    annotation_round(learner, X, annotator, n_instances=4)
    _save(
        tmp_path / "batch-001.csv",
        [
            {**row, "label": tag}
            for row, tag in zip(_rows(tmp_path / "batch-001.csv"), TAGS, strict=True)
        ],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        result = annotation_round(learner, X, annotator, n_instances=4)
    np.testing.assert_array_equal(result.labels, np.eye(4, dtype=int))
