"""modAL's ActiveLearner, working on current scikit-learn.

modAL-python 0.4.2.1 validates with ``check_X_y(..., force_all_finite=...)``, a
keyword scikit-learn 1.8 removed (modAL issue 196), never stores
``bootstrap_init`` (so ``get_params``, ``clone`` and ``repr`` raise), stacks
DataFrames with the removed ``DataFrame.append`` and runs a query strategy twice
when it does not return a pair. :class:`ActiveLearner` keeps modAL's constructor
and methods and fixes these.
"""

import sys
import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from importlib import metadata

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array, check_consistent_length, check_X_y, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._arrays import is_torch_dataset, stack_rows, take_rows
from ._dataset_identity import taught_keys
from ._dataset_pool import check_dataset, check_new_items, labels_array, untaught_items
from ._interrupt import InterruptGuard
from ._labels import ONE_HOT_FIX, is_one_hot
from ._missing import REFUSES, nan_flow
from ._modal_ports import (
    check_fit_kwargs,
    check_modal_strategy_target,
    check_not_modal_dropout,
    check_only_new,
    check_targets,
    warn_label_slips,
    warn_modal_strategy_unfitted,
    warn_one_hot,
)
from ._models import (
    final_model,
    inner_model,
    is_search,
    is_skorch_net,
    missing_texts_message,
    skorch_inputs_message,
    text_table_message,
)
from ._pickled_version import VersionedPickle
from ._query_picks import strategy_picks
from ._row_weights import join_row_weights, split_row_weights
from ._validation import check_random_state, count_rows, random_stream
from ._warnings import SkbatchbaldWarning, user_stacklevel
from .sampling import is_regression_model

#: The one modAL release skbatchbald is tested with.
MODAL_VERSION = "0.4.2.1"
INSTALL_COMMAND = f"pip install --no-deps modAL-python=={MODAL_VERSION}"
_WHY_NO_DEPS = (
    "--no-deps is needed because modAL-python 0.4.2.1 pins skorch==0.9.0, which no "
    "longer imports; an install without it silently falls back to modAL 0.4.1, "
    "whose query contract differs. modAL itself imports pandas: pip install pandas."
)

try:
    from modAL.models import ActiveLearner as _ModalActiveLearner
    from modAL.models import Committee as _ModalCommittee  # noqa: F401 (committee.py)
    from modAL.uncertainty import uncertainty_sampling
except ImportError as exc:
    raise ImportError(
        f"This part of skbatchbald needs modAL, which could not be imported "
        f"({exc}). Install it with:\n    {INSTALL_COMMAND}\n{_WHY_NO_DEPS}"
    ) from exc

__all__ = ["ActiveLearner"]

# Training data are data, not hyper-parameters: keeping them out of get_params
# makes clone() give an unfitted learner and keeps repr() short.
_DATA_PARAMS = ("X_training", "y_training")


def _check_modal_version():
    """Raise ImportError unless the installed modAL is the supported release."""
    try:
        installed = metadata.version("modAL-python")
    except metadata.PackageNotFoundError:
        return  # imported from a source checkout: nothing to compare against
    if installed != MODAL_VERSION:
        raise ImportError(
            f"skbatchbald needs modAL-python {MODAL_VERSION}, found {installed}. "
            f"Reinstall it with:\n    pip install --no-deps --force-reinstall "
            f"modAL-python=={MODAL_VERSION}\n{_WHY_NO_DEPS}"
        )


_check_modal_version()


def _is_torch(obj):
    return type(obj).__module__.partition(".")[0] == "torch"


def _is_pandas(obj):
    return type(obj).__module__.partition(".")[0] == "pandas"


def _is_data_frame(obj):
    return _is_pandas(obj) and obj.ndim == 2


def _estimator_has(name):
    """``available_if`` check: the wrapped estimator has method ``name``."""
    return lambda learner: hasattr(learner.estimator, name)


def _fresh_index(index):
    """Whether ``index`` is pandas' default 0..n-1, given to a new frame.

    Such labels say nothing about which row is which: a y built by position
    (``pd.Series(labels)``) beside a shuffled X pairs as it should.
    """
    return type(index).__name__ == "RangeIndex" and index.start == 0 and index.step == 1


def _check_index_order(X, y):
    """ValueError when pandas X and y hold the same row labels in other orders;
    the text of a warning when they hold other labels, else None.

    scikit-learn pairs X and y by position and ignores their index, so a y
    shuffled against X (``y.iloc[::-1]``, a ``groupby`` result, labels read
    back in another order) would teach every row another row's label. The
    same labels in another order can only be that; labels that differ keep
    scikit-learn's pairing by position with a warning, and a fresh 0..n-1
    RangeIndex on either side (a y built by position) keeps it quietly.
    """
    x_index, y_index = getattr(X, "index", None), getattr(y, "index", None)
    if not (_is_pandas(X) and _is_pandas(y)) or x_index is None or y_index is None:
        return None
    if (
        len(x_index) != len(y_index)
        or x_index.equals(y_index)
        or not (x_index.is_unique and y_index.is_unique)
        or _fresh_index(x_index)
        or _fresh_index(y_index)
    ):
        return None
    # compared as Python objects: an Int64 and an int64 index of the same
    # labels in the same order are the same rows
    x_labels, y_labels = x_index.to_numpy(dtype=object), y_index.to_numpy(dtype=object)
    moved = np.flatnonzero(x_labels != y_labels)
    if moved.size == 0:
        return None
    first = moved[0]
    example = f"e.g. X's row {x_labels[first]!r} is y's {y_labels[first]!r}"
    shared = int(x_index.isin(y_index).sum())
    if shared == len(x_index):  # unique and as many: a reordering
        raise ValueError(
            f"X and y hold the same index labels in different orders ({moved.size} "
            f"of {len(x_index)} rows differ, {example} by position). The learner "
            "pairs rows by position, as scikit-learn does, so each row would get "
            "another row's label; pass y.loc[X.index] to pair them by label."
        )
    # Other labels: most often y_pool[idx], which a pandas Series reads by
    # label, beside X_pool.iloc[idx], by position (modAL's examples index
    # numpy arrays, where both are positions). y may also come from a table
    # with IDs of its own, so this warns instead of refusing.
    return (
        f"X and y hold different index labels ({shared} of {len(x_index)} "
        f"shared; {example} by position). The learner pairs rows by position, as "
        "scikit-learn does. If y was taken as y_pool[idx] (a Series reads that by "
        "label) beside X_pool.iloc[idx], each row gets another row's label: take "
        "y_pool.iloc[idx], or y_pool.loc[X.index]. If y's index means something "
        "else, pass y.to_numpy() to pair by position without this warning (given "
        "once per learner)."
    )


def _refits_nothing(estimator):
    """Whether fitting ``estimator`` changes nothing: a FrozenEstimator, or a
    Pipeline of them (a fitted step before a frozen one is refitted)."""
    if isinstance(estimator, FrozenEstimator):
        return True
    if isinstance(estimator, Pipeline):
        steps = [step for _, step in estimator.steps]
        return all(s is None or s == "passthrough" or _refits_nothing(s) for s in steps)
    return False


def _is_one_row_of_numbers(X):
    """Whether X is a 1-D array or tensor of numbers (``X_pool[i]``)."""
    if getattr(X, "ndim", None) != 1 or getattr(X, "dtype", None) is None:
        return False
    try:
        kind = np.dtype(str(X.dtype).removeprefix("torch.")).kind
    except TypeError:  # a torch dtype numpy lacks (bfloat16): numbers too
        return str(X.dtype).startswith("torch.")
    return kind in "biuf"


def _check_one_row_of_labels(X, y, y_known):
    """ValueError for one row's labels given as a vector, ``Y[i]`` for ``Y[i:i+1]``.

    After rows of L labels (a multi-label indicator), a 1-D y of length L for
    one row of X is that row's labels, which scikit-learn read as L rows.
    """
    try:
        if y_known is None or np.ndim(y_known) != 2 or np.ndim(y) != 1:
            return
    except ValueError:
        return  # ragged (label lists): check_targets names the encoding

    n_labels = np.shape(y_known)[1]
    if is_torch_dataset(X) or isinstance(X, Mapping) or len(y) != n_labels:
        return
    if count_rows(X, "X") == 1 and n_labels > 1:
        raise ValueError(
            f"y has shape {np.shape(y)} for one row of X, and the rows taught "
            f"before have {n_labels} labels each: one row's labels are a row of "
            "the indicator matrix, shape (1, n_labels). Pass Y[i:i + 1] (or "
            "y.reshape(1, -1)), not Y[i]."
        )


