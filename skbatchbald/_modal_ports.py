"""modAL and Keras idioms that do not carry over to ActiveLearner, refused clearly.

Code ported from modAL's deep examples (``DeepActiveLearner``, ``mc_dropout_bald``)
or from Keras passes arguments that would otherwise fail deep inside skorch or the
module, or train the wrong model without a word. Each check names what to use.
"""

import functools
import numbers
import re
import sys
import warnings

import numpy as np
from sklearn.multioutput import ClassifierChain, MultiOutputClassifier
from sklearn.utils import get_tags

from ._labels import ONE_HOT_FIX, is_one_hot
from ._models import final_model, is_skorch_net
from ._validation import count_rows
from ._warnings import SkbatchbaldWarning, user_stacklevel

__all__ = [
    "check_fit_kwargs",
    "check_modal_strategy_target",
    "check_not_modal_dropout",
    "check_only_new",
    "check_targets",
    "warn_label_slips",
    "warn_one_hot",
]


def _step_prefix(estimator):
    """``"name__"`` per Pipeline level down to the final step ("" for none)."""
    steps = getattr(estimator, "steps", None)
    return f"{steps[-1][0]}__{_step_prefix(steps[-1][1])}" if steps else ""


def _skorch_net(estimator):
    """The skorch net inside ``estimator``, or None."""
    return final_model(estimator) if is_skorch_net(estimator) else None


# Keras fit() arguments (modAL's Keras examples pass them to teach) and the skorch
# parameter that sets each. Keras' ``epochs`` is not here: skorch's fit() takes
# it too (it overrides max_epochs for that fit).
_KERAS_FIT_ARGUMENTS = {
    "batch_size": "batch_size=...",
    "verbose": "verbose=...",
    "callbacks": "callbacks=[...]",
    "shuffle": "iterator_train__shuffle=True",
    "validation_split": "train_split=skorch.dataset.ValidSplit(...)",
    "validation_data": "train_split=skorch.helper.predefined_split(...)",
}


def check_fit_kwargs(estimator, fit_kwargs):
    """TypeError for Keras fit() arguments meant for a skorch net.

    A skorch net's ``fit`` takes ``epochs`` itself and hands every other
    keyword argument to the module's ``forward``, which fails there, far from
    the call that passed them. A bare ``epochs`` for a net in a Pipeline gets
    the step's prefix named.
    """
    net = _skorch_net(estimator)
    if net is None:
        return
    name = type(net).__name__
    prefix = _step_prefix(estimator)
    if prefix and "epochs" in fit_kwargs:
        # Pipeline.fit takes step parameters by name only; refused here, before
        # teach adds the rows, not by the Pipeline after.
        raise TypeError(
            f"epochs is a parameter of the {name}'s fit(), and in a Pipeline "
            f"fit() parameters take the step's name as prefix: pass "
            f"{prefix}epochs={fit_kwargs['epochs']!r}."
        )
    keras = [key for key in fit_kwargs if key in _KERAS_FIT_ARGUMENTS]
    if not keras:
        return
    fixes = ", ".join(_KERAS_FIT_ARGUMENTS[key] for key in keras)
    raise TypeError(
        f"{', '.join(keras)}: Keras fit() arguments that a skorch net's fit() "
        "does not take: it would hand them to the module's forward() (only "
        f"epochs is its own). Set them on the {name} instead: {name}(..., "
        f"{fixes}), or learner.estimator.set_params({fixes}) (with the step's "
        "name as prefix in a Pipeline)."
    )


