"""Multi-label BALD and BatchBALD against enumeration of every label configuration."""

from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skbatchbald.acquisition import (
    SaturationWarning,
    batchbald,
    label_mutual_information,
    multilabel_bald,
    multilabel_batchbald,
)

from ._brute_force import joint_mutual_information

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _label_probs(rng, n_pool, n_mc_samples, n_labels, *, certain=False):
    """p(y_l = 1 | x_n, ω_k), some exactly 0 or 1 when ``certain``."""
    p = rng.beta(0.5, 0.5, size=(n_pool, n_mc_samples, n_labels))
    if certain:
        mask = rng.random(p.shape) < 0.2
        p[mask] = rng.integers(0, 2, size=mask.sum())
    return p


def _log(p):
    with np.errstate(divide="ignore"):
        return np.log(p)


def _binary(p):
    """Every (point, label) as a binary point of its own: (N, L, K, 2) probs."""
    return np.stack([1 - p, p], axis=-1).transpose(0, 2, 1, 3)


def per_label_objective(p, points):
    """Σ_l I(y_{points, l}; ω), each label's joint by enumeration (2^b rows)."""
    binary = _binary(p)
    return sum(
        joint_mutual_information(binary[:, label], points)
        for label in range(p.shape[2])
    )


def full_joint_objective(p, points):
    """I(y_{points, 1..L}; ω): one joint over all b x L labels (2^(b L) rows)."""
    n_pool, n_mc_samples, n_labels = p.shape
    virtual = _binary(p).reshape(n_pool * n_labels, n_mc_samples, 2)
    cells = [n * n_labels + label for n in points for label in range(n_labels)]
    return joint_mutual_information(virtual, cells)


def brute_force_greedy(p, n_instances):
    """Greedy on the per-label objective, each value by enumeration."""
    chosen, scores, gaps = [], [], []
    for _ in range(n_instances):
        candidates = [x for x in range(p.shape[0]) if x not in chosen]
        values = np.array([per_label_objective(p, [*chosen, x]) for x in candidates])
        order = np.argsort(-values, kind="stable")
        gaps.append(values[order[0]] - values[order[1]] if len(order) > 1 else 1.0)
        chosen.append(candidates[order[0]])
        scores.append(values[order[0]])
    return chosen, scores, gaps


