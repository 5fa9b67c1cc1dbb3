"""Bayesian heads on frozen embeddings (N, d): a deep ensemble and last-layer Laplace.

Both are skorch classifiers whose ``predict_log_proba_samples`` gives
consistent posterior samples (one model per sample, the same for every row),
so they plug into every strategy of :mod:`skbatchbald.query`.
"""

from ._ensemble import DeepEnsembleClassifier
from ._laplace import LaplaceHeadClassifier
from ._module import BatchedHeads

# Pickles, reprs and the API reference name the classes by their public path.
for _cls in (BatchedHeads, DeepEnsembleClassifier, LaplaceHeadClassifier):
    _cls.__module__ = __name__
del _cls

__all__ = ["BatchedHeads", "DeepEnsembleClassifier", "LaplaceHeadClassifier"]
