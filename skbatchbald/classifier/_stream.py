"""Pools read straight from an array, block by block: no Dataset, no per-row Python.

skorch's Dataset and DataLoader draw a batch row by row (one ``__getitem__`` per
row), which at 10^6 rows costs more than the forward passes of a small head. A
plain array or tensor pool is sliced into fixed blocks instead: a memmap is read
one block at a time (never copied whole) and each block is cast and checked on
its own (float32, finite).
"""

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import DataLoader

# Rows per block: fixed, so that the passes (and their rounding) never depend on
# how the caller cut the pool; 8192 rows of 384 float32 features are 12 MiB.
BLOCK_ROWS = 8192


def streams_as_array(net, X):
    """Whether ``net`` may read pool X by slicing: a numeric array, default loaders.

    A custom ``dataset`` or ``iterator_valid`` (or its parameters, such as a
    ``collate_fn``) must see every row, so those pools keep skorch's path.
    """
    if net.dataset is not Dataset or net.iterator_valid is not DataLoader:
        return False
    if any(key != "batch_size" for key in net.get_params_for("iterator_valid")):
        return False
    if isinstance(X, torch.Tensor):
        return X.device.type == "cpu" and X.dim() >= 2 and not X.is_complex()
    return type(X) in (np.ndarray, np.memmap) and X.dtype.kind in "fiu" and X.ndim >= 2


def array_blocks(X, as_float32):
    """Yield ``(start, block)``: float32 tensors of ``BLOCK_ROWS`` rows of X.

    ``as_float32`` casts and checks one block (the classifier's own input
    checks: shape, features, finite values) and returns an array or tensor.
    """
    if len(X) == 0:
        as_float32(X)  # raises: an empty pool
    for start in range(0, len(X), BLOCK_ROWS):
        block = as_float32(X[start : start + BLOCK_ROWS])
        if isinstance(block, np.ndarray):
            # a float32 view with negative strides (X[::-1]) is copied: torch
            # cannot wrap it
            block = torch.from_numpy(np.ascontiguousarray(block))
        yield start, block
