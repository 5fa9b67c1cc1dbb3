"""A labelled set of one class: its rows are kept, the model stays unfitted.

A cold start on a rare class often labels a first batch of one class only,
and a model that needs two (LogisticRegression, an MCDropoutClassifier
without classes=) cannot be fitted on it. The labels were paid for: the
learner keeps them and fits once a second class is taught.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from modAL.models import Committee
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from skbatchbald import (
    ActiveLearner,
    BatchBALDQuery,
    MarginQuery,
    MCDropoutClassifier,
    RandomQuery,
    TypiClustQuery,
)
from skbatchbald.nn import BayesianMLP

KEPT = r"could not be fitted on one class"


def logistic():
    return LogisticRegression(max_iter=2000)


@pytest.fixture(scope="module")
def rare():
    """A pool with 2 % positives, as in the user's trial."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 5))
    y = (rng.random(1000) < 0.02).astype(int)
    X[y == 1] += 2.0
    negatives, positives = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    return X, y, negatives, positives


def assert_unfitted(learner, X):
    assert not learner.__sklearn_is_fitted__()
    with pytest.raises(NotFittedError):
        check_is_fitted(learner.estimator)
    with pytest.raises(NotFittedError):
        learner.predict(X[:3])
    with pytest.raises(NotFittedError):
        learner.predict_proba(X[:3])


class TestTeach:
    def test_a_first_batch_of_one_class_is_kept_with_a_warning(self, rare):
        X, y, negatives, _ = rare
        rows = negatives[:20]
        learner = ActiveLearner(logistic())
        with pytest.warns(UserWarning, match=KEPT) as record:
            learner.teach(X[rows], y[rows])
        message = str(record[0].message)
        for part in ("LogisticRegression", "20 rows", "label 0", "second class"):
            assert part in message
        assert "RandomQuery" in message and "TypiClustQuery" in message
        assert record[0].filename == __file__  # points at the user's line
        np.testing.assert_array_equal(learner.X_training, X[rows])
        np.testing.assert_array_equal(learner.y_training, y[rows])
        assert_unfitted(learner, X)

    def test_posterior_strategies_still_say_the_model_is_unfitted(self, rare):
        X, y, negatives, _ = rare
        for strategy in (BatchBALDQuery(random_state=0), MarginQuery()):
            learner = ActiveLearner(logistic(), query_strategy=strategy)
            with pytest.warns(UserWarning, match=KEPT):
                learner.teach(X[negatives[:20]], y[negatives[:20]])
            with pytest.raises(NotFittedError, match="RandomQuery"):
                learner.query(X, n_instances=5)

    def test_the_model_free_strategies_keep_picking(self, rare):
        X, y, negatives, _ = rare
        for strategy in (RandomQuery(random_state=0), TypiClustQuery(random_state=0)):
            learner = ActiveLearner(logistic(), query_strategy=strategy)
            with pytest.warns(UserWarning, match=KEPT):
                learner.teach(X[negatives[:20]], y[negatives[:20]])
            idx, rows = learner.query(X[negatives[20:]], n_instances=5)
            assert len(np.unique(idx)) == 5
            np.testing.assert_array_equal(rows, X[negatives[20:]][idx])

    def test_the_teach_that_brings_a_second_class_fits_on_every_kept_row(self, rare):
        X, y, negatives, positives = rare
        learner = ActiveLearner(logistic())
        with pytest.warns(UserWarning, match=KEPT):
            learner.teach(X[negatives[:20]], y[negatives[:20]])
        with pytest.warns(UserWarning, match=r"40 rows"):  # still one class
            learner.teach(X[negatives[20:40]], y[negatives[20:40]])
        assert len(learner.y_training) == 40
        assert_unfitted(learner, X)
        rows = np.concatenate([negatives[40:45], positives[:3]])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            learner.teach(X[rows], y[rows])
        every = np.concatenate([negatives[:40], rows])
        np.testing.assert_array_equal(learner.X_training, X[every])
        expected = logistic().fit(X[every], y[every])
        np.testing.assert_allclose(learner.estimator.coef_, expected.coef_)
        np.testing.assert_array_equal(learner.classes_, [0, 1])

    def test_the_estimator_object_is_the_one_given(self, rare):
        # the user's own reference (and a Committee's) sees the same state
        X, y, negatives, positives = rare
        model = logistic()
        learner = ActiveLearner(model)
        with pytest.warns(UserWarning, match=KEPT):
            learner.teach(X[negatives[:10]], y[negatives[:10]])
        assert learner.estimator is model
        assert not hasattr(model, "classes_")  # not half-fitted
        learner.teach(X[positives[:2]], y[positives[:2]])
        assert learner.estimator is model and model.coef_.shape == (1, 5)

    def test_a_pipeline_is_left_unfitted_too(self, rare):
        X, y, negatives, positives = rare
        learner = ActiveLearner(make_pipeline(StandardScaler(), logistic()))
        with pytest.warns(UserWarning, match=KEPT):
            learner.teach(X[negatives[:10]], y[negatives[:10]])
        assert_unfitted(learner, X)
        learner.teach(X[positives[:2]], y[positives[:2]])
        assert learner.predict(X[:3]).shape == (3,)

    def test_sample_weights_stay_with_the_kept_rows(self, rare):
        X, y, negatives, positives = rare
        w = np.random.default_rng(1).uniform(0.2, 3.0, len(X))
        first, second = negatives[:20], np.concatenate([negatives[20:25], positives])
        learner = ActiveLearner(logistic())
        with pytest.warns(UserWarning, match=KEPT):
            learner.teach(X[first], y[first], sample_weight=w[first])
        learner.teach(X[second], y[second], sample_weight=w[second])
        every = np.concatenate([first, second])
        expected = logistic().fit(X[every], y[every], sample_weight=w[every])
        np.testing.assert_allclose(learner.estimator.coef_, expected.coef_)

    def test_pandas_rows_are_kept_as_pandas(self, rare):
        X, y, negatives, positives = rare
        frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
        labels = pd.Series(np.where(y == 1, "fraud", "ok"), name="label")
        learner = ActiveLearner(logistic())
        with pytest.warns(UserWarning, match="label 'ok'"):
            learner.teach(frame.iloc[negatives[:20]], labels.iloc[negatives[:20]])
        assert isinstance(learner.X_training, pd.DataFrame)
        assert list(learner.X_training.index) == list(negatives[:20])
        learner.teach(frame.iloc[positives[:3]], labels.iloc[positives[:3]])
        assert set(learner.predict(frame.iloc[:50])) <= {"fraud", "ok"}
        assert list(learner.feature_names_in_) == list(frame.columns)

    def test_a_net_without_classes_keeps_the_rows_and_is_not_initialised(self, rare):
        X, y, negatives, positives = rare
        X = X.astype(np.float32)
        net = MCDropoutClassifier(
            BayesianMLP, module__n_features=5, max_epochs=3, verbose=0
        )
        learner = ActiveLearner(net)
        with pytest.warns(UserWarning, match=KEPT) as record:
            learner.teach(X[negatives[:10]], y[negatives[:10]])
        assert "classes=" in str(record[0].message)  # the net's own advice
        assert len(learner.y_training) == 10
        assert_unfitted(learner, X)
        learner.teach(X[positives[:2]], y[positives[:2]])
        assert learner.predict_proba(X[:4]).shape == (4, 2)

    def test_a_forest_fits_on_one_class_without_a_warning(self, rare):
        # a model that can fit one class is fitted as before
        X, y, negatives, _ = rare
        learner = ActiveLearner(RandomForestClassifier(n_estimators=5))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            learner.teach(X[negatives[:10]], y[negatives[:10]])
        assert learner.__sklearn_is_fitted__()


