"""LabelStudioAnnotator's loop against an in-memory stand-in of the server.

The stand-in keeps tasks, annotations and predictions as Label Studio's API
returns them (plain JSON), so that overlap, hand-imported tasks, two rounds at
once and the shell's fingerprint check run without a server; the live tests
(test_label_studio*.py, marked label_studio) check the same shapes on a real
one.
"""

import contextlib
import http.server
import itertools
import json
import threading
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skbatchbald import ActiveLearner, RandomQuery, SkbatchbaldWarning
from skbatchbald.annotation import LabelStudioAnnotator, annotation_round, label_config
from skbatchbald.experiment.cli import main

pytest.importorskip("label_studio_sdk", reason="pip install skbatchbald[label-studio]")

URL = "http://127.0.0.1:1"
PROJECT = 1
N_POOL = 60


class _Listing:
    """One kind of object of the stand-in's API (tasks, predictions, ...)."""

    def __init__(self, **methods):
        self.__dict__.update(methods)


class FakeLabelStudio:
    """What LabelStudioAnnotator reads and writes of one project, in memory."""

    def __init__(self, config):
        self.tasks, self.predictions = {}, []
        self.ids = itertools.count(1)
        self.project = {
            "id": PROJECT,
            "label_config": config,
            "parsed_label_config": self._parsed(config),
            "model_version": "",
            "sampling": "Sequential sampling",
        }
        # called once, inside import_predictions, before the batch is added:
        # a second process's round that runs meanwhile
        self.before_predictions = None
        self.client = _Listing(
            tasks=_Listing(list=self._list_tasks),
            predictions=_Listing(list=self._list_predictions),
            projects=_Listing(
                import_tasks=self._import_tasks,
                import_predictions=self._import_predictions,
                update=self._update,
            ),
        )

    @staticmethod
    def _parsed(config):
        import xml.etree.ElementTree as ElementTree

        parsed = {}
        for element in ElementTree.fromstring(config).iter():
            if element.tag in ("Choices", "Number"):
                labels = [c.get("value") for c in element.iter("Choice")]
                parsed[element.get("name")] = {"type": element.tag, "labels": labels}
        return parsed

    # -- the API the annotator calls --------------------------------------

    def _list_tasks(self, project, query=None, page_size=None, **fields):
        tasks = [json.loads(json.dumps(t)) for t in self.tasks.values()]
        if query is None:
            return tasks
        items = json.loads(query)["filters"]["items"]
        return [t for t in tasks if any(self._matches(t, item) for item in items)]

    def _matches(self, task, item):
        field = item["filter"].removeprefix("filter:tasks:")
        if field == "data.pool_index":
            value = task["data"].get("pool_index")
            return value is not None and str(value) == str(item["value"])
        predictions = sum(p["task"] == task["id"] for p in self.predictions)
        counts = {
            "total_predictions": predictions,
            "total_annotations": sum(
                not a["was_cancelled"] for a in task["annotations"]
            ),
            "cancelled_annotations": sum(
                a["was_cancelled"] for a in task["annotations"]
            ),
        }
        return counts[field] > item["value"]

    def _list_predictions(self, project):
        return [dict(p) for p in self.predictions]

    def _import_tasks(self, id, request, return_task_ids=False):
        return {"task_ids": [self.add_task(data) for data in request]}

    def _import_predictions(self, id, request):
        hook, self.before_predictions = self.before_predictions, None
        if hook is not None:
            hook()
        self.predictions += [dict(p) for p in request]
        return {"created": len(request)}

    def _update(self, id, **fields):
        self.project.update(fields)

    @contextlib.contextmanager
    def connect(self):
        yield self.client, json.loads(json.dumps(self.project))

    # -- what people do ----------------------------------------------------

    def add_task(self, data):
        task_id = next(self.ids)
        self.tasks[task_id] = {"id": task_id, "data": data, "annotations": []}
        return task_id

    def annotate(self, task_id, value, *, kind="choices"):
        """Submit an annotation: a choice (or list of them), a number, or None
        for Submit pressed with nothing chosen; its id."""
        if value is None:
            result = []
        else:
            if kind == "choices" and not isinstance(value, list):
                value = [str(value)]
            result = [
                {
                    "from_name": "label",
                    "to_name": "image",
                    "type": kind,
                    "value": {kind: value},
                }
            ]
        annotation_id = 1000 + next(self.ids)
        self.tasks[task_id]["annotations"].append(
            {"id": annotation_id, "result": result, "was_cancelled": False}
        )
        return annotation_id

    def task_of(self, row):
        (task_id,) = [
            t["id"] for t in self.tasks.values() if t["data"].get("pool_index") == row
        ]
        return task_id

    def label_all(self, rows, y):
        for row in rows:
            self.annotate(self.task_of(int(row)), y[int(row)])