def _warn_only_new_forgets(estimator, n_taught):
    """Warn that a scikit-learn model fitted on the new rows forgets the rest.

    modAL documents only_new for models whose fit() keeps training (Keras); a
    scikit-learn model fitted on a batch alone fits that batch: from scratch,
    or with ``warm_start=True`` from the previous solution to the new rows'
    optimum, or by adding trees fitted on them (a forest, gradient boosting:
    none without a larger n_estimators / max_iter). X_training still lists
    every row, so a loop written with only_new trains on its last batch
    without a word. Warned, not refused: it is what modAL does, and a model
    of the recent rows only may be meant.
    """
    model = final_model(estimator)
    warnings.warn(
        f"teach(only_new=True) fits the {type(model).__name__} on the new rows "
        f"alone: it forgets the {n_taught} rows taught before (X_training still "
        "holds them, as in modAL); a scikit-learn model's fit() fits the rows "
        "it is given, with warm_start=True too. Drop only_new to refit on every "
        "row taught.",
        SkbatchbaldWarning,
        stacklevel=user_stacklevel(),
    )


def _refitted_steps(estimator):
    """Names of a Pipeline's steps before its last that a fit learns from."""
    steps = getattr(estimator, "steps", None)
    if not isinstance(steps, list) or len(steps) < 2:
        return []
    learned = []
    for step_name, step in steps[:-1]:
        kind = type(step).__name__
        if step in (None, "passthrough") or kind == "FrozenEstimator":
            continue
        if kind == "FunctionTransformer" and step.inverse_func is None:
            continue  # a function of each row: nothing learned
        learned.append(step_name)
    return learned


def _warn_only_new_refits_steps(estimator, name):
    """Warn that only_new refits a Pipeline's preprocessing on the new rows.

    The net keeps training (warm_start), but a StandardScaler before it is
    fitted again on the few new rows: the inputs the net has learned shift
    every round (in a user trial accuracy fell from 0.91 to 0.52, against 0.68
    for the net alone).
    """
    steps = _refitted_steps(estimator)
    if not steps:
        return
    warnings.warn(
        f"teach(only_new=True) fits the Pipeline on the new rows alone: the "
        f"{name} keeps training (warm_start=True), but its step(s) "
        f"{', '.join(map(repr, steps))} are fitted again on the new rows only, "
        "so the inputs the net has learned change every round. Fit them once "
        "on the pool before the loop and freeze them (sklearn.frozen."
        "FrozenEstimator(StandardScaler().fit(X_pool))), or drop only_new.",
        SkbatchbaldWarning,
        stacklevel=user_stacklevel(),
    )


def check_only_new(estimator, X_taught):
    """ValueError if ``teach(only_new=True)`` would make a skorch net forget;
    a warning if it makes another model forget.

    With ``warm_start=False`` a skorch net's fit() starts from new weights, so
    fitting on the new rows alone drops every row taught before; modAL's
    ``DeepActiveLearner.teach`` keeps training instead (``partial_fit``).
    """
    if X_taught is None:
        return
    n_taught = count_rows(X_taught, "X_training")
    net = _skorch_net(estimator)
    if net is None:
        _warn_only_new_forgets(estimator, n_taught)
        return
    name = type(net).__name__
    if getattr(net, "_posterior_from_fit_rows", False):
        raise ValueError(
            f"teach(only_new=True) fits the {name} on the new rows alone, and its "
            "posterior is computed from the rows of each fit: it would forget "
            f"the {n_taught} rows taught before, however warm_start is set. Drop "
            "only_new to refit on every row taught (a head on embeddings "
            "retrains in seconds)."
        )
    if net.warm_start:
        _warn_only_new_refits_steps(estimator, name)
        return
    raise ValueError(
        f"teach(only_new=True) fits the {name} on the new rows alone, and with "
        "warm_start=False its fit() starts from new weights: it would forget "
        f"the {n_taught} rows taught before. Set warm_start=True on the {name} to "
        "keep training on the new rows (as modAL's DeepActiveLearner.teach "
        "does), or drop only_new to refit on every row taught."
    )


# modAL's MC-dropout strategies and the skbatchbald strategy that replaces each.
_MODAL_DROPOUT_STRATEGIES = {
    "mc_dropout_bald": "BALDQuery",
    "mc_dropout_mean_st": "MeanSTDQuery",
    "mc_dropout_max_entropy": "MaxEntropyQuery",
    "mc_dropout_max_variationRatios": "VarRatiosQuery",
}


