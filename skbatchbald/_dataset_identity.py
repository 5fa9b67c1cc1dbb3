"""Which Dataset a torch Dataset is, whichever object holds it.

A learner restored from a pickle holds its own copy of the pool, and a pool
rebuilt after a restart (``MyImages(files)`` again) is a new object: with
object identity alone, the items taught before would be offered again without
a word. So a Dataset is known by its class, its length and the inputs of
three of its items (first, middle, last): a copy, or the same data rebuilt in
the same order, is the same Dataset; data in another order, or items that
change at every read (random augmentation), is another one, and
:func:`taught_keys` warns when it has the class and length of a Dataset
taught from.
"""

import contextlib
import hashlib
import pickle
import sys
import warnings
import weakref
from collections.abc import Mapping

import numpy as np

from ._arrays import dataset_row_keys
from ._warnings import user_stacklevel

__all__ = ["dataset_identity", "row_keys", "taught_keys"]

# Memoised per object (three items read once per Dataset, not per call);
# weak, so a pool dropped by the user is not kept alive by this table.
_IDENTITIES = weakref.WeakKeyDictionary()


def _probe_rows(n_items):
    return sorted({0, n_items // 2, n_items - 1}) if n_items else []


def _digest_inputs(hasher, x):
    """Feed the inputs ``x`` of one item to ``hasher``, independent of which
    object holds them (tensors and images by dtype, shape and values)."""
    if type(x).__module__.partition(".")[0] == "torch":
        x = x.detach().cpu().numpy()
    elif "PIL.Image" in sys.modules and isinstance(x, sys.modules["PIL.Image"].Image):
        x = np.asarray(x)
    if isinstance(x, np.ndarray):
        hasher.update(f"array:{x.dtype.str}:{x.shape}".encode())
        hasher.update(np.ascontiguousarray(x).data)
    elif isinstance(x, Mapping):
        for key in sorted(x, key=repr):
            hasher.update(f"key:{key!r}".encode())
            _digest_inputs(hasher, x[key])
    elif isinstance(x, list | tuple):
        hasher.update(f"sequence:{len(x)}".encode())
        for value in x:
            _digest_inputs(hasher, value)
    else:
        hasher.update(pickle.dumps(x, protocol=4))


def _inputs(item):
    # The placeholder label is left out: a pool rebuilt with another
    # placeholder holds the same items.
    return item[0] if isinstance(item, list | tuple) and len(item) == 2 else item


def dataset_identity(dataset):
    """A string naming ``dataset`` by its class, length and three items' inputs.

    Two objects holding the same items in the same order get the same string.
    An item whose inputs cannot be hashed (nor pickled) leaves the object's own
    identity, as if no other object could hold its items.
    """
    n_items = len(dataset)
    try:
        known = _IDENTITIES.get(dataset)
    except TypeError:  # not weakly referable, or unhashable
        known = None
    if known is not None and known[0] == n_items:
        return known[1]
    kind = f"{type(dataset).__module__}.{type(dataset).__qualname__}:{n_items}"
    hasher = hashlib.sha256(kind.encode())
    try:
        for row in _probe_rows(n_items):
            _digest_inputs(hasher, _inputs(dataset[row]))
        identity = f"{kind}:{hasher.hexdigest()}"
    except (pickle.PicklingError, TypeError, AttributeError):
        identity = f"{kind}:object {id(dataset)}"
    with contextlib.suppress(TypeError):
        _IDENTITIES[dataset] = (n_items, identity)
    return identity


def _memo():
    """dataset_identity, computed once per Dataset object in one call (an
    object that cannot be memoised across calls is read once, not per row)."""
    identities = {}

    def identity(leaf):
        if id(leaf) not in identities:
            identities[id(leaf)] = dataset_identity(leaf)
        return identities[id(leaf)]

    return identity


def row_keys(*datasets):
    """:func:`~skbatchbald._arrays.dataset_row_keys` of each dataset, items
    named by :func:`dataset_identity`."""
    identity = _memo()
    return [dataset_row_keys(dataset, identity=identity) for dataset in datasets]


def _leaves(dataset):
    data = sys.modules["torch.utils.data"]
    if isinstance(dataset, data.Subset):
        return _leaves(dataset.dataset)
    if isinstance(dataset, data.ConcatDataset):
        return [leaf for part in dataset.datasets for leaf in _leaves(part)]
    return [dataset]


def taught_keys(X, X_training, name):
    """Row keys of ``X`` and of ``X_training``, warning when a Dataset of ``X``
    shares no identity with the taught ones but has the class and length of
    one (the same data rebuilt in another order, or augmented)."""
    identity = _memo()
    taught = {identity(leaf): leaf for leaf in _leaves(X_training)}
    for leaf in _leaves(X):
        if identity(leaf) in taught:
            continue
        if any(
            type(other) is type(leaf) and len(other) == len(leaf)
            for other in taught.values()
        ):
            warnings.warn(
                f"{name} holds a {type(leaf).__name__} of {len(leaf)} items "
                "like the one the learner was taught from, but with other "
                f"items at positions {_probe_rows(len(leaf))}, so none of its "
                "items counts as taught, and a query may offer taught items "
                "again. If it is the same data (e.g. rebuilt after a restart), "
                "its items must come in the same order (sort the file list) "
                "and be deterministic (no random augmentation in "
                "__getitem__).",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
            break
    return (
        dataset_row_keys(X, identity=identity),
        dataset_row_keys(X_training, identity=identity),
    )
