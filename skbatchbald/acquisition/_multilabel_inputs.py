"""Multi-label posterior samples: validation, and each label as a binary output.

A multi-label model gives, for N pool points, K posterior samples and L
labels, ``log p(y_l = 1 | x_n, ω_k)``: an array of shape (N, K, L). Each label
is a Bernoulli output; ``log p(y_l = 0 | x_n, ω_k) = log(1 - p)`` is derived
here, so the caller never passes it.
"""

import numpy as np

from ._normalisation import _as_real_float_array, tolerance

__all__ = ["binary_log_probs", "check_label_log_probs"]

_SHAPE = "(n_pool, n_mc_samples, n_labels)"


def check_label_log_probs(log_probs, *, name="log_probs"):
    """Validate multi-label log-probabilities ``log p(y_l = 1 | x_n, ω_k)``.

    Parameters
    ----------
    log_probs : array-like or torch.Tensor of shape (n_pool, n_mc_samples, n_labels)
        One log-probability per label; ``-inf`` (probability 0) allowed.
    name : str, default="log_probs"
        Name of the parameter in error messages.

    Returns
    -------
    log_probs : ndarray of shape (n_pool, n_mc_samples, n_labels), float64
        Values above 0 by no more than float rounding (1e-3 for float32
        input, 1e-5 for float64) are read as log 1 = 0.

    Raises
    ------
    ValueError
        If the array is not 3-d or has an empty axis; if it holds NaN or
        +inf; or if a value exceeds 0 by more than rounding: such values are
        probabilities (pass ``np.log``) or logits (pass ``logsigmoid``).
    """
    array = _as_real_float_array(log_probs, name)
    if array.ndim != 3 or 0 in array.shape:
        raise ValueError(
            f"{name} must have shape {_SHAPE}, one log p(y_l = 1) per pool "
            f"point, posterior sample and label, got shape {array.shape}."
        )
    worst = float(array.max())  # NaN if any is: one pass finds both
    if np.isnan(worst):
        raise ValueError(
            f"{name} holds NaN; the model's log-probabilities are broken "
            "(diverged training?): NaN is never read as a probability."
        )
    tol = tolerance(log_probs, array.dtype)
    if worst > tol:
        if worst == np.inf:
            hint = "it holds +inf"
        elif array.min() >= 0 and worst <= 1:
            hint = "its values lie in [0, 1]: probabilities? pass np.log of them"
        else:
            hint = "logits? pass torch.nn.functional.logsigmoid of them"
        raise ValueError(
            f"{name} must hold log-probabilities of each label being 1 (values "
            f"<= 0), but its largest value is {worst:.6g}; {hint}."
        )
    if worst <= 0 and array.dtype == np.float64:
        return array  # nothing to round down: no copy of the pool
    return np.minimum(array, 0.0, dtype=np.float64)


def binary_log_probs(log_probs):
    """Each label as a binary output: shape (N, K, L, 2), [log p(0), log p(1)].

    ``log(1 - p)`` is computed from ``log p`` as ``log(-expm1(log p))`` near
    p = 1 and ``log1p(-exp(log p))`` elsewhere, each where it keeps its
    precision (Mächler 2012, "Accurately computing log(1 - exp(-|a|))").
    """
    with np.errstate(divide="ignore"):  # p = 1 exactly: log(1 - p) = -inf
        log_zero = np.where(
            log_probs > -np.log(2.0),
            np.log(-np.expm1(np.minimum(log_probs, -0.0))),
            np.log1p(-np.exp(np.minimum(log_probs, -np.log(2.0)))),
        )
    return np.stack([log_zero, log_probs], axis=-1)