def _fitted_state(estimator):
    """The estimator and each estimator among its parameters (Pipeline steps,
    a search's or ensemble's model), with a shallow copy of their attributes.

    A fit binds what it learns to attributes (scikit-learn's ``coef_``, a
    search's ``best_estimator_``, skorch's ``module_``) rather than changing
    the objects they held, so putting these copies back undoes a fit that
    raised half-way: a GP that failed left ``X_train_`` of the new rows
    beside the old ``L_``, and every later predict failed on their shapes.

    None when a skorch net is among them: kept, its module and optimizer
    would stay in memory beside the new ones for the whole fit (on a GPU,
    three times the network's parameters), and restoring the other steps
    alone would pair them with a half-trained net. None too with
    ``warm_start=True`` anywhere: such a fit changes its arrays in place.
    """
    objects, params = [estimator], {}
    if hasattr(estimator, "get_params"):
        try:
            params = estimator.get_params(deep=True)
        except Exception:  # an estimator whose get_params is its own
            params = {}
        objects += [value for value in params.values() if hasattr(value, "get_params")]
    if any(is_skorch_net(obj) for obj in objects) or any(
        key.split("__")[-1] == "warm_start" and value is True
        for key, value in params.items()
    ):
        # warm_start trains the fitted arrays in place (SGDClassifier's coef_):
        # a shallow copy would keep the changed ones
        return None
    kept = {}
    for obj in objects:
        if id(obj) not in kept and hasattr(obj, "__dict__"):
            kept[id(obj)] = (obj, dict(vars(obj)))
    return list(kept.values())


def _restore_fitted_state(state):
    for obj, attributes in state:
        vars(obj).clear()
        vars(obj).update(attributes)


def _check_text_rows(estimator, X, name):
    """ValueError for a table of texts given to a text pipeline (df[['text']]),
    or texts with missing documents."""
    for check in (text_table_message, missing_texts_message):
        message = check(estimator, X, name)
        if message is not None:
            raise ValueError(message)


def _check_not_one_row_as_series(X, X_known):
    """ValueError for one row of a DataFrame given as a Series, ``X.iloc[i]``.

    pandas gives one row as a Series indexed by the columns, which
    scikit-learn reads as a column of that many rows. A Series of another
    index (texts for a text pipeline) is rows, as it should be.
    """
    if not (_is_pandas(X) and X.ndim == 1 and _is_data_frame(X_known)):
        return
    if X.index.equals(X_known.columns):
        raise ValueError(
            f"X is a pandas Series indexed by X_training's {len(X)} columns: one "
            "row of a DataFrame (X_pool.iloc[i]), which would be read as "
            f"{len(X)} rows of one feature. Pass a one-row DataFrame, "
            "X_pool.iloc[[i]], with y as a list of one label."
        )


def _vstack_rows(first, second, *, name="X"):
    """Stack two row blocks (`stack_rows`) after checking their trailing shapes.

    ``first`` and ``second`` are the rows taught so far and the new rows: arrays,
    sparse matrices, DataFrames, Series, tensors or lists, or dicts of them
    (checked key by key). ValueError if their trailing shapes differ; ``name``
    is used in that message.
    """
    if isinstance(first, Mapping) or isinstance(second, Mapping):
        both = isinstance(first, Mapping) and isinstance(second, Mapping)
        if both and set(first) == set(second):  # else stack_rows says what differs
            for key in first:
                _vstack_rows(first[key], second[key], name=f"{name}[{key!r}]")
        return stack_rows(first, second)
    if is_torch_dataset(first) or is_torch_dataset(second):
        return stack_rows(first, second)  # items unread: the module checks them
    if hasattr(first, "columns") and hasattr(second, "columns"):
        return stack_rows(first, second, name)  # names the columns that differ
    # np.shape reads .shape where there is one (sparse, pandas, torch).
    first_shape, second_shape = tuple(np.shape(first)[1:]), tuple(np.shape(second)[1:])
    if first_shape != second_shape and name == "y":
        raise ValueError(_label_shapes_message(first, second))
    if first_shape != second_shape:
        raise ValueError(
            f"The new {name} has rows of shape {second_shape} but the {name} taught "
            f"so far has rows of shape {first_shape}; every batch must have the "
            "same features."
        )
    return stack_rows(first, second, name)


def _in_taught_label_shape(taught, new):
    """``new`` labels of shape (n,) as one column where the taught ones are a
    column of shape (n, 1), and the other way round; else ``new`` as it is.

    Both hold one label per row to scikit-learn (a column is raveled), so a
    learner built with ``y_training=df[["target"]]`` takes ``df["target"]``
    in the next round, kept in the taught form.
    """
    if sp.issparse(taught) or sp.issparse(new):
        return new
    taught_shape, new_shape = tuple(np.shape(taught)[1:]), tuple(np.shape(new)[1:])
    if _is_torch(new) and {taught_shape, new_shape} == {(), (1,)}:
        return new.reshape(-1, 1) if taught_shape == (1,) else new.reshape(-1)
    if taught_shape == (1,) and new_shape == ():
        if hasattr(taught, "columns"):
            if not hasattr(new, "to_frame"):  # an array or list: a Series first
                new = sys.modules["pandas"].Series(np.asarray(new))
            return new.to_frame(name=taught.columns[0])
        return np.asarray(new).reshape(-1, 1)
    if taught_shape == () and new_shape == (1,):
        if hasattr(new, "columns"):
            return new.iloc[:, 0]
        return np.asarray(new).reshape(-1)
    return new


def _label_shapes_message(taught, new):
    """Why targets of two shapes cannot be taught together, and what to do."""

    def what(y):
        shape = tuple(np.shape(y)[1:])
        if not shape:
            return "one label per row, shape (n,)"
        try:
            indicator = np.isin(np.asarray(y), (0, 1)).all()
        except (TypeError, ValueError):
            indicator = False
        columns = (
            "0/1 label columns per row (multi-label)"
            if indicator
            else ("columns per row")
        )
        return f"{shape[0]} {columns}, shape (n, {', '.join(map(str, shape))})"

    if np.ndim(taught) == 1 and is_one_hot(new):
        # the Keras habit: to_categorical labels after integer ones
        return (
            f"The new y looks one-hot encoded (shape {tuple(np.shape(new))}, a "
            "single 1 per row), but the y taught so far has one label per row, "
            f"shape (n,): {ONE_HOT_FIX}."
        )
    return (
        f"The new y has {what(new)}, but the y taught so far has {what(taught)}. "
        "Every batch must label the same task in the same shape: one label (or "
        "number, for a regressor) per row, or for a multi-label learner a 0/1 "
        "indicator row with the same L columns in the same order. To change the "
        "task or the labels, build a new ActiveLearner (and re-label the taught "
        "rows)."
    )


def _rows(X, start, stop):
    """Rows ``start:stop`` of an array, sparse matrix, DataFrame, tensor or list,
    or of a dict of them."""
    if (_is_torch(X) and not is_torch_dataset(X)) or isinstance(X, list):
        return X[start:stop]
    return take_rows(X, np.arange(start, stop))


def _same_rows(first, second):
    """Whether two row blocks hold the same values, whatever their containers."""
    if isinstance(first, Mapping) or isinstance(second, Mapping):
        return (
            isinstance(first, Mapping)
            and isinstance(second, Mapping)
            and set(first) == set(second)
            and all(_same_rows(first[key], second[key]) for key in first)
        )
    if is_torch_dataset(first) or is_torch_dataset(second):
        # the same items of the same datasets, found without loading them
        if not (is_torch_dataset(first) and is_torch_dataset(second)):
            return False
        if len(first) != len(second):
            return False
        # second is the taught side; no name: compared silently
        first_keys, second_keys = taught_keys(first, second)
        return first_keys == second_keys
    if sp.issparse(first) or sp.issparse(second):
        first, second = sp.csr_matrix(first), sp.csr_matrix(second)
        return first.shape == second.shape and (first != second).nnz == 0
    if _is_torch(first):
        first = first.detach().cpu()
    if _is_torch(second):
        second = second.detach().cpu()
    return np.array_equal(np.asarray(first), np.asarray(second))


