"""The model inside a wrapper, and whether it takes a dict of inputs.

Learners, Pipelines, searches, Committees and lists all hold one model that
does the predicting; the sampling engine samples it and the learner's checks
name it. numpy only: scikit-learn's and skorch's classes are looked up in
``sys.modules`` (an instance of one means its module is imported), so any
layer may ask.
"""

import sys
import warnings
from collections.abc import Mapping

import numpy as np

from ._arrays import is_torch_dataset, none_placeholder_message
from ._warnings import SkbatchbaldWarning, user_stacklevel

__all__ = [
    "check_model_noise",
    "final_model",
    "inner_model",
    "is_search",
    "is_skorch_net",
    "missing_texts_message",
    "skorch_inputs_message",
    "text_table_message",
    "warn_if_noise_dwarfs",
]


def _is_instance(obj, module, name):
    found = sys.modules.get(module)  # not imported: obj cannot be one
    return found is not None and isinstance(obj, getattr(found, name))


def inner_model(estimator):
    """The model one wrapper level holds, or None when there is nothing inside.

    A modAL learner holds its estimator, a Pipeline its last step, a
    TransformedTargetRegressor its regressor, a Committee or list its first
    member, a search its best estimator (or, unfitted, the estimator it tunes).
    """
    if hasattr(estimator, "estimator") and hasattr(estimator, "query_strategy"):
        return estimator.estimator  # a modAL learner
    if _is_instance(estimator, "sklearn.pipeline", "Pipeline"):
        return estimator[-1]
    if _is_instance(estimator, "sklearn.compose", "TransformedTargetRegressor"):
        return getattr(estimator, "regressor_", estimator.regressor)
    if hasattr(estimator, "learner_list"):  # a modAL Committee
        learners = list(estimator.learner_list)
        return learners[0] if learners else None
    if isinstance(estimator, (list, tuple)):
        return estimator[0] if estimator else None
    best = getattr(estimator, "best_estimator_", None)
    if best is not None:
        return best
    if is_search(estimator):
        return estimator.estimator  # an unfitted search: the model it tunes
    return None


def wrapper_chain(estimator):
    """``estimator``, then each model inside it (`inner_model`), outermost first."""
    for _ in range(20):  # wrappers nest a few levels at most
        yield estimator
        estimator = inner_model(estimator)
        if estimator is None:
            return


def final_model(estimator):
    """The model a learner, Pipeline, search, Committee or list predicts with."""
    *_, model = wrapper_chain(estimator)
    return model


def wraps_transformed_target(estimator):
    """Whether a TransformedTargetRegressor is among the wrappers of ``estimator``."""
    return any(
        _is_instance(model, "sklearn.compose", "TransformedTargetRegressor")
        for model in wrapper_chain(estimator)
    )


def is_skorch_net(estimator):
    """Whether the model inside ``estimator`` is a skorch net.

    skorch is looked up, not imported: an estimator can only be a net once it
    is. A skorch net is the one model that takes a dict of inputs (each key an
    argument of its module's forward).
    """
    return _is_instance(final_model(estimator), "skorch", "NeuralNet")


def is_search(estimator):
    """Whether ``estimator`` is a hyperparameter search (grid, randomized, halving)."""
    return hasattr(estimator, "param_grid") or hasattr(estimator, "param_distributions")


def _steps_before(estimator):
    """Names of the steps that transform X before the final model, at any level."""
    names = []
    for _ in range(20):  # wrappers nest a few levels at most
        if _is_instance(estimator, "sklearn.pipeline", "Pipeline"):
            names += [
                name
                for name, step in estimator.steps[:-1]
                if step is not None and step != "passthrough"
            ]
        inner = inner_model(estimator)
        if inner is None:
            return names
        estimator = inner
    return names


