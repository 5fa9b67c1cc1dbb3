"""Reference networks with consistent MC dropout: an MLP and the paper's MNIST CNN."""

import numbers

import torch
from torch import nn

from .._validation import check_int
from .dropout import ConsistentMCDropout, ConsistentMCDropout2d

__all__ = ["BayesianCNN", "BayesianMLP"]


def _check_probability(name, value):
    if not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
        raise ValueError(
            f"{name} must be a dropout probability in [0, 1), got {value!r}; "
            "the paper uses 0.5."
        )
    return float(value)


class BayesianMLP(nn.Module):
    """A multilayer perceptron with consistent MC dropout after each hidden layer.

    Layers: for each width h in ``hidden_sizes``: Linear -> ReLU ->
    :class:`ConsistentMCDropout`; then Linear to ``n_classes`` logits. Inputs of
    shape ``(N, n_features)``; higher-dimensional inputs (images) are flattened.

    Parameters
    ----------
    n_features : int
        Number of input features (after flattening).
    n_classes : int, default=10
        Number of output logits; must equal ``len(classes_)`` of the classifier.
    hidden_sizes : tuple of int, default=(128,)
        Widths of the hidden layers.
    p : float, default=0.5
        Dropout probability after each hidden layer.

    See Also
    --------
    BayesianCNN : The paper's convolutional network for images.
    skbatchbald.MCDropoutClassifier : Wraps either network for scikit-learn.

    Notes
    -----
    The network returns logits, for ``torch.nn.CrossEntropyLoss``. Dropout before
    every weight layer makes it an approximate Bayesian network (Gal & Ghahramani
    2016); masks are sampled consistently (Kirsch et al. 2019, Fig. 7).

    Examples
    --------
    >>> import torch
    >>> from skbatchbald.nn import BayesianMLP
    >>> net = BayesianMLP(n_features=64, n_classes=10, hidden_sizes=(32, 16))
    >>> net(torch.zeros(5, 64)).shape
    torch.Size([5, 10])
    >>> net(torch.zeros(5, 8, 8)).shape  # images are flattened
    torch.Size([5, 10])
    """

    def __init__(self, n_features, n_classes=10, hidden_sizes=(128,), p=0.5):
        super().__init__()
        self.n_features = check_int(n_features, "n_features")
        n_classes = check_int(n_classes, "n_classes")
        p = _check_probability("p", p)
        layers = []
        width = self.n_features
        for i, h in enumerate(hidden_sizes):
            h = check_int(h, f"hidden_sizes[{i}]")
            layers += [nn.Linear(width, h), nn.ReLU(), ConsistentMCDropout(p)]
            width = h
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        """Return logits ``(N, n_classes)`` for ``x`` of shape ``(N, ...)``."""
        x = x.flatten(1) if x.dim() > 2 else x
        if x.dim() != 2 or x.shape[1] != self.n_features:
            raise ValueError(
                f"BayesianMLP expects inputs of shape (N, {self.n_features}), got "
                f"{tuple(x.shape)}; set module__n_features={x.shape[-1]} if that is "
                "the number of features."
            )
        return self.layers(x)


class BayesianCNN(nn.Module):
    """The BatchBALD paper's MNIST network, with consistent MC dropout.

    conv(32, k) -> dropout2d -> maxpool 2 -> ReLU, conv(64, k) -> dropout2d ->
    maxpool 2 -> ReLU, flatten -> fc 128 -> dropout -> ReLU -> fc ``n_classes``
    (logits). With the defaults on 28x28 input the flattened size is 1024, as in
    the paper. For sklearn's 8x8 digits use ``image_size=8, kernel_size=3,
    padding=1`` (flattened size 256).

    Parameters
    ----------
    n_classes : int, default=10
        Number of output logits.
    image_size : int, default=28
        Height and width of the (square) input images.
    in_channels : int, default=1
        Number of input channels.
    kernel_size : int, default=5
        Side of both convolution kernels.
    padding : int, default=0
        Zero padding of both convolutions.
    p : float, default=0.5
        Dropout probability of all three dropout layers.

    See Also
    --------
    BayesianMLP : For tabular or flattened input.
    skbatchbald.MCDropoutClassifier : Wraps the network for scikit-learn.

    Notes
    -----
    Architecture from Kirsch, van Amersfoort & Gal (2019), Appendix (MNIST);
    MC dropout after Gal & Ghahramani (2016). Inputs may be flattened
    ``(N, in_channels * image_size**2)`` (so the net works after a scaler in a
    Pipeline), ``(N, image_size, image_size)`` or ``(N, C, H, W)``.

    Examples
    --------
    >>> import torch
    >>> from skbatchbald.nn import BayesianCNN
    >>> net = BayesianCNN()
    >>> net.fc1.in_features
    1024
    >>> BayesianCNN(image_size=8, kernel_size=3, padding=1)(torch.zeros(2, 64)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        n_classes=10,
        image_size=28,
        in_channels=1,
        kernel_size=5,
        padding=0,
        p=0.5,
    ):
        super().__init__()
        n_classes = check_int(n_classes, "n_classes")
        self.image_size = check_int(image_size, "image_size")
        self.in_channels = check_int(in_channels, "in_channels")
        kernel_size = check_int(kernel_size, "kernel_size")
        padding = check_int(padding, "padding", min_val=0)
        p = _check_probability("p", p)
        side = self.image_size
        for _ in range(2):  # conv (valid + padding), then 2x2 max-pooling
            side = (side + 2 * padding - kernel_size + 1) // 2
        if side < 1:
            raise ValueError(
                f"image_size={image_size} is too small for kernel_size={kernel_size} "
                f"and padding={padding}: two conv + 2x2 pool stages leave no pixel. "
                "For 8x8 digits use image_size=8, kernel_size=3, padding=1."
            )
        self.conv1 = nn.Conv2d(in_channels, 32, kernel_size, padding=padding)
        self.conv1_drop = ConsistentMCDropout2d(p)
        self.conv2 = nn.Conv2d(32, 64, kernel_size, padding=padding)
        self.conv2_drop = ConsistentMCDropout2d(p)
        self.fc1 = nn.Linear(64 * side * side, 128)
        self.fc1_drop = ConsistentMCDropout(p)
        self.fc2 = nn.Linear(128, n_classes)

    def _as_images(self, x):
        c, s = self.in_channels, self.image_size
        if x.dim() == 2 and x.shape[1] == c * s * s:
            return x.view(-1, c, s, s)
        if x.dim() == 3 and c == 1 and tuple(x.shape[1:]) == (s, s):
            return x.unsqueeze(1)
        if x.dim() == 4 and tuple(x.shape[1:]) == (c, s, s):
            return x
        raise ValueError(
            f"BayesianCNN(image_size={s}, in_channels={c}) expects inputs of shape "
            f"(N, {c * s * s}), (N, {c}, {s}, {s})"
            + (f" or (N, {s}, {s})" if c == 1 else "")
            + f", got {tuple(x.shape)}; set module__image_size/module__in_channels "
            "to match the data."
        )

    def forward(self, x):
        """Return logits ``(N, n_classes)`` for a batch of images."""
        x = self._as_images(x)  # (N, C, S, S)
        x = torch.relu(torch.max_pool2d(self.conv1_drop(self.conv1(x)), 2))
        x = torch.relu(torch.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = torch.relu(self.fc1_drop(self.fc1(x.flatten(1))))  # (N, 128)
        return self.fc2(x)
