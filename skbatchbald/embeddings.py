"""Embeddings of a frozen encoder, computed once and kept on disk.

With a frozen encoder, every round of active learning needs the same (N, d)
embeddings of the pool. :func:`cached_embeddings` computes them once, stores
them as a ``.npy`` file (which :func:`numpy.load` maps into memory) named by a
content hash of the inputs and of the encoder, and checks on every later call
that the stored rows still belong to this encoder and these inputs.
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from ._arrays import is_torch_dataset, none_placeholder_message
from ._validation import check_int

__all__ = ["cached_embeddings"]

# Bumped when the file layout changes: old entries then get new names.
_FORMAT = 1


def _digest_array(hasher, array):
    hasher.update(f"{array.dtype.str}{array.shape}".encode())
    if array.ndim == 0:  # BatchNorm's num_batches_tracked, CLIP's logit_scale
        hasher.update(np.ascontiguousarray(array).data)
        return
    # Row blocks: a memmapped input is hashed without loading it whole.
    step = max(1, (64 << 20) // max(1, array[:1].nbytes))
    for start in range(0, len(array), step):
        hasher.update(np.ascontiguousarray(array[start : start + step]).data)


def _tensor_values(X):
    """A numpy array of a torch tensor's values, on the CPU."""
    X = X.detach().cpu()
    if X.dtype == torch.bfloat16:
        # numpy has no bfloat16; float32 holds each of its values exactly
        X = X.float()
    try:
        return X.numpy()
    except TypeError as exc:  # float8, complex32, ...: no numpy dtype
        raise TypeError(
            f"X is a torch tensor of dtype {X.dtype}, which numpy cannot hold "
            f"({exc}); cast it first, e.g. X.float()."
        ) from None


def _item_inputs(batch):
    """A Dataset batch's inputs as a numpy array: x of (x, y) or (x,) items."""
    if isinstance(batch, tuple | list):
        batch = batch[0]  # skorch's and torchvision's (x, y) pairs
    if not isinstance(batch, torch.Tensor):
        raise TypeError(
            f"the Dataset's items collate to a {type(batch).__name__}, and the "
            "encoder embeds one tensor of inputs per batch: return x (or "
            "(x, y)) from __getitem__ with x a tensor or array, e.g. an image "
            "after ToTensor()."
        )
    return _tensor_values(batch)


def _batches(X, batch_size, num_workers):
    """Blocks of ``X``'s rows as numpy arrays, in order: slices, or batches of
    a Dataset drawn by a DataLoader."""
    if not is_torch_dataset(X):
        for start in range(0, len(X), batch_size):
            yield X[start : start + batch_size]
        return
    loader = torch.utils.data.DataLoader(
        X, batch_size=batch_size, shuffle=False, num_workers=num_workers
    )
    try:
        for batch in loader:
            yield _item_inputs(batch)
    except TypeError as exc:
        message = none_placeholder_message(X)
        if message is None:
            raise
        raise ValueError(message) from exc


def _inputs_digest(X, inputs_key, batch_size, num_workers):
    hasher = hashlib.sha256()
    if inputs_key is not None:
        hasher.update(f"inputs-key:{inputs_key}:{len(X)}".encode())
        return hasher.hexdigest()
    if not is_torch_dataset(X):
        _digest_array(hasher, X)
        return hasher.hexdigest()
    # The same header and bytes as the array of the same items would give,
    # whatever the batch size: a Dataset shares its entry with that array.
    started = False
    for block in _batches(X, batch_size, num_workers):
        if not started:
            hasher.update(f"{block.dtype.str}{(len(X), *block.shape[1:])}".encode())
            started = True
        hasher.update(np.ascontiguousarray(block).data)
    return hasher.hexdigest()


