"""BatchBALD active learning for scikit-learn, skorch and modAL.

Importing the package is cheap: it imports neither modAL, matplotlib nor pandas.
The modAL-based names (:class:`ActiveLearner`) are loaded on first access.
"""

__version__ = "0.1.0.dev0"

# Names whose modules import modAL; resolved lazily by ``__getattr__``.
_LAZY = {"ActiveLearner": "skbatchbald.modal"}

__all__ = ["ActiveLearner", "__version__"]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'skbatchbald' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
