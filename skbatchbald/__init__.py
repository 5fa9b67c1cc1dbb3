"""BatchBALD active learning for scikit-learn, skorch and modAL.

Importing the package is cheap: it imports neither modAL, matplotlib, pandas
nor torch. Each public name is loaded from its module on first access.
"""

__version__ = "0.1.0.dev0"

# Public name -> module that defines it; resolved lazily by ``__getattr__`` so
# that ``import skbatchbald`` stays light and works without modAL installed.
_LAZY = {
    "ActiveLearner": "skbatchbald.modal",
    "Committee": "skbatchbald.committee",
    "MCDropoutClassifier": "skbatchbald.classifier",
    "MCDropoutMultiLabelClassifier": "skbatchbald.classifier",
    "MCDropoutRegressor": "skbatchbald.classifier",
    "DeepEnsembleClassifier": "skbatchbald.heads",
    "LaplaceHeadClassifier": "skbatchbald.heads",
    "BatchBALDQuery": "skbatchbald.query",
    "BALDQuery": "skbatchbald.query",
    "PowerBALDQuery": "skbatchbald.query",
    "MaxEntropyQuery": "skbatchbald.query",
    "VarRatiosQuery": "skbatchbald.query",
    "MeanSTDQuery": "skbatchbald.query",
    "RandomQuery": "skbatchbald.query",
    "MarginQuery": "skbatchbald.query",
    "EPIGQuery": "skbatchbald.query",
    "BatchEPIGQuery": "skbatchbald.query",
    "TypiClustQuery": "skbatchbald.cold_start",
    "SkbatchbaldWarning": "skbatchbald._warnings",
}

__all__ = [*sorted(_LAZY), "__version__"]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later accesses skip this hook
        return value
    raise AttributeError(f"module 'skbatchbald' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
