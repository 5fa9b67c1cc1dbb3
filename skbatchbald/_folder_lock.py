"""One process at a time in a folder: a POSIX ``flock`` on the folder itself.

No lock file is left behind, and a killed process's lock goes with it. Where
there is no ``flock`` (Windows) nothing is held.
"""

import os

__all__ = ["hold_folder", "release_folder"]


def hold_folder(path):
    """Hold the folder ``path``; pass the result to :func:`release_folder`.

    Returns
    -------
    handle : int or None
        The open folder (None where there is no ``flock``).

    Raises
    ------
    BlockingIOError
        If another process holds it; the caller says what to do.
    """
    try:
        import fcntl
    except ImportError:
        return None
    handle = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(handle)
        raise BlockingIOError(f"{path} is held by another process") from None
    return handle


def release_folder(handle):
    """Let go of a folder :func:`hold_folder` held (closing releases it)."""
    if handle is not None:
        os.close(handle)
