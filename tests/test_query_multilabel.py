"""Strategies on multi-label learners: BALD, PowerBALD and BatchBALD sum over labels;
the others refuse with the fix; modAL's loop and Pipelines."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.ensemble import BaggingClassifier, RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald import (
    ActiveLearner,
    BALDQuery,
    BatchBALDQuery,
    BatchEPIGQuery,
    EPIGQuery,
    MarginQuery,
    MaxEntropyQuery,
    MCDropoutMultiLabelClassifier,
    MeanSTDQuery,
    PowerBALDQuery,
    RandomQuery,
    VarRatiosQuery,
)
from skbatchbald.acquisition import (
    multilabel_bald,
    multilabel_batchbald,
)
from skbatchbald.nn import BayesianMLP
from skbatchbald.sampling import predict_multilabel_log_proba_samples


@pytest.fixture(scope="module")
def data():
    X, Y = make_multilabel_classification(
        150, n_features=6, n_classes=3, random_state=1
    )
    return X, Y


def forest():
    return RandomForestClassifier(12, min_samples_leaf=3, random_state=0)


@pytest.fixture(scope="module")
def fitted_forest(data):
    X, Y = data
    return forest().fit(X[:30], Y[:30])


class TestScores:
    def test_batchbald_is_multilabel_batchbald_of_the_samples(
        self, data, fitted_forest
    ):
        X, _ = data
        indices, scores = BatchBALDQuery(random_state=0)(fitted_forest, X[30:], 5)
        log_probs = predict_multilabel_log_proba_samples(fitted_forest, X[30:])
        expected = multilabel_batchbald(log_probs, 5)
        np.testing.assert_array_equal(indices, expected[0])
        np.testing.assert_allclose(scores, expected[1])

    def test_bald_is_multilabel_bald_of_the_samples(self, data, fitted_forest):
        X, _ = data
        indices, scores = BALDQuery()(fitted_forest, X[30:], 5)
        log_probs = predict_multilabel_log_proba_samples(fitted_forest, X[30:])
        expected = multilabel_bald(log_probs, 5)
        np.testing.assert_array_equal(indices, expected[0])
        np.testing.assert_allclose(scores, expected[1])

    def test_power_bald_and_stochastic_bald_are_seeded_draws(self, data, fitted_forest):
        X, _ = data
        for strategy in (
            PowerBALDQuery(random_state=3),
            BALDQuery(stochastic="softmax", random_state=3),
        ):
            first = strategy(fitted_forest, X[30:], 6)[0]
            np.testing.assert_array_equal(first, strategy(fitted_forest, X[30:], 6)[0])
            assert len(set(first.tolist())) == 6

    def test_pool_subsample_maps_back(self, data, fitted_forest):
        X, _ = data
        indices, _ = BatchBALDQuery(pool_subsample=40, random_state=0)(
            fitted_forest, X[30:], 4
        )
        assert len(set(indices.tolist())) == 4 and indices.max() < 120


class TestLoops:
    @pytest.mark.parametrize(
        "make_model",
        [
            forest,
            lambda: make_pipeline(StandardScaler(), forest()),
            lambda: MultiOutputClassifier(forest()),
            lambda: OneVsRestClassifier(
                BaggingClassifier(LogisticRegression(), n_estimators=5, random_state=0)
            ),
        ],
        ids=["forest", "pipeline", "multi_output", "one_vs_rest_bagging"],
    )
    @pytest.mark.parametrize("strategy", [BALDQuery, BatchBALDQuery, RandomQuery])
    def test_active_learner_rounds(self, data, make_model, strategy):
        X, Y = data
        learner = ActiveLearner(
            make_model(),
            query_strategy=strategy(random_state=0),
            X_training=X[:20],
            y_training=Y[:20],
        )
        pool = np.arange(20, 150)
        for _ in range(3):
            picked, _ = learner.query(X[pool], n_instances=4)
            assert len(set(picked.tolist())) == 4
            learner.teach(X[pool[picked]], Y[pool[picked]])
            pool = np.delete(pool, picked)
        assert learner.y_training.shape == (32, 3)

    def test_dropout_net_in_a_pipeline(self, data):
        X, Y = data
        net = MCDropoutMultiLabelClassifier(
            BayesianMLP,
            module__n_features=6,
            max_epochs=5,
            verbose=0,
            random_state=0,
        )
        learner = ActiveLearner(
            make_pipeline(StandardScaler(), net),
            query_strategy=BatchBALDQuery(n_mc_samples=8, random_state=0),
            X_training=X[:20],
            y_training=Y[:20],
        )
        picked, _ = learner.query(X[20:], n_instances=3)
        assert len(set(picked.tolist())) == 3
        learner.teach(X[20:][picked], Y[20:][picked])
        _, scores = learner.query_strategy(learner, X[20:], 3)
        # the cumulative objective: increasing, at most L log K
        assert (np.diff(scores) >= -1e-6).all() and scores[-1] <= 3 * np.log(8)


class TestRefusals:
    @pytest.mark.parametrize(
        "strategy",
        [
            MarginQuery(),
            MaxEntropyQuery(),
            VarRatiosQuery(),
            MeanSTDQuery(),
            EPIGQuery(),
            BatchEPIGQuery(),
        ],
        ids=lambda s: type(s).__name__,
    )
    def test_strategies_without_a_multilabel_score(self, data, fitted_forest, strategy):
        X, Y = data
        name = type(strategy).__name__
        # a OneVsRestClassifier on an indicator y is multi-label too, although
        # its base estimator is a point estimate
        one_vs_rest = OneVsRestClassifier(LogisticRegression()).fit(X[:30], Y[:30])
        for model in (fitted_forest, one_vs_rest):
            with pytest.raises(
                ValueError,
                match=rf"{name} does not support multi-label.*BALDQuery, "
                "PowerBALDQuery or BatchBALDQuery",
            ):
                strategy(model, X[30:], 2)

    @pytest.mark.filterwarnings("ignore:y looks one-hot")
    def test_a_one_hot_y_is_named_with_the_fix(self, data):
        X, Y = data
        one_hot = np.eye(3, dtype=int)[Y.argmax(axis=1)]
        learner = ActiveLearner(
            RandomForestClassifier(5, random_state=0),
            X_training=X[:30],
            y_training=one_hot[:30],
        )
        with pytest.raises(ValueError, match="one-hot y") as info:
            MarginQuery()(learner, X[30:], 2)
        assert "several labels" not in str(info.value)
        assert "learner.y_training.argmax(axis=1)" in str(info.value)
        # Once the labels are classes, Margin works.
        learner.fit(learner.X_training, learner.y_training.argmax(axis=1))
        idx, _ = MarginQuery()(learner, X[30:], 2)
        assert len(set(idx)) == 2

    def test_one_sample_is_refused(self, data, fitted_forest):
        X, _ = data
        with pytest.raises(ValueError, match="at least 2 posterior samples"):
            BatchBALDQuery(n_mc_samples=1)(fitted_forest, X, 2)

    def test_unfitted_dropout_net(self, data):
        X, _ = data
        net = MCDropoutMultiLabelClassifier(BayesianMLP, module__n_features=6)
        with pytest.raises(NotFittedError, match="RandomQuery"):
            BALDQuery()(net, X, 2)

    @pytest.mark.parametrize(
        ("new_y", "match"),
        [
            (lambda Y: Y[:, 0], r"one label per row.*3 0/1 label columns"),
            (lambda Y: Y[:, :2], r"2 0/1 label columns.*3 0/1 label columns"),
        ],
        ids=["single_label", "fewer_labels"],
    )
    def test_teaching_another_task(self, data, new_y, match):
        X, Y = data
        learner = ActiveLearner(forest(), X_training=X[:20], y_training=Y[:20])
        with pytest.raises(ValueError, match=match):
            learner.teach(X[20:22], new_y(Y[20:22]))

    def test_teaching_multilabel_to_a_single_label_learner(self, data):
        X, Y = data
        learner = ActiveLearner(forest(), X_training=X[:20], y_training=Y[:20, 0])
        with pytest.raises(ValueError, match=r"3 0/1 label columns.*one label per row"):
            learner.teach(X[20:22], Y[20:22])


def test_an_mlp_fitted_on_an_indicator_is_multilabel():
    # its classes_ is an array, not a list: it was taken for a multi-class
    # model and sent to MarginQuery and MCDropoutClassifier, which refuse it
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from skbatchbald.sampling import is_multilabel

    X, Y = make_multilabel_classification(120, n_classes=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(max_iter=20, random_state=0).fit(X[:60], Y[:60])
        binary = MLPClassifier(max_iter=20, random_state=0).fit(X[:60], Y[:60, 0])
    assert is_multilabel(mlp) and not is_multilabel(binary)
    with pytest.raises(ValueError, match="MCDropoutMultiLabelClassifier"):
        BatchBALDQuery()(mlp, X[60:], 3)
    with pytest.raises(ValueError, match="does not support multi-label models"):
        MarginQuery()(mlp, X[60:], 3)


def test_a_model_that_predicts_the_same_labels_everywhere_is_warned_about():
    # C=1e-6: every bagged model predicts each label's base rate, below 1/2,
    # so no label anywhere, though the labelled rows hold several combinations
    from sklearn.ensemble import BaggingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    from skbatchbald import ActiveLearner, BALDQuery, SkbatchbaldWarning

    X, Y = make_multilabel_classification(
        200, n_features=5, n_classes=4, n_labels=1, random_state=0
    )
    assert Y[:60].mean(axis=0).max() < 0.5
    bagged = BaggingClassifier(
        LogisticRegression(C=1e-6), n_estimators=5, random_state=0
    )
    learner = ActiveLearner(
        OneVsRestClassifier(bagged),
        query_strategy=BALDQuery(random_state=0),
        X_training=X[:60],
        y_training=Y[:60],
    )
    with pytest.warns(
        SkbatchbaldWarning,
        match=r"predicts no label for all 140 pool points and for its labelled rows,"
        r" though they hold \d+ combinations of labels",
    ):
        learner.query(X[60:], n_instances=3)
    # a model that has learnt them says nothing
    learner.estimator.set_params(estimator__estimator__C=10.0)
    learner.fit(X[:60], Y[:60])
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkbatchbaldWarning)
        learner.query(X[60:], n_instances=3)
