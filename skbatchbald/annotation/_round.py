"""One round of the human-in-the-loop loop, with the state kept by the annotator."""

import contextlib
import inspect
import sys
import warnings
from functools import partial

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils.multiclass import type_of_target

from .._arrays import take_rows
from .._query_picks import strategy_picks
from .._validation import check_int, count_rows
from .._warnings import SkbatchbaldWarning, user_stacklevel
from ..sampling import is_regression_model
from ._answers import check_pool_indices

__all__ = ["annotation_round"]

_STATE_KEYS = ("answered", "labels", "pending", "skipped")


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


def annotation_round(learner, X_pool, annotator, *, n_instances=10, cold_start=None):
    """Fit on every answer so far, then ask for the next batch if none is pending.

    The loop keeps no state of its own: the annotator (files or a Label Studio
    project) holds which pool rows were asked for and which are answered, so
    calling this again, in the same process or a new one, after a crash or
    days later, carries on without losing or repeating anything.

    1. ``annotator.state()`` (or ``answers()``, ``pending()`` and
       ``skipped()`` for an annotator without it): every answered row,
       checked all-or-nothing, so a bad answer raises before the learner is
       touched; the rows still pending; the rows set aside.
    2. ``learner.fit`` on the answered rows of ``X_pool`` in request order
       (a fresh fit, so the same answers always give the same model).
    3. If a batch is still pending, stop there: it is never queried again.
       Rows a person skipped are not pending: a skip does not hold up the
       loop.
    4. Otherwise ``learner.query`` on the rows never asked for
       (``cold_start`` instead while the answers hold no class or one), and
       ``annotator.request`` of the picks (as pool indices) in acquisition
       order. Skipped rows are set aside: never asked for again.

    With no answers yet the learner stays unfitted, so the first batch needs
    a strategy that works without a model; so do the batches after answers of
    a single class, on which a classifier learns no uncertainty (see the
    user guide's cold-start page). Pass it as ``cold_start``
    (:class:`~skbatchbald.RandomQuery` or :class:`~skbatchbald.TypiClustQuery`)
    and the same call serves every round. Without ``cold_start`` the learner's
    own strategy is used, and a posterior strategy raises ``NotFittedError``
    naming them (or a ``ValueError`` saying the model knows one class).

    Parameters
    ----------
    learner : ActiveLearner
        A modAL-style learner with ``fit(X, y)`` and
        ``query(X, n_instances=..., return_metrics=True)``, e.g.
        :class:`skbatchbald.ActiveLearner`. Its training data are replaced by
        the answers (with a warning when that drops more labelled rows than
        there are answers: labels given before the loop).
    X_pool : array-like of shape (n_pool, ...)
        The whole pool, labelled rows included; the annotator's pool indices
        are rows of it. A pandas DataFrame or Series also passes its index
        labels to an annotator that takes ``pool_ids`` (FileAnnotator): they
        are written as each asked row's reference, and a DataFrame passed
        again in another row order has each answer taught to the row with
        its index label.
    annotator : FileAnnotator or LabelStudioAnnotator
        Any object with ``request(pool_indices, scores)``, ``pending()`` and
        ``answers()``, and optionally ``skipped()``, ``state()`` (all three
        in one read, a Bunch with ``answered``, ``labels``, ``pending`` and
        ``skipped``; used instead of them where it exists) and ``hold()`` (a
        context manager held for the whole round, so that two processes
        cannot both ask for a batch); those methods get ``pool_ids=`` too
        where they take it.
    n_instances : int, default=10
        Batch size; fewer when fewer rows are left to ask for.
    cold_start : query strategy or None, default=None
        The strategy of the first batches, used instead of the learner's own
        while the answers hold no class or a single one (skipped rows are no
        answers; for ``target_type`` ``"multilabel"`` or ``"continuous"``,
        float labels or a regressor, while there are no answers), called as
        ``cold_start(learner, X_unasked, n_instances=...)`` with the learner
        as fitted on those answers (or unfitted): e.g.
        ``TypiClustQuery(random_state=0)``. None uses the
        learner's strategy in every round.

    Returns
    -------
    result : sklearn.utils.Bunch
        ``answered`` and ``labels``: the rows the learner was fitted on, in
        request order (empty for a cold start); ``pending``: the rows still
        waiting for a label, in request order; ``skipped``: the rows set aside
        as unlabelable, in request order; ``requested`` and ``scores``:
        the batch asked for in this call, in acquisition order (empty when a
        batch was pending or the pool is exhausted); ``cold_start``: whether
        ``cold_start`` picked it.

    Raises
    ------
    ValueError
        If an answer is bad (see the annotator's ``answers``), its recorded
        reference is on no single row of ``X_pool`` now, or it names a pool
        row outside ``X_pool``; nothing is fitted then. Also if another
        process holds the annotator (a round of it is running).
    TypeError
        If ``cold_start`` is needed and is not callable.

    See Also
    --------
    FileAnnotator, LabelStudioAnnotator : Where the state lives.

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbatchbald import ActiveLearner, MarginQuery, RandomQuery
    >>> from skbatchbald.annotation import FileAnnotator, annotation_round
    >>> X, y = load_digits(return_X_y=True)
    >>> learner = ActiveLearner(
    ...     LogisticRegression(max_iter=200), query_strategy=MarginQuery()
    ... )
    >>> annotator = FileAnnotator(tempfile.mkdtemp(), classes=range(10))
    >>> result = annotation_round(
    ...     learner, X, annotator, n_instances=5, cold_start=RandomQuery(random_state=0)
    ... )
    >>> result.requested.shape, annotator.pending().shape
    ((5,), (5,))
    """
    n_instances = check_int(n_instances, "n_instances", min_val=1)
    n_pool = count_rows(X_pool, "X_pool", row="pool row")
    hold = getattr(annotator, "hold", None)  # optional in the protocol
    with hold() if hold is not None else contextlib.nullcontext():
        return _round(learner, X_pool, annotator, n_instances, cold_start, n_pool)


