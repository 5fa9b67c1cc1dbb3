"""How each kind of regressor gives posterior samples of its prediction (N, K).

The work behind :func:`skbatchbald.sampling.predict_samples`, the regression
counterpart of :mod:`skbatchbald._samplers`: the same wrappers (Pipeline,
search, modAL learner, Committee) are unwrapped the same way.
"""

import warnings

import numpy as np
from scipy.linalg import solve_triangular
from sklearn.ensemble import (
    BaggingRegressor,
    ExtraTreesRegressor,
    RandomForestRegressor,
)
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.utils.validation import check_array, check_is_fitted

from ._memory import check_max_memory, shown_bytes
from ._models import final_model, inner_model, wrapper_chain
from ._samplers import (
    _check_n_mc_samples,
    _estimator_type,
    _subsample,
    _unwrap_search,
    ensemble_rows,
    inner_step,
    member_columns,
    sampling_budget,
)
from ._validation import check_n_mc_samples, check_random_state

__all__ = [
    "gaussian_process_covariance",
    "is_gaussian_process",
    "is_regression_model",
    "model_noise_variance",
    "sample_regressor",
]

_REGRESSION_SOURCES = (
    "an MCDropoutRegressor or any estimator with a predict_samples method; a "
    "fitted RandomForestRegressor, ExtraTreesRegressor or BaggingRegressor "
    "(each member is one sample); a list or tuple of fitted regressors (a deep "
    "ensemble: each is one sample); a modAL CommitteeRegressor (each learner is "
    "one sample); a GaussianProcessRegressor (joint draws of its posterior); "
    "any of these as the last step of a Pipeline, as the "
    "best_estimator_ of a fitted search, as a modAL learner's estimator or "
    "inside a TransformedTargetRegressor"
)
_SAMPLE_ENSEMBLES = (RandomForestRegressor, ExtraTreesRegressor, BaggingRegressor)


def is_regression_model(estimator):
    """Whether ``estimator`` (or the model inside its wrappers) is a regressor.

    Parameters
    ----------
    estimator : object
        A model, or a Pipeline, search, modAL learner or Committee around one,
        or a list of models.

    Returns
    -------
    regression : bool
        True for a scikit-learn regressor (``estimator_type == "regressor"``)
        or an estimator with a ``predict_samples`` method.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbatchbald.sampling import is_regression_model
    >>> is_regression_model(make_pipeline(StandardScaler(), RandomForestRegressor()))
    True
    """
    model = final_model(estimator)
    return hasattr(model, "predict_samples") or _estimator_type(model) == "regressor"


def model_noise_variance(estimator):
    """The noise variance the model estimates, or None if it gives none.

    Parameters
    ----------
    estimator : object
        As for :func:`is_regression_model`.

    Returns
    -------
    noise_variance : float or None
        The fitted ``noise_variance_`` of the model inside the wrappers (an
        :class:`~skbatchbald.MCDropoutRegressor` has one); for a fitted
        :class:`~sklearn.gaussian_process.GaussianProcessRegressor`, its
        observation noise (``alpha``, its mean if an array, plus the kernel's
        white noise, in the units of y); for a list, tuple or modAL Committee
        of models, the mean of its members' noise variances if every member
        gives one, else None (the order of the members does not matter);
        else None.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestRegressor
    >>> from skbatchbald.sampling import model_noise_variance
    >>> model_noise_variance(RandomForestRegressor()) is None
    True
    """
    model = estimator
    for _ in range(20):  # wrappers nest a few levels at most
        members = _ensemble_members(model)
        if members is not None:
            # each member is one sample with its own noise: the mean goes on
            # the covariance's diagonal; a member without one leaves it unknown
            noises = [model_noise_variance(member) for member in members]
            if not noises or any(noise is None for noise in noises):
                return None
            return float(np.mean(noises))
        inner = inner_model(model)
        if inner is None:
            break
        model = inner
    if isinstance(model, GaussianProcessRegressor) and hasattr(model, "L_"):
        return _gp_noise_variance(model)
    value = getattr(model, "noise_variance_", None)
    return None if value is None else float(value)


