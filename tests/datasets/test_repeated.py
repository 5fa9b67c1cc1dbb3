"""make_repeated and load_repeated_digits."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

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
