"""Class weights of the loss: scikit-learn's ``class_weight`` or skorch's
``criterion__weight``, one float32 weight per class in ``classes_`` order.

``class_weight`` names classes by label ("balanced", or ``{label: weight}``), so
it cannot land on the wrong class. ``criterion__weight`` is positional, in
``classes_`` order, which is sorted: skorch keeps ``classes=`` in the order
given, so weights written in that order would weigh other classes here.
"""

import inspect
import numbers
from collections.abc import Mapping

import numpy as np
import torch

from .._labels import shown_labels

__all__ = [
    "check_class_weight",
    "class_weight_vector",
    "criterion_takes_weight",
    "criterion_weight_vector",
    "set_class_weight",
]


def check_class_weight(class_weight, classes, criterion_weight, owner):
    """ValueError for a bad ``class_weight``, or one that clashes.

    Checked with the other parameters, before fitting: ``class_weight`` is
    None, ``"balanced"`` or a mapping of labels to finite weights >= 0; it is
    not given with ``criterion__weight``; and ``criterion__weight`` is not
    given with ``classes`` in another order than ``classes_``'s sorted one.
    """
    name = type(owner).__name__
    if class_weight is not None and criterion_weight is not None:
        raise ValueError(
            f"{name} got both class_weight and criterion__weight: both weigh the "
            "loss per class. Pass one: class_weight={label: weight} or "
            "'balanced' (by label), or criterion__weight (a tensor in classes_ "
            "order)."
        )
    if criterion_weight is not None and classes is not None and len(classes):
        given = np.asarray(classes)
        order = np.sort(given)
        if not np.array_equal(given, order):
            raise ValueError(
                f"criterion__weight is positional, in classes_ order, and "
                f"classes_ holds the labels sorted ({order.tolist()}), not in the "
                f"order of classes={given.tolist()}: the weights would fall on other "
                "classes than written. Pass classes in sorted order with the "
                f"weights in that order, or class_weight={{label: weight}}."
            )
    if class_weight is None or (
        isinstance(class_weight, str) and class_weight == "balanced"
    ):
        return
    if not isinstance(class_weight, Mapping):
        raise ValueError(
            f"class_weight must be None, 'balanced' (weights inversely "
            f"proportional to the class counts of each fit's labels) or a dict "
            f"of label: weight, got {class_weight!r}."
        )
    for label, weight in class_weight.items():
        if (
            isinstance(weight, bool | np.bool_)
            or not isinstance(weight, numbers.Real)
            or not np.isfinite(weight)
            or weight < 0
        ):
            raise ValueError(
                f"class_weight[{label!r}] must be a finite real >= 0, got {weight!r}."
            )


def class_weight_vector(class_weight, classes, y_index):
    """``class_weight`` as one float32 weight per class of ``classes``.

    Parameters
    ----------
    class_weight : "balanced" or mapping
        Checked by `check_class_weight`. "balanced": ``n / (n_present *
        count_c)`` for the classes present in the labels (scikit-learn's
        formula over those classes), 1 for the others (no row of theirs is
        weighed). A mapping: its weights, 1 for the labels it leaves out.
    classes : ndarray of shape (n_classes,)
        ``classes_``, sorted.
    y_index : ndarray of shape (n_samples,), int
        The labels of this fit, as indices into ``classes``.

    Returns
    -------
    weights : ndarray of shape (n_classes,), float32
    """
    weights = np.ones(len(classes), dtype=np.float64)
    if isinstance(class_weight, str):  # "balanced"
        y_index = np.asarray(y_index)
        # a label outside classes (-1) is refused by the loss, with its name
        counts = np.bincount(y_index[y_index >= 0], minlength=len(classes))
        present = counts > 0
        weights[present] = counts.sum() / (present.sum() * counts[present])
        return weights.astype(np.float32)
    index = {label: i for i, label in enumerate(classes.tolist())}
    unknown = [label for label in class_weight if _plain(label) not in index]
    if unknown:
        raise ValueError(
            f"class_weight names {unknown!r}, which are not classes; the classes "
            f"are {shown_labels(classes)}."
        )
    for label, weight in class_weight.items():
        weights[index[_plain(label)]] = float(weight)
    return weights.astype(np.float32)


def _plain(label):
    """A numpy scalar label as the Python value ``tolist`` gives."""
    return label.item() if isinstance(label, np.generic) else label


def criterion_weight_vector(weight, classes):
    """skorch's ``criterion__weight`` checked against ``classes_``, float32.

    A tensor, array or list of one finite weight >= 0 per class, in
    ``classes_`` order (float64 and numpy weights are cast: torch's loss would
    refuse them).
    """
    if isinstance(weight, torch.Tensor):
        weight = weight.detach().cpu().numpy()
    try:
        weights = np.asarray(weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"criterion__weight must hold one number per class, got {weight!r}."
        ) from exc
    if weights.shape != (len(classes),):
        raise ValueError(
            f"criterion__weight must hold one weight per class, in classes_ order "
            f"({shown_labels(classes)}): {len(classes)} values, got shape "
            f"{weights.shape}. class_weight={{label: weight}} names the classes "
            "instead."
        )
    if not (np.isfinite(weights).all() and (weights >= 0).all()):
        raise ValueError(
            f"criterion__weight must hold finite weights >= 0, got {weights.tolist()}."
        )
    return weights.astype(np.float32)


def criterion_takes_weight(criterion):
    """Whether a criterion (class or instance) has a per-class ``weight``."""
    if not isinstance(criterion, type):
        return hasattr(criterion, "weight")
    try:
        return "weight" in inspect.signature(criterion).parameters
    except (TypeError, ValueError):  # no signature: let the fit tell
        return True


def refuse_unweighted_criterion(criterion, owner):
    """ValueError where class weights are asked of a criterion without them."""
    if not criterion_takes_weight(criterion):
        name = criterion.__name__ if isinstance(criterion, type) else type(criterion)
        raise ValueError(
            f"class weights need a criterion with a per-class weight (such as "
            f"torch.nn.CrossEntropyLoss), but {type(owner).__name__} has "
            f"{getattr(name, '__name__', name)}: weigh the classes in it, or "
            "leave class_weight and criterion__weight out."
        )


def set_class_weight(criterion, weights, from_class_weight, device):
    """Give ``criterion`` its class weights (None: none), on ``device``.

    Weights from ``class_weight`` are recomputed at every fit from the
    parameter and the labels, so they are not part of the criterion's saved
    state (a checkpoint loads into a fresh net, which has no weight yet);
    skorch's ``criterion__weight`` stays the buffer torch saves.
    """
    if weights is None and not hasattr(criterion, "weight"):
        return  # a criterion of its own, and nothing to weigh
    if weights is not None:
        weights = torch.as_tensor(weights, device=device)
    if "weight" in getattr(criterion, "_buffers", {}):
        criterion.register_buffer("weight", weights, persistent=not from_class_weight)
    else:
        criterion.weight = weights
