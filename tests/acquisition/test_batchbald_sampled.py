"""BatchBALD internals: the sampled estimator, merged rows, bounds and skipping."""

import warnings

import numpy as np
import pytest

from skbatchbald.acquisition import SaturationWarning, batchbald
from skbatchbald.acquisition import _batchbald as module
from skbatchbald.acquisition._batchbald_kernel import (
    CandidateScorer,
    float32_error_bound,
)
from skbatchbald.acquisition._greedy_steps import observe
from skbatchbald.acquisition._joint_configurations import (
    _unique_rows,
    extend_exact,
    grouped_rows,
    rows_from_table,
    sample_table,
)

from ._brute_force import joint_entropy, joint_mutual_information

N_SEEDS = 200


def _within_three_standard_errors(estimates, exact):
    estimates = np.asarray(estimates)
    standard_error = estimates.std(ddof=1) / np.sqrt(estimates.size)
    assert standard_error > 0  # the estimate really is random
    assert abs(estimates.mean() - exact) <= 3 * standard_error, (
        estimates.mean(),
        exact,
        standard_error,
    )


@pytest.fixture
def small(make_log_probs):
    """4 points, K=5, C=3: every joint entropy is cheap to enumerate."""
    return make_log_probs(4, 5, 3, seed=8, scale=1.5)


class TestSampledEstimator:
    def test_joint_entropy_estimate_is_unbiased(self, small):
        chosen = small[:3]
        exact = joint_entropy(np.exp(small), [0, 1, 2])
        estimates = [
            rows_from_table(
                *sample_table(chosen, 20, np.random.default_rng(seed))
            ).joint_entropy
            for seed in range(N_SEEDS)
        ]
        _within_three_standard_errors(estimates, exact)

    @pytest.mark.parametrize("candidate", [3, 2])
    def test_joint_entropy_with_a_candidate_is_unbiased(self, small, candidate):
        # H(y_S, y_x) = H(y_S) + Σ_j w_j H(u_j(x)), both parts from one sample
        scorer = CandidateScorer(small, 2**26)
        exact = joint_entropy(np.exp(small), [0, 1, candidate])
        estimates = []
        for seed in range(N_SEEDS):
            rows = rows_from_table(
                *sample_table(small[:2], 10, np.random.default_rng(seed))
            )
            extra = scorer.expected_entropy64(
                rows.posterior, rows.weights, np.array([candidate])
            )
            estimates.append(rows.joint_entropy + extra[0])
        _within_three_standard_errors(estimates, exact)

    def test_batch_score_is_unbiased_through_the_public_function(self, small):
        # the whole pool is the batch, so every run scores the same set; with
        # n_joint_samples = K the joint is sampled from the third pick on
        exact = joint_mutual_information(np.exp(small), [0, 1, 2, 3])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SaturationWarning)
            estimates = [
                batchbald(small, 4, n_joint_samples=5, random_state=seed)[1][-1]
                for seed in range(N_SEEDS)
            ]
        _within_three_standard_errors(estimates, exact)

    def test_batch_score_never_falls_in_the_sampled_phase(self, make_log_probs):
        # Each sampled step adds an estimate of I(y_x; ω | y_S) that pairs every
        # drawn configuration with its own posterior: a sum of mutual
        # informations, so the batch's score cannot fall. An exact H(y_S)
        # minus a resampled one made it fall by more than the gains.
        log_probs = make_log_probs(40, 8, 4, seed=3, scale=0.7)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SaturationWarning)
            for seed in range(20):
                _, scores = batchbald(
                    log_probs, 12, n_joint_samples=16, random_state=seed
                )
                assert np.all(np.diff(scores) >= 0), (seed, np.diff(scores).min())

    def test_each_sampled_gain_follows_enumeration(self, make_log_probs):
        # with many draws, every cumulative score of the picks is close to the
        # enumerated joint information of those picks (K^... configurations)
        log_probs = make_log_probs(9, 6, 3, seed=5, scale=1.0)
        picks, scores = batchbald(log_probs, 5, n_joint_samples=60_000, random_state=0)
        exact = [
            joint_mutual_information(np.exp(log_probs), picks[: i + 1])
            for i in range(picks.size)
        ]
        np.testing.assert_allclose(scores, exact, rtol=0.01)