@pytest.fixture
def fake(monkeypatch):
    """A stand-in project with the ten digit classes, which the annotator uses."""
    server = FakeLabelStudio(label_config(range(10)))
    monkeypatch.setattr(LabelStudioAnnotator, "_connect", server.connect)
    return server


def _annotator(**kwargs):
    kwargs.setdefault("classes", range(10))
    return LabelStudioAnnotator(
        URL,
        "token",
        PROJECT,
        task_data=lambda i: {"image": f"data:,digit-{i}"},
        **kwargs,
    )


def _learner(seed=0):
    return ActiveLearner(
        LogisticRegression(max_iter=200), query_strategy=RandomQuery(random_state=seed)
    )


@pytest.fixture
def pool(digits):
    X, y = digits
    return X[:N_POOL], y[:N_POOL]


def _first_round(fake, X, y, n=4):
    """A labelled first round; its rows."""
    result = annotation_round(_learner(), X, _annotator(), n_instances=n)
    fake.label_all(result.requested, y)
    return result.requested


# -- several annotations on one task (overlap) ---------------------------------


def test_disagreeing_annotations_warn_naming_the_task_and_the_taught_one(fake, pool):
    X, y = pool
    rows = _first_round(fake, X, y)
    row = int(rows[1])
    task_id = fake.task_of(row)
    (first_id,) = [a["id"] for a in fake.tasks[task_id]["annotations"]]
    other = (y[row] + 1) % 10
    second_id = fake.annotate(task_id, other)  # a second annotator disagrees
    fake.annotate(fake.task_of(int(rows[2])), y[rows[2]])  # a third agrees

    learner = _learner()
    with pytest.warns(SkbatchbaldWarning) as caught:
        result = annotation_round(learner, X, _annotator(), n_instances=4)
    (warning,) = caught
    assert str(warning.message) == (
        f"Label Studio project 1 has 1 task(s) whose annotations disagree, of "
        f"which the first submitted one with a label is taught: task {task_id} "
        f"(pool row {row}): annotation {first_id} says '{y[row]}' (taught), "
        f"annotation {second_id} says '{other}'. Review them in the Data Manager "
        "and delete the wrong annotation (or correct it), so that the label meant "
        "is taught."
    )
    assert warning.filename == __file__  # the user's line
    np.testing.assert_array_equal(result.labels, y[rows])


