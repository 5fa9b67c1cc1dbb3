"""One entry point for posterior log-probability samples (N, K, C) from an estimator."""

import numpy as np
from sklearn.ensemble import (
    BaggingClassifier,
    BaseEnsemble,
    ExtraTreesClassifier,
    RandomForestClassifier,
)
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from ._labels import label_indices
from ._validation import check_n_mc_samples, check_random_state

__all__ = ["predict_log_proba_samples"]

_SUPPORTED = (
    "an MCDropoutClassifier or any estimator with a predict_log_proba_samples "
    "method; a scikit-learn Pipeline ending in a supported estimator; a modAL "
    "learner (its .estimator is sampled); a modAL Committee (each learner is one "
    "sample); a fitted scikit-learn ensemble with estimators_ whose members have "
    "predict_proba (RandomForestClassifier, ExtraTreesClassifier, "
    "BaggingClassifier, ...; each member is one sample)"
)


def _check_n_mc_samples(n_mc_samples, n_members, what):
    if n_mc_samples is None:
        return n_members
    n_mc_samples = check_n_mc_samples(n_mc_samples)
    if n_mc_samples > n_members:
        raise ValueError(
            f"n_mc_samples={n_mc_samples} exceeds the {n_members} {what}, each of "
            "which is "
            f"one posterior sample; pass n_mc_samples <= {n_members} or None for all."
        )
    return n_mc_samples


def _member_columns(member_classes, classes, encoded):
    """Column of ``classes`` for each of a member's classes.

    scikit-learn's forests and bagging train members on encoded targets
    (0..C-1, floats for trees); other ensembles (and modAL committees) keep the
    user's labels.
    """
    member_classes = np.asarray(member_classes)
    if not encoded:
        columns = label_indices(member_classes, classes)
        if np.all(columns >= 0):
            return columns
        if member_classes.dtype.kind not in "iuf":
            raise ValueError(
                f"a member knows classes {member_classes.tolist()} that are not in "
                f"the ensemble's classes_={classes.tolist()}."
            )
    columns = member_classes.astype(np.int64)
    if not np.all(
        (columns == member_classes) & (columns >= 0) & (columns < len(classes))
    ):
        raise ValueError(
            f"a member's classes {member_classes.tolist()} are neither labels in "
            f"classes_={classes.tolist()} nor class indices 0..{len(classes) - 1}."
        )
    return columns


def _stack_members(members, classes, X, encoded):
    """Log of each member's predict_proba, mapped onto ``classes``: (N, K, C).

    ``members`` holds (estimator, feature indices or None) pairs: bagging trains
    each member on a subset of the columns.
    """
    probas = []
    for member, features in members:
        X_member = X if features is None else np.asarray(X)[:, features]
        proba = np.asarray(member.predict_proba(X_member), dtype=np.float64)
        full = np.zeros((proba.shape[0], len(classes)))  # (N, C)
        full[:, _member_columns(member.classes_, classes, encoded)] = proba
        probas.append(full)
    with np.errstate(divide="ignore"):  # a class a member never saw: log 0 = -inf
        return np.log(np.stack(probas, axis=1)).astype(np.float32)  # (N, K, C)


def _subsample(members, n_mc_samples, random_state):
    rng = check_random_state(random_state)  # validated even when all are kept
    if n_mc_samples == len(members):
        return list(members)
    picked = rng.choice(len(members), n_mc_samples, replace=False)
    return [members[i] for i in np.sort(picked)]