# Multi-output regression: what a user can do instead.
_ONE_TARGET = (
    "Regression acquisition scores one target per row (multi-output regression "
    "is not supported): run one learner per target, each fitted on its own "
    "column y[:, j], or fit on the one target whose labels matter most."
)


def _ensemble_members(estimator):
    """The models of a list, tuple or modAL Committee (each one sample), or None."""
    if hasattr(estimator, "learner_list"):
        return [learner.estimator for learner in estimator.learner_list]
    if isinstance(estimator, (list, tuple)):
        return list(estimator)
    return None


def _refuse_classifier(estimator):
    if _estimator_type(estimator) == "classifier" or hasattr(
        estimator, "predict_log_proba_samples"
    ):
        raise ValueError(
            f"{type(estimator).__name__} is a classifier, and regression sampling "
            "needs a regressor (posterior samples of a number per row). For class "
            "labels use skbatchbald.sampling.predict_log_proba_samples and the "
            "classification strategies; for regression use one of: "
            f"{_REGRESSION_SOURCES}."
        )


def _member_predictions(members, X):
    """(N, K) float64: each member's prediction on X (its own columns for bagging)."""
    columns = []
    for member, features in members:
        X_member = member_columns(X, features)
        prediction = np.asarray(member.predict(X_member), dtype=np.float64)
        if prediction.ndim == 2 and prediction.shape[1] == 1:
            prediction = prediction[:, 0]
        if prediction.ndim != 1:
            raise ValueError(
                f"a {type(member).__name__} predicts shape {prediction.shape}: "
                f"it was fitted on {prediction.shape[-1]} targets (a y of "
                f"{prediction.shape[-1]} columns). {_ONE_TARGET}"
            )
        columns.append(prediction)
    return np.stack(columns, axis=1)


def _check_samples(samples, kind):
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2:
        raise ValueError(
            f"{kind}.predict_samples returned shape {samples.shape}; expected "
            "(n_samples, n_mc_samples)."
        )
    return samples


# Joint posterior draws of a Gaussian process: K when not asked for a number.
_GP_SAMPLES = 100


def _gp_white(gp, X):
    """The kernel's white noise at X, in the GP's normalised units.

    k(x, x) minus k(x, x') at x' = x: a WhiteKernel adds its noise only when
    called without a second argument, as the fitted kernel scores the
    training targets.
    """
    rows = X[:64]
    return float(np.mean(gp.kernel_.diag(rows) - np.diag(gp.kernel_(rows, rows))))


# Rows of the N x N covariance filled per block: the kernel's own temporaries
# (distances, a sum kernel's terms) are a few such blocks, not a few N x N.
_LATENT_ROWS = 512


def _gp_latent(gp, X):
    """Posterior covariance of the latent function at X, normalised units.

    k(X, X') - V'V with V = L^-1 k(X_train, X), filled block of rows by block
    of rows: beyond the N x N result and V, O(rows N) temporaries.
    """
    V = solve_triangular(gp.L_, gp.kernel_(gp.X_train_, X), lower=True)
    n = V.shape[1]
    cov = np.empty((n, n))
    for start in range(0, n, _LATENT_ROWS):
        rows = slice(start, min(start + _LATENT_ROWS, n))
        # with a second argument: no white noise
        np.subtract(gp.kernel_(X[rows], X), V[:, rows].T @ V, out=cov[rows])
    return cov


def _gp_scale(gp, X, X_predict, latent_diag, white):
    """Variance of y per unit of the GP's normalised targets (1 without
    normalize_y), from public outputs only: predict's standard deviation is
    the scale times the normalised predictive variance, latent plus white.
    ``X_predict``: the rows of X as predict takes them (a DataFrame's)."""
    _, std = gp.predict(X_predict, return_std=True)
    normalised = float(np.sum(latent_diag + white))
    return float(np.sum(std**2)) / normalised if normalised > 0 else 1.0


def _check_single_target(gp):
    check_is_fitted(gp, "L_")
    if np.ndim(gp.y_train_) == 2 and gp.y_train_.shape[1] > 1:
        raise ValueError(
            "this GaussianProcessRegressor was fitted on "
            f"{gp.y_train_.shape[1]} targets (a y of several columns). {_ONE_TARGET}"
        )


