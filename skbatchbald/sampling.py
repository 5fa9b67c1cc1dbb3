"""One entry point for posterior log-probability samples (N, K, C) from an estimator."""

from ._arrays import is_dask_array
from ._samplers import _PointEstimateAllowed, sample_in_memory
from .out_of_core import dask_log_proba_samples

__all__ = ["predict_log_proba_samples"]


def predict_log_proba_samples(
    estimator,
    X,
    n_mc_samples=None,
    random_state=None,
    *,
    max_memory=None,
    n_jobs=None,
    allow_point_estimate=False,
):
    """Posterior samples of class log-probabilities for a pool, shape (N, K, C).

    The one way every query strategy gets ``log p(y = c | x_n, ω_k)``.

    Parameters
    ----------
    estimator : object
        One of: an :class:`~skbatchbald.MCDropoutClassifier` or any estimator with
        a ``predict_log_proba_samples(X, n_mc_samples, random_state)`` method; a
        fitted :class:`~sklearn.ensemble.RandomForestClassifier`,
        :class:`~sklearn.ensemble.ExtraTreesClassifier` or
        :class:`~sklearn.ensemble.BaggingClassifier` (each member is one
        sample); a modAL ``Committee`` (each learner is one sample); a
        :class:`~sklearn.pipeline.Pipeline` (X is transformed by all steps but the
        last, which is sampled); a fitted
        :class:`~sklearn.model_selection.GridSearchCV` or
        :class:`~sklearn.model_selection.RandomizedSearchCV` (its
        ``best_estimator_``); a modAL ``ActiveLearner`` (its ``.estimator``).
        With ``allow_point_estimate=True`` also any other fitted classifier with
        ``predict_proba`` (:class:`~sklearn.linear_model.LogisticRegression`,
        :class:`~sklearn.ensemble.VotingClassifier`, a plain skorch net, ...).
    X : array-like or dask.array.Array of shape (N, ...)
        The pool. A dask array is sampled block by block where Dask runs its
        tasks, and a dask array is returned (see
        :func:`~skbatchbald.out_of_core.dask_log_proba_samples`).
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
    allow_point_estimate : bool, default=False
        What to do with a fitted classifier that gives no posterior samples,
        only ``predict_proba``: False refuses it with a ``ValueError``; True
        returns its ``predict_proba`` as one sample, shape (N, 1, C). True is
        for scores of the predictive distribution alone (margin, entropy,
        variation ratios); sources of posterior samples are sampled as usual.

    Returns
    -------
    log_probs : ndarray or dask.array.Array of shape (N, K, C), float32
        Classes in the estimator's ``classes_`` order. Entries may be ``-inf``
        where a sample gives a class probability exactly 0 (e.g. a tree). A
        dask array (lazy, chunked along N like X) when X is one.

    Raises
    ------
    TypeError
        If the estimator is of none of the supported kinds, or ``n_mc_samples``
        or ``random_state`` is of a wrong type.
    ValueError
        If ``n_mc_samples`` is < 1 or exceeds the number of ensemble members,
        or ``random_state`` is a negative int; if the estimator is a classifier
        without posterior samples and ``allow_point_estimate`` is False, a
        regressor, or a classifier fitted on multi-label or multi-output
        targets, none of which are supported.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.

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

    Only ensembles whose members are fitted alike on resamples of the data and
    averaged with equal weights (forests, bagging) are taken as posterior
    samples. :class:`~sklearn.ensemble.VotingClassifier`,
    :class:`~sklearn.ensemble.StackingClassifier`,
    :class:`~sklearn.ensemble.AdaBoostClassifier` and gradient boosting weight,
    stack or chain members that are different models, not draws from one
    posterior: they give one predictive distribution, usable only with
    ``allow_point_estimate=True``. A set of networks becomes a posterior as the
    learners of a modAL ``Committee``.

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
    if is_dask_array(X):
        if allow_point_estimate:
            estimator = _PointEstimateAllowed(estimator)
        return dask_log_proba_samples(
            estimator,
            X,
            n_mc_samples=n_mc_samples,
            random_state=random_state,
            max_memory=max_memory,
        )
    return sample_in_memory(
        estimator,
        X,
        n_mc_samples,
        random_state,
        max_memory=max_memory,
        n_jobs=n_jobs,
        allow_point_estimate=allow_point_estimate,
    )
