"""EMNIST from the user's own files: it cannot be downloaded on every machine.

EMNIST (Cohen, Afshar, Tapson & van Schaik, "EMNIST: an extension of MNIST to
handwritten letters", IJCNN 2017) ships as IDX files, like MNIST, plus one
mapping file per split from label to character code. Its images are stored
transposed relative to MNIST's (column by column), so they are turned upright
here. Nothing is downloaded: the BatchBALD paper's EMNIST experiment uses the
47-class ``balanced`` split, and this loader reads it where a user has it.
"""

import shlex
from pathlib import Path

import numpy as np
from sklearn.datasets import get_data_home
from sklearn.utils import Bunch

from ._idx_format import parse_idx, read_raw

# Split -> number of classes, from the EMNIST paper.
EMNIST_SPLITS = {
    "balanced": 47,
    "byclass": 62,
    "bymerge": 47,
    "digits": 10,
    "letters": 26,
    "mnist": 10,
}
EMNIST_URL = "https://www.nist.gov/itl/products-and-services/emnist-dataset"
_PARTS = ("train", "test")


def _file_names(split):
    names = {}
    for part in _PARTS:
        names[f"{part}-images"] = f"emnist-{split}-{part}-images-idx3-ubyte"
        names[f"{part}-labels"] = f"emnist-{split}-{part}-labels-idx1-ubyte"
    return names


