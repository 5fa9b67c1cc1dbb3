"""bald: hand-computed picks, tie-breaking, equivariance; and the shared top-k."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skbatchbald.acquisition import bald, mutual_information
from skbatchbald.acquisition._topk import top_k


class TestTopK:
    @settings(max_examples=300, deadline=None)
    @given(
        scores=arrays(np.float64, st.integers(1, 30), elements=st.integers(-3, 3)),
        data=st.data(),
    )
    def test_equals_stable_descending_sort(self, scores, data):
        # few distinct values: many ties, also at the k-th position
        k = data.draw(st.integers(0, len(scores)))
        expected = np.argsort(-scores, kind="stable")[:k]
        result = top_k(scores, k)
        np.testing.assert_array_equal(result, expected)
        assert result.dtype == np.int64

    def test_ties_at_the_boundary_go_to_the_lowest_index(self):
        scores = np.array([1.0, 5.0, 3.0, 3.0, 3.0, 0.0, 3.0])
        np.testing.assert_array_equal(top_k(scores, 3), [1, 2, 3])

    def test_all_equal(self):
        np.testing.assert_array_equal(top_k(np.zeros(10), 4), [0, 1, 2, 3])


def h(q):
    """Binary entropy in nats."""
    return -(q * np.log(q) + (1 - q) * np.log(1 - q))


def test_hand_computed():
    log_probs = np.log(
        [
            [[0.5, 0.5], [0.5, 0.5]],  # samples agree: MI 0
            [[0.9, 0.1], [0.1, 0.9]],  # disagree most
            [[0.6, 0.4], [0.4, 0.6]],  # disagree a little
        ]
    )
    # H[p̄] = log 2 for points 1 and 2; mean_k H[p_k] = h(0.9) and h(0.6)
    indices, scores = bald(log_probs, 3)
    np.testing.assert_array_equal(indices, [1, 2, 0])
    np.testing.assert_allclose(
        scores, [np.log(2) - h(0.9), np.log(2) - h(0.6), 0.0], atol=1e-15
    )


def test_return_types(log_probs):
    indices, scores = bald(log_probs, 5)
    assert indices.dtype == np.int64
    assert scores.dtype == np.float64
    assert indices.shape == scores.shape == (5,)
    assert len(set(indices.tolist())) == 5


def test_is_top_k_of_mutual_information(log_probs):
    mi = mutual_information(log_probs)
    indices, scores = bald(log_probs, 10)
    np.testing.assert_array_equal(indices, np.argsort(-mi, kind="stable")[:10])
    np.testing.assert_array_equal(scores, mi[indices])
    assert (np.diff(scores) <= 0).all()


def test_whole_pool_is_a_permutation(log_probs):
    indices, _ = bald(log_probs, len(log_probs))
    np.testing.assert_array_equal(np.sort(indices), np.arange(len(log_probs)))


def test_duplicated_points_tie_to_the_lowest_index(make_log_probs):
    a, b, c = make_log_probs(3, 6, 4)
    pool = np.stack([c, a, b, a, c, b])  # each point twice
    mi = mutual_information(pool)
    order = np.argsort(-mi[[0, 1, 2]])  # best of c, a, b
    firsts, seconds = np.array([[0, 4], [1, 3], [2, 5]])[order].T
    expected = np.ravel(np.column_stack([firsts, seconds]))
    indices, _ = bald(pool, 6)
    np.testing.assert_array_equal(indices, expected)


def test_permutation_equivariance(log_probs):
    perm = np.random.default_rng(3).permutation(len(log_probs))
    indices, scores = bald(log_probs, 7)
    perm_indices, perm_scores = bald(log_probs[perm], 7)
    np.testing.assert_array_equal(perm[perm_indices], indices)
    np.testing.assert_array_equal(perm_scores, scores)


def test_random_state_is_ignored(log_probs):
    first = bald(log_probs, 5, random_state=0)
    second = bald(log_probs, 5, random_state=np.random.default_rng(123))
    np.testing.assert_array_equal(first[0], second[0])


def test_torch_input(log_probs):
    expected = bald(log_probs, 4)
    result = bald(torch.from_numpy(log_probs), 4)
    np.testing.assert_array_equal(result[0], expected[0])
    np.testing.assert_array_equal(result[1], expected[1])
