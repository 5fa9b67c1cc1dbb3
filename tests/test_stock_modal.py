"""The strategies plug into unmodified modAL (run by ``make test-compat``).

modAL 0.4.2.1's own ``ActiveLearner`` only works on scikit-learn < 1.8, so these
tests carry the ``stock_modal`` marker: the main suite deselects them and
``make test-compat`` runs them in a virtual environment with scikit-learn 1.7.
"""

import numpy as np
import pytest
from modAL.models import ActiveLearner, Committee
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald import (
    BALDQuery,
    BatchBALDQuery,
    MaxEntropyQuery,
    MCDropoutClassifier,
    MeanSTDQuery,
    PowerBALDQuery,
    RandomQuery,
    VarRatiosQuery,
)
from skbatchbald.nn import BayesianMLP

pytestmark = [
    pytest.mark.stock_modal,
    # 20 trees are a sharp posterior: BatchBALD saturates within a few picks.
    pytest.mark.filterwarnings("ignore::skbatchbald.acquisition.SaturationWarning"),
]

STRATEGIES = [
    BatchBALDQuery,
    BALDQuery,
    PowerBALDQuery,
    MaxEntropyQuery,
    VarRatiosQuery,
    MeanSTDQuery,
    RandomQuery,
]


@pytest.mark.parametrize("strategy_cls", STRATEGIES)
def test_loop_with_stock_active_learner(strategy_cls, digits_split, count_acquisitions):
    calls = count_acquisitions(strategy_cls)
    d = digits_split
    learner = ActiveLearner(
        estimator=RandomForestClassifier(n_estimators=20, random_state=0),
        query_strategy=strategy_cls(random_state=0),
        X_training=d["X_init"],
        y_training=d["y_init"],
    )
    X_pool, y_pool = d["X_pool"][:400], d["y_pool"][:400]
    for round_ in range(3):
        idx, rows, scores = learner.query(X_pool, n_instances=5, return_metrics=True)
        assert len(calls) == round_ + 1  # modAL ran the strategy once
        assert len(set(idx)) == 5 and scores.shape == (5,)
        np.testing.assert_array_equal(rows, X_pool[idx])
        learner.teach(rows, y_pool[idx])
        X_pool, y_pool = np.delete(X_pool, idx, axis=0), np.delete(y_pool, idx)
    assert learner.X_training.shape == (35, 64)


def test_stock_committee(digits_split):
    d = digits_split
    members = [
        ActiveLearner(
            estimator=LogisticRegression(C=c, max_iter=300),
            X_training=d["X_init"],
            y_training=d["y_init"],
        )
        for c in (0.01, 0.1, 1.0)
    ]
    committee = Committee(members, query_strategy=BatchBALDQuery(random_state=0))
    idx, rows = committee.query(d["X_pool"][:200], n_instances=4)
    assert len(set(idx)) == 4
    committee.teach(rows, d["y_pool"][:200][idx])
    assert all(m.X_training.shape == (24, 64) for m in committee)


def test_stock_learner_with_mc_dropout_pipeline(digits_split):
    d = digits_split
    net = MCDropoutClassifier(
        BayesianMLP, module__n_features=64, max_epochs=60, random_state=0, verbose=0
    )
    learner = ActiveLearner(
        estimator=make_pipeline(StandardScaler(), net),
        query_strategy=BatchBALDQuery(random_state=0),
        X_training=d["X_init"],
        y_training=d["y_init"],
    )
    first = learner.score(d["X_test"], d["y_test"])
    X_pool, y_pool = d["X_pool"], d["y_pool"]
    for _ in range(3):
        idx, rows = learner.query(X_pool, n_instances=10)
        learner.teach(rows, y_pool[idx])
        X_pool, y_pool = np.delete(X_pool, idx, axis=0), np.delete(y_pool, idx)
    assert learner.X_training.shape == (50, 64)
    assert learner.score(d["X_test"], d["y_test"]) > first
