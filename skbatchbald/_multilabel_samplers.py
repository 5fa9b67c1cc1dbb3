"""Posterior samples of multi-label models: log p(y_l = 1 | x_n, ω_k), (N, K, L).

The work behind :func:`skbatchbald.sampling.predict_multilabel_log_proba_samples`,
and the test the strategies use to tell a multi-label model from a single-label
one (`is_multilabel`).
"""

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import ClassifierChain, MultiOutputClassifier
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from ._labels import column_of_one, label_probabilities
from ._models import final_model
from ._samplers import (
    _check_n_mc_samples,
    _subsample,
    _unwrap_search,
    ensemble_rows,
    gives_posterior_samples,
    inner_step,
    sample_in_memory,
    sampling_budget,
)
from ._validation import spawn_seeds

__all__ = ["is_multilabel", "sample_multilabel"]

_MULTILABEL_SOURCES = (
    "an MCDropoutMultiLabelClassifier (or any estimator with a "
    "predict_log_proba_samples method and the scikit-learn tag "
    "classifier_tags.multi_label=True); a RandomForestClassifier or "
    "ExtraTreesClassifier fitted on a 0/1 indicator y (each tree is one sample); "
    "a MultiOutputClassifier or a OneVsRestClassifier fitted on an indicator y, "
    "of an estimator that gives posterior samples (e.g. BaggingClassifier("
    "LogisticRegression()): each bagged model is one sample); a modAL Committee of "
    "multi-label learners, or a list of fitted multi-label classifiers (each is "
    "one sample); any of these in a Pipeline, a "
    "fitted search or a modAL learner"
)


def _binary_outputs(classes):
    """Whether a list of per-output classes is a 0/1 indicator's (multi-label)."""
    return all(
        np.asarray(c).dtype.kind in "biuf" and np.isin(np.asarray(c), (0, 1)).all()
        for c in classes
    )


def _declares_multilabel(estimator):
    if not hasattr(estimator, "__sklearn_tags__"):
        return False
    tags = get_tags(estimator).classifier_tags
    return tags is not None and tags.multi_label


def is_multilabel(estimator):
    """Whether an estimator (or the model it wraps) is a multi-label classifier.

    What the strategies ask to choose between
    :func:`predict_log_proba_samples` and
    :func:`predict_multilabel_log_proba_samples`.

    Parameters
    ----------
    estimator : object
        An estimator, or a Pipeline, fitted search, modAL learner or
        Committee around one.

    Returns
    -------
    multilabel : bool
        True for an estimator that samples multi-label outputs itself (a
        ``predict_log_proba_samples`` method and the scikit-learn tag
        ``classifier_tags.multi_label``, as
        :class:`~skbatchbald.MCDropoutMultiLabelClassifier`), fitted or not,
        and for a fitted scikit-learn classifier whose outputs are all 0/1
        labels (a list ``classes_``, as a forest fitted on an indicator y
        has, a ``MultiOutputClassifier``, a ``OneVsRestClassifier`` or an
        ``MLPClassifier`` fitted on an indicator y).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbatchbald.sampling import is_multilabel
    >>> X = np.arange(8.0).reshape(4, 2)
    >>> Y = np.array([[0, 1], [1, 1], [0, 0], [1, 0]])
    >>> is_multilabel(RandomForestClassifier(2, random_state=0).fit(X, Y))
    True
    >>> is_multilabel(RandomForestClassifier(2, random_state=0).fit(X, Y[:, 0]))
    False
    """
    model = final_model(estimator)
    if hasattr(model, "predict_log_proba_samples"):
        return _declares_multilabel(model)
    if isinstance(model, MultiOutputClassifier):
        members = getattr(model, "estimators_", None)
        return members is not None and _binary_outputs([m.classes_ for m in members])
    if isinstance(model, OneVsRestClassifier):
        return bool(hasattr(model, "estimators_") and model.multilabel_)
    if getattr(model, "out_activation_", None) == "logistic":
        # an MLPClassifier: one sigmoid per output, several only for an
        # indicator y (a binary y has one)
        return getattr(model, "n_outputs_", 1) > 1
    classes = getattr(model, "classes_", None)
    return isinstance(classes, list) and _binary_outputs(classes)


def _to_log(probabilities):
    with np.errstate(divide="ignore"):  # probability exactly 0: log 0 = -inf
        return np.log(probabilities).astype(np.float32)


def _forest(estimator, X, n_mc_samples, random_state):
    """Each tree's label probabilities: (N, K, L)."""
    trees = list(estimator.estimators_)
    k = _check_n_mc_samples(
        n_mc_samples, len(trees), f"trees of the {type(estimator).__name__}"
    )
    trees = [
        tree for tree, _ in _subsample([(t, None) for t in trees], k, random_state)
    ]
    # Trees are fitted on encoded outputs: column j is the forest's classes_[l][j].
    X = ensemble_rows(estimator, X)
    samples = [
        label_probabilities(t.predict_proba(X), estimator.classes_) for t in trees
    ]
    return _to_log(np.stack(samples, axis=1))


def _constant_label(member):
    """The label value of a OneVsRestClassifier label seen constant in y, or None."""
    if hasattr(member, "classes_") or not hasattr(member, "y_"):
        return None
    return float(np.ravel(member.y_)[0])


