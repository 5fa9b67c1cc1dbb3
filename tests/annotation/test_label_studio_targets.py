"""Tags and numbers through a real local Label Studio server.

A simulated person answers through the API the tasks Label Studio's own
next-task endpoint serves, as with *Label All Tasks*.
"""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from skbatchbald import ActiveLearner, BatchBALDQuery, RandomQuery
from skbatchbald.annotation import (
    LabelStudioAnnotator,
    annotation_round,
    label_config,
)

pytest.importorskip("label_studio_sdk", reason="pip install skbatchbald[label-studio]")
httpx = pytest.importorskip("httpx")

pytestmark = pytest.mark.label_studio

TAGS = ["even", "gt4", "prime", "round"]
BATCH = 6


def _digit_tags(y):
    return np.column_stack(
        [y % 2 == 0, y > 4, np.isin(y, [2, 3, 5, 7]), np.isin(y, [0, 6, 8, 9])]
    ).astype(int)


def _annotator(server, project, **kwargs):
    info, _ = server
    return LabelStudioAnnotator(
        info.url,
        info.api_key,
        project,
        task_data=lambda i: {"image": f"data:,row-{i}"},
        **kwargs,
    )


def _answer_next(server, project, value):
    """Answer the task Label Studio serves next; its pool row.

    ``value(i)`` gives the result's ``value`` for pool row ``i``, or None to
    submit the task with no result (nothing chosen).
    """
    info, client = server
    response = httpx.get(
        f"{info.url}/api/projects/{project}/next",
        headers={"Authorization": f"Token {info.api_key}"},
        timeout=60,
    )
    response.raise_for_status()
    task = response.json()
    index = int(task["data"]["pool_index"])
    answer = value(index)
    result = []
    if answer is not None:
        kind = "number" if "number" in answer else "choices"
        result = [
            {"from_name": "label", "to_name": "image", "type": kind, "value": answer}
        ]
    client.annotations.create(id=task["id"], result=result)
    return index


def test_tags_chosen_in_label_studio_teach_a_multi_label_learner(server, digits):
    X, y = digits
    X, Y = X[:300], _digit_tags(y[:300])
    _, client = server
    config = label_config(TAGS, target_type="multilabel")
    project = client.projects.create(title="tags", label_config=config).id

    def tags(i):  # nothing chosen for a row of no tags
        chosen = [t for t, on in zip(TAGS, Y[i], strict=True) if on]
        return {"choices": chosen} if chosen else None

    def learner():
        return ActiveLearner(
            RandomForestClassifier(n_estimators=50, random_state=0),
            query_strategy=RandomQuery(random_state=0),
        )

    model, asked = learner(), []
    for _ in range(2):
        annotator = _annotator(server, project, classes=TAGS, target_type="multilabel")
        result = annotation_round(model, X, annotator, n_instances=BATCH)
        served = [_answer_next(server, project, tags) for _ in range(BATCH)]
        assert served == result.requested.tolist()
        asked.append(result.requested)
        model.query_strategy = BatchBALDQuery(random_state=0)
    assert (Y[np.concatenate(asked)].sum(axis=1) == 0).any()  # "no tags" answered
    annotator = _annotator(server, project, target_type="multilabel")  # classes read
    result = annotation_round(model, X, annotator, n_instances=BATCH)

    labelled = np.concatenate(asked)
    np.testing.assert_array_equal(result.answered, labelled)
    np.testing.assert_array_equal(result.labels, Y[labelled])
    reference = learner()
    reference.fit(X[labelled], Y[labelled])
    reference.query_strategy = BatchBALDQuery(random_state=0)
    unasked = np.setdiff1d(np.arange(len(X)), labelled)
    positions, _ = reference.query(X[unasked], n_instances=BATCH)
    np.testing.assert_array_equal(result.requested, unasked[positions])


def test_numbers_typed_in_label_studio_teach_a_regressor(server, digits):
    X = digits[0][:300]
    target = X.mean(axis=1)
    _, client = server
    config = label_config(target_type="continuous")
    project = client.projects.create(title="numbers", label_config=config).id
    annotator = _annotator(server, project, target_type="continuous")
    model = ActiveLearner(
        RandomForestRegressor(n_estimators=20, random_state=0),
        query_strategy=RandomQuery(random_state=0),
    )
    first = annotation_round(model, X, annotator, n_instances=BATCH)
    for _ in range(BATCH):
        _answer_next(server, project, lambda i: {"number": float(target[i])})
    model.query_strategy = BatchBALDQuery(noise_variance=0.1, random_state=0)
    second = annotation_round(model, X, annotator, n_instances=BATCH)
    np.testing.assert_array_equal(second.answered, first.requested)
    assert second.labels.dtype == np.float64
    np.testing.assert_array_equal(second.labels, target[first.requested])
    np.testing.assert_array_equal(model.y_training, target[first.requested])
    # the batch the same loop asks for in memory
    reference = ActiveLearner(
        RandomForestRegressor(n_estimators=20, random_state=0),
        query_strategy=BatchBALDQuery(noise_variance=0.1, random_state=0),
    )
    reference.fit(X[first.requested], target[first.requested])
    unasked = np.setdiff1d(np.arange(len(X)), first.requested)
    positions, _ = reference.query(X[unasked], n_instances=BATCH)
    np.testing.assert_array_equal(second.requested, unasked[positions])

    # a task submitted without a number is named, and nothing is taught
    _answer_next(server, project, lambda i: None)
    with pytest.raises(
        ValueError, match=r"task \d+ \(pool index \d+\) has no label.*Skip the task"
    ):
        annotation_round(model, X, annotator, n_instances=BATCH)


def test_configs_that_do_not_fit_the_target_type_are_named(server, digits):
    X, _ = digits
    _, client = server
    single = client.projects.create(title="one tag", label_config=label_config(TAGS))
    with pytest.raises(ValueError, match=r"choice='single'.*choice=\"multiple\""):
        _annotator(server, single.id, classes=TAGS, target_type="multilabel").pending()
    with pytest.raises(ValueError, match=r"no <Number> tag.*'continuous'"):
        _annotator(server, single.id, target_type="continuous").pending()

    # a multiple-choice config read one class per task: two choices refused
    config = label_config(TAGS, target_type="multilabel")
    project = client.projects.create(title="one class", label_config=config).id
    annotator = _annotator(server, project, classes=TAGS)
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5, random_state=0),
        query_strategy=RandomQuery(random_state=0),
    )
    annotation_round(learner, X, annotator, n_instances=2)
    _answer_next(server, project, lambda i: {"choices": ["even", "prime"]})
    with pytest.raises(
        ValueError, match=r"names 2 classes.*pass target_type='multilabel'"
    ):
        annotator.answers()


def test_a_number_outside_the_configs_range_is_named(server, digits):
    # Label Studio's form keeps people within min and max; the API does not
    X = digits[0][:50]
    _, client = server
    config = (
        '<View><Image name="image" value="$image"/>'
        '<Number name="label" toName="image" min="0" max="100"/></View>'
    )
    project = client.projects.create(title="bounded", label_config=config).id
    annotator = _annotator(server, project, target_type="continuous")
    model = ActiveLearner(
        RandomForestRegressor(n_estimators=5, random_state=0),
        query_strategy=RandomQuery(random_state=0),
    )
    annotation_round(model, X, annotator, n_instances=2)
    _answer_next(server, project, lambda i: {"number": 42.0})
    _answer_next(server, project, lambda i: {"number": 150.0})
    with pytest.raises(
        ValueError, match=r"task \d+ \(pool index \d+\) has the number 150, outside"
    ):
        annotator.answers()
