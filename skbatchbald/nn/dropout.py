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

from .._validation import check_int, check_n_mc_samples, spawn_seeds

__all__ = [
    "ConsistentMCDropout",
    "ConsistentMCDropout2d",
    "DropoutMasks",
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


class _FoldingError(RuntimeError):
    """A dropout layer saw a first dimension that is neither B nor B * n_selected."""


class DropoutMasks:
    """The posterior samples (mask sets) that :func:`consistent_dropout` yields.

    Select what the next forward passes compute: one sample with
    :meth:`select`, or several at once with :meth:`fold`. Mask set k of each
    layer is a function of that layer's seed and k only, so every batch, batch
    size, row order, chunk of samples and worker process sees the same masks.
    :meth:`of` hands a layer's masks to code that applies them itself.

    Parameters
    ----------
    n_mc_samples : int
        Number K of mask sets.

    Attributes
    ----------
    n_mc_samples : int
        Number K of mask sets.

    See Also
    --------
    consistent_dropout : Creates this object and the hooks that read it.

    Notes
    -----
    **Folding.** After ``fold(start, stop)`` a forward pass of a ``(B, ...)``
    batch returns ``B * n`` rows, ``n = stop - start``: the first sampled
    dropout layer repeats each row once per selected sample (row ``b * n + j``
    is row ``b`` under sample ``start + j``) and every later dropout layer
    applies sample j's mask to its rows. Everything upstream of that first
    layer runs once per row. Layers after it may only assume that dimension 0
    is the batch (a reshape to the input's batch size breaks the folding).

    **The mc_forward protocol.** A module may define a faster way to compute
    all selected samples, a method ``mc_forward(x, masks)``:
    :meth:`~skbatchbald.MCDropoutClassifier.predict_log_proba_samples` calls
    it instead of folding ``forward`` when it exists. It receives a batch
    ``x`` (one tensor, as ``forward`` gets it) and this object, with samples
    ``masks.samples`` selected, and returns the outputs of shape
    ``(B, len(masks.samples), *out)``, sample j of row b being what
    ``forward`` returns for row b under mask set ``masks.samples[j]``. It runs
    under ``torch.no_grad()`` with the module in eval mode, where the dropout
    layers are the identity: it applies each layer's masks itself, taken from
    :meth:`of`, so that they are exactly the masks the hooks would apply. It
    may return ``NotImplemented`` for a configuration it does not cover; the
    sampler then folds ``forward``. On the first batch of every call the
    sampler checks a few rows against one forward pass per sample and falls
    back, with a ``RuntimeWarning``, if they differ.
    :meth:`BayesianCNN.mc_forward <skbatchbald.nn.BayesianCNN.mc_forward>` is
    an example.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from skbatchbald.nn import consistent_dropout
    >>> net = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    >>> x = torch.randn(5, 3)
    >>> with torch.no_grad(), consistent_dropout(net, 4, random_state=0) as masks:
    ...     masks.fold(0, 4)
    ...     folded = net(x).view(5, 4, 2)  # all four samples in one pass
    ...     masks.select(2)
    ...     third = net(x)
    ...     scale, shift = masks.of(net[1], torch.empty(5, 8))
    >>> bool(torch.allclose(folded[:, 2], third, atol=1e-6))
    True
    >>> tuple(scale.shape), shift  # the masks of sample 2, for the 8 features
    ((1, 8), None)
    """

    def __init__(self, n_mc_samples):
        self.n_mc_samples = n_mc_samples
        self._start = None
        self._stop = None
        self._folded = False
        self._hooks_on = True
        self._rows = None  # B of the current forward pass, when known
        self._grown = False  # whether this pass has already expanded B to B * n
        self._layers = {}  # layer -> _LayerMasks

    def select(self, k):
        """Select sample ``k`` alone: each row's output is its k-th sample.

        Parameters
        ----------
        k : int
            Index of the mask set, ``0 <= k < n_mc_samples``.
        """
        if not isinstance(k, numbers.Integral) or not 0 <= k < self.n_mc_samples:
            raise ValueError(
                f"k must be an int in [0, {self.n_mc_samples}), got {k!r}; the masks "
                f"were drawn for n_mc_samples={self.n_mc_samples}."
            )
        self._start, self._stop, self._folded = int(k), int(k) + 1, False

    def fold(self, start=0, stop=None):
        """Select samples ``start`` to ``stop - 1``, folded into the batch.

        Parameters
        ----------
        start : int, default=0
            First sample.
        stop : int, default=None
            One past the last sample; None means ``n_mc_samples``.
        """
        stop = self.n_mc_samples if stop is None else stop
        K = self.n_mc_samples
        start = check_int(start, "start", min_val=0, max_val=K - 1)
        stop = check_int(stop, "stop", min_val=start + 1, max_val=K)
        self._start, self._stop, self._folded = int(start), int(stop), True

    @property
    def samples(self):
        """The selected sample indices, a ``range``; empty before a selection."""
        if self._start is None:
            return range(0)
        return range(self._start, self._stop)

    def of(self, layer, like):
        """Return a dropout layer's masks for the selected samples.

        This is how a module's ``mc_forward`` gets exactly the masks that the
        hooks would apply.

        Parameters
        ----------
        layer : torch.nn.Module
            One of the module's dropout layers (see :func:`dropout_layers`).
        like : torch.Tensor of shape (B, ...)
            What the layer would output in eval mode (its input), or any tensor
            of that shape, dtype and device: it fixes the feature shape.

        Returns
        -------
        scale : torch.Tensor
            Of shape ``(len(samples), *feature_shape)``: sample j maps the
            layer's output ``h`` to ``h * scale[j] + shift[j]``.
            ``feature_shape`` is the output's shape without the
            batch dimension, with 1 for the spatial dimensions of channel-wise
            dropout. Masks are already divided by ``1 - p``; all ones for a
            layer with ``p = 0``.
        shift : torch.Tensor of the same shape, or None
            The additive part of alpha dropout's affine correction; None for
            the other kinds.
        """
        self._check_selected()
        window = slice(self._start, self._stop)
        hook = self._layers.get(layer)
        if hook is None:
            if not isinstance(layer, _SUPPORTED):
                raise ValueError(
                    f"{type(layer).__name__} is not a dropout layer of the sampled "
                    f"module; pass one of its {_SUPPORTED_NAMES} layers."
                )
            # p = 0: consistent_dropout does not hook the layer, it is the identity
            shape = (len(self.samples), *_feature_shape(layer, like, "layer"))
            return like.new_ones(shape), None
        scale, shift = hook.masks(like)
        return scale[window], None if shift is None else shift[window]

    def _check_selected(self):
        if self._start is None:
            raise RuntimeError(
                "no posterior sample selected: call masks.select(k) or "
                "masks.fold(start, stop) inside `with consistent_dropout(...) as "
                "masks:` before the forward pass."
            )

    def _begin_forward(self, rows):
        self._rows, self._grown = rows, False

    def _apply(self, hook, output):
        self._check_selected()
        if not self._hooks_on:
            return output
        scale, shift = hook.masks(output)
        if not self._folded:
            out = output * scale[self._start]
            return out if shift is None else out + shift[self._start]
        scale, shift = scale[self._start : self._stop], shift
        n = len(scale)
        shift = None if shift is None else shift[self._start : self._stop]
        rows, features = output.shape[0], output.shape[1:]
        if self._rows is None:
            self._rows = rows
        if self._grown and rows == self._rows * n:  # already folded: (B * n, ...)
            out = output.reshape(self._rows, n, *features) * scale
        elif rows == self._rows:  # not yet folded: repeat each row n times
            out = output.unsqueeze(1) * scale
            self._grown = True
        else:
            raise _FoldingError(
                f"dropout layer {hook.name!r} got {rows} rows in a pass over "
                f"{self._rows} rows with {n} samples folded in; expected "
                f"{self._rows} or {self._rows * n}."
            )
        if shift is not None:
            out = out + shift
        return out.reshape(-1, *features)


def _feature_shape(layer, output, name):
    if output.dim() < 2:
        raise ValueError(
            f"dropout layer {name!r} got an output of shape "
            f"{tuple(output.shape)}; consistent sampling needs a batch "
            "dimension first: (batch, features...)."
        )
    if isinstance(layer, _CHANNEL_WISE):
        return (output.shape[1],) + (1,) * (output.dim() - 2)
    return tuple(output.shape[1:])


class _LayerMasks:
    """Forward hook applying the selected masks of one layer; drawn on first use.

    The feature shape is unknown until the first forward, so the K masks are drawn
    then, from the layer's own seed: they do not depend on the batch size, and
    every later batch of the same call reuses them.
    """

    def __init__(self, name, layer, masks, seed):
        self.name = name
        self.layer = layer
        self.dropout_masks = masks  # the DropoutMasks of the call
        self.seed = seed
        self.feature_shape = None
        self.weight = None  # (K, *feature_shape)
        self.bias = None  # (K, *feature_shape), alpha dropout only

    def _draw(self, output):
        p = float(self.layer.p)
        generator = torch.Generator().manual_seed(self.seed)
        shape = (self.dropout_masks.n_mc_samples, *self.feature_shape)
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

    def masks(self, output):
        """All K masks (weight, bias) for outputs shaped like ``output``."""
        shape = _feature_shape(self.layer, output, self.name)
        if self.weight is None:
            self.feature_shape = shape
            self._draw(output)
        elif shape != self.feature_shape:
            raise ValueError(
                f"dropout layer {self.name!r} got features of shape {shape} but its "
                f"masks were drawn for {self.feature_shape}; consistent sampling "
                "needs the same feature shape for every batch (pad or resize inputs)."
            )
        return self.weight, self.bias

    def __call__(self, layer, inputs, output):
        return self.dropout_masks._apply(self, output)


@contextlib.contextmanager
def consistent_dropout(module, n_mc_samples, random_state=None):
    """Sample a module's dropout layers with one fixed mask set per sample.

    For the duration of the ``with`` block, ``module`` is in eval mode and every
    dropout layer with ``p > 0`` multiplies its output by mask k, chosen with
    ``masks.select(k)``, or by several masks at once, folded into the batch,
    after ``masks.fold(start, stop)`` (see :class:`DropoutMasks`). Mask k is
    drawn once per layer over the layer's feature
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
    >>> # equal up to float rounding: batches of 6 and 3 rows are summed differently
    >>> bool(torch.allclose(whole, rows, atol=1e-6)), bool(torch.allclose(whole, other))
    (True, False)
    >>> net.training  # restored
    True
    """
    if not isinstance(module, nn.Module):
        raise TypeError(
            f"module must be a torch.nn.Module, got {type(module).__name__}."
        )
    n_mc_samples = check_n_mc_samples(n_mc_samples)
    names = [name for name, _ in active_layers(module, n_mc_samples)]
    seeds = spawn_seeds(random_state, len(names))
    with masked(module, n_mc_samples, list(zip(names, seeds, strict=True))) as masks:
        yield masks


def active_layers(module, n_mc_samples, advice=""):
    """The dropout layers with ``p > 0``; ValueError if there are none.

    The one check that a module can give distinct posterior samples; ``advice``
    ends the message with what the caller offers instead.
    """
    active = [(name, m) for name, m in dropout_layers(module) if m.p > 0]
    if not active:
        raise ValueError(
            f"{type(module).__name__} has no dropout layer with p > 0, so all "
            f"{n_mc_samples} posterior samples would be identical. Add dropout layers "
            f"({_SUPPORTED_NAMES}), e.g. skbatchbald.nn.ConsistentMCDropout after "
            "each hidden layer, or sample from an ensemble instead. Dropout called "
            "as torch.nn.functional.dropout inside forward cannot be sampled."
            + (f" {advice}" if advice else "")
        )
    return active


def n_rows(x):
    """Number of rows of a batch: a tensor, or a dict/list/tuple of tensors.

    The first tensor with a row axis decides (0-d tensors, e.g. a scalar
    argument, have none). TypeError if there is none.
    """
    if isinstance(x, torch.Tensor) and x.dim() > 0:
        return x.shape[0]
    values = x.values() if isinstance(x, dict) else x
    if isinstance(values, (dict, list, tuple, type({}.values()))):
        for value in values:
            try:
                return n_rows(value)
            except TypeError:
                continue
    raise TypeError(f"cannot find the rows of a batch of type {type(x).__name__}.")


def _forward_rows(args, kwargs):
    """Rows of a forward call's inputs; None if no argument has rows."""
    try:
        return n_rows((*args, *kwargs.values()))
    except TypeError:
        return None


@contextlib.contextmanager
def masked(module, n_mc_samples, layer_seeds):
    """:func:`consistent_dropout` with one given seed per active layer.

    ``layer_seeds`` pairs the name of each layer that `active_layers` found
    (the caller's one check) with its seed. Worker processes that sample shards
    of a pool get the parent's pairs, so their masks are the parent's: masks
    are a function of the seeds only.
    """
    layers = dict(module.named_modules())
    masks = DropoutMasks(int(n_mc_samples))
    modes = {m: m.training for m in module.modules()}
    handles = []
    try:
        module.eval()
        # B of each pass, for the first folding dropout layer to expand.
        handles.append(
            module.register_forward_pre_hook(
                lambda _, args, kwargs: masks._begin_forward(
                    _forward_rows(args, kwargs)
                ),
                with_kwargs=True,
            )
        )
        for name, seed in layer_seeds:
            layer = layers[name]
            hook = _LayerMasks(name, layer, masks, seed)
            masks._layers[layer] = hook
            handles.append(layer.register_forward_hook(hook))
        yield masks
    finally:
        for handle in handles:
            handle.remove()
        for m, training in modes.items():
            m.training = training
