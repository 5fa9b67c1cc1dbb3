"""batchbald: exact phase against brute-force enumeration, warnings, bad input."""

import warnings

import numpy as np
import pytest
import torch
from scipy.special import log_softmax

from skbatchbald.acquisition import (
    SaturationWarning,
    bald,
    batchbald,
    mutual_information,
)

from ._brute_force import brute_force_batchbald, joint_mutual_information


def _pool(seed, n_pool, n_mc_samples, n_classes, zero_fraction=0.0):
    rng = np.random.default_rng(seed)
    logits = 3.0 * rng.standard_normal((n_pool, n_mc_samples, n_classes))
    zero = rng.random(logits.shape) < zero_fraction
    zero[..., 0] = False  # every row keeps a positive probability
    logits[zero] = -np.inf
    return log_softmax(logits, axis=-1)


def _exact_budget(n_mc_samples, n_classes, n_instances):
    """The smallest n_joint_samples that keeps the whole batch exact."""
    return max(n_mc_samples, n_classes ** (n_instances - 1))


class TestAgainstBruteForce:
    @pytest.mark.parametrize("seed", range(40))
    def test_picks_and_scores_equal_enumeration(self, seed):
        rng = np.random.default_rng(1000 + seed)
        n_pool = int(rng.integers(4, 16))
        n_mc_samples = int(rng.integers(2, 8))
        n_classes = int(rng.integers(2, 5))
        n_instances = int(rng.integers(1, min(n_pool, 4) + 1))
        zeros = 0.3 if seed % 3 == 0 else 0.0
        log_probs = _pool(seed, n_pool, n_mc_samples, n_classes, zeros)
        budget = _exact_budget(n_mc_samples, n_classes, n_instances)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SaturationWarning)
            indices, scores = batchbald(
                log_probs, n_instances, n_joint_samples=budget, on_saturation="greedy"
            )
            filled, filled_scores = batchbald(
                log_probs, n_instances, n_joint_samples=budget
            )
        expected, expected_scores, gaps = brute_force_batchbald(log_probs, n_instances)

        # random continuous pools have no near-ties; make sure of it
        assert min(gaps) > 1e-7
        assert indices.tolist() == expected
        np.testing.assert_allclose(scores, expected_scores, rtol=0, atol=1e-9)
        # by default, greedy up to the pick that reaches 99 % of log K, then
        # the other points by BALD score, each with the score reached
        limit = 0.99 * np.log(n_mc_samples)
        n = next(
            (i + 1 for i, v in enumerate(expected_scores) if v >= limit), n_instances
        )
        assert filled[:n].tolist() == expected[:n]
        bald_order = np.argsort(-mutual_information(log_probs), kind="stable")
        rest = [i for i in bald_order if i not in expected[:n]][: n_instances - n]
        assert filled[n:].tolist() == rest
        np.testing.assert_allclose(filled_scores[:n], expected_scores[:n], atol=1e-9)
        assert np.all(filled_scores[n:] == filled_scores[n - 1])

    def test_larger_pool_four_exact_steps(self):
        # big enough for several tiles and for candidates to be skipped
        log_probs = _pool(7, 600, 6, 3)
        indices, scores = batchbald(log_probs, 4, n_joint_samples=27)
        expected, expected_scores, gaps = brute_force_batchbald(log_probs, 4)
        assert min(gaps) > 1e-7
        assert indices.tolist() == expected
        np.testing.assert_allclose(scores, expected_scores, rtol=0, atol=1e-9)

    def test_exact_zeros_give_finite_scores(self, log_probs_with_zeros):
        assert np.isneginf(log_probs_with_zeros).any()
        indices, scores = batchbald(log_probs_with_zeros, 3, n_joint_samples=25)
        assert np.isfinite(scores).all()
        expected, expected_scores, _ = brute_force_batchbald(log_probs_with_zeros, 3)
        assert indices.tolist() == expected
        np.testing.assert_allclose(scores, expected_scores, rtol=0, atol=1e-9)

    def test_one_posterior_sample_carries_no_information(self, make_log_probs):
        with pytest.warns(SaturationWarning):  # log K = 0 is reached at once
            indices, scores = batchbald(make_log_probs(9, 1, 3), 4)
        assert len(set(indices.tolist())) == 4
        np.testing.assert_allclose(scores, 0.0, atol=1e-12)

    def test_ties_break_to_the_lowest_index(self):
        # points 1, 3 and 4 are identical and the most informative
        log_probs = _pool(3, 5, 4, 3)
        log_probs[3] = log_probs[1]
        log_probs[4] = log_probs[1]
        bald = mutual_information(log_probs)
        log_probs[[0, 2]] = log_probs[np.argmin(bald)]  # make 0 and 2 duller
        indices, _ = batchbald(log_probs, 1)
        assert indices.tolist() == [1]


