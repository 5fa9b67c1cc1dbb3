"""Reading and verifying IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the values in C order,
big-endian (LeCun et al., http://yann.lecun.com/exdb/mnist/).
"""

import gzip
import hashlib
import math

import numpy as np

# IDX type code -> big-endian numpy dtype.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(raw, name):
    """Decode the bytes of one uncompressed IDX file into an array.

    Parameters
    ----------
    raw : bytes
        The whole file.
    name : str
        The file's name or path, used in error messages.

    Returns
    -------
    array : ndarray
        In native byte order, of the shape the header declares.

    Raises
    ------
    ValueError
        If the magic number, the type code or the length of the file do not
        match the IDX format.
    """
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"{name} is not an IDX file: it should start with two zero bytes, "
            f"then a type code and the number of dimensions; it starts with "
            f"{raw[:4].hex(' ') or 'nothing (empty file)'}."
        )
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise ValueError(
            f"{name} has IDX type code 0x{code:02X}; expected one of {known}."
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"{name} declares {ndim} dimensions but is only {len(raw)} bytes "
            f"long, too short for its {header}-byte header."
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = header + math.prod(shape) * dtype.itemsize  # exact: no overflow
    if len(raw) != expected:
        raise ValueError(
            f"{name} declares shape {shape} of {dtype.name}, which needs "
            f"{expected} bytes, but the file holds {len(raw)} bytes: it is "
            "truncated or not an IDX file."
        )
    values = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def read_raw(path, remedy):
    """Read a file, gunzipping ``*.gz``.

    Parameters
    ----------
    path : pathlib.Path
        The file; a name ending in ``.gz`` is decompressed first.
    remedy : str
        What to do about a damaged file; ends the error message.

    Returns
    -------
    raw : bytes
        The uncompressed content.

    Raises
    ------
    OSError
        If the file cannot be read or decompressed.
    """
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        # gzip raises BadGzipFile (an OSError) or EOFError on damaged files.
        raise OSError(f"Could not read {path}: {exc}. {remedy}") from exc
    return raw


def read_verified(path, md5, remedy):
    """Read a file, gunzipping ``*.gz``, and check the md5 of its content.

    Parameters
    ----------
    path : pathlib.Path
        The file; a name ending in ``.gz`` is decompressed first.
    md5 : str
        Expected md5 hex digest of the uncompressed content.
    remedy : str
        What to do about a damaged file; ends every error message.

    Returns
    -------
    raw : bytes
        The uncompressed content.

    Raises
    ------
    OSError
        If the file cannot be read or decompressed, or its md5 differs.
    """
    raw = read_raw(path, remedy)
    found = hashlib.md5(raw, usedforsecurity=False).hexdigest()
    if found != md5:
        raise OSError(
            f"{path} is corrupted: the md5 of its content is {found}, expected "
            f"{md5}. {remedy}"
        )
    return raw
