"""Reference networks with consistent MC dropout: an MLP and the paper's MNIST CNN."""

import torch
from torch import nn

from .._validation import check_int, check_real
from .dropout import ConsistentMCDropout, ConsistentMCDropout2d

__all__ = ["BayesianCNN", "BayesianMLP"]


def _check_probability(name, value):
    return check_real(
        value,
        name,
        expected="a dropout probability in [0, 1)",
        min_val=0.0,
        max_val=1.0,
        max_open=True,
        hint="the paper uses 0.5.",
    )


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

    def mc_forward(self, x, masks):
        """Return the logits of every selected posterior sample at once.

        The sampling protocol (see :class:`~skbatchbald.nn.DropoutMasks`):
        :meth:`~skbatchbald.MCDropoutClassifier.predict_log_proba_samples`
        calls this instead of folding the samples into ``forward``. The last
        dropout mask is folded into the output layer's weights,
        ``W (m_k * h) = (W diag(m_k)) h``, so that one matrix product of the
        hidden features with the n stacked weight matrices gives all n samples:
        no (B, n, hidden) copy is made after a single hidden layer. Rows are
        computed in fixed tiles of 256 (the last one padded with zeros), so a
        row's samples are bitwise the same whatever the batch it comes in.

        Parameters
        ----------
        x : torch.Tensor
            A batch of B rows, in any input shape ``forward`` accepts.
        masks : DropoutMasks
            The selected samples; their masks come from ``masks.of``.

        Returns
        -------
        logits : torch.Tensor of shape (B, len(masks.samples), n_classes)
            Or ``NotImplemented`` if a layer has been replaced by a kind this
            path does not cover (alpha dropout, another activation); the sampler
            then folds ``forward`` instead.
        """
        layers = list(self.layers)
        hidden = [layers[i : i + 3] for i in range(0, len(layers) - 1, 3)]
        if not hidden or not all(
            type(linear) is nn.Linear
            and type(relu) is nn.ReLU
            and isinstance(drop, nn.Dropout)
            and type(drop).forward is nn.Dropout.forward
            for linear, relu, drop in hidden
        ):
            return NotImplemented
        x = x.flatten(1) if x.dim() > 2 else x
        if x.dim() != 2 or x.shape[1] != self.n_features:
            return self(x)  # forward's error message
        rows = x.shape[0]
        n_classes = layers[-1].out_features
        # full tiles write straight into the result: no concatenation pass
        logits = x.new_empty((rows, len(masks.samples), n_classes))
        for start in range(0, rows, _MLP_TILE_ROWS):
            stop = start + _MLP_TILE_ROWS
            tile = x[start:stop]
            if tile.shape[0] == _MLP_TILE_ROWS:
                _mlp_tile(hidden, layers[-1], tile, masks, out=logits[start:stop])
                continue
            n = tile.shape[0]  # the last tile, padded: same shapes, same rounding
            tile = torch.cat([tile, tile.new_zeros(_MLP_TILE_ROWS - n, x.shape[1])])
            logits[start:] = _mlp_tile(hidden, layers[-1], tile, masks)[:n]
        return logits


# Rows per tile of BayesianMLP.mc_forward: a fixed GEMM shape, whatever the batch.
_MLP_TILE_ROWS = 256


