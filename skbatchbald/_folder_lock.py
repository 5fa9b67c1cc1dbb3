"""One process at a time in a folder: a POSIX ``flock`` on the folder itself.

No lock file is left behind, and a killed process's lock goes with it. The
thread that holds a folder may hold it again (nested rounds, a user's own
``with annotator.hold():`` around one); other threads and processes may not,
and a child process forked meanwhile does not inherit the hold. Where there
is no ``flock`` (Windows), or the file system cannot lock a folder (NFS
emulates ``flock`` with locks that need a file opened for writing), nothing
is held: :class:`FolderUnlockable` lets the caller say so.
"""

import errno
import os
import threading

__all__ = ["FolderBusy", "FolderUnlockable", "hold_folder", "release_folder"]

_held = {}  # (device, inode) -> [handle, depth, owner thread], this process's
_lock = threading.Lock()


class FolderBusy(Exception):
    """Another process holds the folder."""


class FolderUnlockable(OSError):
    """The file system cannot lock the folder (e.g. NFS): nothing is held."""


def _close_in_child():
    # a forked child shares the open folder and with it the lock; closing
    # its copy leaves the parent's hold as it was. The registry's lock may
    # have been taken by another thread at the fork: the child gets a new one
    global _lock
    _lock = threading.Lock()
    for handle, *_ in _held.values():
        os.close(handle)
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_in_child)


def hold_folder(path):
    """Hold the folder ``path``; pass the result to :func:`release_folder`.

    Returns
    -------
    key : tuple or None
        What to release; None where there is no ``flock`` (Windows).

    Raises
    ------
    FolderBusy
        If another process, or another thread of this one, holds it; the
        caller says what to do.
    FolderUnlockable
        If the file system cannot lock a folder; nothing is held.
    """
    try:
        import fcntl
    except ImportError:
        return None
    status = os.stat(path)
    key = (status.st_dev, status.st_ino)
    with _lock:
        if key in _held:
            if _held[key][2] != threading.get_ident():  # another thread's round
                raise FolderBusy(f"{path} is held by another thread")
            _held[key][1] += 1
            return key
        handle = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(handle)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise FolderBusy(f"{path} is held by another process") from None
            # e.g. EBADF on NFS, which locks only files opened for writing
            raise FolderUnlockable(exc.errno, f"cannot lock {path}: {exc}") from None
        _held[key] = [handle, 1, threading.get_ident()]
        return key


def release_folder(key):
    """Let go of a folder :func:`hold_folder` held (closing the last hold
    releases the lock)."""
    if key is None:
        return
    with _lock:
        entry = _held.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            del _held[key]
            os.close(entry[0])