def _unwrapped(strategy):
    """The function under ``functools.partial`` wrappers, as modAL's examples
    fix ``n_instances`` with ``partial(uncertainty_batch_sampling, ...)``."""
    for _ in range(20):  # partials nest a few levels at most
        if not isinstance(strategy, functools.partial):
            break
        strategy = strategy.func
    return strategy


def warn_modal_strategy_unfitted(strategy, fitted):
    """Warn that a modAL strategy on an unfitted learner picks by position.

    modAL's uncertainty strategies score every point 1 when the classifier
    is not fitted (they catch NotFittedError), so the batch is a set of
    positions fixed by the tie-breaking (the last rows of the pool, with
    modAL 0.4.2), which a sorted pool biases; skbatchbald's strategies refuse
    or draw instead.
    """
    strategy = _unwrapped(strategy)
    module = getattr(strategy, "__module__", None) or ""
    if fitted or module.partition(".")[0] != "modAL":
        return
    name = getattr(strategy, "__name__", type(strategy).__name__)
    warnings.warn(
        f"the learner's estimator is not fitted, and modAL's {name} then scores "
        "every pool row alike, so the batch is decided by the rows' positions, "
        "not their content (biased if the pool is sorted). For a first batch use "
        "query_strategy=skbatchbald.RandomQuery(random_state=...) or "
        "skbatchbald.TypiClustQuery(...), then switch to an uncertainty "
        "strategy once the learner is taught.",
        SkbatchbaldWarning,
        stacklevel=user_stacklevel(),
    )


def check_not_modal_dropout(strategy, estimator):
    """ValueError for modAL's mc_dropout_* strategies on a posterior sampler.

    They switch to train mode only layers whose class name starts with "Dropout",
    so on skbatchbald's ConsistentMCDropout layers every pass is the same network,
    every score is 0 and the picks are arbitrary; in a Pipeline they fail.
    """
    strategy = _unwrapped(strategy)
    if getattr(strategy, "__module__", None) != "modAL.dropout":
        return
    model = final_model(estimator)
    if not hasattr(model, "predict_log_proba_samples"):
        return
    name = getattr(strategy, "__name__", "")
    ours = _MODAL_DROPOUT_STRATEGIES.get(name, "BALDQuery")
    raise ValueError(
        f"modAL's {name} cannot sample {type(model).__name__}: it switches "
        "layers whose class name starts with 'Dropout' to train mode, so plain "
        "nn.Dropout layers draw fresh masks for every row of every pass (samples "
        "that are not the same network across the pool, which joint scores such "
        "as BatchBALD's need), and consistent-dropout layers would be the same "
        "network on every pass (every score 0). Use "
        f"query_strategy=skbatchbald.{ours}(n_mc_samples=...) "
        "instead: num_cycles becomes n_mc_samples, and every dropout layer is "
        "sampled (no dropout_layer_indexes)."
    )


# modAL's strategies that score class probabilities (or committee votes on
# classes); modAL.multilabel's and max_std_sampling are made for other targets.
_MODAL_CLASS_STRATEGY_MODULES = (
    "modAL.uncertainty",
    "modAL.batch",
    "modAL.disagreement",
)
_MODAL_REGRESSION_STRATEGIES = ("max_std_sampling",)