def _mlp_tile(hidden, output_layer, h, masks, out=None):
    """(T, n, n_classes) logits of one tile: masks applied, the last one folded.

    ``out``: a (T, n, n_classes) tensor to write them into (same numbers).
    """
    folded = False  # h is (T, features) until the first mask, then (T, n, f)
    for i, (linear, relu, drop) in enumerate(hidden):
        h = relu(linear(h))
        like = h[:, 0] if folded else h
        scale = masks.of(drop, like)[0]  # (n, features)
        if i + 1 < len(hidden):
            h = h * scale if folded else h.unsqueeze(1) * scale
            folded = True
            continue
        # (n, features, classes): sample j's output weights, columns scaled
        weight = scale.unsqueeze(2) * output_layer.weight.t()
        n, features, n_classes = weight.shape
        if folded:  # (n, T, f) @ (n, f, c) -> (T, n, c)
            logits = torch.bmm(h.transpose(0, 1), weight).transpose(0, 1)
        else:  # (T, f) @ (f, n * c)
            stacked = weight.transpose(0, 1).reshape(features, n * n_classes)
            logits = (h @ stacked).view(h.shape[0], n, n_classes)
        if output_layer.bias is not None:
            return torch.add(logits, output_layer.bias, out=out)
        return logits if out is None else out.copy_(logits)


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

    def mc_forward(self, x, masks):
        """Return the logits of every selected posterior sample at once.

        The sampling protocol (see :class:`~skbatchbald.nn.DropoutMasks`):
        :meth:`~skbatchbald.MCDropoutClassifier.predict_log_proba_samples`
        calls this instead of folding the samples into ``forward``. Channel
        masks are >= 0 and constant over a channel, so they commute with
        max-pooling and ReLU, and conv2 is linear in its input channels,
        ``conv2(m * h) = b + sum_c m_c conv2_c(h_c)``: the per-channel partial
        convolutions run once per row, and one small matrix product per row
        mixes them for all samples.

        Parameters
        ----------
        x : torch.Tensor
            A batch of B images, in any input shape ``forward`` accepts.
        masks : DropoutMasks
            The selected samples; their masks come from ``masks.of``.

        Returns
        -------
        logits : torch.Tensor of shape (B, len(masks.samples), n_classes)
            Or ``NotImplemented`` if a dropout layer has been replaced by a kind
            this path does not cover (alpha dropout, element-wise dropout on
            the feature maps); the sampler then folds ``forward`` instead.
        """
        if not (
            type(self.conv1_drop).forward is nn.Dropout2d.forward
            and type(self.conv2_drop).forward is nn.Dropout2d.forward
            and type(self.fc1_drop).forward is nn.Dropout.forward
            and isinstance(self.conv1_drop, nn.Dropout2d)
            and isinstance(self.conv2_drop, nn.Dropout2d)
            and isinstance(self.fc1_drop, nn.Dropout)
        ):
            return NotImplemented
        x = self._as_images(x)
        return _channel_linear_cnn(self, x, masks)


# Rows per tile: the (tile, K, 64, h, w) conv2 maps then stay in the cache.
_TILE_ROWS = 16


def _max_pool2(x):
    """2x2 max-pooling (floor mode) as two elementwise maxima of strided views.

    The same numbers as ``torch.max_pool2d(x, 2)``; an order of magnitude
    faster on a CPU for the many small maps of folded samples.
    """
    h, w = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2
    x = x[..., :h, :w]
    x = torch.maximum(x[..., 0::2, :], x[..., 1::2, :])
    return torch.maximum(x[..., 0::2], x[..., 1::2])


def _channel_linear_cnn(net, x, masks):
    """BayesianCNN.mc_forward: all selected samples of a batch, tile by tile."""
    conv2 = net.conv2
    n_in, n_out = conv2.in_channels, conv2.out_channels
    kh, kw = conv2.kernel_size
    # conv2's kernel as n_in groups of n_out single-channel filters: input
    # channel c of conv2 feeds output channels c * n_out .. c * n_out + n_out - 1.
    partial_weight = conv2.weight.transpose(0, 1).reshape(n_in * n_out, 1, kh, kw)
    outputs = []
    for start in range(0, x.shape[0], _TILE_ROWS):
        h = net.conv1(x[start : start + _TILE_ROWS])  # (T, 32, S1, S1)
        m1 = masks.of(net.conv1_drop, h)[0].flatten(1)  # (n, 32)
        h = _max_pool2(h).relu_()  # the mask commutes with both: applied below
        partials = torch.nn.functional.conv2d(
            h, partial_weight, None, conv2.stride, conv2.padding, groups=n_in
        )  # (T, 32 * 64, S2, S2)
        rows, n = h.shape[0], m1.shape[0]
        z = torch.matmul(m1, partials.view(rows, n_in, -1))  # (T, n, 64 * S2 * S2)
        z = _max_pool2(z.view(rows, n, n_out, *partials.shape[2:]))
        m2 = masks.of(net.conv2_drop, z.view(rows * n, *z.shape[2:]))[0]
        # max(z + b) = max(z) + b; the mask (>= 0) commutes with pool and ReLU
        z = z.add_(conv2.bias.view(n_out, 1, 1)).relu_().mul_(m2)
        y = net.fc1(z.reshape(rows * n, -1)).view(rows, n, -1)  # (T, n, 128)
        m3 = masks.of(net.fc1_drop, y.view(rows * n, -1))[0]  # (n, 128)
        outputs.append(net.fc2(y.mul_(m3).relu_()))  # (T, n, n_classes)
    return torch.cat(outputs)
