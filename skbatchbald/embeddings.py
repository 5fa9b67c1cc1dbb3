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

from ._validation import check_int

__all__ = ["cached_embeddings"]

# Bumped when the file layout changes: old entries then get new names.
_FORMAT = 1


def _digest_array(hasher, array):
    hasher.update(f"{array.dtype.str}{array.shape}".encode())
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


def _inputs_digest(X):
    hasher = hashlib.sha256()
    _digest_array(hasher, X)
    return hasher.hexdigest()


def _weights_digest(encoder):
    """sha256 of the encoder's state_dict: names, dtypes, shapes and values."""
    hasher = hashlib.sha256()
    for name, value in sorted(encoder.state_dict().items()):
        hasher.update(name.encode())
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        _digest_array(hasher, np.asarray(value))
    return hasher.hexdigest()


def _encoder_identity(encoder, key):
    if not callable(encoder):
        raise TypeError(
            f"encoder must be callable (a torch module or a function X -> "
            f"embeddings); got {type(encoder).__name__}."
        )
    if isinstance(encoder, torch.nn.Module) and encoder.training:
        raise ValueError(
            "encoder is a torch module in training mode: dropout and BatchNorm "
            "would give different embeddings at every call. Call encoder.eval() "
            "before caching its embeddings."
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
        rows = torch.from_numpy(np.ascontiguousarray(batch))
        dtype = _parameter_dtype(encoder)
        if rows.is_floating_point() and dtype is not None:
            # sklearn's datasets are float64 and encoders float32: torch would
            # refuse the pair, skorch users cast by hand
            rows = rows.to(dtype)
        with torch.no_grad():
            out = encoder(rows)
    else:
        out = encoder(batch)
    if isinstance(out, torch.Tensor):
        out = out.detach().cpu().numpy()
    return np.asarray(out)


def _check_block(Z, start, n_rows, d):
    """``Z`` must be (n_rows, d) numeric and finite; returns d."""
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
    bad = ~np.isfinite(Z).all(axis=1)
    if bad.any():
        rows = start + np.flatnonzero(bad)
        raise ValueError(
            f"encoder returned NaN or infinity for {bad.sum()} input rows (the "
            f"first: {rows[:5].tolist()}); nothing was cached. Check those inputs "
            "and the encoder's weights."
        )
    return Z.shape[1]


def _compute(encoder, X, batch_size):
    blocks, d = [], None
    for start in range(0, len(X), batch_size):
        batch = X[start : start + batch_size]
        Z = _encode(encoder, batch)
        d = _check_block(Z, start, len(batch), d)
        blocks.append(Z.astype(np.float32, copy=False))
    return np.concatenate(blocks)


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


def _stale(path, what, fix):
    return ValueError(
        f"the cached embeddings {path} no longer match {what}. Nothing was "
        f"reused; {fix}"
    )


def _load(npy, meta, expected, encoder, X, n_check, fix):
    for field in ("inputs_sha256", "encoder"):
        if meta.get(field) != expected[field]:
            what = "the inputs" if field == "inputs_sha256" else "the encoder"
            raise _stale(npy, what, fix)
    Z = np.load(npy, mmap_mode="r")
    if Z.shape != (len(X), meta.get("d")) or Z.dtype != np.float32:
        raise _stale(npy, f"its metadata ({len(X)} rows of d = {meta.get('d')})", fix)
    if not np.isfinite(Z).all():
        raise _stale(npy, "finite values (it holds NaN or infinity)", fix)
    if n_check:
        probe = _encode(encoder, X[:n_check])
        if probe.ndim != 2 or probe.shape[1] != Z.shape[1]:
            raise _stale(
                npy,
                f"the encoder: it now returns shape {probe.shape} for "
                f"{len(probe)} rows, the cache holds d = {Z.shape[1]}",
                fix,
            )
        scale = max(1.0, float(np.abs(Z[:n_check]).max()))
        if not np.allclose(probe, Z[:n_check], rtol=1e-4, atol=1e-4 * scale):
            raise _stale(
                npy, "the encoder: it now gives other embeddings of the first rows", fix
            )
    return Z


def cached_embeddings(encoder, X, cache_dir, *, key=None, batch_size=1024, n_check=8):
    """Embed ``X`` with a frozen encoder once; later calls read the cached rows.

    The embeddings are stored in ``cache_dir`` as a float32 ``.npy`` file (with a
    ``.json`` of metadata beside it) whose name is a hash of the inputs and of
    the encoder: the encoder's weights (its ``state_dict``), or ``key`` when
    given. A call with other inputs or other weights therefore gets its own
    file. A call that finds its file checks it before returning it: the
    recorded hashes, the shape, that every value is finite, and that the
    encoder still gives the cached embeddings of the first ``n_check`` rows
    (which catches a changed encoder whose ``key`` was not changed). A file
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
    X : array-like or torch.Tensor of shape (n_samples, ...)
        The inputs, e.g. images of shape (n, 28, 28) or (n, 784); a
        :class:`numpy.memmap` is read block by block. A tensor, on any device,
        is read as the numpy array of its values (bfloat16 as float32): it
        shares its cache entry with that array.
    cache_dir : str or path-like
        The folder for the cache files; created if missing. A leading ``~``
        is expanded to the user's home folder.
    key : str, default=None
        A name for the encoder and its weights, e.g. ``"cnn-mnist-v2"``, used
        instead of the hash of ``encoder.state_dict()``: required for an
        encoder without ``state_dict``, and faster for a very large one.
        Change it whenever the weights change.
    batch_size : int, default=1024
        Rows per call of the encoder.
    n_check : int, default=8
        Rows re-embedded on a cache hit and compared with the cached ones
        (relative tolerance 1e-4); 0 skips that check.

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
    Hashing reads the inputs once per call (about 1 GB/s) and, without
    ``key``, every weight of the encoder. Files are written under a
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
    if isinstance(X, torch.Tensor):
        # hashed and embedded as the numpy array of the same values, so a tensor
        # and that array share one cache entry
        X = _tensor_values(X)
    elif not hasattr(X, "shape") or not hasattr(X, "dtype"):
        X = np.asarray(X)
    if X.ndim < 1 or len(X) == 0:
        raise ValueError(f"X must hold at least one row; got shape {X.shape}.")
    if not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"X must be numeric; got dtype {X.dtype}.")
    expected = {"format": _FORMAT, "inputs_sha256": _inputs_digest(X)}
    expected["encoder"] = identity
    name = hashlib.sha256(json.dumps(expected, sort_keys=True).encode()).hexdigest()
    directory = Path(cache_dir).expanduser()
    npy = directory / f"embeddings-{name[:24]}.npy"
    meta_path = npy.with_suffix(".json")
    fix = (
        f"delete {npy} and {meta_path} to recompute them"
        if key is None
        else f"pass a new key (not {key!r}) for the changed encoder, or delete "
        f"{npy} and {meta_path} to recompute them"
    )
    if npy.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        return _load(npy, meta, expected, encoder, X, min(n_check, len(X)), fix)
    Z = _compute(encoder, X, batch_size)
    directory.mkdir(parents=True, exist_ok=True)
    _write_atomically(npy, lambda tmp: _save(tmp, Z))
    meta = {**expected, "n": len(Z), "d": Z.shape[1], "dtype": "float32"}
    _write_atomically(meta_path, lambda tmp: tmp.write_text(json.dumps(meta)))
    return np.load(npy, mmap_mode="r")