def _gp_noise_variance(gp):
    """Observation noise of a fitted GP in units of y: alpha (its mean over the
    training points, if an array) and white noise."""
    _check_single_target(gp)
    rows = gp.X_train_[:64]
    white = _gp_white(gp, rows)
    with warnings.catch_warnings():
        # X_train_ is an array even when the GP was fitted on a DataFrame: its
        # own training rows, not a pool whose columns need checking
        warnings.filterwarnings(
            "ignore",
            message="X does not have valid feature names",
            category=UserWarning,
        )
        scale = _gp_scale(gp, rows, rows, np.diag(_gp_latent(gp, rows)), white)
    return scale * (white + float(np.mean(gp.alpha)))


def _psd_factor(cov):
    """F with F F' = cov up to rounding, for a covariance that may be singular:
    Cholesky with a growing jitter, else an eigendecomposition."""
    size = float(np.mean(np.diag(cov))) or 1.0
    for jitter in (0.0, 1e-12, 1e-10, 1e-8):
        try:
            return np.linalg.cholesky(cov + jitter * size * np.eye(len(cov)))
        except np.linalg.LinAlgError:
            continue
    values, vectors = np.linalg.eigh(cov)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def _gp_kernel_rows(gp, X):
    """X as the fitted kernel takes it: a list or DataFrame pool as an array.

    predict takes the pool as given, so that a GP fitted on a DataFrame checks
    its columns instead of warning of none.
    """
    if gp.kernel_.requires_vector_input:
        return check_array(X, dtype="numeric")
    return X


