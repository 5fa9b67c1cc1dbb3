"""Ctrl-C that stops the caller even when skorch swallows it.

skorch's ``partial_fit`` catches KeyboardInterrupt and returns a model trained
for fewer epochs, as if training had ended normally. While the guard is
active, SIGINT raises KeyboardInterrupt as usual and is also remembered, so
that :meth:`InterruptGuard.check` after training raises it again: a run's cut
round is never recorded, and a learner's cut fit is undone instead of queried.
"""

import signal
import threading

__all__ = ["InterruptGuard"]


class InterruptGuard:
    """Context manager that remembers SIGINT; ``check()`` re-raises it."""

    def __init__(self):
        self.interrupted = False
        self._previous = None

    def _handle(self, signum, frame):
        self.interrupted = True
        raise KeyboardInterrupt

    def __enter__(self):
        # Signal handlers can only be set from the main thread; elsewhere
        # (a thread pool) the caller's own handling stays.
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def check(self):
        """Raise KeyboardInterrupt if SIGINT arrived since entering."""
        if self.interrupted:
            raise KeyboardInterrupt
