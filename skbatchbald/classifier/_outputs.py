"""What a module's outputs are, and whether they suit the criterion.

A module that ends in a softmax trains under ``CrossEntropyLoss`` without any
error, but the loss applies a second softmax and the net reaches a much worse
score. skorch's ``NeuralNetClassifier`` takes the log of the outputs under
``NLLLoss``, so logits or log-probabilities give NaN losses there. Both are
told apart from logits by one batch of outputs.
"""

import torch

__all__ = ["check_outputs_suit_criterion", "refuse_tuple_outputs"]

# Softmax rows of float32 sum to 1 within about C * 6e-8. Read as "these are
# probabilities" (an error under CrossEntropyLoss) only within the tight
# tolerance (per class, at least 1e-4), so that logits are not mistaken for
# them by chance; read as "these are not probabilities" (an error under
# NLLLoss) only beyond the loose one, so that half-precision softmax outputs
# pass.
_TIGHT, _TIGHT_PER_CLASS = 1e-4, 2e-7
_LOOSE = {torch.float16: 1e-2, torch.bfloat16: 1e-2}
_LOOSE_DEFAULT = 1e-3

_SOFTMAX_UNDER_CROSS_ENTROPY = (
    "the module's outputs are probabilities (every row >= 0 and summing to 1: "
    "it ends in a softmax), but criterion=CrossEntropyLoss applies its own "
    "log-softmax to them, which trains the net badly without any error. Return "
    "logits (drop the final softmax), or keep the softmax and pass "
    "criterion=torch.nn.NLLLoss (the log is then taken for you)."
)
_LOG_PROBABILITIES_UNDER_NLL = (
    "the module's outputs are log-probabilities (it ends in a log_softmax), "
    "but with criterion=NLLLoss the classifier takes the log of the outputs, as "
    "skorch's NeuralNetClassifier does (it expects probabilities), which gives "
    "NaN losses. Return logits with criterion=torch.nn.CrossEntropyLoss (the "
    "default); log_softmax outputs work with it too."
)
_LOGITS_UNDER_NLL = (
    "the module's outputs are not probabilities (rows must be >= 0 and sum to "
    "1), but with criterion=NLLLoss the classifier takes their log, as skorch's "
    "NeuralNetClassifier does, which gives NaN losses. Return logits with "
    "criterion=torch.nn.CrossEntropyLoss (the default), or end the module in a "
    "softmax to keep NLLLoss."
)


def _rows_sum_to_one(proba, atol):
    return bool(torch.allclose(proba.sum(-1), torch.ones(()), rtol=0, atol=atol))


def are_probabilities(output, atol):
    """Whether every row of ``output`` (B, C) is >= 0 and sums to 1 within atol."""
    output = output.detach().float()
    return bool((output >= 0).all()) and _rows_sum_to_one(output, atol)


def are_log_probabilities(output, atol):
    """Whether every row of ``output`` (B, C) is <= 0 and its exp sums to 1."""
    output = output.detach().float()
    return bool((output <= 0).all()) and _rows_sum_to_one(output.exp(), atol)


def check_outputs_suit_criterion(output, criterion):
    """ValueError if the outputs (B, C) do not suit ``criterion``.

    Under ``CrossEntropyLoss`` the outputs must not be probabilities (logits
    or log-probabilities are fine: ``log_softmax`` is idempotent); under
    ``NLLLoss`` they must be probabilities. Other criteria are not checked.

    Parameters
    ----------
    output : torch.Tensor of shape (batch, n_classes)
        One batch of the module's outputs.
    criterion : torch.nn.Module or None
        The classifier's criterion (unwrapped from ``torch.compile``).

    Raises
    ------
    ValueError
        If the outputs and the criterion do not match, saying what to change.
    """
    if not isinstance(output, torch.Tensor) or output.ndim != 2 or not len(output):
        return
    loose = _LOOSE.get(output.dtype, _LOOSE_DEFAULT)
    if isinstance(criterion, torch.nn.CrossEntropyLoss):
        if are_probabilities(output, max(_TIGHT, _TIGHT_PER_CLASS * output.shape[1])):
            raise ValueError(_SOFTMAX_UNDER_CROSS_ENTROPY)
    elif isinstance(criterion, torch.nn.NLLLoss):
        if are_probabilities(output, loose):
            return
        if are_log_probabilities(output, loose):
            raise ValueError(_LOG_PROBABILITIES_UNDER_NLL)
        raise ValueError(_LOGITS_UNDER_NLL)


def refuse_tuple_outputs(output, criterion, net, what="logits"):
    """ValueError if a module's several outputs would reach a torch loss.

    skorch hands ``forward``'s return value to the criterion as it is, so a
    tuple such as ``(logits, features)`` fails inside torch ("argument
    'input' must be Tensor, not tuple"). Criteria of other origins may take
    tuples and are left alone.

    Parameters
    ----------
    output : object
        What the module's ``forward`` returned for one batch.
    criterion : torch.nn.Module or None
        The net's criterion (unwrapped from ``torch.compile``).
    net : str
        The net's class name, for the fix.
    what : str, default="logits"
        What the first output must be.

    Raises
    ------
    ValueError
        If ``output`` is a tuple and ``criterion`` is one of torch's losses.
    """
    if not isinstance(output, tuple) or criterion is None:
        return
    if not type(criterion).__module__.startswith("torch.nn"):
        return
    shapes = ", ".join(
        str(tuple(o.shape)) if isinstance(o, torch.Tensor) else type(o).__name__
        for o in output
    )
    raise ValueError(
        f"the module's forward returns a tuple of {len(output)} outputs "
        f"({shapes}), but criterion={type(criterion).__name__} takes one tensor "
        f"of {what}. Return the {what} alone from forward (compute other outputs "
        f"in another method), or keep the tuple and subclass {net} so that the "
        "loss reads its first element, as skorch's FAQ does for modules with "
        "several outputs: def get_loss(self, y_pred, y_true, *args, **kwargs): return "
        "super().get_loss(y_pred[0], y_true, *args, **kwargs). Prediction and "
        f"posterior sampling already take the first output as the {what}."
    )


def log_softmax_rows(logits, out=None):
    """``log_softmax`` over the last dimension of float32 logits, in three passes.

    The same numbers as ``torch.log_softmax`` within float32 rounding; about
    three times faster on a CPU for the few classes of a (rows x K, C) batch of
    samples, where torch's kernel is not vectorised over rows. ``out``: a
    float32 tensor of the logits' shape to write the result into (the
    samples' own array, so that it is not copied there afterwards).
    """
    logits = logits.float()
    shifted = logits - logits.amax(dim=-1, keepdim=True)
    return torch.sub(shifted, shifted.exp().sum(dim=-1, keepdim=True).log(), out=out)
