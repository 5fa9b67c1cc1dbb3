"""FileAnnotator: answers that vanish, conflicting copies of a row, retyped
ranks, and the advice for a DataFrame pool whose index was reset."""

import json
import os
import signal
import time

import numpy as np
import pytest

from skbatchbald.annotation import FileAnnotator, annotation_round
from skbatchbald.experiment.cli import main

from ._batch_files import label_file as _label
from ._batch_files import learner as _learner
from ._batch_files import read_rows as _read
from ._batch_files import write_rows as _write

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RECORD = ".skbatchbald-answered.json"


def _two_rounds_with_a_stale_copy(directory, X, y, fmt="csv"):
    """batch-001 labelled, batch-002 written and labelled; returns the copy of
    batch-001 a second person opened before it was labelled, and the rows."""
    annotator = FileAnnotator(directory, classes=range(10), format=fmt)
    annotation_round(_learner(), X, annotator, n_instances=4)
    first = directory / f"batch-001.{fmt}"
    stale = first.read_bytes()  # B opens the batch in a spreadsheet
    _label(first, y)  # A labels it and saves
    annotation_round(_learner(), X, annotator, n_instances=4)
    _label(directory / f"batch-002.{fmt}", y)
    asked = [int(row["pool_index"]) for row in _read(first)]
    return annotator, stale, asked


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_stale_copy_saved_over_a_taught_batch_is_refused(tmp_path, digits, fmt):
    # B closes the spreadsheet and saves: batch-001 is unlabelled again. The
    # next round fitted on batch-002 alone and waited for batch-001's rows,
    # four answers gone without a word.
    X, y = digits
    annotator, stale, asked = _two_rounds_with_a_stale_copy(tmp_path, X, y, fmt)
    first = tmp_path / f"batch-001.{fmt}"
    labelled = first.read_bytes()
    first.write_bytes(stale)

    message = (
        rf"batch-001\.{fmt} lost 4 of the answers it held when batch-002\.{fmt} "
        rf"was written: pool row\(s\) \[{', '.join(map(str, sorted(asked)))}\] now "
        r"have an empty label \(an older copy saved over the labelled file\?\)\. "
        r"Restore those answers .* or write '\?' as a row's label to set it aside"
    )
    learner = _learner()
    with pytest.raises(ValueError, match=message):
        annotation_round(learner, X, annotator, n_instances=4)
    assert getattr(learner, "X_training", None) is None  # nothing taught
    for read in (annotator.pending, annotator.answers, annotator.skipped):
        with pytest.raises(ValueError, match=message):
            read()
    with pytest.raises(ValueError, match=message):
        annotator.request([1000])
    assert not (tmp_path / f"batch-003.{fmt}").exists()

    # the labels restored: the round goes on as if nothing had happened
    first.write_bytes(labelled)
    result = annotation_round(_learner(), X, annotator, n_instances=4)
    assert result.answered.size == 8 and result.requested.size == 4


def test_corrected_and_set_aside_answers_are_still_answers(tmp_path, digits):
    X, y = digits
    annotator, _, asked = _two_rounds_with_a_stale_copy(tmp_path, X, y)

    def correct(rows):
        rows[0]["label"] = str((y[asked[0]] + 1) % 10)  # a correction
        rows[1]["label"] = "?"  # set aside after all

    _label(tmp_path / "batch-001.csv", y, correct)
    result = annotation_round(_learner(), X, annotator, n_instances=4)
    assert result.skipped.tolist() == [asked[1]]
    assert result.labels[result.answered.tolist().index(asked[0])] == (
        (y[asked[0]] + 1) % 10
    )
    # and the whole stale batch answered '?': set aside, not lost
    _label(tmp_path / "batch-003.csv", y)
    _label(
        tmp_path / "batch-001.csv", y, lambda rows: [r.update(label="?") for r in rows]
    )
    result = annotation_round(_learner(), X, annotator, n_instances=4)
    assert sorted(result.skipped.tolist()) == sorted(asked)


def test_an_answer_cleared_or_a_row_deleted_later_is_refused(tmp_path, digits):
    X, y = digits
    annotator, _, asked = _two_rounds_with_a_stale_copy(tmp_path, X, y)
    path = tmp_path / "batch-001.csv"
    labelled = path.read_bytes()

    # one label emptied: named as a lost answer, not only as a missing label
    _label(path, y, lambda rows: rows[2].update(label=""))
    with pytest.raises(
        ValueError, match=rf"lost 1 of the answers .*\[{asked[2]}\] now have an empty"
    ):
        annotator.state()
    # a row deleted (its last one, which the rank gap cannot show)
    path.write_bytes(labelled)
    _label(path, y, lambda rows: rows.pop())
    with pytest.raises(
        ValueError,
        match=rf"lost 1 of the answers .*\[{asked[-1]}\] are in no row of it "
        r"\(deleted, or the pool_index cell edited\)",
    ):
        annotator.state()
    # a labelled batch file moved away with the newest: the gap check cannot see it
    path.write_bytes(labelled)
    annotation_round(_learner(), X, annotator, n_instances=4)  # writes batch-003
    (tmp_path / "batch-003.csv").unlink()
    (tmp_path / "batch-002.csv").unlink()
    with pytest.raises(
        ValueError,
        match=r"lacks batch-002\.csv, which held 4 answer\(s\) when batch-003\.csv "
        r"was written: put it back",
    ):
        annotator.pending()


