"""A torch Dataset as the learner's pool: items known by identity, never loaded.

An item of a Dataset is which item of which Dataset it is
(:func:`~skbatchbald._dataset_identity.taught_keys`), so the learner can tell
the items it was taught from the pool's others without loading them (a
Dataset object other than the one taught from has its items at the taught
positions read once): a query leaves them out, and teaching one again is
refused.
"""

import numpy as np
import scipy.sparse as sp

from ._dataset_identity import taught_keys
from ._validation import count_rows

__all__ = ["check_dataset", "check_new_items", "labels_array", "untaught_items"]


def check_dataset(X, y):
    """ValueError unless a torch Dataset X has one row per label in y."""
    n_rows, n_labels = len(X), count_rows(y, "y", row="label")
    if n_rows != n_labels:
        raise ValueError(
            f"X is a {type(X).__name__} of {n_rows} items and y holds "
            f"{n_labels} labels: pass one label per item, in the Dataset's order."
        )


def check_new_items(X, X_training):
    """ValueError if a Dataset batch holds items taught before, or one twice."""
    keys, taught = taught_keys(X, X_training, "X")
    taught = set(taught)
    again = [i for i, key in enumerate(keys) if key in taught]
    twice = len(set(keys)) < len(keys)
    if not again and not twice:
        return
    what = (
        f"{len(again)} items taught before (positions {again[:5]} of X)"
        if again
        else "an item twice"
    )
    raise ValueError(
        f"X holds {what}: an item of a torch Dataset is known by which item of "
        "which Dataset it is, and each is taught once. Teach only the items "
        "newly labelled (learner.query(pool) never offers a taught item "
        "again); to correct a label, call learner.fit on the whole labelled "
        "set with the corrected labels."
    )


def labels_array(y):
    """y as a numpy array (from a list, Series, tensor or sparse indicator), to
    index by item."""
    if sp.issparse(y):
        return y.toarray()
    if type(y).__module__.partition(".")[0] == "torch":
        return y.detach().cpu().numpy()
    return np.asarray(y)


def untaught_items(X_pool, X_training):
    """Positions of the pool's items not taught yet, or None for all of them.

    A pool queried whole every round (the natural loop on a Dataset) then
    never offers an item again once it is taught; rows of arrays have no such
    identity and are left to the caller (modAL's loop deletes them from the
    pool). An item the pool holds twice is offered once.
    """
    count_rows(X_pool, "X_pool", row="pool item")  # an iterable-style one: why
    keys, taught = taught_keys(X_pool, X_training, "X_pool")
    seen = set(taught)
    untaught = []
    for i, key in enumerate(keys):
        if key not in seen:
            untaught.append(i)
            seen.add(key)
    if len(untaught) == len(X_pool):
        return None
    if not untaught:
        raise ValueError(
            f"every item of the {type(X_pool).__name__} pool ({len(X_pool)}) "
            "has been taught: there is nothing left to query."
        )
    return np.asarray(untaught, dtype=np.int64)