def _round(learner, X_pool, annotator, n_instances, cold_start, n_pool):
    """The round, with the annotator held where it can be."""
    pool_ids = _pool_ids(X_pool)
    state = _read_state(annotator, pool_ids)
    answered = np.asarray(state["answered"], dtype=int)
    labels = state["labels"]
    check_pool_indices(answered, n_pool)
    pending = np.asarray(state["pending"], dtype=int)
    check_pool_indices(pending, n_pool)
    skipped = np.asarray(state["skipped"], dtype=int)
    check_pool_indices(skipped, n_pool)
    if answered.size:
        _warn_labels_dropped(learner, answered.size)
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
        cold_start=False,
    )
    if pending.size:
        return result
    unasked = np.setdiff1d(np.arange(n_pool), np.union1d(answered, skipped))
    if unasked.size == 0:
        return result
    candidates = take_rows(X_pool, unasked)
    n_picks = min(n_instances, unasked.size)
    if cold_start is None or not _cannot_score_yet(labels, annotator, learner):
        with warnings.catch_warnings():
            # the round maps picks by position and the annotator finds its
            # rows by reference: repeated index labels mislead no one here
            warnings.filterwarnings("ignore", message="X_pool's index repeats")
            # said again below with the pool's rows, not the candidates'
            warnings.filterwarnings("ignore", message=r"\d+ of the \d+ picked rows")
            positions, _, scores = learner.query(
                candidates, n_instances=n_picks, return_metrics=True
            )
        # imported here: the annotators work without modAL installed
        from ..modal import _warn_labelled_rows_picked

        labelled = getattr(learner, "X_training", None)
        _warn_labelled_rows_picked(candidates, positions, labelled, rows=unasked)
    else:
        positions, scores = _cold_start_picks(cold_start, learner, candidates, n_picks)
        result.cold_start = True
    requested = unasked[np.asarray(positions, dtype=int)]
    scores = np.zeros(requested.size) if scores is None else np.asarray(scores)
    _given_ids(annotator.request, pool_ids)(requested, scores)
    result.requested, result.scores = requested, scores
    result.pending = requested
    return result


def _read_state(annotator, pool_ids):
    """The annotator's answers, pending and skipped rows: one read where it can.

    ``state()`` is optional in the protocol (the built-in annotators have
    it); without it the three methods are called, answers first, so that a
    bad answer raises before anything else is read or changed.
    """
    state = getattr(annotator, "state", None)
    if state is not None:
        state = _given_ids(state, pool_ids)()
        missing = [key for key in _STATE_KEYS if key not in state]
        if missing:
            raise TypeError(
                f"{type(annotator).__name__}.state() must return a mapping (e.g. "
                f"a Bunch) with the keys {list(_STATE_KEYS)}; it lacks {missing}."
            )
        return state
    answered, labels = _given_ids(annotator.answers, pool_ids)()
    pending = _given_ids(annotator.pending, pool_ids)()
    skipped = getattr(annotator, "skipped", None)  # optional in the protocol
    skipped = _given_ids(skipped, pool_ids)() if skipped else []
    return Bunch(answered=answered, labels=labels, pending=pending, skipped=skipped)


def _warn_labels_dropped(learner, n_answers):
    """Warn when the fit on the answers drops labels the learner held: rows
    labelled before the loop (``X_training`` given when it was built), which
    the answers do not hold, so the round replaces them without a word."""
    taught = getattr(learner, "X_training", None)
    if taught is None:
        return
    try:
        n_taught = count_rows(taught, "X_training")
    except (TypeError, ValueError):
        return
    if n_taught <= n_answers:
        return  # the last round's answers, or fewer: nothing else is lost
    warnings.warn(
        f"annotation_round fits the learner on the annotator's {n_answers} "
        f"answers, which replace the {n_taught} labelled rows it held: labels "
        "given outside the annotator (X_training when the learner was built) "
        "are not kept. Give them to the annotator instead: request their pool "
        "rows and fill in their labels (a FileAnnotator's batch file), or "
        "import them as annotations of the Label Studio project.",
        SkbatchbaldWarning,
        stacklevel=user_stacklevel(),
    )


def _cannot_score_yet(labels, annotator, learner):
    """Whether the answers are none, or one class a classifier learns nothing
    from (every uncertainty would be 0, or the fit fails)."""
    if len(labels) == 0:
        return True
    if getattr(annotator, "target_type", None) in ("multilabel", "continuous"):
        return False
    estimator = getattr(learner, "estimator", None)
    if estimator is not None and is_regression_model(estimator):
        return False  # numbers: 30.0 three times is a target, not one class
    labels = np.asarray(labels)
    try:
        return (
            labels.ndim == 1
            and labels.dtype.kind != "f"
            and type_of_target(labels) != "continuous"
            and np.unique(labels).size < 2
        )
    except (TypeError, ValueError):  # labels that do not compare
        return False


def _cold_start_picks(cold_start, learner, candidates, n_picks):
    """(positions, scores) of the first batch, from the cold-start strategy."""
    if not callable(cold_start):
        raise TypeError(
            "cold_start must be a query strategy callable as "
            "strategy(learner, X_pool, n_instances=...), such as RandomQuery() or "
            f"TypiClustQuery(); got {cold_start!r}."
        )
    return strategy_picks(cold_start, learner, candidates, (), {"n_instances": n_picks})