def check_modal_strategy_target(strategy, estimator):
    """ValueError for a modAL class-probability strategy on labels it misreads.

    On a multi-label model they read the L label probabilities as one
    distribution over L classes (a row with two confident labels looks
    uncertain); on a regressor they fail inside modAL on the missing
    ``predict_proba``.
    """
    strategy = _unwrapped(strategy)
    module = getattr(strategy, "__module__", None) or ""
    name = getattr(strategy, "__name__", "")
    if module not in _MODAL_CLASS_STRATEGY_MODULES:
        return
    from .sampling import is_multilabel, is_regression_model

    if is_regression_model(estimator) and name not in _MODAL_REGRESSION_STRATEGIES:
        raise ValueError(
            f"modAL's {name} scores class probabilities, and the learner's "
            f"{type(final_model(estimator)).__name__} is a regressor. Use "
            "query_strategy=skbatchbald.BALDQuery() or skbatchbald.BatchBALDQuery()"
            ", which score a regressor's posterior samples (a forest's trees, an "
            "ensemble, MC dropout, a Gaussian process)."
        )
    if is_multilabel(estimator):
        raise ValueError(
            f"modAL's {name} reads a multi-label model's label probabilities as "
            "one distribution over classes, so its scores mean nothing for labels "
            "that are each present or absent (a row with two confident labels "
            "looks uncertain). Use query_strategy=skbatchbald.BALDQuery() or "
            "skbatchbald.BatchBALDQuery(), which score each label, or one of "
            "modAL.multilabel's strategies with a OneVsRestClassifier."
        )


def _is_number(value):
    return isinstance(value, numbers.Number) and not isinstance(
        value, bool | np.bool_ | complex
    )


