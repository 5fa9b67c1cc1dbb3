"""predict_multilabel_log_proba_samples and is_multilabel: every multi-label source."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from modAL.models import ActiveLearner, Committee
from sklearn.datasets import make_multilabel_classification
from sklearn.ensemble import (
    BaggingClassifier,
    ExtraTreesClassifier,
    RandomForestClassifier,
)
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import ClassifierChain, MultiOutputClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald.sampling import (
    is_multilabel,
    predict_log_proba_samples,
    predict_multilabel_log_proba_samples,
)


@pytest.fixture(scope="module")
def data():
    X, Y = make_multilabel_classification(
        80, n_features=6, n_classes=3, allow_unlabeled=True, random_state=0
    )
    return X, Y


def forest(cls=RandomForestClassifier, n=6):
    return cls(n_estimators=n, min_samples_leaf=3, random_state=0)


class TestForests:
    @pytest.mark.parametrize("cls", [RandomForestClassifier, ExtraTreesClassifier])
    def test_trees_are_samples_averaging_to_predict_proba(self, data, cls):
        X, Y = data
        model = forest(cls).fit(X, Y)
        log_probs = predict_multilabel_log_proba_samples(model, X)
        assert log_probs.shape == (80, 6, 3) and log_probs.dtype == np.float32
        expected = np.stack([p[:, 1] for p in model.predict_proba(X)], axis=1)
        np.testing.assert_allclose(np.exp(log_probs).mean(axis=1), expected, atol=1e-6)
        # tree k is sample k: its own predict_proba
        tree = np.stack([p[:, 1] for p in model.estimators_[2].predict_proba(X)], 1)
        np.testing.assert_allclose(np.exp(log_probs[:, 2]), tree, atol=1e-6)

    def test_a_label_never_seen_as_present_has_probability_zero(self, data):
        X, Y = data
        Y = Y.copy()
        Y[:, 1] = 0
        log_probs = predict_multilabel_log_proba_samples(forest().fit(X, Y), X)
        assert np.isneginf(log_probs[:, :, 1]).all()
        assert np.isfinite(log_probs[:, :, 0]).any()

    def test_boolean_indicator(self, data):
        X, Y = data
        model = forest().fit(X, Y.astype(bool))
        assert is_multilabel(model)
        expected = predict_multilabel_log_proba_samples(forest().fit(X, Y), X)
        np.testing.assert_array_equal(
            predict_multilabel_log_proba_samples(model, X), expected
        )

    def test_subsample_is_seeded(self, data):
        X, Y = data
        model = forest(n=10).fit(X, Y)
        first = predict_multilabel_log_proba_samples(model, X, 4, random_state=1)
        again = predict_multilabel_log_proba_samples(model, X, 4, random_state=1)
        assert first.shape == (80, 4, 3)
        np.testing.assert_array_equal(first, again)
        with pytest.raises(ValueError, match="exceeds the 10 trees"):
            predict_multilabel_log_proba_samples(model, X, 11)

    def test_wrappers(self, data):
        X, Y = data
        plain = predict_multilabel_log_proba_samples(forest().fit(X, Y), X)
        pipe = make_pipeline(StandardScaler(), forest()).fit(X, Y)
        search = GridSearchCV(forest(), {"max_depth": [None]}, cv=2).fit(X, Y)
        learner = ActiveLearner(forest(), X_training=X, y_training=Y)
        for wrapped in (search, learner):
            assert is_multilabel(wrapped)
            np.testing.assert_array_equal(
                predict_multilabel_log_proba_samples(wrapped, X), plain
            )
        assert is_multilabel(pipe)
        assert predict_multilabel_log_proba_samples(pipe, X).shape == (80, 6, 3)


class TestOtherSources:
    def test_multi_output_classifier_samples_each_label_on_its_own(self, data):
        X, Y = data
        model = MultiOutputClassifier(forest()).fit(X, Y)
        assert is_multilabel(model)
        log_probs = predict_multilabel_log_proba_samples(model, X)
        assert log_probs.shape == (80, 6, 3)
        for label, member in enumerate(model.estimators_):
            expected = member.predict_proba(X)[:, 1]
            np.testing.assert_allclose(
                np.exp(log_probs[:, :, label]).mean(axis=1), expected, atol=1e-6
            )

    def test_multi_output_classifier_of_unequal_sample_counts(self, data):
        X, Y = data
        model = MultiOutputClassifier(forest()).fit(X, Y)
        model.estimators_[1] = forest(n=4).fit(X, Y[:, 1])
        with pytest.raises(ValueError, match="gives 4 posterior samples"):
            predict_multilabel_log_proba_samples(model, X)

    def test_one_vs_rest_of_bagged_models_samples_each_label(self, data):
        # The usual text-tagging model, made Bayesian by bagging its base
        # estimator; a label constant in y gets OvR's constant predictor.
        X, Y = data
        Y = Y.copy()
        Y[:, 2] = 1
        bagged = BaggingClassifier(LogisticRegression(), n_estimators=5, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Label 2 is present..."
            model = OneVsRestClassifier(bagged).fit(sp.csr_matrix(X), Y)
        assert is_multilabel(model)
        log_probs = predict_multilabel_log_proba_samples(model, sp.csr_matrix(X))
        assert log_probs.shape == (80, 5, 3)
        for label in (0, 1):
            member = model.estimators_[label]
            expected = predict_log_proba_samples(member, X)[:, :, 1]
            np.testing.assert_allclose(log_probs[:, :, label], expected, atol=1e-6)
        assert (log_probs[:, :, 2] == 0).all()  # always present: log 1
        np.testing.assert_allclose(
            np.exp(log_probs).mean(axis=1), model.predict_proba(X), atol=1e-6
        )

    def test_one_vs_rest_of_a_point_estimate_names_the_fix(self, data):
        X, Y = data
        model = OneVsRestClassifier(LogisticRegression()).fit(X, Y)
        with pytest.raises(ValueError, match=r"label 0, a LogisticRegression, gives"):
            predict_multilabel_log_proba_samples(model, X)
        single = OneVsRestClassifier(LogisticRegression()).fit(X, Y[:, 0])
        assert not is_multilabel(single)

    def test_per_label_models_of_constant_labels_only(self, data):
        X, Y = data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            model = OneVsRestClassifier(forest()).fit(X, np.ones_like(Y))
        with pytest.raises(ValueError, match="every label of the OneVsRestClassifier"):
            predict_multilabel_log_proba_samples(model, X)

    def test_committee_of_multilabel_learners(self, data):
        X, Y = data
        learners = [
            ActiveLearner(KNeighborsClassifier(k), X_training=X, y_training=Y)
            for k in (3, 5)
        ]
        committee = Committee(learners)
        assert is_multilabel(committee)
        log_probs = predict_multilabel_log_proba_samples(committee, X)
        expected = [p[:, 1] for p in learners[1].estimator.predict_proba(X)]
        np.testing.assert_allclose(np.exp(log_probs[:, 1]), np.transpose(expected))

    def test_a_list_of_multilabel_classifiers(self, data):
        X, Y = data
        models = [KNeighborsClassifier(k).fit(X, Y) for k in (3, 5)]
        assert is_multilabel(models)
        log_probs = predict_multilabel_log_proba_samples(models, X)
        assert log_probs.shape == (80, 2, 3)
        expected = [p[:, 1] for p in models[1].predict_proba(X)]
        np.testing.assert_allclose(np.exp(log_probs[:, 1]), np.transpose(expected))
        with pytest.raises(ValueError, match="not a multi-label classifier"):
            predict_multilabel_log_proba_samples([], X)

    def test_custom_sampler_declares_itself_by_its_tag(self, data):
        X, _ = data

        class Sampler:
            def __init__(self, multi_label):
                self.multi_label = multi_label

            def __sklearn_tags__(self):
                from sklearn.utils import ClassifierTags, Tags, TargetTags

                return Tags(
                    estimator_type="classifier",
                    target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(multi_label=self.multi_label),
                )

            def predict_log_proba_samples(
                self, X, n_mc_samples=None, random_state=None
            ):
                return np.full((len(X), 2, 4), np.log(0.5))

        assert is_multilabel(Sampler(True))
        assert predict_multilabel_log_proba_samples(Sampler(True), X).shape == (
            80,
            2,
            4,
        )
        assert not is_multilabel(Sampler(False))
        with pytest.raises(ValueError, match="not a multi-label classifier"):
            predict_multilabel_log_proba_samples(Sampler(False), X)


class TestRefused:
    def test_classifier_chain_is_a_point_estimate(self, data):
        X, Y = data
        chain = ClassifierChain(forest(), random_state=0).fit(X, Y)
        with pytest.raises(ValueError, match=r"ClassifierChain.*not posterior samples"):
            predict_multilabel_log_proba_samples(chain, X)

    def test_multilabel_without_samples(self, data):
        X, Y = data
        knn = KNeighborsClassifier().fit(X, Y)
        assert is_multilabel(knn)
        with pytest.raises(ValueError, match="one predictive distribution per label"):
            predict_multilabel_log_proba_samples(knn, X)

    def test_single_label_and_multiclass_outputs_are_not_multilabel(self, data):
        X, Y = data
        single = forest().fit(X, Y[:, 0])
        multiclass_outputs = forest().fit(X, np.column_stack([Y[:, 0] * 2, Y[:, 1]]))
        for model in (single, multiclass_outputs):
            assert not is_multilabel(model)
            with pytest.raises(ValueError, match="not a multi-label classifier"):
                predict_multilabel_log_proba_samples(model, X)
        assert not is_multilabel(forest())  # unfitted: nothing says so yet

    def test_single_label_sampler_points_to_the_multilabel_one(self, data):
        X, Y = data
        with pytest.raises(ValueError, match="predict_multilabel_log_proba_samples"):
            predict_log_proba_samples(forest().fit(X, Y), X)

    def test_unfitted(self, data):
        X, _ = data
        with pytest.raises(NotFittedError):
            predict_multilabel_log_proba_samples(forest(), X)

    def test_dask_pool(self, data):
        da = pytest.importorskip("dask.array")
        X, Y = data
        with pytest.raises(ValueError, match="in memory"):
            predict_multilabel_log_proba_samples(forest().fit(X, Y), da.from_array(X))
