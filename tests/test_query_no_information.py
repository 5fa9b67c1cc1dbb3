"""BatchBALDQuery on a pool that carries no information: a seeded uniform batch.

Every gain is 0 when the posterior samples predict alike everywhere (a model
fitted on one target value, members that all agree); the greedy's batch was
then the first rows of the pool, which a pool sorted by date biases, while
BALDQuery drew a seeded random batch.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_multilabel_classification
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression

from skbatchbald import ActiveLearner, BALDQuery, BatchBALDQuery
from skbatchbald.acquisition import (
    SaturationWarning,
    TiedScoresWarning,
    mutual_information,
)


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)


def _constant_y_learner(X, value):
    return ActiveLearner(
        RandomForestRegressor(20, random_state=0),
        X_training=X[:20],
        y_training=np.full(20, value),
    )


def _classifier_samples_that_agree(X):
    # three copies of one model: three posterior samples that agree everywhere
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(X[:40], y[:40])
    return [model, model, model]


def _multilabel_samples_that_agree():
    X, Y = make_multilabel_classification(200, n_classes=3, random_state=0)
    model = RandomForestClassifier(5, random_state=0).fit(X[:40], Y[:40])
    return [model, model, model], X[40:]


def _batch(strategy, learner, pool, n=5):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SaturationWarning)
        warnings.simplefilter("ignore", TiedScoresWarning)
        return strategy(learner, pool, n)


def _check_a_seeded_uniform_draw(learner, pool):
    with pytest.warns(SaturationWarning, match="drawn uniformly at random") as w:
        indices, scores = BatchBALDQuery(random_state=0)(learner, pool, 5)
    assert "no pool point carries information" in str(w[0].message)
    assert w[0].filename == __file__
    assert (scores == 0).all() and indices.dtype == np.int64
    # BALDQuery's tie draw from the same seed: the same batch
    bald, _ = _batch(BALDQuery(random_state=0), learner, pool)
    np.testing.assert_array_equal(indices, bald)
    again, _ = _batch(BatchBALDQuery(random_state=0), learner, pool)
    np.testing.assert_array_equal(again, indices)  # reproducible
    batches = {
        tuple(_batch(BatchBALDQuery(random_state=s), learner, pool)[0].tolist())
        for s in range(6)
    }
    assert len(batches) == 6  # the seed decides, not the pool's order
    drawn = np.concatenate([list(b) for b in batches])
    assert drawn.max() >= len(pool) // 2


@pytest.mark.parametrize("value", [0.0, 3.7, 151.3])
def test_constant_y_regressor(diabetes, value):
    # 3.7 and 151.3: the trees' leaf means differ in the last digits, which
    # is no information either
    X, _ = diabetes
    _check_a_seeded_uniform_draw(_constant_y_learner(X, value), X[20:])


def test_classifier_whose_samples_agree(diabetes):
    X, _ = diabetes
    _check_a_seeded_uniform_draw(_classifier_samples_that_agree(X), X[40:])


def test_multilabel_classifier_whose_samples_agree():
    _check_a_seeded_uniform_draw(*_multilabel_samples_that_agree())


def test_the_whole_pool_keeps_its_order(diabetes):
    X, _ = diabetes
    learner = _constant_y_learner(X, 0.0)
    with pytest.warns(SaturationWarning, match="BALD's order"):
        indices, _ = BatchBALDQuery(random_state=0)(learner, X[20:30], 10)
    np.testing.assert_array_equal(indices, np.arange(10))


def test_an_informative_pool_is_batchbalds(diabetes):
    X, y = diabetes
    learner = ActiveLearner(
        RandomForestRegressor(20, random_state=0), X_training=X[:20], y_training=y[:20]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a, _ = BatchBALDQuery(random_state=0)(learner, X[20:], 5)
        b, _ = BatchBALDQuery(random_state=1)(learner, X[20:], 5)
    np.testing.assert_array_equal(a, b)  # the greedy is exact: no draw


def test_tiny_scores_that_rank_the_pool_are_balds_order():
    # posterior samples that differ by about 5e-6 in probability: BALD scores
    # from 1e-11 to 1e-9, which BALD ranks (no tie); BatchBALD's greedy finds
    # no gain above its 1e-9 threshold and fills in BALD order: BALD's batch,
    # not a random draw
    rng = np.random.default_rng(0)
    p = (
        0.5
        + 0.5 * rng.uniform(-1, 1, (50, 1, 1))
        + 5e-6 * rng.standard_normal((50, 4, 1))
    )
    p = np.clip(p, 0.01, 0.99)
    log_probs = np.log(np.concatenate([p, 1 - p], axis=2))
    scores = mutual_information(log_probs)
    assert 1e-12 < scores.max() <= 1e-9 and scores.max() > 5 * scores.min()

    class Samples:
        def predict_log_proba_samples(self, X, n_mc_samples=None, **kwargs):
            return log_probs[np.asarray(X, dtype=int).ravel()]

    pool = np.arange(50).reshape(-1, 1)
    bald, _ = _batch(BALDQuery(random_state=0), Samples(), pool)
    batchbald, _ = _batch(BatchBALDQuery(random_state=0), Samples(), pool)
    np.testing.assert_array_equal(batchbald, bald)
    np.testing.assert_array_equal(bald, np.argsort(-scores, kind="stable")[:5])


def test_equal_scores_above_zero_are_left_to_the_joint_score():
    # every point holds the same BALD score, 0.25 nats, each in its own way
    # (the classes permuted): information, which BatchBALD's joint score
    # tells apart; the pool carries no less of it for being tied
    import itertools

    from skbatchbald.acquisition import batchbald

    base = np.log([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]])
    log_probs = np.stack([base[:, list(p)] for p in itertools.permutations(range(3))])
    scores = mutual_information(log_probs)
    assert np.ptp(scores) < 1e-15 and scores.min() > 0.25

    class Samples:
        def predict_log_proba_samples(self, X, n_mc_samples=None, **kwargs):
            return log_probs[np.asarray(X, dtype=int).ravel()]

    pool = np.arange(6).reshape(-1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SaturationWarning)
        indices, scores = BatchBALDQuery(random_state=0)(Samples(), pool, 3)
    # the greedy's batch (which of the tied points comes first is float
    # round-off): the joint score of the acquisition function's, not a draw's 0
    assert len(set(indices.tolist())) == 3
    np.testing.assert_allclose(scores, batchbald(log_probs, 3)[1], rtol=1e-6)
    assert scores[-1] > scores[0] > 0.25
