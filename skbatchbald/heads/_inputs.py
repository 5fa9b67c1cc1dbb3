"""Checks of embedding arrays (N, d): shape, dtype, dimension, finiteness."""

import contextlib

import numpy as np
import scipy.sparse as sp

__all__ = ["check_embeddings", "finite_float32"]


def check_embeddings(X, estimator, n_features=None):
    """X as a 2-D numeric array (a memmap stays one); ValueError otherwise.

    Finiteness is checked later, chunk by chunk (:func:`finite_float32`), so a
    memmapped pool is never read whole.
    """
    name = type(estimator).__name__
    if sp.issparse(X):
        raise TypeError(
            f"{name} takes dense embeddings; sparse data was passed (a "
            f"{type(X).__name__}). Pass X.toarray() if it fits in memory."
        )
    if (
        hasattr(X, "__getitem__")
        and hasattr(X, "__len__")
        and not hasattr(X, "shape")
        and type(X).__module__.startswith("torch.utils.data")
    ):
        # a TensorDataset of embeddings, as an MCDropoutClassifier takes one
        raise TypeError(
            f"{name} takes an array of embeddings (n_samples, n_features), not a "
            f"torch {type(X).__name__}: pass its tensor (a TensorDataset's "
            "dataset.tensors[0]) or the embeddings as a numpy array or memmap."
        )
    if hasattr(X, "columns") and hasattr(X, "to_numpy"):  # pandas DataFrame
        X = X.to_numpy()
    elif hasattr(X, "detach") and hasattr(X, "cpu"):  # torch tensor
        X = X.detach().cpu().numpy()
    try:
        X = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"X must be an array of embeddings of shape (n_samples, n_features): {exc}."
        ) from exc
    if X.dtype.kind == "O":
        with contextlib.suppress(TypeError, ValueError):  # else refused below
            X = X.astype(np.float64)
    if X.dtype.kind == "c":
        raise ValueError(
            "Complex data not supported: X must hold real embeddings, got an "
            f"array of dtype {X.dtype}; pass the real part or re-embed."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"X must hold real numbers (embeddings), got an array of dtype "
            f"{X.dtype}; pass the float embeddings your encoder returns."
        )
    if X.ndim != 2:
        raise ValueError(
            f"X must be a 2-D array of embeddings (n_samples, n_features), got "
            f"shape {X.shape}. Reshape your data: {name} is a head on fixed-size "
            "embeddings: embed "
            "images or sequences with your encoder first (and flatten them, "
            "X.reshape(len(X), -1)); a single embedding is X.reshape(1, -1)."
        )
    for axis, what in ((0, "sample"), (1, "feature")):
        if X.shape[axis] == 0:
            raise ValueError(
                f"Found array with 0 {what}(s) (shape={X.shape}) while a minimum "
                "of 1 is required."
            )
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features, but {name} is expecting {n_features} "
            f"features as input: it was fitted on embeddings of dimension "
            f"{n_features}. Embed the pool with the encoder the labelled rows "
            "came from, or fit again on embeddings of the new encoder."
        )
    return X


def finite_float32(X, start=0):
    """A chunk of embeddings as float32; ValueError naming non-finite rows.

    ``start`` is the chunk's first row in the whole array, for the message.
    """
    with np.errstate(over="ignore"):  # an overflow is reported below, as inf
        chunk = np.asarray(X, dtype=np.float32)
    if not chunk.flags.writeable:
        chunk = chunk.copy()  # a read-only memmap: torch warns on such arrays
    finite = np.isfinite(chunk).all(axis=1)
    if not finite.all():
        bad = start + np.flatnonzero(~finite)
        raise ValueError(
            f"X contains NaN or infinity in {bad.size} row(s) (first: "
            f"{bad[:5].tolist()}); embeddings must be finite. Drop or re-embed "
            "those rows (keep = np.isfinite(X).all(axis=1)), or check the "
            "encoder (values beyond float32's range overflow to infinity)."
        )
    return chunk