def test_the_record_names_rows_as_the_files_do_whatever_the_pool_order(
    tmp_path, digits
):
    # answers found by their reference in a shuffled pool are recorded by the
    # pool_index their file holds, which is what a later read compares
    X, y = digits
    names = np.array([f"img/{i}.png" for i in range(len(y))])
    annotator = FileAnnotator(tmp_path, classes=range(10), reference=names)
    annotation_round(_learner(), X, annotator, n_instances=4)
    _label(tmp_path / "batch-001.csv", y)
    written = sorted(int(r["pool_index"]) for r in _read(tmp_path / "batch-001.csv"))

    order = np.random.default_rng(0).permutation(len(y))
    shuffled = FileAnnotator(tmp_path, classes=range(10), reference=names[order])
    annotation_round(_learner(), X[order], shuffled, n_instances=4)
    record = json.loads((tmp_path / RECORD).read_text())
    assert record == {
        "written_with": "batch-002.csv",
        "answered": {"batch-001.csv": written},
    }
    _label(tmp_path / "batch-002.csv", y[order])
    result = annotation_round(_learner(), X, annotator, n_instances=4)
    assert result.answered.size == 8


def test_a_directory_from_before_the_record_is_checked_from_its_next_batch(
    tmp_path, digits
):
    X, y = digits
    annotator, stale, asked = _two_rounds_with_a_stale_copy(tmp_path, X, y)
    (tmp_path / RECORD).unlink()  # written before there was a record
    first = tmp_path / "batch-001.csv"
    labelled = first.read_bytes()
    first.write_bytes(stale)
    # nothing to compare with: read as before, batch-001 pending again
    assert sorted(annotator.pending().tolist()) == sorted(asked)
    first.write_bytes(labelled)
    annotation_round(_learner(), X, annotator, n_instances=4)  # batch-003
    record = json.loads((tmp_path / RECORD).read_text())
    assert record["written_with"] == "batch-003.csv"
    assert sorted(record["answered"]) == ["batch-001.csv", "batch-002.csv"]
    first.write_bytes(stale)
    with pytest.raises(ValueError, match=r"batch-001\.csv lost 4 of the answers"):
        annotator.pending()


def test_a_record_that_is_not_json_is_refused(tmp_path, digits):
    X, y = digits
    annotator, _, _ = _two_rounds_with_a_stale_copy(tmp_path, X, y)
    (tmp_path / RECORD).write_text("{not json")
    with pytest.raises(
        ValueError,
        match=rf"{RECORD} is not the record of answered rows that the loop writes "
        r"\(JSONDecodeError: .*\): it was edited\. Delete it; the next batch written "
        "records the answers again",
    ):
        annotator.pending()


def test_a_request_of_ones_own_records_answers_and_holds_the_directory(
    tmp_path, digits
):
    _, y = digits
    annotator = FileAnnotator(tmp_path, classes=range(10))
    annotator.request([5, 9, 2])
    assert not (tmp_path / RECORD).exists()  # no answers to record yet
    _label(tmp_path / "batch-001.csv", y)
    annotator.request([7, 1])
    assert json.loads((tmp_path / RECORD).read_text()) == {
        "written_with": "batch-002.csv",
        "answered": {"batch-001.csv": [2, 5, 9]},
    }
    assert not (tmp_path / "batch-002.csv.tmp").exists()
    if not hasattr(os, "fork"):
        return
    # a request outside annotation_round, while another process's round runs
    ready, go = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        os.close(ready)
        with FileAnnotator(tmp_path, classes=range(10)).hold():
            os.write(go, b"1")
            time.sleep(30)  # killed by the test
        os._exit(0)
    os.close(go)
    try:
        assert os.read(ready, 1) == b"1"
        _label(tmp_path / "batch-002.csv", y)
        with pytest.raises(ValueError, match=r"another annotation round is running"):
            annotator.request([3])
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(ready)
    assert not (tmp_path / "batch-003.csv").exists()
    with annotator.hold():  # the thread that holds it may request in it
        annotator.request([3])
    assert (tmp_path / "batch-003.csv").exists()


def test_the_stale_copy_stops_skbatchbald_label(tmp_path, digits, capsys):
    X, y = digits
    np.save(tmp_path / "pool.npy", X[:200])
    files = tmp_path / "l"
    classes = [str(c) for c in range(10)]
    argv = ["label", "--data", str(tmp_path / "pool.npy"), "--files", str(files)]
    argv += ["--classes", *classes, "--n-instances", "4", "--strategy", "random"]
    assert main(argv) == 0
    stale = (files / "batch-001.csv").read_bytes()
    _label(files / "batch-001.csv", y)
    assert main(argv) == 0
    _label(files / "batch-002.csv", y)
    (files / "batch-001.csv").write_bytes(stale)
    capsys.readouterr()
    assert main(argv) != 0
    assert "batch-001.csv lost 4 of the answers" in capsys.readouterr().err


