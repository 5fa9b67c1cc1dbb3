"""How each kind of estimator gives posterior log-probabilities (N, K, C), in memory.

The work behind :func:`skbatchbald.sampling.predict_log_proba_samples` for a pool
in memory; a dask pool is sampled block by block with it by
:mod:`skbatchbald.out_of_core`.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import (
    BaggingClassifier,
    ExtraTreesClassifier,
    RandomForestClassifier,
)
from sklearn.exceptions import NotFittedError
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from ._labels import label_indices, shown_labels
from ._models import final_model
from ._validation import check_n_mc_samples, check_random_state

__all__ = ["check_several_classes", "sample_in_memory"]

_SAMPLE_SOURCES = (
    "an MCDropoutClassifier or any estimator with a predict_log_proba_samples "
    "method; a fitted RandomForestClassifier, ExtraTreesClassifier or "
    "BaggingClassifier (each member is one sample); a list or tuple of fitted "
    "classifiers (a deep ensemble: each is one sample); a modAL Committee (each "
    "learner is one sample); any of these as the last step of a Pipeline, as the "
    "best_estimator_ of a fitted GridSearchCV or RandomizedSearchCV, or as a modAL "
    "learner's estimator"
)
_SUPPORTED = (
    f"{_SAMPLE_SOURCES}; with allow_point_estimate=True also any fitted classifier "
    "with predict_proba (one sample)"
)
# What the sampler can say about targets it does not handle.
_TARGETS = (
    "Supported: a classifier fitted on one label per row (y of shape "
    "(n_samples,), binary or multiclass)"
)
# Ensembles whose members are fitted alike on resamples of the data and averaged
# with equal weights: each member is a draw from one distribution over models.
_SAMPLE_ENSEMBLES = (RandomForestClassifier, ExtraTreesClassifier, BaggingClassifier)


def _no_samples_message(kind, estimator=None):
    inner = getattr(estimator, "estimator", None)
    one_vs_rest = (
        f" A OneVsRestClassifier of a bagging ensemble gives samples for "
        "multi-label targets only (a 0/1 indicator y); for one class per row "
        f"use the {type(inner).__name__} itself, without OneVsRestClassifier."
        if isinstance(estimator, OneVsRestClassifier)
        and isinstance(inner, _SAMPLE_ENSEMBLES)
        else ""
    )
    return (
        f"{kind} gives one predictive distribution (predict_proba), not posterior "
        "samples. BALD, BatchBALD, PowerBALD, Mean STD, EPIG and batch EPIG "
        "measure how posterior samples disagree and would score 0 everywhere with "
        "one; MarginQuery, MaxEntropyQuery and VarRatiosQuery score its "
        f"predict_proba as it is (K = 1).{one_vs_rest} Sources of posterior "
        f"samples: {_SAMPLE_SOURCES}."
    )


def _estimator_type(estimator):
    """scikit-learn's estimator type: "classifier", "regressor", ... or None."""
    if hasattr(estimator, "__sklearn_tags__"):
        return get_tags(estimator).estimator_type
    return getattr(estimator, "_estimator_type", None)  # not a scikit-learn class


def _is_regressor(estimator):
    return _estimator_type(estimator) == "regressor"


def _check_not_regressor(estimator):
    if _is_regressor(estimator):
        raise ValueError(
            f"{type(estimator).__name__} is a regressor, and "
            "predict_log_proba_samples gives the class log-probabilities of a "
            "classifier. For regression use skbatchbald.sampling.predict_samples "
            "(posterior samples of the prediction) and BALDQuery, PowerBALDQuery "
            "or BatchBALDQuery, which accept regressors; for class labels fit a "
            "classifier (e.g. RandomForestClassifier, MCDropoutClassifier)."
        )