def _weights_digest(encoder):
    """sha256 of the encoder's state_dict: names, dtypes, shapes and values."""
    hasher = hashlib.sha256()
    for name, value in sorted(encoder.state_dict().items()):
        hasher.update(name.encode())
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            if value.dtype == torch.bfloat16:
                # numpy has no bfloat16: its bits, with the dtype's name
                hasher.update(b"bfloat16")
                value = value.view(torch.int16)
            value = value.numpy()
        _digest_array(hasher, np.asarray(value))
    return hasher.hexdigest()


def _mode_matters(module):
    """Whether a layer computes otherwise in training mode: dropout, and the
    normalisation layers that keep running statistics for eval."""
    norm = torch.nn.modules.batchnorm._NormBase
    return isinstance(module, torch.nn.modules.dropout._DropoutNd) or (
        isinstance(module, norm) and module.track_running_stats
    )


def _encoder_identity(encoder, key):
    if not callable(encoder):
        raise TypeError(
            f"encoder must be callable (a torch module or a function X -> "
            f"embeddings); got {type(encoder).__name__}."
        )
    if isinstance(encoder, torch.nn.Module):
        # a dropout or normalisation layer set back to training mode inside an
        # eval() encoder counts too; other layers act alike in both modes
        training = [
            name or "the encoder"
            for name, m in encoder.named_modules()
            if m.training and (m is encoder or _mode_matters(m))
        ]
        if training:
            raise ValueError(
                f"encoder is a torch module with layers in training mode "
                f"({', '.join(training[:3])}): dropout and BatchNorm would give "
                "different embeddings at every call. Call encoder.eval() before "
                "caching its embeddings."
            )
    if key is not None:
        if not isinstance(key, str) or not key:
            raise TypeError(
                f"key must be None or a non-empty string naming the encoder's "
                f"version; got {key!r}."
            )
        return f"key:{key}"
    if not hasattr(encoder, "state_dict"):
        raise TypeError(
            f"encoder {type(encoder).__name__} has no state_dict() to hash: pass "
            "key='a string naming this encoder and its weights' (change it "
            "whenever the weights change)."
        )
    return f"weights:{_weights_digest(encoder)}"


def _parameter_dtype(module):
    """The dtype of the module's first floating parameter, or None."""
    for parameter in module.parameters():
        if parameter.is_floating_point():
            return parameter.dtype
    return None


def _encode(encoder, batch):
    if isinstance(encoder, torch.nn.Module):
        # a memmap opened read-only gives read-only blocks, which torch warns
        # about sharing; a copy of one block costs nothing next to the encoder
        rows = np.ascontiguousarray(batch)
        if not rows.flags.writeable:
            rows = rows.copy()
        rows = torch.from_numpy(rows)
        dtype = _parameter_dtype(encoder)
        if rows.is_floating_point() and dtype is not None:
            # sklearn's datasets are float64 and encoders float32: torch would
            # refuse the pair, skorch users cast by hand
            rows = rows.to(dtype)
        with torch.no_grad():
            out = encoder(rows)
    else:
        out = encoder(batch)
    if isinstance(out, (tuple, list)) and any(
        isinstance(part, torch.Tensor) for part in out
    ):
        raise ValueError(
            f"encoder returned a {type(out).__name__} of {len(out)} outputs (as "
            "Hugging Face models return (last_hidden_state, pooler_output)); it "
            "must return one (n_rows, d) tensor: wrap it in a module whose "
            "forward returns the embedding alone, e.g. encoder(x)[0]."
        )
    if isinstance(out, torch.Tensor):
        out = _tensor_values(out)  # bfloat16 as float32, as for the inputs
    return np.asarray(out)


