"""batchbald: properties over random pools (hypothesis), memory, seeds, dtypes."""

import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import log_softmax

from skbatchbald.acquisition import SaturationWarning, batchbald, mutual_information
from skbatchbald.acquisition._batchbald_memory import minimum_memory

from ._brute_force import brute_force_batchbald

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@st.composite
def pools(draw, max_pool=12):
    """(log_probs, n_instances, n_joint_samples) with the whole batch exact."""
    n_pool = draw(st.integers(2, max_pool))
    n_mc_samples = draw(st.integers(2, 6))
    n_classes = draw(st.integers(2, 4))
    n_instances = draw(st.integers(1, min(n_pool, 4)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    logits = draw(st.sampled_from([0.5, 2.0, 5.0])) * rng.standard_normal(
        (n_pool, n_mc_samples, n_classes)
    )
    if draw(st.booleans()):
        zero = rng.random(logits.shape) < 0.3
        zero[..., 0] = False
        logits[zero] = -np.inf
    budget = max(n_mc_samples, n_classes ** (n_instances - 1))
    return log_softmax(logits, axis=-1), n_instances, budget


def _quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SaturationWarning)
        return batchbald(*args, **kwargs)


@SETTINGS
@given(pools())
def test_exact_phase_properties(pool):
    log_probs, n_instances, budget = pool
    indices, scores = _quiet(log_probs, n_instances, n_joint_samples=budget)
    n_pool, n_mc_samples, _ = log_probs.shape

    assert len(set(indices.tolist())) == n_instances
    assert ((indices >= 0) & (indices < n_pool)).all()
    # submodular gains are >= 0 and the joint MI is at most H(ω) = log K
    assert (np.diff(scores) >= -1e-12).all()
    assert scores[-1] <= np.log(n_mc_samples) + 1e-12
    # first pick = BALD's argmax (up to a tie within 1e-7)
    bald = mutual_information(log_probs)
    assert bald[indices[0]] >= bald.max() - 1e-7
    assert scores[0] == pytest.approx(bald[indices[0]], abs=1e-9)


@SETTINGS
@given(pools(), st.integers(0, 2**32 - 1))
def test_permuting_the_pool_permutes_the_picks(pool, seed):
    log_probs, n_instances, budget = pool
    _, _, gaps = brute_force_batchbald(log_probs, n_instances)
    if min(gaps) <= 1e-7:  # a tie may go either way once the order changes
        return
    perm = np.random.default_rng(seed).permutation(log_probs.shape[0])
    indices, scores = _quiet(log_probs, n_instances, n_joint_samples=budget)
    permuted, permuted_scores = _quiet(
        log_probs[perm], n_instances, n_joint_samples=budget
    )
    np.testing.assert_array_equal(perm[permuted], indices)
    np.testing.assert_allclose(permuted_scores, scores, rtol=0, atol=1e-12)


@SETTINGS
@given(pools(max_pool=40), st.integers(0, 2**32 - 1))
def test_smallest_max_memory_gives_identical_results(pool, seed):
    log_probs, n_instances, _ = pool
    # a small budget of joint samples: the sampled phase starts at pick 2 or 3
    n_joint_samples = log_probs.shape[1] * 2
    smallest = minimum_memory(log_probs.shape, n_instances, n_joint_samples)
    default = _quiet(
        log_probs, n_instances, n_joint_samples=n_joint_samples, random_state=seed
    )
    tracemalloc.start()
    try:
        tight = _quiet(
            log_probs,
            n_instances,
            n_joint_samples=n_joint_samples,
            max_memory=smallest,
            random_state=seed,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(tight[0], default[0])
    np.testing.assert_array_equal(tight[1], default[1])
    assert peak <= smallest


def test_many_tiles_one_worker_no_pool_copy_identical(make_log_probs):
    """A pool of several tiles, scored with one worker and no float32 copy."""
    log_probs = make_log_probs(1500, 10, 5, seed=4, scale=1.0)
    smallest = minimum_memory(log_probs.shape, 6, 300)
    tracemalloc.start()
    try:
        tight = _quiet(
            log_probs, 6, n_joint_samples=300, max_memory=smallest, random_state=3
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    default = _quiet(log_probs, 6, n_joint_samples=300, random_state=3)
    np.testing.assert_array_equal(tight[0], default[0])
    np.testing.assert_array_equal(tight[1], default[1])
    assert peak <= smallest


@pytest.mark.parametrize("n_joint_samples", [40, 10_000])
def test_same_seed_same_picks(make_log_probs, n_joint_samples):
    log_probs = make_log_probs(300, 8, 4, seed=5, scale=1.5)
    runs = [
        _quiet(log_probs, 8, n_joint_samples=n_joint_samples, random_state=seed)
        for seed in (11, 11, np.random.default_rng(11))
    ]
    for indices, scores in runs[1:]:
        np.testing.assert_array_equal(indices, runs[0][0])
        np.testing.assert_array_equal(scores, runs[0][1])


def test_different_seeds_differ_in_the_sampled_phase(make_log_probs):
    # guards against the seed being ignored: estimates change with the draws
    log_probs = make_log_probs(300, 8, 4, seed=5, scale=1.5)
    first = _quiet(log_probs, 8, n_joint_samples=40, random_state=1)[1]
    second = _quiet(log_probs, 8, n_joint_samples=40, random_state=2)[1]
    assert not np.array_equal(first[3:], second[3:])
    np.testing.assert_array_equal(first[:2], second[:2])  # exact phase: C^1 <= 40


def test_float32_and_float64_agree_on_a_well_separated_pool(make_log_probs):
    log_probs = make_log_probs(200, 10, 3, seed=6)
    _, _, gaps = brute_force_batchbald(log_probs, 4)
    assert min(gaps) > 1e-4  # well separated
    indices64, scores64 = batchbald(log_probs, 4, n_joint_samples=27)
    indices32, scores32 = batchbald(log_probs.astype(np.float32), 4, n_joint_samples=27)
    np.testing.assert_array_equal(indices32, indices64)
    np.testing.assert_allclose(scores32, scores64, rtol=0, atol=1e-5)


def test_lazy_keeps_the_exact_phase_and_valid_picks(make_log_probs):
    log_probs = make_log_probs(400, 8, 3, seed=7, scale=1.5)
    default = _quiet(log_probs, 10, n_joint_samples=27, random_state=2)
    lazy = _quiet(log_probs, 10, n_joint_samples=27, random_state=2, lazy=True)
    # C^n <= 27 for n <= 3: the first 4 picks are exact, lazy or not
    np.testing.assert_array_equal(lazy[0][:4], default[0][:4])
    np.testing.assert_allclose(lazy[1][:4], default[1][:4], rtol=0, atol=1e-12)
    assert len(set(lazy[0].tolist())) == 10
    assert np.isfinite(lazy[1]).all()


@pytest.mark.parametrize("lazy", [1, "yes", None])
def test_lazy_must_be_a_bool(make_log_probs, lazy):
    with pytest.raises(TypeError, match="lazy must be True or False"):
        batchbald(make_log_probs(5, 3, 2), 2, lazy=lazy)