def _target_kind(y):
    """ "labels" (strings, objects), "numbers" (integral) or "continuous", or None.

    None for anything but one target per row (multi-output targets are left to
    the estimator).
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.size == 0:
        return None
    if y.dtype.kind == "O" and all(_is_number(v) for v in y):
        # numbers in an object array (a mixed-dtype DataFrame's .to_numpy()
        # column, Decimals): numbers, as scikit-learn reads them
        y = y.astype(np.float64)
    if y.dtype.kind not in "iufb":
        return "labels"
    finite = y[np.isfinite(y)] if y.dtype.kind == "f" else y
    if y.dtype.kind == "f" and not np.array_equal(finite, np.round(finite)):
        return "continuous"
    return "numbers"


def _nan_rows(y):
    y = np.asarray(y)
    if y.dtype.kind == "f":
        return np.flatnonzero(np.isnan(y).reshape(len(y), -1).any(axis=1))
    if y.dtype.kind == "O":
        # pandas' NA and NaT: what a nullable column (string, Int64, boolean;
        # convert_dtypes()) holds for a row without a label; pandas is
        # imported when it made them
        pd = sys.modules.get("pandas")
        na, nat = (pd.NA, pd.NaT) if pd is not None else (None, None)
        missing = [
            i
            for i, value in enumerate(y.reshape(len(y), -1)[:, 0])
            if value is None
            or value is na
            or value is nat
            or (isinstance(value, float) and value != value)  # NaN
        ]
        return np.asarray(missing, dtype=np.int64)
    return np.empty(0, dtype=np.int64)


def _label_set_row(y):
    """The first row of ``y`` that is a collection of labels, as ``(i, row)``.

    A row is a collection of labels when it is a set, or when the rows are
    lists, tuples or arrays of differing lengths (label names per row, before
    MultiLabelBinarizer). None for anything else, equal-length rows included:
    those are an indicator or multi-output targets.
    """
    if hasattr(y, "columns") or hasattr(y, "toarray"):
        return None  # a DataFrame or sparse matrix: columns, not label sets
    if isinstance(y, np.ndarray) and (y.dtype.kind != "O" or y.ndim != 1):
        return None
    if isinstance(y, (list, tuple, np.ndarray)):
        rows = list(y)
    elif getattr(y, "ndim", None) == 1 and hasattr(y, "tolist"):
        rows = y.tolist()  # a pandas Series
    else:
        return None
    sequences = (list, tuple, np.ndarray)
    for i, row in enumerate(rows):
        if isinstance(row, (set, frozenset)):
            return i, row
    # None for a scalar row: label names mixed with lists of them are ragged too
    sizes = {len(row) if isinstance(row, sequences) else None for row in rows}
    if len(sizes) < 2:
        # a list, or a Series (df.tags.str.split(";")); not an array
        if not isinstance(y, np.ndarray) and rows and _lists_of_names(rows):
            return 0, rows[0]
        return None
    return next((i, row) for i, row in enumerate(rows) if isinstance(row, sequences))


def _lists_of_names(rows):
    """Whether every row is a Python list or tuple of label names (strings).

    Tags typed per ticket, ``[["billing", "login"], ["refund", "bug"]]``: of
    equal length by chance, they would be fitted as two outputs of classes
    (a forest takes them) or fail inside scikit-learn ("unhashable type").
    A multi-output target of text comes as an array or a DataFrame.
    """
    return all(
        isinstance(row, (list, tuple))
        and len(row) > 1  # [["cat"], ["dog"]] is a column of labels
        and all(isinstance(v, str) for v in row)
        for row in rows
    )


def _check_not_label_sets(y, y_known=None):
    """ValueError naming MultiLabelBinarizer for a list of label lists or sets.

    After a multi-output target of names (a 2-D array of text), rows of names
    of its width are more of it.
    """
    found = _label_set_row(y)
    if found is None:
        return
    known = np.asarray(y_known) if y_known is not None else None
    i, row = found
    if (
        known is not None
        and known.ndim == 2
        and known.dtype.kind in "OUS"
        and all(
            isinstance(r, (list, tuple)) and len(r) == known.shape[1]
            for r in (y.tolist() if hasattr(y, "tolist") else y)
        )
    ):
        return
    row = sorted(row, key=str) if isinstance(row, (set, frozenset)) else row
    raise ValueError(
        f"y holds a collection of labels per row (row {i}: {row!r}): multi-label "
        "targets before encoding. Encode them as a 0/1 indicator matrix, one "
        "column per label, with sklearn.preprocessing.MultiLabelBinarizer: fit "
        "it once on every label name, mlb = MultiLabelBinarizer(classes=all_labels), "
        "then teach mlb.fit_transform(label_lists) and encode each later round with "
        "the same mlb.transform, so that column j is the same label in every round."
        + (
            " (If each row holds one class per output of a multi-output task, "
            "pass np.array(y) or a DataFrame.)"
            if not isinstance(y, np.ndarray) and _lists_of_names(list(y))
            else ""
        )
    )


def _is_bool(y):
    """Whether every label of ``y`` is True or False (a bool or nullable
    boolean column)."""
    y = np.asarray(y)
    if y.dtype.kind == "b":
        return True
    if y.dtype.kind != "O" or y.size == 0:
        return False
    return all(isinstance(v, (bool, np.bool_)) for v in y.ravel())


def _check_bools_stay_bools(y, y_known):
    """ValueError for numbers taught after bools, or bools after numbers.

    pandas stacks the two into an object column that scikit-learn calls of
    "unknown" label type; numpy makes them numbers, and ``classes_`` turns
    from ``[False, True]`` to ``[0, 1]`` between two rounds.
    """
    new, before = _is_bool(y), _is_bool(y_known)
    if new == before:
        return
    numbers = y_known if new else y
    if _target_kind(numbers) != "numbers":
        return  # text labels: check_targets names the change of task
    shown = f"({np.asarray(y).ravel()[:3].tolist()}), but the rows taught before "
    shown += f"have {'bools' if before else 'numbers'} "
    shown += f"({np.asarray(y_known).ravel()[:3].tolist()})"
    values = np.unique(np.asarray(numbers, dtype=float))
    if np.isin(values, (0, 1)).all():
        fix = "np.asarray(y).astype(bool)" if before else "np.asarray(y).astype(int)"
        fix = f"label every round the same way: pass {fix}."
    else:
        fix = (
            "True and False cannot stand for them: a learner learns one task; "
            "start a new learner with fit(X, y) for the other labels."
        )
    raise ValueError(
        f"this round's labels are {'bools' if new else 'numbers'} {shown}: {fix}"
    )


def check_targets(estimator, y, y_known, *, is_regressor, is_classifier):
    """ValueError naming the fix for targets the estimator cannot learn from.

    NaN targets (a row without its label); label lists or sets per row (not
    yet encoded by MultiLabelBinarizer); a continuous target for a classifier;
    class labels for a regressor; and targets of another kind than those
    taught in earlier rounds (numbers, then class labels).
    """
    model = type(final_model(estimator)).__name__
    if hasattr(y, "toarray"):
        return  # sparse (a multi-label indicator): left to the estimator
    _check_not_label_sets(y, y_known)
    try:
        y = np.asarray(y)
    except (TypeError, ValueError, RuntimeError):
        return  # e.g. a tensor on a GPU: left to the estimator
    if y.ndim == 0:
        return
    missing = _nan_rows(y)
    if missing.size:
        raise ValueError(
            "y holds a missing value (NaN, None or pandas' NA) at row(s) "
            f"{missing[:5].tolist()}: a missing "
            "target is not a label. Teach only the rows that have been labelled "
            "(drop those rows, or label them first)."
        )
    kind = _target_kind(y)
    if kind is None:
        return
    known = None if y_known is None else _target_kind(y_known)
    if known is not None:
        _check_bools_stay_bools(y, y_known)
    if known is not None and "labels" in (kind, known) and kind != known:
        raise ValueError(
            f"this round's targets are {kind} ({np.asarray(y).ravel()[:3].tolist()}), "
            f"but the rows taught before have {known} "
            f"({np.asarray(y_known).ravel()[:3].tolist()}): a learner learns one task. "
            "Label every round the same way (class labels for classification, "
            "numbers for regression), or start a new learner with fit(X, y) for "
            "the other task."
        )
    if kind == "continuous" and is_classifier:
        raise ValueError(
            f"y holds continuous values ({np.asarray(y).ravel()[:3].tolist()}), a "
            f"regression target, but {model} is a classifier. For regression use a "
            "regressor (RandomForestRegressor, skbatchbald.MCDropoutRegressor, ...) "
            "with BALDQuery or BatchBALDQuery; for classes, label with ints or "
            "strings."
        )
    if kind == "labels" and is_regressor:
        raise ValueError(
            f"y holds class labels ({np.asarray(y).ravel()[:3].tolist()}), but "
            f"{model} is a regressor, which needs numbers. For classes use a "
            "classifier (RandomForestClassifier, skbatchbald.MCDropoutClassifier, "
            "...); for regression, give numeric targets."
        )


def _chosen_multilabel(model):
    """Whether a model is multi-label by the user's choice of class, not by y."""
    if isinstance(model, (MultiOutputClassifier, ClassifierChain)):
        return True
    if not hasattr(model, "predict_log_proba_samples"):
        return False
    tags = get_tags(model).classifier_tags
    return tags is not None and tags.multi_label  # MCDropoutMultiLabelClassifier


