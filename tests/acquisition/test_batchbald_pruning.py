"""BatchBALD's candidate pruning: the merged-row bound, submodular exact-phase
bounds, and no float32 copy of a large pool (issue 23, point 2)."""

import tracemalloc

import numpy as np
import pytest
from scipy.special import log_softmax

from skbatchbald.acquisition import _pool as _pool_module
from skbatchbald.acquisition import batchbald
from skbatchbald.acquisition._batchbald import _merged_bound
from skbatchbald.acquisition._batchbald_chunked import (
    _merged_bound as chunked_merged_bound,
)
from skbatchbald.acquisition._batchbald_kernel import (
    CandidateScorer,
    float32_error_bound,
)
from skbatchbald.acquisition._greedy_steps import observe
from skbatchbald.acquisition._joint_configurations import (
    extend_exact,
    rows_from_table,
    sample_table,
)

from ._brute_force import brute_force_batchbald, joint_mutual_information


def _pool(n_pool, n_mc_samples, n_classes, seed, copies=1):
    """Points with a log-uniform epistemic spread; ``copies`` near-identical each."""
    rng = np.random.default_rng(seed)
    base = n_pool // copies
    centre = rng.normal(size=(base, 1, n_classes)) * 2.0
    spread = np.exp(rng.uniform(np.log(0.05), np.log(2.0), size=(base, 1, 1)))
    logits = centre + spread * rng.normal(size=(base, n_mc_samples, n_classes))
    logits = np.repeat(logits, copies, axis=0)
    logits += 1e-3 * rng.normal(size=logits.shape)
    return log_softmax(logits, axis=-1)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("copies", [1, 3])
def test_exact_phase_picks_equal_brute_force_greedy(seed, copies):
    # C=3, M=100: the first 5 picks are exact (3^4 = 81 <= 100 configurations)
    log_probs = _pool(60, 6, 3, seed, copies)
    expected, _, gaps = brute_force_batchbald(log_probs, 5)
    assert min(gaps) > 1e-9  # no near-tie: the greedy picks are well defined
    indices, scores = batchbald(log_probs, 5, n_joint_samples=100, random_state=0)
    np.testing.assert_array_equal(indices, expected)
    for i in range(5):
        truth = joint_mutual_information(np.exp(log_probs), expected[: i + 1])
        np.testing.assert_allclose(scores[i], truth, rtol=1e-9, atol=1e-10)


def test_merged_bound_bounds_every_gain_and_is_bald_in_exact_phase():
    log_probs = _pool(200, 8, 4, seed=5)
    scorer = CandidateScorer(log_probs, 2**26)
    conditional, cross = scorer.entropy_tables64()
    available = np.ones(len(log_probs), dtype=bool)
    table = np.zeros((1, 8))
    bald = None
    for pick in (3, 17, 40):
        rows = rows_from_table(table)
        bound = _merged_bound(rows, conditional, cross, available)
        gains = (
            scorer.expected_entropy64(
                rows.posterior, rows.weights, np.arange(len(log_probs))
            )
            - conditional
        )
        assert np.all(bound >= gains - 1e-12)
        if bald is None:  # the empty batch: the bound is BALD's score
            bald = bound
            np.testing.assert_allclose(bound, gains, atol=1e-12)
        else:  # submodularity: gains never exceed BALD
            assert np.all(gains <= bald + 1e-12)
        table = extend_exact(table, log_probs[pick])
    # sampled-style rows (weights of sampled configurations) are bounded too
    rng = np.random.default_rng(0)
    posterior = rng.dirichlet(np.full(8, 0.3), size=50)
    weights = rng.dirichlet(np.ones(50))
    expected = (
        scorer.expected_entropy64(posterior, weights, np.arange(len(log_probs)))
        - conditional
    )
    q = weights @ posterior
    assert np.all(cross @ q - conditional >= expected - 1e-12)


