"""Rows people cannot label: set aside with ``?``, never holding up the loop."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skbatchbald import ActiveLearner, MarginQuery, RandomQuery
from skbatchbald.annotation import FileAnnotator, annotation_round
from skbatchbald.experiment.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _learner():
    return ActiveLearner(
        LogisticRegression(max_iter=50), query_strategy=RandomQuery(random_state=0)
    )


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_skipped_row_is_set_aside_and_the_loop_goes_on(
    fill_labels, tmp_path, digits, fmt
):
    X, y = digits
    annotator = FileAnnotator(tmp_path, classes=range(10), format=fmt)
    learner = _learner()
    first = annotation_round(learner, X, annotator, n_instances=6)
    cannot = first.requested[[1, 4]]
    fill_labels(
        tmp_path / f"batch-001.{fmt}",
        lambda i: " ? " if i in cannot else str(y[i]),
    )

    learner.query_strategy = MarginQuery()
    second = annotation_round(learner, X, annotator, n_instances=6)
    taught = np.setdiff1d(first.requested, cannot, assume_unique=True)
    kept_order = [i for i in first.requested if i not in cannot]
    np.testing.assert_array_equal(second.answered, kept_order)
    np.testing.assert_array_equal(second.labels, y[kept_order])
    np.testing.assert_array_equal(second.skipped, cannot)
    np.testing.assert_array_equal(annotator.skipped(), cannot)
    assert second.pending.size == second.requested.size == 6

    # The same round in memory: fitted on the answers, querying the rows
    # neither answered nor skipped.
    reference = ActiveLearner(LogisticRegression(max_iter=50), MarginQuery())
    reference.fit(X[kept_order], y[kept_order])
    unasked = np.setdiff1d(np.arange(len(y)), first.requested)
    positions, _ = reference.query(X[unasked], n_instances=6)
    np.testing.assert_array_equal(second.requested, unasked[positions])
    assert not set(second.requested) & (set(taught) | set(cannot))


def test_a_skipped_row_labelled_later_is_taught(fill_labels, tmp_path, digits):
    _, y = digits
    annotator = FileAnnotator(tmp_path, classes=range(10))
    annotator.request([11, 12, 13])
    path = tmp_path / "batch-001.csv"
    fill_labels(path, lambda i: "?" if i == 12 else str(y[i]))
    assert annotator.answers()[0].tolist() == [11, 13]
    fill_labels(path, lambda i: str(y[i]))  # someone found the label after all
    indices, labels = annotator.answers()
    assert indices.tolist() == [11, 12, 13] and labels.tolist() == y[11:14].tolist()
    assert annotator.skipped().size == 0


def test_a_batch_of_only_skips_asks_for_the_next(fill_labels, tmp_path, digits):
    X, _ = digits
    annotator = FileAnnotator(tmp_path, classes=range(10))
    first = annotation_round(_learner(), X, annotator, n_instances=3)
    fill_labels(tmp_path / "batch-001.csv", lambda i: "?")
    second = annotation_round(_learner(), X, annotator, n_instances=3)
    assert second.answered.size == 0  # still a cold start: nothing to fit
    np.testing.assert_array_equal(second.skipped, first.requested)
    assert second.requested.size == 3
    assert not set(second.requested) & set(first.requested)


@pytest.mark.parametrize(
    ("target_type", "classes", "answer"),
    [("multilabel", ["cat", "dog"], '"cat;dog"'), ("continuous", None, "2,5")],
)
def test_skips_among_tags_and_numbers(tmp_path, target_type, classes, answer):
    annotator = FileAnnotator(tmp_path, classes, target_type=target_type)
    annotator.request([4, 8])
    path = tmp_path / "batch-001.csv"
    text = path.read_text().splitlines()
    # a ';' file, as a spreadsheet with a decimal comma saves it
    rows = [line.replace(",", ";") for line in text]
    rows[1] += "?"
    rows[2] += answer
    path.write_text("\n".join(rows) + "\n")
    indices, labels = annotator.answers()
    assert indices.tolist() == [8] and annotator.skipped().tolist() == [4]
    expected = [[1, 1]] if target_type == "multilabel" else [2.5]
    assert labels.tolist() == expected


def test_a_class_named_like_the_skip_marker_is_refused(tmp_path):
    annotator = FileAnnotator(tmp_path, classes=np.array(["yes", "no", "?"]))
    with pytest.raises(
        ValueError, match=r"\['yes', 'no', '\?'\] hold a class named '\?'.*rename"
    ):
        annotator.request([1])
    with pytest.raises(ValueError, match=r"hold a class named '\?'"):
        annotator.answers()


@pytest.mark.parametrize(
    ("target_type", "classes"),
    [("multiclass", range(10)), ("multilabel", ["cat", "dog"]), ("continuous", None)],
)
@pytest.mark.parametrize("answer", ["skip", "N/A", "??", "Unknown"])
def test_other_ways_of_writing_skip_name_the_marker(
    fill_labels, tmp_path, answer, target_type, classes
):
    annotator = FileAnnotator(tmp_path, classes, target_type=target_type)
    annotator.request([1, 2])
    fill_labels(
        tmp_path / "batch-001.csv",
        lambda i: answer if i == 2 else "-" if classes == ["cat", "dog"] else "1",
    )
    with pytest.raises(
        ValueError,
        match=r"line 3 \(pool index 2\).* cannot be labelled, write '\?' alone",
    ):
        annotator.answers()


def test_a_full_width_question_mark_is_a_skip(fill_labels, tmp_path, digits):
    # typed with an East Asian keyboard
    _, y = digits
    annotator = FileAnnotator(tmp_path, classes=range(10))
    annotator.request([1, 2])
    fill_labels(tmp_path / "batch-001.csv", lambda i: "\uff1f" if i == 2 else str(y[i]))
    assert annotator.answers()[0].tolist() == [1]
    assert annotator.skipped().tolist() == [2]


def test_an_empty_label_names_the_skip_marker(fill_labels, tmp_path, digits):
    _, y = digits
    annotator = FileAnnotator(tmp_path, classes=range(10))
    annotator.request([1, 2])
    fill_labels(tmp_path / "batch-001.csv", lambda i: str(y[i]) if i == 1 else "")
    with pytest.raises(
        ValueError,
        match=r"line 3 \(pool index 2\) has no label; give it one of .*, or '\?' "
        r"if it cannot be labelled \(the row is set aside\)\.",
    ):
        annotator.answers()


def test_a_row_deleted_is_warned_about_once_per_round(
    fill_labels, tmp_path, digits, recwarn
):
    X, y = digits
    annotator = FileAnnotator(tmp_path, classes=range(10))
    annotator.request([7, 3, 5])
    path = tmp_path / "batch-001.csv"
    fill_labels(path, lambda i: "?" if i == 5 else str(y[i]))
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1], lines[3]]) + "\n")  # rank 1 gone
    result = annotation_round(_learner(), X, annotator, n_instances=2)
    deleted = [w for w in recwarn if "lacks the row(s) of rank [1]" in str(w.message)]
    assert len(deleted) == 1 and "'?' sets a row aside" in str(deleted[0].message)
    assert result.answered.tolist() == [7] and result.skipped.tolist() == [5]


def test_the_command_line_reports_skipped_rows(fill_labels, tmp_path, digits, capsys):
    X, y = digits
    np.save(tmp_path / "pool.npy", X[:60])
    argv = [
        "label", "--data", str(tmp_path / "pool.npy"), "--files", str(tmp_path / "l"),
        "--classes", *map(str, range(10)), "--n-instances", "4",
    ]  # fmt: skip
    assert main(argv) == 0
    first = []
    fill_labels(
        tmp_path / "l" / "batch-001.csv",
        lambda i: first.append(i) or ("?" if len(first) == 1 else str(y[i])),
    )
    capsys.readouterr()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "fitted on 3 answers" in out
    assert f"1 row set aside as unlabelable (skipped): {first[0]}" in out
    assert "asked for 4 rows" in out
    # a pool of 8: once every row is answered or skipped, the command says so
    np.save(tmp_path / "small.npy", X[:8])
    argv[2], argv[4] = str(tmp_path / "small.npy"), str(tmp_path / "s")
    for batch in ("001", "002"):
        assert main(argv) == 0
        fill_labels(
            tmp_path / "s" / f"batch-{batch}.csv",
            lambda i: "?" if i == 3 else str(y[i]),
        )
    capsys.readouterr()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "fitted on 7 answers" in out
    assert "every pool row is labelled or set aside" in out


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_state_is_the_three_reads_in_one(fill_labels, tmp_path, digits, fmt):
    _, y = digits
    annotator = FileAnnotator(tmp_path, classes=range(10), format=fmt)
    annotator.request([7, 3, 5])
    fill_labels(tmp_path / f"batch-001.{fmt}", lambda i: "?" if i == 3 else str(y[i]))
    annotator.request([9, 1])
    state = annotator.state()
    answered, labels = annotator.answers()
    np.testing.assert_array_equal(state.answered, answered)
    np.testing.assert_array_equal(state.labels, labels)
    np.testing.assert_array_equal(state.pending, annotator.pending())
    np.testing.assert_array_equal(state.skipped, annotator.skipped())
    assert state.answered.tolist() == [7, 5] and state.labels.tolist() == [y[7], y[5]]
    assert state.pending.tolist() == [9, 1] and state.skipped.tolist() == [3]


def test_a_round_reads_the_batch_files_once_then_writes(
    fill_labels, tmp_path, digits, monkeypatch
):
    X, y = digits
    annotator = FileAnnotator(tmp_path, classes=range(10))
    annotation_round(_learner(), X, annotator, n_instances=4)
    fill_labels(tmp_path / "batch-001.csv", lambda i: str(y[i]))
    reads = []
    read = FileAnnotator._batches

    def counted(self, pool_ids=None):
        reads.append(pool_ids)
        return read(self, pool_ids)

    monkeypatch.setattr(FileAnnotator, "_batches", counted)
    result = annotation_round(_learner(), X, annotator, n_instances=4)
    # one read for the state, one by request (which checks the new rows
    # against every batch file)
    assert len(reads) == 2 and result.requested.size == 4


def test_state_refuses_a_bad_answer_before_anything_else(fill_labels, tmp_path):
    annotator = FileAnnotator(tmp_path, classes=range(10))
    annotator.request([1, 2])
    fill_labels(tmp_path / "batch-001.csv", lambda i: "11")
    with pytest.raises(ValueError, match=r"line 2 \(pool index 1\).*'11'"):
        annotator.state()


def _held_by_another_process(directory):
    """Fork a process that holds ``directory`` until the returned pid is
    killed; returns once it holds it."""
    import os
    import time

    ready, go = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready)
        with FileAnnotator(directory, classes=range(10)).hold():
            os.write(go, b"1")
            time.sleep(30)  # killed by the test
        os._exit(0)
    os.close(go)
    assert os.read(ready, 1) == b"1"
    return pid


def test_a_second_round_at_once_is_refused(tmp_path, digits):
    # a scheduler started the next round before the last one ended: both
    # found no batch pending, and each wrote one
    import os
    import signal

    X, _ = digits
    annotator = FileAnnotator(tmp_path / "labels", classes=range(10))
    pid = _held_by_another_process(tmp_path / "labels")  # its round, half-way
    try:
        with pytest.raises(ValueError, match=r"another annotation round is running"):
            annotation_round(_learner(), X, annotator, n_instances=3)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert not list((tmp_path / "labels").iterdir())
    result = annotation_round(_learner(), X, annotator, n_instances=3)
    assert result.requested.size == 3  # a killed round's lock went with it


def test_the_holding_process_may_hold_again_and_a_forked_child_does_not(
    tmp_path, digits
):
    import os
    import signal
    import time

    X, _ = digits
    annotator = FileAnnotator(tmp_path, classes=range(10))
    with annotator.hold():  # a round of one's own, then saving the model
        result = annotation_round(_learner(), X, annotator, n_instances=3)
        assert result.requested.size == 3
        pid = os.fork()
        if pid == 0:  # a worker forked meanwhile lives on
            time.sleep(30)
            os._exit(0)
    try:
        time.sleep(0.5)  # the child closes its copy right after the fork
        # the parent let go and the child holds nothing: another process
        # gets the directory
        other = _held_by_another_process(tmp_path)
        os.kill(other, signal.SIGKILL)
        os.waitpid(other, 0)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def test_a_directory_the_file_system_cannot_lock_warns(tmp_path, digits, monkeypatch):
    import errno
    import fcntl

    from skbatchbald import SkbatchbaldWarning

    def nfs(handle, operation):  # NFS locks only files opened for writing
        raise OSError(errno.EBADF, "Bad file descriptor")

    monkeypatch.setattr(fcntl, "flock", nfs)
    X, _ = digits
    annotator = FileAnnotator(tmp_path, classes=range(10))
    with pytest.warns(SkbatchbaldWarning, match=r"cannot lock a directory \(NFS\?\)"):
        result = annotation_round(_learner(), X, annotator, n_instances=3)
    assert result.requested.size == 3


def test_a_round_in_another_thread_is_refused(tmp_path, digits):
    import threading

    X, _ = digits
    annotator = FileAnnotator(tmp_path, classes=range(10))
    outcome = []

    def other_round():
        try:
            annotation_round(_learner(), X, annotator, n_instances=3)
        except ValueError as exc:
            outcome.append(str(exc))

    with annotator.hold():  # this thread's round, half-way
        thread = threading.Thread(target=other_round)
        thread.start()
        thread.join()
    assert len(outcome) == 1 and "another process or thread" in outcome[0]
    assert not list(tmp_path.iterdir())
