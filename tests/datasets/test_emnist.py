"""fetch_emnist, on IDX files generated like EMNIST's (the data is not here)."""

import gzip

import numpy as np
import pytest

from skbatchbald.datasets import fetch_emnist

from .conftest import idx_file


def _write_split(folder, split, images, labels, mapping, gz=False):
    """EMNIST's five files of ``split``; ``images`` are upright, stored transposed."""
    folder.mkdir(parents=True, exist_ok=True)
    for part, (part_images, part_labels) in zip(
        ("train", "test"), zip(images, labels, strict=True), strict=True
    ):
        stored = np.ascontiguousarray(part_images.transpose(0, 2, 1))
        files = {
            f"emnist-{split}-{part}-images-idx3-ubyte": idx_file(stored, 0x08),
            f"emnist-{split}-{part}-labels-idx1-ubyte": idx_file(part_labels, 0x08),
        }
        for name, raw in files.items():
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
            else:
                (folder / name).write_bytes(raw)
    lines = [" ".join(map(str, [label, *codes])) for label, codes in mapping.items()]
    (folder / f"emnist-{split}-mapping.txt").write_text("\n".join(lines) + "\n")


def _balanced_mapping():
    # The balanced split's 47 classes: 10 digits, 26 upper case, 11 lower case.
    codes = [*range(48, 58), *range(65, 91), *map(ord, "abdefghnqrt")]
    return {label: [code] for label, code in enumerate(codes)}


@pytest.fixture
def balanced(tmp_path):
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for n in (5, 3)]
    labels = [np.array([0, 46, 10, 3, 3], np.uint8), np.array([36, 9, 1], np.uint8)]
    _write_split(tmp_path / "emnist", "balanced", images, labels, _balanced_mapping())
    return tmp_path, images, labels


def test_reads_the_split_upright(balanced):
    home, images, labels = balanced
    bunch = fetch_emnist(data_home=home)
    expected = np.concatenate(images).astype(np.float32) / 255
    np.testing.assert_array_equal(bunch.images, expected)
    assert bunch.data.shape == (8, 784) and bunch.data.dtype == np.float32
    assert np.shares_memory(bunch.data, bunch.images)
    np.testing.assert_array_equal(bunch.target, np.concatenate(labels))
    np.testing.assert_array_equal(bunch.train_index, np.arange(5))
    np.testing.assert_array_equal(bunch.test_index, np.arange(5, 8))
    assert len(bunch.target_names) == 47
    assert list(bunch.target_names[[0, 9, 10, 35, 36, 46]]) == list("09AZat")
    X, y = fetch_emnist(data_home=home, return_X_y=True)
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)


def test_gzipped_files_in_the_gzip_subfolder(tmp_path):
    image = np.zeros((1, 28, 28), np.uint8)
    image[0, 0, 5] = 255  # upright: top row, sixth column
    # Upper and lower case of one letter share a class: label 1 is 'A' and 'a'.
    mapping = {label: [64 + label, 96 + label] for label in range(1, 27)}
    labels = [np.array([1], np.uint8), np.array([26], np.uint8)]
    _write_split(
        tmp_path / "emnist" / "gzip",
        "letters",
        [image, image],
        labels,
        mapping,
        gz=True,
    )
    bunch = fetch_emnist(data_home=tmp_path, split="letters")
    assert bunch.images[0, 0, 5] == 1.0 and bunch.images[0, 5, 0] == 0.0
    # The letters files number their classes 1-26: target counts from 0.
    np.testing.assert_array_equal(bunch.target, [0, 25])
    assert bunch.target_names[0] == "Aa" and bunch.target_names[25] == "Zz"


def test_unknown_split(tmp_path):
    with pytest.raises(ValueError, match=r"split='balance' is not an EMNIST split"):
        fetch_emnist(data_home=tmp_path, split="balance")


def test_missing_files_name_them_and_the_source(balanced):
    home, _, _ = balanced
    (home / "emnist" / "emnist-balanced-test-labels-idx1-ubyte").unlink()
    (home / "emnist" / "emnist-balanced-mapping.txt").unlink()
    with pytest.raises(FileNotFoundError) as info:
        fetch_emnist(data_home=home)
    message = str(info.value)
    assert "emnist-balanced-test-labels-idx1-ubyte" in message
    assert "emnist-balanced-mapping.txt" in message
    assert "train-images" not in message and "nist.gov" in message


def test_label_count_differs_from_image_count(tmp_path):
    images = [np.zeros((3, 28, 28), np.uint8), np.zeros((1, 28, 28), np.uint8)]
    labels = [np.zeros(2, np.uint8), np.zeros(1, np.uint8)]
    _write_split(tmp_path / "emnist", "balanced", images, labels, _balanced_mapping())
    with pytest.raises(ValueError, match=r"labels of shape \(2,\) for 3 images"):
        fetch_emnist(data_home=tmp_path)


def test_images_of_another_size(tmp_path):
    images = [np.zeros((2, 32, 32), np.uint8), np.zeros((1, 32, 32), np.uint8)]
    labels = [np.zeros(2, np.uint8), np.zeros(1, np.uint8)]
    _write_split(tmp_path / "emnist", "balanced", images, labels, _balanced_mapping())
    with pytest.raises(ValueError, match=r"shape \(2, 32, 32\).*\(n, 28, 28\)"):
        fetch_emnist(data_home=tmp_path)


def test_label_the_mapping_lacks(tmp_path):
    images = [np.zeros((1, 28, 28), np.uint8)] * 2
    labels = [np.array([47], np.uint8), np.array([0], np.uint8)]
    _write_split(tmp_path / "emnist", "balanced", images, labels, _balanced_mapping())
    with pytest.raises(ValueError, match=r"labels \[47\] that .* does not map"):
        fetch_emnist(data_home=tmp_path)


@pytest.mark.parametrize(
    ("line", "match"),
    [("7", "no character code"), ("x 65", "invalid literal"), ("0 66", "mapped twice")],
)
def test_malformed_mapping(balanced, line, match):
    home, _, _ = balanced
    mapping = home / "emnist" / "emnist-balanced-mapping.txt"
    mapping.write_text(mapping.read_text() + line + "\n")
    with pytest.raises(ValueError, match=match):
        fetch_emnist(data_home=home)


def test_mapping_of_another_split(tmp_path):
    images = [np.zeros((1, 28, 28), np.uint8)] * 2
    labels = [np.zeros(1, np.uint8)] * 2
    digits = {label: [48 + label] for label in range(10)}
    _write_split(tmp_path / "emnist", "balanced", images, labels, digits)
    with pytest.raises(ValueError, match="maps 10 labels; EMNIST's balanced split"):
        fetch_emnist(data_home=tmp_path)