def _gp_variances(gp, X_kernel, budget):
    """Posterior variances of the latent function at X, normalised units, (N,).

    Row block by row block: a block's k(X_train, X_block) and its solve take
    8 n_train rows bytes each.
    """
    n = len(X_kernel)
    n_train = len(gp.X_train_)
    rows = max(1, min(n, budget // (2 * 8 * max(n_train, 1))))
    white = _gp_white(gp, X_kernel)
    variance = np.empty(n)
    for start in range(0, n, rows):
        block = X_kernel[start : start + rows]
        V = solve_triangular(gp.L_, gp.kernel_(gp.X_train_, block), lower=True)
        variance[start : start + rows] = (
            gp.kernel_.diag(block) - white - np.einsum("tn,tn->n", V, V)
        )
    return variance, white


def _gaussian_process_inside(estimator):
    """The GaussianProcessRegressor that predicts for ``estimator``, or None.

    Through a modAL learner, Pipeline, TransformedTargetRegressor or fitted
    search, not through a list or Committee (each member is one sample).
    """
    for model in wrapper_chain(estimator):
        if isinstance(model, GaussianProcessRegressor):
            return model
        if isinstance(model, (list, tuple)) or hasattr(model, "learner_list"):
            return None
    return None


def is_gaussian_process(estimator):
    """Whether ``estimator`` predicts with one Gaussian process regressor.

    Parameters
    ----------
    estimator : object
        A model, or a modAL learner, Pipeline, TransformedTargetRegressor or
        search around one.

    Returns
    -------
    gaussian_process : bool
        True when the model inside is a
        :class:`~sklearn.gaussian_process.GaussianProcessRegressor` (fitted or
        not); False for a list or Committee of them (each member is one
        posterior sample) and for any other model.

    See Also
    --------
    gaussian_process_covariance : Its exact posterior covariance.

    Examples
    --------
    >>> from sklearn.gaussian_process import GaussianProcessRegressor
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skbatchbald.sampling import is_gaussian_process
    >>> is_gaussian_process(make_pipeline(StandardScaler(), GaussianProcessRegressor()))
    True
    """
    return _gaussian_process_inside(estimator) is not None


def _gaussian_process_step(estimator, X):
    """``(gp, X)``: the GP inside the wrappers and the pool as it sees it."""
    holds_gp = _gaussian_process_inside(estimator) is not None
    for _ in range(20):
        inner = inner_step(estimator, X)
        if inner is not None:
            estimator, X = inner
            continue
        best = _unwrap_search(estimator)
        if best is estimator:
            break
        estimator = best
    if not isinstance(estimator, GaussianProcessRegressor):
        if holds_gp:
            check_is_fitted(estimator)  # an unfitted search: NotFittedError
        raise TypeError(
            f"{type(estimator).__name__} is not a GaussianProcessRegressor (nor "
            "a Pipeline, TransformedTargetRegressor, fitted search or modAL "
            "learner around one): its posterior covariance is not known. Draw "
            "posterior samples with predict_samples instead."
        )
    return estimator, X


def gaussian_process_covariance(estimator, X, *, diagonal=False, max_memory=None):
    """Exact posterior covariance of a Gaussian process's latent function at X.

    What :class:`~skbatchbald.BALDQuery`, :class:`~skbatchbald.PowerBALDQuery`
    and :class:`~skbatchbald.BatchBALDQuery` score a Gaussian process by,
    with :func:`~skbatchbald.acquisition.bald_gaussian` and
    :func:`~skbatchbald.acquisition.batchbald_gaussian`: no posterior samples
    are drawn.

    Parameters
    ----------
    estimator : object
        A fitted :class:`~sklearn.gaussian_process.GaussianProcessRegressor`
        of one target, or a modAL learner, Pipeline (X is transformed by all
        steps but the last), TransformedTargetRegressor or fitted search
        around one.
    X : array-like of shape (n_pool, n_features)
        The pool, as the estimator takes it.
    diagonal : bool, default=False
        Return the variances only, shape (n_pool,): O(n_pool) memory, for
        BALD on pools of any size.
    max_memory : None, int or str, default=None
        Memory budget, as in :func:`predict_samples`: bounds the row blocks of
        ``diagonal=True``; the full covariance must fit in it.

    Returns
    -------
    covariance : ndarray of shape (n_pool, n_pool), or (n_pool,) with diagonal
        ``k(X, X') - k(X, X_train) (K + σ² I)^-1 k(X_train, X')``: the
        covariance of the latent function, without the kernel's white noise
        (which belongs to the labels, see
        :func:`~skbatchbald.sampling.model_noise_variance`), in the units of
        y squared (``normalize_y`` undone); inside a TransformedTargetRegressor,
        in those of the transformed target.

    Raises
    ------
    TypeError
        If no GaussianProcessRegressor is inside ``estimator``.
    ValueError
        If the GP was fitted on several targets, or the full covariance
        exceeds ``max_memory``.
    sklearn.exceptions.NotFittedError
        If the GP is not fitted.

    See Also
    --------
    is_gaussian_process : Whether an estimator has such a covariance.
    predict_samples : Joint draws from this covariance.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.gaussian_process import GaussianProcessRegressor
    >>> from skbatchbald.sampling import gaussian_process_covariance
    >>> X = np.linspace(0, 1, 5)[:, None]
    >>> gp = GaussianProcessRegressor(alpha=0.1).fit(X[::2], [0.0, 1.0, 0.0])
    >>> cov = gaussian_process_covariance(gp, X)
    >>> std = gp.predict(X, return_std=True)[1]
    >>> cov.shape, bool(np.allclose(np.diag(cov), std**2))
    ((5, 5), True)
    """
    gp, X = _gaussian_process_step(estimator, X)
    _check_single_target(gp)
    X_kernel = _gp_kernel_rows(gp, X)
    budget = check_max_memory(max_memory)
    n = len(X_kernel)
    if diagonal:
        variance, white = _gp_variances(gp, X_kernel, budget)
        variance *= _gp_scale(gp, X_kernel[:64], X[:64], variance[:64], white)
        return variance
    # the result, V and k(X_train, X), and the kernel's temporaries on a
    # block of rows (a Matern kernel's exceeded four blocks)
    needed = 8 * (n * n + 2 * n * len(gp.X_train_) + 8 * _LATENT_ROWS * n)
    if needed > budget:
        raise ValueError(
            f"the posterior covariance of a Gaussian process over {n} pool "
            f"points needs {shown_bytes(needed)}, over max_memory="
            f"{shown_bytes(budget)}; score a random subset (the "
            "strategy's pool_subsample), raise max_memory, or use BALD "
            "(variances only, any pool size)."
        )
    return _latent_in_y_units(gp, X, X_kernel)


def _latent_in_y_units(gp, X, X_kernel):
    """The latent posterior covariance at X, N x N, ``normalize_y`` undone."""
    cov = _gp_latent(gp, X_kernel)
    white = _gp_white(gp, X_kernel)
    cov *= _gp_scale(gp, X_kernel[:64], X[:64], np.diag(cov)[:64], white)
    return cov


def _gaussian_process(gp, X, n_mc_samples, random_state, max_memory):
    """K joint draws of a GP's latent function over the pool, (N, K).

    The latent function, not the noisy targets: its posterior covariance
    k(X, X') - V'V with V = L^-1 k(X_train, X), white noise left out, in the
    units of y. The pool is drawn jointly, from its N x N covariance.
    """
    _check_single_target(gp)
    X_kernel = _gp_kernel_rows(gp, X)
    k = _GP_SAMPLES if n_mc_samples is None else check_n_mc_samples(n_mc_samples)
    rng = check_random_state(random_state)
    n = len(X_kernel)
    needed = 3 * 8 * n * n
    budget = check_max_memory(max_memory)
    if needed > budget:
        raise ValueError(
            f"drawing a Gaussian process jointly over {n} pool points needs "
            f"{shown_bytes(needed)} (its {n} x {n} covariance and Cholesky "
            f"factor), over max_memory={shown_bytes(budget)}; score a random "
            "subset (the strategy's pool_subsample) or raise max_memory."
        )
    mean = np.asarray(gp.predict(X), dtype=np.float64).reshape(n)
    cov = _latent_in_y_units(gp, X, X_kernel)
    factor = _psd_factor(cov)
    del cov
    return mean[:, None] + factor @ rng.standard_normal((factor.shape[1], k))


def sample_regressor(
    estimator, X, n_mc_samples=None, random_state=None, *, max_memory=None, n_jobs=None
):
    """`predict_samples` for a pool in memory; see there."""
    kind = type(estimator).__name__
    budget = sampling_budget(max_memory, n_jobs)
    inner = inner_step(estimator, X)
    if inner is not None:
        return sample_regressor(*inner, n_mc_samples, random_state, **budget)
    if hasattr(estimator, "learner_list") or isinstance(estimator, (list, tuple)):
        committee = hasattr(estimator, "learner_list")
        models = (
            [learner.estimator for learner in estimator.learner_list]
            if committee
            else list(estimator)
        )
        what = f"learners of the {kind}" if committee else f"models of the {kind}"
        if not models:
            raise ValueError(f"the {kind} holds no model to sample.")
        for model in models:
            _refuse_classifier(model)
            check_is_fitted(model)
        k = _check_n_mc_samples(n_mc_samples, len(models), what)
        members = _subsample([(m, None) for m in models], k, random_state)
        return _member_predictions(members, X)
    if hasattr(estimator, "predict_samples"):
        samples = estimator.predict_samples(
            X, n_mc_samples=n_mc_samples, random_state=random_state, **budget
        )
        return _check_samples(samples, kind)
    _refuse_classifier(estimator)
    search_best = _unwrap_search(estimator)
    if search_best is not estimator:
        return sample_regressor(search_best, X, n_mc_samples, random_state, **budget)
    if hasattr(estimator, "fit"):
        check_is_fitted(estimator)
    if isinstance(estimator, GaussianProcessRegressor):
        return _gaussian_process(
            estimator, X, n_mc_samples, random_state, budget.get("max_memory")
        )
    if isinstance(estimator, _SAMPLE_ENSEMBLES):
        members = list(estimator.estimators_)
        features = getattr(estimator, "estimators_features_", [None] * len(members))
        k = _check_n_mc_samples(n_mc_samples, len(members), f"members of the {kind}")
        members = _subsample(list(zip(members, features, strict=True)), k, random_state)
        return _member_predictions(members, ensemble_rows(estimator, X))
    check_random_state(random_state)
    if _estimator_type(estimator) == "regressor":
        raise ValueError(
            f"{kind} gives one prediction per row, not posterior samples, and "
            "regression BALD and BatchBALD measure how posterior samples disagree "
            f"(0 everywhere with one). Sources of posterior samples: "
            f"{_REGRESSION_SOURCES}."
        )
    raise TypeError(
        f"cannot draw posterior samples of a regression from {kind}. Supported: "
        f"{_REGRESSION_SOURCES}."
    )