def _check_block(Z, start, n_rows, d):
    """``Z`` must be (n_rows, d) numeric; returns d and its rows (numbered
    from ``start``) that are not finite."""
    if Z.ndim != 2 or Z.shape[0] != n_rows or not np.issubdtype(Z.dtype, np.number):
        raise ValueError(
            f"encoder returned an array of shape {Z.shape} and dtype {Z.dtype} for "
            f"{n_rows} input rows; it must return numbers of shape "
            f"({n_rows}, d), one row per input row (flatten its output)."
        )
    if d is not None and Z.shape[1] != d:
        raise ValueError(
            f"encoder returned {Z.shape[1]} features for rows from {start} on "
            f"but {d} for the rows before: d must not change between calls."
        )
    # finite as the cache stores them: float64 beyond float32's range is inf
    with np.errstate(over="ignore"):
        stored = Z.astype(np.float32, copy=False)
    return Z.shape[1], start + np.flatnonzero(~np.isfinite(stored).all(axis=1))


def _compute(encoder, X, batch_size, num_workers):
    # one (n, d) array filled block by block: a list of blocks joined at the
    # end held the embeddings twice (2.7 times their size at 10^6 x 256)
    out, d, start, bad = None, None, 0, []
    for batch in _batches(X, batch_size, num_workers):
        Z = _encode(encoder, batch)
        d, rows = _check_block(Z, start, len(batch), d)
        bad.append(rows)
        if out is None:
            out = np.empty((len(X), d), dtype=np.float32)
        with np.errstate(over="ignore"):  # refused below, with the rows named
            out[start : start + len(batch)] = Z
        start += len(batch)
    bad = np.concatenate(bad)
    if bad.size:
        # every such row at once: a pool of broken images is repaired in one
        # pass, not one block's rows per run
        raise ValueError(
            f"encoder returned NaN or infinity (or numbers beyond float32's "
            f"range, which the cache stores) for {bad.size} input rows (the "
            f"first: {bad[:10].tolist()}); nothing was cached. Check those inputs "
            "and the encoder's weights, or embed the others: keep = "
            "np.ones(len(X), bool); keep[rows] = False."
        )
    return out if out is not None else np.empty((0, 0), dtype=np.float32)


def _check_rows(n_rows, n_check):
    """Rows spread over the inputs (first and last included), to re-read."""
    if n_check == 0:
        return np.empty(0, dtype=np.int64)
    return np.unique(np.linspace(0, n_rows - 1, min(n_check, n_rows)).round()).astype(
        np.int64
    )


def _rows_of(X, rows):
    if not is_torch_dataset(X):
        return X[rows]
    return next(_batches(torch.utils.data.Subset(X, rows.tolist()), len(rows), 0))


def _check_deterministic(dataset, n_check):
    """ValueError if a Dataset's items change from one read to the next."""
    rows = _check_rows(len(dataset), max(n_check, 4))
    first, again = _rows_of(dataset, rows), _rows_of(dataset, rows)
    if first.shape != again.shape or not np.array_equal(first, again):
        raise ValueError(
            f"the {type(dataset).__name__}'s items differed between two reads "
            f"(of items {rows.tolist()}): random transforms (augmentation) would "
            "give other embeddings, and another cache entry, at every call. "
            "Embed with the deterministic evaluation transforms (e.g. Resize "
            "and CenterCrop, without RandomResizedCrop or RandomHorizontalFlip)."
        )


def _write_atomically(path, write):
    # Written under a temporary name and renamed: a killed run leaves no torn file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _save(path, Z):
    # A file object: given a path, np.save would append ".npy" to the temporary name.
    with open(path, "wb") as file:
        np.save(file, Z)


# Two encoders with one set of weights (another layer, another forward) are
# one entry: the probe tells them apart, and deleting lets them overwrite it.
_SHARED_WEIGHTS = (
    "; if two encoders share these weights but give other features (another "
    "layer, another forward), deleting makes them overwrite each other: give "
    "each its own key="
)


def _stale(path, what, fix):
    return ValueError(
        f"the cached embeddings {path} no longer match {what}. Nothing was "
        f"reused; {fix}"
    )