def warn_one_hot(estimator, y, y_known):
    """UserWarning for a one-hot y that a classifier would learn as multi-label.

    A forest (any classifier that takes 2-D targets) fits a one-hot y as C
    independent yes/no labels, and the strategies then score it as
    multi-label, without a word. A y is only one-hot while every row taught
    holds a single 1, so a multi-label labelled set stops warning at its
    first row with no label or several. Classifiers that take one label per
    row refuse a 2-D y themselves (MCDropoutClassifier with the same fix);
    those chosen for multi-label (MultiOutputClassifier, ClassifierChain,
    MCDropoutMultiLabelClassifier) are not warned.
    """
    if not is_one_hot(y) or (y_known is not None and not is_one_hot(y_known)):
        return
    model = final_model(estimator)
    if not hasattr(model, "__sklearn_tags__") or _chosen_multilabel(model):
        return
    tags = get_tags(model)
    if tags.estimator_type != "classifier" or not tags.target_tags.multi_output:
        return
    n_rows, n_columns = np.shape(y)[0], np.shape(y)[1]
    warnings.warn(
        f"y looks one-hot encoded (shape ({n_rows}, {n_columns}), a single 1 per "
        f"row), and {type(model).__name__} takes a 2-D y as multi-label "
        f"targets: it would learn {n_columns} independent yes/no labels, and the "
        f"strategies would score them as such. For one class per row, "
        f"{ONE_HOT_FIX}. If a row may hold several labels (multi-label), ignore "
        "this warning: it stops once a taught row holds no label or several.",
        SkbatchbaldWarning,
        stacklevel=user_stacklevel(),
    )


