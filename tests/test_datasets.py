"""Offline data sets: Repeated digits, IDX files, MNIST and Fashion-MNIST."""

import gzip
import hashlib

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skbatchbald._idx import parse_idx, read_verified
from skbatchbald.datasets import load_repeated_digits, make_repeated


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
        ("kwargs", "message"),
        [
            ({"y": np.zeros(4)}, "same number of samples"),
            ({"n_repeats": 0}, "n_repeats must be a positive integer"),
            ({"n_repeats": 2.0}, "n_repeats must be a positive integer"),
            ({"noise_std": -0.1}, "noise_std must be a finite number"),
            ({"noise_std": np.nan}, "noise_std must be a finite number"),
        ],
    )
    def test_bad_input(self, kwargs, message):
        args = {"X": np.zeros((5, 2)), "y": np.zeros(5), **kwargs}
        with pytest.raises(ValueError, match=message):
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
