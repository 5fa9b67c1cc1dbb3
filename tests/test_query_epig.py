"""EPIGQuery: pool and target sampled together, targets from the user or the pool."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from skbatchbald import (
    BatchEPIGQuery,
    EPIGQuery,
    MCDropoutClassifier,
    acquisition,
)
from skbatchbald._validation import call_generator, check_random_state, draw_seed
from skbatchbald.nn import BayesianMLP
from skbatchbald.sampling import predict_log_proba_samples


@pytest.fixture(scope="module")
def dropout_net(digits_split):
    d = digits_split
    net = MCDropoutClassifier(
        BayesianMLP, module__n_features=64, max_epochs=5, n_mc_samples=8,
        random_state=0, verbose=0,
    )  # fmt: skip
    return net.fit(d["X_init"] / 16, d["y_init"])


def draws(random_state, n_pool, n_target, target_subsample, n_labelled=0):
    """The strategy's random choices, in its order: target subset, two seeds
    (``n_labelled``: the labelled set of the learner queried)."""
    context = (n_pool, n_labelled)
    rng = call_generator(random_state, check_random_state(random_state), context)
    targets = np.arange(n_target)
    if target_subsample is not None and target_subsample < n_target:
        targets = np.sort(rng.choice(n_target, size=target_subsample, replace=False))
    return targets, draw_seed(rng), draw_seed(rng)


def test_pool_and_target_are_sampled_in_one_call(dropout_net, digits_split):
    X_pool = digits_split["X_pool"][:120] / 16
    X_target = digits_split["X_test"][:50] / 16
    strategy = EPIGQuery(X_target=X_target, target_subsample=30, random_state=2)
    indices, scores = strategy(dropout_net, X_pool, 4)
    targets, sample_seed, draw_seed = draws(2, 120, 50, 30)
    both = predict_log_proba_samples(
        dropout_net, np.concatenate([X_pool, X_target[targets]]),
        random_state=sample_seed,
    )  # fmt: skip
    expected = acquisition.epig(
        both[:120], 4, log_probs_target=both[120:], random_state=draw_seed
    )
    np.testing.assert_array_equal(indices, expected[0])
    np.testing.assert_allclose(scores, expected[1], rtol=0, atol=1e-12)


def test_without_target_the_target_is_a_sample_of_the_pool(
    forest_learner, digits_split
):
    X_pool = digits_split["X_pool"][:200]
    indices, scores = EPIGQuery(target_subsample=40, random_state=5)(
        forest_learner, X_pool, 6
    )
    targets, _, _ = draws(5, 200, 200, 40, len(forest_learner.X_training))
    log_probs = predict_log_proba_samples(forest_learner, X_pool)
    expected = acquisition.epig(log_probs, 6, log_probs_target=log_probs[targets])
    np.testing.assert_array_equal(indices, expected[0])
    np.testing.assert_allclose(scores, expected[1], rtol=1e-6)


def test_target_of_some_classes_steers_the_picks(forest_learner, digits_split):
    d = digits_split
    X_pool = d["X_pool"][:400]
    y_pool = d["y_pool"][:400]
    picks = {}
    for name, classes in {"low": [0, 1, 2], "high": [7, 8, 9]}.items():
        X_target = d["X_test"][np.isin(d["y_test"], classes)]
        strategy = EPIGQuery(X_target=X_target, target_subsample=None, random_state=0)
        picks[name] = y_pool[strategy(forest_learner, X_pool, 20)[0]]
    # each target set draws more of its own classes than the other set does
    low, high = [0, 1, 2], [7, 8, 9]
    assert np.isin(picks["low"], low).sum() > np.isin(picks["high"], low).sum()
    assert np.isin(picks["high"], high).sum() > np.isin(picks["low"], high).sum()


@pytest.mark.parametrize(
    "container",
    [pd.DataFrame, torch.as_tensor, lambda X: X.tolist()],
    ids=["dataframe", "tensor", "list"],
)
def test_target_containers(container, forest_learner, digits_split):
    X_pool = digits_split["X_pool"][:100]
    X_target = digits_split["X_test"][:30]
    expected = EPIGQuery(X_target=X_target, random_state=0)(forest_learner, X_pool, 3)
    got = EPIGQuery(X_target=container(X_target), random_state=0)(
        forest_learner, container(X_pool), 3
    )
    np.testing.assert_array_equal(got[0], expected[0])


@pytest.mark.parametrize("query", [EPIGQuery, BatchEPIGQuery])
def test_target_of_other_features_is_refused(query, forest_learner, digits_split):
    X_target = digits_split["X_test"][:30, :10]
    with pytest.raises(ValueError, match=r"shape \(10,\) but X_pool's have \(64,\)"):
        query(X_target=X_target)(forest_learner, digits_split["X_pool"][:50], 2)


def test_stochastic_and_clone(forest_learner, digits_split):
    X_pool = digits_split["X_pool"][:150]
    strategy = EPIGQuery(stochastic="softrank", beta=1.0, random_state=0)
    assert clone(strategy).get_params()["stochastic"] == "softrank"
    runs = {tuple(EPIGQuery(stochastic="softrank", random_state=s)(
        forest_learner, X_pool, 5)[0]) for s in range(4)}  # fmt: skip
    assert len(runs) > 1


def test_empty_target_is_refused(forest_learner, digits_split):
    with pytest.raises(ValueError, match="X_target is empty"):
        EPIGQuery(X_target=np.empty((0, 64)))(
            forest_learner, digits_split["X_pool"][:50], 2
        )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"target_subsample": 0}, ValueError, "target_subsample"),
        ({"target_subsample": 2.5}, TypeError, "target_subsample"),
        ({"X_target": 3}, TypeError, "X_target"),
        ({"max_memory": -1}, ValueError, "max_memory"),
        ({"stochastic": "top"}, ValueError, "stochastic"),
    ],
)
def test_bad_parameters_are_named(kwargs, error, message, forest_learner, digits_split):
    with pytest.raises(error, match=message):
        EPIGQuery(**kwargs)(forest_learner, digits_split["X_pool"][:50], 2)


def test_batch_epig_query_delegates(dropout_net, digits_split):
    X_pool = digits_split["X_pool"][:80] / 16
    X_target = digits_split["X_test"][:40] / 16
    strategy = BatchEPIGQuery(
        X_target=X_target, target_subsample=20, n_joint_samples=500, random_state=1
    )
    indices, scores = strategy(dropout_net, X_pool, 3)
    targets, sample_seed, draw_seed = draws(1, 80, 40, 20)
    both = predict_log_proba_samples(
        dropout_net,
        np.concatenate([X_pool, X_target[targets]]),
        random_state=sample_seed,
    )
    expected = acquisition.batch_epig(
        both[:80],
        3,
        log_probs_target=both[80:],
        n_joint_samples=500,
        random_state=draw_seed,
    )
    np.testing.assert_array_equal(indices, expected[0])
    np.testing.assert_allclose(scores, expected[1], rtol=0, atol=1e-12)
    # its first pick is EPIGQuery's on the same draws
    single = EPIGQuery(X_target=X_target, target_subsample=20, random_state=1)
    assert single(dropout_net, X_pool, 1)[0][0] == indices[0]


@pytest.mark.parametrize("query", [EPIGQuery, BatchEPIGQuery])
def test_a_nan_target_row_is_named_in_x_target(query, dropout_net, digits_split):
    # the pool and targets are sampled as one array: row 3 of the targets
    # was reported as row n_pool + 3 of "X"
    d = digits_split
    X_target = d["X_test"][:20] / 16
    X_target[3, 5] = np.nan
    strategy = query(X_target=X_target, target_subsample=None, random_state=0)
    with pytest.raises(ValueError, match=r"^X_target contains NaN .* \(first: \[3\]\)"):
        strategy(dropout_net, d["X_pool"][:50] / 16, 2)