class TestOutput:
    def test_types_shapes_and_distinct_indices(self, log_probs):
        indices, scores = batchbald(log_probs, 6, random_state=0)
        assert indices.dtype == np.int64 and indices.shape == (6,)
        assert scores.dtype == np.float64 and scores.shape == (6,)
        assert len(set(indices.tolist())) == 6

    def test_whole_pool(self, make_log_probs):
        log_probs = make_log_probs(7, 4, 3, seed=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SaturationWarning)
            indices, _ = batchbald(log_probs, 7, random_state=0)
        assert sorted(indices.tolist()) == list(range(7))

    def test_single_point_pool(self, make_log_probs):
        log_probs = make_log_probs(1, 3, 2, seed=1)
        indices, scores = batchbald(log_probs, 1)
        assert indices.tolist() == [0]
        assert scores[0] == pytest.approx(mutual_information(log_probs)[0], abs=1e-12)

    def test_accepts_torch_tensors(self, log_probs):
        expected = batchbald(log_probs, 3, random_state=0)
        got = batchbald(torch.from_numpy(log_probs), 3, random_state=0)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])

    def test_does_not_touch_global_generators(self, log_probs):
        # the legacy global generator is exactly what must stay untouched
        legacy = np.random.mtrand._rand
        legacy.seed(5)
        torch.manual_seed(5)
        before = (legacy.get_state()[1].copy(), torch.get_rng_state().clone())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SaturationWarning)
            batchbald(log_probs, 6, n_joint_samples=8, random_state=1)
        assert np.array_equal(legacy.get_state()[1], before[0])
        assert torch.equal(torch.get_rng_state(), before[1])

    def test_last_score_is_the_batch_mutual_information(self, log_probs):
        indices, scores = batchbald(log_probs, 3, n_joint_samples=16)
        probs = np.exp(log_probs)
        assert scores[-1] == pytest.approx(
            joint_mutual_information(probs, indices.tolist()), abs=1e-9
        )


class TestSaturation:
    def test_warns_once_when_log_k_is_reached_early(self):
        # K = 2 samples that disagree on every point (each in its own way):
        # the first pick holds log 2
        hot = np.where(np.eye(3, dtype=bool), 0.0, -np.inf)
        log_probs = np.stack([hot[[a, b]] for a, b in [(0, 1), (0, 2), (1, 2), (2, 1)]])
        raised = r"log K .*raise the number"
        with pytest.warns(SaturationWarning, match=raised) as caught:
            batchbald(log_probs, 3)
        assert len(caught) == 1
        assert issubclass(SaturationWarning, UserWarning)

    def test_no_warning_below_log_k(self, log_probs):
        with warnings.catch_warnings():
            warnings.simplefilter("error", SaturationWarning)
            _, scores = batchbald(log_probs, 3)
        assert scores[-1] < 0.99 * np.log(log_probs.shape[1])

    def test_no_warning_when_the_last_pick_saturates(self):
        log_probs = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]] * 4)
        with warnings.catch_warnings():
            warnings.simplefilter("error", SaturationWarning)
            _, scores = batchbald(log_probs, 1)
        assert scores[0] == pytest.approx(np.log(2))


