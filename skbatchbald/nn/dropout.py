"""Consistent MC dropout: one fixed set of dropout masks per posterior sample.

During acquisition, posterior sample k must be the *same* network for every pool
row. Plain dropout in train mode draws a new mask per row and per call, which makes
BatchBALD no better than random (Kirsch et al. 2019, Fig. 7). Here the module stays
in eval mode (dropout is the identity, BatchNorm uses its running statistics) and a
forward hook on each dropout layer multiplies its output by mask k, a mask drawn
once per call over the layer's feature shape and broadcast over the batch.
"""

import contextlib
import numbers

import torch
from torch import nn

from .._validation import check_n_mc_samples, spawn_seeds

__all__ = [
    "ConsistentMCDropout",
    "ConsistentMCDropout2d",
    "consistent_dropout",
    "dropout_layers",
]

# One mask entry per channel (dim 1), shared over the spatial dimensions.
_CHANNEL_WISE = (nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.FeatureAlphaDropout)
_ALPHA = (nn.AlphaDropout, nn.FeatureAlphaDropout)
_SUPPORTED = (nn.Dropout, nn.AlphaDropout, *_CHANNEL_WISE)
_SUPPORTED_NAMES = (
    "nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, "
    "nn.FeatureAlphaDropout and their subclasses (ConsistentMCDropout, "
    "ConsistentMCDropout2d)"
)
# -scale * alpha of SELU: the value alpha dropout sets dropped units to before its
# affine correction (Klambauer et al. 2017; the constant of torch's alpha_dropout).
_SELU_SATURATION = 1.7580993408473766


class ConsistentMCDropout(nn.Dropout):
    """Dropout whose masks are fixed per posterior sample when sampling.

    In training it is :class:`torch.nn.Dropout`; in eval mode it is the identity.
    Inside :func:`consistent_dropout` (which
    :meth:`~skbatchbald.MCDropoutClassifier.predict_log_proba_samples` uses),
    posterior sample k multiplies every row by the same element-wise mask, so a
    row's k-th prediction does not depend on its batch, the batch size or the row
    order.

    Parameters
    ----------
    p : float, default=0.5
        Probability of dropping a unit.
    inplace : bool, default=False
        As in :class:`torch.nn.Dropout` (training only).

    See Also
    --------
    ConsistentMCDropout2d : The channel-wise variant for convolutional maps.
    consistent_dropout : The context manager that draws the masks.

    Notes
    -----
    MC dropout reads a dropout network as an approximate Bayesian posterior: each
    mask is one sample ω_k (Gal & Ghahramani 2016). BatchBALD needs the K masks to
    be shared by all pool points (Kirsch, van Amersfoort & Gal 2019, Fig. 7).
    :func:`consistent_dropout` samples plain ``nn.Dropout`` layers in the same
    consistent way; this class makes the intent explicit in a model definition.

    Examples
    --------
    >>> import torch
    >>> from skbatchbald.nn import ConsistentMCDropout, consistent_dropout
    >>> layer = ConsistentMCDropout(p=0.5)
    >>> x = torch.ones(4, 6)
    >>> bool((layer.eval()(x) == x).all())
    True
    >>> with consistent_dropout(layer, n_mc_samples=3, random_state=0) as masks:
    ...     masks.select(0)
    ...     y = layer(x)
    >>> bool((y == y[0]).all())  # every row got the same mask
    True
    """


class ConsistentMCDropout2d(nn.Dropout2d):
    """Channel-wise dropout whose masks are fixed per posterior sample.

    In training it is :class:`torch.nn.Dropout2d` (whole channels of a
    ``(N, C, H, W)`` map are dropped); in eval mode it is the identity. Inside
    :func:`consistent_dropout`, posterior sample k drops the same channels for
    every row.

    Parameters
    ----------
    p : float, default=0.5
        Probability of dropping a channel.
    inplace : bool, default=False
        As in :class:`torch.nn.Dropout2d` (training only).

    See Also
    --------
    ConsistentMCDropout : The element-wise variant.
    consistent_dropout : The context manager that draws the masks.

    Notes
    -----
    Channel-wise (spatial) dropout as in the BatchBALD paper's MNIST network
    (Kirsch, van Amersfoort & Gal 2019); MC dropout after Gal & Ghahramani 2016.

    Examples
    --------
    >>> import torch
    >>> from skbatchbald.nn import ConsistentMCDropout2d, consistent_dropout
    >>> layer = ConsistentMCDropout2d(p=0.5)
    >>> x = torch.ones(2, 8, 3, 3)
    >>> with consistent_dropout(layer, n_mc_samples=4, random_state=0) as masks:
    ...     masks.select(1)
    ...     y = layer(x)
    >>> bool((y[0] == y[1]).all())  # both rows lose the same channels
    True
    >>> sorted(set(y.flatten().tolist()))  # a channel is dropped or scaled by 2
    [0.0, 2.0]
    """


