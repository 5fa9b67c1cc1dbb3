"""n_jobs: the pool cut into shards on batch boundaries, one joblib task each."""

import copy
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


def sample_shard(net, X, n_mc_samples, layer_seeds, max_memory, parent_pid):
    """One joblib task: the samples of one shard of the pool.

    In a worker process torch runs one intra-op thread, so that n_jobs workers
    share the cores without oversubscribing them; threads of the calling
    process (a threading backend) leave torch's process-wide setting alone and
    sample their own copy of the module.
    """
    # Every shard hooks its masks onto a copy of the module: threads of one
    # process must not share the hooks, and on Dask (joblib's dask backend) the
    # net is scattered to one worker and fetched from there by the others, which
    # would pickle the hooks of a module being sampled (the fetch fails and the
    # shard is never computed).
    module = copy.deepcopy(net.module_)
    if os.getpid() == parent_pid:
        return net._sample(X, n_mc_samples, layer_seeds, max_memory, module)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return net._sample(X, n_mc_samples, layer_seeds, max_memory, module)
    finally:
        torch.set_num_threads(threads)
