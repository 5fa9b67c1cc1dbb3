"""Entropy helpers: hand-computed values, closed forms, edge cases, invariants."""

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import log_softmax

from skbatchbald.acquisition import (
    _baselines,
    _entropy,
    conditional_entropy,
    marginal_entropy,
    mutual_information,
)
from skbatchbald.acquisition._chunks import per_point_in_memory as per_point
from skbatchbald.acquisition._chunks import row_slices

FUNCTIONS = [marginal_entropy, conditional_entropy, mutual_information]


def H(p):
    """Entropy in nats of one probability vector, by hand."""
    return -sum(q * math.log(q) for q in p if q > 0)


def test_hand_computed_two_samples():
    p = [[0.9, 0.1], [0.5, 0.5]]  # K = 2 samples, C = 2 classes
    log_probs = np.log([p])
    mean = [0.7, 0.3]
    expected_marginal = H(mean)
    expected_conditional = (H(p[0]) + H(p[1])) / 2
    assert marginal_entropy(log_probs)[0] == pytest.approx(expected_marginal, abs=1e-15)
    assert conditional_entropy(log_probs)[0] == pytest.approx(
        expected_conditional, abs=1e-15
    )
    assert mutual_information(log_probs)[0] == pytest.approx(
        expected_marginal - expected_conditional, abs=1e-15
    )


def test_hand_computed_three_samples_three_classes():
    p = [[0.2, 0.3, 0.5], [0.6, 0.2, 0.2], [0.1, 0.1, 0.8]]
    log_probs = np.log([p, p[::-1]])  # 2 points; sample order does not matter
    mean = [sum(col) / 3 for col in zip(*p, strict=True)]
    marginal = H(mean)
    conditional = sum(H(row) for row in p) / 3
    np.testing.assert_allclose(marginal_entropy(log_probs), [marginal] * 2, atol=1e-15)
    np.testing.assert_allclose(
        conditional_entropy(log_probs), [conditional] * 2, atol=1e-15
    )
    np.testing.assert_allclose(
        mutual_information(log_probs), [marginal - conditional] * 2, atol=1e-15
    )


@pytest.mark.parametrize("n_classes", [2, 3, 10])
def test_uniform(n_classes):
    log_probs = np.full((3, 5, n_classes), -np.log(n_classes))
    np.testing.assert_allclose(marginal_entropy(log_probs), np.log(n_classes))
    np.testing.assert_allclose(conditional_entropy(log_probs), np.log(n_classes))
    np.testing.assert_allclose(mutual_information(log_probs), 0.0, atol=1e-15)


def test_identical_samples_have_zero_mutual_information(make_log_probs):
    one_sample = make_log_probs(20, 1, 6)
    log_probs = np.repeat(one_sample, 7, axis=1)  # (20, 7, 6), all samples equal
    # exactly 0, not round-off that would rank the points at random (an
    # ensemble of identical members: bagging with bootstrap=False)
    assert np.all(mutual_information(log_probs) == 0.0)
    np.testing.assert_allclose(
        marginal_entropy(log_probs), conditional_entropy(log_probs), atol=1e-14
    )


def test_two_disagreeing_one_hot_samples():
    log_probs = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]])
    assert marginal_entropy(log_probs)[0] == pytest.approx(math.log(2), abs=1e-15)
    assert conditional_entropy(log_probs)[0] == 0.0
    assert mutual_information(log_probs)[0] == pytest.approx(math.log(2), abs=1e-15)


@pytest.mark.parametrize("n_mc_samples", [2, 5, 10])
def test_each_sample_sure_of_another_class_reaches_log_k(n_mc_samples):
    # K one-hot samples on K different classes: MI = log K, the maximum
    log_probs = np.where(np.eye(n_mc_samples, dtype=bool), 0.0, -np.inf)[None]
    assert mutual_information(log_probs)[0] == pytest.approx(math.log(n_mc_samples))


def test_confident_agreeing_samples_have_zero_entropy():
    log_probs = np.array([[[0.0, -np.inf, -np.inf]] * 4])
    for function in FUNCTIONS:
        value = function(log_probs)[0]
        assert value == 0.0
        assert not np.signbit(value)  # no -0.0