def dropout_layers(module):
    """Return the dropout layers of ``module`` that are sampled consistently.

    Parameters
    ----------
    module : torch.nn.Module
        Any module; it is searched recursively (shared layers are listed once).

    Returns
    -------
    layers : list of (str, torch.nn.Module)
        Qualified name and layer, in ``named_modules`` order.

    See Also
    --------
    consistent_dropout : Draws consistent masks for exactly these layers.

    Notes
    -----
    Found: ``nn.Dropout``, ``nn.Dropout1d/2d/3d``, ``nn.AlphaDropout``,
    ``nn.FeatureAlphaDropout`` and subclasses. Dropout written as
    ``torch.nn.functional.dropout`` inside ``forward`` is invisible here
    (Gal & Ghahramani 2016 for MC dropout).

    Examples
    --------
    >>> from torch import nn
    >>> from skbatchbald.nn import dropout_layers
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.2), nn.Linear(4, 2))
    >>> [name for name, _ in dropout_layers(net)]
    ['1']
    """
    return [
        (name, m) for name, m in module.named_modules() if isinstance(m, _SUPPORTED)
    ]


class _MaskIndex:
    """The posterior sample index that every layer's hook reads."""

    def __init__(self, n_mc_samples):
        self.n_mc_samples = n_mc_samples
        self.k = None

    def select(self, k):
        if not isinstance(k, numbers.Integral) or not 0 <= k < self.n_mc_samples:
            raise ValueError(
                f"k must be an int in [0, {self.n_mc_samples}), got {k!r}; the masks "
                f"were drawn for n_mc_samples={self.n_mc_samples}."
            )
        self.k = int(k)


class _LayerMasks:
    """Forward hook applying mask k of one layer; masks drawn on first use.

    The feature shape is unknown until the first forward, so the K masks are drawn
    then, from the layer's own seed: they do not depend on the batch size, and
    every later batch of the same call reuses them.
    """

    def __init__(self, name, layer, index, seed):
        self.name = name
        self.layer = layer
        self.index = index
        self.seed = seed
        self.feature_shape = None
        self.weight = None  # (K, *feature_shape)
        self.bias = None  # (K, *feature_shape), alpha dropout only

    def _feature_shape(self, output):
        if output.dim() < 2:
            raise ValueError(
                f"dropout layer {self.name!r} got an output of shape "
                f"{tuple(output.shape)}; consistent sampling needs a batch "
                "dimension first: (batch, features...)."
            )
        if isinstance(self.layer, _CHANNEL_WISE):
            return (output.shape[1],) + (1,) * (output.dim() - 2)
        return tuple(output.shape[1:])

    def _draw(self, output):
        p = float(self.layer.p)
        generator = torch.Generator().manual_seed(self.seed)
        shape = (self.index.n_mc_samples, *self.feature_shape)
        # Bernoulli keep-masks on the CPU generator, so they do not depend on device.
        keep = torch.empty(shape).bernoulli_(1.0 - p, generator=generator)
        bias = None
        if p == 1.0:
            # torch's dropout returns zeros at p = 1 (alpha variants included).
            weight = torch.zeros(shape)
        elif isinstance(self.layer, _ALPHA):
            # Affine correction keeping SELU's zero mean and unit variance:
            # y = a (x m + α' (1 - m)) + b with α' = -1.7581 and b = -a α' p.
            a = ((_SELU_SATURATION**2 * p + 1.0) * (1.0 - p)) ** -0.5
            weight = a * keep
            bias = a * _SELU_SATURATION * (keep - 1.0 + p)
        else:
            weight = keep / (1.0 - p)
        to = {"device": output.device, "dtype": output.dtype}
        self.weight = weight.to(**to)
        self.bias = None if bias is None else bias.to(**to)

    def __call__(self, layer, inputs, output):
        k = self.index.k
        if k is None:
            raise RuntimeError(
                "no posterior sample selected: call masks.select(k) inside "
                "`with consistent_dropout(...) as masks:` before the forward pass."
            )
        shape = self._feature_shape(output)
        if self.weight is None:
            self.feature_shape = shape
            self._draw(output)
        elif shape != self.feature_shape:
            raise ValueError(
                f"dropout layer {self.name!r} got features of shape {shape} but its "
                f"masks were drawn for {self.feature_shape}; consistent sampling "
                "needs the same feature shape for every batch (pad or resize inputs)."
            )
        out = output * self.weight[k]
        if self.bias is not None:
            out = out + self.bias[k]
        return out