def _find(directories, name):
    for directory in directories:
        for candidate in (directory / name, directory / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _read_mapping(path):
    """label -> the characters it stands for, from ``emnist-*-mapping.txt``."""
    mapping = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            label, *codes = (int(field) for field in line.split())
            if not codes:
                raise ValueError("no character code")
            characters = "".join(chr(code) for code in codes)
        except ValueError as exc:
            raise ValueError(
                f"{path}, line {number} ({line!r}): expected a label and its "
                f"character codes, e.g. '10 65 97' ({exc}). Use the mapping file "
                f"from the EMNIST download ({EMNIST_URL})."
            ) from None
        if label in mapping:
            raise ValueError(
                f"{path}, line {number}: label {label} is mapped twice. Use the "
                f"mapping file from the EMNIST download ({EMNIST_URL})."
            )
        mapping[label] = characters
    return mapping


def _read_part(paths, part, remedy):
    images_path, labels_path = paths[f"{part}-images"], paths[f"{part}-labels"]
    images = parse_idx(read_raw(images_path, remedy), str(images_path))
    labels = parse_idx(read_raw(labels_path, remedy), str(labels_path))
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(
            f"{images_path} holds {images.dtype.name} values of shape "
            f"{images.shape}; EMNIST images are uint8 of shape (n, 28, 28). "
            f"{remedy}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(
            f"{labels_path} holds labels of shape {labels.shape} for "
            f"{len(images)} images in {images_path.name}: they must be one label "
            f"per image. {remedy}"
        )
    return images, labels


def fetch_emnist(data_home=None, *, split="balanced", return_X_y=False):
    """Load one split of EMNIST from files you downloaded yourself.

    Looks in ``<data_home>/emnist/`` and in its ``gzip/`` subfolder (where
    NIST's ``gzip.zip`` unpacks) for the split's four IDX files, each gzipped
    or not, and its mapping file::

        emnist-<split>-train-images-idx3-ubyte[.gz]
        emnist-<split>-train-labels-idx1-ubyte[.gz]
        emnist-<split>-test-images-idx3-ubyte[.gz]
        emnist-<split>-test-labels-idx1-ubyte[.gz]
        emnist-<split>-mapping.txt

    Nothing is downloaded.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The scikit-learn data folder, as for
        :func:`sklearn.datasets.get_data_home`.
    split : {'balanced', 'byclass', 'bymerge', 'digits', 'letters', 'mnist'}, \
default='balanced'
        Which EMNIST split; the BatchBALD paper uses ``'balanced'`` (47
        classes, 112,800 training and 18,800 test images).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (n, 784) float32 in [0, 1] (pixel / 255), images upright;
        ``images`` (n, 28, 28), sharing memory with ``data``; ``target`` (n,)
        int64 in 0 .. n_classes - 1, the position of the file's label among the
        mapping's labels (the ``letters`` files number their classes 1-26:
        target is that label minus 1); ``target_names`` (n_classes,), the
        characters of each class (upper and lower case together where a class
        merges them, e.g. ``'Cc'``); ``train_index`` and ``test_index``, the
        official split (training rows first); ``DESCR``.
    (data, target) : tuple of ndarray
        When ``return_X_y=True``.

    Raises
    ------
    ValueError
        If ``split`` is unknown, or a file is not what EMNIST holds (images not
        28 x 28 uint8, a label count that differs from the image count, a label
        the mapping lacks, a mapping that is malformed or has another number of
        classes than the split); the message names the file.
    FileNotFoundError
        If a file is missing; the message lists the files and where to get them.
    OSError
        If a file cannot be read or decompressed.

    See Also
    --------
    fetch_mnist : MNIST, downloaded from PyPI once.

    Notes
    -----
    EMNIST's images are stored transposed relative to MNIST's; they are
    transposed back here, so ``images[i]`` shows the character upright.
    No checksum is checked (the files' digests are not published with them);
    the shapes, the labels and the mapping are.

    Cohen, Afshar, Tapson & van Schaik, "EMNIST: an extension of MNIST to
    handwritten letters", IJCNN 2017.

    Examples
    --------
    >>> from skbatchbald.datasets import fetch_emnist
    >>> emnist = fetch_emnist(split="balanced")  # doctest: +SKIP
    >>> emnist.data.shape, len(emnist.target_names)  # doctest: +SKIP
    ((131600, 784), 47)
    """
    if split not in EMNIST_SPLITS:
        raise ValueError(
            f"split={split!r} is not an EMNIST split; use one of "
            f"{', '.join(map(repr, EMNIST_SPLITS))}."
        )
    folder = Path(get_data_home(data_home)) / "emnist"
    directories = [folder, folder / "gzip"]
    names = _file_names(split)
    mapping_name = f"emnist-{split}-mapping.txt"
    paths = {key: _find(directories, name) for key, name in names.items()}
    mapping_path = next(
        (d / mapping_name for d in directories if (d / mapping_name).is_file()), None
    )
    missing = [names[key] for key, path in paths.items() if path is None]
    if mapping_path is None:
        missing.append(mapping_name)
    if missing:
        raise FileNotFoundError(
            f"EMNIST ({split}) not found: no {', '.join(missing)} (IDX files may "
            f"be gzipped) in {folder} or {folder / 'gzip'}. Download gzip.zip from "
            f"{EMNIST_URL} and unpack it into {folder}."
        )

    def remedy_for(path):
        return f"Replace {shlex.quote(str(path))} with the file from {EMNIST_URL}."

    mapping = _read_mapping(mapping_path)
    if len(mapping) != EMNIST_SPLITS[split]:
        raise ValueError(
            f"{mapping_path} maps {len(mapping)} labels; EMNIST's {split} split has "
            f"{EMNIST_SPLITS[split]} classes. {remedy_for(mapping_path)}"
        )
    labels_in_order = np.array(sorted(mapping))
    parts = [_read_part(paths, part, remedy_for(folder)) for part in _PARTS]
    images = np.concatenate([part[0] for part in parts])
    labels = np.concatenate([part[1] for part in parts])
    unknown = np.setdiff1d(labels, labels_in_order)
    if unknown.size:
        raise ValueError(
            f"EMNIST ({split}) has labels {unknown[:10].tolist()} that "
            f"{mapping_path} does not map; the label and mapping files come from "
            f"different splits or downloads. {remedy_for(folder)}"
        )
    n_train = len(parts[0][0])
    # Stored column by column: transpose each image upright, in one contiguous
    # float32 array so that ``data`` is a view of ``images``.
    upright = np.ascontiguousarray(images.transpose(0, 2, 1), dtype=np.float32)
    upright /= 255
    data = upright.reshape(len(upright), -1)
    target = np.searchsorted(labels_in_order, labels).astype(np.int64)
    if return_X_y:
        return data, target
    descr = (
        f"EMNIST {split}: {len(images):,} 28x28 grayscale handwritten characters, "
        f"{len(mapping)} classes; rows 0-{n_train - 1} are the official training "
        f"set, the rest the test set. Read from {folder}; images transposed "
        "upright, pixels scaled to [0, 1]. Cohen et al., IJCNN 2017."
    )
    return Bunch(
        data=data,
        target=target,
        images=upright,
        train_index=np.arange(n_train),
        test_index=np.arange(n_train, len(images)),
        target_names=np.array([mapping[label] for label in labels_in_order]),
        DESCR=descr,
    )