@pytest.mark.parametrize(("first", "second"), [("5", "?"), ("?", "5"), ("?", "?")])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_row_answered_twice_with_a_skip_is_refused(
    tmp_path, digits, first, second, fmt
):
    # a row pasted twice, labelled once and '?' once, was both taught and
    # reported as set aside
    X, _ = digits
    annotator = FileAnnotator(tmp_path, classes=range(10), format=fmt)
    annotator.request([7, 3, 5])
    path = tmp_path / f"batch-001.{fmt}"
    rows = _read(path)
    for row in rows:
        row["label"] = "1"
    rows.insert(2, {**rows[1], "label": second})
    rows[1]["label"] = first
    _write(path, rows)
    line = 3 if fmt == "csv" else 2  # of the first copy; a CSV has a header
    message = (
        rf"batch-001\.{fmt} line {line + 1}: pool index 3 is answered twice \(also "
        rf"in batch-001\.{fmt} line {line}\), as '{first}' there and '{second}' "
        "here; keep one answer per pool row and remove the other row"
    )
    for read in (annotator.answers, annotator.skipped, annotator.state):
        with pytest.raises(ValueError, match=re_escape_q(message)):
            read()
    with pytest.raises(ValueError, match=re_escape_q(message)):
        annotation_round(_learner(), X, annotator, n_instances=2)
    # the copy removed: the row counts once
    del rows[2]
    _write(path, rows)
    state = annotator.state()
    assert state.answered.size + state.skipped.size == 3


def re_escape_q(message):
    """``message`` with the skip marker escaped for a regular expression."""
    return message.replace("'?'", r"'\?'")


@pytest.mark.parametrize("columns", [("rank",), ("rank", "pool_index")])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_ranks_and_pool_indices_rewritten_as_floats_keep_request_order(
    tmp_path, fmt, columns
):
    # a spreadsheet (or pandas, for a column with an empty cell) re-saves the
    # whole numbers as 2.0; the file sorted by label then taught in that order
    annotator = FileAnnotator(tmp_path, classes=["cat", "dog"], format=fmt)
    annotator.request([7, 3, 5, 1])
    path = tmp_path / f"batch-001.{fmt}"
    labels = {7: "dog", 3: "cat", 5: "dog", 1: "cat"}
    rows = _read(path)
    for row in rows:
        row["label"] = labels[int(row["pool_index"])]
        for column in columns:
            value = float(row[column])
            row[column] = f"{value:.1f}" if fmt == "csv" else value
    rows.sort(key=lambda row: row["label"])
    _write(path, rows)
    indices, answered = annotator.answers()
    np.testing.assert_array_equal(indices, [7, 3, 5, 1])
    assert list(answered) == ["dog", "cat", "dog", "cat"]
    assert annotator.pending().size == 0
    annotator.request([7, 3, 5, 1])  # still the batch asked for: nothing written
    assert not (tmp_path / f"batch-002.{fmt}").exists()


@pytest.mark.parametrize(
    ("rank", "message"),
    [
        ("1.5", r"line 3 has rank '1\.5', which is not a whole number >= 0"),
        ("one", r"line 3 has rank 'one', which is not a whole number >= 0"),
        ("2.000", r"line 3 has rank '2\.000', which is not a whole number"),
        ("-1", r"line 3 has rank '-1', which is not a whole number >= 0"),
        ("", r"line 3 has no rank, and other rows of the file have one"),
    ],
)
def test_a_rank_that_is_no_whole_number_is_refused(tmp_path, rank, message):
    annotator = FileAnnotator(tmp_path, classes=["cat", "dog"])
    annotator.request([7, 3, 5])
    path = tmp_path / "batch-001.csv"
    rows = _read(path)
    for row in rows:
        row["label"] = "cat"
    rows[1]["rank"] = rank
    _write(path, rows)
    with pytest.raises(ValueError, match=message + r".*or clear the whole rank column"):
        annotator.answers()
    # the whole column cleared: the file's order, as documented
    for row in rows:
        row["rank"] = ""
    _write(path, rows)
    assert annotator.answers()[0].tolist() == [7, 3, 5]


def test_a_reset_index_names_no_id_as_the_pool_index_to_restore(tmp_path, digits):
    # the advice said "restore it to 5064": the ID, not the pool_index (64)
    pd = pytest.importorskip("pandas")
    X, y = digits
    pool = pd.DataFrame(X[:300], index=np.arange(5000, 5300))
    annotator = FileAnnotator(tmp_path, classes=range(10))
    annotation_round(_learner(), pool, annotator, n_instances=4)
    _label(tmp_path / "batch-001.csv", y)  # pool_index 64 is ID 5064
    with pytest.raises(ValueError, match=r"reset_index\?\).*set_index") as info:
        annotation_round(_learner(), pool.reset_index(drop=True), annotator)
    message = str(info.value)
    assert "restore it to" not in message
    assert message.endswith("(e.g. df.set_index('id')).")
