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
    """Context manager that remembers SIGINT; ``check()`` re-raises it.

    It stands in for Python's default handler only: where the program
    ignores SIGINT (a job started in the background) or handles it itself
    (a "stop after this round" flag), or an outer guard is active, that
    handling stays, and the guard does nothing.
    """

    def __init__(self):
        self.interrupted = False
        self._installed = False

    def _handle(self, signum, frame):
        self.interrupted = True
        raise KeyboardInterrupt

    def __enter__(self):
        # Signal handlers can only be set from the main thread; elsewhere
        # (a thread pool) the caller's own handling stays.
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc):
        if self._installed:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self._installed = False
        return False

    def check(self):
        """Raise KeyboardInterrupt if SIGINT arrived since entering."""
        if self.interrupted:
            raise KeyboardInterrupt