@st.composite
def pools(draw, max_pool=7):
    n_pool = draw(st.integers(2, max_pool))
    shape = (n_pool, draw(st.integers(2, 5)), draw(st.integers(1, 3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    p = _label_probs(rng, *shape, certain=draw(st.booleans()))
    return p, draw(st.integers(1, min(n_pool, 4)))


class TestLabelMutualInformation:
    def test_each_label_is_its_binary_bald(self):
        p = _label_probs(np.random.default_rng(0), 6, 5, 3, certain=True)
        mi = label_mutual_information(_log(p))
        binary = _binary(p)
        for n in range(6):
            for label in range(3):
                expected = joint_mutual_information(binary[:, label], [n])
                assert mi[n, label] == pytest.approx(expected, abs=1e-12)

    def test_closed_form_of_two_samples(self):
        # p = 0 under one sample and 1 under the other: I = H(1/2) - 0 = log 2
        mi = label_mutual_information(np.log([[[1e-300, 0.5], [1.0, 0.5]]]))
        np.testing.assert_allclose(mi, [[np.log(2), 0.0]], atol=1e-12)

    def test_float32_input_rounded_above_zero_reads_as_log_one(self):
        log_probs = np.full((2, 3, 2), 1e-7, dtype=np.float32)
        np.testing.assert_array_equal(label_mutual_information(log_probs), 0.0)


class TestMultilabelBald:
    def test_scores_are_the_summed_label_scores(self):
        p = _label_probs(np.random.default_rng(1), 30, 6, 4)
        indices, scores = multilabel_bald(_log(p), 5)
        total = label_mutual_information(_log(p)).sum(axis=1)
        np.testing.assert_array_equal(indices, np.argsort(-total, kind="stable")[:5])
        np.testing.assert_allclose(scores, total[indices])

    @SETTINGS
    @given(pools())
    def test_sum_bounds_the_joint_mutual_information_of_all_labels(self, pool):
        # Σ_l I(y_l; ω) - I(y_1..L; ω) is a total correlation: >= 0, not <= 0
        p, _ = pool
        summed = label_mutual_information(_log(p)).sum(axis=1)
        for n in range(p.shape[0]):
            assert full_joint_objective(p, [n]) <= summed[n] + 1e-12

    def test_sum_is_strictly_above_for_correlated_labels(self):
        # two copies of a label that tells K = 2 samples apart: the joint has
        # H(ω) = log 2 to give, the sum counts it twice
        p = np.array([[[0.0], [1.0]]]).repeat(2, axis=2)
        summed = label_mutual_information(_log(p)).sum()
        assert summed == pytest.approx(2 * np.log(2))
        assert full_joint_objective(p, [0]) == pytest.approx(np.log(2))
        # noisy copies: still strictly above
        p = np.array([[[0.05], [0.95]]]).repeat(2, axis=2)
        summed = label_mutual_information(np.log(p)).sum()
        assert full_joint_objective(p, [0]) < summed - 0.1

    def test_sum_equals_the_joint_for_labels_independent_under_the_posterior(self):
        # ω = (ω_1, ω_2) on a grid: each label depends on its own half only,
        # so the labels are independent under the posterior predictive too
        rng = np.random.default_rng(2)
        first, second = rng.random((3, 3)), rng.random((3, 4))  # (N, K_l)
        grid = np.stack(
            [first.repeat(4, axis=1), np.tile(second, (1, 3))], axis=-1
        )  # (N, 12, 2)
        summed = label_mutual_information(np.log(grid)).sum(axis=1)
        for n in range(3):
            assert summed[n] == pytest.approx(
                full_joint_objective(grid, [n]), abs=1e-12
            )


class TestMultilabelBatchBALD:
    # a pool may hold no more information than a few picks: filled, warned
    @pytest.mark.filterwarnings("ignore::skbatchbald.acquisition.SaturationWarning")
    @SETTINGS
    @given(pools())
    def test_exact_greedy_is_the_brute_force_greedy(self, pool):
        p, n_instances = pool
        indices, scores = multilabel_batchbald(_log(p), n_instances)
        chosen, expected, gaps = brute_force_greedy(p, n_instances)
        np.testing.assert_allclose(scores, expected, atol=1e-9)
        for step, gap in enumerate(gaps):
            if gap > 1e-9:  # a near-tie may go either way within rounding
                assert indices[step] == chosen[step]
            else:
                break

    # a pool may hold no more information than a few picks: filled, warned
    @pytest.mark.filterwarnings("ignore::skbatchbald.acquisition.SaturationWarning")
    @SETTINGS
    @given(pools(max_pool=10))
    def test_exact_phase_properties(self, pool):
        p, n_instances = pool
        _, n_mc_samples, n_labels = p.shape
        indices, scores = multilabel_batchbald(_log(p), n_instances)
        assert len(set(indices.tolist())) == n_instances
        # first pick = multi-label BALD's top pick, with its score
        bald = label_mutual_information(_log(p)).sum(axis=1)
        assert bald[indices[0]] >= bald.max() - 1e-9
        assert scores[0] == pytest.approx(bald[indices[0]], abs=1e-9)
        # a sum of submodular functions: gains >= 0 and never increase
        gains = np.diff(np.concatenate([[0.0], scores]))
        assert (gains >= -1e-12).all()
        assert (np.diff(gains) <= 1e-9).all()
        # per label, I <= min(H(y_B), H(ω)) <= min(b log 2, log K)
        bound = n_labels * np.minimum(
            np.arange(1, n_instances + 1) * np.log(2), np.log(n_mc_samples)
        )
        assert (scores <= bound + 1e-9).all()

    @SETTINGS
    @given(pools(max_pool=5))
    def test_objective_bounds_the_joint_of_all_labels(self, pool):
        p, n_instances = pool
        indices, scores = multilabel_batchbald(_log(p), n_instances)
        for i in range(n_instances):
            full = full_joint_objective(p, indices[: i + 1].tolist())
            assert full <= scores[i] + 1e-9

    def test_one_label_is_batchbald_on_its_binary_output(self):
        p = _label_probs(np.random.default_rng(3), 40, 8, 1)
        binary = np.log(np.concatenate([1 - p, p], axis=2))  # (N, K, 2)
        ours = multilabel_batchbald(np.log(p), 6)
        theirs = batchbald(binary, 6)
        np.testing.assert_array_equal(ours[0], theirs[0])
        np.testing.assert_allclose(ours[1], theirs[1], atol=1e-5)

    def test_sampled_phase_estimates_the_exact_objective(self):
        p = _label_probs(np.random.default_rng(4), 30, 8, 2)
        errors = []
        for seed in range(8):
            indices, scores = multilabel_batchbald(
                np.log(p), 12, n_joint_samples=1_000, random_state=seed
            )
            # 2^10 > 1000: the last two picks are scored from drawn configurations
            exact = per_label_objective(p, indices.tolist())
            errors.append(scores[-1] / exact - 1)
        # noisy (and biased up by the greedy's choice among noisy gains), but close
        assert np.max(np.abs(errors)) < 0.06
        assert abs(np.mean(errors)) < 0.03

    def test_seeded_and_independent_of_memory_budget(self):
        p = _label_probs(np.random.default_rng(5), 50, 6, 3)
        args = (np.log(p), 8)
        first = multilabel_batchbald(*args, n_joint_samples=16, random_state=1)
        again = multilabel_batchbald(
            *args, n_joint_samples=16, random_state=1, max_memory=10_000
        )
        np.testing.assert_array_equal(first[0], again[0])
        np.testing.assert_allclose(first[1], again[1], rtol=1e-12)

    def test_a_copy_adds_nothing_once_its_labels_are_known(self):
        # K = 2 samples that a point's labels tell apart exactly
        p = np.array([[[0.0, 1.0], [1.0, 0.0]]] * 2 + [[[0.3, 0.6], [0.4, 0.5]]])
        # point 0 tells the two samples apart: no point adds anything after it,
        # and the rest of the batch skips the copy of a pick
        # (each label's log K = log 2 reached: the ceiling, named as such)
        with pytest.warns(
            SaturationWarning, match=r"reached 1.386 nats.*L log K = 1.386 \(L=2"
        ):
            indices, scores = multilabel_batchbald(_log(p), 2)
        assert indices.tolist() == [0, 2]
        assert scores[0] == pytest.approx(2 * np.log(2)) == scores[1]

    def test_a_stop_below_the_ceiling_names_the_alike_samples(self):
        # K = 4 samples in two pairs that predict alike: a label tells at most
        # log 2 about them, below log K = log 4
        pair = [[0.0], [0.0], [1.0], [1.0]]
        p = np.array([pair, pair, [[0.5]] * 4])
        with pytest.warns(SaturationWarning, match=r"stopped growing at 0.6931"):
            indices, scores = multilabel_batchbald(_log(p), 2)
        assert indices.tolist() == [0, 2] and scores[0] == pytest.approx(np.log(2))

    def test_exact_copies_of_a_pick_leave_the_candidates(self):
        # soft samples: a copy of a pick still gains (its labels are counted
        # as new draws), but a person labels an input once
        rng = np.random.default_rng(8)
        p = 0.5 + 0.1 * (rng.random((12, 6, 2)) - 0.5)  # points that tell little
        p[5] = np.array([0.2, 0.8] * 3)[:, None]  # one noisy, informative point
        top = int(np.argmax(label_mutual_information(_log(p)).sum(axis=1)))
        assert top == 5
        pool = np.concatenate([p, p[[top, top]]])  # two copies at 12 and 13
        chosen, _, _ = brute_force_greedy(pool, 4)
        assert {12, 13} & set(chosen[1:])  # the plain greedy asks for a copy
        indices, scores = multilabel_batchbald(_log(pool), 4)
        assert indices[0] == top
        assert not {12, 13} & set(indices.tolist())
        # the picks are the greedy's over the pool without the copies
        expected, values, _ = brute_force_greedy(p, 4)
        assert indices.tolist() == expected
        np.testing.assert_allclose(scores, values, atol=1e-9)

    def test_only_copies_left_fills_with_them_and_warns(self):
        p = _label_probs(np.random.default_rng(9), 2, 6, 2)
        pool = p[[0, 1, 0, 1]]
        with pytest.warns(SaturationWarning, match="only copies of the batch"):
            indices, scores = multilabel_batchbald(_log(pool), 3)
        assert sorted(indices[:2].tolist()) == [0, 1]
        assert indices[2] in (2, 3)
        assert scores[2] == scores[1]

    def test_the_rest_follows_bald_order_once_no_gain_is_left(self):
        # K = 4 one-hot members, 0 and 1 alike on every point; two labels
        members = np.array(
            [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 1, 0]]
        )
        p = np.stack([members, members], axis=-1).astype(float)
        with pytest.warns(SaturationWarning, match="stopped growing"):
            indices, scores = multilabel_batchbald(_log(p), 4)
        # after points 2 and 3 nothing is left to learn: point 4 (BALD > 0)
        # before the lowest index 0 (BALD 0)
        assert indices.tolist() == [2, 3, 4, 0]
        assert scores[1] == scores[3] > scores[0]


class TestBadInput:
    @pytest.mark.parametrize(
        ("values", "match"),
        [
            (np.full((3, 2, 2), 0.4), r"\[0, 1\]: probabilities\? pass np.log"),
            (np.full((3, 2, 2), 2.5), "logits"),
            (np.full((3, 2, 2), np.nan), "NaN"),
            (np.array([[[np.inf, 3.0]], [[np.nan, 0.0]]]), "NaN"),  # NaN first
            (np.full((3, 2, 2), np.inf), r"\+inf"),
            (np.zeros((3, 2)), r"shape \(n_pool, n_mc_samples, n_labels\)"),
            (np.zeros((3, 2, 0)), "got shape"),
        ],
    )
    @pytest.mark.parametrize("function", [multilabel_bald, multilabel_batchbald])
    def test_refused_with_the_fix(self, function, values, match):
        with pytest.raises(ValueError, match=match):
            function(values, 1)

    def test_n_instances_and_n_joint_samples(self):
        log_probs = np.log(np.full((3, 2, 2), 0.5))
        with pytest.raises(ValueError, match="n_instances"):
            multilabel_batchbald(log_probs, 4)
        with pytest.raises(ValueError, match="n_joint_samples"):
            multilabel_batchbald(log_probs, 1, n_joint_samples=1)
        with pytest.raises(TypeError, match="n_instances"):
            multilabel_bald(log_probs, 1.0)


class TestBinaryOutputs:
    def test_log_of_one_minus_p_keeps_its_precision_near_one(self):
        from skbatchbald.acquisition._multilabel_inputs import binary_log_probs

        finite = [-1e-12, -1e-5, -0.5, -np.log(2), -3.0, -50.0]
        log_p = np.array([*finite, 0.0, -np.inf])
        log_zero, log_one = np.moveaxis(binary_log_probs(log_p), -1, 0)
        with localcontext() as context:
            context.prec = 60  # log(1 - exp(a)) in 60 digits: the reference
            expected = [float((1 - Decimal(a).exp()).ln()) for a in finite]
        np.testing.assert_allclose(log_zero[:-2], expected, rtol=1e-12)
        assert log_zero[-2] == -np.inf and log_zero[-1] == 0.0
        np.testing.assert_array_equal(log_one, log_p)

    def test_rounding_above_zero_and_the_callers_array(self):
        # float64 at most 0 is used without a copy; within rounding above 0,
        # a rounded copy: both must leave the caller's array as it was and
        # score as the log-probabilities rounded to 0 by hand
        p = _label_probs(np.random.default_rng(7), 30, 5, 3, certain=True)
        with np.errstate(divide="ignore"):
            log_probs = np.log(p)
        above = log_probs.copy()
        above[log_probs == 0] = 1e-7
        for passed in (log_probs, above):
            before = passed.copy()
            for function in (multilabel_batchbald, multilabel_bald):
                got = function(passed, 6, random_state=0)
                expected = function(log_probs.copy(), 6, random_state=0)
                np.testing.assert_array_equal(got[0], expected[0])
                np.testing.assert_array_equal(got[1], expected[1])
            np.testing.assert_array_equal(passed, before)

    def test_torch_tensors_are_accepted(self):
        torch = pytest.importorskip("torch")
        p = _label_probs(np.random.default_rng(6), 12, 4, 2)
        expected = multilabel_batchbald(np.log(p), 3)
        got = multilabel_batchbald(torch.log(torch.from_numpy(p)), 3)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_allclose(got[1], expected[1])
