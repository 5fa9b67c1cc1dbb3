"""A torch Dataset known by its class, length and three items' inputs."""

import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import ConcatDataset, Subset

from skbatchbald._dataset_identity import dataset_identity, row_keys


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


def test_the_same_items_in_another_object_are_the_same_dataset(X):
    first = Items(X)
    assert dataset_identity(first) == dataset_identity(Items(X.copy()))
    assert dataset_identity(first) == dataset_identity(
        pickle.loads(pickle.dumps(first))
    )
    # the placeholder label is no part of an item's identity
    assert dataset_identity(first) == dataset_identity(Items(X, placeholder=0))
    assert dataset_identity(DictItems(X)) == dataset_identity(DictItems(X.copy()))


@pytest.mark.parametrize("row", [0, 15, 30])
def test_other_items_class_or_length_are_another_dataset(X, row):
    changed = X.copy()
    changed[row, 0] += 1  # first, middle or last item
    name = dataset_identity(Items(X))
    assert name != dataset_identity(Items(changed))
    assert name != dataset_identity(OtherItems(X))
    assert name != dataset_identity(Items(X[:30]))
    assert name != dataset_identity(Items(X.astype(np.float64)))
    assert dataset_identity(DictItems(X)) != dataset_identity(DictItems(changed))


def test_three_items_read_once_per_object(X):
    items = Items(X)
    for _ in range(3):
        dataset_identity(items)
    assert items.reads == 3
    keys, again = row_keys(ConcatDataset([Subset(items, [4, 30]), items]), items)
    assert items.reads == 3  # row keys load no item
    name = dataset_identity(items)
    assert keys[:3] == [(name, 4), (name, 30), (name, 0)]
    assert again == [(name, i) for i in range(31)]
    # A changed length is another dataset: read again.
    items.X = X[:20]
    assert dataset_identity(items) != name
    assert items.reads == 6


def test_inputs_that_cannot_be_hashed_leave_object_identity(X):
    first, second = OpaqueItems(X), OpaqueItems(X)
    assert dataset_identity(first) == dataset_identity(first)
    assert dataset_identity(first) != dataset_identity(second)
