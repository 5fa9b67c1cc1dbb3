"""Committee of multi-label or regressor members: predictions of the right kind."""

import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification, make_regression
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.multiclass import OneVsRestClassifier

from skbatchbald import ActiveLearner, BatchBALDQuery, Committee


def _forest(seed):
    return RandomForestClassifier(10, random_state=seed)


def _one_vs_rest(seed):
    return OneVsRestClassifier(LogisticRegression(C=0.1 + seed))


@pytest.fixture(scope="module")
def tags():
    return make_multilabel_classification(
        120, n_features=6, n_classes=4, random_state=0
    )


def _label_probabilities(model, X):
    """Each label's probability of being 1, (N, L), written out per model kind."""
    proba = model.predict_proba(X)
    if isinstance(proba, list):  # a forest: (N, 2) per label, classes [0, 1]
        return np.column_stack(
            [p[:, list(c).index(1)] for p, c in zip(proba, model.classes_, strict=True)]
        )
    return proba


@pytest.mark.parametrize("make", [_forest, _one_vs_rest])
def test_multilabel_members_vote_and_predict_per_label(tags, make):
    X, Y = tags
    members = [
        ActiveLearner(make(seed), X_training=X[:60], y_training=Y[:60])
        for seed in range(3)
    ]
    committee = Committee(members, query_strategy=BatchBALDQuery(random_state=0))
    assert committee.classes_.tolist() == [0, 1, 2, 3]

    expected = np.stack(
        [_label_probabilities(m.estimator, X[60:]) for m in members], axis=1
    )
    np.testing.assert_allclose(committee.vote_proba(X[60:]), expected)
    np.testing.assert_allclose(committee.predict_proba(X[60:]), expected.mean(1))

    predicted = committee.predict(X[60:])
    assert predicted.shape == (60, 4)
    np.testing.assert_array_equal(predicted, expected.mean(1) > 0.5)

    votes = committee.vote(X[60:])
    assert votes.shape == (60, 3, 4)
    for j, member in enumerate(members):
        np.testing.assert_array_equal(votes[:, j], member.predict(X[60:]))
    subset_accuracy = np.all(predicted == Y[60:], axis=1).mean()
    assert committee.score(X[60:], Y[60:]) == pytest.approx(subset_accuracy)


def test_regressor_members_predict_their_mean_and_score_r2():
    X, y = make_regression(150, n_features=4, noise=5.0, random_state=0)
    members = [
        ActiveLearner(
            RandomForestRegressor(10, random_state=seed),
            X_training=X[:40],
            y_training=y[:40],
        )
        for seed in range(3)
    ]
    committee = Committee(members, query_strategy=BatchBALDQuery(random_state=0))
    idx, _ = committee.query(X[40:], n_instances=2)
    committee.teach(X[40:][idx], y[40:][idx])

    each = np.column_stack([m.predict(X[100:]) for m in members])
    np.testing.assert_allclose(committee.vote(X[100:]), each)
    np.testing.assert_allclose(committee.predict(X[100:]), each.mean(axis=1))
    assert committee.score(X[100:], y[100:]) == pytest.approx(
        r2_score(y[100:], each.mean(axis=1))
    )
    for method in ("predict_proba", "vote_proba"):
        with pytest.raises(AttributeError, match="learners are regressors: predict"):
            getattr(committee, method)(X[100:])


@pytest.mark.parametrize("make", [_forest, _one_vs_rest])
def test_members_built_from_fitted_models_know_their_labels(tags, make):
    # ActiveLearner(fitted_model) has no y_training: the width comes from the model
    X, Y = tags
    members = [ActiveLearner(make(seed).fit(X[:60], Y[:60])) for seed in range(2)]
    committee = Committee(members)
    assert committee.classes_.tolist() == [0, 1, 2, 3]
    assert committee.predict(X[60:63]).shape == (3, 4)


def test_multi_output_regressor_members_keep_their_outputs_apart():
    X, Y = make_regression(60, n_features=4, n_targets=2, random_state=0)
    members = [
        ActiveLearner(RandomForestRegressor(5, random_state=seed).fit(X, Y))
        for seed in range(3)
    ]
    each = np.stack([m.predict(X[:5]) for m in members], axis=1)  # (5, 3, 2)
    np.testing.assert_allclose(Committee(members).predict(X[:5]), each.mean(axis=1))