def _check_one_output(estimator):
    """ValueError for a classifier fitted on multi-label or multi-output targets."""
    # scikit-learn keeps one classes_ array per output in a list; a multi-label
    # classifier with one classes_ array is caught by its probabilities instead.
    classes = getattr(estimator, "classes_", None)
    if isinstance(classes, list):
        # rows of label names, e.g. [["cat", "dog"], ...]: meant as label sets
        names = any(np.asarray(c).dtype.kind in "OUS" for c in classes)
        hint = (
            " If each row of y lists label names (the labels a row holds), "
            "encode them first: y = MultiLabelBinarizer().fit_transform(rows)."
            if names
            else ""
        )
        raise ValueError(
            f"this {type(estimator).__name__} was fitted on multi-label or "
            "multi-output targets (y of shape (n_samples, n_outputs)), which "
            "predict_log_proba_samples does not sample. Multi-label (0/1 "
            "columns): predict_multilabel_log_proba_samples, and BALDQuery, "
            "PowerBALDQuery or BatchBALDQuery, which use it; multi-output "
            f"targets of more than two classes are not supported.{hint} "
            f"{_TARGETS}."
        )


def _unwrap_search(estimator):
    """The best_estimator_ of a fitted GridSearchCV/RandomizedSearchCV, else itself."""
    best = getattr(estimator, "best_estimator_", None)
    if best is not None:
        return best
    if hasattr(estimator, "cv_results_"):
        raise ValueError(
            f"this {type(estimator).__name__} has no best_estimator_ to sample "
            "(refit=False); fit it with refit=True, or pass the estimator refitted "
            "with the best parameters."
        )
    return estimator


def _point_estimate(estimator, X, n_mc_samples):
    """A classifier's predict_proba as one sample: log-probabilities (N, 1, C)."""
    kind = type(estimator).__name__
    if n_mc_samples is not None and check_n_mc_samples(n_mc_samples) > 1:
        raise ValueError(
            f"n_mc_samples={n_mc_samples} asks for posterior samples, but {kind} "
            "gives one predictive distribution (K = 1); pass n_mc_samples=None "
            "(or 1)."
        )
    proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    classes = getattr(estimator, "classes_", None)
    n_classes = None if classes is None else len(classes)
    if proba.ndim != 2 or (n_classes is not None and proba.shape[1] != n_classes):
        raise ValueError(
            f"{kind}.predict_proba returned shape {proba.shape}; expected "
            f"(n_samples, n_classes). {_TARGETS}."
        )
    sums = proba.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-4):
        worst = sums[np.argmax(np.abs(sums - 1.0))]
        raise ValueError(
            f"the rows of {kind}.predict_proba do not sum to 1 (one sums to "
            f"{worst:.4g}): they must be the class probabilities of one label per "
            "row. A multi-label classifier (one probability per label) is "
            "sampled by predict_multilabel_log_proba_samples; a network whose "
            "predict_proba gives logits or "
            "log-probabilities needs the criterion that matches its output "
            "(CrossEntropyLoss for logits) or a predict_nonlinearity. "
            f"{_TARGETS}."
        )
    with np.errstate(divide="ignore"):  # probability exactly 0: log 0 = -inf
        return np.log(proba)[:, None, :].astype(np.float32)  # (N, 1, C)


