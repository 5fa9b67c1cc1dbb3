"""Posterior samples from an estimator: class log-probabilities (N, K, C) of a
classifier, (N, K, L) label log-probabilities of a multi-label classifier, or
predictions (N, K) of a regressor."""

import numpy as np

from ._arrays import is_dask_array
from ._memory import check_max_memory, shown_bytes
from ._models import skorch_inputs_message
from ._multilabel_samplers import is_multilabel, sample_multilabel
from ._regression_samplers import (
    gaussian_process_covariance,
    is_gaussian_process,
    is_regression_model,
    model_noise_variance,
    sample_regressor,
)
from ._samplers import (
    _PointEstimateAllowed,
    check_several_classes,
    sample_in_memory,
)
from .out_of_core import dask_log_proba_samples

__all__ = [
    "gaussian_process_covariance",
    "is_gaussian_process",
    "is_multilabel",
    "is_regression_model",
    "model_noise_variance",
    "predict_log_proba_samples",
    "predict_multilabel_log_proba_samples",
    "predict_samples",
]


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
        sample); a list or tuple of fitted classifiers with ``predict_proba``
        (a deep ensemble: each is one sample, classes the union of theirs); a
        modAL ``Committee`` (each learner is one sample); a
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
        ``n_mc_samples``; for ensembles, lists and committees None means all
        members, and a smaller value picks members at random without
        replacement.
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
        regressor (use :func:`predict_samples`), a multi-label classifier (use
        :func:`predict_multilabel_log_proba_samples`), a classifier fitted on
        multi-output targets, or one fitted on a single class (there is no
        uncertainty to sample; the message names what to do).
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
    ``allow_point_estimate=True``. A set of networks becomes a posterior as a
    list (or the learners of a modAL ``Committee``): the user vouches that its
    members are alike, each fitted in its own way (a deep ensemble).

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
        sampled = (
            _PointEstimateAllowed(estimator) if allow_point_estimate else estimator
        )
        # lazy, but with its shape known: found by sampling one row
        log_probs = dask_log_proba_samples(
            sampled,
            X,
            n_mc_samples=n_mc_samples,
            random_state=random_state,
            max_memory=max_memory,
        )
    else:
        try:
            log_probs = sample_in_memory(
                estimator,
                X,
                n_mc_samples,
                random_state,
                max_memory=max_memory,
                n_jobs=n_jobs,
                allow_point_estimate=allow_point_estimate,
            )
        except (TypeError, ValueError) as exc:
            message = skorch_inputs_message(estimator, X, exc)
            if message is not None:
                raise ValueError(message) from exc
            raise
    check_several_classes(estimator, log_probs)
    return log_probs


def predict_multilabel_log_proba_samples(
    estimator, X, n_mc_samples=None, random_state=None, *, max_memory=None, n_jobs=None
):
    """Posterior samples of each label's log-probability for a pool, (N, K, L).

    The multi-label counterpart of :func:`predict_log_proba_samples`: each of
    the L labels is a Bernoulli output, and the array holds
    ``log p(y_l = 1 | x_n, ω_k)``, the input of
    :func:`~skbatchbald.acquisition.multilabel_bald` and
    :func:`~skbatchbald.acquisition.multilabel_batchbald`.

    Parameters
    ----------
    estimator : object
        One of: an :class:`~skbatchbald.MCDropoutMultiLabelClassifier`, or any
        estimator with a ``predict_log_proba_samples(X, n_mc_samples,
        random_state)`` method returning (N, K, L) and the scikit-learn tag
        ``classifier_tags.multi_label = True``; a
        :class:`~sklearn.ensemble.RandomForestClassifier` or
        :class:`~sklearn.ensemble.ExtraTreesClassifier` fitted on a 0/1
        indicator y (each tree is one sample); a
        :class:`~sklearn.multioutput.MultiOutputClassifier` whose per-label
        estimators are sources of posterior samples with equally many samples;
        a modAL ``Committee`` of multi-label learners, or a list or tuple of
        fitted multi-label classifiers (each is one sample); any of these in a
        :class:`~sklearn.pipeline.Pipeline`, a fitted search or a modAL
        learner.
    X : array-like of shape (N, ...)
        The pool, in memory.
    n_mc_samples : int, default=None
        Number K of posterior samples; None: the net's ``n_mc_samples``, or
        every tree or learner.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Source of the dropout masks or of the member subsample.
    max_memory : None, int or str, default=None
        Memory budget of a dropout net's sampling passes; None keeps its own.
    n_jobs : None or int, default=None
        Number of joblib workers of a dropout net; None keeps its own.

    Returns
    -------
    log_probs : ndarray of shape (N, K, L), float32
        ``log p(y_l = 1 | x_n, ω_k)``, labels in the order of y's columns;
        ``-inf`` where a sample gives probability exactly 0 (a tree, or a
        label never seen as 1).

    Raises
    ------
    ValueError
        If the estimator is single-label, a multi-output classifier whose
        outputs are not 0/1, a ``ClassifierChain`` or another multi-label
        classifier without posterior samples.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.

    See Also
    --------
    predict_log_proba_samples : Single-label classifiers, (N, K, C).

    Notes
    -----
    A :class:`~sklearn.multioutput.MultiOutputClassifier` fits one model per
    label, so sample k of one label and sample k of another come from
    different models. The multi-label strategies only use each label's own
    samples together (their objectives add per-label terms), so this is
    enough for them; it is not a joint posterior over all labels.
    :class:`~sklearn.multioutput.ClassifierChain` is refused: its labels'
    models read the chain's own point predictions of earlier labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbatchbald.sampling import predict_multilabel_log_proba_samples
    >>> X, Y = make_multilabel_classification(60, n_classes=3, random_state=0)
    >>> forest = RandomForestClassifier(n_estimators=8, random_state=0).fit(X, Y)
    >>> log_probs = predict_multilabel_log_proba_samples(forest, X)
    >>> log_probs.shape
    (60, 8, 3)
    >>> mean = np.exp(log_probs).mean(axis=1)  # (N, L): the forest's average
    >>> bool(np.allclose(mean.T, [p[:, 1] for p in forest.predict_proba(X)]))
    True
    """
    if is_dask_array(X):
        raise ValueError(
            "a dask pool is not supported for multi-label sampling yet; pass the "
            "pool in memory (X.compute()), or in parts and concatenate."
        )
    return sample_multilabel(
        estimator, X, n_mc_samples, random_state, max_memory=max_memory, n_jobs=n_jobs
    )