def test_an_empty_first_submission_gives_way_to_a_teammates_answer(fake, pool):
    # Submit pressed with nothing chosen is no answer to one class: the
    # teammate's answer is taught, where the round used to stop on the empty one
    X, y = pool
    result = annotation_round(_learner(), X, _annotator(), n_instances=4)
    rows = result.requested
    row = int(rows[0])
    fake.annotate(fake.task_of(row), None)
    fake.label_all(rows, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn of: one answer
        state = _annotator().state()
    np.testing.assert_array_equal(state.answered, rows)
    np.testing.assert_array_equal(state.labels, y[rows])

    # with no answer at all, the error names the empty annotation to fix
    row = int(rows[1])
    task_id = fake.task_of(row)
    fake.tasks[task_id]["annotations"] = []
    empty = fake.annotate(task_id, None)
    fake.annotate(task_id, None)
    with pytest.raises(
        ValueError,
        match=rf"^task {task_id}, annotation {empty} \(pool index {row}\) has no "
        "label; give it one of",
    ):
        _annotator().answers()


def test_an_empty_first_set_of_tags_is_taught_and_the_other_named(monkeypatch):
    # for tags, no choice is an answer (no tags): taught, the other one named
    server = FakeLabelStudio(label_config(["even", "big"], target_type="multilabel"))
    monkeypatch.setattr(LabelStudioAnnotator, "_connect", server.connect)
    annotator = _annotator(classes=["even", "big"], target_type="multilabel")
    annotator.request([3, 5])
    task_id = server.task_of(3)
    empty = server.annotate(task_id, [])
    tagged = server.annotate(task_id, ["big"])
    server.annotate(server.task_of(5), ["big"])
    with pytest.warns(
        SkbatchbaldWarning,
        match=rf"task {task_id} \(pool row 3\): annotation {empty} says no tags "
        rf"\(taught\), annotation {tagged} says 'big'\.",
    ):
        indices, labels = annotator.answers()
    np.testing.assert_array_equal(indices, [3, 5])
    np.testing.assert_array_equal(labels, [[0, 0], [0, 1]])


# -- tasks imported by hand ------------------------------------------------------


def test_an_answered_task_without_pool_index_is_left_out_with_a_warning(fake, pool):
    X, y = pool
    rows = _first_round(fake, X, y)
    # the lead imports an example to train annotators with; someone answers it
    gold = fake.add_task({"image": "data:,example-for-new-annotators"})
    fake.annotate(gold, "7")
    annotator = _annotator()
    with pytest.warns(SkbatchbaldWarning) as caught:
        result = annotation_round(_learner(), X, annotator, n_instances=4)
    (warning,) = caught
    assert str(warning.message) == (
        f"Label Studio project 1 has 1 answered task(s) without a pool_index in "
        f"their data (tasks [{gold}]), imported by hand rather than made by "
        "skbatchbald: they are no pool rows, so their answers are left out of "
        "the loop; to teach one, give its task the pool_index of its row."
    )
    assert warning.filename == __file__
    np.testing.assert_array_equal(result.answered, rows)
    assert result.requested.size == 4
    # said once per annotator: the next read is quiet
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        annotator.state()


# -- two rounds at once ------------------------------------------------------------


def test_two_rounds_at_once_are_refused_with_the_fix(fake, pool):
    X, y = pool
    _first_round(fake, X, y)
    # process B runs a whole round while process A, which also found no batch
    # pending, is about to add its own: both are round 2
    fake.before_predictions = lambda: annotation_round(
        _learner(seed=2), X, _annotator(), n_instances=4
    )
    annotation_round(_learner(seed=1), X, _annotator(), n_instances=4)
    versions = {p["model_version"] for p in fake.predictions}
    assert versions == {"skbatchbald-round-1-n4", "skbatchbald-round-2-n4"}
    with pytest.raises(
        ValueError,
        match=r"has 8 tasks marked for round 2, which asked for 4: two rounds ran "
        r"at once .* Delete the predictions of model version "
        r"skbatchbald-round-2-n4 \(Data Manager, Actions; answers given stay and "
        r"are taught\), then run one round, and run rounds one at a time\.$",
    ):
        annotation_round(_learner(), X, _annotator(), n_instances=4)

    # the fix the message names
    fake.predictions = [
        p for p in fake.predictions if p["model_version"] != "skbatchbald-round-2-n4"
    ]
    again = annotation_round(_learner(), X, _annotator(), n_instances=4)
    assert again.requested.size == 4


def test_the_same_batch_asked_for_twice_at_once_is_one_batch(fake, pool):
    # two identical runs (same seed) mark the same tasks twice: served alike
    X, y = pool
    _first_round(fake, X, y)
    fake.before_predictions = lambda: annotation_round(
        _learner(seed=1), X, _annotator(), n_instances=4
    )
    first = annotation_round(_learner(seed=1), X, _annotator(), n_instances=4)
    assert len(fake.predictions) == 4 + 2 * 4
    again = annotation_round(_learner(), X, _annotator(), n_instances=4)
    np.testing.assert_array_equal(again.pending, first.requested)


# -- skbatchbald label --label-studio ------------------------------------------------


def _label(tmp_path, *extra):
    argv = [
        "label", "--data", str(tmp_path / "pool.npy"), "--label-studio", URL,
        "--project", str(PROJECT), "--n-instances", "6", "--model", "logistic",
        "--strategy", "margin",
        *extra,
    ]  # fmt: skip
    return main(argv)


def test_the_shell_checks_the_rows_of_existing_tasks_without_push_table(
    fake, pool, tmp_path, monkeypatch, capsys
):
    X, y = pool
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "token")
    np.save(tmp_path / "pool.npy", X)
    assert _label(tmp_path, "--push-table") == 0  # round 1 makes its tasks
    fake.label_all([t["data"]["pool_index"] for t in fake.tasks.values()], y)
    assert _label(tmp_path, "--push-table") == 0  # so does round 2
    # the lead pushes the rest of the pool, the same table, for people to browse
    LabelStudioAnnotator(
        URL,
        "token",
        PROJECT,
        task_data=lambda i: {"table": {f"x{j}": float(v) for j, v in enumerate(X[i])}},
    ).add_tasks(range(N_POOL))
    assert len(fake.tasks) == N_POOL
    capsys.readouterr()
    assert _label(tmp_path) == 0  # all tasks exist: no --push-table needed
    assert "still wait for a label" in capsys.readouterr().out

    # the pool file is saved again in another row order
    order = np.random.default_rng(1).permutation(N_POOL)
    np.save(tmp_path / "pool.npy", X[order])
    n_predictions = len(fake.predictions)
    for extra in ((), ("--push-table",)):
        assert _label(tmp_path, *extra) == 1
        err = capsys.readouterr().err
        assert err.startswith("skbatchbald label: error: ") and err.count("\n") == 1
        assert "show other data than their pool rows give now" in err
        assert "Load the pool in the order it had then" in err
    assert len(fake.predictions) == n_predictions  # nothing asked for


