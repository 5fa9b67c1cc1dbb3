"""A saturated batch: filled in BALD order, or (``on_saturation="greedy"``) greedy
steps that sample the joint where enumerating it would be long."""

import warnings

import dask.array as da
import numpy as np
import pytest

from skbatchbald.acquisition import (
    SaturationWarning,
    _joint_configurations,
    bald,
    batchbald,
)
from skbatchbald.acquisition._greedy_steps import observe
from skbatchbald.acquisition._joint_configurations import enumerates

from ._brute_force import brute_force_batchbald


def _saturating_pool(n_pool=300, n_mc_samples=6, n_classes=3, seed=0):
    """Confident samples that disagree: a few picks reach log K."""
    rng = np.random.default_rng(seed)
    logits = 3.0 * rng.standard_normal((n_pool, n_mc_samples, n_classes))
    return logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)


def _acquire(log_probs, n_instances, on_saturation="greedy", **kwargs):
    with observe() as steps, warnings.catch_warnings():
        warnings.simplefilter("ignore", SaturationWarning)
        indices, scores = batchbald(
            log_probs, n_instances, on_saturation=on_saturation, **kwargs
        )
    return indices, scores, [step["exact"] for step in steps]


def test_a_long_exact_step_of_a_saturated_batch_is_sampled(monkeypatch):
    log_probs = _saturating_pool()
    limit = 0.99 * np.log(log_probs.shape[1])
    exact_picks, exact_scores, exact_steps = _acquire(
        log_probs, 5, n_joint_samples=3**4, random_state=0
    )
    saturated = int(np.argmax(exact_scores >= limit)) + 1  # picks before sampling
    assert exact_scores[saturated - 1] >= limit and saturated < 5
    assert all(exact_steps)  # a small pool: every step is short, and exact
    # every exact step is long now
    monkeypatch.setattr(_joint_configurations, "SATURATED_EXACT_WORK", 0)
    picks, scores, steps = _acquire(log_probs, 5, n_joint_samples=3**4, random_state=0)
    assert steps == [True] * saturated + [False] * (5 - saturated)
    # the picks up to saturation are the exact ones, the rest distinct
    np.testing.assert_array_equal(picks[:saturated], exact_picks[:saturated])
    np.testing.assert_array_equal(scores[:saturated], exact_scores[:saturated])
    assert len(set(picks.tolist())) == 5
    assert np.all(np.diff(scores) >= 0) and scores[-1] <= np.log(6) + 1e-6


def test_a_batch_below_saturation_stays_exact_however_long(monkeypatch):
    rng = np.random.default_rng(1)
    logits = 0.5 * rng.standard_normal((40, 20, 3))  # log K = 3.0, far away
    log_probs = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    monkeypatch.setattr(_joint_configurations, "SATURATED_EXACT_WORK", 0)
    picks, scores, steps = _acquire(log_probs, 3, n_joint_samples=20)
    assert steps == [True, True, True]
    expected, expected_scores, _ = brute_force_batchbald(log_probs, 3)
    assert picks.tolist() == expected
    np.testing.assert_allclose(scores, expected_scores, rtol=0, atol=1e-9)


def test_a_chunked_pool_samples_at_the_same_step(monkeypatch):
    log_probs = _saturating_pool().astype(np.float32)
    monkeypatch.setattr(_joint_configurations, "SATURATED_EXACT_WORK", 0)
    expected = _acquire(log_probs, 5, n_joint_samples=81, random_state=2)
    got = _acquire(
        da.from_array(log_probs, chunks=(64, 6, 3)),
        5,
        n_joint_samples=81,
        random_state=2,
    )
    assert got[2] == expected[2] and False in got[2]
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1], rtol=0, atol=1e-7)


@pytest.mark.parametrize(
    ("scores", "n_pool", "expected"),
    [
        ([], 10**9, True),  # nothing chosen: never saturated
        ([0.5, 1.0], 10**9, True),  # below 0.99 log 4 = 1.372
        ([1.0, 1.38], 10, True),  # saturated, 9 x 10 x 4 x 3 multiply-adds
        ([1.0, 1.38], 10**9, False),  # saturated, and 1.08e11 of them
        ([1.0, 1.38, 1.385, 1.386], 10, False),  # 81 > M: sampled anyway
    ],
)
def test_enumerates(scores, n_pool, expected):
    assert enumerates(np.asarray(scores), 27, (n_pool, 4, 3)) is expected