class TestOtherFailuresStillRaise:
    def test_a_failed_fit_on_two_classes_rolls_back(self, rare):
        X, y, negatives, positives = rare
        rows = np.concatenate([negatives[:10], positives[:2]])
        text = X[rows].astype(str)
        text[0, 0] = "n/a"
        learner = ActiveLearner(logistic())
        with pytest.raises(ValueError, match="could not convert"):
            learner.teach(text, y[rows])
        assert learner.X_training is None

    def test_a_bad_parameter_on_one_class_rolls_back(self, rare):
        # scikit-learn's InvalidParameterError is a ValueError, but not a y
        # it cannot fit on
        X, y, negatives, _ = rare
        learner = ActiveLearner(LogisticRegression(C=-1.0))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match="'C' parameter"):
                learner.teach(X[negatives[:10]], y[negatives[:10]])
        assert learner.X_training is None

    def test_a_bad_parameter_of_a_net_on_one_class_rolls_back(self, rare):
        # skbatchbald's own parameter errors are plain ValueErrors
        X, y, negatives, _ = rare
        net = MCDropoutClassifier(
            BayesianMLP, module__n_features=5, max_epochs=1, class_weight="auto"
        )
        learner = ActiveLearner(net)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match="class_weight must be None"):
                learner.teach(X[negatives[:10]], y[negatives[:10]])
        assert learner.X_training is None

    def test_an_error_that_is_not_a_value_error_rolls_back(self, rare):
        X, y, negatives, _ = rare

        class Broken(LogisticRegression):
            def fit(self, X, y, sample_weight=None):
                raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

        learner = ActiveLearner(Broken())
        with pytest.raises(RuntimeError, match="shapes"):
            learner.teach(X[negatives[:10]], y[negatives[:10]])
        assert learner.X_training is None

    def test_a_regressor_on_constant_targets_is_not_a_class_problem(self, rare):
        X, _, negatives, _ = rare

        class Picky(Ridge):
            def fit(self, X, y, sample_weight=None):
                raise ValueError("y has no variance")

        learner = ActiveLearner(Picky())
        with pytest.raises(ValueError, match="no variance"):
            learner.teach(X[negatives[:10]], np.zeros(10))
        assert learner.X_training is None

    def test_a_refused_batch_after_kept_rows_leaves_the_kept_rows(self, rare):
        X, y, negatives, positives = rare
        learner = ActiveLearner(logistic())
        with pytest.warns(UserWarning, match=KEPT):
            learner.teach(X[negatives[:20]], y[negatives[:20]])
        bad = X[positives[:2]].copy()
        bad[0, 0] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            learner.teach(bad, y[positives[:2]])
        np.testing.assert_array_equal(learner.X_training, X[negatives[:20]])
        assert_unfitted(learner, X)

    def test_only_new_keeps_no_rows_so_it_raises_as_before(self, rare):
        X, y, negatives, _ = rare
        learner = ActiveLearner(logistic())
        with pytest.raises(ValueError, match="2 classes"):
            learner.teach(X[negatives[:10]], y[negatives[:10]], only_new=True)
        assert learner.X_training is None

    def test_a_one_class_bootstrap_of_two_classes_raises_as_before(self):
        # the labelled set holds both classes; only the resample missed one
        X, y = np.arange(4.0).reshape(2, 2), np.array([0, 1])
        raised = 0
        for seed in range(10):
            learner = ActiveLearner(logistic(), random_state=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                try:
                    learner.teach(X, y, bootstrap=True)
                except ValueError:
                    raised += 1
                    assert learner.X_training is None
        assert 0 < raised < 10


class TestConstructorAndFit:
    def test_one_class_initial_rows_are_kept_unfitted(self, rare):
        X, y, negatives, positives = rare
        with pytest.warns(UserWarning, match=KEPT):
            learner = ActiveLearner(
                logistic(), X_training=X[negatives[:20]], y_training=y[negatives[:20]]
            )
        assert len(learner.y_training) == 20
        assert_unfitted(learner, X)
        learner.teach(X[positives[:2]], y[positives[:2]])
        every = np.concatenate([negatives[:20], positives[:2]])
        expected = logistic().fit(X[every], y[every])
        np.testing.assert_allclose(learner.estimator.coef_, expected.coef_)

    def test_fit_on_one_class_forgets_the_earlier_model(self, rare):
        # fit replaces the labelled set; a model of the old rows would be stale
        X, y, negatives, positives = rare
        rows = np.concatenate([negatives[:10], positives[:3]])
        learner = ActiveLearner(logistic(), X_training=X[rows], y_training=y[rows])
        assert learner.__sklearn_is_fitted__()
        with pytest.warns(UserWarning, match=KEPT):
            learner.fit(X[negatives[10:30]], y[negatives[10:30]])
        np.testing.assert_array_equal(learner.X_training, X[negatives[10:30]])
        assert_unfitted(learner, X)
        learner.teach(X[positives[3:5]], y[positives[3:5]])
        assert len(learner.y_training) == 22

    def test_a_given_fitted_model_taught_one_class_is_left_unfitted(self, rare):
        X, y, negatives, positives = rare
        rows = np.concatenate([negatives[:10], positives[:3]])
        learner = ActiveLearner(logistic().fit(X[rows], y[rows]))
        with pytest.warns(UserWarning, match=KEPT):
            learner.teach(X[negatives[10:20]], y[negatives[10:20]])
        assert_unfitted(learner, X)

    def test_clone_gives_an_unfitted_learner_without_rows(self, rare):
        X, y, negatives, _ = rare
        learner = ActiveLearner(logistic())
        with pytest.warns(UserWarning, match=KEPT):
            learner.teach(X[negatives[:20]], y[negatives[:20]])
        copy = clone(learner)
        assert copy.X_training is None and not copy.__sklearn_is_fitted__()


def test_a_committee_keeps_the_rows_in_every_member(rare):
    X, y, negatives, positives = rare
    committee = Committee([ActiveLearner(logistic()) for _ in range(2)])
    with pytest.warns(UserWarning, match=KEPT):
        committee.teach(X[negatives[:10]], y[negatives[:10]])
    for learner in committee:
        assert len(learner.y_training) == 10
        assert not learner.__sklearn_is_fitted__()
    assert committee.classes_ is None  # modAL's unfitted committee
    committee.teach(X[positives[:2]], y[positives[:2]])
    np.testing.assert_array_equal(committee.classes_, [0, 1])
    assert committee.predict(X[:5]).shape == (5,)
