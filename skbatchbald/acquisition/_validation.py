"""Input validation shared by every acquisition function.

Every public function of :mod:`skbatchbald.acquisition` starts with these checks, so
that a wrong input fails once, early, with a message that names the parameter, the
value received and what is expected -- never as a NaN score or a silent bad pick.
"""

import numbers
import os
import re
import sys

import numpy as np

from .._validation import check_int, check_random_state
from ._chunks import TILE_BYTES, row_slices

# check_random_state is the package-wide one, re-exported for the acquisition
# modules: every acquisition function validates random_state the same way.
__all__ = [
    "check_log_probs",
    "check_max_memory",
    "check_n_instances",
    "check_random_state",
]

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


def _logsumexp_over_classes(array):
    """logsumexp over the last axis, shape (N, K), accumulated in float64.

    No max-shift: valid log-probabilities are <= 0 with a row maximum >= -log C, so
    exp neither overflows nor underflows to an all-zero row. Invalid inputs give inf,
    -inf or NaN here, which the caller reports.
    """
    n_pool, n_mc_samples, n_classes = array.shape
    out = np.empty((n_pool, n_mc_samples), dtype=np.float64)
    row_bytes = n_mc_samples * n_classes * array.itemsize
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        for rows in row_slices(n_pool, row_bytes, TILE_BYTES):
            probs = np.exp(array[rows])  # (chunk, K, C)
            # einsum: 3-5x faster than .sum(axis=-1) over a short class axis
            total = np.einsum("nkc->nk", probs, dtype=np.float64)  # (chunk, K)
            np.log(total, out=out[rows])
    return out


def _not_normalised_message(array, lse, tol, name):
    """Say why rows of ``array`` do not sum to one, and what to do about it."""
    if np.isnan(array).any():
        return f"{name} contains NaN; log-probabilities must be finite or -inf"
    if np.isposinf(array).any():
        return f"{name} contains +inf; log-probabilities must be finite or -inf"
    worst = np.unravel_index(np.nanargmax(np.abs(lse)), lse.shape)
    where = (
        f"logsumexp over the class axis must be 0 (tolerance {tol:g}), got "
        f"{lse[worst]:.6g} at [n={worst[0]}, k={worst[1]}]"
    )
    looks_like_probs = (
        array.min() >= 0.0
        and array.max() <= 1.0
        and np.allclose(array.sum(axis=-1, dtype=np.float64), 1.0, rtol=0, atol=1e-2)
    )
    if looks_like_probs:
        return (
            f"{name} looks like probabilities, not log-probabilities (values in "
            f"[0, 1] that sum to 1 over the class axis): did you pass "
            f"probabilities? use np.log (or torch.log); {where}"
        )
    return (
        f"{name} is not normalised over the class axis; if these are logits, "
        f"apply log_softmax over the class axis (scipy.special.log_softmax(x, "
        f"axis=-1) / torch.log_softmax(x, dim=-1)); {where}"
    )


def check_log_probs(log_probs, *, name="log_probs"):
    """Validate posterior log-probabilities of shape (N, K, C).

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_classes)
        ``log p(y = c | x_n, ω_k)`` for N pool points, K posterior samples and C
        classes. Torch tensors are detached and moved to the CPU; no gradient flows.
        ``-inf`` entries (probability exactly 0) are valid.
    name : str, default="log_probs"
        Name of the parameter, used in error messages.

    Returns
    -------
    log_probs : ndarray of shape (n_pool, n_mc_samples, n_classes)
        C-contiguous. float32 stays float32 and float64 stays float64; any other
        real dtype (float16, integers, ...) becomes float64. The input is returned
        without a copy when it is already a C-contiguous float32/float64 array.

    Raises
    ------
    ValueError
        If the array is not 3-d; if ``n_pool == 0``, ``n_mc_samples == 0`` or
        ``n_classes < 2``; if it holds NaN or +inf; or if some row is not
        normalised, i.e. ``|logsumexp_c log_probs[n, k, c]|`` exceeds 1e-3 for
        float32, 1e-5 for float64 or 1e-2 for float16 / bfloat16 input. The
        message then says whether the values look like probabilities (use
        ``np.log``) or like logits (use ``log_softmax``).

    Notes
    -----
    The float64 tolerance is looser than float64 round-off so that float32
    log-probabilities cast to float64 pass. An accepted float32 or float64 row
    sums to one within 0.1 %. The check costs one ``exp`` pass over the array,
    in chunks of a few MB.
    """
    array = _as_real_float_array(log_probs, name)
    if array.ndim != 3:
        raise ValueError(
            f"{name} must be 3-d with shape {_EXPECTED_SHAPE}, got an array of "
            f"shape {array.shape}"
        )
    n_pool, n_mc_samples, n_classes = array.shape
    if n_pool == 0:
        raise ValueError(
            f"{name} has an empty pool (n_pool == 0, shape {array.shape}); expected "
            f"shape {_EXPECTED_SHAPE} with at least one pool point"
        )
    if n_mc_samples == 0:
        raise ValueError(
            f"{name} has no posterior samples (n_mc_samples == 0, shape "
            f"{array.shape}); expected shape {_EXPECTED_SHAPE} with n_mc_samples >= 1"
        )
    if n_classes < 2:
        raise ValueError(
            f"{name} must have at least 2 classes, got n_classes={n_classes} "
            f"(shape {array.shape}, expected {_EXPECTED_SHAPE})"
        )
    lse = _logsumexp_over_classes(array)  # (N, K)
    if str(getattr(log_probs, "dtype", "")) in _LOW_PRECISION:
        tol = _LOW_PRECISION_TOL
    else:
        tol = LOGSUMEXP_TOL[array.dtype]
    if not (np.abs(lse) <= tol).all():  # NaN compares False: caught here too
        raise ValueError(_not_normalised_message(array, lse, tol, name))
    return array


