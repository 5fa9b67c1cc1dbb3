"""n_jobs: the pool cut into shards on batch boundaries, one joblib task each.

And the check that loky's workers can unpickle the net that samples them.
"""

import itertools
import os

import torch
from joblib.parallel import BACKENDS, get_active_backend


def pool_shards(n_pool, batch_size, n_jobs):
    """Contiguous (start, stop) row ranges, one per job, on batch boundaries.

    Whole batches per shard: each worker then sees the batches a single process
    would, so results do not depend on ``n_jobs``.
    """
    batch_size = n_pool if batch_size is None or batch_size <= 0 else batch_size
    n_batches = -(-n_pool // max(batch_size, 1))
    n_shards = max(1, min(n_jobs, n_batches))
    bounds = [n_batches * i // n_shards for i in range(n_shards + 1)]
    return [
        (lo * batch_size, min(n_pool, hi * batch_size))
        for lo, hi in itertools.pairwise(bounds)
    ]


def sample_shard(sample, X, n_mc_samples, layer_seeds, max_memory, parent_pid):
    """One joblib task: the samples of one shard of the pool.

    In a worker process torch runs one intra-op thread, so that n_jobs workers
    share the cores without oversubscribing them; threads of the calling
    process (a threading backend) leave torch's process-wide setting alone and
    sample their own copy of the module. ``sample`` is the net's sampler,
    given by the net (``own_module=True``: on a copy of its module).
    """
    if os.getpid() == parent_pid:
        return sample(X, n_mc_samples, layer_seeds, max_memory, own_module=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return sample(X, n_mc_samples, layer_seeds, max_memory, own_module=True)
    finally:
        torch.set_num_threads(threads)


def _classes_pickled_by_reference(net):
    """Yield the classes of what skorch pickles with plain ``pickle``.

    The module, criterion and optimizer (its ``cuda_dependent_attributes_``),
    submodules included. Plain pickle stores a class by its module and name,
    to be imported again where it is unpickled.
    """
    prefixes = tuple(getattr(net, "cuda_dependent_attributes_", ()))
    for key, value in vars(net).items():
        if not (isinstance(key, str) and key.startswith(prefixes)):
            continue
        if isinstance(value, torch.nn.Module):
            yield from (type(m) for m in value.modules())
        else:
            yield type(value)


def check_shards_can_unpickle(net, n_jobs):
    """ValueError if loky's worker processes could not unpickle ``net``.

    skorch pickles the module, criterion and optimizer with plain ``pickle``
    (inside its ``__getstate__``, out of reach of loky's cloudpickle), so their
    classes must be importable in a fresh worker: one defined in ``__main__``
    (a notebook, the script being run) is not there, and one defined inside a
    function cannot be pickled at all. joblib reports either only as "A task
    has failed to un-serialize" or "Could not pickle the task". Threads (and
    the multiprocessing backend's forked workers, which inherit ``__main__``)
    are not checked.
    """
    backend, _ = get_active_backend()
    if not isinstance(backend, BACKENDS["loky"]):
        return
    for cls in _classes_pickled_by_reference(net):
        if "<locals>" in cls.__qualname__:
            where = "inside a function"
        elif cls.__module__ == "__main__":
            where = "in __main__ (a notebook or the script being run)"
        else:
            continue
        raise ValueError(
            f"n_jobs={n_jobs} samples the pool in joblib worker processes, which "
            f"unpickle the {type(net).__name__}, but {cls.__qualname__} is "
            f"defined {where}, where the workers cannot import it (joblib would "
            "fail with 'A task has failed to un-serialize' or 'Could not pickle "
            f"the task'). Define {cls.__name__} at the top level of an "
            "importable file (a .py module beside the script or notebook) and "
            "import it from there, or use n_jobs=1 (or joblib.parallel_config("
            "backend='threading'))."
        )
