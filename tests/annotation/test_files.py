"""FileAnnotator and annotation_round through batch files: the offline round trip."""

import json
import re

import numpy as np
import pytest

from skbatchbald.annotation import FileAnnotator, annotation_round

from ._batch_files import label_file as _label
from ._batch_files import learner as _learner
from ._batch_files import read_rows as _read
from ._batch_files import write_rows as _write

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _files(directory):
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_round_trip_matches_in_memory_loop(tmp_path, digits, fmt):
    X, y = digits
    annotator = FileAnnotator(tmp_path, classes=range(10), format=fmt)
    learner = _learner()
    asked = []
    for round_ in range(1, 4):
        result = annotation_round(learner, X, annotator, n_instances=10)
        asked.append(result.requested)
        _label(tmp_path / f"batch-{round_:03d}.{fmt}", y)

    # The same loop in memory, with y as the labeller.
    reference, labelled = _learner(), np.empty(0, dtype=int)
    for picks in asked:
        if labelled.size:
            reference.fit(X[labelled], y[labelled])
        unasked = np.setdiff1d(np.arange(len(y)), labelled)
        positions, _ = reference.query(X[unasked], n_instances=10)
        np.testing.assert_array_equal(unasked[positions], picks)
        labelled = np.concatenate([labelled, unasked[positions]])

    # A fresh annotator (a new process) reads every answer back in request order.
    indices, labels = FileAnnotator(tmp_path, classes=range(10), format=fmt).answers()
    np.testing.assert_array_equal(indices, labelled)
    np.testing.assert_array_equal(labels, y[labelled])
    assert labels.dtype.kind == "i"  # the classes themselves, not their text


def test_batch_file_columns(tmp_path):
    names = [f"img/{i}.png" for i in range(50)]
    annotator = FileAnnotator(tmp_path, classes=["a", "b"], reference=names)
    annotator.request([7, 3, 41], scores=[0.5, 0.25, 0.125])
    rows = _read(tmp_path / "batch-001.csv")
    assert list(rows[0]) == [
        "round",
        "rank",
        "pool_index",
        "reference",
        "score",
        "label",
    ]
    assert [r["pool_index"] for r in rows] == ["7", "3", "41"]
    assert [r["rank"] for r in rows] == ["0", "1", "2"]
    assert [r["reference"] for r in rows] == ["img/7.png", "img/3.png", "img/41.png"]
    assert [float(r["score"]) for r in rows] == [0.5, 0.25, 0.125]
    assert {r["round"] for r in rows} == {"1"} and {r["label"] for r in rows} == {""}

    FileAnnotator(tmp_path / "j", classes=["a", "b"], format="jsonl").request([1])
    (row,) = _read(tmp_path / "j" / "batch-001.jsonl")
    assert row == {
        "round": 1, "rank": 0, "pool_index": 1, "reference": "row 1", "score": 0.0,
        "label": None,
    }  # fmt: skip


def test_pending_batch_is_never_queried_again(tmp_path, digits):
    X, _ = digits
    annotator = FileAnnotator(tmp_path, classes=range(10))
    first = annotation_round(_learner(), X, annotator, n_instances=5)
    # A new learner and annotator, as after a restart: nothing new is asked.
    again = annotation_round(
        _learner(), X, FileAnnotator(tmp_path, classes=range(10)), n_instances=5
    )
    assert _files(tmp_path) == ["batch-001.csv"]
    np.testing.assert_array_equal(again.pending, first.requested)
    assert again.requested.size == 0 and again.answered.size == 0


def test_request_is_idempotent_and_never_repeats_a_row(tmp_path):
    annotator = FileAnnotator(tmp_path, classes=range(3))
    annotator.request([4, 2])
    annotator.request([4, 2])
    assert _files(tmp_path) == ["batch-001.csv"]
    with pytest.raises(ValueError, match=r"pool rows \[2\] were already asked for"):
        annotator.request([2, 9])
    annotator.request([9])
    np.testing.assert_array_equal(annotator.pending(), [4, 2, 9])


