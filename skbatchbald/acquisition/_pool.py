"""A pool that is not in memory: row blocks of a numpy memmap or of a dask array.

Acquisition runs on such a pool as a map over its row blocks and a small reduction:
a block is read, scored and dropped, and only per-block results (a validation
summary, a few candidates) come back. A memmap's blocks are read by a few threads of
this process; a dask array's blocks are computed wherever Dask's scheduler puts them
(its threads, or the workers of a ``dask.distributed`` cluster), so the pool never
travels to, or is held by, the caller. dask is imported only when a dask array is
given: it is never imported to recognise one.
"""

import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._arrays import is_dask_array
from ._batchbald_kernel import _single_threaded_blas, available_cores
from ._chunks import per_point_in_memory
from ._normalisation import (
    _as_real_float_array,
    check_shape,
    merge_normalisations,
    normalisation,
    not_normalised_message,
    tolerance,
)

# float32/float64 log-probabilities per memmap block: large enough that per-block
# overheads vanish, small enough that a few blocks in flight stay far below 1 GiB.
BLOCK_BYTES = 64 * 2**20


def as_chunked_pool(log_probs):
    """A `MemmapPool` or `DaskPool` for such inputs; None for anything else."""
    if isinstance(log_probs, np.memmap):
        return MemmapPool(log_probs)
    if is_dask_array(log_probs):
        return DaskPool(log_probs)
    return None


def _check_dtype(dtype, name):
    if dtype.kind not in "fiu":
        raise ValueError(
            f"{name} must hold real numbers (a float dtype), got dtype {dtype}"
        )


def _run_block(fn, block, start, *args):
    """Call ``fn`` on one block converted like `check_log_probs` converts a pool.

    One task, one core: BLAS runs single-threaded in whatever process runs the
    task (a Dask worker's BLAS would otherwise start a thread per core, and two
    workers on two cores would each run two).
    """
    with _single_threaded_blas():
        return fn(_as_real_float_array(block, "log_probs"), start, *args)


def _normalisation_block(block, start, tol):
    return normalisation(block, tol, start)


def _per_point_block(block, start, reduce):
    return per_point_in_memory(block, reduce)


def map_per_point(pool, reduce):
    """`per_point` over a chunked pool's blocks: shape (N,), float64."""
    return np.concatenate(pool.map(_per_point_block, reduce))


class _ChunkedPool:
    """What both kinds share: shape checks, validation and row offsets."""

    def __init__(self, array):
        self.array = array
        self.shape = tuple(int(n) for n in array.shape)
        # the dtype blocks are converted to (float16, ints: float64)
        dtype = np.dtype(array.dtype)
        self.dtype = dtype if dtype in (np.float32, np.float64) else np.float64

    def check_layout(self, name="log_probs"):
        """ValueError unless the pool holds real numbers of shape (N, K, C).

        Reads no values: those are checked block by block, by `check` or as the
        blocks are scored.
        """
        _check_dtype(np.dtype(self.array.dtype), name)
        check_shape(self.shape, name)

    def check(self, name="log_probs"):
        """ValueError unless every row is a normalised log-probability vector."""
        self.check_layout(name)
        self.raise_if_invalid(self.map(_normalisation_block, self.tol), name)

    def largest_block(self):
        """Shape (rows, K, C) of the pool's largest row block."""
        return (int(max(np.diff([*self.starts, self.shape[0]]))), *self.shape[1:])

    @property
    def tol(self):
        return tolerance(self.array, self.dtype)

    def raise_if_invalid(self, summaries, name="log_probs"):
        summary = merge_normalisations(summaries)
        if summary.invalid:
            raise ValueError(not_normalised_message(summary, self.tol, name))