class _PointEstimateAllowed:
    """An estimator sampled with ``allow_point_estimate=True``, for Dask blocks.

    Dask samples each block through ``predict_log_proba_samples``; this carries
    the setting there. Module-level, so it pickles.
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def predict_log_proba_samples(self, X, n_mc_samples=None, random_state=None, **kw):
        return sample_in_memory(
            self.estimator,
            X,
            n_mc_samples,
            random_state,
            allow_point_estimate=True,
            **kw,
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
                f"a member knows classes {shown_labels(member_classes)} that are "
                f"not in the ensemble's classes_={shown_labels(classes)}."
            )
    columns = member_classes.astype(np.int64)
    if not np.all(
        (columns == member_classes) & (columns >= 0) & (columns < len(classes))
    ):
        raise ValueError(
            f"a member's classes {shown_labels(member_classes)} are neither labels in "
            f"classes_={shown_labels(classes)} nor class indices 0..{len(classes) - 1}."
        )
    return columns


def _stack_members(members, classes, X, encoded):
    """Log of each member's predict_proba, mapped onto ``classes``: (N, K, C).

    ``members`` holds (estimator, feature indices or None) pairs: bagging trains
    each member on a subset of the columns.
    """
    probas = []
    for member, features in members:
        X_member = member_columns(X, features)
        proba = np.asarray(member.predict_proba(X_member), dtype=np.float64)
        full = np.zeros((proba.shape[0], len(classes)))  # (N, C)
        full[:, _member_columns(member.classes_, classes, encoded)] = proba
        probas.append(full)
    with np.errstate(divide="ignore"):  # a class a member never saw: log 0 = -inf
        return np.log(np.stack(probas, axis=1)).astype(np.float32)  # (N, K, C)


def _list_classes(models, kind):
    """The union of the classes of a list of fitted classifiers, after checks.

    Each model is one posterior sample, as each learner of a modAL Committee
    is; a class some model never saw gets probability 0 in its sample.
    """
    if not models:
        raise ValueError(f"the {kind} holds no model to sample.")
    for position, model in enumerate(models):
        _check_not_regressor(model)
        if not hasattr(model, "predict_proba"):
            raise TypeError(
                f"model {position} of the {kind} is a {type(model).__name__}, "
                "which has no predict_proba: each model of an ensemble given as a "
                "list must be a fitted classifier with predict_proba (e.g. "
                "LogisticRegression, CalibratedClassifierCV(SVC()), an "
                "MCDropoutClassifier)."
            )
        check_is_fitted(model)
        _check_one_output(final_model(model))
    known = [np.asarray(model.classes_) for model in models]
    numeric = {c.dtype.kind in "biuf" for c in known}
    if len(numeric) > 1:  # 1 and "1" would be taken for one class
        examples = "; ".join(str(c.tolist()[:3]) for c in known)
        raise ValueError(
            f"the models of the {kind} were fitted on labels of different types, "
            f"numbers and strings ({examples}); fit every model on the same "
            "labels."
        )
    return np.unique(np.concatenate(known))


def _subsample(members, n_mc_samples, random_state):
    rng = check_random_state(random_state)  # validated even when all are kept
    if n_mc_samples == len(members):
        return list(members)
    picked = rng.choice(len(members), n_mc_samples, replace=False)
    return [members[i] for i in np.sort(picked)]


def ensemble_rows(estimator, X):
    """X for an ensemble's members: a DataFrame checked against its feature names.

    The members of a forest or bagging ensemble were fitted on arrays (the
    ensemble strips the names), so they cannot check a pool's columns, and each
    would warn that X has feature names. The ensemble's ``feature_names_in_``
    is checked once here, as its own predict would, then the values go on.
    """
    if not hasattr(X, "columns"):
        return X
    fitted = getattr(estimator, "feature_names_in_", None)
    columns = np.asarray(X.columns, dtype=object)
    if fitted is not None and not np.array_equal(columns, fitted):
        kind = type(estimator).__name__
        missing = [name for name in fitted if name not in set(columns)]
        extra = [name for name in columns if name not in set(fitted)]
        what = (
            f"missing {missing[:5]}, unexpected {extra[:5]}"
            if missing or extra
            else "the same names in another order"
        )
        raise ValueError(
            f"the pool's columns differ from those the {kind} was fitted on "
            f"({what}). Pass the pool with the fitted columns in their order: "
            "X_pool[model.feature_names_in_]."
        )
    return _nullable_as_float(X).to_numpy()


def _nullable_as_float(X):
    """``X`` with pandas' nullable numbers and booleans as floats, pd.NA as NaN.

    An ensemble's own predict converts them (scikit-learn's validation does),
    but ``to_numpy`` of a frame holding ``Float64``, ``Int64`` or ``boolean``
    columns with ``pd.NA`` gives objects the members cannot read.
    """
    import pandas as pd  # X is a DataFrame here, so pandas is installed

    nullable = [
        name
        for name, dtype in X.dtypes.items()
        if isinstance(dtype, pd.api.extensions.ExtensionDtype)
        and (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))
    ]
    return X.astype(dict.fromkeys(nullable, "float64")) if nullable else X


def member_columns(X, features):
    """The columns a bagged member was fitted on (all for None); sparse stays sparse."""
    if features is None:
        return X
    return (X.tocsr() if sp.issparse(X) else np.asarray(X))[:, features]


def gives_posterior_samples(estimator):
    """Whether a classifier (inside its wrappers) has posterior samples to draw."""
    if isinstance(estimator, (list, tuple)) or hasattr(estimator, "learner_list"):
        return True  # an ensemble: each member is one sample
    model = final_model(estimator)
    return hasattr(model, "predict_log_proba_samples") or isinstance(
        model, _SAMPLE_ENSEMBLES
    )


def sampling_budget(max_memory, n_jobs):
    """The keywords given a value, so that estimators without them still work."""
    return {
        key: value
        for key, value in (("max_memory", max_memory), ("n_jobs", n_jobs))
        if value is not None
    }


def inner_step(estimator, X):
    """``(model, X)`` to sample in place of a wrapper, or None for a model.

    A Pipeline is sampled through its last step, on X transformed by the
    others; a modAL learner through its estimator; a TransformedTargetRegressor
    through its fitted regressor, in the transformed target space (the mutual
    information of a label is unchanged by an invertible map of it, and that
    space is where the regressor's Gaussian noise was fitted).
    """
    if isinstance(estimator, Pipeline):
        return estimator[-1], estimator[:-1].transform(X) if len(estimator) > 1 else X
    if isinstance(estimator, TransformedTargetRegressor):
        check_is_fitted(estimator, "regressor_")
        return estimator.regressor_, X
    if hasattr(estimator, "estimator") and hasattr(estimator, "query_strategy"):
        return estimator.estimator, X
    return None


def check_several_classes(estimator, log_probs):
    """ValueError for samples (N, K, 1) of a model fitted on one class only.

    Every sample then gives that class probability 1, so every uncertainty
    score is 0 and a strategy's picks would mean nothing. Asked by
    `predict_log_proba_samples` of what it returns, not by `sample_in_memory`:
    a multi-label sampler samples a label seen constant as one class.
    """
    if log_probs.ndim != 3 or log_probs.shape[2] != 1:
        return
    model = final_model(estimator)
    if isinstance(estimator, (list, tuple)):
        name = f"models of the {type(estimator).__name__} were"
    elif hasattr(estimator, "learner_list"):
        name, model = f"{type(estimator).__name__}'s learners were", estimator
    else:
        name = f"{type(model).__name__} was"
    classes = getattr(model, "classes_", None)
    which = ""
    if classes is not None and np.size(classes) == 1:
        which = f" (class {np.ravel(classes).tolist()[0]!r})"
    raise ValueError(
        f"the {name} fitted on one class only{which}, so it gives that class "
        "probability 1 everywhere and there is no uncertainty to rank the pool "
        "by. Label at least one example of another class and teach it; until "
        "the labelled set holds two classes, pick batches with a strategy that "
        "needs no model, skbatchbald.RandomQuery() or "
        "skbatchbald.TypiClustQuery() (user guide: Cold start and rare classes)."
    )


def sample_in_memory(
    estimator,
    X,
    n_mc_samples=None,
    random_state=None,
    *,
    max_memory=None,
    n_jobs=None,
    allow_point_estimate=False,
):
    """`predict_log_proba_samples` for a pool in memory; see there."""
    kind = type(estimator).__name__
    # A fitted regressor would otherwise look unfitted (it has no classes_).
    _check_not_regressor(estimator)
    budget = sampling_budget(max_memory, n_jobs)
    if allow_point_estimate:
        budget["allow_point_estimate"] = True
    inner = inner_step(estimator, X)
    if inner is not None:
        return sample_in_memory(*inner, n_mc_samples, random_state, **budget)
    if hasattr(estimator, "learner_list"):  # modAL Committee
        learners = list(estimator.learner_list)
        for learner in learners:
            _check_not_regressor(learner.estimator)  # a modAL CommitteeRegressor
        classes = getattr(estimator, "classes_", None)
        if classes is None:
            raise NotFittedError(
                f"this {kind} has no classes_ yet; teach or fit its learners first."
            )
        k = _check_n_mc_samples(n_mc_samples, len(learners), f"learners of the {kind}")
        members = [(learner.estimator, None) for learner in learners]
        members = _subsample(members, k, random_state)
        return _stack_members(members, np.asarray(classes), X, encoded=False)
    if isinstance(estimator, (list, tuple)):  # an ensemble of fitted classifiers
        models = list(estimator)
        classes = _list_classes(models, kind)
        k = _check_n_mc_samples(n_mc_samples, len(models), f"models of the {kind}")
        members = _subsample([(model, None) for model in models], k, random_state)
        return _stack_members(members, classes, X, encoded=False)
    if hasattr(estimator, "predict_log_proba_samples"):
        budget.pop("allow_point_estimate", None)  # it gives samples
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
    classifier = _estimator_type(estimator) == "classifier"
    if hasattr(estimator, "fit") and (
        classifier or hasattr(estimator, "predict_proba")
    ):
        check_is_fitted(estimator)  # NotFittedError before anything is predicted
    search_best = _unwrap_search(estimator)
    if search_best is not estimator:
        return sample_in_memory(search_best, X, n_mc_samples, random_state, **budget)
    _check_one_output(estimator)
    if isinstance(estimator, _SAMPLE_ENSEMBLES):
        members = list(estimator.estimators_)
        if not all(hasattr(m, "predict_proba") for m in members):
            if allow_point_estimate:
                # bagging's own predict_proba: the fraction of members voting
                check_random_state(random_state)  # validated although unused
                return _point_estimate(estimator, X, n_mc_samples)
            raise TypeError(
                f"the members of this {kind} have no predict_proba, so they are not "
                "posterior samples of a classifier; build it from members with "
                "predict_proba (e.g. CalibratedClassifierCV(SVC()), or "
                "SGDClassifier(loss='log_loss'))."
            )
        features = getattr(estimator, "estimators_features_", [None] * len(members))
        k = _check_n_mc_samples(n_mc_samples, len(members), f"members of the {kind}")
        members = _subsample(list(zip(members, features, strict=True)), k, random_state)
        # scikit-learn's forests and bagging train members on encoded targets.
        X = ensemble_rows(estimator, X)
        return _stack_members(members, np.asarray(estimator.classes_), X, encoded=True)
    if hasattr(estimator, "predict_proba"):
        if allow_point_estimate:
            check_random_state(random_state)  # validated although unused
            return _point_estimate(estimator, X, n_mc_samples)
        raise ValueError(_no_samples_message(kind, estimator))
    if hasattr(estimator, "classes_"):
        raise ValueError(
            f"{kind} has no predict_proba (e.g. SVC(), LinearSVC(), "
            "SGDClassifier() with its default hinge loss, "
            "VotingClassifier(voting='hard')), so it gives neither posterior samples "
            "nor class probabilities. Use an estimator with predict_proba "
            "(CalibratedClassifierCV(SVC()), SGDClassifier(loss='log_loss'), "
            f"voting='soft'), or one of: {_SAMPLE_SOURCES}."
        )
    raise TypeError(
        f"cannot draw posterior samples from {kind}. Supported: {_SUPPORTED}."
    )