def test_exhausted_pool_asks_for_nothing(tmp_path, digits):
    X, y = digits
    X, y = X[:12], y[:12]
    annotator = FileAnnotator(tmp_path, classes=range(10))
    annotation_round(_learner(), X, annotator, n_instances=10)
    _label(tmp_path / "batch-001.csv", y)
    second = annotation_round(_learner(), X, annotator, n_instances=10)
    assert second.requested.size == 2  # only two rows were left
    _label(tmp_path / "batch-002.csv", y)
    third = annotation_round(_learner(), X, annotator, n_instances=10)
    assert third.requested.size == 0 and third.answered.size == 12


def _copy_first_row_to_second(rows):
    # the first row pasted over the second, reference and all
    rows[1].update(pool_index=rows[0]["pool_index"], reference=rows[0]["reference"])


BAD_FILES = {
    "missing label": (
        lambda rows: rows[2].update(label=""),
        r"batch-002\.csv line 4 \(pool index \d+\) has no label; give it one of",
    ),
    "unknown label": (
        lambda rows: rows[0].update(label="seven"),
        r"batch-002\.csv line 2 \(pool index \d+\) has label 'seven', which is not "
        r"one of the classes \['0', '1'",
    ),
    "duplicate": (
        _copy_first_row_to_second,
        r"batch-002\.csv line 3: pool index \d+ is answered twice \(also in "
        r"batch-002\.csv line 2\)",
    ),
    "unknown index": (
        lambda rows: rows[0].update(pool_index="5000", reference="row 5000"),
        r"pool index 5000 is outside the pool of 1797 rows",
    ),
    "edited index": (
        lambda rows: rows[0].update(pool_index="5000"),
        r"batch-002\.csv line 2 has pool_index 5000 but reference 'row \d+': the "
        r"batch asked for pool row \d+, so the pool_index cell was changed",
    ),
    "not an index": (
        lambda rows: rows[0].update(pool_index="x7"),
        r"batch-002\.csv line 2: pool index 'x7' is not an integer",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_raises_and_teaches_nothing(tmp_path, digits, case):
    X, y = digits
    change, message = BAD_FILES[case]
    annotator = FileAnnotator(tmp_path, classes=range(10))
    learner = _learner()
    annotation_round(learner, X, annotator, n_instances=10)
    _label(tmp_path / "batch-001.csv", y)
    annotation_round(learner, X, annotator, n_instances=10)
    taught, coef = learner.X_training.copy(), learner.estimator.coef_.copy()
    _label(tmp_path / "batch-002.csv", y, change)

    with pytest.raises(ValueError, match=message):
        annotation_round(learner, X, annotator, n_instances=10)
    np.testing.assert_array_equal(learner.X_training, taught)
    np.testing.assert_array_equal(learner.estimator.coef_, coef)
    # the record of batch-001's answers, written with batch-002
    assert _files(tmp_path) == [
        ".skbatchbald-answered.json",
        "batch-001.csv",
        "batch-002.csv",
    ]


def test_malformed_files(tmp_path):
    annotator = FileAnnotator(tmp_path, classes=range(3), format="jsonl")
    annotator.request([0, 1])
    path = tmp_path / "batch-001.jsonl"
    path.write_text('{"pool_index": 0, "label": "1"}\n{"pool_index": 1, "label": \n')
    with pytest.raises(ValueError, match=r"batch-001\.jsonl line 2 is not valid JSON"):
        annotator.answers()
    path.write_text('{"pool_index": 0, "label": "1"}\n[1, "2"]\n')
    with pytest.raises(
        ValueError, match=r"line 2 is not an object with a 'pool_index'"
    ):
        annotator.answers()

    csv_annotator = FileAnnotator(tmp_path / "c", classes=range(3))
    csv_annotator.request([0])
    (tmp_path / "c" / "batch-001.csv").write_text("index,label\n0,1\n")
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['pool_index'\]"):
        csv_annotator.answers()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"classes": []}, "classes must be a non-empty 1-d list"),
        ({"classes": [1, "1"]}, "two labels with the same text"),
        ({"classes": [0, 1], "format": "xlsx"}, r"format must be one of \['csv'"),
    ],
)
def test_bad_parameters(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        FileAnnotator(tmp_path, **kwargs).request([0])


@pytest.mark.parametrize(
    ("indices", "scores", "message"),
    [
        ([1.5], None, "pool_indices must be a 1-d array of ints"),
        ([-1], None, "pool_indices must be >= 0"),
        ([3, 3], None, r"holds \[3\] more than once"),
        ([1, 2], [0.5], r"scores must have one value per pool index \(2\)"),
    ],
)
def test_bad_requests(tmp_path, indices, scores, message):
    with pytest.raises(ValueError, match=message):
        FileAnnotator(tmp_path, classes=range(3)).request(indices, scores)
    assert not any(tmp_path.iterdir())


def test_pending_names_a_broken_pool_index(tmp_path):
    annotator = FileAnnotator(tmp_path, classes=range(3))
    annotator.request([0, 1])
    path = tmp_path / "batch-001.csv"
    path.write_text(path.read_text().replace(",1,row 1,", ",one,row 1,"))
    with pytest.raises(ValueError, match=r"batch-001\.csv line 3: pool index 'one'"):
        annotator.pending()


def test_jsonl_labels_may_be_numbers_and_csv_may_have_a_bom(tmp_path):
    annotator = FileAnnotator(tmp_path / "j", classes=range(10), format="jsonl")
    annotator.request([4, 8])
    path = tmp_path / "j" / "batch-001.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for row, label in zip(rows, [7, 2], strict=True):
        row["label"] = label  # a number, as a script would write it
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    indices, labels = annotator.answers()
    assert indices.tolist() == [4, 8] and labels.tolist() == [7, 2]

    # Spreadsheet programs save CSV with a byte-order mark.
    annotator = FileAnnotator(tmp_path / "c", classes=["no", "yes"])
    annotator.request([3])
    path = tmp_path / "c" / "batch-001.csv"
    path.write_text("\ufeff" + path.read_text().replace(",\n", ",yes\n"))
    indices, labels = annotator.answers()
    assert indices.tolist() == [3] and labels.tolist() == ["yes"]


def test_tilde_means_the_home_folder(tmp_path, monkeypatch):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    annotator = FileAnnotator("~/labels", classes=range(3))
    annotator.request([2, 0])
    assert _files(home / "labels") == ["batch-001.csv"]
    assert not any(cwd.iterdir())  # no folder literally named "~"
    _label(home / "labels" / "batch-001.csv", [0, 1, 2])
    # a new annotator on the same "~" path reads the files back
    indices, labels = FileAnnotator("~/labels", classes=range(3)).answers()
    assert indices.tolist() == [2, 0] and labels.tolist() == [2, 0]


def test_a_pandas_reference_is_read_by_position(tmp_path):
    pd = pytest.importorskip("pandas")
    paths = [f"img/{i}.png" for i in range(6)]
    # After a train/test split the index is shuffled integers: reference[i]
    # would read the label i, another row's image; strings would raise KeyError.
    for index in ([5, 3, 0, 4, 1, 2], [f"photo-{i}" for i in range(6)]):
        reference = pd.Series(paths, index=index)
        directory = tmp_path / str(index[0])
        FileAnnotator(directory, classes=["a", "b"], reference=reference).request(
            [4, 0]
        )
        rows = _read(directory / "batch-001.csv")
        assert [r["reference"] for r in rows] == ["img/4.png", "img/0.png"]


def test_a_short_reference_names_the_row(tmp_path):
    annotator = FileAnnotator(tmp_path, classes=["a", "b"], reference=["x.png"])
    with pytest.raises(
        ValueError, match=r"reference has no entry for pool row 3 \(it holds 1 "
    ):
        annotator.request([3])
    assert not any(tmp_path.iterdir())


def _spreadsheet_save(path, labels, *, delimiter, encoding):
    """Fill in labels and save as a spreadsheet would: its separator, CRLF."""
    rows = _read(path)
    for row, label in zip(rows, labels, strict=True):
        row["label"] = label
    lines = [delimiter.join(rows[0])]
    lines += [delimiter.join(str(v) for v in row.values()) for row in rows]
    path.write_bytes("".join(line + "\r\n" for line in lines).encode(encoding))


@pytest.mark.parametrize(
    ("delimiter", "encoding"),
    [(";", "utf-8-sig"), ("\t", "utf-16"), (",", "utf-8")],
    ids=["semicolons (decimal-comma locale)", "Unicode Text", "plain"],
)
def test_spreadsheet_saves_are_read(tmp_path, delimiter, encoding):
    annotator = FileAnnotator(tmp_path, classes=["café", "thé"])
    annotator.request([5, 1, 3])
    _spreadsheet_save(
        tmp_path / "batch-001.csv",
        ["thé", "café", "thé"],
        delimiter=delimiter,
        encoding=encoding,
    )
    indices, labels = annotator.answers()
    assert indices.tolist() == [5, 1, 3] and labels.tolist() == ["thé", "café", "thé"]
    assert annotator.pending().size == 0


def test_a_legacy_code_page_or_empty_file_names_the_fix(tmp_path):
    annotator = FileAnnotator(tmp_path, classes=["café", "thé"])
    annotator.request([5, 1])
    path = tmp_path / "batch-001.csv"
    _spreadsheet_save(path, ["thé", "café"], delimiter=",", encoding="cp1252")
    with pytest.raises(
        ValueError, match=r"batch-001\.csv is not UTF-8 .* save it again as 'CSV UTF-8'"
    ):
        annotator.answers()
    path.write_text("")  # a sync tool that left the file truncated
    with pytest.raises(ValueError, match=r"batch-001\.csv is empty; restore the batch"):
        annotator.pending()


def test_batch_files_of_the_other_format_are_not_ignored(tmp_path, digits):
    X, y = digits
    annotation_round(
        _learner(), X, FileAnnotator(tmp_path, classes=range(10), format="jsonl")
    )
    _label(tmp_path / "batch-001.jsonl", y)
    # Resumed without format=: the answers would be ignored and rows asked again.
    resumed = FileAnnotator(tmp_path, classes=range(10))
    with pytest.raises(
        ValueError, match=r"holds batch files in format 'jsonl' \(batch-001\.jsonl\)"
    ):
        annotation_round(_learner(), X, resumed)
    assert _files(tmp_path) == ["batch-001.jsonl"]


@pytest.mark.parametrize(
    "name", ["batch-001 (labelled).csv", "batch-001.xlsx", "Batch-001-done.csv"]
)
def test_labels_saved_under_another_name_are_named(tmp_path, digits, name):
    X, y = digits
    annotator = FileAnnotator(tmp_path, classes=range(10))
    annotation_round(_learner(), X, annotator, n_instances=5)
    rows = _read(tmp_path / "batch-001.csv")
    _write(tmp_path / name, rows)
    _label(tmp_path / name, y)
    with pytest.raises(
        ValueError,
        match=rf"batch-001\.csv has no labels yet, and .* holds '{re.escape(name)}'",
    ):
        annotation_round(_learner(), X, annotator, n_instances=5)


def test_other_files_beside_the_batches_are_left_alone(tmp_path, digits):
    X, y = digits
    annotator = FileAnnotator(tmp_path, classes=range(10))
    annotation_round(_learner(), X, annotator, n_instances=5)
    # a crashed write, a spreadsheet's lock file, notes, a later round's name
    for name in ("batch-001.csv.tmp", ".~lock.batch-001.csv#", "notes.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "batch-0010.csv").write_text("")
    (tmp_path / "batch-0010.csv").unlink()
    assert annotator.pending().size == 5
    _label(tmp_path / "batch-001.csv", y)
    (tmp_path / "batch-001 backup.csv").write_text("x")  # its batch is answered
    assert annotation_round(_learner(), X, annotator, n_instances=5).requested.size


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_batch_sorted_in_a_spreadsheet_reads_in_request_order(tmp_path, fmt):
    annotator = FileAnnotator(tmp_path, classes=["cat", "dog"], format=fmt)
    annotator.request([7, 3, 5])
    path = tmp_path / f"batch-001.{fmt}"
    labels = {7: "dog", 3: "cat", 5: "dog"}

    def sort_by_label(rows):
        for row in rows:
            row["label"] = labels[int(row["pool_index"])]
        rows.sort(key=lambda row: (row["label"], int(row["pool_index"])))

    rows = _read(path)
    sort_by_label(rows)
    _write(path, rows)
    assert [int(row["pool_index"]) for row in _read(path)] == [3, 5, 7]
    indices, answered = annotator.answers()
    np.testing.assert_array_equal(indices, [7, 3, 5])
    assert list(answered) == ["dog", "cat", "dog"]
    # the same rows asked again are still recognised, whatever the file order
    annotator.request([7, 3, 5])
    assert _files(tmp_path) == [f"batch-001.{fmt}"]
    # without a usable rank column the file's order stands
    for row in rows:
        row["rank"] = ""
    _write(path, rows)
    np.testing.assert_array_equal(annotator.answers()[0], [3, 5, 7])


def _label_by_reference(path, truth):
    """Fill in labels from the reference column: what a person looking at it sees."""
    rows = _read(path)
    for row in rows:
        row["label"] = str(truth[row["reference"]])
    _write(path, rows)


def test_a_shuffled_pool_has_its_answers_taught_to_their_rows(tmp_path, digits):
    X, y = digits
    names = np.array([f"img/{i}.png" for i in range(len(y))])
    truth = dict(zip(names, y, strict=True))
    annotator = FileAnnotator(tmp_path, classes=range(10), reference=names)
    annotation_round(_learner(), X, annotator, n_instances=10)
    _label_by_reference(tmp_path / "batch-001.csv", truth)

    # The next day the pool comes in another order, its references with it.
    order = np.random.default_rng(0).permutation(len(y))
    annotator = FileAnnotator(tmp_path, classes=range(10), reference=names[order])
    learner = _learner()
    result = annotation_round(learner, X[order], annotator, n_instances=10)
    assert result.answered.size == 10
    np.testing.assert_array_equal(result.labels, y[order][result.answered])
    np.testing.assert_array_equal(learner.X_training, X[order][result.answered])
    # the next batch skips the answered rows wherever they are now
    assert not set(result.requested) & set(result.answered)


@pytest.mark.parametrize("kind", ["repeated", "absent", "callable"])
def test_a_reference_on_no_single_row_is_refused(tmp_path, digits, kind):
    X, y = digits
    names = [f"img/{i}.png" for i in range(len(y))]
    truth = dict(zip(names, y, strict=True))
    annotator = FileAnnotator(tmp_path, classes=range(10), reference=names)
    annotation_round(_learner(), X, annotator, n_instances=5)
    _label_by_reference(tmp_path / "batch-001.csv", truth)
    first = _read(tmp_path / "batch-001.csv")[0]
    row, recorded = int(first["pool_index"]), first["reference"]

    shifted = names[1:] + names[:1]  # every row one place on
    if kind == "repeated":
        shifted[(row + 1) % len(y)] = recorded  # on two rows: which one?
    elif kind == "absent":
        shifted = [f"other/{i}.png" for i in range(len(y))]
    now = shifted[row]
    reference = shifted.__getitem__ if kind == "callable" else shifted
    annotator = FileAnnotator(tmp_path, classes=range(10), reference=reference)
    learner = _learner()
    with pytest.raises(
        ValueError,
        match=rf"batch-001\.csv line 2 asked for pool row {row} as '{recorded}', "
        rf"but pool row {row} is '{now}' now.*Pass X_pool and reference in the "
        "order they had",
    ):
        annotation_round(learner, X, annotator, n_instances=5)
    assert not hasattr(learner, "X_training") or learner.X_training is None


def test_a_resorted_dataframe_has_its_answers_taught_to_their_rows(tmp_path, digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    ids = [f"S{i:05d}" for i in range(len(y))]
    truth = dict(zip(ids, y, strict=True))
    pool = pd.DataFrame(X, index=ids).sample(frac=1, random_state=0)
    annotator = FileAnnotator(tmp_path, classes=range(10))
    first = annotation_round(_learner(), pool, annotator, n_instances=10)
    # the index label is each row's reference: what a person looks up
    rows = _read(tmp_path / "batch-001.csv")
    assert [r["reference"] for r in rows] == pool.index[first.requested].tolist()
    _label_by_reference(tmp_path / "batch-001.csv", truth)

    resorted = pool.sort_index()  # ORDER BY id, the next day
    learner = _learner()
    result = annotation_round(learner, resorted, annotator, n_instances=10)
    np.testing.assert_array_equal(
        result.labels, [truth[i] for i in resorted.index[result.answered]]
    )
    np.testing.assert_array_equal(
        learner.X_training, resorted.to_numpy()[result.answered]
    )
    assert sorted(resorted.index[result.answered]) == sorted(
        r["reference"] for r in rows
    )
    assert not set(result.requested) & set(result.answered)


def test_a_dataframe_whose_index_was_reset_is_refused_not_moved(tmp_path, digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    frame = pd.DataFrame(X)
    pool = frame[y != 0]  # filtered: index labels 1, 2, 3, 5, ... not positions
    annotator = FileAnnotator(tmp_path, classes=range(10))
    annotation_round(_learner(), pool, annotator, n_instances=5)
    _label_by_reference(tmp_path / "batch-001.csv", {str(i): y[i] for i in pool.index})
    # the next day: the same rows in the same order, the index reset to 0..n-1;
    # the labels recorded now name other rows, which must not get the answers
    with pytest.raises(ValueError, match=r"reset_index\?\).*set_index") as info:
        annotation_round(_learner(), pool.reset_index(drop=True), annotator)
    assert "asked for pool row" in str(info.value)
    # a pool that keeps its labels (shuffled with them) is still matched
    learner = _learner()
    shuffled = pool.sample(frac=1, random_state=1)
    result = annotation_round(learner, shuffled, annotator, n_instances=5)
    np.testing.assert_array_equal(result.labels, y[shuffled.index[result.answered]])


def test_batches_written_without_references_are_read_by_position(tmp_path, digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    FileAnnotator(tmp_path, classes=range(10)).request([4, 9])  # "row 4", "row 9"
    _label(tmp_path / "batch-001.csv", y)
    pool = pd.DataFrame(X, index=[f"S{i}" for i in range(len(y))])
    result = annotation_round(
        _learner(), pool, FileAnnotator(tmp_path, classes=range(10)), n_instances=3
    )
    np.testing.assert_array_equal(result.answered, [4, 9])
    assert [r["reference"] for r in _read(tmp_path / "batch-002.csv")] == [
        f"S{i}" for i in result.requested
    ]


def test_rows_of_bare_separators_are_skipped_and_lines_are_named(tmp_path):
    annotator = FileAnnotator(tmp_path, classes=["cat", "dog"])
    annotator.request([5, 1, 3])
    path = tmp_path / "batch-001.csv"
    _spreadsheet_save(path, ["dog", "cat", "dog"], delimiter=";", encoding="utf-8-sig")
    # a spreadsheet writes rows of separators after the data, and blank lines
    path.write_bytes(path.read_bytes() + b";;;;;\r\n;;;;;\r\n\r\n")
    indices, labels = annotator.answers()
    assert indices.tolist() == [5, 1, 3] and list(labels) == ["dog", "cat", "dog"]

    # the line a message names is the row number a spreadsheet shows
    text = path.read_bytes().decode("utf-8-sig").replace(";cat\r\n", ";bird\r\n")
    path.write_bytes(text.encode("utf-8-sig"))
    with pytest.raises(ValueError, match=r"batch-001\.csv line 3 \(pool index 1\)"):
        annotator.answers()


def test_a_row_deleted_from_a_labelled_batch_is_warned_about(tmp_path, digits):
    X, y = digits
    annotator = FileAnnotator(tmp_path, classes=range(10))
    annotator.request([7, 3, 5, 9])
    _label(tmp_path / "batch-001.csv", y, change=lambda rows: rows.pop(1))
    with pytest.warns(
        UserWarning,
        match=r"batch-001\.csv lacks the row\(s\) of rank "
        r"\[1\] of the 4 rows asked for",
    ):
        result = annotation_round(_learner(), X, annotator, n_instances=2)
    np.testing.assert_array_equal(result.answered, [7, 5, 9])


def test_a_label_split_by_an_unquoted_separator_is_refused(tmp_path):
    # "shipping,oops" typed into the label cell became two cells, and the
    # first was taken for the whole answer
    annotator = FileAnnotator(tmp_path, classes=["billing", "shipping"])
    annotator.request([5, 1])
    path = tmp_path / "batch-001.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] += "shipping,oops"
    lines[2] += "billing,,"  # trailing empty cells, as spreadsheets write
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2 has 1 more cell.*\['oops'\]"):
        annotator.answers()
    lines[1] = lines[1].replace("shipping,oops", '"shipping"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    indices, labels = annotator.answers()
    assert indices.tolist() == [5, 1] and list(labels) == ["shipping", "billing"]


def test_jsonl_batches_keep_their_letters(tmp_path):
    annotator = FileAnnotator(
        tmp_path, classes=["a", "b"], format="jsonl", reference=["piñata", "日本"]
    )
    annotator.request([0, 1])
    text = (tmp_path / "batch-001.jsonl").read_text(encoding="utf-8")
    assert "piñata" in text and "日本" in text and "\\u" not in text


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_edited_pool_index_is_refused(tmp_path, digits, fmt):
    # The batch asked for row 1747; someone typed 5 over its pool_index. Taken
    # as it stood, row 5 was taught and row 1747 was neither answered nor
    # pending: lost.
    _, y = digits
    annotator = FileAnnotator(tmp_path, classes=range(10), format=fmt)
    annotator.request([1793, 1747, 884])
    path = tmp_path / f"batch-001.{fmt}"

    def edit(rows):
        rows[1]["pool_index"] = 5 if fmt == "jsonl" else "5"

    _label(path, y, edit)
    message = (
        r"batch-001\.\w+ line [23] has pool_index 5 but reference 'row 1747': "
        r"the batch asked for pool row 1747, so the pool_index cell was changed"
    )
    with pytest.raises(ValueError, match=message):
        annotator.answers()
    with pytest.raises(ValueError, match=message):
        annotator.state()


def test_an_edited_pool_index_with_a_dataframe_pool(tmp_path, digits):
    import pandas as pd

    X, y = digits
    ids = pd.Index([f"img{i}" for i in range(len(y))], name="id")
    for pool, found_again in (
        (pd.DataFrame(X, index=ids), True),
        (pd.DataFrame(X), False),
    ):
        directory = tmp_path / str(found_again)
        annotator = FileAnnotator(directory, classes=range(10))
        annotation_round(_learner(), pool, annotator, n_instances=3)
        path = directory / "batch-001.csv"
        asked = [int(r["pool_index"]) for r in _read(path)]
        _label(path, y, lambda rows: rows[1].update(pool_index="5"))
        if found_again:  # the index label finds the row the batch asked for
            answered, _ = annotator.answers(pool_ids=pool.index)
            assert answered.tolist() == asked
        else:
            with pytest.raises(
                ValueError,
                match=rf"pool_index cell was edited: restore it to {asked[1]}",
            ):
                annotator.answers(pool_ids=pool.index)
