"""Inputs as MCDropoutClassifier reads them: rows, labels, devices, module classes."""

import inspect
import warnings
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from skorch.utils import data_from_dataset, is_dataset, multi_indexing, to_numpy
from torch.utils.data import DataLoader, default_collate

from .._arrays import none_placeholder_message
from .._labels import ONE_HOT_FIX


def refuse_complex(X, name):
    """Return X (an array or tensor) unless it is complex: then a ValueError.

    Casting to float32 would drop the imaginary parts with only a warning.
    """
    if X.is_complex() if isinstance(X, torch.Tensor) else X.dtype.kind == "c":
        raise ValueError(
            f"Complex data not supported: {name} takes real features; pass the "
            "real and imaginary parts as separate columns."
        )
    return X


def rows_of(X, name="MCDropoutClassifier"):
    """A list or tuple X read as rows, as scikit-learn reads it, stacked."""
    message = (
        "X given as a list or tuple is read as rows (as scikit-learn reads it), "
        "but its rows are not numbers of one common shape. Pass an array; a "
        "module with several inputs takes them as a dict of arrays keyed by the "
        "forward arguments."
    )
    try:
        rows = np.asarray(
            [to_numpy(x) if isinstance(x, torch.Tensor) else x for x in X]
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(message) from exc
    refuse_complex(rows, name)
    try:
        rows = rows.astype(np.float32, copy=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(message) from exc
    if rows.ndim == 1:  # a list of numbers: one feature per row
        rows = rows[:, None]
    return rows


def sparse_rows(X, name="MCDropoutClassifier"):
    """A scipy sparse X as a float32 CSR matrix, the form skorch densifies.

    skorch's Dataset turns each row of a CSR matrix into a dense array when
    the row is drawn, so a batch is dense and the whole X never is. Other
    formats (COO cannot be indexed by row) and sparse arrays (whose rows are
    1-D, which skorch does not read) are converted first, at the cost of the
    stored values only.
    """
    refuse_complex(X, name)
    if X.dtype.kind not in "fiub":
        raise ValueError(
            f"X must be numeric, got a sparse matrix of dtype {X.dtype}; encode "
            "non-numeric features first."
        )
    return sp.csr_matrix(X, dtype=np.float32)


def refuse_indicator_labels(y, model="MCDropoutClassifier"):
    """ValueError for a one-hot or multi-label indicator y (2-D, 0/1 entries).

    Such a y has one column per class; the classifier takes one label per row.
    """
    if not sp.issparse(y):
        try:
            y = np.asarray(y)
        except (TypeError, ValueError):
            return  # ragged: not an indicator; the 1-D check says what it is
    if y.ndim != 2 or type_of_target(y) != "multilabel-indicator":
        return
    ones = np.asarray((y != 0).sum(axis=1)).ravel()
    if (ones == 1).all():
        raise ValueError(
            f"y looks one-hot encoded (shape {tuple(y.shape)}, a single 1 per "
            f"row); {ONE_HOT_FIX}."
        )
    raise ValueError(
        f"y is a multi-label indicator matrix (shape {tuple(y.shape)}, "
        f"{int((ones != 1).sum())} rows with no or several 1s), and "
        f"{model} takes one class label per row. For several labels "
        "per row use skbatchbald.MCDropoutMultiLabelClassifier (one sigmoid per "
        "label; on embeddings, with a BayesianMLP over them), which BALDQuery "
        "and BatchBALDQuery accept."
    )


def collate_labels(batch):
    """torch's default collation, with a batch of string labels as an array.

    torch collates strings into a tuple, which skorch's callbacks cannot turn
    into an array; scoring needs the labels as the user gave them.
    """
    message = none_placeholder_message(item=batch[0]) if batch else None
    if message is not None:
        raise ValueError(message)
    collated = default_collate(batch)
    if (
        isinstance(collated, (list, tuple))
        and len(collated) == 2
        and isinstance(collated[1], (list, tuple))
        and collated[1]
        and isinstance(collated[1][0], (str, bytes))
    ):
        return [collated[0], np.asarray(collated[1])]
    return collated


def head(X, n):
    """The first ``n`` rows of an input skorch accepts, without converting all."""
    if isinstance(X, (list, tuple)):
        return rows_of(X[:n])
    if (
        isinstance(X, (Mapping, np.ndarray, torch.Tensor))
        or hasattr(X, "iloc")
        or sp.issparse(X)
    ):
        return multi_indexing(X, slice(0, n))
    return np.asarray(X)[:n]


def other_array_like(X):
    """An array-like that is none of the containers skorch indexes itself."""
    known = (np.ndarray, torch.Tensor, Mapping, list, tuple)
    return (
        hasattr(X, "__array__")
        and not isinstance(X, known)
        and not is_dataset(X)
        and not hasattr(X, "iloc")
        and not sp.issparse(X)
    )


def sorted_classes(classes):
    """The ``classes`` parameter as ``classes_``: its labels sorted, as np.unique.

    scikit-learn's metrics and scorers (``log_loss``, ``neg_log_loss``) read
    ``predict_proba``'s columns as the sorted labels, so the logits follow
    the sorted order whatever order the labels were given in. A label given
    twice would get two logits for one class.

    Parameters
    ----------
    classes : array-like of shape (n_classes,)
        Every label, each once, in any order; empty for skorch's behaviour
        (no ``classes_``).

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        The labels, sorted.

    Raises
    ------
    ValueError
        If ``classes`` is not one-dimensional or holds a label twice.
    TypeError
        If its labels do not sort (e.g. ints mixed with None).
    """
    array = np.asarray(classes)
    if array.ndim != 1:
        raise ValueError(
            f"classes must be a flat list of labels, got an array of shape "
            f"{array.shape}."
        )
    try:
        unique, counts = np.unique(array, return_counts=True)
    except TypeError as exc:
        raise TypeError(
            f"classes must be labels of one sortable type (all ints or all "
            f"strings), got {array.tolist()!r}: {exc}."
        ) from exc
    if (counts > 1).any():
        raise ValueError(
            f"classes={array.tolist()!r} holds {unique[counts > 1].tolist()!r} "
            "more than once; the module gets one logit per entry, so each "
            "label must appear once. Pass the distinct labels, e.g. "
            "classes=np.unique(labels)."
        )
    return unique


def check_targets(y, classes_given):
    """scikit-learn's classification-target check, quieter when ``classes`` is set.

    scikit-learn warns that y "could represent a regression problem" when it
    holds more distinct values than half its rows: every fit of a cold start
    with many classes. A ``classes`` parameter says they are classes.
    """
    if not classes_given:
        check_classification_targets(y)
        return
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="The number of unique classes is greater than 50%"
        )
        check_classification_targets(y)


def fit_labels(X, y):
    """The labels of a fit: y, else a Dataset's own where skorch can reach them.

    None when y is None and X is no Dataset, or one whose labels skorch cannot
    read (not a TensorDataset, skorch Dataset or Subset of those).
    """
    if y is None and is_dataset(X):
        try:
            _, y = data_from_dataset(X)
        except AttributeError:
            return None
    return y


def is_dataloader(iterator):
    return isinstance(iterator, type) and issubclass(iterator, DataLoader)


def takes_n_classes(module):
    if not isinstance(module, type):
        return False  # an instance is built already
    try:
        return "n_classes" in inspect.signature(module).parameters
    except (TypeError, ValueError):
        return False


def check_device(device):
    """Raise a ValueError naming ``device`` for an unknown or absent device."""
    if device is None:
        return
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError):
        return  # not torch's: left to skorch and the module (skorch allows that)
    available = {"cpu": True, "cuda": torch.cuda.is_available()}
    if kind == "mps":
        available["mps"] = torch.backends.mps.is_available()
    if not available.get(kind, True):
        raise ValueError(
            f"device={device!r}, but torch finds no {kind.upper()} device on this "
            "machine; set device='cpu' (or leave the default)."
        )
