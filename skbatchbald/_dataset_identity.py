"""Which Dataset a torch Dataset is, whichever object holds it.

A learner restored from a pickle holds its own copy of the pool, and a pool
rebuilt after a restart (``MyImages(files)`` again, perhaps with new files
added) is a new object: with object identity alone, the items taught before
would be offered again without a word. So a Dataset object that is not the
one taught from counts as the same data when it has the same class and the
same inputs at every position taught from (each item read once per object):
a copy, the same data rebuilt in the same order, or with items appended,
holds the taught items where they were. Data in another order, shifted, or
randomly augmented does not, and :func:`taught_keys` warns when that looks
like the taught data (the same class and length, or some taught positions
equal and others not).
"""

import hashlib
import pickle
import sys
import warnings
import weakref
from collections.abc import Mapping

import numpy as np

from ._arrays import dataset_row_keys
from ._warnings import SkbatchbaldWarning, user_stacklevel

__all__ = ["item_digest", "taught_keys"]

# Digests of the items read so far, per Dataset object: each item is read
# once per object. Weak, so a pool dropped by the user is not kept alive.
_DIGESTS = weakref.WeakKeyDictionary()


def _digest_inputs(hasher, x):
    """Feed the inputs ``x`` of one item to ``hasher``, independent of which
    object holds them (tensors and images by dtype, shape and values)."""
    if type(x).__module__.partition(".")[0] == "torch":
        x = x.detach().cpu().numpy()
    elif "PIL.Image" in sys.modules and isinstance(x, sys.modules["PIL.Image"].Image):
        x = np.asarray(x)
    if isinstance(x, np.ndarray) and x.dtype.kind == "O":
        # an object array's buffer holds pointers: hash the objects
        hasher.update(f"objects:{x.shape}".encode())
        hasher.update(pickle.dumps(x.tolist(), protocol=4))
    elif isinstance(x, np.ndarray):
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


def item_digest(dataset, position):
    """sha256 of the inputs of ``dataset[position]``, or None when they can be
    neither hashed as arrays nor pickled (such an item equals no other)."""
    n_items = len(dataset)
    try:
        known = _DIGESTS.get(dataset)
        if known is None or known[0] != n_items:  # resized: read again
            known = _DIGESTS[dataset] = (n_items, {})
        digests = known[1]
    except TypeError:  # not weakly referable, or unhashable: not memoised
        digests = {}
    if position not in digests:
        hasher = hashlib.sha256()
        try:
            _digest_inputs(hasher, _inputs(dataset[position]))
            digests[position] = hasher.hexdigest()
        except (pickle.PicklingError, TypeError, AttributeError):
            digests[position] = None
    return digests[position]


def _leaves(dataset):
    """The datasets holding the items of ``dataset``, each once, in order."""
    data = sys.modules["torch.utils.data"]
    if isinstance(dataset, data.Subset):
        return _leaves(dataset.dataset)
    if isinstance(dataset, data.ConcatDataset):
        leaves = {}
        for part in dataset.datasets:
            leaves.update((id(leaf), leaf) for leaf in _leaves(part))
        return list(leaves.values())
    return [dataset]


def _taught_positions(X_training):
    positions = {}
    for leaf_id, row in dataset_row_keys(X_training):
        positions.setdefault(leaf_id, set()).add(row)
    return positions


def _compare(first, second, positions):
    """How many of ``positions`` (those both datasets have, with inputs that
    can be hashed) hold equal inputs in both, and how many were compared."""
    equal = compared = 0
    for position in sorted(positions):
        if position >= len(first) or position >= len(second):
            continue
        digests = item_digest(first, position), item_digest(second, position)
        if None not in digests:
            compared += 1
            equal += digests[0] == digests[1]
    return equal, compared


def _lookalike_message(name, leaf, equal, compared):
    what = (
        f"other items at all {compared} positions taught from"
        if not equal
        else f"other items at {compared - equal} of the {compared} positions "
        "taught from (the others are equal)"
    )
    return (
        f"{name} holds a {type(leaf).__name__} of {len(leaf)} items like the "
        f"one the learner was taught from, but with {what}, so none of its "
        "items counts as taught, and a query may offer taught items again. "
        "If it is the same data (e.g. rebuilt after a restart), its items "
        "must keep their positions (sort the file list, add new files at the "
        "end) and be the same at every read (no random augmentation in "
        "__getitem__)."
    )


def taught_keys(X, X_training, name=None):
    """Row keys of ``X`` and of ``X_training``: the same key for the same item.

    A Dataset of ``X`` (or of ``X_training``) that is not an object taught
    from gets the key of a taught one when it has its class and equal inputs
    at every position taught from that both hold. ``name`` (of ``X``, for the
    message) warns when a Dataset of ``X`` looks like the taught data but
    does not hold it; None is silent.

    Returns
    -------
    keys, taught : list of tuple
        ``(group, position)`` per row of ``X`` and of ``X_training``.
    """
    positions = _taught_positions(X_training)
    groups = []  # [representative, positions taught from the group]
    group_of = {}
    messages = []
    for leaf in _leaves(X_training) + _leaves(X):
        if id(leaf) in group_of:
            continue
        own = positions.get(id(leaf), set())
        mismatch = None
        for number, (representative, taught) in enumerate(groups):
            if type(representative) is not type(leaf):
                continue
            equal, compared = _compare(representative, leaf, taught | own)
            if compared and equal == compared:
                group_of[id(leaf)] = number
                taught |= own
                break
            if compared and (equal or len(representative) == len(leaf)):
                mismatch = (equal, compared)
        else:
            group_of[id(leaf)] = len(groups)
            groups.append([leaf, set(own)])
            if mismatch is not None and id(leaf) not in positions:
                messages.append((leaf, *mismatch))
    if name is not None:
        held = {group_of[id(leaf)] for leaf in _leaves(X)}
        taught_groups = {group_of[id(leaf)] for leaf in _leaves(X_training)}
        for leaf, equal, compared in messages:
            # Some taught positions equal and others not is data moved; none
            # equal is another Dataset of the same class, which is the taught
            # data moved only if X holds the taught data nowhere else.
            if equal or not held & taught_groups:
                warnings.warn(
                    _lookalike_message(name, leaf, equal, compared),
                    SkbatchbaldWarning,
                    stacklevel=user_stacklevel(),
                )
                break

    def identity(leaf):
        return group_of[id(leaf)]

    return (
        dataset_row_keys(X, identity=identity),
        dataset_row_keys(X_training, identity=identity),
    )
