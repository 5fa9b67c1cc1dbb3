"""Stacking labelled batches of any container scikit-learn estimators accept."""

import numpy as np
import scipy.sparse as sp


def _is_pandas(obj):
    # Checked by module name so that pandas is imported only when in use.
    return type(obj).__module__.partition(".")[0] == "pandas"


def _is_torch(obj):
    return type(obj).__module__.partition(".")[0] == "torch"


def vstack_rows(first, second, *, name="X"):
    """Stack two row blocks, keeping the container type of the first.

    Parameters
    ----------
    first, second : array-like, sparse matrix, DataFrame, Series, tensor or list
        The rows taught so far and the new rows.
    name : str, default="X"
        Used in error messages.

    Returns
    -------
    stacked : same container type as ``first``
        ``first`` followed by ``second``.

    Raises
    ------
    ValueError
        If the blocks' trailing shapes differ.
    """
    # np.shape reads .shape where there is one (sparse, pandas, torch).
    first_shape, second_shape = tuple(np.shape(first)[1:]), tuple(np.shape(second)[1:])
    if first_shape != second_shape:
        raise ValueError(
            f"The new {name} has rows of shape {second_shape} but the {name} taught "
            f"so far has rows of shape {first_shape}; every batch must have the "
            "same features."
        )
    if sp.issparse(first) or sp.issparse(second):
        fmt = first.format if sp.issparse(first) else "csr"
        return sp.vstack([first, second], format=fmt)
    if _is_pandas(first):
        import pandas as pd

        if not _is_pandas(second):
            second = type(first)(np.asarray(second), **_pandas_axes(first))
        return pd.concat([first, second])
    if _is_torch(first):
        import torch

        return torch.cat([first, torch.as_tensor(second, dtype=first.dtype)])
    if isinstance(first, list):
        return [*first, *list(second)]
    return np.concatenate([np.asarray(first), np.asarray(second)])


def _pandas_axes(frame):
    """Keyword arguments that give new rows the same columns (or name)."""
    if hasattr(frame, "columns"):
        return {"columns": frame.columns}
    return {"name": frame.name}
