"""Input validation shared by every acquisition function.

Every public function of :mod:`skbatchbald.acquisition` starts with these checks, so
that a wrong input fails once, early, with a message that names the parameter, the
value received and what is expected -- never as a NaN score or a silent bad pick.
"""

from .._validation import check_int, check_random_state
from ._normalisation import (
    _as_real_float_array,
    check_shape,
    normalisation,
    not_normalised_message,
    tolerance,
)
from ._pool import as_chunked_pool

# check_random_state is the package-wide one, re-exported for the acquisition
# modules: every acquisition function validates random_state the same way.
__all__ = [
    "check_log_probs",
    "check_n_instances",
    "check_random_state",
]


def check_log_probs(log_probs, *, name="log_probs"):
    """Validate posterior log-probabilities of shape (N, K, C).

    Parameters
    ----------
    log_probs : array-like, torch.Tensor, numpy.memmap or dask.array.Array of \
shape (n_pool, n_mc_samples, n_classes)
        ``log p(y = c | x_n, ω_k)`` for N pool points, K posterior samples and C
        classes. Torch tensors are detached and moved to the CPU; no gradient flows.
        ``-inf`` entries (probability exactly 0) are valid.
    name : str, default="log_probs"
        Name of the parameter, used in error messages.

    Returns
    -------
    log_probs : ndarray, numpy.memmap or dask.array.Array of shape \
(n_pool, n_mc_samples, n_classes)
        In memory: C-contiguous. float32 stays float32 and float64 stays float64;
        any other real dtype (float16, integers, ...) becomes float64. The input is
        returned without a copy when it is already a C-contiguous float32/float64
        array. A memmap is returned as is and a dask array with its K and C axes
        in one chunk (rechunked if needed), after a pass over their row blocks
        (see ``_pool.py``): neither is read into memory whole.

    Raises
    ------
    ValueError
        If the array is not 3-d; if ``n_pool == 0``, ``n_mc_samples == 0`` or
        ``n_classes < 2``; if it holds NaN or +inf; or if some row is not
        normalised, i.e. ``|logsumexp_c log_probs[n, k, c]|`` exceeds 1e-3 for
        float32, 1e-5 for float64 or 1e-2 for float16 / bfloat16 input. The
        message then says whether the values look like probabilities (use
        ``np.log``), like a multi-label model's per-label log-probabilities
        (values in [log 0, 0]: use ``multilabel_bald`` or
        ``multilabel_batchbald``) or like logits (use ``log_softmax``).

    Notes
    -----
    The float64 tolerance is looser than float64 round-off so that float32
    log-probabilities cast to float64 pass. An accepted float32 or float64 row
    sums to one within 0.1 %. The check costs one ``exp`` pass over the array,
    in chunks of a few MB.
    """
    pool = as_chunked_pool(log_probs)
    if pool is not None:
        pool.check(name)
        return pool.array
    array = _as_real_float_array(log_probs, name)
    check_shape(array.shape, name)
    tol = tolerance(log_probs, array.dtype)
    summary = normalisation(array, tol)
    if summary.invalid:
        raise ValueError(not_normalised_message(summary, tol, name))
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
