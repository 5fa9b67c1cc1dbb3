"""The sampling engine: K consistent samples of a module's outputs per batch.

Three ways to compute the same numbers, fastest first:

- ``mc_forward``: the module's own method (the protocol in
  :func:`~skbatchbald.nn.consistent_dropout`'s user guide), e.g.
  :meth:`BayesianCNN.mc_forward <skbatchbald.nn.BayesianCNN.mc_forward>`;
- folded: one forward pass with the selected samples folded into the batch from
  the first sampled dropout layer on (:meth:`DropoutMasks.fold`), so the
  deterministic trunk upstream of it runs once per row;
- the per-k loop: one forward pass per sample (:meth:`DropoutMasks.select`),
  for modules whose layers break the folding.

On the first batch of a call a probe of a few rows chooses: each faster way must
reproduce the loop's outputs on it, and its activation sizes size the passes to
the memory budget.
"""

import contextlib
import warnings

import torch

from .._warnings import SkbatchbaldRuntimeWarning, user_stacklevel
from .dropout import _FoldingError, n_rows

__all__ = ["MCForward"]

_PROBE_ROWS = 4
_PROBE_SAMPLES = 2
# Live at once, at worst: a layer's input, its output and one temporary.
_LIVE_COPIES = 3


def take(x, rows):
    """Rows ``rows`` (a slice) of a batch as :func:`n_rows` reads it."""
    if isinstance(x, torch.Tensor):
        return x[rows]
    if isinstance(x, dict):
        return {key: take(value, rows) for key, value in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(take(value, rows) for value in x)
    return x


class _ActivationSizes:
    """Forward hooks recording (rows, bytes) of every submodule's output."""

    def __init__(self, module):
        self.module = module
        self.sizes = []
        self.handles = []

    def _record(self, module, inputs, output):
        outputs = output if isinstance(output, (tuple, list)) else (output,)
        for out in outputs:
            if isinstance(out, torch.Tensor) and out.dim() > 0:
                self.sizes.append((out.shape[0], out.numel() * out.element_size()))

    def __enter__(self):
        for m in self.module.modules():
            self.handles.append(m.register_forward_hook(self._record))
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()

    def per_row(self, rows):
        """Largest activation per row among outputs of ``rows`` rows (bytes)."""
        return max((b / r for r, b in self.sizes if r == rows), default=0.0)


def _agrees(out, reference):
    if out.shape != reference.shape:
        return False
    scale = max(1.0, float(reference.abs().max()))
    return bool(
        torch.allclose(out.float(), reference.float(), rtol=0, atol=1e-3 * scale)
    )


class MCForward:
    """Outputs of all K samples for batches of one call, within a memory budget.

    Parameters
    ----------
    module : torch.nn.Module
        The network, inside ``masked``/``consistent_dropout`` (eval mode, hooks).
    masks : DropoutMasks
        The masks object of that block.
    forward : callable
        Batch -> module output ``(rows, *out)``: the generic forward pass.
    max_memory : int
        Budget in bytes for the temporaries of one pass.
    """

    def __init__(self, module, masks, forward, max_memory):
        self.module = module
        self.masks = masks
        self.forward = forward
        self.max_memory = max_memory
        self.path = None  # "mc_forward", "folded" or "loop"
        self.rows = None  # rows per pass
        self.n_samples = None  # samples per pass
        self.row_bytes = None  # temporaries of one row in a pass, all its samples
        self._shared = False  # passes running on several threads (`shared`)

    def __call__(self, x):
        """Yield ``(rows, start, outputs)``: outputs ``(n, m, *out)`` for rows
        ``rows`` (a slice of the batch) under samples ``start .. start + m - 1``.
        """
        n = n_rows(x)
        if self.path is None:
            self._choose(take(x, slice(0, min(n, _PROBE_ROWS))))
        K = self.masks.n_mc_samples
        for r0 in range(0, n, self.rows):
            rows = slice(r0, min(n, r0 + self.rows))
            part = x if self.rows >= n else take(x, rows)
            for start in range(0, K, self.n_samples):
                stop = min(K, start + self.n_samples)
                yield rows, start, self._pass(self.path, part, start, stop)

    def _pass(self, path, x, start, stop):
        if path == "loop":
            outputs = []
            for k in range(start, stop):
                self.masks.select(k)
                outputs.append(self.forward(x))
            return torch.stack(outputs, dim=1)
        if path == "mc_forward" and self._shared:
            return self.module.mc_forward(x, self.masks)  # masks set by `shared`
        self.masks.fold(start, stop)
        if path == "mc_forward":
            self.masks._hooks_on = False  # mc_forward applies the masks itself
            try:
                return self.module.mc_forward(x, self.masks)
            finally:
                self.masks._hooks_on = True
        out = self.forward(x)
        rows, n = n_rows(x), stop - start
        if out.dim() == 0 or out.shape[0] != rows * n:
            raise _FoldingError(
                f"the module returned {tuple(out.shape)} for {rows} rows with {n} "
                f"samples folded in; expected {rows * n} rows."
            )
        return out.reshape(rows, n, *out.shape[1:])

    def threads_for(self, n_rows, n_threads):
        """How many passes over batches of ``n_rows`` rows may run at once.

        Only the ``mc_forward`` path with all K samples in one pass shares
        nothing between passes (the masks are read, never changed, and no hook
        runs); the folded and per-sample paths keep per-pass state in the
        masks, so they run one pass at a time. The passes running together
        share ``max_memory``.
        """
        if self.path != "mc_forward" or self.n_samples != self.masks.n_mc_samples:
            return 1
        pass_bytes = min(self.rows, n_rows) * self.row_bytes
        fit = int(self.max_memory // pass_bytes) if pass_bytes > 0 else n_threads
        return max(1, min(n_threads, fit))

    @contextlib.contextmanager
    def shared(self):
        """Let several threads call this engine at once, inside the block.

        All K samples are selected and the hooks switched off once for the
        whole block (`_pass` does it per pass otherwise, which threads would
        race on). Only where `threads_for` allows more than one thread, after
        the first batch (which chooses the path and draws every mask).
        """
        self.masks.fold(0, self.masks.n_mc_samples)
        self.masks._hooks_on = False
        self._shared = True
        try:
            yield self
        finally:
            self._shared = False
            self.masks._hooks_on = True

    def _choose(self, probe):
        """Pick the fastest way that reproduces the loop, and size the passes."""
        rows = n_rows(probe)
        n = min(self.masks.n_mc_samples, _PROBE_SAMPLES)
        with _ActivationSizes(self.module) as loop_sizes:
            reference = self._pass("loop", probe, 0, n)  # errors here are real
        per_row = max(loop_sizes.per_row(rows), _bytes_per_row(probe, rows))
        trunk, per_sample = 0.0, per_row  # the loop: one sample per pass
        self.path = "loop"
        try:
            with _ActivationSizes(self.module) as sizes:
                folded = self._pass("folded", probe, 0, n)
            if not _agrees(folded, reference):
                raise _FoldingError(
                    "its outputs differ from those of one pass per sample, so a "
                    "layer after a dropout layer mixes rows"
                )
        except (_FoldingError, RuntimeError) as exc:
            warnings.warn(
                f"{type(self.module).__name__}: cannot fold the posterior samples "
                f"into the batch ({exc}); drawing them with one forward pass per "
                "sample instead, which recomputes the layers before the first "
                "dropout layer K times. Layers after a dropout layer may only "
                "assume that dimension 0 is the batch.",
                SkbatchbaldRuntimeWarning,
                stacklevel=user_stacklevel(),
            )
        else:
            self.path = "folded"
            trunk = max(sizes.per_row(rows), _bytes_per_row(probe, rows))
            if n > 1:
                per_sample = sizes.per_row(rows * n)
        if isinstance(probe, torch.Tensor) and callable(
            getattr(self.module, "mc_forward", None)
        ):
            self._try_mc_forward(probe, reference, n)
        self._size(trunk * _LIVE_COPIES, per_sample * _LIVE_COPIES)

    def _try_mc_forward(self, probe, reference, n):
        out = self._pass("mc_forward", probe, 0, n)
        if out is NotImplemented:
            return
        if _agrees(out, reference):
            self.path = "mc_forward"
            return
        warnings.warn(
            f"{type(self.module).__name__}.mc_forward returned outputs of shape "
            f"{tuple(out.shape)} that differ from the generic forward pass (shape "
            f"{tuple(reference.shape)}); using the generic pass instead.",
            SkbatchbaldRuntimeWarning,
            stacklevel=user_stacklevel(),
        )

    def _size(self, trunk, per_sample):
        """Rows and samples per pass: all K samples of as many rows as fit,
        else one row and as many samples as fit (the trunk is rerun per pass).
        """
        K = self.masks.n_mc_samples
        if self.path == "loop":
            trunk, per_sample, K = 0.0, per_sample, 1
        one_row = trunk + K * per_sample
        self.row_bytes = one_row
        rows = int(self.max_memory // one_row) if one_row > 0 else 2**31
        self.rows, self.n_samples = max(rows, 1), self.masks.n_mc_samples
        if rows >= 1:
            return
        n_samples = int((self.max_memory - trunk) // per_sample)
        if n_samples < 1:
            raise ValueError(
                f"max_memory={self.max_memory} bytes cannot hold the activations "
                f"of one row and one posterior sample (about "
                f"{int(trunk + per_sample)} bytes for "
                f"{type(self.module).__name__}); raise max_memory."
            )
        self.n_samples = n_samples


def _bytes_per_row(x, rows):
    if isinstance(x, torch.Tensor):
        return x.numel() * x.element_size() / max(rows, 1)
    values = x.values() if isinstance(x, dict) else x
    if isinstance(x, (dict, list, tuple)):
        return sum(_bytes_per_row(v, rows) for v in values)
    return 0.0
