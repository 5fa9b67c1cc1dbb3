"""Locks that keep seeded results independent of threads.

torch gives module initialisation and training-mode dropout no generator
argument: both draw from the process-wide torch generator. A seeded fit
therefore runs on a forked, seeded copy of that generator while it holds
``GLOBAL_TORCH_RNG``, and every fit takes the lock, so that no other fit can
draw from (or reseed) the generator in between. Sampling never uses the global
generator; it holds the estimator's own lock, because its dropout hooks sit on
the shared module.
"""

import contextlib
import threading
import weakref

import torch

# Re-entrant: a fit's callbacks may predict, and predicting may sample.
GLOBAL_TORCH_RNG = threading.RLock()

_registry_lock = threading.Lock()
_object_locks = weakref.WeakKeyDictionary()


def lock_of(obj):
    """Return the re-entrant lock of ``obj``, created on first use.

    Kept outside the object so that pickling, ``clone`` and ``copy`` never see it.
    """
    with _registry_lock:
        lock = _object_locks.get(obj)
        if lock is None:
            lock = _object_locks[obj] = threading.RLock()
        return lock


@contextlib.contextmanager
def seeded_global_torch(seed, device):
    """Run a block holding ``GLOBAL_TORCH_RNG``, on a forked generator if seeded.

    With ``seed`` None the block draws from the global torch generator, as
    skorch does; otherwise the generator of the CPU (and of ``device``) is
    forked, seeded, and restored on exit.
    """
    with GLOBAL_TORCH_RNG:
        if seed is None:
            yield
            return
        device = torch.device(device or "cpu")
        on_cpu = device.type == "cpu"
        with torch.random.fork_rng(
            devices=[] if on_cpu else None,
            device_type="cuda" if on_cpu else device.type,
        ):
            torch.manual_seed(seed)
            yield