def check_n_instances(n_instances, n_pool):
    """Validate the number of points to acquire.

    Parameters
    ----------
    n_instances : int
        A Python or numpy integer; ``bool`` and floats (even integral ones) are
        rejected.
    n_pool : int
        Number of pool points.

    Returns
    -------
    n_instances : int

    Raises
    ------
    TypeError
        If ``n_instances`` is not an integer.
    ValueError
        If ``n_instances`` is not in ``[1, n_pool]``.
    """
    return check_int(
        n_instances,
        "n_instances",
        max_val=n_pool,
        hint=f"a batch of at most n_pool={n_pool} points",
    )


_DEFAULT_MAX_MEMORY = 2**30  # 1 GiB

_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_MEMORY_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)\s*", re.IGNORECASE)

_MAX_MEMORY_FORMS = (
    "None (min(1 GiB, a quarter of the available memory)), a positive int (bytes), "
    "or a string such as '512MB', '2.5 GB' or '1GiB' (units B, KB, MB, GB, TB = "
    "powers of 1000; KiB, MiB, GiB, TiB = powers of 1024; case-insensitive)"
)


def _available_memory():
    """Memory available to a new allocation in bytes, or None where unknown.

    Linux's ``MemAvailable`` counts the page cache the kernel can drop; the free
    page count alone does not, so a warm file cache (a memmapped pool, say)
    would shrink the default budget to almost nothing.
    """
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return available if available > 0 else None


def check_max_memory(max_memory):
    """Validate a memory budget and return it in bytes.

    Parameters
    ----------
    max_memory : None, int or str
        ``None``: ``min(1 GiB, available / 4)``, where ``available`` is the
        memory a new allocation can get (Linux's ``MemAvailable``, which counts
        reclaimable page cache; elsewhere the free physical memory; 1 GiB where
        the OS reports neither). An ``int`` > 0: bytes. A string: a
        number and a unit, e.g. ``"512MB"``, ``"2.5 GB"``, ``"1GiB"``; B, KB, MB,
        GB, TB are powers of 1000 and KiB, MiB, GiB, TiB powers of 1024; case and
        spaces are ignored.

    Returns
    -------
    max_memory : int
        Bytes, >= 1.

    Raises
    ------
    TypeError
        If ``max_memory`` is neither None, an int nor a string.
    ValueError
        If it is an int < 1 or a string that is not a positive size; the
        message lists the accepted forms.
    """
    if max_memory is None:
        available = _available_memory()
        if available is None:
            return _DEFAULT_MAX_MEMORY
        return max(1, min(_DEFAULT_MAX_MEMORY, available // 4))
    if isinstance(max_memory, numbers.Integral) and not isinstance(
        max_memory, bool | np.bool_
    ):
        if max_memory > 0:
            return int(max_memory)
    elif isinstance(max_memory, str):
        match = _MEMORY_RE.fullmatch(max_memory)
        if match is not None and match.group(2).lower() in _UNITS:
            n_bytes = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
            if n_bytes > 0:
                return n_bytes
    else:
        raise TypeError(
            f"max_memory must be {_MAX_MEMORY_FORMS}; got {max_memory!r} of type "
            f"{type(max_memory).__name__}"
        )
    raise ValueError(f"max_memory must be {_MAX_MEMORY_FORMS}; got {max_memory!r}")
