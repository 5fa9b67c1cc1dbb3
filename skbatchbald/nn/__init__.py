"""Torch modules: consistent MC dropout layers and reference networks.

See :func:`consistent_dropout` for how posterior samples are drawn and
:class:`BayesianCNN` for the BatchBALD paper's MNIST network.
"""

from .dropout import (
    ConsistentMCDropout,
    ConsistentMCDropout2d,
    DropoutMasks,
    consistent_dropout,
    dropout_layers,
)
from .nets import BayesianCNN, BayesianMLP

__all__ = [
    "BayesianCNN",
    "BayesianMLP",
    "ConsistentMCDropout",
    "ConsistentMCDropout2d",
    "DropoutMasks",
    "consistent_dropout",
    "dropout_layers",
]