def _per_label(estimator, X, n_mc_samples, random_state, budget):
    """A MultiOutputClassifier or OneVsRestClassifier: each label's own
    posterior samples, (N, K, L).

    Sample k of one label and sample k of another come from separately
    fitted models: only each label's own samples belong together, which is
    all the per-label objectives of the multi-label strategies use.
    """
    kind = type(estimator).__name__
    members = list(estimator.estimators_)
    columns = [None] * len(members)
    shape = None  # (N, K) of the first label sampled
    seeds = spawn_seeds(random_state, len(members))
    for label, (member, seed) in enumerate(zip(members, seeds, strict=True)):
        if _constant_label(member) is not None:
            continue  # filled in below, once K is known
        if not gives_posterior_samples(member):
            raise ValueError(
                f"the {kind}'s estimator of label {label}, a "
                f"{type(final_model(member)).__name__}, gives one predictive "
                "distribution, not posterior samples, and multi-label BALD and "
                "BatchBALD measure how the samples of each label disagree. Give "
                "it an ensemble, each member one sample: e.g. "
                f"{kind}(BaggingClassifier(LogisticRegression(), n_estimators=20)) "
                "or a RandomForestClassifier."
            )
        log_probs = sample_in_memory(member, X, n_mc_samples, seed, **budget)
        one = column_of_one(member.classes_)
        if one is None:
            column = np.full(log_probs.shape[:2], -np.inf, dtype=np.float32)
        else:
            column = log_probs[:, :, one]
        if shape is not None and column.shape != shape:
            raise ValueError(
                f"the estimator of label {label} gives {column.shape[1]} posterior "
                f"samples and that of an earlier label {shape[1]}; give "
                "every label's estimator as many (e.g. the same n_estimators), or "
                "pass n_mc_samples."
            )
        columns[label], shape = column, column.shape
    if shape is None:
        raise ValueError(
            f"every label of the {kind} was constant in its training data (all 0 "
            "or all 1), so no label has posterior samples to score; label points "
            "with both values of some label first (e.g. with RandomQuery)."
        )
    for label, member in enumerate(members):
        if columns[label] is None:  # a label seen constant: p(1) is 0 or 1
            with np.errstate(divide="ignore"):
                value = np.log(_constant_label(member))
            columns[label] = np.full(shape, value, dtype=np.float32)
    return np.stack(columns, axis=2)


def _committee(estimator, X, n_mc_samples, random_state):
    """A modAL Committee of multi-label learners, or a list of fitted
    multi-label classifiers: one sample per learner or model."""
    kind = type(estimator).__name__
    if hasattr(estimator, "learner_list"):
        models = [learner.estimator for learner in estimator.learner_list]
        what = f"learners of the {kind}"
    else:
        models, what = list(estimator), f"models of the {kind}"
    k = _check_n_mc_samples(n_mc_samples, len(models), what)
    members = _subsample([(model, None) for model in models], k, random_state)
    samples = []
    for member, _ in members:
        check_is_fitted(member)
        outputs = member.predict_proba(X)
        samples.append(label_probabilities(outputs, getattr(member, "classes_", None)))
    return _to_log(np.stack(samples, axis=1))


def sample_multilabel(
    estimator, X, n_mc_samples=None, random_state=None, *, max_memory=None, n_jobs=None
):
    """`predict_multilabel_log_proba_samples` for a pool in memory; see there."""
    kind = type(estimator).__name__
    budget = sampling_budget(max_memory, n_jobs)
    inner = inner_step(estimator, X)
    if inner is not None:
        return sample_multilabel(*inner, n_mc_samples, random_state, **budget)
    if hasattr(estimator, "learner_list") or isinstance(estimator, (list, tuple)):
        if not estimator or not is_multilabel(estimator):
            raise ValueError(_single_label_message(kind))
        return _committee(estimator, X, n_mc_samples, random_state)
    if hasattr(estimator, "predict_log_proba_samples"):
        if not _declares_multilabel(estimator):
            raise ValueError(_single_label_message(kind))
        log_probs = np.asarray(
            estimator.predict_log_proba_samples(
                X, n_mc_samples=n_mc_samples, random_state=random_state, **budget
            ),
            dtype=np.float32,
        )
        if log_probs.ndim != 3:
            raise ValueError(
                f"{kind}.predict_log_proba_samples returned shape "
                f"{log_probs.shape}; expected (N, K, L) log-probabilities of "
                "each label being 1."
            )
        return log_probs
    check_is_fitted(estimator)
    best = _unwrap_search(estimator)
    if best is not estimator:
        return sample_multilabel(best, X, n_mc_samples, random_state, **budget)
    if isinstance(estimator, ClassifierChain):
        raise ValueError(
            "a ClassifierChain gives one predictive distribution, not posterior "
            "samples: each label's model reads the chain's predictions of the "
            "labels before it, so its members are not draws from one posterior. "
            f"Sources of multi-label posterior samples: {_MULTILABEL_SOURCES}."
        )
    if not is_multilabel(estimator):
        raise ValueError(_single_label_message(kind))
    if isinstance(estimator, (MultiOutputClassifier, OneVsRestClassifier)):
        return _per_label(estimator, X, n_mc_samples, random_state, budget)
    if isinstance(estimator, (RandomForestClassifier, ExtraTreesClassifier)):
        return _forest(estimator, X, n_mc_samples, random_state)
    raise ValueError(
        f"{kind} gives one predictive distribution per label (predict_proba), not "
        "posterior samples, which multi-label BALD and BatchBALD need. Sources "
        f"of multi-label posterior samples: {_MULTILABEL_SOURCES}."
    )


def _single_label_message(kind):
    return (
        f"this {kind} is not a multi-label classifier (a 0/1 indicator y of shape "
        "(n_samples, n_labels)): sample it with predict_log_proba_samples. "
        f"Sources of multi-label posterior samples: {_MULTILABEL_SOURCES}."
    )