def _text_labels(y):
    """The distinct text labels of a 1-D y, or an empty set (numbers, 2-D)."""
    try:
        values = np.asarray(y)
    except (TypeError, ValueError, RuntimeError):
        return set()
    if values.ndim != 1 or values.dtype.kind not in "OUS":
        return set()
    return {v for v in values.tolist() if isinstance(v, str)}


def warn_label_slips(y, y_known):
    """UserWarnings for text labels a person most likely did not mean as classes.

    The text labels taught before are read once, for both checks
    (:func:`_warn_spelling`, :func:`_warn_joined_tags`).
    """
    new = _text_labels(y)
    if not new:
        return
    labels = new | _text_labels(y_known) if y_known is not None else new
    _warn_spelling(new, labels)
    _warn_joined_tags(new, labels)


def _warn_spelling(new, labels):
    """UserWarning for a text label that is another's up to case and spaces.

    ``"Billing "`` beside ``"billing"`` is a new class to a classifier, learnt
    apart and scored apart, without a word; people typing labels, spreadsheets
    and exports make such variants. ``new``: this batch's text labels;
    ``labels``: those and the ones taught before.
    """
    spelt = {}
    for label in sorted(labels):
        spelt.setdefault(" ".join(label.split()).casefold(), []).append(label)
    clashes = [group for group in spelt.values() if len(group) > 1 and new & set(group)]
    if not clashes:
        return
    shown = "; ".join(" vs ".join(repr(label) for label in g) for g in clashes[:3])
    warnings.warn(
        f"y holds labels that differ only in case or spaces ({shown}): each is "
        "a class of its own, learnt and scored apart. If they are one class, "
        "normalise the labels before teaching them (e.g. "
        "y.str.strip().str.lower() for a pandas Series).",
        SkbatchbaldWarning,
        stacklevel=user_stacklevel(),
    )


def _warn_joined_tags(new, labels):
    """UserWarning for text labels that look like tags joined by ';' or '|'.

    ``"red;cotton"`` beside ``"red"`` and ``"blue;cotton"`` is learnt as one
    class among many (multi-class), not as two tags (multi-label), without a
    word: the joined cell of a spreadsheet or an export. ``new`` and
    ``labels`` as for :func:`_warn_spelling`.
    """
    joined = {label for label in new if ";" in label or "|" in label}
    if len(joined) < 2:
        return
    alone = {label.strip() for label in labels}
    places = {}  # tag of a joined label -> its positions in them
    for label in joined:
        for position, tag in enumerate(re.split(r"[;|]", label)):
            if tag.strip():
                places.setdefault(tag.strip(), set()).add(position)
    # a tag that is also a label of its own, or comes first in one label and
    # later in another; the levels of a path ("Electronics|Phones") or a code
    # and its name ("J45;asthma") keep their place and stand alone nowhere
    shared = sorted(
        tag for tag, where in places.items() if tag in alone or len(where) > 1
    )
    if not shared:
        return
    examples = ", ".join(repr(label) for label in sorted(joined)[:2])
    warnings.warn(
        f"y holds labels that look like tags joined by ';' or '|' ({examples}; "
        f"tags such as {shared[:3]} stand alone or in another place): a "
        "classifier learns each "
        "whole text as one class. For several tags per row (multi-label), encode "
        "them: MultiLabelBinarizer().fit_transform(y.str.split(';')) for a "
        "pandas Series, with a multi-label model (user guide: Multi-label). If "
        "each text is one class, ignore this warning.",
        SkbatchbaldWarning,
        stacklevel=user_stacklevel(),
    )
