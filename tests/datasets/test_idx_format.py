"""Reading and verifying IDX files."""

import gzip
import hashlib

import numpy as np
import pytest

from skbatchbald.datasets._idx_format import parse_idx, read_verified


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
    def test_round_trip(self, tmp_path, dtype, code, idx_bytes):
        expected = (np.arange(60) - 20).reshape(3, 4, 5).astype(dtype)
        path = tmp_path / "images-idx3-ubyte"
        path.write_bytes(idx_bytes(expected, code))
        parsed = parse_idx(path.read_bytes(), str(path))
        np.testing.assert_array_equal(parsed, expected)
        assert parsed.shape == (3, 4, 5) and parsed.dtype.isnative

    def test_labels_are_one_dimensional(self, idx_bytes):
        labels = np.array([5, 0, 4, 1, 9], np.uint8)
        np.testing.assert_array_equal(parse_idx(idx_bytes(labels, 0x08), "l"), labels)

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
    def test_plain_and_gzipped_content(self, tmp_path, idx_bytes):
        raw = idx_bytes(np.arange(10, dtype=np.uint8), 0x08)
        md5 = hashlib.md5(raw).hexdigest()
        plain, packed = tmp_path / "labels", tmp_path / "labels.gz"
        plain.write_bytes(raw)
        packed.write_bytes(gzip.compress(raw))
        assert read_verified(plain, md5, "fix it") == raw
        assert read_verified(packed, md5, "fix it") == raw

    def test_flipped_byte_names_the_file_and_the_remedy(self, tmp_path, idx_bytes):
        raw = bytearray(idx_bytes(np.arange(10, dtype=np.uint8), 0x08))
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