@pytest.mark.parametrize("function", FUNCTIONS)
def test_neg_inf_entries_give_finite_values_without_warnings(
    function, log_probs_with_zeros
):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = function(log_probs_with_zeros)
    assert values.shape == (30,)
    assert values.dtype == np.float64
    assert np.isfinite(values).all()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_float32_agrees_with_float64(function, make_log_probs):
    log_probs = make_log_probs(50, 8, 5)
    np.testing.assert_allclose(
        function(log_probs.astype(np.float32)), function(log_probs), atol=1e-5
    )
    assert function(log_probs.astype(np.float32)).dtype == np.float64


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_torch_input_equals_numpy_input(function, dtype, make_log_probs):
    log_probs = make_log_probs(20, 4, 3, dtype=dtype)
    tensor = torch.from_numpy(log_probs.copy()).requires_grad_()
    np.testing.assert_array_equal(function(tensor), function(log_probs))


# every per-point reduction of the layer, baselines' too
REDUCERS = [
    _entropy._marginal,
    _entropy._conditional,
    _entropy._mutual,
    _baselines._variation_ratio,
    _baselines._mean_std,
]


@pytest.mark.parametrize("reduce", REDUCERS)
def test_chunking_does_not_change_values(reduce, log_probs_with_zeros):
    whole = per_point(log_probs_with_zeros, reduce)
    rows = 3 * 6 * 5 * 8  # 3 of the 30 rows per chunk
    chunked = per_point(log_probs_with_zeros, reduce, max_bytes=rows)
    np.testing.assert_allclose(chunked, whole, rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_input_is_not_modified(function, log_probs_with_zeros):
    before = log_probs_with_zeros.copy()
    function(log_probs_with_zeros)
    np.testing.assert_array_equal(log_probs_with_zeros, before)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_invalid_input_is_rejected(function):
    with pytest.raises(ValueError, match="did you pass probabilities"):
        function(np.full((2, 3, 4), 0.25))


@st.composite
def log_prob_pools(draw):
    """Random (N, K, C) log-probs, some entries -inf, every row normalised."""
    shape = (
        draw(st.integers(1, 4)),
        draw(st.integers(1, 6)),
        draw(st.integers(2, 5)),
    )
    logits = draw(arrays(np.float64, shape, elements=st.floats(-30, 30)))
    zero = draw(arrays(np.bool_, shape))
    keep = logits.argmax(axis=-1)[..., None]  # one class per row stays positive
    np.put_along_axis(zero, keep, False, axis=-1)
    logits[zero] = -np.inf
    return log_softmax(logits, axis=-1)


@settings(max_examples=300, deadline=None)
@given(log_probs=log_prob_pools())
def test_information_inequalities(log_probs):
    n_mc_samples, n_classes = log_probs.shape[1:]
    marginal = marginal_entropy(log_probs)
    conditional = conditional_entropy(log_probs)
    mi = mutual_information(log_probs)
    assert np.isfinite(mi).all()
    assert (mi >= 0).all()
    assert (mi <= math.log(n_mc_samples) + 1e-12).all()
    assert (mi <= math.log(n_classes) + 1e-12).all()
    assert (marginal <= math.log(n_classes) + 1e-12).all()
    assert (conditional >= -1e-12).all()
    np.testing.assert_allclose(mi, marginal - conditional, atol=1e-12)


@pytest.mark.parametrize(
    ("n_rows", "bytes_per_row", "max_bytes", "expected"),
    [
        (10, 8, 24, [(0, 3), (3, 6), (6, 9), (9, 10)]),
        (10, 8, 80, [(0, 10)]),
        (10, 100, 8, [(i, i + 1) for i in range(10)]),  # at least one row
        (0, 8, 24, []),
    ],
)
def test_row_slices(n_rows, bytes_per_row, max_bytes, expected):
    slices = list(row_slices(n_rows, bytes_per_row, max_bytes))
    assert [(s.start, s.stop) for s in slices] == expected
