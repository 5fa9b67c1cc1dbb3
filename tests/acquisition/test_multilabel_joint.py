"""The pruned multi-label greedy against the plain one, and the bound it prunes by."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skbatchbald.acquisition import _multilabel_batchbald as module
from skbatchbald.acquisition._multilabel_batchbald import _greedy, _label_tables
from skbatchbald.acquisition._multilabel_joint import LabelJoint


def _pool(seed, n_pool, n_mc_samples, n_labels, *, certain=False):
    """log p(y_l = 1): half the pool near-copies of other points, as in practice."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, (n_pool, 1, n_labels))
    logits = logits + rng.uniform(0.1, 3, (n_pool, 1, 1)) * rng.standard_normal(
        (n_pool, n_mc_samples, n_labels)
    )
    copies = rng.integers(0, n_pool // 2, n_pool // 2)
    logits[n_pool // 2 :] = logits[copies] + 0.05 * rng.standard_normal(
        logits[copies].shape
    )
    p = 1 / (1 + np.exp(-logits))
    if certain:
        mask = rng.random(p.shape) < 0.1
        p[mask] = rng.integers(0, 2, mask.sum())
    with np.errstate(divide="ignore"):
        return np.log(p)


def _both(log_probs, n_instances, n_joint_samples, seed):
    tables = _label_tables(log_probs)
    return [
        _greedy(
            log_probs,
            tables,
            n_instances,
            n_joint_samples,
            2**26,
            np.random.default_rng(seed),
            prune=prune,
        )
        for prune in (False, True)
    ]


@pytest.mark.parametrize(
    ("seed", "n_labels", "n_instances", "n_joint_samples", "certain"),
    [
        (0, 3, 8, 10_000, False),  # exact throughout
        (1, 4, 12, 64, False),  # sampled from the 7th pick
        (2, 2, 10, 32, True),  # probabilities of exactly 0 and 1
        (3, 1, 9, 16, False),
    ],
)
def test_pruned_greedy_is_the_plain_greedy(
    seed, n_labels, n_instances, n_joint_samples, certain
):
    log_probs = _pool(seed, 300, 10, n_labels, certain=certain)
    (plain, plain_scores, _), (pruned, pruned_scores, _) = _both(
        log_probs, n_instances, n_joint_samples, seed
    )
    np.testing.assert_array_equal(pruned, plain)
    np.testing.assert_allclose(pruned_scores, plain_scores, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("block_rows", [7, 4096])
def test_pool_tables_are_the_plain_formulas(monkeypatch, block_rows):
    # the tables are built in blocks of pool points: any block size, the same
    monkeypatch.setattr(module, "_TABLE_ROWS", block_rows)
    log_probs = _pool(4, 50, 6, 3, certain=True)
    probs, conditional, marginal = _label_tables(log_probs)
    p1 = np.exp(log_probs).transpose(2, 0, 1)  # (L, N, K)
    p0 = -np.expm1(log_probs).transpose(2, 0, 1)
    np.testing.assert_array_equal(probs, np.stack([p0, p1], axis=1))

    def entropy_terms(p):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(p > 0, -p * np.log(p), 0.0)

    expected = (entropy_terms(p0) + entropy_terms(p1)).mean(axis=2)
    np.testing.assert_allclose(conditional, expected, rtol=1e-13, atol=1e-15)
    expected = entropy_terms(p0.mean(axis=2)) + entropy_terms(p1.mean(axis=2))
    np.testing.assert_allclose(marginal, expected, rtol=1e-13, atol=1e-15)
    assert (log_probs == 0).any() and (log_probs == -np.inf).any()


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_picked=st.integers(0, 7),
    n_joint_samples=st.integers(2, 40),
)
def test_bound_is_above_every_candidates_joint_entropy(seed, n_picked, n_joint_samples):
    rng = np.random.default_rng(seed)
    probs, *_ = _label_tables(_pool(seed, 40, 6, 1, certain=seed % 2 == 0))
    joint = LabelJoint(6)
    for pick in rng.choice(40, n_picked, replace=False):
        joint.extend(probs[0, :, pick], n_joint_samples, rng)
    exact = joint.joint_entropy(probs[0], chunk=7)
    coarse = joint.joint_entropy_bound(probs[0])
    fine = joint.joint_entropy_bound(probs[0], depth=2)
    # finer groups, a tighter bound; exact once every row is its own group
    assert (exact <= fine + 1e-12).all()
    assert (fine <= coarse + 1e-12).all()
    if len(joint.rows) == 1:
        np.testing.assert_allclose(coarse, exact, atol=1e-12)
    if joint.exact:
        # with the rows exact, H(y_B) + H(y_x): equal for a point of the batch
        assert joint.batch_entropy() <= exact.min() + 1e-12


def test_pruning_scores_fewer_candidates(monkeypatch):
    scored = []
    original = module._label_joints

    def counting(joints, probs, candidates, chunk):
        scored.append(len(candidates))
        return original(joints, probs, candidates, chunk)

    monkeypatch.setattr(module, "_label_joints", counting)
    log_probs = _pool(5, 2_000, 10, 3)
    plain, pruned = _both(log_probs, 10, 10_000, 0)
    np.testing.assert_array_equal(pruned[0], plain[0])
    n_plain = sum(2_000 - step for step in range(10))
    assert sum(scored) - n_plain < n_plain / 4  # the pruned run's share
