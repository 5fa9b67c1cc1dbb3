"""predict_log_proba_samples: one entry point for nets, pipelines, ensembles, modAL."""

import warnings

import numpy as np
import pytest
from modAL.models import ActiveLearner, Committee
from sklearn.datasets import make_blobs
from sklearn.ensemble import (
    BaggingClassifier,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald import MCDropoutClassifier
from skbatchbald.nn import BayesianMLP
from skbatchbald.sampling import predict_log_proba_samples


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(
        n_samples=120, centers=3, n_features=5, cluster_std=3.0, random_state=0
    )
    return X, y


@pytest.fixture(scope="module")
def dropout_net(blobs):
    X, y = blobs
    return MCDropoutClassifier(
        BayesianMLP,
        module__n_features=5,
        module__n_classes=3,
        max_epochs=5,
        lr=1e-2,
        verbose=0,
        random_state=0,
    ).fit(StandardScaler().fit_transform(X), np.array(["a", "b", "c"])[y])


class TestEnsembles:
    @pytest.mark.parametrize("cls", [RandomForestClassifier, ExtraTreesClassifier])
    def test_forest_members_are_samples_averaging_to_predict_proba(self, blobs, cls):
        X, y = blobs
        forest = cls(n_estimators=12, random_state=0)
        forest.fit(X, np.array(["x", "y", "z"])[y])
        log_probs = predict_log_proba_samples(forest, X)
        assert log_probs.shape == (120, 12, 3) and log_probs.dtype == np.float32
        np.testing.assert_allclose(
            np.exp(log_probs).mean(axis=1), forest.predict_proba(X), atol=1e-6
        )
        tree = forest.estimators_[4]
        np.testing.assert_allclose(
            np.exp(log_probs[:, 4]), tree.predict_proba(X), atol=1e-6
        )

    @pytest.mark.parametrize("labels", [[1, 2, 3], [5, 6, 7], ["u", "v", "w"]])
    def test_bagging_members_that_missed_classes_are_mapped(self, blobs, labels):
        X, y = blobs
        bag = BaggingClassifier(
            # no sample_weight in fit, so rows are really subsampled
            KNeighborsClassifier(n_neighbors=1),
            n_estimators=15,
            max_samples=3,  # members see 3 rows: many miss a class
            max_features=0.6,  # and a subset of the columns
            random_state=0,
        ).fit(X, np.asarray(labels)[y])
        assert min(len(m.classes_) for m in bag.estimators_) < 3
        log_probs = predict_log_proba_samples(bag, X)
        assert log_probs.shape == (120, 15, 3)
        np.testing.assert_allclose(
            np.exp(log_probs).mean(axis=1), bag.predict_proba(X), atol=1e-6
        )

    def test_exact_zero_probabilities_give_minus_inf_without_warning(self, blobs):
        X, y = blobs
        forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            log_probs = predict_log_proba_samples(forest, X)
        assert np.isneginf(log_probs).any()
        assert not np.isnan(log_probs).any()

    def test_subsampling_members_is_reproducible(self, blobs):
        X, y = blobs
        forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
        full = predict_log_proba_samples(forest, X)
        a = predict_log_proba_samples(forest, X, n_mc_samples=6, random_state=1)
        b = predict_log_proba_samples(forest, X, n_mc_samples=6, random_state=1)
        c = predict_log_proba_samples(forest, X, n_mc_samples=6, random_state=2)
        assert a.shape == (120, 6, 3)
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
        # each sample is one distinct member
        picked = [
            next(j for j in range(20) if np.array_equal(a[:, k], full[:, j]))
            for k in range(6)
        ]
        assert len(set(picked)) == 6

    def test_too_many_samples(self, blobs):
        forest = RandomForestClassifier(n_estimators=4, random_state=0).fit(*blobs)
        with pytest.raises(ValueError, match="n_mc_samples=5 exceeds the 4 members"):
            predict_log_proba_samples(forest, blobs[0], n_mc_samples=5)
        with pytest.raises(ValueError, match="positive int"):
            predict_log_proba_samples(forest, blobs[0], n_mc_samples=0)

    def test_unfitted_ensemble(self, blobs):
        with pytest.raises(NotFittedError):
            predict_log_proba_samples(RandomForestClassifier(), blobs[0])


class TestDispatch:
    def test_mc_dropout_classifier_uses_its_method(self, dropout_net, blobs):
        X = StandardScaler().fit_transform(blobs[0])
        np.testing.assert_array_equal(
            predict_log_proba_samples(dropout_net, X, n_mc_samples=4, random_state=0),
            dropout_net.predict_log_proba_samples(X, n_mc_samples=4, random_state=0),
        )

    def test_pipeline_transforms_then_samples_the_last_step(self, blobs):
        X, y = blobs
        net = MCDropoutClassifier(
            BayesianMLP,
            module__n_features=5,
            module__n_classes=3,
            max_epochs=3,
            verbose=0,
            random_state=0,
        )
        pipe = make_pipeline(StandardScaler(), net).fit(X * 50, y)
        log_probs = predict_log_proba_samples(pipe, X * 50, 4, random_state=0)
        expected = pipe[-1].predict_log_proba_samples(
            pipe[0].transform(X * 50), 4, random_state=0
        )
        np.testing.assert_array_equal(log_probs, expected)
        forest_pipe = make_pipeline(
            StandardScaler(), RandomForestClassifier(n_estimators=3, random_state=0)
        ).fit(X, y)
        np.testing.assert_allclose(
            np.exp(predict_log_proba_samples(forest_pipe, X)).mean(1),
            forest_pipe.predict_proba(X),
            atol=1e-6,
        )

    def test_modal_learner_samples_its_estimator(self, dropout_net, blobs):
        X = StandardScaler().fit_transform(blobs[0])
        learner = ActiveLearner(estimator=dropout_net)
        np.testing.assert_array_equal(
            predict_log_proba_samples(learner, X, n_mc_samples=3, random_state=5),
            dropout_net.predict_log_proba_samples(X, n_mc_samples=3, random_state=5),
        )

    def test_modal_committee_each_learner_one_sample(self, blobs):
        X, y = blobs
        labels = np.array(["a", "b", "c"])[y]
        full = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, labels)
        partial = LogisticRegression().fit(X[y != 2], labels[y != 2])
        committee = Committee(
            learner_list=[
                ActiveLearner(estimator=full),
                ActiveLearner(estimator=partial),
            ]
        )
        log_probs = predict_log_proba_samples(committee, X)
        assert log_probs.shape == (120, 2, 3)
        np.testing.assert_allclose(
            np.exp(log_probs[:, 0]), full.predict_proba(X), atol=1e-6
        )
        np.testing.assert_allclose(
            np.exp(log_probs[:, 1, :2]), partial.predict_proba(X), atol=1e-6
        )
        assert np.isneginf(log_probs[:, 1, 2]).all()  # never saw class "c"
        one = predict_log_proba_samples(committee, X, n_mc_samples=1, random_state=0)
        assert one.shape == (120, 1, 3)

    def test_any_estimator_with_the_method_is_forwarded(self):
        class Sampler:
            def predict_log_proba_samples(
                self, X, n_mc_samples=None, random_state=None
            ):
                self.called = (n_mc_samples, random_state)
                return np.zeros((len(X), n_mc_samples, 2), dtype=np.float64)

        sampler = Sampler()
        out = predict_log_proba_samples(sampler, np.ones((3, 1)), 4, random_state=9)
        assert out.shape == (3, 4, 2) and out.dtype == np.float32
        assert sampler.called == (4, 9)

    def test_max_memory_and_n_jobs_reach_the_estimator_only_when_given(self):
        class Sampler:
            def predict_log_proba_samples(self, X, n_mc_samples=None, **kwargs):
                self.kwargs = kwargs
                return np.zeros((len(X), n_mc_samples, 2))

        sampler = Sampler()
        predict_log_proba_samples(sampler, np.ones((3, 1)), 2)
        assert sampler.kwargs == {"random_state": None}
        pipe = make_pipeline(StandardScaler(), sampler)
        pipe[0].fit(np.ones((3, 1)))
        predict_log_proba_samples(pipe, np.ones((3, 1)), 2, max_memory="1MB", n_jobs=2)
        assert sampler.kwargs == {
            "random_state": None,
            "max_memory": "1MB",
            "n_jobs": 2,
        }

    @pytest.mark.slow  # starts worker processes
    def test_max_memory_and_n_jobs_do_not_change_a_nets_samples(
        self, dropout_net, blobs
    ):
        X = StandardScaler().fit_transform(blobs[0])
        expected = dropout_net.predict_log_proba_samples(X, 6, random_state=1)
        out = predict_log_proba_samples(
            dropout_net, X, 6, random_state=1, max_memory=20_000, n_jobs=2
        )
        np.testing.assert_allclose(out, expected, atol=1e-5, rtol=0)
        with pytest.raises(ValueError, match="raise max_memory"):
            predict_log_proba_samples(dropout_net, X, 6, max_memory=64)

    def test_wrong_shape_from_a_custom_method(self):
        class Flat:
            def predict_log_proba_samples(
                self, X, n_mc_samples=None, random_state=None
            ):
                return np.zeros((len(X), 2))

        with pytest.raises(ValueError, match=r"expected \(N, K, C\)"):
            predict_log_proba_samples(Flat(), np.ones((3, 1)))

    @pytest.mark.parametrize(
        "estimator",
        [
            LogisticRegression(),
            "a string",
            GradientBoostingClassifier(n_estimators=2),
        ],
        ids=["logreg", "str", "gradient_boosting"],
    )
    def test_unsupported_estimators_raise_type_error(self, blobs, estimator):
        if not isinstance(estimator, str):
            estimator.fit(*blobs)
        with pytest.raises(TypeError, match="Supported: an MCDropoutClassifier"):
            predict_log_proba_samples(estimator, blobs[0])
