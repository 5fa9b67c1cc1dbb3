"""Labels to column indices: where each label sits in a ``classes_`` array.

numpy only. scikit-learn's own encoders need sorted classes; a classifier's
``classes_`` (given by the user) or a committee's need not be.
"""

import numpy as np

__all__ = ["label_indices"]


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
