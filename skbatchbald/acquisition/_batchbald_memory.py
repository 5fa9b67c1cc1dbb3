"""Memory of one greedy BatchBALD call: what it needs besides the pool, and checks.

Shared by the in-memory greedy (``_batchbald``) and the greedy over row blocks
(``_batchbald_chunked``), which size their work to the same ``max_memory``.
"""

from ._batchbald_kernel import CandidateScorer

# Python objects, threads and small temporaries of one call.
_OVERHEAD_BYTES = 2**20


def table_bytes(n_joint_samples, n_mc_samples, n_instances):
    """Bytes of the joint tables: at most M configurations, at any step."""
    # log P(ŷ|ω) and its transpose, its shifted exp, the posterior rows (float64),
    # their float32 copy and the grouped rows' two temporaries: <= 48 K bytes per
    # configuration alive at once; labels and their sorted copies: 3 b + 24 bytes.
    return n_joint_samples * (48 * n_mc_samples + 3 * n_instances + 64)


def fixed_bytes(shape, n_instances, n_joint_samples):
    """Bytes needed besides the scorer's tiles: per-point arrays and joint tables."""
    n_pool, n_mc_samples, _ = shape
    return (
        _OVERHEAD_BYTES
        + 48 * n_pool
        + table_bytes(n_joint_samples, n_mc_samples, n_instances)
        + CandidateScorer.rescore_bytes(n_joint_samples, shape)
    )


def minimum_memory(shape, n_instances, n_joint_samples):
    """The smallest ``max_memory`` accepted: one worker, no copy of the pool."""
    return fixed_bytes(shape, n_instances, n_joint_samples) + (
        CandidateScorer.worker_bytes(shape)
    )


def check_budget(max_memory, shape, n_instances, n_joint_samples):
    """Bytes left for the scorer's tiles and pool copy; ValueError if none."""
    n_pool, n_mc_samples, _ = shape
    needed = minimum_memory(shape, n_instances, n_joint_samples)
    if max_memory < needed:
        raise ValueError(
            f"max_memory={max_memory} bytes is below the {needed} bytes this call "
            f"needs (pool of {n_pool} points, K={n_mc_samples}, n_joint_samples="
            f"{n_joint_samples}: the joint table alone takes "
            f"{table_bytes(n_joint_samples, n_mc_samples, n_instances)} bytes); raise "
            f"max_memory or lower n_joint_samples"
        )
    return max_memory - fixed_bytes(shape, n_instances, n_joint_samples)
