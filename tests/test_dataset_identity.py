"""A torch Dataset known by its class and the items at the positions taught."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from torch.utils.data import ConcatDataset, Subset

from skbatchbald._dataset_identity import item_digest, taught_keys


class Items(torch.utils.data.Dataset):
    """Items built from an array; counts the items read."""

    def __init__(self, X, placeholder=-1):
        self.X, self.placeholder, self.reads = X, placeholder, 0

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        self.reads += 1
        return torch.as_tensor(self.X[i]), self.placeholder


class OtherItems(Items):
    pass


class DictItems(Items):
    def __getitem__(self, i):
        return {"pixels": self.X[i], "scale": np.float32(2.0)}, self.placeholder


class Opaque:
    """Inputs that neither hash as arrays nor pickle."""

    def __init__(self):
        self.fn = lambda: None


class OpaqueItems(Items):
    def __getitem__(self, i):
        return Opaque(), -1


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(31, 4)).astype(np.float32)


def test_an_item_digest_is_its_inputs(X):
    first = Items(X)
    copy = pickle.loads(pickle.dumps(first))
    for other in (Items(X.copy()), copy, Items(X, placeholder=0)):
        assert item_digest(other, 7) == item_digest(first, 7)
    assert item_digest(first, 7) != item_digest(first, 8)
    assert item_digest(Items(X.astype(np.float64)), 7) != item_digest(first, 7)
    assert item_digest(DictItems(X), 3) == item_digest(DictItems(X.copy()), 3)
    assert item_digest(DictItems(X), 3) != item_digest(DictItems(X), 4)
    assert item_digest(OpaqueItems(X), 0) is None


def test_each_item_is_read_once_per_object(X):
    items = Items(X)
    for _ in range(3):
        item_digest(items, 5)
    assert items.reads == 1
    items.X = X[:20]  # resized: its items may have moved
    item_digest(items, 5)
    assert items.reads == 2


def keys_of(pool, taught, name="X_pool"):
    keys, taught_keys_ = taught_keys(pool, taught, name)
    return set(keys) & set(taught_keys_)


def test_a_copy_or_rebuilt_pool_holds_the_taught_items(X):
    pool = Items(X)
    taught = ConcatDataset([Subset(pool, [3, 17]), Subset(pool, [30])])
    rebuilt = Items(X.copy())
    restored_taught = pickle.loads(pickle.dumps(taught))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(keys_of(pool, taught)) == 3
        assert pool.reads == 0  # the taught object itself: nothing read
        assert len(keys_of(rebuilt, restored_taught)) == 3
        assert rebuilt.reads == 3  # the positions taught from, once each
        keys_of(rebuilt, restored_taught)
        assert rebuilt.reads == 3
        # New items appended: the taught ones are where they were.
        grown = Items(np.concatenate([X, X[:5] + 1]))
        assert len(keys_of(grown, restored_taught)) == 3
        # Items removed from the end: the taught ones left are known.
        assert len(keys_of(Items(X[:20]), restored_taught)) == 2
        # A second Dataset of the same class and length beside the taught
        # data is other data: nothing taught, no warning.
        other = Items(X[::-1].copy())
        both = ConcatDataset([rebuilt, other])
        keys, taught_keys_ = taught_keys(both, restored_taught, "X_pool")
        assert set(keys[:31]) >= set(taught_keys_)
        assert not set(keys[31:]) & set(taught_keys_)
    # Another class holding the same data is another dataset.
    assert not keys_of(OtherItems(X), taught)


@pytest.mark.parametrize(
    "moved, what",
    [
        (lambda X: X[::-1], "other items at all 3 positions taught from"),
        (  # one file renamed: rows 1-20 shift by one, the last item stays
            lambda X: np.concatenate([X[:1], X[2:21], X[1:2], X[21:]]),
            "other items at 2 of the 3 positions taught from",
        ),
    ],
)
def test_data_moved_is_no_taught_data_and_is_named(X, moved, what):
    taught = Subset(Items(X), [3, 17, 30])
    with pytest.warns(UserWarning, match=what) as record:
        assert not keys_of(Items(moved(X)), taught)
    assert "must keep their positions" in str(record[0].message)
    assert record[0].filename == __file__
    # silent without a name (comparisons inside the learner)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        taught_keys(Items(moved(X)), taught)


def test_inputs_that_cannot_be_hashed_are_no_taught_items(X):
    pool = OpaqueItems(X)
    taught = Subset(pool, [2, 5])
    assert len(keys_of(pool, taught)) == 2  # the object itself
    assert not keys_of(OpaqueItems(X), taught)


class ObjectItems(Items):
    """Rows of a mixed table as object arrays (``df.iloc[i].to_numpy()``)."""

    def __getitem__(self, i):
        return np.array([f"s{i}", None, float(self.X[i, 0])], dtype=object), -1


def test_object_inputs_are_hashed_by_value_not_by_pointer(X):
    first, second = ObjectItems(X), ObjectItems(X.copy())
    assert item_digest(first, 3) == item_digest(second, 3)
    assert item_digest(first, 3) != item_digest(first, 4)
    taught = Subset(first, [3, 17])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(keys_of(second, taught)) == 2
