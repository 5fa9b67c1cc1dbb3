"""Overlap, hand-imported tasks and two rounds at once on a real Label Studio.

test_label_studio_fake.py runs the same cases on a stand-in; these check that
Label Studio's own annotations (several on a task, one submitted with nothing
chosen), tasks imported without a ``pool_index`` and predictions added by two
processes look as the stand-in has them.
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skbatchbald import ActiveLearner, RandomQuery, SkbatchbaldWarning
from skbatchbald.annotation import (
    LabelStudioAnnotator,
    annotation_round,
    label_config,
)

pytest.importorskip("label_studio_sdk", reason="pip install skbatchbald[label-studio]")
httpx = pytest.importorskip("httpx")

pytestmark = [
    pytest.mark.label_studio,
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

BATCH = 4


def _annotator(server, project):
    info, _ = server
    return LabelStudioAnnotator(
        info.url,
        info.api_key,
        project,
        classes=range(10),
        task_data=lambda i: {"image": f"data:,digit-{i}"},
    )


def _learner(seed=0):
    return ActiveLearner(
        LogisticRegression(max_iter=50), query_strategy=RandomQuery(random_state=seed)
    )


def _annotate(client, task_id, choice):
    """Submit an annotation as a person would (None: nothing chosen); its id."""
    result = []
    if choice is not None:
        result = [
            {
                "from_name": "label",
                "to_name": "image",
                "type": "choices",
                "value": {"choices": [str(choice)]},
            }
        ]
    return client.annotations.create(id=task_id, result=result).id


def _tasks_of(client, project, rows):
    tasks = client.tasks.list(project=project, include="id,data", page_size=1000)
    by_row = {int(t.data["pool_index"]): t.id for t in tasks if "pool_index" in t.data}
    return [by_row[int(r)] for r in rows]


def test_overlap_and_a_task_imported_by_hand(server, digits):
    X, y = digits
    _, client = server
    project = client.projects.create(
        title="skbatchbald overlap", label_config=label_config(range(10))
    ).id
    first = annotation_round(
        _learner(), X, _annotator(server, project), n_instances=BATCH
    ).requested
    tasks = _tasks_of(client, project, first)
    for task_id, row in zip(tasks, first, strict=True):
        _annotate(client, task_id, y[row])
    # a second annotator disagrees on one task
    row = int(first[1])
    other = (y[row] + 1) % 10
    _annotate(client, tasks[1], other)

    learner = _learner()
    with pytest.warns(
        SkbatchbaldWarning,
        match=rf"task {tasks[1]} \(pool row {row}\): annotation \d+ says "
        rf"'{y[row]}' \(taught\), annotation \d+ says '{other}'\.",
    ):
        second = annotation_round(
            learner, X, _annotator(server, project), n_instances=BATCH
        )
    np.testing.assert_array_equal(learner.y_training, y[first])

    # on the new batch, Submit pressed with nothing chosen, then a teammate's
    # answer: the answer is taught
    task_id = _tasks_of(client, project, second.requested[:1])[0]
    _annotate(client, task_id, None)
    _annotate(client, task_id, y[second.requested[0]])
    # an example the lead imported to train annotators with, answered
    client.projects.import_tasks(
        id=project, request=[{"image": "data:,example-for-new-annotators"}]
    )
    (gold,) = [
        t.id
        for t in client.tasks.list(project=project, include="id,data")
        if "pool_index" not in t.data
    ]
    _annotate(client, gold, 7)
    with pytest.warns(SkbatchbaldWarning) as caught:
        state = _annotator(server, project).state()
    messages = [str(w.message) for w in caught]
    assert any(
        f"without a pool_index in their data (tasks [{gold}])" in m for m in messages
    )
    np.testing.assert_array_equal(state.answered, [*first, second.requested[0]])
    np.testing.assert_array_equal(state.labels, y[state.answered])
    np.testing.assert_array_equal(state.pending, second.requested[1:])


def test_two_rounds_at_once_are_refused(server, digits, monkeypatch):
    X, y = digits
    _, client = server
    project = client.projects.create(
        title="skbatchbald two rounds", label_config=label_config(range(10))
    ).id
    first = annotation_round(
        _learner(), X, _annotator(server, project), n_instances=BATCH
    ).requested
    for task_id, row in zip(_tasks_of(client, project, first), first, strict=True):
        _annotate(client, task_id, y[row])
    # process B runs a whole round while process A, which also found no batch
    # pending, is between reading the project and adding its batch
    original = LabelStudioAnnotator._add_tasks
    calls = []

    def add_tasks(self, *args):
        if not calls:
            calls.append(True)
            annotation_round(
                _learner(2), X, _annotator(server, project), n_instances=BATCH
            )
        return original(self, *args)

    monkeypatch.setattr(LabelStudioAnnotator, "_add_tasks", add_tasks)
    annotation_round(_learner(1), X, _annotator(server, project), n_instances=BATCH)
    monkeypatch.undo()
    versions = [p.model_version for p in client.predictions.list(project=project)]
    assert versions.count(f"skbatchbald-round-2-n{BATCH}") == 2 * BATCH
    with pytest.raises(
        ValueError,
        match=rf"has {2 * BATCH} tasks marked for round 2, which asked for {BATCH}: "
        "two rounds ran at once",
    ):
        annotation_round(_learner(), X, _annotator(server, project), n_instances=BATCH)