@contextlib.contextmanager
def consistent_dropout(module, n_mc_samples, random_state=None):
    """Sample a module's dropout layers with one fixed mask set per sample.

    For the duration of the ``with`` block, ``module`` is in eval mode and every
    dropout layer with ``p > 0`` multiplies its output by mask k, chosen with
    ``masks.select(k)``. Mask k is drawn once per layer over the layer's feature
    shape (all features for element-wise dropout, the channels for
    ``Dropout1d/2d/3d``) and shared by all rows of all batches. On exit, also
    after an exception, the hooks are removed and every submodule's ``training``
    flag is restored. The module itself is never modified.

    Parameters
    ----------
    module : torch.nn.Module
        The network. Its dropout layers are found by :func:`dropout_layers`;
        dimension 0 of their outputs must be the batch.
    n_mc_samples : int
        Number K of posterior samples (mask sets), at least 1.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Source of the masks. Each layer gets its own seed drawn from it, so the
        masks do not depend on the order in which layers run. The global torch
        and numpy generators are not used.

    Yields
    ------
    masks : object
        Has ``masks.select(k)`` for ``0 <= k < n_mc_samples`` and ``n_mc_samples``.

    Raises
    ------
    ValueError
        If ``module`` has no dropout layer with ``p > 0`` (all samples would be
        identical), ``n_mc_samples`` < 1 or ``random_state`` is a negative int.
    TypeError
        If ``module`` is not a torch module, or ``n_mc_samples`` or
        ``random_state`` is of a wrong type.

    See Also
    --------
    ConsistentMCDropout, ConsistentMCDropout2d : Explicit consistent layers.
    skbatchbald.MCDropoutClassifier.predict_log_proba_samples : Uses this.

    Notes
    -----
    MC dropout: each mask set ω_k is one sample of an approximate posterior
    (Gal & Ghahramani 2016). BatchBALD's joint entropies need the same ω_k for
    every pool point; with a fresh mask per row the scores are no better than
    random (Kirsch, van Amersfoort & Gal 2019, Fig. 7). Results for different
    batch sizes agree up to float rounding (matrix products may be blocked
    differently), not bit for bit. Gradients are not disabled here; wrap the
    block in ``torch.no_grad()`` for inference.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from skbatchbald.nn import consistent_dropout
    >>> net = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 3))
    >>> x = torch.randn(6, 4)
    >>> with torch.no_grad(), consistent_dropout(net, 2, random_state=0) as masks:
    ...     masks.select(0)
    ...     whole = net(x)
    ...     rows = torch.cat([net(x[:3]), net(x[3:])])
    ...     masks.select(1)
    ...     other = net(x)
    >>> bool(torch.allclose(whole, rows)), bool(torch.allclose(whole, other))
    (True, False)
    >>> net.training  # restored
    True
    """
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"module must be a torch.nn.Module, got {type(module).__name__}."
        )
    n_mc_samples = check_n_mc_samples(n_mc_samples)
    active = [(name, m) for name, m in dropout_layers(module) if m.p > 0]
    if not active:
        raise ValueError(
            f"{type(module).__name__} has no dropout layer with p > 0, so all "
            f"{n_mc_samples} posterior samples would be identical. Add dropout layers "
            f"({_SUPPORTED_NAMES}), e.g. skbatchbald.nn.ConsistentMCDropout after "
            "each hidden layer, or sample from an ensemble instead. Dropout called "
            "as torch.nn.functional.dropout inside forward cannot be sampled."
        )
    seeds = spawn_seeds(random_state, len(active))
    index = _MaskIndex(int(n_mc_samples))
    modes = {m: m.training for m in module.modules()}
    handles = []
    try:
        module.eval()
        for (name, layer), seed in zip(active, seeds, strict=True):
            hook = _LayerMasks(name, layer, index, seed)
            handles.append(layer.register_forward_hook(hook))
        yield index
    finally:
        for handle in handles:
            handle.remove()
        for m, training in modes.items():
            m.training = training