def _two_alike_members():
    """One-hot predictions (trees with pure leaves) of K = 4 members; members 0
    and 1 agree on every point, so no label tells them apart."""
    members = np.array(
        [
            [0, 0, 0, 0],  # 0: all agree, BALD 0
            [0, 0, 0, 0],  # 1: all agree, BALD 0
            [0, 0, 1, 1],  # 2: BALD log 2
            [0, 0, 0, 1],  # 3
            [0, 0, 1, 0],  # 4
            [1, 1, 0, 0],  # 5: the same split as point 2
        ]
    )
    return np.where(np.eye(2, dtype=bool)[members], 0.0, -np.inf)


class TestNoGainLeft:
    def test_the_rest_follows_bald_order_with_a_warning(self):
        log_probs = _two_alike_members()
        with pytest.warns(SaturationWarning, match="stopped growing at 1.04 nats"):
            indices, scores = batchbald(log_probs, 4)
        # points 2 and 3 tell the three groups apart: H(1/2, 1/4, 1/4) nats
        groups = -(0.5 * np.log(0.5) + 2 * 0.25 * np.log(0.25))
        np.testing.assert_allclose(scores, [np.log(2), groups, groups, groups])
        # brute force: every point left adds exactly nothing to {2, 3} ...
        probs = np.exp(log_probs)
        for x in (0, 1, 4, 5):
            gain = joint_mutual_information(probs, [2, 3, x]) - groups
            assert abs(gain) < 1e-12
        # ... so the rest goes by BALD (5, then 4), not to the lowest indices 0, 1
        assert indices.tolist() == [2, 3, 5, 4]

    def test_a_memmap_pool_stops_alike(self, tmp_path):
        log_probs = _two_alike_members()
        np.save(tmp_path / "pool.npy", log_probs)
        with pytest.warns(SaturationWarning, match="stopped growing"):
            indices, scores = batchbald(
                np.load(tmp_path / "pool.npy", mmap_mode="r"), 4
            )
        assert indices.tolist() == [2, 3, 5, 4]
        assert scores[-1] == pytest.approx(scores[1])

    def test_no_gain_at_a_sampled_step_completes_in_bald_order(self, tmp_path):
        # 128 groups of 2 samples, one-hot on 60 points: the batch can hold
        # log 128 nats, under 0.99 log K (K = 256); with 256 joint samples the
        # steps after the eighth are sampled, and the groups are told apart
        # by pick 10. Before, picks 11-16 were ties at 0 decided by float32
        # round-off, without a warning.
        bits = np.random.default_rng(0).integers(0, 2, size=(60, 128))
        members = np.repeat(bits, 2, axis=1)
        log_probs = np.where(np.eye(2, dtype=bool)[members], 0.0, -np.inf)
        with pytest.warns(SaturationWarning, match="after pick 10 of 16") as record:
            indices, scores = batchbald(log_probs, 16, n_joint_samples=256)
        assert record[0].filename == __file__
        assert scores[-1] == pytest.approx(np.log(128))
        np.testing.assert_array_equal(scores[10:], scores[9])
        order = bald(log_probs, 60)[0]
        rest = order[~np.isin(order, indices[:10])][:6]
        np.testing.assert_array_equal(indices[10:], rest)
        np.save(tmp_path / "pool.npy", log_probs)
        with pytest.warns(SaturationWarning, match="after pick 10 of 16"):
            chunked, _ = batchbald(
                np.load(tmp_path / "pool.npy", mmap_mode="r"), 16, n_joint_samples=256
            )
        np.testing.assert_array_equal(chunked, indices)

    def test_exact_copies_of_a_pick_leave_the_candidates(self, tmp_path):
        # soft samples (an MC dropout head): a copy's label counts as a new
        # noisy draw and gains, but a person gives one answer per input
        rng = np.random.default_rng(1)
        logits = rng.normal(size=(30, 8, 4)) * 0.7
        unique = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        pool = np.repeat(unique, 3, axis=0)  # rows 3i, 3i+1, 3i+2 alike
        with warnings.catch_warnings():
            warnings.simplefilter("error", SaturationWarning)
            indices, scores = batchbald(pool, 8, random_state=0)
            expected, expected_scores = batchbald(unique, 8, random_state=0)
        # the batch of the pool without copies, each at its first row
        np.testing.assert_array_equal(indices, 3 * expected)
        np.testing.assert_allclose(scores, expected_scores, rtol=1e-9)
        np.save(tmp_path / "pool.npy", pool)
        chunked, _ = batchbald(
            np.load(tmp_path / "pool.npy", mmap_mode="r"), 8, random_state=0
        )
        np.testing.assert_array_equal(chunked, indices)
        # only copies left: the rest repeat inputs, with a warning
        with pytest.warns(SaturationWarning, match="only copies") as record:
            few, _ = batchbald(pool[:9], 5)
        assert record[0].filename == __file__
        assert len(set((few[:3] // 3).tolist())) == 3
        assert len(set(few.tolist())) == 5  # distinct rows, copies of the three

    def test_copies_of_a_pick_go_last_however_many(self):
        # five copies of the pick share its BALD score, the top of the order:
        # the fill looks past them to the points that are not copies
        split = np.where(np.eye(2, dtype=bool)[[0, 0, 1, 1]], 0.0, -np.inf)
        certain = [np.log([[p, 1 - p]] * 4) for p in (0.2, 0.3, 0.4, 0.5)]
        log_probs = np.stack([split] * 6 + certain)
        with pytest.warns(SaturationWarning, match="stopped growing"):
            indices, _ = batchbald(log_probs, 3)
        assert indices.tolist() == [0, 6, 7]
        with pytest.warns(SaturationWarning):
            indices, _ = batchbald(log_probs, 6)
        assert indices.tolist() == [0, 6, 7, 8, 9, 1]  # copies only when needed

    def test_identical_samples_everywhere(self, make_log_probs):
        log_probs = np.repeat(make_log_probs(9, 1, 3), 5, axis=1)
        with pytest.warns(SaturationWarning, match="no pool point carries"):
            indices, scores = batchbald(log_probs, 3)
        # every score is exactly 0, so the picks are the lowest indices
        assert indices.tolist() == [0, 1, 2] and np.all(scores == 0.0)

    def test_log_k_reached_is_the_warning_given(self):
        # K = 2 samples that disagree on every point, each point in its own
        # way: the gain after log 2 is 0 too
        hot = np.where(np.eye(3, dtype=bool), 0.0, -np.inf)
        log_probs = np.stack([hot[[a, b]] for a, b in [(0, 1), (0, 2), (1, 2), (1, 0)]])
        with pytest.warns(SaturationWarning, match="within 1% of log K") as caught:
            indices, _ = batchbald(log_probs, 3)
        assert len(caught) == 1 and indices.tolist() == [0, 1, 2]

    def test_only_copies_left_is_told_before_log_k(self):
        # one input four times: after its first pick the rest repeat it, which
        # is what the user must hear, not that the score reached log K
        log_probs = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]] * 4)
        with pytest.warns(SaturationWarning, match="only copies") as caught:
            indices, _ = batchbald(log_probs, 3)
        assert len(caught) == 1 and indices.tolist() == [0, 1, 2]

    def test_log_k_reached_before_only_copies_gives_both(self):
        # two points that nearly tell the K = 2 samples apart, then only
        # their copies: the second pick's tiny gain came after log K was
        # reached, the third repeats an input
        first = np.log([[0.9999, 0.0001], [0.0001, 0.9999]])
        second = np.log([[0.9998, 0.0002], [0.0002, 0.9998]])
        log_probs = np.stack([first, second, first, second])
        with pytest.warns(SaturationWarning) as caught:
            indices, _ = batchbald(log_probs, 3)
        messages = sorted(str(w.message)[:40] for w in caught)
        assert len(caught) == 2, messages
        assert any("only copies" in str(w.message) for w in caught)
        assert any("log K" in str(w.message) for w in caught)
        assert indices[:2].tolist() == [0, 1]


