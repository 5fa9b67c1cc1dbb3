"""modAL's class-probability strategies refused on targets they misread."""

import numpy as np
import pytest
from modAL.batch import uncertainty_batch_sampling
from modAL.disagreement import max_std_sampling, vote_entropy_sampling
from modAL.multilabel import avg_score
from modAL.uncertainty import entropy_sampling, margin_sampling, uncertainty_sampling
from sklearn.datasets import make_multilabel_classification, make_regression
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald import ActiveLearner, Committee


@pytest.fixture(scope="module")
def tags():
    return make_multilabel_classification(
        100, n_features=5, n_classes=4, random_state=0
    )


@pytest.fixture(scope="module")
def targets():
    return make_regression(80, n_features=3, random_state=0)


@pytest.mark.parametrize(
    "strategy",
    [
        uncertainty_sampling,
        margin_sampling,
        entropy_sampling,
        uncertainty_batch_sampling,
    ],
)
def test_uncertainty_on_a_multilabel_model(tags, strategy):
    X, Y = tags
    learner = ActiveLearner(
        make_pipeline(StandardScaler(), OneVsRestClassifier(LogisticRegression())),
        query_strategy=strategy,
        X_training=X[:40],
        y_training=Y[:40],
    )
    with pytest.raises(ValueError, match="multi-label model's label probabilities"):
        learner.query(X[40:], n_instances=2)


def test_modals_multilabel_strategies_still_run(tags):
    X, Y = tags
    learner = ActiveLearner(
        OneVsRestClassifier(LogisticRegression()),
        query_strategy=avg_score,
        X_training=X[:40],
        y_training=Y[:40],
    )
    idx, _ = learner.query(X[40:], n_instances=2)
    assert idx.shape == (2,)


def test_vote_entropy_on_a_multilabel_committee(tags):
    X, Y = tags
    committee = Committee(
        [
            ActiveLearner(
                RandomForestClassifier(5, random_state=seed),
                X_training=X[:40],
                y_training=Y[:40],
            )
            for seed in range(2)
        ],
        query_strategy=vote_entropy_sampling,
    )
    with pytest.raises(ValueError, match=r"BALDQuery.*score each label"):
        committee.query(X[40:], n_instances=2)


@pytest.mark.parametrize("strategy", [uncertainty_sampling, margin_sampling])
def test_uncertainty_on_a_regressor(targets, strategy):
    X, y = targets
    learner = ActiveLearner(
        RandomForestRegressor(5, random_state=0),
        query_strategy=strategy,
        X_training=X[:20],
        y_training=y[:20],
    )
    with pytest.raises(ValueError, match="RandomForestRegressor is a regressor"):
        learner.query(X[20:], n_instances=2)


def test_max_std_still_runs_on_a_gaussian_process(targets):
    X, y = targets
    learner = ActiveLearner(
        GaussianProcessRegressor(),
        query_strategy=max_std_sampling,
        X_training=X[:20],
        y_training=y[:20],
    )
    idx, _ = learner.query(X[20:], n_instances=2)
    assert idx.shape == (2,) and np.unique(idx).size == 2


def test_a_partial_of_a_modal_strategy_is_refused_too(tags):
    # modAL's examples fix n_instances with functools.partial
    from functools import partial

    X, Y = tags
    learner = ActiveLearner(
        OneVsRestClassifier(LogisticRegression()),
        query_strategy=partial(partial(uncertainty_batch_sampling, n_instances=3)),
        X_training=X[:40],
        y_training=Y[:40],
    )
    with pytest.raises(ValueError, match="modAL's uncertainty_batch_sampling reads"):
        learner.query(X[40:])