def test_the_shell_leaves_tasks_it_cannot_check_alone(
    fake, pool, tmp_path, monkeypatch, capsys
):
    # tasks made in Python, from images or from named columns: the pool's
    # features as x0, x1, ... cannot say which row they show, so cannot refuse
    X, _ = pool
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "token")
    _annotator().add_tasks(range(N_POOL // 2))
    columns = [f"px{j}" for j in range(X.shape[1])]
    LabelStudioAnnotator(
        URL,
        "token",
        PROJECT,
        task_data=lambda i: {"table": dict(zip(columns, X[i], strict=True))},
    ).add_tasks(range(N_POOL // 2, N_POOL))
    np.save(tmp_path / "pool.npy", X[::-1])
    assert _label(tmp_path) == 0
    assert "asked for 6 rows" in capsys.readouterr().out
    # without --push-table a missing task is still not created
    fake.tasks.clear()
    fake.predictions.clear()
    assert _label(tmp_path) == 1
    assert "--push-table" in capsys.readouterr().err
    assert not fake.tasks


# -- a server that is not Label Studio ---------------------------------------------


@pytest.fixture
def other_server():
    """A local HTTP server answering every request with ``(status, body, type)``."""
    reply = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, body, content_type = reply["now"]
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", reply
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (404, b"<html><body>Not Found</body></html>", "text/html"),
        (404, b'{"detail": "Not Found"}', "application/json"),  # another API
        (401, b"<html>Log in</html>", "text/html"),
    ],
)
def test_a_server_that_is_not_label_studio_is_named(
    other_server, status, body, content_type
):
    url, reply = other_server
    reply["now"] = (status, body, content_type)
    with pytest.raises(ValueError) as error:
        LabelStudioAnnotator(url, "token", 1, classes=range(3)).pending()
    assert str(error.value) == (
        f"The server at {url} does not look like Label Studio: it answered the "
        f"API call for project 1 (HTTP {status}) without Label Studio's error "
        "reply; check url's host and port (label-studio start prints the address "
        "it serves, e.g. http://127.0.0.1:8080)."
    )


def test_label_studios_own_404_still_names_the_project(other_server):
    url, reply = other_server
    body = {
        "id": "548ff8a4",
        "status_code": 404,
        "version": "1.23.2",
        "detail": "No Project matches the given query.",
        "exc_info": None,
    }
    reply["now"] = (404, json.dumps(body).encode(), "application/json")
    with pytest.raises(ValueError, match=r"has no project 7 \(HTTP 404\)"):
        LabelStudioAnnotator(url, "token", 7).pending()
