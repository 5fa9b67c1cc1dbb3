"""batch_epig: greedy E_x* I(y_1..y_b; y* | x*) against brute force and EPIG."""

import itertools
import warnings

import numpy as np
import pytest

from skbatchbald.acquisition import SaturationWarning, batch_epig, epig
from skbatchbald.acquisition._batch_epig import _target_exact, sample_joint


def entropy(p):
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


def brute_force_value(pool, target, batch):
    """E_x* I(y_batch; y*): every label configuration of the batch and every y*."""
    p = np.exp(pool.astype(np.float64))
    q = np.exp(target.astype(np.float64))
    n_mc_samples, n_classes = p.shape[1:]
    configs = list(itertools.product(range(n_classes), repeat=len(batch)))
    # P(ŷ | ω_k) of every configuration: (J, K)
    likelihood = np.array(
        [
            np.prod([p[i, :, c] for i, c in zip(batch, config, strict=True)], axis=0)
            for config in configs
        ]
    ).reshape(len(configs), n_mc_samples)
    value = 0.0
    for t in range(len(q)):
        joint = np.einsum("jk,kc->jc", likelihood, q[t]) / n_mc_samples  # (J, C)
        value += entropy(joint.sum(1)) + entropy(joint.sum(0)) - entropy(joint)
    return value / len(q)


def brute_force_greedy(pool, target, n_instances):
    chosen, values = [], []
    for _ in range(n_instances):
        gains = [
            -np.inf if x in chosen else brute_force_value(pool, target, [*chosen, x])
            for x in range(len(pool))
        ]
        chosen.append(int(np.argmax(gains)))
        values.append(max(gains))
    return np.array(chosen), np.array(values)


@pytest.mark.parametrize(
    ("n_pool", "n_target", "k", "c", "b"),
    [(8, 3, 5, 2, 4), (6, 4, 4, 3, 3), (7, 2, 6, 2, 5)],
)
def test_exact_phase_equals_brute_force(make_log_probs, n_pool, n_target, k, c, b):
    pool = make_log_probs(n_pool, k, c, seed=n_pool)
    target = make_log_probs(n_target, k, c, seed=n_target + 100)
    n_joint_samples = 10**6
    assert _target_exact(n_target, c, b - 1, n_joint_samples)  # exact throughout
    indices, scores = batch_epig(
        pool, b, log_probs_target=target, n_joint_samples=n_joint_samples
    )
    expected_indices, expected_scores = brute_force_greedy(pool, target, b)
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(scores, expected_scores, rtol=0, atol=1e-9)
    # more labels never tell less about the targets
    assert np.all(np.diff(scores) >= -1e-12)


