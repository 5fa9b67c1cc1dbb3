"""What a model does with a missing value (NaN) in its input.

scikit-learn's tag ``allow_nan`` is read for one estimator; it does not
follow a Pipeline (which answers False even after a SimpleImputer), a
ColumnTransformer, a search or a learner, so these are followed here. The
learner's input check and the stopping rules' stop-set check both ask, so
that a table with missing values is refused only for a model sure to refuse
it. numpy only: scikit-learn's classes are looked up in ``sys.modules``, as
in :mod:`skbatchbald._models`.
"""

import sys

import numpy as np

from ._models import _is_instance, is_search

__all__ = ["PASSES", "REFUSES", "REMOVES", "UNKNOWN", "has_missing", "nan_flow"]

# What a model, or a preprocessing step, does with a missing value.
PASSES, REMOVES, REFUSES, UNKNOWN = "passes", "removes", "refuses", "unknown"


def _members_flow(flows):
    """A set of models each fed the same inputs: the worst of their flows."""
    for flow in (REFUSES, UNKNOWN, PASSES):
        if flow in flows:
            return flow
    return REMOVES


def _wrapped(step):
    """The model a wrapper hands its inputs to unchanged, or None."""
    if hasattr(step, "estimator") and hasattr(step, "query_strategy"):
        return step.estimator  # a modAL learner
    if is_search(step):
        return step.estimator  # best_estimator_ has its structure
    # FrozenEstimator and CalibratedClassifierCV hand X to their estimator as
    # it is, but tag themselves by their own defaults (allow_nan False).
    for module, name in (
        ("sklearn.frozen", "FrozenEstimator"),
        ("sklearn.calibration", "CalibratedClassifierCV"),
    ):
        if _is_instance(step, module, name):
            return step.estimator
    if _is_instance(step, "sklearn.compose", "TransformedTargetRegressor"):
        return step.regressor
    return None


def nan_flow(step):
    """Whether ``step`` passes NaN on, removes it, refuses it, or cannot be told.

    A Pipeline refuses NaN when a step that refuses it comes before any
    imputer; a ColumnTransformer removes it when every branch does, and
    otherwise cannot be told, as its branches see only some columns (the NaN
    may be in others): callers then leave the NaN to the model, whose own
    error names the step that refuses it. Members fed the same inputs (a
    Committee, a list, a FeatureUnion) give the worst of their flows.

    Returns
    -------
    flow : {PASSES, REMOVES, REFUSES, UNKNOWN}
    """
    if step is None or isinstance(step, str):
        return REMOVES if step == "drop" else PASSES  # "passthrough"
    if _is_instance(step, "sklearn.pipeline", "Pipeline"):
        for _, inner in step.steps:
            flow = nan_flow(inner)
            if flow != PASSES:
                return flow
        return PASSES
    inner = _wrapped(step)
    if inner is not None:
        return nan_flow(inner)
    if hasattr(step, "learner_list"):  # a modAL Committee
        return _members_flow({nan_flow(member) for member in step.learner_list})
    if isinstance(step, list | tuple):
        return _members_flow({nan_flow(member) for member in step})
    if _is_instance(step, "sklearn.compose", "ColumnTransformer"):
        branches = [branch for _, branch, _ in step.transformers]
        flows = {nan_flow(branch) for branch in [*branches, step.remainder]}
        return REMOVES if flows == {REMOVES} else UNKNOWN
    if _is_instance(step, "sklearn.pipeline", "FeatureUnion"):  # all columns each
        return _members_flow({nan_flow(branch) for _, branch in step.transformer_list})
    utils = sys.modules.get("sklearn.utils")
    try:
        allow_nan = utils.get_tags(step).input_tags.allow_nan
    except (AttributeError, TypeError, ValueError):
        return UNKNOWN  # an object scikit-learn has no tags for
    if not allow_nan:
        return REFUSES
    if type(step).__module__.startswith("sklearn.impute"):
        return REMOVES  # the imputers, and MissingIndicator's 0/1 columns
    return PASSES


def has_missing(X):
    """Whether a table X holds a missing value (NaN, None, pd.NA, NaT)."""
    if hasattr(X, "isna") and hasattr(X, "columns"):  # a DataFrame
        return bool(X.isna().to_numpy().any())
    try:
        array = np.asarray(X) if hasattr(X, "dtype") else np.asarray(X, dtype=object)
    except (TypeError, ValueError, RuntimeError):  # ragged rows, GPU tensors
        return False
    if array.dtype.kind == "f":
        return bool(np.isnan(array).any())
    if array.dtype.kind == "O":
        return any(_is_missing_value(value) for value in array.ravel())
    return False


def _is_missing_value(value):
    """None, pd.NA or NaN (the one value that differs from itself); a cell
    holding an array or another object is not a missing value."""
    if value is None or type(value).__name__ == "NAType":
        return True
    try:
        return bool(value != value)
    except (TypeError, ValueError):  # an array in a cell: ambiguous truth
        return False