def skorch_inputs_message(estimator, X, exc):
    """Why ``estimator`` failed on ``X`` when skorch's form of X is to blame.

    A model that is no skorch net takes no torch Dataset and no dict of
    inputs; a skorch net inside a search takes a dict only as skorch's
    ``SliceDict``, since scikit-learn counts a plain dict's keys as its rows.
    Returns None for other X, or a form the model takes (the failure is then
    the model's own).
    """
    if is_torch_dataset(X):
        net = is_skorch_net(estimator)
        before = _steps_before(estimator) if net else []
        if before:
            return (
                f"X is a torch Dataset, and the Pipeline's steps {before} before "
                f"the {type(final_model(estimator)).__name__} get it as it is, "
                f"which they cannot read ({exc}). Transform the items in the "
                "Dataset's __getitem__ (e.g. torchvision transforms) or in the "
                "module, and give the net alone; or pass arrays."
            )
        if net:
            # torch's collate names the type it cannot batch; other failures
            # are the net's own
            return none_placeholder_message(X) if "NoneType" in str(exc) else None
        return (
            f"X is a {type(X).__name__}, a torch Dataset, which only a skorch "
            f"net reads; the {type(final_model(estimator)).__name__} is none and "
            f"failed on it ({exc}). Pass the rows as an array, or use a skorch "
            "net (e.g. MCDropoutClassifier) as the estimator."
        )
    if not isinstance(X, Mapping):
        return None
    keys = ", ".join(repr(key) for key in X)
    model = type(final_model(estimator)).__name__
    if not is_skorch_net(estimator):
        return (
            f"X is a dict of inputs ({keys}), the form a skorch net takes for a "
            "module with several inputs (each key an argument of its forward), "
            f"but the {model} is none and failed on it ({exc}). Pass one array, "
            "e.g. np.hstack of the inputs in a fixed order (the one the model "
            "was fitted on), or use a skorch net such as MCDropoutClassifier "
            "whose module takes those keys."
        )
    if is_search(estimator) and not _is_instance(X, "skorch.helper", "SliceDict"):
        return (
            f"{type(estimator).__name__} failed on X given as a plain dict of "
            f"inputs ({keys}): {exc}. scikit-learn counts a dict's keys as its "
            f"rows; the {model} it tunes takes the dict, but the search needs "
            "skorch's row-sliceable form: pass skorch.helper.SliceDict(**X)."
        )
    return None


def _text_vectorizer(estimator):
    """The text vectorizer that reads X first (a Pipeline's first step, at any
    wrapper level: CountVectorizer, TfidfVectorizer, HashingVectorizer), or None."""
    module = "sklearn.feature_extraction.text"
    for _ in range(20):  # wrappers nest a few levels at most
        if _is_instance(estimator, module, "CountVectorizer") or _is_instance(
            estimator, module, "HashingVectorizer"
        ):
            return estimator
        if _is_instance(estimator, "sklearn.pipeline", "Pipeline"):
            steps = [s for _, s in estimator.steps if s not in (None, "passthrough")]
            inner = steps[0] if steps else None
        else:
            inner = inner_model(estimator)
        if inner is None:
            return None
        estimator = inner
    return None


def text_table_message(estimator, X, name):
    """Why a text pipeline cannot read ``X``: a table (a DataFrame, a 2-D array)
    where its vectorizer reads one document per item; None otherwise.

    A vectorizer iterates over what it is given: a DataFrame's column names,
    a 2-D array's rows (arrays, not strings), so ``df[["text"]]`` failed deep
    inside scikit-learn ("inconsistent numbers of samples", "'numpy.ndarray'
    object has no attribute 'lower'").
    """
    if getattr(X, "ndim", None) != 2:
        return None
    vectorizer = _text_vectorizer(estimator)
    if vectorizer is None:
        return None
    reads_rows = callable(getattr(vectorizer, "analyzer", None)) or callable(
        getattr(vectorizer, "preprocessor", None)
    )
    if reads_rows and not hasattr(X, "columns"):
        return None  # a callable analyzer or preprocessor may take array rows
    shape = "x".join(str(n) for n in X.shape)
    return (
        f"{name} is a table ({type(X).__name__} of shape {shape}), and the "
        f"{type(vectorizer).__name__} that reads it first takes one document per "
        "item of a 1-D sequence: it would read a DataFrame's column names, or a "
        "2-D array's rows, as the documents. Pass the text column as a 1-D "
        "sequence: df['text'] (not df[['text']]), X.ravel() for an array of "
        "one column, or a list of strings; or put a ColumnTransformer that "
        "selects the column before the vectorizer."
    )


