"""Whether log-probabilities sum to one over the class axis, and what to say if not.

The pass over an in-memory array (or one block of a chunked pool) behind
`check_log_probs`: dtype and shape checks, the chunked logsumexp, and a summary
small enough to merge over blocks.
"""

import sys
from dataclasses import dataclass

import numpy as np

from ._chunks import TILE_BYTES, row_slices

# Largest accepted |logsumexp_c log_probs[n, k, c]|, by the dtype the caller passed.
# 1e-3 in float32 is about 10^4 ulps at 0: log_softmax computed in float32 over
# thousands of classes stays well inside it. float64 gets 1e-5, not machine
# precision, so that float32 log-probs cast up to float64 (``.astype(np.float64)``,
# ``tensor.double()``) are still accepted. 16-bit floats (converted to float64) get
# 1e-2. An accepted float32/float64 row sums to 1 within 0.1 %, which moves an entropy
# by ~1e-3 nats at most, while probabilities (logsumexp >= log(C - 1 + e) > 1) and
# logits are off by far more than the tolerance.
LOGSUMEXP_TOL = {np.dtype(np.float32): 1e-3, np.dtype(np.float64): 1e-5}
_LOW_PRECISION_TOL = 1e-2
_LOW_PRECISION = {"float16", "torch.float16", "torch.bfloat16"}

_EXPECTED_SHAPE = "(n_pool, n_mc_samples, n_classes)"

# Rows of values in [log 0, 0] off by more than this (a sum off by 1 % or
# more) look like a multi-label model's per-label log p(y_l = 1), which need
# not sum to one; closer, they are log-probabilities with round-off.
_LABELS_LIKE = 0.01


def _to_numpy(log_probs):
    """Return a numpy view of a torch tensor (detached, on CPU), or the input as is.

    torch is only looked up if the caller already imported it: validating a numpy
    array never pays for importing torch.
    """
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(log_probs, torch.Tensor):
        return log_probs
    tensor = log_probs.detach().cpu()
    if tensor.dtype not in (torch.float32, torch.float64):
        # float16 / bfloat16 / integer tensors: numpy has no bfloat16
        tensor = tensor.to(torch.float64)
    return tensor.numpy()


def _as_real_float_array(log_probs, name):
    """Convert to a C-contiguous float32 or float64 array, rejecting non-real dtypes."""
    try:
        array = np.asarray(_to_numpy(log_probs))
    except (TypeError, ValueError) as exc:  # ragged nested lists, ...
        raise ValueError(
            f"{name} must be an array of real log-probabilities of shape "
            f"{_EXPECTED_SHAPE}; could not convert the {type(log_probs).__name__} "
            f"received: {exc}"
        ) from exc
    kind = array.dtype.kind
    if kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} must hold real numbers, got an object array that does not "
                f"convert to float64: {exc}"
            ) from exc
    elif kind not in "fiu":
        raise ValueError(
            f"{name} must hold real numbers (a float dtype), got dtype {array.dtype}"
        )
    if array.dtype not in LOGSUMEXP_TOL:
        array = array.astype(np.float64)
    # not np.ascontiguousarray: it turns a 0-d array into a 1-d one
    return array if array.flags.c_contiguous else array.copy(order="C")


@dataclass(frozen=True)
class Normalisation:
    """What one pass over (part of) a pool found about its rows' normalisation.

    Small whatever the pool's size: blocks of a chunked pool each return one, and
    `merge_normalisations` combines them, so that no (N, K) array is ever built.

    Attributes
    ----------
    worst : float
        Largest ``|logsumexp_c log_probs[n, k, c]|`` seen (NaN rows excluded);
        -1.0 if every row was NaN.
    value : float
        The logsumexp itself at that place.
    where : tuple of int
        ``(n, k)`` of ``worst``, in pool coordinates.
    invalid : bool
        Whether some row is NaN or off by more than the tolerance.
    nan, posinf : tuple of int or None
        ``(n, k, c)`` of the first NaN / +inf in pool order, in pool
        coordinates, or None if there is none.
    probs_like : bool
        Whether every part looked like probabilities (values in [0, 1] summing to
        one over the class axis).
    nonpositive : bool
        Whether every value lies in [log 0, 0] (within the tolerance), as
        log-probabilities do: rows that do not sum to one over the last axis
        then look like the per-label log p(y_l = 1) of a multi-label model.
    """

    worst: float
    value: float
    where: tuple
    invalid: bool
    nan: tuple | None
    posinf: tuple | None
    probs_like: bool
    nonpositive: bool


def _first(mask, offset):
    """``(n, k, c)`` of the first True of a chunk's mask, n in pool terms."""
    if not mask.any():
        return None
    n, k, c = np.unravel_index(int(np.argmax(mask)), mask.shape)
    return (offset + int(n), int(k), int(c))


def _looks_like_probabilities(array):
    return bool(
        array.min() >= 0.0
        and array.max() <= 1.0
        and np.allclose(array.sum(axis=-1, dtype=np.float64), 1.0, rtol=0, atol=1e-2)
    )


