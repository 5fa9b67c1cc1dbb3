"""BALD and BatchBALD for regression against brute force, closed forms and MaxDet."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skbatchbald.acquisition import (
    SaturationWarning,
    TiedScoresWarning,
    bald_regression,
    batchbald_regression,
)


def gaussian_mi(f, noise, batch):
    """The estimator written out: Gaussian entropy of the explicit covariance.

    1/2 log det(Cov_k f_B + diag(mean_k s^2)) - 1/2 Σ_i mean_k log s_ik^2, the
    covariance built as an (N, N) matrix by numpy, the log det by slogdet.
    """
    noise = np.broadcast_to(noise, f.shape)
    cov = np.cov(f, bias=True) + np.diag(noise.mean(axis=1))
    batch = list(batch)
    sign, logdet = np.linalg.slogdet(cov[np.ix_(batch, batch)])
    assert sign > 0
    return 0.5 * logdet - 0.5 * np.log(noise[batch]).mean(axis=1).sum()


def gaussian_mi_small_ratio(f, noise, batch):
    """`gaussian_mi` for one noise variance, precise when Var f / σ² is tiny.

    1/2 Σ log1p(eigenvalues of Cov_k f_B / σ²): slogdet of Cov + σ² I keeps
    nothing of a covariance 1e-18 times σ², this keeps every digit.
    """
    cov = np.atleast_2d(np.cov(f[list(batch)], bias=True)) / noise
    return 0.5 * np.log1p(np.linalg.eigvalsh(cov)).sum()


def brute_force_greedy(f, noise, n_instances, mi=gaussian_mi):
    """Greedy by enumerating every candidate at each step; ties to the lowest index."""
    picked, scores = [], []
    for _ in range(n_instances):
        values = [
            (mi(f, noise, [*picked, c]), -c) for c in range(len(f)) if c not in picked
        ]
        best, neg_c = max(values)
        picked.append(-neg_c)
        scores.append(best)
    return np.array(picked), np.array(scores)


def _pool(n_pool, n_mc_samples, seed):
    rng = np.random.default_rng(seed)
    # correlated samples: a few shared directions, as a model's would be
    basis = rng.standard_normal((n_pool, 3))
    return basis @ rng.standard_normal((3, n_mc_samples)) + 0.3 * rng.standard_normal(
        (n_pool, n_mc_samples)
    )


@pytest.mark.filterwarnings("ignore:with K=.* posterior samples the spread")
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("noise", [0.05, 1.0, "per_point", "per_sample"])
def test_greedy_equals_brute_force(seed, noise):
    f = _pool(12, 6, seed)
    rng = np.random.default_rng(100 + seed)
    if noise == "per_point":
        noise = rng.uniform(0.05, 2.0, size=(12, 1))
    elif noise == "per_sample":
        noise = rng.uniform(0.05, 2.0, size=(12, 6))
    indices, scores = batchbald_regression(f, 6, noise_variance=noise)
    ref_indices, ref_scores = brute_force_greedy(f, noise, 6)
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("scale", [1e6, 1e12, 1e18])
def test_noise_far_above_the_spread_keeps_the_picks_and_scores(seed, scale):
    # 1 + Var/σ² rounds to 1 below Var/σ² ~ 1e-16: carried so, every gain was
    # 0 at σ² 1e18 times the spread, the batch the pool's first rows and a
    # SaturationWarning said the samples predicted alike
    f, noise = _pool(12, 6, seed), 0.05 * scale
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        indices, scores = batchbald_regression(f, 5, noise_variance=noise)
    ref_indices, ref_scores = brute_force_greedy(f, noise, 5, gaussian_mi_small_ratio)
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-9)
    # the same problem scaled to noise 1: f and σ² scaled by c and c² leave the
    # kernel Cov f / σ², hence the picks and scores, as they are
    c = 1 / np.sqrt(noise)
    again, scores_again = batchbald_regression(c * f, 5, noise_variance=1.0)
    np.testing.assert_array_equal(again, indices)
    np.testing.assert_allclose(scores_again, scores, rtol=1e-9)
    top, top_scores = bald_regression(f, 5, noise_variance=noise)
    assert top[0] == indices[0] and top_scores[0] == pytest.approx(scores[0])


def test_bald_regression_does_not_tie_tiny_scores_that_differ():
    # the tie test was absolute: scores below 1e-12 that differ 30-fold were
    # "all the same", and the batch a random draw with a TiedScoresWarning
    f = np.random.default_rng(0).normal(size=(6, 20)) * np.arange(1, 7)[:, None]
    for noise in (1e14, 1e18, 1e250):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            indices, scores = bald_regression(
                f, 3, noise_variance=noise, random_state=0
            )
        np.testing.assert_array_equal(indices, [5, 4, 3])  # the largest spreads
        np.testing.assert_allclose(
            scores, 0.5 * np.log1p(f.var(axis=1)[[5, 4, 3]] / noise), rtol=1e-12
        )


def test_samples_equal_but_for_round_off_carry_no_information():
    # a forest fitted on a constant y: its trees' leaf means of copies of one
    # number differ in the last digits, and that spread, divided by a noise of
    # its size, ranked the pool
    rng = np.random.default_rng(0)
    f = np.repeat(rng.choice([0.1, 3.7, -2.9, 151.3], size=(40, 1)), 8, axis=1)
    f *= 1 + rng.integers(-400, 400, size=f.shape) * np.finfo(float).eps
    assert np.ptp(f, axis=1).min() > 0
    with pytest.warns(TiedScoresWarning):
        _, scores = bald_regression(f, 3, noise_variance=1e-30, random_state=0)
    assert (scores == 0).all()
    with pytest.warns(SaturationWarning, match="no pool point carries information"):
        _, scores = batchbald_regression(f, 3, noise_variance=1e-30)
    assert (scores == 0).all()
    # a spread of 1e-9 of the value is the model's, and is kept
    f[7] = 3.7 * (1 + 1e-9 * np.arange(8))
    indices, scores = bald_regression(f, 1, noise_variance=1e-30)
    assert indices[0] == 7 and scores[0] > 0


@pytest.mark.parametrize("seed", range(4))
def test_greedy_within_one_minus_one_over_e_of_the_best_batch(seed):
    # log det(I + K) is monotone submodular with value 0 at the empty set, so
    # greedy reaches at least (1 - 1/e) of the best batch (Nemhauser et al. 1978).
    f, noise = _pool(10, 5, seed), 0.2
    _, scores = batchbald_regression(f, 3, noise_variance=noise)
    best = max(
        gaussian_mi(f, noise, batch) for batch in itertools.combinations(range(10), 3)
    )
    assert scores[-1] <= best + 1e-12
    assert scores[-1] >= (1 - 1 / np.e) * best


@pytest.mark.filterwarnings("ignore:with K=.* posterior samples the spread")
@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_pool=st.integers(2, 30),
    n_mc_samples=st.integers(2, 12),
    noise=st.floats(1e-3, 1e3),
)
def test_properties(seed, n_pool, n_mc_samples, noise):
    f = _pool(n_pool, n_mc_samples, seed)
    n_instances = min(n_pool, 8)
    indices, scores = batchbald_regression(f, n_instances, noise_variance=noise)
    assert indices.dtype == np.int64 and len(set(indices.tolist())) == n_instances
    gains = np.diff(scores, prepend=0.0)
    assert np.all(gains >= -1e-12)
    # submodular: a gain never exceeds the one before it
    assert np.all(np.diff(gains) <= 1e-9 * (1 + np.abs(gains[:-1])))
    top, top_scores = bald_regression(f, 1, noise_variance=noise)
    assert indices[0] == top[0]
    assert scores[0] == pytest.approx(top_scores[0], rel=1e-12)
    # a shift per point, a common rescale and a reordering of the samples leave
    # the covariance kernel, hence the picks, unchanged
    shifted = 3.0 * f[:, ::-1] + np.arange(n_pool)[:, None]
    again, scores_again = batchbald_regression(
        shifted, n_instances, noise_variance=9.0 * noise
    )
    np.testing.assert_array_equal(again, indices)
    np.testing.assert_allclose(scores_again, scores, rtol=1e-7, atol=1e-10)


def test_bald_regression_closed_form():
    f = _pool(50, 7, 0)
    noise = 0.3
    indices, scores = bald_regression(f, 50, noise_variance=noise)
    expected = 0.5 * np.log(1 + f.var(axis=1) / noise)
    np.testing.assert_allclose(scores, expected[indices])
    assert np.all(np.diff(scores) <= 0)
    for i in range(50):
        assert expected[i] == pytest.approx(gaussian_mi(f, noise, [i]))


def test_bald_regression_heteroscedastic_bonus():
    # equal sample variance; the point whose samples disagree on the noise has
    # the larger score, by 1/2 (log mean s^2 - mean log s^2)
    f = np.array([[0.0, 1.0], [0.0, 1.0]])
    noise = np.array([[1.0, 1.0], [0.5, 1.5]])
    indices, scores = bald_regression(f, 2, noise_variance=noise)
    assert indices.tolist() == [1, 0]
    assert scores[0] - scores[1] == pytest.approx(
        0.5 * (np.log(1.0) - 0.5 * (np.log(0.5) + np.log(1.5)))
    )


def test_stochastic_bald_regression_is_seeded():
    f = _pool(100, 5, 1)
    a = bald_regression(f, 10, noise_variance=1.0, stochastic="power", random_state=3)
    b = bald_regression(f, 10, noise_variance=1.0, stochastic="power", random_state=3)
    top = bald_regression(f, 10, noise_variance=1.0)
    np.testing.assert_array_equal(a[0], b[0])
    assert set(a[0].tolist()) != set(top[0].tolist())


def test_bayesian_linear_regression_closed_form():
    # A Gaussian posterior over weights, w ~ N(m, S): the labels' mutual
    # information with w is exactly 1/2 log det(I + X_B S X_B^T / σ²); the
    # sample-kernel estimate converges to it as K grows.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4))
    A = rng.standard_normal((4, 4))
    S = A @ A.T / 4 + 0.1 * np.eye(4)
    noise = 0.5
    w = rng.multivariate_normal(np.ones(4), S, size=200_000)  # (K, d)
    f = X @ w.T  # (N, K)
    indices, scores = batchbald_regression(f, 5, noise_variance=noise)
    exact_kernel = X @ S @ X.T
    for i in range(1, 6):
        batch = indices[:i]
        exact = (
            0.5
            * np.linalg.slogdet(np.eye(i) + exact_kernel[np.ix_(batch, batch)] / noise)[
                1
            ]
        )
        assert scores[i - 1] == pytest.approx(exact, rel=0.02)
    # and the picks are the exact greedy picks on the true kernel
    picks = []
    for _ in range(5):
        gains = [
            (
                np.linalg.slogdet(
                    np.eye(len(picks) + 1)
                    + exact_kernel[np.ix_([*picks, c], [*picks, c])] / noise
                )[1],
                -c,
            )
            for c in range(30)
            if c not in picks
        ]
        picks.append(-max(gains)[1])
    np.testing.assert_array_equal(indices, picks)


@pytest.mark.filterwarnings("ignore:with K=.* posterior samples the spread")
def test_picks_equal_bmdal_reg_maxdet(monkeypatch):
    # Holzmüller et al.'s MaxDet (bmdal_reg) on the linear kernel of the scaled,
    # centred samples with noise σ² on the diagonal maximises log det(K_B + σ² I)
    # greedily: the same picks as 1/2 log det(I + K_B / σ²).
    torch = pytest.importorskip("torch")
    from bmdal_reg.bmdal.feature_data import TensorFeatureData
    from bmdal_reg.bmdal.feature_maps import IdentityFeatureMap
    from bmdal_reg.bmdal.features import Features
    from bmdal_reg.bmdal.selection import MaxDetSelectionMethod

    # bmdal_reg 3.0.2 writes np.Inf, which numpy 2 removed
    monkeypatch.setattr(np, "Inf", np.inf, raising=False)
    for seed in range(5):
        f = _pool(200, 16, seed)
        noise = [0.01, 0.1, 1.0, 10.0, 0.5][seed]
        features = (f - f.mean(axis=1, keepdims=True)) / np.sqrt(f.shape[1])
        pool = Features(
            IdentityFeatureMap(n_features=16),
            TensorFeatureData(torch.as_tensor(features, dtype=torch.float64)),
        )
        empty = Features(
            IdentityFeatureMap(n_features=16),
            TensorFeatureData(torch.zeros((0, 16), dtype=torch.float64)),
        )
        maxdet = MaxDetSelectionMethod(
            pool, empty, sel_with_train=False, noise_sigma=np.sqrt(noise), verbosity=0
        )
        reference = maxdet.select(20).numpy()
        indices, _ = batchbald_regression(f, 20, noise_variance=noise)
        np.testing.assert_array_equal(indices, reference)
        # not a top-k in disguise: the joint picks differ from BALD's
        assert set(reference.tolist()) != set(
            bald_regression(f, 20, noise_variance=noise)[0].tolist()
        )


@pytest.mark.parametrize("fn", [bald_regression, batchbald_regression])
def test_bad_input(fn):
    f = _pool(5, 3, 0)
    with pytest.raises(ValueError, match="class log-probabilities"):
        fn(np.zeros((5, 3, 2)), 1, noise_variance=1.0)
    with pytest.raises(ValueError, match=r"shape \(n_pool, n_mc_samples\)"):
        fn(np.zeros(5), 1, noise_variance=1.0)
    with pytest.raises(ValueError, match="at least 2 samples"):
        fn(f[:, :1], 1, noise_variance=1.0)
    bad = f.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="pool point 3"):
        fn(bad, 1, noise_variance=1.0)
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        fn(bad, 1, noise_variance=1.0)
    for noise in (0.0, -1.0, np.nan, np.inf, np.array([[1.0], [0.0], [1], [1], [1]])):
        with pytest.raises(ValueError, match="noise_variance must be finite and > 0"):
            fn(f, 1, noise_variance=noise)
    with pytest.raises(ValueError, match=r"does not broadcast"):
        fn(f, 1, noise_variance=np.ones((5, 2)))
    # a vector of the samples' length broadcast over them, by accident
    with pytest.raises(ValueError, match=r"shape \(3,\), and there are 5 pool"):
        fn(f, 1, noise_variance=np.ones(3))
    with pytest.raises(TypeError, match="real numbers"):
        fn(f.astype(str), 1, noise_variance=1.0)
    with pytest.raises(ValueError, match="n_instances"):
        fn(f, 6, noise_variance=1.0)
    with pytest.raises(ValueError, match="no pool point"):
        fn(np.zeros((0, 3)), 1, noise_variance=1.0)


@pytest.mark.parametrize("fn", [bald_regression, batchbald_regression])
def test_one_noise_per_point_as_a_vector_or_a_column(fn):
    # batchbald_gaussian takes (N,), these took (N, 1) only
    f = _pool(12, 6, 3)
    noise = np.random.default_rng(0).uniform(0.2, 2.0, 12)
    as_vector = fn(f, 4, noise_variance=noise)
    as_column = fn(f, 4, noise_variance=noise[:, None])
    np.testing.assert_array_equal(as_vector[0], as_column[0])
    np.testing.assert_allclose(as_vector[1], as_column[1])
    # N = K: a vector is still one variance per point
    square = _pool(6, 6, 4)
    np.testing.assert_array_equal(
        fn(square, 2, noise_variance=noise[:6])[0],
        fn(square, 2, noise_variance=noise[:6, None])[0],
    )


def test_torch_tensors_accepted():
    torch = pytest.importorskip("torch")
    f = _pool(20, 5, 0)
    expected = batchbald_regression(f, 4, noise_variance=0.5)
    got = batchbald_regression(torch.as_tensor(f), 4, noise_variance=0.5)
    np.testing.assert_array_equal(got[0], expected[0])


def test_picks_without_information_are_warned_as_batchbald_warns_them():
    # rows 0, 1, 2 and 4: every sample predicts the same (a constant target,
    # trees that all agree); only row 3 tells the samples apart
    f = np.zeros((5, 4))
    f[3] = [0.0, 1.0, 2.0, 3.0]
    with pytest.warns(SaturationWarning, match=r"stopped growing .* after pick 1 of 3"):
        indices, scores = batchbald_regression(f, 3, noise_variance=1.0)
    np.testing.assert_array_equal(indices, [3, 0, 1])
    assert scores[0] > 0 and np.all(np.diff(scores) == 0)
    with pytest.warns(SaturationWarning, match="no pool point carries information"):
        batchbald_regression(np.ones((5, 4)), 2, noise_variance=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batchbald_regression(f, 1, noise_variance=1.0)  # an informative batch
        # samples that disagree about the noise alone still inform
        noise = np.tile([0.5, 1.0, 2.0], (5, 1))
        batchbald_regression(np.ones((5, 3)), 2, noise_variance=noise)


def test_two_samples_make_the_batch_balds_and_say_so():
    # a committee of two learners: each point's centred samples are (-a, a),
    # one direction, so log det(I + G_B G_B^T) = log(1 + 2 Σ a²) and the
    # greedy takes the largest a² first: BALD's order, pick for pick
    f = _pool(200, 2, 0)
    with pytest.warns(SaturationWarning, match="K=2 the batch is exactly BALD"):
        indices, _ = batchbald_regression(f, 10, noise_variance=0.5)
    np.testing.assert_array_equal(
        indices, bald_regression(f, 10, noise_variance=0.5)[0]
    )


def test_more_picks_than_directions_are_warned():
    f = _pool(100, 5, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batchbald_regression(f, 4, noise_variance=0.5)  # 4 = K - 1 directions
    with pytest.warns(SaturationWarning, match=r"K=5 .* at most 4 direction") as w:
        batchbald_regression(f, 6, noise_variance=0.5)
    assert "the 2 pick(s) beyond 4" in str(w[0].message)
    assert w[0].filename == __file__
