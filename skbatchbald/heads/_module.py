"""BatchedHeads: E small classification heads on embeddings, run as one module."""

import math

import torch
from torch import nn

__all__ = ["BatchedHeads"]


def _uniform(shape, fan_in):
    # nn.Linear's default initialisation, drawn for each member separately.
    bound = 1.0 / math.sqrt(fan_in)
    return nn.Parameter(torch.empty(shape).uniform_(-bound, bound))


class BatchedHeads(nn.Module):
    """E linear or one-hidden-layer MLP heads, with their weights stacked.

    Member e maps an embedding x to logits ``x W_e + b_e`` (linear) or
    ``relu(x V_e + a_e) W_e + b_e`` (MLP with ``hidden`` units). All members
    run in one batched matrix product, so training E heads costs about as
    much as training one wide head.

    Parameters
    ----------
    n_features : int
        Dimension d of the embeddings.
    n_classes : int
        Number C of classes.
    n_members : int, default=1
        Number E of heads.
    hidden : None or int, default=None
        None: linear heads; an int: MLP heads with this many ReLU units.

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (E, D, C)
        Last-layer weights; D is ``hidden`` or d.
    bias : torch.nn.Parameter of shape (E, C)
        Last-layer biases.
    hidden_weight, hidden_bias : torch.nn.Parameter or None
        The hidden layer, of shapes (E, d, hidden) and (E, hidden); None for
        linear heads.

    Examples
    --------
    >>> import torch
    >>> from skbatchbald.heads import BatchedHeads
    >>> heads = BatchedHeads(n_features=8, n_classes=3, n_members=5, hidden=16)
    >>> heads(torch.zeros(4, 8)).shape
    torch.Size([4, 5, 3])
    """

    def __init__(self, n_features, n_classes, n_members=1, hidden=None):
        super().__init__()
        self.n_members = n_members
        if hidden is None:
            self.hidden_weight = self.hidden_bias = None
            width = n_features
        else:
            self.hidden_weight = _uniform((n_members, n_features, hidden), n_features)
            self.hidden_bias = _uniform((n_members, hidden), n_features)
            width = hidden
        self.weight = _uniform((n_members, width, n_classes), width)
        self.bias = _uniform((n_members, n_classes), width)

    def features(self, X):
        """Return the last layer's inputs, (N, E, D); the embeddings if linear.

        Parameters
        ----------
        X : torch.Tensor of shape (N, d)
            Embeddings.

        Returns
        -------
        features : torch.Tensor of shape (N, E, D) or (N, d)
            Shared by all members for linear heads (not copied E times).
        """
        if self.hidden_weight is None:
            return X
        return torch.relu(
            torch.einsum("nd,edh->neh", X, self.hidden_weight) + self.hidden_bias
        )

    def forward(self, X, member_weights=None):
        """Logits of every member.

        Parameters
        ----------
        X : torch.Tensor of shape (N, d)
            Embeddings.
        member_weights : torch.Tensor of shape (N, E), default=None
            Each training row's weight in each member's loss (a bootstrap);
            read by the classifier's loss, not here.

        Returns
        -------
        logits : torch.Tensor of shape (N, E, C)
        """
        phi = self.features(X)
        if phi.dim() == 2:
            return torch.einsum("nd,edc->nec", phi, self.weight) + self.bias
        return torch.einsum("neh,ehc->nec", phi, self.weight) + self.bias
