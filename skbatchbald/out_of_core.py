"""Posterior samples of a pool too large for memory: written to disk, read in blocks.

:func:`write_log_proba_samples` samples the pool chunk by chunk into a ``.npy``
file; the memmap it returns goes straight to any acquisition function, which reads
it in row blocks. :func:`dask_log_proba_samples` does the same on a Dask cluster: a
dask array of inputs in, a dask array of log-probabilities out, one task per block.
"""

import functools
import numbers
import os
import pickle
import threading
from pathlib import Path

import numpy as np

from ._arrays import is_dask_array
from ._samplers import sample_in_memory
from ._validation import (
    check_int,
    check_random_state,
    renumbered_nonfinite_error,
    spawn_seeds,
)

__all__ = ["dask_log_proba_samples", "write_log_proba_samples"]


def _one_seed(random_state):
    """An int that gives every chunk the same posterior samples.

    An int is kept, so a chunked call equals one call on the whole pool with
    the same int; a Generator (advanced once) or None is turned into one.
    """
    rng = check_random_state(random_state)  # validates every form
    if isinstance(random_state, numbers.Integral):  # bool was rejected above
        return int(random_state)
    return spawn_seeds(rng, 1)[0]


def write_log_proba_samples(
    estimator, X, path, *, n_mc_samples=None, random_state=None, chunk_size=10_000
):
    """Sample a pool's posterior log-probabilities into a ``.npy`` file, chunk by chunk.

    Parameters
    ----------
    estimator : object
        Anything :func:`~skbatchbald.sampling.predict_log_proba_samples` accepts.
    X : array-like of shape (N, ...)
        The pool: anything sliceable by rows (a numpy array or memmap, ...).
    path : str or os.PathLike
        The ``.npy`` file to write; replaced if it exists. A leading ``~`` is
        expanded to the user's home folder.
    n_mc_samples : int, default=None
        Number K of posterior samples, as in ``predict_log_proba_samples``.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Every chunk is sampled with the same seed, so every chunk sees the same K
        posterior samples (dropout mask sets or ensemble members). An int gives
        exactly what one call on the whole pool with that int gives; a
        Generator or None first draws that seed.
    chunk_size : int, default=10_000
        Rows of X sampled per call: memory is one chunk's inputs and log-probs.

    Returns
    -------
    log_probs : numpy.memmap of shape (N, K, C), float32
        The file, opened read-only.

    Raises
    ------
    TypeError
        If ``chunk_size`` is not an int, or as ``predict_log_proba_samples``.
    ValueError
        If ``chunk_size`` < 1, or as ``predict_log_proba_samples``.

    See Also
    --------
    dask_log_proba_samples : The same on a Dask cluster.

    Notes
    -----
    The samples are written to ``<path>.partial``, renamed to ``path`` once all
    are written; on any error the partial file is removed, so ``path`` never holds
    a half-written pool.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbatchbald.acquisition import bald
    >>> from skbatchbald.out_of_core import write_log_proba_samples
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=8, random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     pool = write_log_proba_samples(
    ...         forest, X, os.path.join(tmp, "pool.npy"), chunk_size=40)
    ...     picks, _ = bald(pool, 3)
    ...     shape = pool.shape
    ...     del pool
    >>> shape, picks.shape
    ((150, 8, 3), (3,))
    """
    chunk_size = check_int(chunk_size, "chunk_size", hint="rows of X per call")
    seed = _one_seed(random_state)
    path = Path(path).expanduser()
    partial = path.with_name(path.name + ".partial")
    n_pool = len(X)

    def sample(rows):
        try:
            return sample_in_memory(
                estimator, X[rows], n_mc_samples=n_mc_samples, random_state=seed
            )
        except ValueError as exc:
            # the chunk numbers its rows from 0: name the pool's
            renumbered = renumbered_nonfinite_error(exc, X[rows], rows.start)
            if renumbered is None:
                raise
            raise renumbered from exc

    first = sample(slice(0, chunk_size))
    try:
        out = np.lib.format.open_memmap(
            partial, mode="w+", dtype=np.float32, shape=(n_pool, *first.shape[1:])
        )
        try:
            out[: len(first)] = first
            for start in range(len(first), n_pool, chunk_size):
                rows = slice(start, min(start + chunk_size, n_pool))
                out[rows] = sample(rows)
            out.flush()
        finally:
            del out  # unmapped before the rename (or removal)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return np.load(path, mmap_mode="r")


