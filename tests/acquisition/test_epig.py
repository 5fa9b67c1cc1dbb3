"""epig: expected predictive information gain, against brute force and its bounds."""

import numpy as np
import pytest
import torch

from skbatchbald.acquisition import epig, mutual_information


def brute_force_epig(log_probs, log_probs_target):
    """mean over x* of Σ p(y, y*) log p(y, y*) / (p(y) p(y*)), float64, loops."""
    p = np.exp(log_probs.astype(np.float64))  # (N, K, C)
    q = np.exp(log_probs_target.astype(np.float64))  # (T, K, C)
    out = np.zeros(len(p))
    for n in range(len(p)):
        for t in range(len(q)):
            joint = np.einsum("kc,kd->cd", p[n], q[t]) / p.shape[1]  # (C, C)
            outer = np.outer(joint.sum(1), joint.sum(0))
            positive = joint > 0
            out[n] += np.sum(
                joint[positive] * np.log(joint[positive] / outer[positive])
            )
        out[n] /= len(q)
    return out


def all_scores(log_probs, log_probs_target, **kwargs):
    indices, scores = epig(log_probs, len(log_probs), log_probs_target=log_probs_target,
                           **kwargs)  # fmt: skip
    out = np.empty(len(log_probs))
    out[indices] = scores
    return out


@pytest.mark.parametrize(("n_pool", "n_target", "k", "c"),
                         [(12, 5, 4, 3), (7, 9, 6, 2), (5, 3, 3, 6)])  # fmt: skip
def test_equals_brute_force(make_log_probs, n_pool, n_target, k, c):
    pool = make_log_probs(n_pool, k, c, seed=1)
    target = make_log_probs(n_target, k, c, seed=2)
    expected = brute_force_epig(pool, target)
    np.testing.assert_allclose(all_scores(pool, target), expected, rtol=0, atol=1e-9)


def test_equals_brute_force_with_zero_probabilities(log_probs_with_zeros):
    pool, target = log_probs_with_zeros[:20], log_probs_with_zeros[20:]
    expected = brute_force_epig(pool, target)
    np.testing.assert_allclose(all_scores(pool, target), expected, rtol=0, atol=1e-9)


def test_float32_inputs_use_the_float32_kernel_within_its_round_off(make_log_probs):
    pool = make_log_probs(60, 8, 5, seed=3, dtype=np.float32)
    target = make_log_probs(30, 8, 5, seed=4, dtype=np.float32)
    expected = brute_force_epig(pool, target)  # float64 of the same float32 inputs
    got = all_scores(pool, target)
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-5)
    assert np.abs(got - expected).max() > 0  # it is not the float64 path


def test_never_above_bald_nor_log_c(make_log_probs):
    pool = make_log_probs(80, 10, 4, seed=5)
    target = make_log_probs(25, 10, 4, seed=6)
    scores = all_scores(pool, target)
    assert np.all(scores <= mutual_information(pool) + 1e-12)
    assert np.all(scores <= np.log(4))
    assert np.all(scores >= 0)
    # and not trivially: some points carry information about the targets
    assert scores.max() > 0.05


def test_target_equal_to_a_point_gives_its_own_information(make_log_probs):
    # x* = x: I(y; y*) with y, y* i.i.d. given ω; a copy of the point is the most
    # informative target it can have, and a point with p independent of ω gives 0
    pool = make_log_probs(6, 8, 3, seed=7)
    pool[5] = np.log([0.2, 0.3, 0.5])  # the same under every ω: no information
    scores = all_scores(pool, pool[:1])
    assert scores[5] == pytest.approx(0.0, abs=1e-15)
    assert np.argmax(scores) == 0


def test_the_memory_budget_does_not_change_the_result(make_log_probs):
    pool = make_log_probs(40, 6, 4, seed=8)
    target = make_log_probs(50, 6, 4, seed=9)
    wide = all_scores(pool, target)
    # 1 MiB overhead + 191 kB for one worker + ~5 kB for rows: chunks of 3 targets
    narrow = all_scores(pool, target, max_memory=1_245_000)
    np.testing.assert_allclose(narrow, wide, rtol=0, atol=1e-12)


def test_torch_inputs_equal_numpy_inputs(make_log_probs):
    pool = make_log_probs(10, 4, 3, seed=10)
    target = make_log_probs(4, 4, 3, seed=11)
    got = epig(torch.from_numpy(pool), 3, log_probs_target=torch.from_numpy(target))
    expected = epig(pool, 3, log_probs_target=target)
    np.testing.assert_array_equal(got[0], expected[0])


def test_stochastic_draw_is_seeded(make_log_probs):
    pool = make_log_probs(30, 6, 3, seed=12)
    target = make_log_probs(8, 6, 3, seed=13)
    first = epig(pool, 5, log_probs_target=target, stochastic="softrank", beta=1.0,
                 random_state=4)  # fmt: skip
    again = epig(pool, 5, log_probs_target=target, stochastic="softrank", beta=1.0,
                 random_state=4)  # fmt: skip
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], all_scores(pool, target)[first[0]])


class TestBadInput:
    @pytest.fixture
    def pool(self, make_log_probs):
        return make_log_probs(10, 4, 3, seed=0)

    def test_other_k(self, pool, make_log_probs):
        with pytest.raises(
            ValueError, match=r"n_mc_samples=5.*n_mc_samples=4.*one call"
        ):
            epig(pool, 1, log_probs_target=make_log_probs(3, 5, 3))

    def test_other_c(self, pool, make_log_probs):
        with pytest.raises(ValueError, match=r"n_classes=2.*n_classes=3"):
            epig(pool, 1, log_probs_target=make_log_probs(3, 4, 2))

    def test_empty_target(self, pool):
        with pytest.raises(ValueError, match="log_probs_target is empty"):
            epig(pool, 1, log_probs_target=np.empty((0, 4, 3)))

    def test_missing_target(self, pool):
        with pytest.raises(ValueError, match="log_probs_target is None"):
            epig(pool, 1, log_probs_target=None)

    def test_nan_in_target(self, pool, make_log_probs):
        target = make_log_probs(3, 4, 3)
        target[1, 2, 0] = np.nan
        with pytest.raises(ValueError, match="log_probs_target contains NaN"):
            epig(pool, 1, log_probs_target=target)

    def test_nan_in_pool(self, pool, make_log_probs):
        pool[0, 0, 0] = np.nan
        with pytest.raises(ValueError, match="log_probs contains NaN"):
            epig(pool, 1, log_probs_target=make_log_probs(3, 4, 3))

    def test_probabilities_instead_of_log_probabilities(self, pool):
        with pytest.raises(ValueError, match="log_probs_target looks like probab"):
            epig(pool, 1, log_probs_target=np.exp(pool))

    def test_budget_too_small(self, pool, make_log_probs):
        with pytest.raises(ValueError, match="raise max_memory"):
            epig(pool, 1, log_probs_target=make_log_probs(3, 4, 3), max_memory=1000)
