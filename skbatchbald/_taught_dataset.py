"""A torch Dataset's inputs paired with the labels a learner was taught.

skorch trains on the labels a Dataset yields and uses ``fit``'s y only to
infer the classes and split; a pool Dataset's labels are placeholders (the
pool is unlabelled), so the learner pairs each item's inputs with the label
taught for it.
"""

import numpy as np
from torch.utils.data import Dataset

__all__ = ["TaughtLabels", "taught_inputs"]


class TaughtLabels(Dataset):
    """Items ``(x, y[i])``: the inputs of ``dataset[i]`` and the label taught.

    ``dataset`` yields ``(x, y)`` pairs, the form skorch reads in training and
    prediction alike; its ``y`` is replaced.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        Map-style: it has ``__len__`` and ``__getitem__``.
    y : ndarray of shape (len(dataset),) or (len(dataset), n_outputs)
        The labels taught.
    """

    def __init__(self, dataset, y):
        self.dataset = dataset
        self.y = y

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        item = self.dataset[i]
        if not isinstance(item, tuple | list) or len(item) != 2:
            what = (
                f"a {type(item).__name__} of length {len(item)}"
                if isinstance(item, tuple | list)
                else f"a {type(item).__name__}"
            )
            raise ValueError(
                f"item {i} of the {type(self.dataset).__name__} is {what}; "
                "skorch reads a Dataset's items as (x, y) pairs, in training and "
                "in prediction, and the learner trains on x with the label "
                "taught. For an unlabelled pool, return (x, placeholder) from "
                "__getitem__, or wrap arrays as skorch.dataset.Dataset(X) or "
                "TensorDataset(X, torch.zeros(len(X))); several inputs go in a "
                "dict x."
            )
        label = self.y[i]
        # a numpy scalar collates to a tensor; a string label stays a string
        return item[0], label.item() if isinstance(label, np.generic) else label


def taught_inputs(dataset, y, *, search):
    """What the learner fits on for a Dataset of taught items.

    A search splits X with scikit-learn's indexing, which reads a Dataset
    item by item into a list: skorch's ``SliceDataset`` of the inputs is the
    row-sliceable form it takes, the labels then coming from y.
    """
    taught = TaughtLabels(dataset, y)
    if not search:
        return taught
    from skorch.helper import SliceDataset

    return SliceDataset(taught, idx=0)