def _load(npy, meta, expected, encoder, X, n_check, fix, named_inputs):
    for field in ("inputs_sha256", "encoder"):
        if meta.get(field) != expected[field]:
            what = "the inputs" if field == "inputs_sha256" else "the encoder"
            raise _stale(npy, what, fix)
    try:
        Z = np.load(npy, mmap_mode="r")
    except (OSError, ValueError):  # truncated (a full disk, a cut copy)
        raise _stale(npy, "a whole .npy file (it cannot be read)", fix) from None
    if Z.shape != (len(X), meta.get("d")) or Z.dtype != np.float32:
        raise _stale(npy, f"its metadata ({len(X)} rows of d = {meta.get('d')})", fix)
    if not np.isfinite(Z).all():
        raise _stale(npy, "finite values (it holds NaN or infinity)", fix)
    rows = _check_rows(len(X), n_check)
    if rows.size:
        probe = _encode(encoder, _rows_of(X, rows))
        if probe.ndim != 2 or probe.shape[1] != Z.shape[1]:
            raise _stale(
                npy,
                f"the encoder: it now returns shape {probe.shape} for "
                f"{len(probe)} rows, the cache holds d = {Z.shape[1]}",
                f"{fix}{_SHARED_WEIGHTS}",
            )
        if not _same_embeddings(probe, Z[rows]):
            # the inputs' hash matched: unless inputs_key named them instead
            what = (
                "the encoder or the inputs named by inputs_key"
                if named_inputs
                else "the encoder"
            )
            raise _stale(
                npy,
                f"{what}: they now give other embeddings of rows {rows.tolist()}"
                " (or the encoder is not deterministic: a torch module called "
                "inside a function while in training mode, whose dropout draws "
                "anew at every call; call its eval() first)",
                f"{fix}{_SHARED_WEIGHTS}",
            )
    return Z


def _same_embeddings(probe, cached):
    """Whether re-embedded rows equal the cached ones up to float round-off
    (relative 1e-4, and absolute 1e-4 of their largest magnitude)."""
    scale = max(1.0, float(np.abs(cached).max()))
    return np.allclose(probe, cached, rtol=1e-4, atol=1e-4 * scale)


def _check_repeatable(encoder, X, Z, n_check):
    """ValueError, before anything is written, for an encoder whose embeddings
    of the same rows change from call to call: a module in training mode
    called inside a function, which the mode check cannot see."""
    rows = _check_rows(len(X), n_check)
    if not rows.size:
        return
    again = _encode(encoder, _rows_of(X, rows))
    if again.shape != Z[rows].shape or not _same_embeddings(again, Z[rows]):
        raise ValueError(
            f"the encoder gives other embeddings of rows {rows.tolist()} when "
            "called on them again: it is not deterministic (a torch module in "
            "training mode called inside a function, whose dropout draws anew "
            "at every call), so cached embeddings would not be the encoder's. "
            "Call the module's eval() first. Nothing was written."
        )