class TestRows:
    def test_merged_sample_weights(self, make_log_probs):
        log_probs = make_log_probs(3, 7, 2, seed=1, scale=1.0)
        table, weights = sample_table(log_probs, 100, np.random.default_rng(0))
        n_draws = (100 // 7) * 7
        assert table.shape[0] == weights.shape[0] <= 2**3
        assert weights.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(weights * n_draws, np.round(weights * n_draws))
        assert len({tuple(row) for row in table.round(12)}) == table.shape[0]

    @pytest.mark.parametrize("dtype", [np.uint8, np.int32])
    @pytest.mark.parametrize("n_cols", [1, 3, 8, 9, 40])
    def test_unique_rows_match_numpy(self, dtype, n_cols):
        rng = np.random.default_rng(n_cols)
        labels = rng.integers(0, 3, (500, n_cols)).astype(dtype)
        labels[rng.random(labels.shape) < 0.8] = 0  # many repeats
        distinct, counts = _unique_rows(labels)
        expected, expected_counts = np.unique(labels, axis=0, return_counts=True)
        got = sorted(zip(map(tuple, distinct.tolist()), counts.tolist(), strict=True))
        want = sorted(
            zip(map(tuple, expected.tolist()), expected_counts.tolist(), strict=True)
        )
        assert got == want
        assert distinct.dtype == dtype

    def test_draws_never_hit_impossible_labels(self, log_probs_with_zeros):
        table, _ = sample_table(log_probs_with_zeros[:4], 600, np.random.default_rng(0))
        rows = rows_from_table(table, np.full(table.shape[0], 1 / table.shape[0]))
        # each drawn configuration is possible under the sample it came from
        assert np.isfinite(table.max(axis=1)).all()
        assert np.isfinite(rows.joint_entropy)

    def test_exact_rows_match_enumeration(self, small):
        table = np.zeros((1, small.shape[1]))
        for point in range(3):
            table = extend_exact(table, small[point])
        rows = rows_from_table(table)
        assert rows.exact and table.shape[0] == 27
        assert rows.joint_entropy == pytest.approx(
            joint_entropy(np.exp(small), [0, 1, 2]), abs=1e-12
        )
        np.testing.assert_allclose(rows.posterior.sum(axis=1), 1.0)

    def test_impossible_exact_configurations_are_dropped(self):
        certain = np.array([[0.0, -np.inf, -np.inf]] * 2)  # (K=2, C=3)
        table = extend_exact(np.zeros((1, 2)), certain)
        assert table.shape[0] == 1


class TestKernel:
    @pytest.mark.parametrize(("n_mc_samples", "n_classes"), [(4, 2), (20, 10), (9, 47)])
    def test_float32_kernel_within_its_error_bound(
        self, make_log_probs, n_mc_samples, n_classes
    ):
        log_probs = make_log_probs(300, n_mc_samples, n_classes, seed=2, scale=2.0)
        scorer = CandidateScorer(log_probs, 2**28)
        rng = np.random.default_rng(0)
        posterior = rng.dirichlet(np.full(n_mc_samples, 0.3), size=700)
        weights = rng.dirichlet(np.ones(700))
        everyone = np.zeros(300)
        zero = np.zeros(300)
        fast, n_scored = scorer.best_gains32(posterior, weights, zero, everyone, np.inf)
        exact = scorer.expected_entropy64(posterior, weights, np.arange(300))
        assert n_scored == 300
        error = np.abs(fast - exact).max()
        assert error <= float32_error_bound(n_mc_samples, n_classes)
        assert error > 0  # really float32

    def test_grouped_rows_bound_every_gain(self, make_log_probs):
        log_probs = make_log_probs(200, 6, 4, seed=3)
        scorer = CandidateScorer(log_probs, 2**26)
        rows = rows_from_table(
            *sample_table(log_probs[:5], 600, np.random.default_rng(1))
        )
        group_posterior, group_weights = grouped_rows(rows)
        assert group_weights.shape[0] <= 6
        assert group_weights.sum() == pytest.approx(1.0)
        candidates = np.arange(200)
        gains = scorer.expected_entropy64(rows.posterior, rows.weights, candidates)
        bounds = scorer.expected_entropy64(group_posterior, group_weights, candidates)
        assert (bounds >= gains - 1e-12).all()
        assert (bounds - gains).max() > 1e-3  # a bound, not the same number


class TestSkipping:
    @pytest.mark.parametrize("n_joint_samples", [1_000, 60])
    def test_skipping_candidates_never_changes_the_picks(
        self, make_log_probs, monkeypatch, n_joint_samples
    ):
        log_probs = make_log_probs(3000, 10, 4, seed=9, scale=1.0)
        with observe() as steps:
            fast = module._greedy(
                log_probs, 8, n_joint_samples, 2**28, np.random.default_rng(4)
            )
        scored = [step["scored"] for step in steps]
        assert len(scored) == 8
        # at least one step scored only a fraction of the pool
        assert min(scored) < 3000 // 2

        scored_everyone = []

        def score_everyone(scorer, rows, conditional, cheap, slack, stale=None):
            # every available candidate (cheap is -inf for picked points only)
            everyone = np.where(cheap > -np.inf, 0.0, -np.inf)
            gains, n_scored = scorer.best_gains32(
                rows.posterior, rows.weights, conditional, everyone, np.inf
            )
            scored_everyone.append(n_scored)
            return gains, n_scored, gains

        monkeypatch.setattr(module, "_gains", score_everyone)
        full = module._greedy(
            log_probs, 8, n_joint_samples, 2**28, np.random.default_rng(4)
        )
        assert max(scored_everyone) == 3000
        np.testing.assert_array_equal(fast[0], full[0])
        np.testing.assert_allclose(fast[1], full[1], rtol=0, atol=1e-12)