def test_large_pool_is_not_copied_to_float32():
    # 16 MB of float32 log-probabilities, a 48 MB budget: a float32 copy would
    # fit, but the merged bound leaves few candidates to score, so the pool is
    # read where it is (at 10^6 points the copy doubles 800 MB).
    log_probs = _pool(20_000, 20, 10, seed=1).astype(np.float32)
    tracemalloc.start()
    try:
        batchbald(log_probs, 3, max_memory="48MB", random_state=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.75 * log_probs.nbytes, peak


@pytest.mark.parametrize("share", [0.6, 1.0])  # 1.0: whole spans, read as views
@pytest.mark.parametrize("max_workers", [1, 2])
def test_bound_pass_scores_candidates_as_the_ordered_pass_does(max_workers, share):
    # the grouped bound is scored in pool order, in spans wider than a tile,
    # on the worker threads: the same values as best_gains32 without skipping,
    # within float32 round-off, and -inf for the points that are not candidates
    log_probs = _pool(3000, 10, 4, seed=2).astype(np.float32)
    scorer = CandidateScorer(log_probs, 2**26, max_workers=max_workers)
    conditional, _ = scorer.entropy_tables64()
    rng = np.random.default_rng(3)
    posterior = rng.dirichlet(np.full(10, 0.3), size=7)
    weights = rng.dirichlet(np.ones(7))
    candidates = rng.random(3000) < share
    upper = np.where(candidates, 0.0, -np.inf)
    ordered, n_scored = scorer.best_gains32(
        posterior, weights, conditional, upper, np.inf
    )
    spans = scorer.bound_gains32(posterior, weights, conditional, candidates)
    assert n_scored == candidates.sum()
    np.testing.assert_array_equal(spans == -np.inf, ~candidates)
    exact = scorer.expected_entropy64(posterior, weights, np.flatnonzero(candidates))
    error = float32_error_bound(10, 4)
    assert np.abs(spans[candidates] - (exact - conditional[candidates])).max() <= error
    np.testing.assert_allclose(spans[candidates], ordered[candidates], atol=2 * error)


def test_sampled_scores_are_the_float64_gains_of_the_picks():
    # C=4, M=40: the third pick on is sampled; its gain is computed in float64
    log_probs = _pool(400, 8, 4, seed=6)
    indices, scores = batchbald(log_probs, 5, n_joint_samples=40, random_state=0)
    rng = np.random.default_rng(0)
    scorer = CandidateScorer(log_probs, 2**26)
    for step in range(3, 5):
        table, weights = sample_table(log_probs[indices[:step]], 40, rng)
        rows = rows_from_table(table, weights)
        entropy = scorer.expected_entropy64(
            rows.posterior, rows.weights, [indices[step]]
        )[0]
        # the pick's gain pairs each drawn configuration with its posterior
        probs = np.exp(log_probs[indices[step]].astype(np.float64))  # (K, C)
        per_sample = -(probs * np.log(probs)).sum(axis=1)  # (K,)
        paired = rows.weights @ (rows.posterior @ per_sample)
        expected = scores[step - 1] + entropy - paired
        assert scores[step] == pytest.approx(expected, rel=0, abs=1e-12)


def test_chunked_merged_bound_bounds_every_gain_from_a_few_floats_a_point():
    log_probs = _pool(200, 8, 4, seed=5)
    scorer = CandidateScorer(log_probs, 2**26)
    conditional, cross = scorer.entropy_tables64()
    tables = (conditional, cross.mean(axis=1), np.ptp(cross, axis=1))
    available = np.ones(len(log_probs), dtype=bool)
    available[7] = False
    everyone = np.arange(len(log_probs))
    # exact rows: q is uniform, the bound is BALD's score, as in memory
    rows = rows_from_table(extend_exact(np.zeros((1, 8)), log_probs[7]))
    bound = chunked_merged_bound(tables, rows.posterior, rows.weights, available)
    in_memory = _merged_bound(rows, conditional, cross, available)
    np.testing.assert_allclose(bound[available], in_memory[available], atol=1e-12)
    assert bound[7] == -np.inf
    # sampled-style rows: q is not uniform; the bound still holds, looser
    rng = np.random.default_rng(0)
    posterior = rng.dirichlet(np.full(8, 0.3), size=50)
    weights = rng.dirichlet(np.ones(50))
    gains = scorer.expected_entropy64(posterior, weights, everyone) - conditional
    bound = chunked_merged_bound(tables, posterior, weights, available)
    assert np.all(bound[available] >= gains[available] - 1e-12)
    # looser than the in-memory bound, never tighter
    in_memory = cross @ (weights @ posterior) - conditional
    assert np.all(bound[available] >= in_memory[available] - 1e-12)


@pytest.mark.parametrize("n_joint_samples", [10_000, 60], ids=["exact", "sampled"])
def test_chunked_greedy_prunes_and_picks_as_in_memory(
    n_joint_samples, tmp_path, monkeypatch
):
    monkeypatch.setattr(_pool_module, "BLOCK_BYTES", 200_000)  # 3 blocks
    log_probs = _pool(3000, 10, 4, seed=4, copies=3).astype(np.float32)
    np.save(tmp_path / "pool.npy", log_probs)
    memmap = np.load(tmp_path / "pool.npy", mmap_mode="r")
    expected = batchbald(log_probs, 6, n_joint_samples=n_joint_samples, random_state=2)
    with observe() as steps:
        got = batchbald(memmap, 6, n_joint_samples=n_joint_samples, random_state=2)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1], rtol=0, atol=1e-9)
    scored = [step["scored"] for step in steps]
    # every block scored its probe of 16, and the bounds ruled out most of the
    # other candidates (all 3000 were scored at every step before)
    assert all(n >= 16 * 3 for n in scored)
    assert max(scored) < 3000 // 10, scored
