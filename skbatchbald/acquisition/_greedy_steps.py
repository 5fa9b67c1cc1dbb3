"""What each greedy step did: the one private seam benchmarks measure through.

Greedy BatchBALD (in memory or over a chunked pool) reports every step here;
nothing is kept unless someone observes. ``benchmarks/`` does, to time steps and
count the candidates each one scored, while calling the public
:func:`~skbatchbald.acquisition.batchbald`:

>>> import numpy as np
>>> from skbatchbald.acquisition import batchbald
>>> from skbatchbald.acquisition._greedy_steps import observe
>>> logits = np.random.default_rng(0).normal(size=(6, 4, 3))
>>> log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
>>> with observe() as steps:
...     _ = batchbald(log_probs, 2)
>>> [sorted(step) for step in steps][0]
['exact', 'rows', 'scored', 'seconds', 'step']
"""

import contextlib
import threading
import time

_observers = []
_lock = threading.Lock()


@contextlib.contextmanager
def observe(into=None):
    """Collect one dict per greedy step of the calls made in the block.

    ``into`` is any object with ``append`` (a list by default), returned by the
    context manager. Each step is ``{"step", "exact", "rows", "scored",
    "seconds"}``: its index, whether its joint table is exact, the table's
    rows, the candidates scored and its wall time.
    """
    steps = [] if into is None else into
    with _lock:
        _observers.append(steps)
    try:
        yield steps
    finally:
        with _lock:
            _observers.remove(steps)


def record(step, rows, scored, started):
    """Report one finished step (no-op when nobody observes)."""
    if not _observers:
        return
    entry = {
        "step": step,
        "exact": rows.exact,
        "rows": rows.weights.shape[0],
        "scored": int(scored),
        "seconds": time.perf_counter() - started,
    }
    for steps in list(_observers):
        steps.append(dict(entry))