class TestBadInput:
    @pytest.fixture
    def good(self, make_log_probs):
        return make_log_probs(6, 4, 3, seed=0)

    @pytest.mark.parametrize(
        ("mutate", "match"),
        [
            (lambda a: np.where(np.arange(3) == 1, np.nan, a), "NaN"),
            (lambda a: np.where(np.arange(3) == 1, np.inf, a), r"\+inf"),
            (lambda a: a[0], "3-d"),
            (lambda a: a[None], "3-d"),
            (np.exp, "probabilities"),
            (lambda a: 2.0 * a + 1.0, "log_softmax"),
            (lambda a: np.zeros((*a.shape[:2], 1)), "at least 2 classes"),
            (lambda a: a[:0], "empty pool"),
        ],
    )
    def test_bad_log_probs(self, good, mutate, match):
        with pytest.raises(ValueError, match=match):
            batchbald(mutate(good), 2)

    @pytest.mark.parametrize("n_instances", [0, -1, 7])
    def test_n_instances_out_of_range(self, good, n_instances):
        with pytest.raises(ValueError, match="n_instances"):
            batchbald(good, n_instances)

    @pytest.mark.parametrize("n_instances", [2.0, True, "2", None])
    def test_n_instances_of_a_wrong_type(self, good, n_instances):
        with pytest.raises(TypeError, match="n_instances"):
            batchbald(good, n_instances)

    @pytest.mark.parametrize("n_joint_samples", [3, 0, -5])
    def test_n_joint_samples_below_k(self, good, n_joint_samples):
        with pytest.raises(ValueError, match="n_joint_samples must be an int >= 4"):
            batchbald(good, 2, n_joint_samples=n_joint_samples)

    @pytest.mark.parametrize("n_joint_samples", [10.0, False, "100"])
    def test_n_joint_samples_of_a_wrong_type(self, good, n_joint_samples):
        with pytest.raises(TypeError, match="n_joint_samples"):
            batchbald(good, 2, n_joint_samples=n_joint_samples)

    def test_n_joint_samples_equal_to_k_is_fine(self, good):
        indices, _ = batchbald(good, 3, n_joint_samples=4, random_state=0)
        assert len(set(indices.tolist())) == 3

    @pytest.mark.parametrize(
        ("max_memory", "error"),
        [(0, ValueError), (-1, ValueError), ("lots", ValueError),
         (1.5e9, TypeError), (True, TypeError)],
    )  # fmt: skip
    def test_bad_max_memory(self, good, max_memory, error):
        with pytest.raises(error, match="max_memory"):
            batchbald(good, 2, max_memory=max_memory)

    def test_max_memory_below_the_joint_table(self, good):
        with pytest.raises(ValueError, match=r"max_memory=1000 .*n_joint_samples"):
            batchbald(good, 2, max_memory=1000)

    @pytest.mark.parametrize(
        ("random_state", "error"),
        [(-1, ValueError), (1.5, TypeError), ("seed", TypeError)],
    )
    def test_bad_random_state(self, good, random_state, error):
        with pytest.raises(error, match="random_state"):
            batchbald(good, 2, random_state=random_state)


def test_the_saturation_warning_offers_greedy_steps_only_where_not_taken():
    hot = np.where(np.eye(3, dtype=bool), 0.0, -np.inf)
    pairs = [(0, 1), (0, 2), (1, 2), (2, 1), (1, 0), (2, 0)]
    log_probs = np.stack([hot[[a, b]] for a, b in pairs])
    offered = {}
    for mode in ("bald", "greedy"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SaturationWarning)
            batchbald(log_probs, 5, on_saturation=mode)
        messages = [str(w.message) for w in caught if w.category is SaturationWarning]
        offered[mode] = any("on_saturation='greedy'" in m for m in messages)
    assert offered == {"bald": True, "greedy": False}
