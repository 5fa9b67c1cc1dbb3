"""Package versions and machine facts recorded next to every result."""

import datetime
import importlib.metadata
import os
import platform

_PACKAGES = ("skbatchbald", "numpy", "scikit-learn", "torch", "skorch", "pandas")


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def describe_environment():
    """Return ``{"versions": {...}, "machine": {...}}`` for config.json."""
    import torch

    return {
        "versions": {name: _version(name) for name in _PACKAGES},
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "started": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"
            ),
        },
    }