# One block at a time per process: sampling an MC-dropout net hooks masks onto its
# (shared) module, so two threads sampling one estimator would mix their masks.
# Dask's local threads are serialised here; its worker processes run side by side.
_SAMPLING = threading.Lock()


@functools.lru_cache(maxsize=1)
def _estimator_of(payload):
    """The estimator pickled in ``payload``, unpickled once per process."""
    return pickle.loads(payload)


def _sample(estimator, X, n_mc_samples, seed, max_memory=None):
    with _SAMPLING:
        return sample_in_memory(estimator, X, n_mc_samples, seed, max_memory=max_memory)


def _sample_block(payload, X, n_mc_samples, seed, max_memory=None):
    return _sample(_estimator_of(payload), X, n_mc_samples, seed, max_memory)


def dask_log_proba_samples(
    estimator, X, *, n_mc_samples=None, random_state=None, max_memory=None
):
    """Posterior log-probabilities of a dask array of inputs, as a dask array.

    Parameters
    ----------
    estimator : object
        Anything :func:`~skbatchbald.sampling.predict_log_proba_samples` accepts.
    X : dask.array.Array of shape (N, ...)
        The pool. Its blocks along N become the blocks of the result; other axes
        are rechunked into one.
    n_mc_samples : int, default=None
        Number K of posterior samples, as in ``predict_log_proba_samples``.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Every block is sampled with the same seed (see
        :func:`write_log_proba_samples`): an int gives exactly what one call on
        the whole pool gives.
    max_memory : None, int or str, default=None
        Passed on to each block's ``predict_log_proba_samples`` (the budget of
        one block's sampling, in the process that runs it).

    Returns
    -------
    log_probs : dask.array.Array of shape (N, K, C), float32
        Lazy, chunked along N like X, never gathered: pass it to an acquisition
        function, or store it (``dask.array.to_npy_stack``, ``to_zarr``).

    Raises
    ------
    TypeError
        If X is not a dask array.

    See Also
    --------
    write_log_proba_samples : The same into a local ``.npy`` file.

    Notes
    -----
    The estimator enters the task graph once, pickled: Dask sends its bytes to
    each worker that samples a block once, not once per block, and each process
    unpickles them once (it keeps the last estimator it unpickled). Sampling the
    first row here finds K and C. Within one process blocks are sampled one at a
    time (the dropout masks are hooked onto the shared module), so parallelism
    comes from worker processes (a ``dask.distributed`` cluster), not from Dask's
    local threads.

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbatchbald.out_of_core import dask_log_proba_samples
    >>> X, y = load_iris(return_X_y=True)
    >>> forest = RandomForestClassifier(n_estimators=8, random_state=0).fit(X, y)
    >>> log_probs = dask_log_proba_samples(forest, da.from_array(X, chunks=50))
    >>> log_probs.shape, log_probs.chunks[0]
    ((150, 8, 3), (50, 50, 50))
    """
    if not is_dask_array(X):
        raise TypeError(
            f"X must be a dask.array.Array, got {type(X).__name__}; for an array "
            f"in memory or on disk use predict_log_proba_samples or "
            f"write_log_proba_samples"
        )
    import cloudpickle
    import dask
    import dask.array as da

    seed = _one_seed(random_state)
    if X.ndim > 1:
        X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})
    # The graph holds the estimator's bytes, not the estimator: a worker that
    # samples a block hooks masks onto its copy's module, and a second worker
    # fetching that copy meanwhile would pickle the hooks (a lambda: the fetch
    # fails, and Dask waits for the block forever). Bytes are sent as they are.
    payload = cloudpickle.dumps(estimator)
    probe = _sample(estimator, X[:1].compute(), n_mc_samples, seed)
    shared = dask.delayed(payload)
    blocks = X.to_delayed().reshape(-1)
    parts = [
        da.from_delayed(
            dask.delayed(_sample_block, pure=True)(
                shared, block, n_mc_samples, seed, max_memory
            ),
            shape=(rows, *probe.shape[1:]),
            dtype=np.float32,
        )
        for block, rows in zip(blocks, X.chunks[0], strict=True)
    ]
    return da.concatenate(parts, axis=0)
