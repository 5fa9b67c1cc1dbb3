"""n_jobs: the pool cut into shards on batch boundaries, one joblib task each."""

import itertools
import os

import torch


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
