"""Sample weights taught with their rows: teach joins them as it joins X."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald import ActiveLearner


def logistic():
    return LogisticRegression(max_iter=2000)


@pytest.fixture
def data(digits_split):
    d = digits_split
    X = np.concatenate([d["X_init"], d["X_pool"][:60]])
    y = np.concatenate([d["y_init"], d["y_pool"][:60]])
    w = np.random.default_rng(0).uniform(0.2, 3.0, len(X))
    return X, y, w


def test_a_batchs_weights_join_the_rows_taught_before(data):
    X, y, w = data
    learner = ActiveLearner(
        logistic(), X_training=X[:20], y_training=y[:20], sample_weight=w[:20]
    )
    learner.teach(X[20:50], y[20:50], sample_weight=w[20:50])
    learner.teach(X[50:60], y[50:60])  # taught without weights: weight 1
    learner.teach(X[60:], y[60:], sample_weight=w[60:])
    expected_w = np.concatenate([w[:50], np.ones(10), w[60:]])
    expected = logistic().fit(X, y, sample_weight=expected_w)
    np.testing.assert_allclose(learner.estimator.coef_, expected.coef_)
    # the weights of the whole labelled set, as before, are taken too
    whole = ActiveLearner(logistic(), X_training=X[:20], y_training=y[:20])
    whole.teach(X[20:], y[20:], sample_weight=expected_w)
    np.testing.assert_allclose(whole.estimator.coef_, expected.coef_)


def test_a_pipeline_steps_weights_and_a_refused_length(data):
    X, y, w = data
    model = make_pipeline(StandardScaler(), logistic())
    learner = ActiveLearner(model, X_training=X[:20], y_training=y[:20])
    learner.teach(X[20:], y[20:], logisticregression__sample_weight=w[20:])
    expected = make_pipeline(StandardScaler(), logistic()).fit(
        X, y, logisticregression__sample_weight=np.r_[np.ones(20), w[20:]]
    )
    np.testing.assert_allclose(learner.estimator[-1].coef_, expected[-1].coef_)
    coef = learner.estimator[-1].coef_.copy()
    with pytest.raises(ValueError, match=r"has 7 weights, and X has 5 rows"):
        learner.teach(X[:5] + 1, y[:5], logisticregression__sample_weight=w[:7])
    # refused before any fit: the labelled set and the model are as they were
    assert len(learner.X_training) == len(X)
    np.testing.assert_array_equal(learner.estimator[-1].coef_, coef)


class Recording(LogisticRegression):
    """Records the rows and weights of its last fit."""

    def fit(self, X, y, sample_weight=None):
        self.seen_ = X, sample_weight
        return super().fit(X, y, sample_weight=sample_weight)


def test_a_bootstrap_resamples_the_weights_with_their_rows(data):
    X, y, w = data
    X = X + np.arange(len(X))[:, None] * 1e-3  # every row its own
    learner = ActiveLearner(
        Recording(max_iter=2000), X_training=X[:20], y_training=y[:20]
    )
    learner.teach(X[20:], y[20:], bootstrap=True, sample_weight=w[20:])
    rows, weights = learner.estimator.seen_
    position = {row.tobytes(): i for i, row in enumerate(X)}
    taught = [position[row.tobytes()] for row in rows]
    assert len(set(taught)) < len(X)  # a resample: some rows twice
    expected = np.r_[np.ones(20), w[20:]][taught]
    np.testing.assert_array_equal(weights, expected)
    from modAL.models import Committee

    # modAL's rebag refits each learner on a resample of its rows: the kept
    # weights go along
    Committee(learner_list=[learner]).rebag()
    rows, weights = learner.estimator.seen_
    taught = [position[row.tobytes()] for row in rows]
    np.testing.assert_array_equal(weights, np.r_[np.ones(20), w[20:]][taught])


def test_a_committee_teaches_its_members_with_their_kept_weights(data):
    from modAL.models import Committee

    X, y, w = data
    members = []
    for _ in range(2):
        member = ActiveLearner(Recording(max_iter=2000))
        member.fit(X[:20], y[:20], sample_weight=w[:20])
        members.append(member)
    # modAL's Committee.teach adds the rows to each member and refits it
    Committee(learner_list=members).teach(X[20:25], y[20:25])
    for member in members:
        _, weights = member.estimator.seen_
        np.testing.assert_array_equal(weights, np.r_[w[:20], np.ones(5)])