def _check_one_estimator(estimator):
    """ValueError for a list or tuple of models where one estimator is fitted.

    The strategies sample a list of fitted models as an ensemble, but the
    learner has to fit its estimator on the labelled rows, and a list has no
    ``fit``: scikit-learn's own error would be about ``__sklearn_tags__``.
    """
    if not isinstance(estimator, (list, tuple)):
        return
    kind = type(estimator).__name__
    raise ValueError(
        f"ActiveLearner fits one estimator on the labelled rows, and got a {kind} "
        f"of {len(estimator)} models, which has no fit(). A list of fitted models is "
        "an ensemble the strategies can sample, each model one posterior sample: "
        "call the strategy on it, BatchBALDQuery()(models, X_pool, n_instances), "
        "and refit the models yourself. For a learner that refits its ensemble on "
        "every round, pass one estimator whose members are the samples: "
        "BaggingRegressor(Ridge(), n_estimators=20), a RandomForestRegressor or "
        "RandomForestClassifier, or a modAL Committee (CommitteeRegressor) of "
        "learners."
    )


def _check_not_empty(X, method):
    """ValueError, naming what to do, for a labelled batch without rows."""
    if X is None or count_rows(X, "X") > 0:
        return  # None is refused with the other missing inputs
    if method == "teach":
        raise ValueError(
            "teach() got an empty batch (X has 0 rows): there are no new labels "
            "to add. Teach the rows a query picked, with their labels; if the "
            "query returned none, the pool is used up and the loop should stop."
        )
    raise ValueError(
        "fit() got no labelled rows (X, or the constructor's X_training, has 0 "
        "rows), and the estimator needs at least one. Without labels yet, build "
        "the learner without X_training and y_training, pick the first batch "
        "with skbatchbald.RandomQuery() or skbatchbald.TypiClustQuery(), and "
        "teach it."
    )


def _finite_setting(estimator, setting):
    """``ensure_all_finite`` for scikit-learn's check, from ``force_all_finite``.

    ``"auto"`` refuses NaN only for a model sure to refuse it (see
    :func:`skbatchbald._missing.nan_flow`) and infinity always; other settings
    are modAL's, as given.
    """
    if setting != "auto":
        return setting
    return True if nan_flow(estimator) == REFUSES else "allow-nan"


def _not_finite_message(message, setting, estimator):
    """``message`` (NaN or infinity in X), why it was refused, and what to do."""
    refused = f"{message} ActiveLearner(force_all_finite={setting!r}) rejects"
    if "NaN" not in message:
        return (
            f"{refused} infinite values: replace them (clip them, or make them "
            "NaN for a model that handles missing values), or pass "
            "force_all_finite=False if the estimator handles them."
        )
    refused += " missing values"
    if setting == "auto":
        model = type(final_model(estimator)).__name__
        refused += (
            f" for a {model}, which does not accept them (scikit-learn's tag "
            "allow_nan is False) and has no imputer before it"
        )
    return (
        f"{refused}: impute them, e.g. with a SimpleImputer as "
        "the first step of a Pipeline; or, if the estimator handles them, pass "
        "force_all_finite='allow-nan' (or force_all_finite=False, which also "
        "lets infinity through). force_all_finite is modAL's name for "
        "scikit-learn's ensure_all_finite."
    )


def _check_frame(X, y, finite):
    """A DataFrame's checks, done on the frame: its columns are not cast.

    check_X_y turns a DataFrame into one array, which fails on a column of
    categories (pandas cannot cast them to float) although the estimator (a
    ColumnTransformer, a HistGradientBoosting model) takes them; the learner
    only needs the row counts and the missing-value policy.
    """
    check_array(y, accept_sparse="csr", ensure_2d=False, dtype=None, input_name="y")
    check_consistent_length(X, y)
    if finite is False:
        return
    missing = X.isna().any()
    if finite is True and missing.any():
        columns = list(X.columns[missing.to_numpy()])
        raise ValueError(
            f"Input X contains NaN (missing values: NaN, None, pd.NA or NaT) in "
            f"columns {columns!r}."
        )
    numbers = X.select_dtypes("number")
    infinite = np.isinf(numbers.to_numpy(dtype=np.float64, na_value=np.nan))
    if infinite.any():
        columns = list(numbers.columns[infinite.any(axis=0)])
        raise ValueError(f"Input X contains infinity in columns {columns!r}.")


def _check_input(X, y, finite, where, *, setting, estimator):
    """scikit-learn's check of one input array, NaN and infinity explained.

    ``finite`` is passed to scikit-learn as ``ensure_all_finite``; ``setting``
    is the learner's ``force_all_finite`` it came from, for the message.
    """
    try:
        if _is_data_frame(X):
            _check_frame(X, y, finite)
        else:
            check_X_y(
                X,
                y,
                accept_sparse=True,
                ensure_2d=False,
                allow_nd=True,
                multi_output=True,
                dtype=None,
                ensure_all_finite=finite,
            )
    except ValueError as exc:
        message = str(exc)
        if "NaN" in message or "infinity" in message:
            message = _not_finite_message(message, setting, estimator)
            raise ValueError(f"{where}{message}") from exc
        raise


def _refitted_steps(estimator):
    """Names of the steps before the final model that each fit fits again.

    Pipelines at any level (inside a search too); frozen steps are left out.
    """
    names = []
    for _ in range(20):  # wrappers nest a few levels at most
        if isinstance(estimator, Pipeline):
            names += [
                name
                for name, step in estimator.steps[:-1]
                if not (step is None or step == "passthrough")
                and not isinstance(step, FrozenEstimator)
            ]
        estimator = inner_model(estimator)
        if estimator is None:
            return names
    return names


def _width_changed_message(estimator, exc):
    """Why a net's input width no longer fits, on a refit after a Pipeline step.

    The net's module refuses the width it was not built for, and names the
    module__n_features that would fit (skbatchbald.nn's modules do). When the
    same Pipeline fitted before, a step in front of the net changed its output
    width: setting that number only moves the error to the next teach.
    Returns None for other failures.
    """
    steps = _refitted_steps(estimator)
    if "module__n_features" not in str(exc) or not steps:
        return None
    net = type(final_model(estimator)).__name__
    return (
        f"{exc} But this Pipeline fitted before, with the same {net}: its "
        f"steps {steps} before the net are fitted again at every teach, on the "
        "labelled rows only, and now give another number of columns. An "
        "encoder's columns follow "
        "the categories those rows hold (OneHotEncoder(handle_unknown='ignore') "
        "gains one for each new category), a vectorizer's its vocabulary, so "
        "setting module__n_features only moves the error to the next round. "
        "Fix the columns instead: give the encoder the categories of the whole "
        "pool (OneHotEncoder(categories=...)), or fit the preprocessing once on "
        "the whole pool (it needs no labels) and freeze it with "
        "sklearn.frozen.FrozenEstimator, as the user guide shows for text in "
        "'Pipelines and model selection', section 'Text: fit the vectorizer "
        "once, on the pool'."
    )


def _single_label(y):
    """The one label every row of ``y`` has, as a 1-element array, or None.

    None where ``y`` holds several labels or is not one label per row
    (multi-output, a sparse indicator): "one class" means nothing there.
    """
    if sp.issparse(y):
        return None
    try:
        labels = labels_array(y)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]  # a column of labels, as scikit-learn reads it
        if labels.ndim != 1:
            return None
        distinct = np.unique(labels)
    except (TypeError, ValueError):  # labels of types that do not compare
        return None
    return distinct if distinct.size == 1 else None


def _constant_label_columns_message(estimator, y, exc):
    """The message for a MultiOutputClassifier whose fit failed on a label
    column of one value (a tag no labelled row has yet), or None.

    It fits one copy of its estimator per column, and most classifiers need
    both values; OneVsRestClassifier predicts a constant for such a column.
    """
    if (
        not isinstance(exc, ValueError)
        or not isinstance(final_model(estimator), MultiOutputClassifier)
        or "class" not in str(exc)  # a one-class error, not bad X or a parameter
    ):
        return None
    try:
        labels = np.asarray(y)
        if labels.ndim != 2 or labels.dtype.kind not in "biuf":
            return None
        constant = np.flatnonzero((labels == labels[:1]).all(axis=0))
    except (TypeError, ValueError):
        return None
    if constant.size == 0:
        return None
    names = list(getattr(y, "columns", range(labels.shape[1])))
    shown = ", ".join(
        f"{names[j]!r} (always {labels[0, j]:g})" for j in constant[:5].tolist()
    )
    more = f" and {constant.size - 5} more" if constant.size > 5 else ""
    inner = final_model(estimator).estimator
    inner = type(inner).__name__ if inner is not None else "estimator"
    return (
        f"{exc} The label column(s) {shown}{more} hold one value in all "
        f"{labels.shape[0]} rows the model was fitted on, and MultiOutputClassifier "
        f"fits one {inner} per column, which needs both values. Use "
        f"OneVsRestClassifier({inner}(...)) instead, which predicts a constant "
        "for such a column (a bagging ensemble inside it still gives posterior "
        "samples); or label rows that have the label."
    )