def test_by_default_a_saturated_batch_is_filled_without_greedy_steps():
    log_probs = _saturating_pool()
    greedy, greedy_scores, _ = _acquire(log_probs, 6, n_joint_samples=81)
    saturated = int(np.argmax(greedy_scores >= 0.99 * np.log(6))) + 1
    assert saturated < 6
    with observe() as steps, pytest.warns(SaturationWarning) as caught:
        picks, scores = batchbald(log_probs, 6, n_joint_samples=81)
    assert len(steps) == saturated  # no step scored the pool after it
    np.testing.assert_array_equal(picks[:saturated], greedy[:saturated])
    order, _ = bald(log_probs, len(log_probs))
    rest = [i for i in order.tolist() if i not in picks[:saturated]]
    assert picks[saturated:].tolist() == rest[: 6 - saturated]
    assert np.all(scores[saturated:] == scores[saturated - 1])
    (warning,) = caught
    assert f"the next {6 - saturated} follow their BALD scores" in str(warning.message)


def test_a_chunked_pool_is_filled_at_the_same_pick():
    log_probs = _saturating_pool().astype(np.float32)
    expected = _acquire(log_probs, 6, on_saturation="bald", n_joint_samples=81)
    got = _acquire(
        da.from_array(log_probs, chunks=(64, 6, 3)),
        6,
        on_saturation="bald",
        n_joint_samples=81,
    )
    assert got[2] == expected[2] and len(got[2]) < 6
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1], rtol=0, atol=1e-7)


def test_greedy_steps_after_saturation_are_told_as_noise():
    with pytest.warns(SaturationWarning, match="decided by estimator noise"):
        batchbald(_saturating_pool(), 6, n_joint_samples=81, on_saturation="greedy")


@pytest.mark.parametrize("on_saturation", ["BALD", "stop", None, 1])
def test_an_unknown_on_saturation_is_refused(on_saturation):
    with pytest.raises(ValueError, match="on_saturation must be 'bald'"):
        batchbald(_saturating_pool(), 3, on_saturation=on_saturation)


def _messages(log_probs, n_instances, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batchbald(log_probs, n_instances, **kwargs)
    return [str(w.message) for w in caught if w.category is SaturationWarning]


def _two_class_rows(p_first_class):
    p = np.asarray(p_first_class, dtype=float)
    return np.log(np.stack([p, 1 - p], axis=-1))


@pytest.mark.parametrize(
    ("on_saturation", "said"),
    [
        ("greedy", "the next 2 were decided by estimator noise."),
        ("bald", "the next 2 follow their BALD scores."),
    ],
)
def test_saturation_then_copies_tells_each_pick_how_it_came(on_saturation, said):
    # two points tell the K = 4 samples apart (log K after pick 2), two
    # soft ones follow, then only copies of the first are left
    e = 1e-4
    first = _two_class_rows([1 - e, 1 - e, e, e])
    second = _two_class_rows([1 - e, e, 1 - e, e])
    soft = [
        _two_class_rows([0.55, 0.45, 0.5, 0.52]),
        _two_class_rows([0.45, 0.5, 0.55, 0.5]),
    ]
    log_probs = np.stack([first, second, *soft, first, first])
    copies, saturated = _messages(log_probs, 6, on_saturation=on_saturation)
    assert "after pick 4 of 6 only copies" in copies
    assert "after pick 2 of 6" in saturated and said in saturated


def test_one_sample_and_copies_say_no_point_informs():
    # K = 1: every score is 0 = log K; no greedy pick is made, so no pick
    # "reached log K": the batch holds no information at all
    p = np.random.default_rng(0).dirichlet([1, 1, 1], size=3)[:, None, :]
    log_probs = np.log(np.concatenate([p, p[:2]]))
    copies, no_information = _messages(log_probs, 5)
    assert "after pick 3 of 5 only copies" in copies
    assert no_information.startswith("no pool point carries information")