def predict_log_proba_samples(
    estimator, X, n_mc_samples=None, random_state=None, *, max_memory=None, n_jobs=None
):
    """Posterior samples of class log-probabilities for a pool, shape (N, K, C).

    The one way every query strategy gets ``log p(y = c | x_n, ω_k)``.

    Parameters
    ----------
    estimator : object
        One of: an :class:`~skbatchbald.MCDropoutClassifier` or any estimator with
        a ``predict_log_proba_samples(X, n_mc_samples, random_state)`` method; a
        :class:`~sklearn.pipeline.Pipeline` (X is transformed by all steps but the
        last, which is sampled); a modAL ``ActiveLearner`` (its ``.estimator``);
        a modAL ``Committee`` (each learner is one sample); a fitted scikit-learn
        ensemble with ``estimators_`` (each member is one sample).
    X : array-like of shape (N, ...)
        The pool.
    n_mc_samples : int, default=None
        Number K of posterior samples. For dropout nets None means the net's
        ``n_mc_samples``; for ensembles and committees None means all members,
        and a smaller value picks members at random without replacement.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Source of the dropout masks or of the member subsample.
    max_memory : None, int or str, default=None
        Memory budget in bytes (or a string such as ``"512MB"``) for the
        activations of one sampling pass of a dropout net; None keeps the
        estimator's own ``max_memory``. Passed on to the estimator's
        ``predict_log_proba_samples``; ensembles and committees, whose members
        predict one at a time, ignore it.
    n_jobs : None or int, default=None
        Number of joblib workers for a dropout net (see
        :class:`~skbatchbald.MCDropoutClassifier`); None keeps the estimator's
        own ``n_jobs``. Ensembles and committees ignore it.

    Returns
    -------
    log_probs : ndarray of shape (N, K, C), float32
        Classes in the estimator's ``classes_`` order. Entries may be ``-inf``
        where a sample gives a class probability exactly 0 (e.g. a tree).

    Raises
    ------
    TypeError
        If the estimator is of none of the supported kinds, or ``n_mc_samples``
        or ``random_state`` is of a wrong type.
    ValueError
        If ``n_mc_samples`` is < 1 or exceeds the number of ensemble members,
        or ``random_state`` is a negative int.

    See Also
    --------
    skbatchbald.MCDropoutClassifier.predict_log_proba_samples : Consistent MC
        dropout samples.

    Notes
    -----
    A dropout mask set (Gal & Ghahramani 2016) or an ensemble member is one
    posterior sample ω_k; BatchBALD needs the same ω_k for every pool point
    (Kirsch, van Amersfoort & Gal 2019, Fig. 7), which both provide. Members are
    weighted equally; members that saw fewer classes get probability 0 for the
    others, as in scikit-learn's own averaging.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbatchbald.sampling import predict_log_proba_samples
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=8, random_state=0).fit(X, y)
    >>> log_probs = predict_log_proba_samples(forest, X)
    >>> log_probs.shape
    (150, 8, 3)
    >>> bool(np.allclose(np.exp(log_probs).mean(axis=1), forest.predict_proba(X)))
    True
    """
    kind = type(estimator).__name__
    # Only given values are passed on, so estimators without these keywords work.
    budget = {
        key: value
        for key, value in (("max_memory", max_memory), ("n_jobs", n_jobs))
        if value is not None
    }
    if isinstance(estimator, Pipeline):
        Xt = estimator[:-1].transform(X) if len(estimator) > 1 else X
        return predict_log_proba_samples(
            estimator[-1], Xt, n_mc_samples, random_state, **budget
        )
    if hasattr(estimator, "learner_list"):  # modAL Committee
        learners = list(estimator.learner_list)
        classes = getattr(estimator, "classes_", None)
        if classes is None:
            raise NotFittedError(
                f"this {kind} has no classes_ yet; teach or fit its learners first."
            )
        k = _check_n_mc_samples(n_mc_samples, len(learners), f"learners of the {kind}")
        members = [(learner.estimator, None) for learner in learners]
        members = _subsample(members, k, random_state)
        return _stack_members(members, np.asarray(classes), X, encoded=False)
    if hasattr(estimator, "estimator") and hasattr(estimator, "query_strategy"):
        return predict_log_proba_samples(
            estimator.estimator, X, n_mc_samples, random_state, **budget
        )
    if hasattr(estimator, "predict_log_proba_samples"):
        log_probs = np.asarray(
            estimator.predict_log_proba_samples(
                X, n_mc_samples=n_mc_samples, random_state=random_state, **budget
            ),
            dtype=np.float32,
        )
        if log_probs.ndim != 3:
            raise ValueError(
                f"{kind}.predict_log_proba_samples returned shape "
                f"{log_probs.shape}; expected (N, K, C) log-probabilities."
            )
        return log_probs
    members = getattr(estimator, "estimators_", None)
    if members is not None and hasattr(estimator, "classes_"):
        members = list(np.ravel(members))
        if not all(hasattr(m, "predict_proba") for m in members):
            raise TypeError(
                f"the members of {kind} have no predict_proba, so they are not "
                f"posterior samples of a classifier. Supported: {_SUPPORTED}."
            )
        features = getattr(estimator, "estimators_features_", [None] * len(members))
        k = _check_n_mc_samples(n_mc_samples, len(members), f"members of the {kind}")
        members = _subsample(list(zip(members, features, strict=True)), k, random_state)
        # scikit-learn's forests and bagging train members on encoded targets.
        encoded = isinstance(
            estimator, (RandomForestClassifier, ExtraTreesClassifier, BaggingClassifier)
        )
        return _stack_members(members, np.asarray(estimator.classes_), X, encoded)
    if isinstance(estimator, BaseEnsemble):
        raise NotFittedError(f"this {kind} is not fitted yet; call fit first.")
    raise TypeError(
        f"cannot draw posterior samples from {kind}. Supported: {_SUPPORTED}."
    )