def _parameters_valid(estimator):
    """Whether the model's own parameter checks pass (True where it has none).

    A fit on one class that raises may have raised over a bad parameter
    (skbatchbald's own checks raise a plain ValueError); that is no reason to
    keep the rows. scikit-learn's ``_validate_params`` and skbatchbald's
    ``_check_params`` are run on the model the learner predicts with.
    """
    model = final_model(estimator)
    for check in ("_check_params", "_validate_params"):
        method = getattr(model, check, None)
        if callable(method):
            try:
                method()
            except (TypeError, ValueError):
                return False
            return True
    return True


def _forget_fit(estimator):
    """Make ``estimator`` unfitted in place: an unfitted clone's state.

    In place, so that every reference to it (the user's variable, the
    learner's ``estimator``) sees the same unfitted model. Returns False,
    changing nothing, for an object ``clone`` cannot copy or returns as it is
    (a ``__sklearn_clone__`` that keeps its fit).
    """
    try:
        fresh = clone(estimator)
        state = vars(estimator)
    except TypeError:
        return False
    if fresh is estimator:
        return False
    state.clear()
    state.update(vars(fresh))
    return True


def _one_class_message(estimator, label, n_rows, exc):
    """The warning for a labelled set kept unfitted: why, and what to query with."""
    model = type(final_model(estimator)).__name__
    if n_rows == 1:
        which, kept = f"only row has label {label!r}", "The row is"
    else:
        which = f"{n_rows} rows all have label {label!r}"
        kept = f"The {n_rows} rows are"
    error = str(exc).rstrip()
    if not error.endswith("."):
        error += "."
    return (
        f"{model} could not be fitted on one class: the labelled set's {which}, "
        f"and its fit raised ValueError: {error} {kept} kept in X_training and "
        "y_training, and the model stays unfitted until a teach brings a second "
        "class; it is then fitted on every kept row. Until then query with "
        "skbatchbald.RandomQuery() or skbatchbald.TypiClustQuery(), which need no "
        "fitted model. If the error above is about the data rather than the "
        "classes, fix the rows and replace the labelled set with "
        "learner.fit(X, y)."
    )


def _strategy_picks(learner, candidates, query_args, query_kwargs):
    """The learner's query strategy's (checked indices, metrics or None)."""
    return strategy_picks(
        learner.query_strategy, learner, candidates, query_args, query_kwargs
    )


def _picked_numeric_copies(taught, picked):
    """Positions of ``picked`` rows equal to a row of ``taught`` (arrays).

    Each labelled row is read once for its sum (the memory of one number a
    row, not a copy of the labelled set); only the rows whose sum equals a
    pick's are compared in full. -0.0 equals 0.0; a row with NaN equals
    nothing.
    """
    taught = taught.reshape(len(taught), -1)
    picked = np.asarray(picked).reshape(len(picked), -1).astype(taught.dtype)
    sums, picked_sums = taught.sum(axis=1), picked.sum(axis=1)
    hits = []
    for position, (row, total) in enumerate(zip(picked, picked_sums, strict=True)):
        candidates = np.flatnonzero(sums == total)
        if candidates.size and (taught[candidates] == row).all(axis=1).any():
            hits.append(position)
    return hits


def _picked_copies(X_training, picked):
    """Positions of ``picked`` rows equal to labelled rows, or None where the
    containers cannot be compared (tensors, sparse matrices, dicts, ...)."""
    pd = sys.modules.get("pandas")
    frames = pd is not None and isinstance(X_training, pd.DataFrame | pd.Series)
    if frames and isinstance(picked, type(X_training)):
        known = set(pd.util.hash_pandas_object(X_training, index=False))
        keys = pd.util.hash_pandas_object(picked, index=False)
        return [i for i, key in enumerate(keys) if key in known]
    arrays = isinstance(X_training, np.ndarray) and isinstance(picked, np.ndarray)
    if arrays and X_training.dtype.kind in "biuf" and picked.dtype.kind in "biuf":
        if X_training.ndim >= 2 and X_training.shape[1:] == picked.shape[1:]:
            return _picked_numeric_copies(X_training, picked)
        return None
    texts = (list, np.ndarray)
    if isinstance(X_training, texts) and isinstance(picked, texts):
        known = [t for t in X_training if isinstance(t, str)]
        if len(known) == len(X_training):
            known = set(known)
            hit = [isinstance(t, str) and t in known for t in picked]
            return [i for i, h in enumerate(hit) if h]
    return None


def _warn_labelled_rows_picked(X_pool, query_idx, X_training, rows=None):
    """Warn where picked rows equal rows of the labelled set.

    The labelled rows left in the pool (the whole pool passed each round), or
    copies of them (a dataset with duplicates): a model whose members each
    miss some labelled rows (bagging, a Laplace head's draws) still finds
    them uncertain, and their labels are paid for twice. ``rows``: the
    caller's pool row of each position of ``X_pool``, for the message.
    """
    if X_training is None or len(query_idx) == 0:
        return
    try:
        hits = _picked_copies(X_training, take_rows(X_pool, query_idx))
    except (TypeError, ValueError):  # columns pandas cannot hash, ragged rows
        return
    if not hits:
        return
    positions = np.asarray(query_idx)[hits]
    pd = sys.modules.get("pandas")
    if rows is not None:
        named = f"pool rows {np.asarray(rows)[positions][:5].tolist()}"
    elif pd is not None and isinstance(X_pool, pd.DataFrame | pd.Series):
        # a DataFrame's rows by their index labels, what X_pool.drop takes
        named = f"index labels {X_pool.index[positions][:5].tolist()}"
    else:
        named = f"positions {positions[:5].tolist()}"
    if len(hits) > 5:
        named += ", ..."
    warnings.warn(
        f"{len(hits)} of the {len(query_idx)} picked rows ({named}) equal rows "
        "already labelled (X_training): the pool holds the labelled rows, or "
        "copies of them, and their labels would be paid for again. Leave the "
        "labelled rows and their copies out of the pool (np.setdiff1d of the "
        "positions, X_pool.drop(index=labels) for a DataFrame, or "
        "drop_duplicates before the loop).",
        SkbatchbaldWarning,
        stacklevel=user_stacklevel(),
    )


def _warn_repeated_index_labels(X_pool, query_idx):
    """Warn where a picked row's index label is on other pool rows too.

    ``rows.index`` then names more rows than were picked: the guide's
    ``y_pool.loc[rows.index]`` gets too many labels and
    ``X_pool.drop(index=rows.index)`` drops rows never labelled, in silence
    (a pool joined with ``pd.concat`` without ``ignore_index=True``).
    """
    pd = sys.modules.get("pandas")  # a pandas pool means pandas is imported
    if pd is None or not isinstance(X_pool, (pd.DataFrame, pd.Series)):
        return
    index = X_pool.index
    if isinstance(index, pd.RangeIndex) or len(query_idx) == 0:
        return  # no repeats possible
    # the picked labels looked up, not a hash of the whole index built: a
    # pool taken from a DataFrame is a new index at every query
    picked = index[query_idx].unique()
    hits = index.isin(picked)
    if int(hits.sum()) == len(picked):
        return
    counts = index[hits].value_counts()
    labels = counts.index[counts.to_numpy() > 1]
    n_rows = int(counts[labels].sum())
    warnings.warn(
        f"X_pool's index repeats the labels of {len(labels)} picked row(s) "
        f"({labels[:3].tolist()}, on {n_rows} pool rows), so the returned rows' "
        "index does not identify them: y_pool.loc[rows.index] and "
        "X_pool.drop(index=rows.index) take every row with those labels. Give "
        "the pool an index without repeats (pd.concat(..., ignore_index=True), "
        "or X_pool.reset_index() to keep the old labels as a column), or select "
        "by position: y_pool.iloc[idx].",
        SkbatchbaldWarning,
        stacklevel=user_stacklevel(),
    )