class MemmapPool(_ChunkedPool):
    """A memmap read in row blocks of `BLOCK_BYTES` by threads of this process."""

    def __init__(self, array):
        super().__init__(array)
        n_pool = self.shape[0]
        itemsize = np.dtype(array.dtype).itemsize
        row_bytes = max(1, int(np.prod(self.shape[1:])) * itemsize)
        step = max(1, BLOCK_BYTES // row_bytes)
        self.starts = list(range(0, n_pool, step)) or [0]
        self.stops = [*self.starts[1:], n_pool]
        self.n_threads = max(1, min(available_cores(), len(self.starts)))

    def map(self, fn, *args, per_block=(), keep=False):
        """``[fn(block_i, start_i, *per_block_i, *args) for each block]``, threaded.

        ``keep`` is accepted for symmetry with `DaskPool`: results are always here.
        """

        def run(i):
            block = self.array[self.starts[i] : self.stops[i]]
            extra = [part[i] for part in per_block]
            return _run_block(fn, block, self.starts[i], *extra, *args)

        # Each block is scored by one thread with one BLAS thread: the threads
        # already use every core (limited once here, not per thread: threadpoolctl's
        # limits are per process).
        with _single_threaded_blas(), ThreadPoolExecutor(self.n_threads) as executor:
            return list(executor.map(run, range(len(self.starts))))

    @staticmethod
    def compute(values):
        return list(values)

    def rows(self, indices):
        """The pool's rows at ``indices``, converted like a block, shape (n, K, C)."""
        return _as_real_float_array(self.array[np.asarray(indices)], "log_probs")


def _worker_loss(exc):
    """Whether ``exc`` says that Dask lost the workers running the computation."""
    scheduler = sys.modules.get("distributed.scheduler")
    if scheduler is not None and isinstance(exc, scheduler.KilledWorker):
        return True
    return type(exc).__name__ in {"CommClosedError", "FutureCancelledError"}


class DaskPool(_ChunkedPool):
    """A dask array, one task per row block, on Dask's current scheduler.

    A dask array chunked along K or C is first rechunked to whole (K, C) rows,
    keeping its row chunks: a greedy step needs a candidate's K x C values together.
    """

    def __init__(self, array):
        if array.ndim == 3 and (len(array.chunks[1]) > 1 or len(array.chunks[2]) > 1):
            array = array.rechunk({1: -1, 2: -1})
        super().__init__(array)
        if array.ndim == 3:
            self.starts = [int(s) for s in np.cumsum((0, *array.chunks[0][:-1]))]
            self._blocks = list(array.to_delayed().ravel())

    def _run(self, how, tasks):
        try:
            return how(*tasks)
        except Exception as exc:
            if _worker_loss(exc):
                raise RuntimeError(
                    f"the Dask cluster lost the workers computing a block of the pool "
                    f"({type(exc).__name__}); nothing was returned or written. Check "
                    f"the workers' memory limit and logs, then run the call again."
                ) from exc
            raise

    def map(self, fn, *args, per_block=(), keep=False):
        """One task per block: ``fn(block_i, start_i, *per_block_i, *args)``.

        Each of ``args`` enters the graph once, so Dask sends it once to each
        worker that needs it, not once per block. ``keep=True`` leaves the results
        where they were computed (``persist``) and returns handles to them, to be
        passed on through ``per_block``; otherwise the results are returned.
        """
        import dask

        # Around the compute too: Dask's local threads run the tasks in this
        # process, and one process-wide limit holds for all of them (the limits
        # that concurrent tasks set and restore in _run_block then nest in it).
        with _single_threaded_blas():
            shared = [dask.delayed(arg) for arg in args]
            call = dask.delayed(_run_block, pure=True)
            tasks = [
                call(fn, block, start, *[p[i] for p in per_block], *shared)
                for i, (block, start) in enumerate(
                    zip(self._blocks, self.starts, strict=True)
                )
            ]
            return list(self._run(dask.persist if keep else dask.compute, tasks))

    def compute(self, values):
        """Bring kept results (or parts of them) back here."""
        import dask

        return list(self._run(dask.compute, values))

    def rows(self, indices):
        """The pool's rows at ``indices``, computed and converted, shape (n, K, C)."""
        rows = self._run(lambda part: part.compute(), [self.array[np.asarray(indices)]])
        return _as_real_float_array(rows, "log_probs")
