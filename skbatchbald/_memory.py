"""``max_memory``: a memory budget in bytes, checked once for the whole package.

numpy only. Every layer that bounds its temporaries (the acquisition functions,
the classifier's sampling passes, the strategies) reads the budget through
`check_max_memory`, so that it has one form and one default everywhere.
`large_empty` allocates the few results that are as large as the pool.
"""

import contextlib
import mmap
import numbers
import os
import re

import numpy as np

__all__ = ["check_max_memory", "large_empty"]

# Below this, np.empty: the huge-page advice only pays for results of many pages.
_LARGE = 64 * 2**20

_DEFAULT_MAX_MEMORY = 2**30  # 1 GiB

_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_MEMORY_RE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)\s*", re.IGNORECASE)

_MAX_MEMORY_FORMS = (
    "None (min(1 GiB, a quarter of the available memory)), a positive int (bytes), "
    "or a string such as '512MB', '2.5 GB' or '1GiB' (units B, KB, MB, GB, TB = "
    "powers of 1000; KiB, MiB, GiB, TiB = powers of 1024; case-insensitive)"
)


def _available_memory():
    """Memory available to a new allocation in bytes, or None where unknown.

    Linux's ``MemAvailable`` counts the page cache the kernel can drop; the free
    page count alone does not, so a warm file cache (a memmapped pool, say)
    would shrink the default budget to almost nothing.
    """
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return available if available > 0 else None


def check_max_memory(max_memory):
    """Validate a memory budget and return it in bytes.

    Parameters
    ----------
    max_memory : None, int or str
        ``None``: ``min(1 GiB, available / 4)``, where ``available`` is the
        memory a new allocation can get (Linux's ``MemAvailable``, which counts
        reclaimable page cache; elsewhere the free physical memory; 1 GiB where
        the OS reports neither). An ``int`` > 0: bytes. A string: a
        number and a unit, e.g. ``"512MB"``, ``"2.5 GB"``, ``"1GiB"``; B, KB, MB,
        GB, TB are powers of 1000 and KiB, MiB, GiB, TiB powers of 1024; case and
        spaces are ignored.

    Returns
    -------
    max_memory : int
        Bytes, >= 1.

    Raises
    ------
    TypeError
        If ``max_memory`` is neither None, an int nor a string.
    ValueError
        If it is an int < 1 or a string that is not a positive size; the
        message lists the accepted forms.
    """
    if max_memory is None:
        available = _available_memory()
        if available is None:
            return _DEFAULT_MAX_MEMORY
        return max(1, min(_DEFAULT_MAX_MEMORY, available // 4))
    if isinstance(max_memory, numbers.Integral) and not isinstance(
        max_memory, bool | np.bool_
    ):
        if max_memory > 0:
            return int(max_memory)
    elif isinstance(max_memory, str):
        match = _MEMORY_RE.fullmatch(max_memory)
        if match is not None and match.group(2).lower() in _UNITS:
            n_bytes = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
            if n_bytes > 0:
                return n_bytes
    else:
        raise TypeError(
            f"max_memory must be {_MAX_MEMORY_FORMS}; got {max_memory!r} of type "
            f"{type(max_memory).__name__}"
        )
    raise ValueError(f"max_memory must be {_MAX_MEMORY_FORMS}; got {max_memory!r}")


def large_empty(shape, dtype):
    """An uninitialised array for a result as large as the pool, on huge pages.

    A fresh array is mapped page by page as it is first written, and on a
    virtual machine a 4 KiB page fault costs microseconds: filling 800 MB of
    fresh memory took 0.05 to 1.74 CPU seconds (median 0.38 of five tries) on
    the 2-core machine of docs/benchmarks.rst, where computing 800 MB of
    samples takes about 3. Arrays of at least 64 MiB are therefore private
    anonymous maps advised to use 2 MiB pages where the kernel offers them
    (Linux, transparent huge pages in "madvise" or "always" mode): 0.05 to
    0.98 CPU seconds there (median 0.05). Elsewhere, and for smaller
    arrays, this is ``np.empty``. The array is writeable, C-contiguous and
    private to the process, as ``np.empty``'s is.
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    anonymous = getattr(mmap, "MAP_ANONYMOUS", None)
    if advice is None or anonymous is None or nbytes < _LARGE:
        return np.empty(shape, dtype)
    pages = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | anonymous)
    with contextlib.suppress(OSError):  # huge pages switched off: ordinary pages
        pages.madvise(advice)
    return np.frombuffer(pages, dtype).reshape(shape)
