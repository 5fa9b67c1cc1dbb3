"""One round of the human-in-the-loop loop, with the state kept by the annotator."""

import inspect
import sys
import warnings
from functools import partial

import numpy as np
from sklearn.utils import Bunch

from .._arrays import take_rows
from .._validation import check_int, count_rows
from ._answers import check_pool_indices

__all__ = ["annotation_round"]


def _pool_ids(X_pool):
    """A pandas pool's index labels, which identify its rows in any order."""
    pd = sys.modules.get("pandas")  # a pandas pool means pandas is imported
    if pd is not None and isinstance(X_pool, (pd.DataFrame, pd.Series)):
        return X_pool.index.tolist()
    return None


def _given_ids(method, pool_ids):
    """``method`` with ``pool_ids`` passed, when it takes them.

    The annotator protocol is ``request``, ``pending`` and ``answers``; an
    annotator that also takes ``pool_ids`` (FileAnnotator) uses a pandas
    pool's index to find each answer's row, and one that does not is called
    as the protocol says.
    """
    if pool_ids is None:
        return method
    try:
        parameters = inspect.signature(method).parameters
    except (TypeError, ValueError):  # a builtin or C method: the bare protocol
        return method
    return partial(method, pool_ids=pool_ids) if "pool_ids" in parameters else method


def annotation_round(learner, X_pool, annotator, *, n_instances=10):
    """Fit on every answer so far, then ask for the next batch if none is pending.

    The loop keeps no state of its own: the annotator (files or a Label Studio
    project) holds which pool rows were asked for and which are answered, so
    calling this again, in the same process or a new one, after a crash or
    days later, carries on without losing or repeating anything.

    1. ``annotator.answers()``: every answered row, checked all-or-nothing;
       a bad answer raises before the learner is touched.
    2. ``learner.fit`` on the answered rows of ``X_pool`` in request order
       (a fresh fit, so the same answers always give the same model).
    3. If a batch is still pending, stop there: it is never queried again.
       Rows a person skipped (``annotator.skipped()``, where the annotator
       has it) are not pending: a skip does not hold up the loop.
    4. Otherwise ``learner.query`` on the rows never asked for, and
       ``annotator.request`` of the picks (as pool indices) in acquisition
       order. Skipped rows are set aside: never asked for again.

    With no answers yet the learner stays unfitted and its strategy must work
    without a model: :class:`~skbatchbald.RandomQuery` or
    :class:`~skbatchbald.TypiClustQuery` (a posterior strategy raises
    ``NotFittedError`` naming them).

    Parameters
    ----------
    learner : ActiveLearner
        A modAL-style learner with ``fit(X, y)`` and
        ``query(X, n_instances=..., return_metrics=True)``, e.g.
        :class:`skbatchbald.ActiveLearner`. Its training data are replaced by
        the answers.
    X_pool : array-like of shape (n_pool, ...)
        The whole pool, labelled rows included; the annotator's pool indices
        are rows of it. A pandas DataFrame or Series also passes its index
        labels to an annotator that takes ``pool_ids`` (FileAnnotator): they
        are written as each asked row's reference, and a DataFrame passed
        again in another row order has each answer taught to the row with
        its index label.
    annotator : FileAnnotator or LabelStudioAnnotator
        Any object with ``request(pool_indices, scores)``, ``pending()`` and
        ``answers()``, and optionally ``skipped()``; those methods get
        ``pool_ids=`` too where they take it.
    n_instances : int, default=10
        Batch size; fewer when fewer rows are left to ask for.

    Returns
    -------
    result : sklearn.utils.Bunch
        ``answered`` and ``labels``: the rows the learner was fitted on, in
        request order (empty for a cold start); ``pending``: the rows still
        waiting for a label, in request order; ``skipped``: the rows set aside
        as unlabelable, in request order; ``requested`` and ``scores``:
        the batch asked for in this call, in acquisition order (empty when a
        batch was pending or the pool is exhausted).

    Raises
    ------
    ValueError
        If an answer is bad (see the annotator's ``answers``), its recorded
        reference is on no single row of ``X_pool`` now, or it names a pool
        row outside ``X_pool``; nothing is fitted then.

    See Also
    --------
    FileAnnotator, LabelStudioAnnotator : Where the state lives.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbatchbald import ActiveLearner, RandomQuery
    >>> from skbatchbald.annotation import FileAnnotator, annotation_round
    >>> X, y = load_digits(return_X_y=True)
    >>> learner = ActiveLearner(
    ...     LogisticRegression(max_iter=200), query_strategy=RandomQuery(random_state=0)
    ... )
    >>> annotator = FileAnnotator(tempfile.mkdtemp(), classes=range(10))
    >>> result = annotation_round(learner, X, annotator, n_instances=5)
    >>> result.requested.shape, annotator.pending().shape
    ((5,), (5,))
    """
    n_instances = check_int(n_instances, "n_instances", min_val=1)
    n_pool = count_rows(X_pool, "X_pool", row="pool row")
    pool_ids = _pool_ids(X_pool)
    answered, labels = _given_ids(annotator.answers, pool_ids)()
    answered = np.asarray(answered, dtype=int)
    check_pool_indices(answered, n_pool)
    pending = np.asarray(_given_ids(annotator.pending, pool_ids)(), dtype=int)
    check_pool_indices(pending, n_pool)
    skipped = getattr(annotator, "skipped", None)  # optional in the protocol
    skipped = np.asarray(_given_ids(skipped, pool_ids)() if skipped else [], dtype=int)
    check_pool_indices(skipped, n_pool)
    if answered.size:
        with warnings.catch_warnings():
            if getattr(annotator, "target_type", None) == "multilabel":
                # tags the annotator read as such: rows of one tag each are
                # multi-label answers, not a one-hot y typed by mistake
                warnings.filterwarnings("ignore", message="y looks one-hot encoded")
            learner.fit(take_rows(X_pool, answered), labels)
    result = Bunch(
        answered=answered,
        labels=labels,
        pending=pending,
        skipped=skipped,
        requested=np.empty(0, dtype=int),
        scores=np.empty(0),
    )
    if pending.size:
        return result
    unasked = np.setdiff1d(np.arange(n_pool), np.union1d(answered, skipped))
    if unasked.size == 0:
        return result
    positions, _, scores = learner.query(
        take_rows(X_pool, unasked),
        n_instances=min(n_instances, unasked.size),
        return_metrics=True,
    )
    requested = unasked[np.asarray(positions, dtype=int)]
    scores = np.zeros(requested.size) if scores is None else np.asarray(scores)
    _given_ids(annotator.request, pool_ids)(requested, scores)
    result.requested, result.scores = requested, scores
    result.pending = requested
    return result
