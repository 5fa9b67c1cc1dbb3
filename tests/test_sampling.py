"""predict_log_proba_samples: one entry point for nets, pipelines, ensembles, modAL."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from modAL.models import ActiveLearner, Committee, CommitteeRegressor
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_blobs
from sklearn.ensemble import (
    AdaBoostClassifier,
    BaggingClassifier,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.multioutput import MultiOutputClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from skbatchbald import MCDropoutClassifier
from skbatchbald.nn import BayesianMLP
from skbatchbald.sampling import (
    predict_log_proba_samples,
    predict_multilabel_log_proba_samples,
)


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

    def test_bagging_on_a_sparse_pool_takes_each_member_s_columns(self, blobs):
        # TF-IDF habit: a sparse pool; members fitted on a subset of columns
        X, y = blobs
        bag = BaggingClassifier(
            LogisticRegression(), n_estimators=4, max_features=0.5, random_state=0
        ).fit(sp.csr_matrix(X), y)
        sparse = predict_log_proba_samples(bag, sp.csr_matrix(X))
        np.testing.assert_allclose(sparse, predict_log_proba_samples(bag, X))
        np.testing.assert_allclose(
            np.exp(sparse).mean(axis=1), bag.predict_proba(X), atol=1e-6
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
        _assert_members_over_the_union(log_probs, full, partial, X)
        one = predict_log_proba_samples(committee, X, n_mc_samples=1, random_state=0)
        assert one.shape == (120, 1, 3)

    def test_a_list_of_classifiers_is_an_ensemble(self, blobs):
        X, y = blobs
        labels = np.array(["a", "b", "c"])[y]
        full = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, labels)
        partial = LogisticRegression().fit(X[y != 2], labels[y != 2])
        log_probs = predict_log_proba_samples([full, partial], X)
        assert log_probs.shape == (120, 2, 3)
        _assert_members_over_the_union(log_probs, full, partial, X)
        # As a Committee of the same models samples them.
        committee = Committee(
            learner_list=[ActiveLearner(estimator=m) for m in (full, partial)]
        )
        np.testing.assert_array_equal(
            log_probs, predict_log_proba_samples(committee, X)
        )
        picked = predict_log_proba_samples(
            (full, partial, full), X, n_mc_samples=2, random_state=0
        )
        assert picked.shape == (120, 2, 3)
        np.testing.assert_array_equal(
            picked,
            predict_log_proba_samples(
                (full, partial, full), X, n_mc_samples=2, random_state=0
            ),
        )

    def test_a_list_of_pipelines_and_nets(self, dropout_net, blobs):
        X, y = blobs
        scaled = StandardScaler().fit_transform(X)
        labels = np.array(["a", "b", "c"])[y]
        pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, labels)
        log_probs = predict_log_proba_samples([pipe, pipe], X)
        np.testing.assert_allclose(
            np.exp(log_probs[:, 1]), pipe.predict_proba(X), atol=1e-6
        )
        nets = predict_log_proba_samples([dropout_net, dropout_net], scaled)
        np.testing.assert_allclose(
            np.exp(nets[:, 0]), dropout_net.predict_proba(scaled), atol=1e-6
        )

    def test_a_list_that_is_no_ensemble_of_classifiers_is_refused(self, blobs):
        X, y = blobs
        fitted = LogisticRegression().fit(X, y)
        with pytest.raises(ValueError, match="holds no model"):
            predict_log_proba_samples([], X)
        with pytest.raises(NotFittedError):
            predict_log_proba_samples([fitted, LogisticRegression()], X)
        with pytest.raises(TypeError, match="model 1 of the list is a SVC"):
            predict_log_proba_samples([fitted, SVC().fit(X, y)], X)
        with pytest.raises(ValueError, match="LinearRegression is a regressor"):
            predict_log_proba_samples([fitted, LinearRegression().fit(X, y)], X)
        strings = LogisticRegression().fit(X, y.astype(str))
        with pytest.raises(ValueError, match="labels of different types"):
            predict_log_proba_samples([fitted, strings], X)
        indicator = np.stack([y == 0, y == 1], axis=1).astype(int)
        multilabel = RandomForestClassifier(3, random_state=0).fit(X, indicator)
        with pytest.raises(ValueError, match="multi-label or multi-output"):
            predict_log_proba_samples([multilabel, multilabel], X)

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

    @pytest.mark.parametrize("fitted", [True, False])
    @pytest.mark.parametrize("estimator", ["a string", 3, StandardScaler()])
    def test_unsupported_objects_raise_type_error(self, blobs, estimator, fitted):
        if fitted and hasattr(estimator, "fit"):
            estimator = clone(estimator).fit(blobs[0])
        with pytest.raises(TypeError, match="Supported: an MCDropoutClassifier"):
            predict_log_proba_samples(estimator, blobs[0])


def _digit_like(blobs):
    X, y = blobs
    return X, np.array(["a", "b", "c"])[y]


POINT_ESTIMATORS = {
    "logreg": lambda: LogisticRegression(max_iter=500),
    "kneighbors": lambda: KNeighborsClassifier(n_neighbors=5),
    "svc": lambda: SVC(probability=True, random_state=0),
    "calibrated_svc": lambda: CalibratedClassifierCV(SVC(), ensemble=False),
    "gradient_boosting": lambda: GradientBoostingClassifier(
        n_estimators=5, random_state=0
    ),
    "adaboost": lambda: AdaBoostClassifier(n_estimators=5, random_state=0),
    "voting": lambda: VotingClassifier(
        [
            ("lr", LogisticRegression(max_iter=500)),
            ("rf", RandomForestClassifier(n_estimators=5, random_state=0)),
        ],
        voting="soft",
        weights=[3, 1],
    ),
    "stacking": lambda: StackingClassifier(
        [
            ("lr", LogisticRegression(max_iter=500)),
            ("rf", RandomForestClassifier(n_estimators=5, random_state=0)),
        ],
        cv=3,
    ),
    "pipeline": lambda: make_pipeline(StandardScaler(), LogisticRegression()),
    "grid_search": lambda: GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression()),
        {"logisticregression__C": [0.1, 1.0]},
        cv=3,
    ),
}


# scikit-learn 1.9 deprecates SVC(probability=True); it still has predict_proba.
@pytest.mark.filterwarnings("ignore:The `probability` parameter:FutureWarning")
class TestPointEstimates:
    """Classifiers without posterior samples: refused, or one sample when allowed."""

    @pytest.mark.parametrize("make", POINT_ESTIMATORS.values(), ids=POINT_ESTIMATORS)
    def test_refused_as_posterior_samples(self, blobs, make):
        model = make().fit(*_digit_like(blobs))
        with pytest.raises(ValueError, match="not posterior samples") as info:
            predict_log_proba_samples(model, blobs[0])
        # the message names what gives samples, and what works with one
        assert "MCDropoutClassifier" in str(info.value)
        assert "RandomForestClassifier" in str(info.value)
        assert "modAL Committee" in str(info.value)
        assert "MarginQuery" in str(info.value)

    @pytest.mark.parametrize("make", POINT_ESTIMATORS.values(), ids=POINT_ESTIMATORS)
    def test_allowed_as_one_sample_equal_to_predict_proba(self, blobs, make):
        X, labels = _digit_like(blobs)
        model = make().fit(X, labels)
        log_probs = predict_log_proba_samples(
            model, X, allow_point_estimate=True, random_state=3
        )
        assert log_probs.shape == (120, 1, 3) and log_probs.dtype == np.float32
        np.testing.assert_allclose(
            np.exp(log_probs[:, 0]), model.predict_proba(X), atol=1e-6
        )

    def test_voting_classifier_of_networks_is_not_an_ensemble_of_samples(self, blobs):
        X, y = blobs
        X = StandardScaler().fit_transform(X)

        def net(seed):
            return MCDropoutClassifier(
                BayesianMLP,
                module__n_features=5,
                max_epochs=2,
                verbose=0,
                random_state=seed,
            )

        voting = VotingClassifier([("a", net(0)), ("b", net(1))], voting="soft").fit(
            X, y
        )
        with pytest.raises(ValueError, match="VotingClassifier gives one predictive"):
            predict_log_proba_samples(voting, X)
        one = predict_log_proba_samples(voting, X, allow_point_estimate=True)
        np.testing.assert_allclose(
            np.exp(one[:, 0]), voting.predict_proba(X), atol=1e-5
        )

    def test_samples_are_still_samples_when_point_estimates_are_allowed(
        self, blobs, dropout_net
    ):
        X, y = blobs
        forest = RandomForestClassifier(n_estimators=7, random_state=0).fit(X, y)
        np.testing.assert_array_equal(
            predict_log_proba_samples(forest, X, allow_point_estimate=True),
            predict_log_proba_samples(forest, X),
        )
        Xs = StandardScaler().fit_transform(X)
        np.testing.assert_array_equal(
            predict_log_proba_samples(
                dropout_net, Xs, 4, random_state=0, allow_point_estimate=True
            ),
            predict_log_proba_samples(dropout_net, Xs, 4, random_state=0),
        )

    def test_more_than_one_sample_asked_of_a_point_estimate(self, blobs):
        model = LogisticRegression().fit(*blobs)
        with pytest.raises(ValueError, match=r"n_mc_samples=3 .*n_mc_samples=None"):
            predict_log_proba_samples(
                model, blobs[0], n_mc_samples=3, allow_point_estimate=True
            )
        one = predict_log_proba_samples(
            model, blobs[0], n_mc_samples=1, allow_point_estimate=True
        )
        assert one.shape == (120, 1, 3)

    @pytest.mark.parametrize(
        "model",
        [
            SVC(),
            VotingClassifier(
                [("lr", LogisticRegression()), ("nb", GaussianNB())], voting="hard"
            ),
        ],
        ids=["svc", "hard_voting"],
    )
    def test_classifier_without_predict_proba(self, blobs, model):
        model.fit(*blobs)
        with pytest.raises(ValueError, match="has no predict_proba"):
            predict_log_proba_samples(model, blobs[0], allow_point_estimate=True)

    def test_bagging_of_members_without_predict_proba(self, blobs):
        # bagging's own predict_proba (the members' vote fractions) is a
        # predictive distribution for margin and entropy; it was refused
        from sklearn.ensemble import BaggingClassifier
        from sklearn.linear_model import SGDClassifier

        X, y = blobs
        model = BaggingClassifier(SGDClassifier(random_state=0), n_estimators=5)
        model.fit(X, y)
        one = predict_log_proba_samples(model, X, allow_point_estimate=True)
        assert one.shape == (len(X), 1, 3)
        np.testing.assert_allclose(np.exp(one[:, 0]), model.predict_proba(X))
        with pytest.raises(TypeError, match=r"SGDClassifier\(loss='log_loss'\)"):
            predict_log_proba_samples(model, X)
        with pytest.raises(ValueError, match=r"hinge loss.*SGDClassifier\(loss="):
            predict_log_proba_samples(
                SGDClassifier().fit(X, y), X, allow_point_estimate=True
            )

    @pytest.mark.parametrize("allow", [False, True])
    def test_unfitted_classifier(self, blobs, allow):
        for model in (
            LogisticRegression(),
            SVC(),
            GridSearchCV(RandomForestClassifier(), {}),
        ):
            with pytest.raises(NotFittedError):
                predict_log_proba_samples(model, blobs[0], allow_point_estimate=allow)

    def test_dask_pool(self, blobs):
        da = pytest.importorskip("dask.array")
        X, y = blobs
        model = LogisticRegression().fit(X, y)
        lazy = predict_log_proba_samples(
            model, da.from_array(X, chunks=50), allow_point_estimate=True
        )
        assert lazy.shape == (120, 1, 3)
        np.testing.assert_allclose(
            np.exp(lazy.compute()[:, 0]), model.predict_proba(X), atol=1e-6
        )


class TestSearches:
    def test_grid_search_samples_its_best_estimator(self, blobs):
        X, y = blobs
        search = GridSearchCV(
            RandomForestClassifier(n_estimators=6, random_state=0),
            {"max_depth": [2, None]},
            cv=3,
        ).fit(X, y)
        np.testing.assert_array_equal(
            predict_log_proba_samples(search, X),
            predict_log_proba_samples(search.best_estimator_, X),
        )

    def test_randomized_search_over_a_pipeline(self, blobs):
        X, y = blobs
        search = RandomizedSearchCV(
            make_pipeline(
                StandardScaler(), ExtraTreesClassifier(n_estimators=5, random_state=0)
            ),
            {"extratreesclassifier__min_samples_leaf": [1, 3]},
            n_iter=2,
            cv=3,
            random_state=0,
        ).fit(X, y)
        log_probs = predict_log_proba_samples(search, X, n_mc_samples=3, random_state=1)
        assert log_probs.shape == (120, 3, 3)
        np.testing.assert_array_equal(
            log_probs,
            predict_log_proba_samples(
                search.best_estimator_, X, n_mc_samples=3, random_state=1
            ),
        )

    def test_search_without_refit(self, blobs):
        search = GridSearchCV(
            RandomForestClassifier(n_estimators=3), {"max_depth": [2, 3]}, refit=False
        ).fit(*blobs)
        with pytest.raises(ValueError, match="refit=True"):
            predict_log_proba_samples(search, blobs[0])


class TestTargets:
    """Point 7 of issue 21: targets the strategies do not handle get clear errors."""

    @pytest.mark.parametrize(
        "model",
        [
            RandomForestClassifier(n_estimators=3, random_state=0),
            ExtraTreesClassifier(n_estimators=3, random_state=0),
            KNeighborsClassifier(),
        ],
        ids=["forest", "extra_trees", "kneighbors"],
    )
    @pytest.mark.parametrize("allow", [False, True])
    def test_multi_output_targets(self, blobs, model, allow):
        X, y = blobs
        model.fit(X, np.column_stack([y, y % 2]))  # multi-output
        with pytest.raises(
            ValueError,
            match=r"multi-label or multi-output.*predict_multilabel_log_proba_samples",
        ) as info:
            predict_log_proba_samples(model, X, allow_point_estimate=allow)
        assert "one label per row" in str(info.value)
        assert "MultiLabelBinarizer" not in str(info.value)  # numbers, not names
        # rows of label names: meant as label sets, so the encoding is named
        names = np.array(["cat", "dog", "owl"])
        model.fit(X, np.column_stack([names[y], names[(y + 1) % 3]]))
        with pytest.raises(ValueError, match=r"MultiLabelBinarizer\(\)"):
            predict_log_proba_samples(model, X, allow_point_estimate=allow)

    def test_multi_label_indicator_targets(self, blobs):
        X, y = blobs
        labels = np.eye(3, dtype=int)[y]
        labels[:, 0] = 1  # two labels per row: multi-label
        forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, labels)
        with pytest.raises(ValueError, match="multi-label"):
            predict_log_proba_samples(forest, X)
        mlp = MLPClassifier(max_iter=50, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # not converged in 50 iterations
            mlp.fit(X, labels)
        with pytest.raises(
            ValueError, match=r"do not sum to 1.*multi-label classifier"
        ):
            predict_log_proba_samples(mlp, X, allow_point_estimate=True)

    def test_a_model_fitted_on_one_class_says_there_is_nothing_to_rank(self, blobs):
        X, y = blobs
        labels = np.full(len(y), "a")
        forest = RandomForestClassifier(n_estimators=3, random_state=0)
        tree = DecisionTreeClassifier(random_state=0).fit(X, labels)
        pipeline = make_pipeline(StandardScaler(), clone(forest)).fit(X, labels)
        learner = ActiveLearner(clone(forest), X_training=X, y_training=labels)
        pattern = r"one class only \(class 'a'\).*RandomQuery.*TypiClustQuery"
        for model in (forest.fit(X, labels), pipeline, [tree, tree], learner):
            with pytest.raises(ValueError, match=pattern):
                predict_log_proba_samples(model, X)
        with pytest.raises(ValueError, match=pattern):
            predict_log_proba_samples(tree, X, allow_point_estimate=True)
        committee = Committee([ActiveLearner(tree), ActiveLearner(tree)])
        with pytest.raises(ValueError, match="Committee's learners were fitted on one"):
            predict_log_proba_samples(committee, X)
        # A multi-label model's label seen constant is one class too, and is
        # sampled: probability 0 of a 1.
        indicator = np.column_stack([y == 0, np.zeros_like(y)]).astype(int)
        multilabel = MultiOutputClassifier(clone(forest)).fit(X, indicator)
        log_probs = predict_multilabel_log_proba_samples(multilabel, X)
        assert np.isneginf(log_probs[:, :, 1]).all()

    def test_a_one_class_model_is_refused_before_a_dask_pool_is_sampled(self, blobs):
        da = pytest.importorskip("dask.array")
        X, y = blobs
        forest = RandomForestClassifier(n_estimators=3, random_state=0)
        forest.fit(X, np.zeros(len(y), dtype=int))
        with pytest.raises(ValueError, match=r"one class only \(class 0\)"):
            predict_log_proba_samples(forest, da.from_array(X, chunks=50))

    @pytest.mark.parametrize(
        "model",
        [
            RandomForestRegressor(n_estimators=3, random_state=0),
            LinearRegression(),
            make_pipeline(StandardScaler(), RandomForestRegressor(n_estimators=3)),
        ],
        ids=["forest", "linear", "pipeline"],
    )
    @pytest.mark.parametrize("fitted", [True, False])
    def test_regressors(self, blobs, model, fitted):
        X, y = blobs
        if fitted:
            model = clone(model).fit(X, y.astype(float))
        with pytest.raises(ValueError, match="gives the class log-probabilities"):
            predict_log_proba_samples(
                model, X if fitted else X[:0], allow_point_estimate=True
            )

    def test_modal_committee_of_regressors(self, blobs):
        X, y = blobs
        committee = CommitteeRegressor(
            [
                ActiveLearner(
                    estimator=RandomForestRegressor(n_estimators=2, random_state=s),
                    X_training=X,
                    y_training=y.astype(float),
                )
                for s in range(2)
            ]
        )
        with pytest.raises(ValueError, match=r"use skbatchbald\.sampling\.predict_"):
            predict_log_proba_samples(committee, X)

    def test_other_unfitted_estimators_are_still_not_fitted(self, blobs):
        for model in (
            RandomForestClassifier(),
            BaggingClassifier(),
            make_pipeline(RandomForestClassifier()),
        ):
            with pytest.raises(NotFittedError):
                predict_log_proba_samples(model, blobs[0])


def _frame_cases():
    import pandas as pd
    from sklearn.ensemble import BaggingRegressor

    from skbatchbald.sampling import (
        predict_multilabel_log_proba_samples,
        predict_samples,
    )

    X, y = make_blobs(n_samples=60, centers=3, n_features=4, random_state=0)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    indicator = np.stack([y == 0, y != 1], axis=1).astype(int)
    return frame, [
        (RandomForestClassifier(5, random_state=0), y, predict_log_proba_samples),
        (
            BaggingClassifier(
                LogisticRegression(), 5, max_features=0.5, random_state=0
            ),
            y,
            predict_log_proba_samples,
        ),
        (BaggingRegressor(n_estimators=5, random_state=0), X[:, 0], predict_samples),
        (
            RandomForestClassifier(5, random_state=0),
            indicator,
            predict_multilabel_log_proba_samples,
        ),
    ]


@pytest.mark.parametrize("case", range(4))
def test_ensembles_check_a_dataframe_pool_against_their_feature_names(case):
    # The members were fitted on arrays: each would warn about a DataFrame's
    # names, and none can tell that its columns came in another order.
    frame, cases = _frame_cases()
    model, y, sample = cases[case]
    model.fit(frame, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from_frame = sample(model, frame, random_state=0)
    np.testing.assert_array_equal(
        from_frame, sample(model, frame.to_numpy(), random_state=0)
    )
    with pytest.raises(ValueError, match="same names in another order"):
        sample(model, frame[["d", "c", "b", "a"]], random_state=0)
    with pytest.raises(ValueError, match=r"missing \['a'\], unexpected \['A'\]"):
        sample(model, frame.rename(columns={"a": "A"}), random_state=0)


@pytest.mark.parametrize("case", [0, 2, 3])
def test_ensembles_read_pandas_nullable_columns_with_missing_values(case):
    # df.convert_dtypes() or read_parquet(dtype_backend=...) give Float64,
    # Int64 and boolean columns holding pd.NA; to_numpy made them objects
    import pandas as pd

    frame, cases = _frame_cases()
    model, y, sample = cases[case]
    frame = frame.copy()
    frame.iloc[::7, 0] = np.nan
    frame["b"] = (frame["b"] * 10).round()
    frame["c"] = frame["c"] > 0
    model.fit(frame, y)
    nullable = frame.convert_dtypes()
    nullable["c"] = nullable["c"].astype("boolean")
    nullable.iloc[::5, 2] = pd.NA
    assert {str(t) for t in nullable.dtypes} == {"Float64", "Int64", "boolean"}
    assert nullable.isna().to_numpy().any()
    floats = nullable.astype("float64")  # what scikit-learn's predict reads
    np.testing.assert_array_equal(
        sample(model, nullable, random_state=0), sample(model, floats, random_state=0)
    )


def _assert_members_over_the_union(log_probs, full, partial, X):
    """Sample 0 is ``full``'s probabilities, sample 1 ``partial``'s, which never
    saw the third class: -inf there."""
    np.testing.assert_allclose(
        np.exp(log_probs[:, 0]), full.predict_proba(X), atol=1e-6
    )
    np.testing.assert_allclose(
        np.exp(log_probs[:, 1, :2]), partial.predict_proba(X), atol=1e-6
    )
    assert np.isneginf(log_probs[:, 1, 2]).all()


def test_a_dict_pool_for_a_model_that_is_no_skorch_net_names_the_fix(blobs):
    X, y = blobs
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    pool = {"left": X[:, :1], "right": X[:, 1:]}
    with pytest.raises(ValueError, match=r"dict of inputs \('left', 'right'\).*hstack"):
        predict_log_proba_samples(forest, pool)


def test_one_vs_rest_of_bagging_on_one_class_per_row_names_the_ensemble():
    # the tagging model reused for a single-label topic task
    from sklearn.ensemble import BaggingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), np.arange(60) % 3
    bagged = BaggingClassifier(LogisticRegression(), n_estimators=4, random_state=0)
    model = OneVsRestClassifier(bagged).fit(X, y)
    with pytest.raises(
        ValueError,
        match=r"multi-label targets only.*use the BaggingClassifier itself",
    ):
        predict_log_proba_samples(model, X)
    # what it names gives samples
    assert predict_log_proba_samples(bagged.fit(X, y), X).shape == (60, 4, 3)
