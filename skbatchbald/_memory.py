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

__all__ = ["check_max_memory", "large_empty", "shown_bytes"]

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


# Where Linux tells a process its memory cgroup and that cgroup's limits; module
# names so that the tests can point them at a fake tree.
_PROC_SELF_CGROUP = "/proc/self/cgroup"
_CGROUP_ROOT = "/sys/fs/cgroup"

# cgroup v1 writes "no limit" as the largest page-aligned signed 64-bit number.
_NO_CGROUP_LIMIT = 2**62

# Each cgroup version's files: the limit, the usage, and the memory.stat keys of
# the file cache, which the kernel reclaims before it kills anything: a memmapped
# pool read every round stays in it (active), and counting it as used would
# shrink the budget to almost nothing.
_CGROUP_FILES = {
    "v1": (
        "memory.limit_in_bytes",
        "memory.usage_in_bytes",
        ("total_inactive_file", "total_active_file"),
    ),
    "v2": ("memory.max", "memory.current", ("inactive_file", "active_file")),
}


def _read_text(path):
    try:
        with open(path) as file:
            return file.read()
    except OSError:
        return None


def _cgroup_dirs():
    """(version, folder) of every memory cgroup that bounds this process.

    The process's own cgroup and each of its ancestors can hold a limit. Inside a
    container the path in /proc/self/cgroup may name the host's tree, which the
    container does not see; its own root (the container's cgroup) still holds
    the limit, so the root is always a candidate.
    """
    text = _read_text(_PROC_SELF_CGROUP)
    if text is None:
        return []
    dirs = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            version, root = "v2", _CGROUP_ROOT
        elif "memory" in controllers.split(","):
            version, root = "v1", os.path.join(_CGROUP_ROOT, "memory")
        else:
            continue
        path = path.strip("/")
        while True:
            folder = os.path.join(root, path) if path else root
            if os.path.isdir(folder):
                dirs.append((version, folder))
            if not path:
                break
            path = os.path.dirname(path)
    return dirs


def _cgroup_headroom():
    """Bytes the memory cgroups of this process still allow (the file cache
    counted as free), or None if no limit.

    A container's limit (Docker's ``--memory``, a Kubernetes pod's limit) is
    invisible in /proc/meminfo, which reports the host: a budget taken from the
    host's memory alone can get the process killed.
    """
    headroom = None
    for version, folder in _cgroup_dirs():
        limit_file, usage_file, cache_keys = _CGROUP_FILES[version]
        limit = _read_text(os.path.join(folder, limit_file))
        usage = _read_text(os.path.join(folder, usage_file))
        try:
            limit = int(limit)
            usage = int(usage)
        except (TypeError, ValueError):  # "max" (v2), a missing file
            continue
        if limit >= _NO_CGROUP_LIMIT:
            continue
        stat = _read_text(os.path.join(folder, "memory.stat")) or ""
        cache = 0
        for line in stat.splitlines():
            key, _, value = line.partition(" ")
            if key in cache_keys and value.strip().isdigit():
                cache += int(value)
        room = max(0, limit - max(0, usage - cache))
        headroom = room if headroom is None else min(headroom, room)
    return headroom


def _available_memory():
    """Memory available to a new allocation in bytes, or None where unknown.

    Linux's ``MemAvailable`` counts the page cache the kernel can drop; the free
    page count alone does not, so a warm file cache (a memmapped pool, say)
    would shrink the default budget to almost nothing. Where a memory cgroup
    (a container) bounds the process, the smaller of the two.
    """
    available = _host_available_memory()
    headroom = _cgroup_headroom()
    if headroom is None:
        return available
    return headroom if available is None else min(available, headroom)


def _host_available_memory():
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
        reclaimable page cache, or the room left under the memory limit of the
        process's cgroup, a container's limit, where that is smaller; elsewhere
        the free physical memory; 1 GiB where the OS reports neither). An
        ``int`` > 0: bytes. A string: a number and a unit, e.g. ``"512MB"``,
        ``"2.5 GB"``, ``"1GiB"``; B, KB, MB, GB, TB are powers of 1000 and KiB,
        MiB, GiB, TiB powers of 1024; case and spaces are ignored.

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


def shown_bytes(n_bytes):
    """A size for a message, in the largest binary unit it reaches: "3.2 GiB",
    "40 MiB", "12 KiB", "800 B" (a budget of "10KB" is not "0 MiB")."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= size:
            value = n_bytes / size
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{int(n_bytes)} B"


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