def _query_return(X_pool, query_idx, query_metrics, return_metrics):
    """What ``query`` returns: the indices, the rows in the pool's own type
    and, with ``return_metrics``, the metrics (None, with a warning, when
    the strategy gave indices only)."""
    query_instances = take_rows(X_pool, query_idx)
    _warn_repeated_index_labels(X_pool, query_idx)
    if not return_metrics:
        return query_idx, query_instances
    if query_metrics is None:
        warnings.warn(
            "The query strategy returned indices only, so there are no "
            "metrics to return; return (indices, scores) from it instead.",
            SkbatchbaldWarning,
            stacklevel=user_stacklevel(),
        )
    return query_idx, query_instances, query_metrics


class ActiveLearner(VersionedPickle, _ModalActiveLearner):
    """Pool-based active learner: modAL's ``ActiveLearner`` for scikit-learn >= 1.6.

    A drop-in replacement for :class:`modAL.models.ActiveLearner` with the same
    constructor and methods (``fit``, ``teach``, ``query``, ``predict``,
    ``predict_proba``, ``score``). Unlike modAL 0.4.2.1 it works on scikit-learn
    1.8 and later, supports ``get_params``, ``set_params``, ``clone``, ``repr``
    and pickling, stacks pandas, sparse, list and tensor training data (and
    dicts of them, a skorch net's several inputs, key by key; and torch
    Datasets, as Subsets of a pool), and calls the query strategy exactly
    once per ``query``.

    Parameters
    ----------
    estimator : estimator object
        The model trained on the labelled data, e.g. a classifier, a
        :class:`~sklearn.pipeline.Pipeline` or an ``MCDropoutClassifier``.
    query_strategy : callable, default=modAL.uncertainty.uncertainty_sampling
        ``query_strategy(learner, X_pool, n_instances=1)`` returning the picked
        indices, or the pair ``(indices, scores)``.
    X_training : array-like of shape (n_samples, ...) or dict, default=None
        Initial labelled samples; a dict of such arrays for a skorch net whose
        module takes several inputs (skorch's form). When given, the estimator
        is fitted on them during construction, as in modAL. They are stored as
        the attribute ``X_training`` but are not a parameter: ``clone`` returns
        an unfitted learner without training data.
    y_training : array-like of shape (n_samples,) or (n_samples, n_outputs), \
            default=None
        Labels of ``X_training``.
    bootstrap_init : bool, default=False
        Fit the initial model on a bootstrap resample of ``X_training``.
    on_transformed : bool, default=False
        Let strategies that support it (e.g. modAL's
        ``uncertainty_batch_sampling``) work on the pool as transformed by all
        steps of a Pipeline but the last.
    force_all_finite : "auto", bool or "allow-nan", default="auto"
        Whether ``X`` may hold missing values (NaN; in a DataFrame also
        ``None``, ``pd.NA``, ``NaT``) and infinity: modAL's parameter,
        scikit-learn's ``ensure_all_finite``. ``"auto"`` rejects infinity, and
        rejects missing values only for an estimator that does not accept
        them, as its scikit-learn tag ``allow_nan`` says, followed through a
        Pipeline (an imputer before the model makes it accept them), a search
        and a ColumnTransformer: a ``LogisticRegression`` rejects them, a
        ``HistGradientBoostingClassifier`` or a Pipeline that starts with a
        ``SimpleImputer`` accepts them. ``True`` rejects both, as modAL does
        by default; ``"allow-nan"`` rejects infinity only; ``False`` rejects
        neither. A DataFrame is checked as it is and reaches the estimator
        unchanged, its dtypes (``category`` included) kept.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds the bootstrap resamples (``bootstrap_init``, ``bootstrap=True``,
        modAL's ``Committee.rebag``): a seed starts a stream that later
        resamples continue, so each is new and a run repeats them all. numpy's
        global seed (``np.random.seed``, as modAL's examples set) plays no
        part: pass ``random_state``.
    **fit_kwargs : dict
        Passed to ``estimator.fit`` for the initial fit only, as in modAL.

    Attributes
    ----------
    X_training : array-like or None
        All samples the learner has been taught (``None`` before the first fit).
    y_training : array-like or None
        Their labels.

    See Also
    --------
    modAL.models.ActiveLearner : The class this one fixes.

    Notes
    -----
    ``teach(X, y, only_new=True)`` refits on ``X`` alone and, as in modAL
    0.4.2.1, does not add ``X`` to ``X_training``.

    A labelled set of one class that the estimator cannot be fitted on (a
    ``LogisticRegression`` on a cold start's first batch) is kept, the
    estimator left unfitted, with a warning, until a teach brings a second
    class (see :meth:`teach`).

    Ported from modAL's ``DeepActiveLearner``, whose ``teach`` trains on what
    it is given: here ``teach`` adds to what was taught, so pass only the newly
    labelled rows. A batch that starts with all rows taught so far (the
    labelled set passed again each round) is refused rather than trained on
    twice, and so is ``teach(X, y, only_new=True)`` with a skorch net that
    fit() re-initialises (``warm_start=False``), which would forget every
    earlier label; modAL's ``mc_dropout_*`` strategies are refused on an
    estimator with ``predict_log_proba_samples``, with the strategy to use.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbatchbald import ActiveLearner
    >>> X, y = load_digits(return_X_y=True)
    >>> learner = ActiveLearner(
    ...     RandomForestClassifier(n_estimators=10, random_state=0),
    ...     X_training=X[:20], y_training=y[:20],
    ... )
    >>> idx, rows = learner.query(X[20:], n_instances=5)
    >>> learner.teach(X[20:][idx], y[20:][idx])
    >>> learner.X_training.shape
    (25, 64)
    """

    def __init__(
        self,
        estimator,
        query_strategy=uncertainty_sampling,
        X_training=None,
        y_training=None,
        bootstrap_init=False,
        on_transformed=False,
        force_all_finite="auto",
        random_state=None,
        **fit_kwargs,
    ):
        # modAL's BaseLearner.__init__ asserts and never stores bootstrap_init;
        # store every parameter unchanged instead.
        self.estimator = estimator
        self.query_strategy = query_strategy
        self.bootstrap_init = bootstrap_init
        self.on_transformed = on_transformed
        self.force_all_finite = force_all_finite
        self.random_state = random_state
        self.X_training = None
        self.y_training = None
        # modAL's contract: initial data are fitted on construction.
        if X_training is not None or y_training is not None:
            self.fit(X_training, y_training, bootstrap=bootstrap_init, **fit_kwargs)

    @classmethod
    def _get_param_names(cls):
        return [name for name in super()._get_param_names() if name not in _DATA_PARAMS]

    def __sklearn_tags__(self):
        """The wrapped estimator's kind and target tags, so that scikit-learn
        treats the learner as the classifier or regressor it fits (stratified
        folds in ``cross_val_score``, the kind's default scorer)."""
        tags = super().__sklearn_tags__()
        if isinstance(self.estimator, list | tuple):
            return tags  # a list is refused at fit, with the fix
        try:
            inner = get_tags(self.estimator)
        except (AttributeError, TypeError):
            return tags  # an object scikit-learn has no tags for
        tags.estimator_type = inner.estimator_type
        tags.input_tags = inner.input_tags
        tags.target_tags = inner.target_tags
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        return tags

    def __sklearn_is_fitted__(self):
        """Whether the wrapped estimator is fitted (taught, or given fitted).

        scikit-learn's ``check_is_fitted`` asks this; a Pipeline ending in a
        learner, ``FrozenEstimator`` and ``CalibratedClassifierCV`` need it
        (a grid search over such a Pipeline scored NaN for every candidate).
        """
        try:
            check_is_fitted(self.estimator)
        except (NotFittedError, TypeError):
            return False
        model = final_model(self.estimator)
        if isinstance(model, FrozenEstimator):
            model = model.estimator  # frozen fitted: its model's attributes say
        try:
            requires_fit = get_tags(model).requires_fit
        except (AttributeError, TypeError, ValueError):  # no scikit-learn tags
            return True
        if requires_fit:
            return True
        # check_is_fitted passes a model that predicts unfitted (a Gaussian
        # process, from its prior) without looking: fitted is having learned
        # attributes, as scikit-learn reads it for other models
        return any(
            name.endswith("_") and not name.startswith("__") for name in vars(model)
        )

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X, **predict_proba_kwargs):
        """Class probabilities of the wrapped estimator.

        Only where the estimator has ``predict_proba`` (not an ``SVC()``), so
        that scikit-learn's scorers, soft voting and stacking take
        ``decision_function`` instead, as for the bare estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.
        **predict_proba_kwargs : dict
            Passed to the estimator's ``predict_proba``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The estimator's probabilities.
        """
        return self.estimator.predict_proba(X, **predict_proba_kwargs)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Class log-probabilities of the wrapped estimator, where it has them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The estimator's log-probabilities.
        """
        return self.estimator.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the wrapped estimator, where it has one.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The estimator's decision values.
        """
        return self.estimator.decision_function(X)

    @property
    def n_features_in_(self):
        """int: number of features the wrapped estimator was fitted on."""
        return self._fitted_attribute("n_features_in_")

    @property
    def feature_names_in_(self):
        """ndarray of str: the wrapped estimator's feature names, where it has them."""
        return self._fitted_attribute("feature_names_in_")

    def _fitted_attribute(self, name):
        """The estimator's fitted attribute ``name``, or an AttributeError
        naming the learner (``hasattr`` is False, as for a bare estimator)."""
        try:
            return getattr(self.estimator, name)
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__} has no {name}: its estimator "
                f"{type(self.estimator).__name__} has none (not fitted yet, or "
                "fitted without it)."
            ) from None

    @property
    def classes_(self):
        """ndarray of shape (n_classes,): the fitted estimator's class labels.

        Read by scikit-learn's probability scorers (``scoring="roc_auc"``,
        ``"neg_log_loss"``) and by modAL's multi-label strategies
        (``max_loss``, ``mean_max_loss``), which take the learner for the
        classifier it wraps.
        """
        return self._fitted_attribute("classes_")

    def _check_X_y(self, X, y, y_known=None):
        """Validate a labelled batch the way modAL meant to, with today's keyword.

        ``y_known``: the targets taught before, which y must be of a kind with.
        """
        _check_one_estimator(self.estimator)
        if X is None or y is None:
            missing = "X" if X is None else "y"
            raise ValueError(
                f"{missing} is None: pass both the samples X and their labels y "
                "(X_training and y_training together)."
            )
        _check_one_row_of_labels(X, y, y_known)
        _check_not_one_row_as_series(X, self.X_training)
        _check_text_rows(self.estimator, X, "X")
        if np.isscalar(y) or getattr(y, "ndim", None) == 0:
            label = y.item() if hasattr(y, "item") else y
            if _is_one_row_of_numbers(X):
                # X[i] of an array: one row's features, read as that many rows
                raise ValueError(
                    f"X has shape {tuple(X.shape)} and y is a single label "
                    f"({label!r}): one row of features and its label. Pass the "
                    "row as a 2-D block and the label in a list, e.g. "
                    f"teach(X_pool[i:i + 1], [{label!r}]) (or x.reshape(1, -1))."
                )
            raise ValueError(
                f"y is a single label ({label!r}), not one label per row of X: "
                f"pass a list, e.g. teach(X, [{label!r}]) for one row."
            )
        check_targets(
            self.estimator,
            y,
            y_known,
            is_regressor=is_regression_model(self.estimator),
            is_classifier=is_classifier(self.estimator),
        )
        warn_one_hot(self.estimator, y, y_known)
        if is_classifier(self.estimator):
            warn_label_slips(y, y_known)
        setting = self.force_all_finite
        if not (isinstance(setting, bool) or setting in ("allow-nan", "auto")):
            raise ValueError(
                "force_all_finite must be 'auto' (the default: missing values "
                "allowed where the estimator handles them), True, False or "
                f"'allow-nan'; got {setting!r}."
            )
        index_warning = _check_index_order(X, y)
        if index_warning and not getattr(self, "_warned_index_labels", False):
            # once: y may carry an index of its own in every batch, rightly
            self._warned_index_labels = True
            warnings.warn(
                index_warning, SkbatchbaldWarning, stacklevel=user_stacklevel()
            )
        finite = _finite_setting(self.estimator, setting)
        checked = {"setting": setting, "estimator": self.estimator}
        # A dict holds one array per input of a skorch module: each is checked.
        if is_torch_dataset(X):
            check_dataset(X, y)
        elif isinstance(X, Mapping):
            count_rows(X, "X")  # ValueError if the arrays differ in rows
            for key, values in X.items():
                _check_input(values, y, finite, f"X[{key!r}]: ", **checked)
        else:
            _check_input(X, y, finite, "", **checked)

    def _bootstrap(self, X, y, fit_kwargs):
        # a new resample at every call (rebag, teach): the seed starts a stream
        rng = random_stream(self, self.random_state)
        n_samples = count_rows(X, "X")
        idx = rng.integers(0, n_samples, size=n_samples)
        weights, others = split_row_weights(fit_kwargs)
        # a row's weight goes with the row into the resample
        for key, values in weights.items():
            if np.ndim(values) == 1 and len(values) == n_samples:
                others[key] = np.asarray(values)[idx]
            else:
                others[key] = values  # scikit-learn's own error, if any
        return take_rows(X, idx), take_rows(y, idx), others

    def _fit(self, X, y, bootstrap, fit_kwargs, *, labelled_set=False):
        """Fit the estimator on ``X, y``; ``labelled_set``: they are the
        learner's labelled set, kept unfitted if it holds one class the
        estimator cannot be fitted on (``_keep_unfitted``)."""
        check_random_state(self.random_state)  # validated with or without bootstrap
        # read before the resample: a resample of two classes may hold one,
        # and the labelled set is what a second class will complete
        single = None
        if labelled_set and not is_regression_model(self.estimator):
            single = _single_label(y)
        if bootstrap:
            X, y, fit_kwargs = self._bootstrap(X, y, fit_kwargs)
        fitted_on = X
        if is_torch_dataset(X) and is_skorch_net(self.estimator):
            from ._taught_dataset import taught_inputs

            search = is_search(self.estimator)
            fitted_on = taught_inputs(X, labels_array(y), search=search)
        try:
            # skorch's partial_fit swallows Ctrl-C and returns a model cut
            # short, which the caller would query and save as if trained
            with InterruptGuard() as guard:
                self.estimator.fit(fitted_on, y, **fit_kwargs)
            guard.check()
        except (TypeError, ValueError) as exc:
            message = skorch_inputs_message(self.estimator, X, exc)
            if message is not None:
                raise ValueError(message) from exc
            if getattr(self, "_fitted_before", False):
                message = _width_changed_message(self.estimator, exc)
                if message is not None:
                    raise ValueError(message) from exc
            if isinstance(exc, ValueError) and sp.issparse(y):
                # e.g. a forest's "sparse multilabel-indicator ... not supported"
                raise ValueError(
                    f"{exc} y is a sparse {type(y).__name__} of shape {y.shape}: "
                    "pass y.toarray() (a 0/1 label indicator is small), or build "
                    "it with MultiLabelBinarizer() without sparse_output=True."
                ) from exc
            message = _constant_label_columns_message(self.estimator, y, exc)
            if message is not None:
                raise ValueError(message) from exc
            if (
                isinstance(exc, ValueError)
                and is_one_hot(y)
                and "one-hot" not in str(exc)
            ):
                # e.g. LogisticRegression's "y should be a 1d array": name the fix
                raise ValueError(
                    f"{exc} y looks one-hot encoded (shape {np.shape(y)}, a single "
                    f"1 per row): {ONE_HOT_FIX}."
                ) from exc
            # scikit-learn's InvalidParameterError is a ValueError and a
            # TypeError: a bad parameter, whatever the classes
            one_class = isinstance(exc, ValueError) and not isinstance(exc, TypeError)
            if (
                single is not None
                and one_class
                and _parameters_valid(self.estimator)
                and self._keep_unfitted(single, exc)
            ):
                return self
            raise
        # a later fit that fails on the net's input width failed on a width
        # that changed between fits (_width_changed_message)
        self._fitted_before = True
        return self

    def _keep_unfitted(self, label, exc):
        """After a fit on one class raised ``exc``: leave the estimator
        unfitted, warn, and return True; False where it cannot be unfitted.

        A model that needs two classes (LogisticRegression, an
        MCDropoutClassifier without ``classes=``) cannot be fitted on a cold
        start's first batch of one class, and those labels were paid for:
        rolling them back would leave the user to keep them outside the
        learner. The failed fit may have left the estimator half-fitted
        (LogisticRegression sets ``classes_`` before it raises), or fitted on
        rows no longer in the labelled set (``fit``): either would look
        fitted to the strategies and to ``predict``.
        """
        if self.__sklearn_is_fitted__() and not _forget_fit(self.estimator):
            return False
        n_rows = count_rows(self.X_training, "X_training")
        warnings.warn(
            _one_class_message(self.estimator, label.tolist()[0], n_rows, exc),
            SkbatchbaldWarning,
            stacklevel=user_stacklevel(),
        )
        return True

    def _add_training_data(self, X, y):
        """Append a labelled batch to the training data without refitting."""
        self._check_X_y(X, y, self.y_training)
        if self.y_training is not None:
            # before the dtype is matched: a column of floats after a flat
            # list of ints is whole-number labels too
            y = _in_taught_label_shape(self.y_training, y)
        y = self._as_known_labels(y)
        self._check_not_taught_again(X, y)
        n_taught = 0 if self.X_training is None else count_rows(self.X_training, "X")
        if self.X_training is None:
            self.X_training, self.y_training = X, y
        else:
            # Both stacked before either is kept: a refused y leaves X as it was.
            X_training = _vstack_rows(self.X_training, X, name="X")
            y_training = _vstack_rows(self.y_training, y, name="y")
            self.X_training, self.y_training = X_training, y_training
        # The kept weights cover the new rows too (weight 1, until teach
        # joins the batch's own): modAL's Committee.teach adds rows here and
        # refits each member with _fit_to_known.
        kept = getattr(self, "_row_weights", {})
        self._row_weights = join_row_weights(kept, {}, n_taught, count_rows(X, "X"))

    def _as_known_labels(self, y):
        """Whole-number float labels after integer ones, as those integers.

        Stacked as they are, every label taught so far would become a float,
        and so would ``classes_`` and every prediction (1.0 for 1).
        """
        known = self.y_training
        if known is None or not is_classifier(self.estimator):
            return y
        if not isinstance(known, np.ndarray) or not isinstance(y, list | np.ndarray):
            return y  # pandas and tensors keep their own types
        values = np.asarray(y)
        if known.dtype.kind not in "iu" or values.dtype.kind != "f":
            return y
        if values.shape[1:] != known.shape[1:] or not np.isfinite(values).all():
            return y  # refused later, with the shapes
        if (values != np.round(values)).any():
            return y  # continuous: refused as a regression target
        # the known dtype where every value fits it (uint64 and int64 stack
        # into floats), else int64: -1.0 after uint8 labels is -1, not 255
        info = np.iinfo(known.dtype)
        if values.size == 0 or (info.min <= values.min() and values.max() <= info.max):
            return values.astype(known.dtype)
        if known.dtype.kind == "u" and known.dtype.itemsize == 8:
            return y  # no integer dtype holds both
        if np.abs(values).max() >= 2**63:
            return y
        return values.astype(np.int64)

    @contextmanager
    def _labelled_set_kept_on_error(self, call, *, note=True):
        """Put the labelled set and the estimator back as they were if the block
        raises (a failed fit), and say so on the error; ``call`` names it
        (``note=False``: a Committee says it once for its members)."""
        kept = (
            self.X_training,
            self.y_training,
            getattr(self, "_n_fit_rows", None),
            getattr(self, "_row_weights", None),
        )
        fitted_state = _fitted_state(self.estimator)
        try:
            yield
        except BaseException as exc:
            if fitted_state is None:
                message = (
                    f"{call}() was undone for X_training and "
                    "y_training; the estimator (a network, or warm_start=True, "
                    "which train in place) is as the failed fit left it: refit it "
                    "with learner.fit(learner.X_training, learner.y_training)."
                )
            else:
                _restore_fitted_state(fitted_state)
                message = (
                    f"{call}() was undone: X_training, y_training and "
                    "the estimator are as they were before the call."
                )
            if note and hasattr(exc, "add_note"):
                exc.add_note(message)
            self.X_training, self.y_training, n_fit_rows, row_weights = kept
            for name, value in (
                ("_n_fit_rows", n_fit_rows),
                ("_row_weights", row_weights),
            ):
                if value is None:
                    vars(self).pop(name, None)
                else:
                    setattr(self, name, value)
            raise

    def _fit_to_known(self, bootstrap=False, **fit_kwargs):
        """Fit the estimator on all training data taught so far, each row with
        the weight it was taught with (modAL's rebag calls this too)."""
        fit_kwargs = {**getattr(self, "_row_weights", {}), **fit_kwargs}
        return self._fit(
            self.X_training, self.y_training, bootstrap, fit_kwargs, labelled_set=True
        )

    def _fit_on_new(self, X, y, bootstrap=False, **fit_kwargs):
        """Fit the estimator on ``X, y`` only."""
        return self._fit(X, y, bootstrap, fit_kwargs)

    def _check_not_taught_again(self, X, y):
        """ValueError if X, y start with every row taught so far, or since fit."""
        if self.X_training is None:
            return
        n_taught, n_new = count_rows(self.X_training, "X_training"), count_rows(X, "X")
        # Rows given to fit() (or the constructor), then rows added by teach().
        for start in sorted({0, min(getattr(self, "_n_fit_rows", 0), n_taught)}):
            n_again = n_taught - start
            # Two rows at least: one row taught again may be a duplicate in the
            # pool; the new batch must also hold rows beyond the repeated ones.
            if not 2 <= n_again < n_new:
                continue
            if _same_rows(
                _rows(y, 0, n_again), _rows(self.y_training, start, n_taught)
            ) and _same_rows(
                _rows(X, 0, n_again), _rows(self.X_training, start, n_taught)
            ):
                raise ValueError(
                    f"the first {n_again} rows of X and y are the {n_again} rows "
                    "taught before, in the same order: teach() adds X to the "
                    f"{n_taught} rows taught so far, so the estimator would be "
                    f"trained on {n_taught + n_new} rows, {n_again} of them twice. "
                    "Pass only the newly labelled rows, e.g. "
                    "learner.teach(X_pool[query_idx], y_pool[query_idx]); the "
                    "learner keeps the rows it was taught in X_training. To train "
                    "on exactly the rows given (modAL DeepActiveLearner.teach), "
                    "call learner.fit(X, y)."
                )
        if is_torch_dataset(X) and is_torch_dataset(self.X_training):
            check_new_items(X, self.X_training)

    def fit(self, X, y, bootstrap=False, **fit_kwargs):
        """Forget all training data, then fit the estimator on ``X, y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...), dict of them, or torch Dataset
            Labelled samples; for a skorch net also a dict of inputs or a
            map-style Dataset (trained on the labels ``y``, not its own).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Their labels.
        bootstrap : bool, default=False
            Fit on a bootstrap resample of ``X, y`` (seeded by ``random_state``).
        **fit_kwargs : dict
            Passed to ``estimator.fit``. A ``sample_weight`` (or a Pipeline
            step's ``<step>__sample_weight``) is kept with the rows: each
            later ``teach`` joins its batch's weights to them.

        Returns
        -------
        self : ActiveLearner
            The fitted learner.

        Raises
        ------
        ValueError
            If ``X`` has no rows.

        Warns
        -----
        UserWarning
            If ``y`` holds one class and the estimator cannot be fitted on it;
            the rows are kept, the estimator left unfitted (see Notes).

        Notes
        -----
        If ``estimator.fit`` raises, ``X_training`` and ``y_training`` are
        left as they were before the call and the error propagates. Except
        for one class: when every label in ``y`` is the same and the fit
        raises a ``ValueError`` (a classifier that needs two classes, such as
        ``LogisticRegression``), ``X, y`` become the labelled set anyway, the
        estimator is left unfitted (a model of earlier rows is forgotten, in
        place) and a warning says so; the next :meth:`teach` that brings a
        second class fits on every row. The constructor's ``X_training`` and
        ``y_training`` are fitted this way too.
        """
        check_fit_kwargs(self.estimator, fit_kwargs)
        _check_not_empty(X, "fit")
        self._check_X_y(X, y)
        with self._labelled_set_kept_on_error("ActiveLearner.fit"):
            self.X_training, self.y_training = X, y
            self._n_fit_rows = count_rows(X, "X")
            # the weights given are the labelled set's; later batches join them
            self._row_weights, fit_kwargs = split_row_weights(fit_kwargs)
            return self._fit_to_known(bootstrap=bootstrap, **fit_kwargs)

    def teach(self, X, y, bootstrap=False, only_new=False, **fit_kwargs):
        """Add labelled samples to the training data and refit.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...), dict of them, or torch Dataset
            Newly labelled samples, e.g. the rows returned by :meth:`query`
            (a ``Subset`` of a Dataset pool), in the form taught before.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Their labels.
        bootstrap : bool, default=False
            Fit on a bootstrap resample (seeded by ``random_state``).
        only_new : bool, default=False
            Refit on ``X, y`` alone (for estimators that keep training across
            calls, such as a skorch net with ``warm_start=True``); as in modAL
            0.4.2.1 the samples are then not added to ``X_training``. A
            scikit-learn model then forgets the rows taught before (its fit
            fits the rows given, with ``warm_start=True`` too), with a
            warning.
        **fit_kwargs : dict
            Passed to ``estimator.fit``. A ``sample_weight`` (or
            ``<step>__sample_weight`` in a Pipeline) holds the new rows'
            weights, joined to those of the rows taught before (1 for rows
            taught without one), as ``X`` is to ``X_training``; one weight
            per row of the whole labelled set is also taken.

        Raises
        ------
        ValueError
            If ``X`` has no rows; if ``X, y`` start with every row taught so
            far (pass only the new rows), or ``only_new=True`` would make a
            skorch net with ``warm_start=False`` forget the rows taught before.
        TypeError
            If given ``warm_start``, an argument of modAL's
            ``DeepActiveLearner.teach``, or Keras ``fit`` arguments
            (``batch_size``, ``verbose``, ...) for a skorch net: set them on the
            estimator instead. ``epochs`` is skorch's own ``fit`` argument and
            is passed on (in a Pipeline, with the step's name as prefix).

        Warns
        -----
        UserWarning
            If the labelled set, these rows included, holds one class and
            the estimator cannot be fitted on it; the rows are kept, the
            estimator left unfitted (see Notes).

        Notes
        -----
        If ``estimator.fit`` raises, ``X_training``, ``y_training`` and the
        estimator are put back as they were before the call (a fit rebinds
        the attributes it learns, which are restored) and the error
        propagates, with a note saying so. A skorch net (alone or in a
        Pipeline) is not kept, since keeping it would hold a second copy of
        the network through every fit, nor an estimator with
        ``warm_start=True``, which trains its arrays in place: they are left
        as the failed fit left them, and the note says to refit.

        Except for one class. A cold start's first batches may all have the
        same label, which a classifier that needs two classes
        (``LogisticRegression``, an ``MCDropoutClassifier`` without
        ``classes=``) cannot be fitted on. When every label of the labelled
        set is the same and the fit raises a ``ValueError``, the rows are kept
        in ``X_training`` and ``y_training`` (with their ``sample_weight``),
        the estimator is left unfitted, so that ``predict`` and the posterior
        strategies raise ``NotFittedError``, and a warning says so. Query
        with :class:`~skbatchbald.RandomQuery` or
        :class:`~skbatchbald.TypiClustQuery` meanwhile; the teach that brings a
        second class fits on every kept row. With ``only_new=True`` no row is
        kept, so the error propagates as above.
        """
        if "warm_start" in fit_kwargs:
            raise TypeError(
                "ActiveLearner.teach takes no warm_start (modAL's "
                "DeepActiveLearner.teach does): set warm_start=True on the skorch "
                "net (e.g. MCDropoutClassifier(..., warm_start=True)) and call "
                "teach(X_new, y_new, only_new=True) to keep training on the new "
                "rows, or teach(X_new, y_new) to refit on every row taught."
            )
        check_fit_kwargs(self.estimator, fit_kwargs)
        _check_not_empty(X, "teach")
        if only_new:
            self._check_X_y(X, y, self.y_training)
            check_only_new(self.estimator, self.X_training)
            with self._labelled_set_kept_on_error("ActiveLearner.teach"):
                self._fit_on_new(X, y, bootstrap=bootstrap, **fit_kwargs)
            return
        if self.X_training is None:
            self._warn_if_fitted_elsewhere(X)
        with self._labelled_set_kept_on_error("ActiveLearner.teach"):
            taught = self.X_training
            n_taught = 0 if taught is None else count_rows(taught, "X_training")
            kept = getattr(self, "_row_weights", {})
            self._add_training_data(X, y)
            given, fit_kwargs = split_row_weights(fit_kwargs)
            self._row_weights = join_row_weights(
                kept, given, n_taught, count_rows(X, "X")
            )
            self._fit_to_known(bootstrap=bootstrap, **fit_kwargs)

    def _warn_if_fitted_elsewhere(self, X):
        """Warn that the first teach refits, on its rows alone, a model given
        fitted (modAL's contract: what it learned from data the learner was
        never given is lost, and a pre-fitted model is how users bring it)."""
        if getattr(self, "_fitted_before", False) or not self.__sklearn_is_fitted__():
            return
        model = final_model(self.estimator)
        if _refits_nothing(self.estimator):
            return  # a FrozenEstimator's fit does nothing
        params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
        if params.get("warm_start") is True:
            return  # it goes on from its fitted state
        name = type(self.estimator if isinstance(self.estimator, Pipeline) else model)
        warnings.warn(
            f"the {name.__name__} was given to ActiveLearner fitted (or "
            "with its weights initialised), and "
            f"teach() refits it on the labelled set, which holds only the "
            f"{count_rows(X, 'X')} rows taught now: what it learned from its own "
            "training data is lost. Pass that data to the learner "
            "(ActiveLearner(model, X_training=X_init, y_training=y_init)) so that "
            "every refit includes it.",
            SkbatchbaldWarning,
            stacklevel=user_stacklevel(),
        )

    def query(self, X_pool, *query_args, return_metrics=False, **query_kwargs):
        """Ask the query strategy which pool samples to label next.

        Parameters
        ----------
        X_pool : array-like of shape (n_pool, ...), dict of them, or torch Dataset
            The unlabelled pool (a Dataset for a skorch net: its labels are
            not read, and the items taught so far are left out, so the whole
            Dataset can be passed every round).
        *query_args : tuple
            Passed to the query strategy after ``X_pool``.
        return_metrics : bool, default=False
            Also return the strategy's scores of the picked samples.
        **query_kwargs : dict
            Passed to the query strategy, e.g. ``n_instances=10``.

        Returns
        -------
        query_idx : ndarray of int
            Indices into ``X_pool`` of the picked samples.
        query_instances : array-like
            The picked rows of ``X_pool``, in the pool's own type.
        query_metrics : ndarray or None
            The scores, only when ``return_metrics=True`` (``None``, with a
            warning, when the strategy returns bare indices).
        """
        if not callable(self.query_strategy):
            raise TypeError(
                "query_strategy must be callable as strategy(learner, X_pool, "
                f"n_instances=...); got {self.query_strategy!r}."
            )
        check_not_modal_dropout(self.query_strategy, self.estimator)
        check_modal_strategy_target(self.query_strategy, self.estimator)
        warn_modal_strategy_unfitted(self.query_strategy, self.__sklearn_is_fitted__())
        _check_text_rows(self.estimator, X_pool, "X_pool")
        untaught = None
        if is_torch_dataset(X_pool) and is_torch_dataset(self.X_training):
            untaught = untaught_items(X_pool, self.X_training)
        candidates = X_pool if untaught is None else take_rows(X_pool, untaught)
        n_instances = query_kwargs.get("n_instances")
        if (
            untaught is not None
            and isinstance(n_instances, int | np.integer)
            and n_instances > untaught.size
        ):
            raise ValueError(
                f"n_instances={n_instances}, but only {untaught.size} of the "
                f"pool's {len(X_pool)} items are untaught (the rest are in "
                "X_training, and a query leaves them out): ask for at most "
                f"{untaught.size}."
            )
        query_idx, query_metrics = _strategy_picks(
            self, candidates, query_args, query_kwargs
        )
        if untaught is not None:
            query_idx = untaught[query_idx]  # positions in the user's pool
        else:
            _warn_labelled_rows_picked(X_pool, query_idx, self.X_training)
        return _query_return(X_pool, query_idx, query_metrics, return_metrics)