def predict_samples(
    estimator, X, n_mc_samples=None, random_state=None, *, max_memory=None, n_jobs=None
):
    """Posterior samples of a regressor's prediction for a pool, shape (N, K).

    The regression counterpart of :func:`predict_log_proba_samples`: the way
    :class:`~skbatchbald.BALDQuery`, :class:`~skbatchbald.PowerBALDQuery` and
    :class:`~skbatchbald.BatchBALDQuery` get f(x_n; ω_k) from a regressor.

    Parameters
    ----------
    estimator : object
        One of: an :class:`~skbatchbald.MCDropoutRegressor` or any estimator
        with a ``predict_samples(X, n_mc_samples, random_state)`` method; a
        fitted :class:`~sklearn.ensemble.RandomForestRegressor`,
        :class:`~sklearn.ensemble.ExtraTreesRegressor` or
        :class:`~sklearn.ensemble.BaggingRegressor` (each member is one
        sample); a list or tuple of fitted regressors (an ensemble: each is
        one sample); a modAL ``CommitteeRegressor`` (each learner is one
        sample); a fitted
        :class:`~sklearn.gaussian_process.GaussianProcessRegressor` (joint
        draws of its latent function over the pool); a
        :class:`~sklearn.pipeline.Pipeline` ending in one of these; a fitted
        search (its ``best_estimator_``); a modAL ``ActiveLearner`` (its
        ``.estimator``); a
        :class:`~sklearn.compose.TransformedTargetRegressor` (its regressor's
        samples, in the transformed target space).
    X : array-like of shape (N, ...)
        The pool, in memory (dask pools are sampled for classification only).
    n_mc_samples : int, default=None
        Number K of posterior samples. For dropout nets None means the net's
        ``n_mc_samples``; for ensembles, lists and committees None means all
        members, and a smaller value picks members at random without
        replacement; for a Gaussian process None means 100 draws.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Source of the dropout masks or of the member subsample.
    max_memory : None, int or str, default=None
        Memory budget of a dropout net's sampling passes, and the most a
        Gaussian process's joint draw may take (its N x N covariance and
        factor, 24 N^2 bytes); ensembles ignore it.
    n_jobs : None or int, default=None
        Joblib workers of a dropout net; ensembles ignore it.

    Returns
    -------
    predictions : ndarray of shape (N, K), float64
        Column k is posterior sample k, the same model for every row.

    Raises
    ------
    ValueError
        If the estimator is a classifier (use
        :func:`predict_log_proba_samples`), a regressor without posterior
        samples (e.g. ``LinearRegression``), multi-output, or
        ``n_mc_samples`` exceeds the number of members; if X is a dask array
        larger than ``max_memory`` (a smaller one is computed).
    TypeError
        If the estimator is of none of the supported kinds.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.

    See Also
    --------
    skbatchbald.acquisition.batchbald_regression : What the samples are for.
    predict_log_proba_samples : The same for classifiers.

    Notes
    -----
    Members of forests and bagging ensembles are fitted alike on resamples of
    the data, so each is one draw from one distribution over models, as in
    :func:`predict_log_proba_samples`; a forest's members give the spread of
    its trees, which is not a calibrated Bayesian posterior.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skbatchbald.sampling import predict_samples
    >>> X, y = load_diabetes(return_X_y=True)
    >>> forest = RandomForestRegressor(n_estimators=8, random_state=0).fit(X, y)
    >>> samples = predict_samples(forest, X)
    >>> samples.shape
    (442, 8)
    >>> bool(np.allclose(samples.mean(axis=1), forest.predict(X)))
    True
    """
    if is_dask_array(X):
        budget = check_max_memory(max_memory)
        if not np.isfinite(X.nbytes):  # chunks of unknown size (a filtered array)
            raise ValueError(
                f"X is a dask array of unknown size (shape {X.shape}), and "
                "regression pools are sampled in memory, here within max_memory="
                f"{shown_bytes(budget)}: call X.compute_chunk_sizes() first, or "
                "score a subsample of the pool (the strategies' pool_subsample)."
            )
        if X.nbytes > budget:
            raise ValueError(
                f"X is a dask array of {shown_bytes(X.nbytes)}, and regression "
                "pools are sampled in memory, here within max_memory="
                f"{shown_bytes(budget)}: score a subsample of the pool "
                "(the strategies' pool_subsample) or raise max_memory."
            )
        # a subsample of a larger pool (pool_subsample), or a small pool
        X = np.asarray(X.compute())
    return sample_regressor(
        estimator,
        X,
        n_mc_samples,
        random_state,
        max_memory=max_memory,
        n_jobs=n_jobs,
    )
