"""Labels and columns: where each label sits in a ``classes_`` array, and
whether a 2-D y is one-hot (a column per class) rather than one label per row.

numpy only. scikit-learn's own encoders need sorted classes; a classifier's
``classes_`` (given by the user) or a committee's need not be.
"""

import numpy as np

__all__ = [
    "ONE_HOT_FIX",
    "column_of_one",
    "is_one_hot",
    "label_indices",
    "label_probabilities",
    "shown_labels",
]

#: What to do with a one-hot y where one class label per row is meant.
ONE_HOT_FIX = (
    "pass class labels, one per row, e.g. y.argmax(axis=1) (the column index "
    "of each row's 1), or your label names"
)


def label_indices(labels, classes):
    """Index of each label in ``classes``, or -1 where it is not there.

    Parameters
    ----------
    labels : array-like of shape (n,)
        Labels of any comparable type.
    classes : array-like of shape (n_classes,)
        Distinct labels, in any order.

    Returns
    -------
    indices : ndarray of shape (n,), int64
        ``classes[indices[i]] == labels[i]``, or -1 for a label not in
        ``classes`` (also one of a type that does not compare with them).

    Examples
    --------
    >>> from skbatchbald._labels import label_indices
    >>> label_indices(["b", "z", "a"], ["b", "a"]).tolist()
    [0, -1, 1]
    """
    labels, classes = np.asarray(labels), np.asarray(classes)
    missing = np.full(labels.shape, -1, dtype=np.int64)
    if classes.size == 0 or labels.size == 0:
        return missing
    order = np.argsort(classes, kind="stable")
    try:
        position = np.searchsorted(classes[order], labels)
    except TypeError:  # e.g. int labels against str classes: none is known
        return missing
    indices = order[position.clip(0, len(classes) - 1)]
    known = classes[indices] == labels
    return np.where(known, indices, missing).astype(np.int64)


def is_one_hot(y):
    """Whether y is one-hot: 2-D, two columns or more, a single 1 per row.

    Parameters
    ----------
    y : array-like or scipy sparse matrix of shape (n, n_columns)
        Targets; anything else (1-D, ragged, strings, empty) is not one-hot.

    Returns
    -------
    one_hot : bool
        True if every entry is 0 or 1 and every row holds exactly one 1: a
        class per row written as a column per class. A multi-label indicator
        has rows with no 1 or several.

    Examples
    --------
    >>> from skbatchbald._labels import is_one_hot
    >>> is_one_hot([[0, 1, 0], [1, 0, 0]]), is_one_hot([[1, 1, 0], [1, 0, 0]])
    (True, False)
    """
    if hasattr(y, "toarray"):  # sparse: its stored values and row sums
        values = np.asarray(y.tocsr().data)
        rows = np.asarray(y.sum(axis=1)).ravel()
        shape = y.shape
    else:
        try:
            values = np.asarray(y)
        except (TypeError, ValueError):
            return False  # ragged: not a matrix
        if values.ndim != 2 or values.dtype.kind not in "biuf":
            return False
        rows, shape = values.sum(axis=1), values.shape
    if len(shape) != 2 or shape[0] == 0 or shape[1] < 2:
        return False
    if values.dtype.kind not in "biuf" or not np.isin(values, (0, 1)).all():
        return False
    return bool((rows == 1).all())


def shown_labels(labels, head=8, tail=2):
    """The labels as a message shows them: all of a short list, else its ends.

    ``[0, 1, ..., 999]`` would fill a screen for 1,000 classes; a long list
    shows its first ``head`` and last ``tail`` labels and how many there are.
    """
    values = np.asarray(labels).tolist()
    if len(values) <= head + tail + 2:
        return str(values)
    first = ", ".join(repr(v) for v in values[:head])
    last = ", ".join(repr(v) for v in values[-tail:])
    return f"[{first}, ..., {last}] ({len(values)} labels)"


def column_of_one(classes):
    """Column of label value 1 in one output's classes, or None (never seen)."""
    where = np.flatnonzero(np.asarray(classes) == 1)
    return int(where[0]) if len(where) else None


def _label_probabilities(outputs, classes):
    """p(y_l = 1), (N, L), from one predict_proba per label: a list of (N, C_l)."""
    columns = []
    for proba, label_classes in zip(outputs, classes, strict=True):
        proba = np.asarray(proba, dtype=np.float64)
        one = column_of_one(label_classes)
        # a label only ever seen as 0 has probability 0 of being 1
        columns.append(np.zeros(len(proba)) if one is None else proba[:, one])
    return np.stack(columns, axis=1)


def label_probabilities(outputs, classes):
    """p(y_l = 1), (N, L), from a multi-label model's ``predict_proba`` output.

    A list of (N, C_l) per label (a forest, ``MultiOutputClassifier``) is
    read with the model's per-label ``classes_``; an (N, L) array
    (``OneVsRestClassifier``, ``MLPClassifier``, the MC-dropout network) is
    already each label's probability.
    """
    if isinstance(outputs, list):
        return _label_probabilities(outputs, classes)
    return np.asarray(outputs, dtype=np.float64)
