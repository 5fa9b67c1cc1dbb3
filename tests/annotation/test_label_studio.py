"""LabelStudioAnnotator against a real local Label Studio server.

A simulated annotator labels through the API, taking tasks from Label Studio's
own next-task endpoint, as a person pressing *Label All Tasks* would.
"""

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from skbatchbald import (
    ActiveLearner,
    BatchBALDQuery,
    MarginQuery,
    MCDropoutClassifier,
    RandomQuery,
)
from skbatchbald.annotation import (
    LabelStudioAnnotator,
    annotation_round,
    label_config,
)
from skbatchbald.datasets import load_repeated_digits
from skbatchbald.nn import BayesianMLP

sdk = pytest.importorskip(
    "label_studio_sdk", reason="pip install skbatchbald[label-studio]"
)
httpx = pytest.importorskip("httpx")

pytestmark = [
    pytest.mark.label_studio,
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

BATCH = 10


def _project(client, classes=range(10), config=None):
    config = config or label_config(classes)
    return client.projects.create(title="skbatchbald test", label_config=config).id


def _annotator(server, project, **kwargs):
    info, _ = server
    kwargs.setdefault("classes", range(10))
    return LabelStudioAnnotator(
        info.url,
        info.api_key,
        project,
        task_data=lambda i: {"image": f"data:,digit-{i}"},
        **kwargs,
    )


def _learner():
    return ActiveLearner(
        LogisticRegression(max_iter=50), query_strategy=RandomQuery(random_state=0)
    )


def _next_task(server, project):
    info, _ = server
    response = httpx.get(
        f"{info.url}/api/projects/{project}/next",
        headers={"Authorization": f"Token {info.api_key}"},
        timeout=60,
    )
    response.raise_for_status()
    return response.json()


def _annotate(server, task_id, y, label=None, **kwargs):
    """Annotate a task as a person would; (task id, its pool row)."""
    _, client = server
    task = client.tasks.get(id=str(task_id))
    index = int(task.data["pool_index"])
    choice = str(y[index]) if label is None else label
    result = [
        {
            "from_name": "label",
            "to_name": "image",
            "type": "choices",
            "value": {"choices": [choice]},
        }
    ]
    client.annotations.create(id=task_id, result=result, **kwargs)
    return task_id, index


def _label_next(server, project, y, n, label=None):
    """Take n tasks from the next-task endpoint and label them; their pool rows."""
    return [
        _annotate(server, _next_task(server, project)["id"], y, label)[1]
        for _ in range(n)
    ]


def _skip_next(server, project):
    return _skip_next_annotation(server, project)[0]


def _skip_next_annotation(server, project):
    """Skip the next task as a person would: (its pool row, the annotation id)."""
    task = _next_task(server, project)
    _, client = server
    skip = client.annotations.create(id=task["id"], result=[], was_cancelled=True)
    return int(task["data"]["pool_index"]), skip.id


def _task_of(client, project, pool_index):
    tasks = client.tasks.list(project=project, include="id,data", page_size=1000)
    (task_id,) = [t.id for t in tasks if t.data["pool_index"] == pool_index]
    return task_id


def _counts(client, project):
    tasks = list(client.tasks.list(project=project, include="id,data", page_size=1000))
    predictions = list(client.predictions.list(project=project))
    pool = [t.data["pool_index"] for t in tasks]
    return len(pool), len(set(pool)), [p.task for p in predictions]


def test_three_rounds_served_in_our_order_as_in_memory(server):
    # A few thousand digits: Repeated digits, every image twice with noise.
    X, y = load_repeated_digits(n_repeats=2, return_X_y=True)
    assert len(y) == 3594
    _, client = server
    project = _project(client)
    annotator = _annotator(server, project)
    annotator.add_tasks(np.arange(len(y)))  # the whole pool, browsable
    annotator.add_tasks(np.arange(len(y)))  # again: nothing duplicated
    learner, picks = _learner(), []
    for _ in range(3):
        result = annotation_round(learner, X, annotator, n_instances=BATCH)
        learner.query_strategy = MarginQuery()
        assert _label_next(server, project, y, BATCH) == result.requested.tolist()
        picks.append(result.requested)

    reference, labelled = _learner(), np.empty(0, dtype=int)
    for asked in picks:
        if labelled.size:
            reference.fit(X[labelled], y[labelled])
        unasked = np.setdiff1d(np.arange(len(y)), labelled)
        positions, _ = reference.query(X[unasked], n_instances=BATCH)
        np.testing.assert_array_equal(unasked[positions], asked)
        labelled = np.concatenate([labelled, asked])
        reference.query_strategy = MarginQuery()

    indices, labels = _annotator(server, project).answers()
    np.testing.assert_array_equal(indices, labelled)
    np.testing.assert_array_equal(labels, y[labelled])
    n_tasks, n_rows, predicted = _counts(client, project)
    assert (n_tasks, n_rows) == (len(y), len(y))
    assert len(predicted) == len(set(predicted)) == 3 * BATCH


class Crash(Exception):
    pass


def test_crash_between_predictions_and_project_resumes(server, digits, monkeypatch):
    X, y = digits
    _, client = server
    project = _project(client)
    # With the whole pool pushed, a project left on sequential sampling would
    # serve pool row 0 first: only the current model version serves our order.
    _annotator(server, project).add_tasks(np.arange(len(y)))
    learner = _learner()

    def crash(*args, **kwargs):
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(LabelStudioAnnotator, "_point_project", crash)
        with pytest.raises(Crash):
            annotation_round(learner, X, _annotator(server, project), n_instances=BATCH)
    # A new process: a new learner and annotator find the batch pending and
    # point the project at it, so Label Studio serves it in our order.
    result = annotation_round(_learner(), X, _annotator(server, project))
    assert result.requested.size == 0 and result.pending.size == BATCH
    assert _label_next(server, project, y, BATCH) == result.pending.tolist()
    _, _, predicted = _counts(client, project)
    assert len(predicted) == BATCH


def test_crash_before_predictions_and_mid_labelling_resume(server, digits, monkeypatch):
    X, y = digits
    _, client = server
    project = _project(client)
    original = LabelStudioAnnotator._add_tasks

    def add_then_crash(self, *args):
        original(self, *args)
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(LabelStudioAnnotator, "_add_tasks", add_then_crash)
        with pytest.raises(Crash):
            annotation_round(_learner(), X, _annotator(server, project))
    first = annotation_round(_learner(), X, _annotator(server, project))
    assert first.requested.size == BATCH  # the same batch, asked for again

    half = _label_next(server, project, y, BATCH // 2)
    skipped = _skip_next(server, project)  # a skip is no answer, nor pending
    again = annotation_round(_learner(), X, _annotator(server, project))
    np.testing.assert_array_equal(again.answered, half)
    np.testing.assert_array_equal(again.skipped, [skipped])
    np.testing.assert_array_equal(again.pending, first.requested[BATCH // 2 + 1 :])
    assert again.requested.size == 0
    rest = _label_next(server, project, y, BATCH - BATCH // 2 - 1)
    assert [*half, skipped, *rest] == first.requested.tolist()
    # The batch is complete without the skipped task: the next one is asked
    # for, from the rows neither answered nor skipped.
    second = annotation_round(_learner(), X, _annotator(server, project))
    assert second.requested.size == BATCH
    assert not set(second.requested) & set(first.requested)
    # Labelled later from the Data Manager, the skipped task is answered in rank.
    _annotate(server, _task_of(client, project, skipped), y)
    annotator = _annotator(server, project)
    indices, labels = annotator.answers()
    np.testing.assert_array_equal(indices, first.requested)
    np.testing.assert_array_equal(labels, y[first.requested])
    assert annotator.skipped().size == 0

    n_tasks, n_rows, predicted = _counts(client, project)
    assert n_tasks == n_rows == 2 * BATCH
    assert len(predicted) == len(set(predicted)) == 2 * BATCH


def test_skipped_tasks_are_set_aside_as_in_memory(server, digits, monkeypatch):
    X, y = digits
    _, client = server
    project = _project(client)
    _annotator(server, project).add_tasks(np.arange(len(y)))  # the whole pool
    first = annotation_round(_learner(), X, _annotator(server, project))
    labelled = _label_next(server, project, y, 3)
    in_batch, skip_id = _skip_next_annotation(server, project)
    labelled += _label_next(server, project, y, BATCH - 4)
    # The batch is done, so Label Studio serves a task no round asked for; a
    # person skips that one too.
    stray = _skip_next(server, project)
    assert stray not in first.requested
    annotator = _annotator(server, project)
    np.testing.assert_array_equal(annotator.skipped(), [in_batch, stray])
    assert annotator.pending().size == 0
    state = annotator.state()
    np.testing.assert_array_equal(state.answered, annotator.answers()[0])
    np.testing.assert_array_equal(state.labels, annotator.answers()[1])
    np.testing.assert_array_equal(state.skipped, [in_batch, stray])
    assert state.pending.size == 0

    learner = _learner()
    learner.query_strategy = MarginQuery()
    reads = []
    read = LabelStudioAnnotator._state
    monkeypatch.setattr(
        LabelStudioAnnotator,
        "_state",
        lambda self, *args: reads.append(args) or read(self, *args),
    )
    second = annotation_round(learner, X, annotator)
    assert len(reads) == 2  # the state once, then request's own check
    np.testing.assert_array_equal(second.answered, labelled)
    np.testing.assert_array_equal(second.skipped, [in_batch, stray])
    reference = ActiveLearner(LogisticRegression(max_iter=50), MarginQuery())
    reference.fit(X[labelled], y[labelled])
    unasked = np.setdiff1d(np.arange(len(y)), [*first.requested, stray])
    positions, _ = reference.query(X[unasked], n_instances=BATCH)
    np.testing.assert_array_equal(second.requested, unasked[positions])
    with pytest.raises(ValueError, match=r"already asked for, skipped or answered"):
        annotator.request([stray])

    # The skip undone (its annotation deleted) after round 2 was labelled:
    # the task is pending in round 1, and the project is pointed back at
    # round 1, so that Label All Tasks serves it (round 2's version served
    # other tasks at random).
    _label_next(server, project, y, BATCH)
    client.annotations.delete(id=skip_id)
    third = annotation_round(_learner(), X, _annotator(server, project))
    np.testing.assert_array_equal(third.pending, [in_batch])
    assert third.requested.size == 0
    assert int(_next_task(server, project)["data"]["pool_index"]) == in_batch


def test_wrong_token(server):
    info, client = server
    annotator = LabelStudioAnnotator(info.url, "not-a-token", _project(client))
    with pytest.raises(ValueError, match="rejected api_key \\(HTTP 401\\); copy"):
        annotator.pending()


def test_unknown_project(server):
    with pytest.raises(ValueError, match="has no project 987654 \\(HTTP 404\\)"):
        _annotator(server, 987654).pending()


def test_a_page_or_api_address_as_url_names_the_server_address(server):
    info, client = server
    project = _project(client)
    # the project page's address, copied from the browser: a web page answers
    page = LabelStudioAnnotator(
        f"{info.url}/projects/{project}/data?tab=1", info.api_key, project
    )
    with pytest.raises(
        ValueError,
        match=rf"answered with a web page, not Label Studio's API, and the "
        rf"server's address as url: '{info.url}'",
    ):
        page.pending()
    # the API's address: the project exists, the message must not say only that
    # it does not
    api = LabelStudioAnnotator(f"{info.url}/api", info.api_key, project)
    with pytest.raises(
        ValueError, match=rf"\(HTTP 404\).*server's address as url: '{info.url}'"
    ):
        api.pending()


def test_config_lacking_class_names(server):
    _, client = server
    project = _project(client, classes=range(5))
    with pytest.raises(ValueError, match=r"lacks the class names \['5', '6', '7', "):
        _annotator(server, project).request([0])
    no_choices = '<View><Image name="image" value="$image"/></View>'
    project = _project(client, config=no_choices)
    with pytest.raises(ValueError, match="has no <Choices> tag"):
        _annotator(server, project).answers()
    _, _, predicted = _counts(client, project)
    assert predicted == []


def test_label_outside_classes_teaches_nothing(server, digits):
    X, y = digits
    _, client = server
    project = _project(client)  # the config offers 0-9, the learner knows 0-8
    annotator = _annotator(server, project, classes=range(9))
    learner = _learner()
    annotation_round(learner, X, annotator, n_instances=3)
    _label_next(server, project, y, 3, label="9")
    with pytest.raises(ValueError, match=r"has label '9', which is not one of the"):
        annotation_round(learner, X, annotator, n_instances=3)
    assert not hasattr(learner.estimator, "coef_")


def test_tasks_deleted_by_hand(server, digits):
    X, y = digits
    _, client = server
    project = _project(client)
    learner = _learner()
    result = annotation_round(learner, X, _annotator(server, project), n_instances=3)
    (kept,) = _label_next(server, project, y, 1)
    client.tasks.delete(id=str(_task_of(client, project, result.requested[1])))
    with pytest.raises(ValueError, match=r"has 2 of the 3 tasks asked for in round 1"):
        annotation_round(learner, X, _annotator(server, project), n_instances=3)
    assert not hasattr(learner.estimator, "coef_")
    # Without task_data a deleted row cannot come back: a clear error too.
    info, _ = server
    bare = LabelStudioAnnotator(info.url, info.api_key, project, classes=range(10))
    with pytest.raises(
        ValueError, match=r"have no task in Label Studio project.*--push-table"
    ):
        bare.add_tasks(result.requested)

    # The fix the error names: delete the round's predictions. The answer stays.
    for prediction in client.predictions.list(project=project):
        if prediction.model_version == "skbatchbald-round-1-n3":
            client.predictions.delete(id=prediction.id)
    dummy = ActiveLearner(DummyClassifier(), query_strategy=RandomQuery(random_state=0))
    again = annotation_round(dummy, X, _annotator(server, project), n_instances=3)
    np.testing.assert_array_equal(again.answered, [kept])
    assert again.requested.size == 3 and kept not in again.requested


def test_batchbald_round_with_mc_dropout(server, digits):
    X, y = digits
    X = (X / 16).astype(np.float32)
    _, client = server
    project = _project(client)

    def learner():
        net = MCDropoutClassifier(
            BayesianMLP,
            module__n_features=64,
            max_epochs=20,
            n_mc_samples=10,
            random_state=0,
            verbose=0,
        )
        return ActiveLearner(net, query_strategy=RandomQuery(random_state=0))

    first = annotation_round(learner(), X, _annotator(server, project))
    _label_next(server, project, y, BATCH)
    bald = learner()
    bald.query_strategy = BatchBALDQuery(random_state=0)
    second = annotation_round(bald, X, _annotator(server, project))
    assert _label_next(server, project, y, BATCH) == second.requested.tolist()

    reference = learner()
    reference.fit(X[first.requested], y[first.requested])
    unasked = np.setdiff1d(np.arange(len(y)), first.requested)
    positions, _ = BatchBALDQuery(random_state=0)(reference, X[unasked], BATCH)
    np.testing.assert_array_equal(second.requested, unasked[positions])


def test_tasks_imported_with_text_pool_indices_are_found(server, digits):
    # Label Studio's CSV import stores every field as text.
    X, y = digits
    _, client = server
    project = _project(client)
    rows = [{"image": f"data:,{i}", "pool_index": str(i)} for i in range(len(y))]
    client.projects.import_tasks(id=project, request=rows)
    result = annotation_round(_learner(), X, _annotator(server, project))
    assert _label_next(server, project, y, BATCH) == result.requested.tolist()
    indices, _ = _annotator(server, project).answers()
    np.testing.assert_array_equal(indices, result.requested)
    n_tasks, n_rows, _ = _counts(client, project)
    assert n_tasks == n_rows == len(y)


def test_table_tasks_of_numpy_features_are_created(server, digits):
    # The features of a pool row are numpy values: float32 for a torch model,
    # int64 ids; the SDK alone refused them with a message about iterables.
    X, y = digits
    X = X.astype(np.float32)
    _, client = server
    project = _project(client, config=label_config(range(10), data="table"))
    columns = [f"px{j}" for j in range(4)]
    annotator = _annotator(server, project)
    annotator.task_data = lambda i: {
        "table": {"row": np.int64(i), **dict(zip(columns, X[i, :4], strict=True))},
        "pixels": X[i, :2],
    }
    result = annotation_round(_learner(), X, annotator, n_instances=3)
    first = int(result.requested[0])
    task = client.tasks.get(id=str(_task_of(client, project, first)))
    assert task.data["table"] == {
        "row": first,
        **{c: float(v) for c, v in zip(columns, X[first, :4], strict=True)},
    }
    assert task.data["pixels"] == X[first, :2].tolist()

    annotator.task_data = lambda i: [("image", "x")]
    with pytest.raises(ValueError, match=r"task_data\(\d+\) returned list, not a dict"):
        annotator.add_tasks([len(y) - 1])
    annotator.task_data = lambda i: {"image": object()}
    with pytest.raises(ValueError, match=r"task_data\(\d+\) holds a value that is no"):
        annotator.add_tasks([len(y) - 1])


def test_a_pool_reloaded_in_another_order_is_refused(server, digits):
    # Day 2: the pool is rebuilt from files listed in another order, so row i
    # is another image; its task's answer would be taught to the wrong row
    X, y = digits
    _, client = server
    project = _project(client)
    urls = [f"data:,digit-{i}" for i in range(len(y))]
    annotator = _annotator(server, project)
    annotator.task_data = lambda i: {"image": urls[i]}
    result = annotation_round(_learner(), X, annotator, n_instances=BATCH)
    _label_next(server, project, y, BATCH)
    task = client.tasks.get(id=str(_task_of(client, project, result.requested[0])))
    assert len(task.data["pool_digest"]) == 16

    order = np.random.default_rng(0).permutation(len(y))
    reloaded = _annotator(server, project)
    reloaded.task_data = lambda i: {"image": urls[order[i]]}
    for read in (reloaded.answers, reloaded.pending):
        with pytest.raises(ValueError, match=rf"{BATCH} task\(s\) .* reordered"):
            read()
    with pytest.raises(ValueError, match="Load the pool in the order it had then"):
        annotation_round(_learner(), X[order], reloaded, n_instances=BATCH)
    assert len(list(client.predictions.list(project=project))) == BATCH

    # the same order, another process: read back as asked
    again = _annotator(server, project)
    again.task_data = lambda i: {"image": urls[i]}
    indices, labels = again.answers()
    np.testing.assert_array_equal(indices, result.requested)
    np.testing.assert_array_equal(labels, y[result.requested])
