"""Acquisition functions: pure math on posterior log-probabilities.

Every function takes ``log_probs`` of shape ``(n_pool, n_mc_samples, n_classes)`` --
``log p(y = c | x_n, ω_k)`` for N pool points and K posterior samples -- and returns
``(indices, scores)``: ``indices`` int64, distinct, in pick order; ``scores`` float64.
This layer imports only numpy (and torch, if the caller passes tensors); it knows
nothing of scikit-learn, skorch or modAL.

The multi-label functions (``multilabel_bald``, ``multilabel_batchbald``,
``label_mutual_information``) take instead ``log p(y_l = 1 | x_n, ω_k)`` of shape
``(n_pool, n_mc_samples, n_labels)``, one Bernoulli output per label.
"""

# The implementation modules are private and their functions are exported here.
# A public module named like the function it defines (bald.py defining bald)
# would also break that function: pytest's importlib mode, importing such a file
# for its doctests before the package, re-executes it and sets the package
# attribute to the module, so ``skbatchbald.acquisition.bald`` would stop being
# the function (see docs/design.rst).
from ._bald import bald
from ._baselines import max_entropy, mean_std, random_batch, variation_ratios
from ._batch_epig import batch_epig
from ._batchbald import batchbald
from ._entropy import conditional_entropy, marginal_entropy, mutual_information
from ._epig import epig
from ._gaussian import bald_gaussian, batchbald_gaussian
from ._margin import margin
from ._multilabel_bald import label_mutual_information, multilabel_bald
from ._multilabel_batchbald import multilabel_batchbald
from ._power_bald import power_bald
from ._regression import bald_regression, batchbald_regression
from ._saturation import SaturationWarning
from ._ties import TiedScoresWarning

__all__ = [
    "SaturationWarning",
    "TiedScoresWarning",
    "bald",
    "bald_gaussian",
    "bald_regression",
    "batch_epig",
    "batchbald",
    "batchbald_gaussian",
    "batchbald_regression",
    "conditional_entropy",
    "epig",
    "label_mutual_information",
    "margin",
    "marginal_entropy",
    "max_entropy",
    "mean_std",
    "multilabel_bald",
    "multilabel_batchbald",
    "mutual_information",
    "power_bald",
    "random_batch",
    "variation_ratios",
]