def cached_embeddings(
    encoder,
    X,
    cache_dir,
    *,
    key=None,
    inputs_key=None,
    batch_size=1024,
    n_check=8,
    num_workers=0,
):
    """Embed ``X`` with a frozen encoder once; later calls read the cached rows.

    The embeddings are stored in ``cache_dir`` as a float32 ``.npy`` file (with a
    ``.json`` of metadata beside it) whose name is a hash of the inputs and of
    the encoder: the encoder's weights (its ``state_dict``), or ``key`` when
    given. A call with other inputs or other weights therefore gets its own
    file. A call that finds its file checks it before returning it: the
    recorded hashes, the shape, that every value is finite, and that the
    encoder still gives the cached embeddings of ``n_check`` rows spread over
    the inputs, the first and last included (which catches a changed encoder
    whose ``key`` was not changed, or changed inputs under an unchanged
    ``inputs_key``). A file
    that fails a check raises; stale embeddings are never returned.

    Parameters
    ----------
    encoder : torch.nn.Module or callable
        Maps a block of rows of ``X`` to an array or tensor of shape
        ``(n_rows, d)``. A torch module must be in eval mode
        (``encoder.eval()``); it is called without gradients on tensors of
        ``X``'s rows, floating rows cast to the dtype of its floating
        parameters (float64 data, float32 weights), others (token ids) as
        they are. Another callable gets numpy arrays.
    X : array-like, torch.Tensor of shape (n_samples, ...) or torch Dataset
        The inputs, e.g. images of shape (n, 28, 28) or (n, 784); a
        :class:`numpy.memmap` is read block by block. A tensor, on any device,
        is read as the numpy array of its values (bfloat16 as float32): it
        shares its cache entry with that array. A map-style Dataset (an
        ``ImageFolder`` with its transforms) is read in order by a
        ``DataLoader``; the inputs are the ``x`` of ``(x, y)`` items (or the
        items themselves), and a Dataset shares its cache entry with the
        array of the same inputs. Its items must not change between reads
        (random augmentation is refused: a few items are read twice to check,
        see ``n_check``).
    cache_dir : str or path-like
        The folder for the cache files; created if missing. A leading ``~``
        is expanded to the user's home folder.
    key : str, default=None
        A name for the encoder and its weights, e.g. ``"cnn-mnist-v2"``, used
        instead of the hash of ``encoder.state_dict()``: required for an
        encoder without ``state_dict``, and faster for a very large one.
        Change it whenever the weights change.
    inputs_key : str, default=None
        A name for the inputs, e.g. ``"photos-2026-12"``, used with their
        number instead of the hash of their values: the inputs are then not
        read on a cache hit (a Dataset of image files is otherwise decoded
        once per call to hash it). Change it whenever the inputs change.
    batch_size : int, default=1024
        Rows per call of the encoder.
    n_check : int, default=8
        Rows, spread over the inputs, re-embedded on a cache hit and compared
        with the cached ones (relative tolerance 1e-4), and re-embedded once
        more on the first call, before anything is written, to refuse an
        encoder that is not deterministic (a module in training mode inside
        a function); 0 skips both checks. A Dataset's items at as many places
        (at least 4) are also read twice to refuse random augmentation.
    num_workers : int, default=0
        Worker processes of the ``DataLoader`` that reads a Dataset (decoding
        images in parallel); not used for arrays.

    Returns
    -------
    embeddings : numpy.memmap of shape (n_samples, d), float32
        Read-only, mapped from the cache file; ``np.array`` of it, or
        indexing it with an array, gives an in-memory copy (``np.asarray``
        does not: it keeps the mapping).

    Raises
    ------
    ValueError
        If the encoder returns NaN or infinity, a shape other than
        ``(n_rows, d)`` or a different d for different rows (nothing is then
        written); if a torch encoder is in training mode; or if a cache file
        no longer matches the inputs, the encoder or its own metadata (the
        message names the file to delete, or says to change ``key``).
    TypeError
        If the encoder is not callable, or has no ``state_dict`` and no
        ``key`` is given, or if ``X`` is a tensor of a dtype numpy has no
        counterpart for (cast it with ``X.float()``).

    See Also
    --------
    skbatchbald.cold_start.TypiClustQuery : A first batch picked on embeddings.

    Notes
    -----
    Hashing reads the inputs once per call (about 1 GB/s for an array; a
    Dataset's items are loaded, so a cache miss reads a Dataset twice) and,
    without ``key``, every weight of the encoder; ``inputs_key`` and ``key``
    skip those reads. Files are written under a
    temporary name and renamed, so an interrupted call leaves no partial entry.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> import torch
    >>> from skbatchbald.embeddings import cached_embeddings
    >>> _ = torch.manual_seed(0)
    >>> encoder = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.ReLU()).eval()
    >>> X = np.random.default_rng(0).random((100, 64), dtype=np.float32)
    >>> with tempfile.TemporaryDirectory() as cache:
    ...     Z = cached_embeddings(encoder, X, cache)  # computed and written
    ...     again = cached_embeddings(encoder, X, cache)  # read back, checked
    ...     same = bool(np.array_equal(Z, again))
    >>> Z.shape, Z.dtype, same
    ((100, 16), dtype('float32'), True)
    """
    identity = _encoder_identity(encoder, key)
    check_int(batch_size, "batch_size")
    check_int(n_check, "n_check", min_val=0)
    check_int(num_workers, "num_workers", min_val=0)
    if inputs_key is not None and (not isinstance(inputs_key, str) or not inputs_key):
        raise TypeError(
            "inputs_key must be None or a non-empty string naming the inputs' "
            f"version; got {inputs_key!r}."
        )
    if is_torch_dataset(X):
        if not hasattr(X, "__len__"):
            raise TypeError(
                f"X is a {type(X).__name__}, an iterable-style Dataset: the cache "
                "holds one row per input and needs their number. Pass a "
                "map-style Dataset (with __len__ and __getitem__)."
            )
        if len(X) == 0:
            raise ValueError("X must hold at least one row; got an empty Dataset.")
        _check_deterministic(X, n_check)
    elif isinstance(X, torch.Tensor):
        # hashed and embedded as the numpy array of the same values, so a tensor
        # and that array share one cache entry
        X = _tensor_values(X)
    elif not hasattr(X, "shape") or not hasattr(X, "dtype"):
        X = np.asarray(X)
    if not is_torch_dataset(X) and (X.ndim < 1 or len(X) == 0):
        raise ValueError(f"X must hold at least one row; got shape {X.shape}.")
    if not is_torch_dataset(X) and not np.issubdtype(X.dtype, np.number):
        texts = X.dtype.kind in "OUS"
        raise ValueError(
            f"X must be numeric; got dtype {X.dtype}."
            + (
                " For texts, cache the encoder's input as numbers: the "
                "tokenizer's ids (an integer array, padded to one length), "
                "with an encoder that takes them; the inputs are hashed as "
                "arrays to name the cache."
                if texts
                else ""
            )
        )
    digest = _inputs_digest(X, inputs_key, batch_size, num_workers)
    expected = {"format": _FORMAT, "inputs_sha256": digest}
    expected["encoder"] = identity
    name = hashlib.sha256(json.dumps(expected, sort_keys=True).encode()).hexdigest()
    directory = Path(cache_dir).expanduser()
    if directory.exists() and not directory.is_dir():
        raise ValueError(
            f"cache_dir {directory} is a file, not a directory: pass the folder "
            "the cache should live in (it is created if missing)."
        )
    npy = directory / f"embeddings-{name[:24]}.npy"
    meta_path = npy.with_suffix(".json")
    renames = []
    if key is not None:
        renames.append(f"a new key (not {key!r}) for a changed encoder")
    if inputs_key is not None:
        renames.append(f"a new inputs_key (not {inputs_key!r}) for changed inputs")
    fix = f"delete {npy} and {meta_path} to recompute them"
    if renames:
        fix = f"pass {' or '.join(renames)}, or {fix}"
    if npy.is_file() and meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
        except (ValueError, UnicodeDecodeError):  # a write cut short, an edit
            raise _stale(meta_path, "JSON (it cannot be read)", fix) from None
        named = inputs_key is not None
        return _load(npy, meta, expected, encoder, X, n_check, fix, named)
    Z = _compute(encoder, X, batch_size, num_workers)
    _check_repeatable(encoder, X, Z, n_check)
    directory.mkdir(parents=True, exist_ok=True)
    _write_atomically(npy, lambda tmp: _save(tmp, Z))
    meta = {**expected, "n": len(Z), "d": Z.shape[1], "dtype": "float32"}
    _write_atomically(meta_path, lambda tmp: tmp.write_text(json.dumps(meta)))
    return np.load(npy, mmap_mode="r")
