"""Pools read straight from an array, block by block: no Dataset, no per-row Python.

skorch's Dataset and DataLoader draw a batch row by row (one ``__getitem__`` per
row), which at 10^6 rows costs more than the forward passes of a small head. A
plain array or tensor pool is sliced into fixed blocks instead: a memmap is read
one block at a time (never copied whole) and each block is cast and checked on
its own (float32, finite). Blocks are independent, so they may be sampled on
several threads (`block_threads`); each row's samples are the same either way.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

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

    ``as_float32(block, start)`` casts and checks one block (the classifier's
    own input checks: shape, features, finite values; ``start`` numbers its
    rows in messages) and returns an array or tensor.
    """
    if len(X) == 0:
        as_float32(X, 0)  # raises: an empty pool
    for start in range(0, len(X), BLOCK_ROWS):
        yield start, read_block(X, start, as_float32)


def read_block(X, start, as_float32):
    """The float32 tensor of the block of X that begins at row ``start``."""
    block = as_float32(X[start : start + BLOCK_ROWS], start)
    if isinstance(block, np.ndarray):
        # a float32 view with negative strides (X[::-1]) is copied: torch
        # cannot wrap it. numpy flags a one-row such view contiguous, so
        # ascontiguousarray alone leaves it as it is.
        if any(stride < 0 for stride in block.strides):
            block = block.copy()
        return torch.from_numpy(np.ascontiguousarray(block))
    return block


def block_threads():
    """Threads to sample blocks on: the cores this process may use, divided
    by torch's intra-op threads (each thread's passes use that many), so
    that the cores are not oversubscribed; 1 where torch already uses them all,
    and 1 when called from a thread other than the main one (a Dask task or
    a joblib worker thread: its pool of threads already shares the cores).
    """
    if threading.current_thread() is not threading.main_thread():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, torch.get_num_threads()))


def for_each_block(fn, starts, n_threads):
    """Call ``fn(start)`` for every block start, on up to ``n_threads`` threads.

    Each call reads its own block, so at most ``n_threads`` blocks are in
    memory at once. The first error (in block order) is raised, and blocks not
    yet started are cancelled.
    """
    if n_threads <= 1 or len(starts) <= 1:
        for start in starts:
            fn(start)
        return
    with ThreadPoolExecutor(min(n_threads, len(starts))) as executor:
        futures = [executor.submit(fn, start) for start in starts]
        try:
            for future in futures:
                future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