def normalisation(array, tol, offset=0):
    """Check that each row of a (n, K, C) float32/float64 array sums to one.

    logsumexp over the class axis is accumulated in float64, chunk by chunk (a few
    MB each). No max-shift: valid log-probabilities are <= 0 with a row maximum >=
    -log C, so exp neither overflows nor underflows to an all-zero row; invalid
    inputs give inf, -inf or NaN, which are reported.

    Parameters
    ----------
    array : ndarray of shape (n, K, C), float32 or float64
    tol : float
        Largest accepted ``|logsumexp|``.
    offset : int, default=0
        Pool index of ``array[0]``, for the location in messages.

    Returns
    -------
    summary : Normalisation
    """
    n_rows, n_mc_samples, n_classes = array.shape
    worst, value, where = -1.0, np.nan, (offset, 0)
    invalid = False
    nan = posinf = None
    probs_like = nonpositive = True
    row_bytes = n_mc_samples * n_classes * 8
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        for rows in row_slices(n_rows, row_bytes, TILE_BYTES):
            chunk = array[rows]
            # einsum: 3-5x faster than .sum(axis=-1) over a short class axis
            total = np.einsum("nkc->nk", np.exp(chunk), dtype=np.float64)
            lse = np.log(total)  # (chunk, K)
            deviation = np.abs(lse)
            if (deviation <= tol).all():  # NaN compares False
                probs_like = False  # valid log-probabilities hold negative values
                finite = deviation
            else:
                invalid = True
                nan = nan or _first(np.isnan(chunk), offset + rows.start)
                posinf = posinf or _first(np.isposinf(chunk), offset + rows.start)
                probs_like = probs_like and _looks_like_probabilities(chunk)
                # a valid row's values are <= its logsumexp, within tol of 0;
                # NaN makes the max NaN, which compares False
                nonpositive = nonpositive and bool(chunk.max() <= tol)
                finite = np.where(np.isnan(deviation), -1.0, deviation)
            n, k = np.unravel_index(np.argmax(finite), finite.shape)
            if finite[n, k] > worst:
                worst, value = float(finite[n, k]), float(lse[n, k])
                where = (offset + rows.start + int(n), int(k))
    return Normalisation(
        worst, value, where, invalid, nan, posinf, probs_like and invalid, nonpositive
    )


def merge_normalisations(parts):
    """One `Normalisation` for the pool from those of its blocks, in pool order."""
    worst = max(parts, key=lambda part: part.worst)  # first of equal worsts
    invalid = any(part.invalid for part in parts)
    return Normalisation(
        worst.worst,
        worst.value,
        worst.where,
        invalid,
        next((part.nan for part in parts if part.nan), None),
        next((part.posinf for part in parts if part.posinf), None),
        invalid and all(part.probs_like for part in parts),
        all(part.nonpositive for part in parts),
    )


def not_normalised_message(summary, tol, name):
    """Say why the rows of a pool do not sum to one, and what to do about it."""
    for what, at in (("NaN", summary.nan), ("+inf", summary.posinf)):
        if at:
            n, k, c = at
            return (
                f"{name} contains {what} (first at [n={n}, k={k}, c={c}]); "
                "log-probabilities must be finite or -inf"
            )
    n, k = summary.where
    where = (
        f"logsumexp over the class axis must be 0 (tolerance {tol:g}), got "
        f"{summary.value:.6g} at [n={n}, k={k}]"
    )
    if summary.probs_like:
        return (
            f"{name} looks like probabilities, not log-probabilities (values in "
            f"[0, 1] that sum to 1 over the class axis): did you pass "
            f"probabilities? use np.log (or torch.log); {where}"
        )
    logits = (
        "apply log_softmax over the class axis (scipy.special.log_softmax(x, "
        "axis=-1) / torch.log_softmax(x, dim=-1))"
    )
    if summary.nonpositive and summary.worst > _LABELS_LIKE:
        # log_softmax would make one categorical of independent labels, silently
        return (
            f"{name} is not normalised over the class axis, but every value "
            "lies in [log 0, 0], as log-probabilities do: if these are "
            "per-label log p(y_l = 1) of a multi-label model (independent "
            "yes/no labels, as predict_multilabel_log_proba_samples gives "
            "them), use skbatchbald.acquisition.multilabel_bald or "
            "multilabel_batchbald (BALDQuery, PowerBALDQuery and BatchBALDQuery "
            "score a multi-label learner so), not log_softmax, which would "
            f"make one categorical of the labels; if they are logits, {logits}; "
            f"{where}"
        )
    return (
        f"{name} is not normalised over the class axis; if these are logits, "
        f"{logits}; {where}"
    )


def tolerance(log_probs, dtype):
    """Largest accepted |logsumexp| for input ``log_probs`` converted to ``dtype``."""
    if str(getattr(log_probs, "dtype", "")) in _LOW_PRECISION:
        return _LOW_PRECISION_TOL
    return LOGSUMEXP_TOL[np.dtype(dtype)]


def check_shape(shape, name="log_probs"):
    """ValueError unless ``shape`` is (N, K, C) with N >= 1, K >= 1 and C >= 2."""
    if len(shape) != 3:
        raise ValueError(
            f"{name} must be 3-d with shape {_EXPECTED_SHAPE}, got an array of "
            f"shape {shape}"
        )
    n_pool, n_mc_samples, n_classes = shape
    if n_pool == 0:
        raise ValueError(
            f"{name} has an empty pool (n_pool == 0, shape {shape}); expected "
            f"shape {_EXPECTED_SHAPE} with at least one pool point"
        )
    if n_mc_samples == 0:
        raise ValueError(
            f"{name} has no posterior samples (n_mc_samples == 0, shape "
            f"{shape}); expected shape {_EXPECTED_SHAPE} with n_mc_samples >= 1"
        )
    if n_classes < 2:
        raise ValueError(
            f"{name} must have at least 2 classes, got n_classes={n_classes} "
            f"(shape {shape}, expected {_EXPECTED_SHAPE})"
        )