def test_exact_phase_with_zero_probabilities(log_probs_with_zeros):
    pool, target = log_probs_with_zeros[:8], log_probs_with_zeros[8:11]
    indices, scores = batch_epig(pool, 3, log_probs_target=target)
    expected_indices, expected_scores = brute_force_greedy(pool, target, 3)
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(scores, expected_scores, rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_one_pick_is_epigs_argmax(make_log_probs, seed):
    pool = make_log_probs(40, 8, 4, seed=seed)
    target = make_log_probs(300, 8, 4, seed=seed + 50)  # 1,200 rows: > M
    indices, scores = batch_epig(pool, 1, log_probs_target=target, n_joint_samples=100)
    expected = epig(pool, 1, log_probs_target=target)
    np.testing.assert_array_equal(indices, expected[0])
    np.testing.assert_allclose(scores, expected[1], rtol=0, atol=1e-12)


def test_float32_inputs_pick_as_float64(make_log_probs):
    pool = make_log_probs(30, 6, 3, seed=1, dtype=np.float32)
    target = make_log_probs(4, 6, 3, seed=2, dtype=np.float32)
    got = batch_epig(pool, 4, log_probs_target=target)
    exact = batch_epig(pool.astype(np.float64), 4, log_probs_target=target)
    np.testing.assert_array_equal(got[0], exact[0])
    np.testing.assert_allclose(got[1], exact[1], rtol=0, atol=2e-5)


def test_sampled_phase_estimates_the_brute_force_value(make_log_probs):
    # 200 targets x 3^3 > M = 3000: the third pick is scored on samples; with 3 pool
    # points it is the only candidate left, so no selection biases its estimate
    pool = make_log_probs(3, 8, 3, seed=3, scale=1.5)
    target = make_log_probs(200, 8, 3, seed=4, scale=1.5)
    assert not _target_exact(200, 3, 2, 3000)
    truth = brute_force_value(pool, target, [0, 1, 2])
    errors = np.array([
        batch_epig(pool, 3, log_probs_target=target, n_joint_samples=3000,
                   random_state=seed)[1][2] - truth
        for seed in range(30)
    ])  # fmt: skip
    # consistent: the mean error is within a few standard errors of 0 (plus the
    # small bias of a log of an estimate), and no estimate is far off
    assert abs(errors.mean()) < 4 * errors.std() / np.sqrt(len(errors)) + 2e-3
    assert np.abs(errors).max() < 0.1
    assert errors.std() > 0  # sampled, not exact


@pytest.mark.parametrize("seed", range(3))
def test_sampled_phase_tracks_small_gains(make_log_probs, seed):
    # near-uniform predictions: each pick adds ~1e-3 nats about the targets,
    # far below the noise of an entropy estimated from M samples; the gains
    # are estimated as paired differences over the same draws, so the
    # cumulative scores still follow brute force and never decrease
    pool = make_log_probs(12, 20, 4, seed=seed, scale=0.3)
    target = make_log_probs(100, 20, 4, seed=seed + 10, scale=0.3)
    assert _target_exact(100, 4, 1, 5000) and not _target_exact(100, 4, 2, 5000)
    indices, scores = batch_epig(
        pool, 5, log_probs_target=target, n_joint_samples=5000, random_state=seed
    )
    truth = np.array(
        [brute_force_value(pool, target, indices[: i + 1]) for i in range(5)]
    )
    np.testing.assert_allclose(scores, truth, rtol=0.1)
    assert np.all(np.diff(scores) >= 0)


def test_joint_samples_follow_the_joint(make_log_probs):
    # P(x*, ŷ, y*) = (1/T) mean_k p(ŷ | ω_k) p(y* | x*, ω_k)
    chosen = make_log_probs(1, 4, 2, seed=5, scale=1.0)
    target = make_log_probs(3, 4, 2, seed=6, scale=1.0)
    rng = np.random.default_rng(0)
    table, weights, _, _ = sample_joint(chosen, target, 400_000, rng)
    frequencies = dict(zip(map(tuple, np.round(table, 12)), weights, strict=True))
    p, q = np.exp(chosen[0]), np.exp(target)
    for t, c, d in itertools.product(range(3), range(2), range(2)):
        row = tuple(np.round(chosen[0][:, c] + target[t][:, d], 12))
        expected = np.mean(p[:, c] * q[t, :, d]) / 3
        assert frequencies[row] == pytest.approx(expected, abs=4e-3)


def test_same_seed_same_batch(make_log_probs):
    pool = make_log_probs(30, 6, 3, seed=7)
    target = make_log_probs(50, 6, 3, seed=8)
    kwargs = {"log_probs_target": target, "n_joint_samples": 300}
    first = batch_epig(pool, 5, random_state=3, **kwargs)
    second = batch_epig(pool, 5, random_state=3, **kwargs)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert len(set(first[0].tolist())) == 5


class TestBadInput:
    @pytest.fixture
    def pool(self, make_log_probs):
        return make_log_probs(10, 4, 3)

    def test_other_k(self, pool, make_log_probs):
        with pytest.raises(ValueError, match="one call"):
            batch_epig(pool, 2, log_probs_target=make_log_probs(3, 6, 3))

    def test_empty_target(self, pool):
        with pytest.raises(ValueError, match="log_probs_target is empty"):
            batch_epig(pool, 2, log_probs_target=np.empty((0, 4, 3)))

    def test_nan(self, pool, make_log_probs):
        target = make_log_probs(3, 4, 3)
        target[0, 0, 0] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            batch_epig(pool, 2, log_probs_target=target)

    def test_too_few_joint_samples(self, pool, make_log_probs):
        with pytest.raises(ValueError, match="n_joint_samples must be an int >= 4"):
            batch_epig(
                pool, 2, log_probs_target=make_log_probs(3, 4, 3), n_joint_samples=3
            )

    def test_budget_too_small(self, pool, make_log_probs):
        with pytest.raises(ValueError, match="raise max_memory"):
            batch_epig(
                pool, 2, log_probs_target=make_log_probs(3, 4, 3), max_memory=10_000
            )


def test_steps_without_gain_follow_epig_not_the_pool_order():
    # A forest's trees vote: after a few picks every tree group predicts alike
    # on every point left, and all gains are 0. The argmax of equal gains was
    # the lowest index (rows 0, 1, 2, ...); the points' own EPIG goes first.
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_digits(return_X_y=True)
    forest = RandomForestClassifier(50, random_state=0).fit(X[:50], y[:50])
    with np.errstate(divide="ignore"):
        log_probs = np.stack(
            [np.log(tree.predict_proba(X[50:])) for tree in forest.estimators_],
            axis=1,
        )
    pool, target = log_probs[:1450], log_probs[1450:]
    with pytest.warns(SaturationWarning, match="own EPIG scores") as info:
        picks, scores = batch_epig(pool, 8, log_probs_target=target, random_state=0)
    assert info[0].filename == __file__
    assert np.all(np.diff(scores) >= 0)
    flat = int(np.flatnonzero(np.diff(scores) == 0)[0]) + 1  # first pick without gain
    ranked, _ = epig(pool, len(pool), log_probs_target=target)
    rest = ranked[~np.isin(ranked, picks[:flat])][: len(picks) - flat]
    np.testing.assert_array_equal(picks[flat:], rest)
    assert not np.array_equal(picks[flat:], np.arange(len(picks) - flat))


def test_exact_copies_of_a_pick_leave_the_candidates(tmp_path):
    # as in BatchBALD: a copy's label repeats its original's for a person
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(40, 8, 4)) * 0.7
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    unique, target = log_probs[:30], log_probs[30:]
    pool = np.repeat(unique, 3, axis=0)  # rows 3i, 3i+1, 3i+2 alike
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        indices, scores = batch_epig(pool, 6, log_probs_target=target, random_state=0)
        expected, expected_scores = batch_epig(
            unique, 6, log_probs_target=target, random_state=0
        )
    np.testing.assert_array_equal(indices, 3 * expected)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-9)
    np.save(tmp_path / "pool.npy", pool)
    memmap = np.load(tmp_path / "pool.npy", mmap_mode="r")
    chunked, _ = batch_epig(memmap, 6, log_probs_target=target, random_state=0)
    np.testing.assert_array_equal(chunked, indices)
    with pytest.warns(SaturationWarning, match="after pick 3 of 5 only copies"):
        few, _ = batch_epig(pool[:9], 5, log_probs_target=target, random_state=0)
    assert len(set((few[:3] // 3).tolist())) == 3 and len(set(few.tolist())) == 5
