"""Humans in the loop: ask people for labels through files or Label Studio.

The state of the loop lives in the annotation tool, not in Python: which pool
rows were asked for, in which order, and which are answered. So the loop is a
single call, :func:`annotation_round`, that can be run again at any time, by
hand, from a scheduler or after a crash, in a new process:

.. code-block:: python

    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    from skbatchbald import ActiveLearner, RandomQuery
    from skbatchbald.annotation import FileAnnotator, annotation_round

    X, _ = load_digits(return_X_y=True)
    learner = ActiveLearner(
        LogisticRegression(max_iter=500), query_strategy=RandomQuery(random_state=0)
    )
    annotator = FileAnnotator("labels/", classes=range(10))
    result = annotation_round(learner, X, annotator, n_instances=10)
    # people fill in the label column of labels/batch-001.csv; run it again:
    # the learner is fitted on every answer and the next batch is written.

With a Label Studio server, replace the annotator (``pip install
"skbatchbald[label-studio]"``)::

    annotator = LabelStudioAnnotator(
        "http://localhost:8080", api_key, project_id, classes=range(10),
        task_data=lambda i: {"image": image_urls[i]},
    )

The answers are taught by refitting on all of them in request order, so the
same answers always give the same model and the same next batch (with a
seeded strategy).
"""

from ._files import FileAnnotator
from ._label_studio import LabelStudioAnnotator, label_config
from ._round import annotation_round

__all__ = ["FileAnnotator", "LabelStudioAnnotator", "annotation_round", "label_config"]