def missing_texts_message(estimator, X, name):
    """Why a text pipeline cannot read ``X``: missing documents (None, NaN)
    among the texts of a 1-D sequence; None otherwise.

    The vectorizer fails on the first one with "'NoneType' object has no
    attribute 'lower'" or "np.nan is an invalid document", and the learner's
    missing-value advice (an imputer, allow-nan) is for numeric columns.
    """
    if getattr(X, "ndim", 1) != 1 or isinstance(X, (str, bytes, Mapping)):
        return None
    vectorizer = _text_vectorizer(estimator)
    if vectorizer is None or any(
        callable(getattr(vectorizer, name, None))
        for name in ("preprocessor", "analyzer")
    ):
        return None  # a preprocessor or analyzer of the user's may read them
    if not hasattr(X, "__len__") or not hasattr(X, "__getitem__"):
        return None
    items = X.tolist() if hasattr(X, "tolist") else list(X)
    missing = [
        i
        for i, item in enumerate(items)
        if item is None
        or (isinstance(item, float) and item != item)
        or type(item).__name__ in ("NAType", "NaTType")  # pandas' missing values
    ]
    if not missing:
        return None
    fill = (
        f"{name}.fillna('')"
        if hasattr(X, "fillna")
        else "[t if isinstance(t, str) else '' for t in texts]"
    )
    return (
        f"{name} holds {len(missing)} missing text(s) (None or NaN) at position(s) "
        f"{missing[:5]}, and the {type(vectorizer).__name__} that reads it first "
        "takes strings only. Give them an empty text, e.g. "
        f"{fill}, or leave those rows out; an imputer or "
        "force_all_finite='allow-nan' is for numeric columns."
    )


def check_model_noise(noise, estimator, owner):
    """ValueError for a model whose own noise estimate is 0: a noiseless GP.

    ``noise`` is :func:`model_noise_variance`'s answer, taken because the
    user gave none; ``owner`` names what needed it (the strategy or rule).
    """
    if noise is None or noise > 0:
        return
    model = final_model(estimator)
    what = (
        f"{type(model).__name__} has no observation noise (alpha="
        f"{float(sum(np.ravel(model.alpha))):g} and no WhiteKernel in its kernel)"
        if _is_instance(model, "sklearn.gaussian_process", "GaussianProcessRegressor")
        else f"{type(model).__name__} estimates its observation noise as 0"
    )
    raise ValueError(
        f"{owner} takes the noise variance from the model when noise_variance is "
        f"None, and the {what}: a label without noise would carry infinite "
        "information. Give the model its noise (for a Gaussian process, a "
        "WhiteKernel() added to its kernel, or alpha > 0), or pass the "
        f"measurement's noise variance: {owner}(noise_variance=...)."
    )


# A noise variance this many times the largest posterior variance of the inputs
# leaves every label below 1/2 log(1.01) = 0.005 nats: suspect its units.
_NOISE_DWARFS = 100.0


def warn_if_noise_dwarfs(noise, variance, estimator, consequence, owner):
    """Warn when a given noise variance is far above every posterior variance.

    Every score is then near 0 (``consequence`` says what follows for
    ``owner``); the usual cause is a σ² in other units than the model's
    predictions (y's units for a TransformedTargetRegressor, sampled in its
    transformed target's).
    """
    largest = float(np.max(variance))
    if largest * _NOISE_DWARFS >= noise:
        return
    inside = (
        " The model is a TransformedTargetRegressor, whose predictions are "
        "scored in its transformed target's units: give σ² in those."
        if wraps_transformed_target(estimator)
        else ""
    )
    warnings.warn(
        f"{owner}: noise_variance={noise:.6g} is over {_NOISE_DWARFS:.0f} times "
        "the largest posterior variance of the predictions it scores "
        f"({largest:.6g}), so no label carries more than 0.005 nats and "
        f"{consequence}. Check that σ² is in the squared units of the "
        f"predictions the model is sampled in.{inside} None uses the model's "
        "own estimate (for a model without one, the mean sample variance).",
        SkbatchbaldWarning,
        stacklevel=user_stacklevel(),
    )
