"""skbatchbald.ActiveLearner: modAL's learner on current scikit-learn."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from modAL.batch import uncertainty_batch_sampling
from modAL.dropout import mc_dropout_bald, mc_dropout_max_entropy, mc_dropout_mean_st
from modAL.models import ActiveLearner as ModalActiveLearner
from modAL.multilabel import max_loss, mean_max_loss
from modAL.uncertainty import uncertainty_sampling
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_multilabel_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.helper import SliceDict

from skbatchbald import (
    ActiveLearner,
    BALDQuery,
    MarginQuery,
    MCDropoutClassifier,
    RandomQuery,
)
from skbatchbald.nn import BayesianMLP


def forest():
    return RandomForestClassifier(n_estimators=20, random_state=0)


class TwoInputs(torch.nn.Module):
    """A module with two inputs, ``top`` and ``bottom``: skorch gives it a dict."""

    def __init__(self):
        super().__init__()
        self.top, self.bottom = torch.nn.Linear(32, 16), torch.nn.Linear(32, 16)
        self.dropout = torch.nn.Dropout(0.5)
        self.out = torch.nn.Linear(16, 10)

    def forward(self, top, bottom):
        return self.out(self.dropout(torch.relu(self.top(top) + self.bottom(bottom))))


class TestLoop:
    def test_five_rounds_of_query_and_teach(self, digits_split):
        d = digits_split
        learner = ActiveLearner(
            forest(),
            query_strategy=uncertainty_sampling,
            X_training=d["X_init"],
            y_training=d["y_init"],
        )
        X_pool, y_pool = d["X_pool"], d["y_pool"]
        first_acc = learner.score(d["X_test"], d["y_test"])
        for round_ in range(5):
            idx, rows = learner.query(X_pool, n_instances=10)
            assert idx.shape == (10,)
            assert len(np.unique(idx)) == 10
            assert idx.min() >= 0 and idx.max() < len(X_pool)
            np.testing.assert_array_equal(rows, X_pool[idx])
            learner.teach(X_pool[idx], y_pool[idx])
            assert learner.X_training.shape == (20 + 10 * (round_ + 1), 64)
            assert learner.y_training.shape == (20 + 10 * (round_ + 1),)
            X_pool = np.delete(X_pool, idx, axis=0)
            y_pool = np.delete(y_pool, idx)
        assert learner.score(d["X_test"], d["y_test"]) > first_acc
        # The model was refitted on everything taught, not just the last batch.
        assert learner.estimator.n_features_in_ == 64
        assert learner.predict(d["X_test"]).shape == (len(d["y_test"]),)
        proba = learner.predict_proba(d["X_test"])
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)

    def test_strategy_runs_once_per_query(self, digits_split):
        calls = []

        def strategy(learner, X, n_instances=1):
            calls.append(n_instances)
            return np.arange(n_instances)  # bare indices, not a pair

        d = digits_split
        learner = ActiveLearner(forest(), strategy, d["X_init"], d["y_init"])
        idx, _rows = learner.query(d["X_pool"], n_instances=2)
        assert calls == [2]
        # modAL 0.4.2.1 unpacks a length-2 result as (indices, metrics).
        np.testing.assert_array_equal(idx, [0, 1])
        with pytest.warns(UserWarning, match="indices only"):
            *_, metrics = learner.query(d["X_pool"], n_instances=3, return_metrics=True)
        assert metrics is None

    def test_return_metrics(self, digits_split):
        d = digits_split
        learner = ActiveLearner(
            forest(), X_training=d["X_init"], y_training=d["y_init"]
        )
        idx, _rows, metrics = learner.query(
            d["X_pool"], n_instances=4, return_metrics=True
        )
        assert metrics.shape == (4,)
        uncertainty = 1 - learner.predict_proba(d["X_pool"]).max(axis=1)
        np.testing.assert_allclose(metrics, uncertainty[idx])

    def test_only_new_fits_on_the_new_batch_only(self, digits_split):
        d = digits_split
        learner = ActiveLearner(
            LogisticRegression(max_iter=500),
            X_training=d["X_init"],
            y_training=d["y_init"],
        )
        X_new, y_new = d["X_pool"][:50], d["y_pool"][:50]
        with pytest.warns(UserWarning, match="forgets the 20 rows") as record:
            learner.teach(X_new, y_new, only_new=True)
        assert record[0].filename == __file__
        assert "fits the LogisticRegression on the new rows" in str(record[0].message)
        assert learner.X_training.shape[0] == 20
        expected = LogisticRegression(max_iter=500).fit(X_new, y_new)
        np.testing.assert_allclose(learner.estimator.coef_, expected.coef_)

    def test_only_new_warns_with_a_warm_start_too(self, digits_split):
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.model_selection import GridSearchCV

        d = digits_split
        X_new, y_new = d["X_pool"][:50], d["y_pool"][:50]
        # warm_start fits the new rows from the previous solution: converged,
        # the old rows are forgotten; boosting adds no tree at all
        warm = [
            LogisticRegression(warm_start=True, max_iter=2000),
            HistGradientBoostingClassifier(warm_start=True, max_iter=5),
            GridSearchCV(LogisticRegression(max_iter=2000), {"C": [1.0]}, cv=2),
        ]
        for model in warm:
            learner = ActiveLearner(
                model, X_training=d["X_pool"][50:90], y_training=d["y_pool"][50:90]
            )
            with pytest.warns(UserWarning, match="forgets the 40 rows"):
                learner.teach(X_new, y_new, only_new=True)
        X_all = np.concatenate([d["X_pool"][50:90], X_new])
        y_all = np.concatenate([d["y_pool"][50:90], y_new])
        p_warm = warm[0].predict_proba(d["X_test"])
        p_new = LogisticRegression(max_iter=2000).fit(X_new, y_new)
        p_all = LogisticRegression(max_iter=2000).fit(X_all, y_all)
        to_new = np.abs(p_warm - p_new.predict_proba(d["X_test"])).max()
        to_all = np.abs(p_warm - p_all.predict_proba(d["X_test"])).max()
        assert to_new < 0.1 < to_all  # the new rows' model, not all rows'

    def test_bootstrap_is_seeded(self, digits_split):
        d = digits_split

        def fitted_forest(seed):
            learner = ActiveLearner(
                forest(),
                X_training=d["X_init"],
                y_training=d["y_init"],
                bootstrap_init=True,
                random_state=seed,
            )
            learner.teach(d["X_pool"][:30], d["y_pool"][:30], bootstrap=True)
            return learner.predict_proba(d["X_test"])

        np.testing.assert_array_equal(fitted_forest(0), fitted_forest(0))
        assert not np.array_equal(fitted_forest(0), fitted_forest(1))

    def test_each_bootstrap_is_a_new_resample(self, digits_split):
        """rebag() and teach(bootstrap=True) draw afresh, the same in every run."""
        from modAL.models import Committee

        d = digits_split

        def resamples():
            recorders = [FitRecorder(), FitRecorder()]
            members = [
                ActiveLearner(
                    r,
                    X_training=d["X_init"],
                    y_training=d["y_init"],
                    bootstrap_init=True,
                    random_state=seed,
                )
                for seed, r in enumerate(recorders)
            ]
            seen = [[r.X_.copy()] for r in recorders]
            committee = Committee(members)
            for _ in range(2):
                committee.rebag()
                for rows, r in zip(seen, recorders, strict=True):
                    rows.append(r.X_.copy())
            return seen

        seen = resamples()
        for rows in seen:  # three resamples of one member all differ
            assert not np.array_equal(rows[0], rows[1])
            assert not np.array_equal(rows[1], rows[2])
        again = resamples()
        for rows, same in zip(seen, again, strict=True):
            for a, b in zip(rows, same, strict=True):
                np.testing.assert_array_equal(a, b)

    def test_bootstrap_resamples_the_training_set(self, digits_split):
        d = digits_split
        recorder = FitRecorder()
        ActiveLearner(
            recorder,
            X_training=d["X_init"],
            y_training=d["y_init"],
            bootstrap_init=True,
            random_state=0,
        )
        seen = recorder.X_
        assert seen.shape == d["X_init"].shape
        rows = {tuple(row) for row in d["X_init"]}
        assert all(tuple(row) in rows for row in seen)  # drawn from the data
        assert len({tuple(row) for row in seen}) < len(rows)  # with replacement
        # Labels stay with their rows.
        lookup = {tuple(x): t for x, t in zip(d["X_init"], d["y_init"], strict=True)}
        assert [lookup[tuple(x)] for x in seen] == list(recorder.y_)


class FitRecorder(ClassifierMixin, BaseEstimator):
    """Remembers what it was fitted on."""

    def fit(self, X, y):
        self.X_, self.y_ = np.asarray(X), np.asarray(y)
        return self


class TestContainers:
    def test_dataframe(self, digits_split):
        d = digits_split
        columns = [f"px{i}" for i in range(64)]
        X_pool = pd.DataFrame(d["X_pool"], columns=columns)
        learner = ActiveLearner(
            forest(),
            X_training=pd.DataFrame(d["X_init"], columns=columns),
            y_training=pd.Series(d["y_init"]),
        )
        idx, rows = learner.query(X_pool, n_instances=5)
        assert isinstance(rows, pd.DataFrame)
        pd.testing.assert_frame_equal(rows, X_pool.iloc[idx])
        learner.teach(rows, pd.Series(d["y_pool"][idx]))
        assert isinstance(learner.X_training, pd.DataFrame)
        assert list(learner.X_training.columns) == columns
        assert learner.X_training.shape == (25, 64)
        assert learner.y_training.shape == (25,)
        # numpy rows taught to a DataFrame learner keep the column names.
        learner.teach(d["X_pool"][:3], d["y_pool"][:3])
        assert list(learner.X_training.columns) == columns
        assert learner.X_training.shape == (28, 64)

    def test_dataframe_columns_in_another_order_are_matched_by_name(self, digits_split):
        d = digits_split
        columns = [f"px{i}" for i in range(64)]
        learner = ActiveLearner(
            FitRecorder(),
            X_training=pd.DataFrame(d["X_init"], columns=columns),
            y_training=d["y_init"],
        )
        new = pd.DataFrame(d["X_pool"][:3], columns=columns)
        learner.teach(new[columns[::-1]], d["y_pool"][:3])
        np.testing.assert_array_equal(learner.estimator.X_[-3:], d["X_pool"][:3])
        with pytest.raises(ValueError, match=r"missing \['px0'\]"):
            learner.teach(new.rename(columns={"px0": "PX0"}), d["y_pool"][:3])
        assert learner.X_training.shape == (23, 64)  # a refused batch is not kept

    def test_sparse(self, digits_split):
        d = digits_split
        learner = ActiveLearner(
            LogisticRegression(max_iter=500),
            X_training=sp.csr_matrix(d["X_init"]),
            y_training=d["y_init"],
        )
        X_pool = sp.csr_matrix(d["X_pool"])
        idx, rows = learner.query(X_pool, n_instances=5)
        assert sp.issparse(rows)
        learner.teach(rows, d["y_pool"][idx])
        assert sp.issparse(learner.X_training)
        assert learner.X_training.shape == (25, 64)
        np.testing.assert_array_equal(
            learner.X_training.toarray()[20:], d["X_pool"][idx]
        )

    def test_lists(self, digits_split):
        d = digits_split
        learner = ActiveLearner(
            forest(),
            X_training=d["X_init"].tolist(),
            y_training=d["y_init"].tolist(),
        )
        X_pool = d["X_pool"].tolist()
        idx, rows = learner.query(X_pool, n_instances=3)
        assert isinstance(rows, list) and len(rows) == 3
        learner.teach(rows, d["y_pool"][idx].tolist())
        assert isinstance(learner.X_training, list)
        assert len(learner.X_training) == len(learner.y_training) == 23

    def test_tensor_pool(self, digits_split):
        d = digits_split
        learner = ActiveLearner(
            forest(), X_training=d["X_init"], y_training=d["y_init"]
        )
        idx, rows = learner.query(torch.as_tensor(d["X_pool"]), n_instances=3)
        assert torch.is_tensor(rows)
        np.testing.assert_array_equal(rows.numpy(), d["X_pool"][idx])

    @pytest.mark.parametrize("mapping", [dict, SliceDict], ids=["dict", "SliceDict"])
    def test_a_dict_of_inputs_for_a_skorch_net(self, digits_split, mapping):
        """skorch's form for a module with several inputs, as a skorch user has it."""
        d = digits_split

        def inputs(X):  # two inputs: the image's top and bottom halves
            X = (X / 16).astype(np.float32)
            return mapping(top=X[:, :32], bottom=X[:, 32:])

        net = MCDropoutClassifier(
            TwoInputs,
            classes=np.arange(10),  # a bootstrap resample may miss a class
            max_epochs=3,
            verbose=0,
            random_state=0,
            n_mc_samples=5,
        )
        learner = ActiveLearner(
            net,
            query_strategy=BALDQuery(pool_subsample=100, random_state=0),
            X_training=inputs(d["X_init"]),
            y_training=d["y_init"],
        )
        X_pool = inputs(d["X_pool"])
        idx, rows = learner.query(X_pool, n_instances=5)
        assert type(rows) is mapping
        np.testing.assert_array_equal(rows["top"], X_pool["top"][idx])
        learner.teach(rows, d["y_pool"][idx])
        assert type(learner.X_training) is mapping
        assert learner.X_training["bottom"].shape == (25, 32)
        learner.teach(inputs(d["X_pool"][:3]), d["y_pool"][:3], bootstrap=True)
        assert learner.X_training["top"].shape == (28, 32)
        # The checks of other containers hold key by key.
        again = mapping(
            **{
                key: np.concatenate([learner.X_training[key], X_pool[key][-1:]])
                for key in ("top", "bottom")
            }
        )
        with pytest.raises(ValueError, match="the 28 rows taught before"):
            learner.teach(again, np.append(learner.y_training, d["y_pool"][-1]))
        with pytest.raises(
            ValueError, match=r"keys \['top'\].*keys \['bottom', 'top'\]"
        ):
            learner.teach(mapping(top=X_pool["top"][:2]), d["y_pool"][:2])
        with pytest.raises(ValueError, match=r"different numbers of rows"):
            learner.teach(
                {"top": X_pool["top"][:2], "bottom": X_pool["bottom"][:3]},
                d["y_pool"][:2],
            )
        bad = inputs(d["X_pool"][:2])
        bad["bottom"][0, 0] = np.nan
        with pytest.raises(ValueError, match=r"^X\['bottom'\]: Input .*NaN"):
            learner.teach(bad, d["y_pool"][:2])
        assert learner.X_training["top"].shape == (28, 32)  # nothing refused was kept

    def test_a_search_over_a_skorch_net_takes_a_slicedict(self, digits_split):
        """GridSearchCV counts a plain dict's keys as rows: the fix is SliceDict."""
        d = digits_split

        def inputs(X, mapping):
            X = (X / 16).astype(np.float32)
            return mapping(top=X[:, :32], bottom=X[:, 32:])

        net = MCDropoutClassifier(
            TwoInputs,
            classes=np.arange(10),
            max_epochs=2,
            verbose=0,
            random_state=0,
            n_mc_samples=4,
        )
        search = GridSearchCV(net, {"lr": [0.01, 0.1]}, cv=2)
        with pytest.raises(ValueError, match=r"SliceDict\(\*\*X\)") as info:
            ActiveLearner(
                search, X_training=inputs(d["X_init"], dict), y_training=d["y_init"]
            )
        assert "plain dict of inputs ('top', 'bottom')" in str(info.value)
        learner = ActiveLearner(
            search,
            query_strategy=BALDQuery(random_state=0),
            X_training=inputs(d["X_init"], SliceDict),
            y_training=d["y_init"],
        )
        X_pool = inputs(d["X_pool"][:50], SliceDict)
        idx, rows = learner.query(X_pool, n_instances=3)
        learner.teach(rows, d["y_pool"][idx])
        assert learner.X_training["top"].shape == (23, 32)
        assert learner.estimator.best_estimator_.module_ is not None

    def test_a_dict_for_an_estimator_that_is_no_skorch_net(self, digits_split):
        d = digits_split
        X = {"top": d["X_init"][:, :32], "bottom": d["X_init"][:, 32:]}
        with pytest.raises(ValueError, match=r"dict of inputs.*np\.hstack") as info:
            ActiveLearner(forest(), X_training=X, y_training=d["y_init"])
        assert "RandomForestClassifier is none" in str(info.value)

    def test_on_transformed_with_a_pipeline(self, digits_split):
        d = digits_split
        pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
        learner = ActiveLearner(
            pipe,
            query_strategy=uncertainty_batch_sampling,
            X_training=d["X_init"],
            y_training=d["y_init"],
            on_transformed=True,
        )
        transformed = learner.transform_without_estimating(d["X_pool"])
        np.testing.assert_allclose(
            transformed, pipe[:-1].transform(d["X_pool"]), rtol=1e-12
        )
        idx, _ = learner.query(d["X_pool"], n_instances=5)
        assert len(np.unique(idx)) == 5
        learner.teach(d["X_pool"][idx], d["y_pool"][idx])
        assert learner.X_training.shape == (25, 64)


class TestEstimatorAPI:
    def make(self, d):
        return ActiveLearner(
            forest(),
            query_strategy=uncertainty_sampling,
            X_training=d["X_init"],
            y_training=d["y_init"],
            random_state=3,
        )

    def test_classes_for_probability_scorers(self, digits_split):
        # roc_auc and log loss read classes_: without it every fold was NaN
        d = digits_split
        X, y = d["X_pool"][:300] / 16, d["y_pool"][:300] % 2
        model = LogisticRegression()
        for scoring in ("roc_auc", "neg_log_loss"):
            ours = cross_val_score(ActiveLearner(model), X, y, scoring=scoring)
            np.testing.assert_allclose(
                ours, cross_val_score(model, X, y, scoring=scoring)
            )
        learner = self.make(d)
        np.testing.assert_array_equal(learner.classes_, learner.estimator.classes_)

    def test_fitted_check_for_pipelines_and_frozen_learners(self, digits_split):
        # a Pipeline ending in a learner could not predict, and a grid search
        # over it scored NaN for every candidate, without an error
        from sklearn.frozen import FrozenEstimator
        from sklearn.utils.validation import check_is_fitted

        d = digits_split
        X, y = d["X_pool"][:300], d["y_pool"][:300] % 2
        learner = ActiveLearner(LogisticRegression())
        assert not learner.__sklearn_is_fitted__()
        with pytest.raises(NotFittedError):
            check_is_fitted(learner)
        pipe = make_pipeline(StandardScaler(), ActiveLearner(LogisticRegression()))
        bare = make_pipeline(StandardScaler(), LogisticRegression())
        np.testing.assert_array_equal(
            pipe.fit(X, y).predict(X), bare.fit(X, y).predict(X)
        )
        grid = {"C": [1e-3, 1.0]}
        search = GridSearchCV(
            pipe, {f"activelearner__estimator__{k}": v for k, v in grid.items()}
        ).fit(X, y)
        expected = GridSearchCV(
            bare, {f"logisticregression__{k}": v for k, v in grid.items()}
        ).fit(X, y)
        np.testing.assert_allclose(
            search.cv_results_["mean_test_score"],
            expected.cv_results_["mean_test_score"],
        )
        fitted = ActiveLearner(LogisticRegression(), X_training=X, y_training=y)
        check_is_fitted(fitted)
        np.testing.assert_array_equal(
            FrozenEstimator(fitted).predict(X), fitted.predict(X)
        )

    def test_probability_methods_follow_the_estimator(self, digits_split):
        # an SVC has no predict_proba: scorers take its decision_function,
        # as for the bare SVC (the learner's roc_auc was NaN per candidate)
        from sklearn.ensemble import StackingClassifier
        from sklearn.svm import SVC

        d = digits_split
        X, y = d["X_pool"][:300] / 16, d["y_pool"][:300] % 2
        learner = ActiveLearner(SVC())
        assert not hasattr(learner, "predict_proba")
        assert not hasattr(learner, "predict_log_proba")
        assert hasattr(learner, "decision_function")
        assert not hasattr(ActiveLearner(forest()), "decision_function")
        ours = cross_val_score(learner, X, y, scoring="roc_auc")
        np.testing.assert_allclose(
            ours, cross_val_score(SVC(), X, y, scoring="roc_auc")
        )
        stack = StackingClassifier([("svc", ActiveLearner(SVC()))]).fit(X, y)
        expected = StackingClassifier([("svc", SVC())]).fit(X, y)
        np.testing.assert_array_equal(stack.predict(X), expected.predict(X))
        fitted = ActiveLearner(LogisticRegression(), X_training=X, y_training=y)
        np.testing.assert_allclose(
            fitted.predict_log_proba(X), fitted.estimator.predict_log_proba(X)
        )

    def test_fitted_feature_attributes_and_input_tags(self, digits_split):
        from sklearn.utils import get_tags

        d = digits_split
        frame = pd.DataFrame(d["X_init"]).add_prefix("px")
        learner = ActiveLearner(
            LogisticRegression(), X_training=frame, y_training=d["y_init"]
        )
        assert learner.n_features_in_ == 64
        np.testing.assert_array_equal(learner.feature_names_in_, frame.columns)
        assert not hasattr(ActiveLearner(LogisticRegression()), "n_features_in_")
        assert get_tags(learner).input_tags.sparse
        assert get_tags(
            ActiveLearner(HistGradientBoostingClassifier())
        ).input_tags.allow_nan

    def test_no_classes_before_fitting(self):
        learner = ActiveLearner(forest())
        assert not hasattr(learner, "classes_")
        with pytest.raises(AttributeError, match="RandomForestClassifier has none"):
            learner.classes_  # noqa: B018

    def test_modal_multilabel_strategies_read_the_classes(self):
        # modAL's max_loss and mean_max_loss take the learner for the
        # OneVsRestClassifier and read its classes_
        X, y = make_multilabel_classification(150, 8, n_classes=4, random_state=0)
        for strategy in (max_loss, mean_max_loss):
            learner = ActiveLearner(
                OneVsRestClassifier(LogisticRegression()),
                query_strategy=strategy,
                X_training=X[:30],
                y_training=y[:30],
            )
            idx, _ = learner.query(X[30:], n_instances=3)
            expected, _ = strategy(learner.estimator, X[30:], n_instances=3)
            np.testing.assert_array_equal(idx, expected)

    def test_get_params_excludes_training_data(self, digits_split):
        params = self.make(digits_split).get_params(deep=False)
        assert set(params) == {
            "estimator",
            "query_strategy",
            "bootstrap_init",
            "on_transformed",
            "force_all_finite",
            "random_state",
        }
        assert params["random_state"] == 3

    def test_deep_params_and_set_params(self, digits_split):
        learner = self.make(digits_split)
        assert learner.get_params()["estimator__n_estimators"] == 20
        learner.set_params(estimator__n_estimators=5, bootstrap_init=True)
        assert learner.estimator.n_estimators == 5
        assert learner.bootstrap_init is True

    def test_clone_is_unfitted_with_equal_params(self, digits_split):
        learner = self.make(digits_split)
        copy = clone(learner)
        assert copy.X_training is None and copy.y_training is None
        with pytest.raises(NotFittedError):
            copy.predict(digits_split["X_test"])
        original = learner.get_params(deep=False)
        for name, value in copy.get_params(deep=False).items():
            if name == "estimator":
                assert value is not original["estimator"]
                assert value.get_params() == original["estimator"].get_params()
            else:
                assert value == original[name]
        # The clone learns like the original.
        copy.fit(digits_split["X_init"], digits_split["y_init"])
        np.testing.assert_array_equal(
            copy.predict_proba(digits_split["X_test"]),
            learner.predict_proba(digits_split["X_test"]),
        )

    def test_repr(self, digits_split):
        text = repr(self.make(digits_split))
        assert text.startswith("ActiveLearner(")
        assert "RandomForestClassifier" in text
        assert "random_state=3" in text
        assert "query_strategy" not in text  # default values are not shown
        other = ActiveLearner(forest(), query_strategy=uncertainty_batch_sampling)
        assert "query_strategy=<function uncertainty_batch_sampling" in repr(other)

    def test_pickle_round_trip(self, digits_split):
        learner = self.make(digits_split)
        restored = pickle.loads(pickle.dumps(learner))
        np.testing.assert_array_equal(restored.X_training, learner.X_training)
        np.testing.assert_array_equal(
            restored.predict_proba(digits_split["X_test"]),
            learner.predict_proba(digits_split["X_test"]),
        )
        assert (
            restored.get_params(deep=False).keys()
            == learner.get_params(deep=False).keys()
        )

    def test_is_a_modal_learner(self, digits_split):
        assert isinstance(self.make(digits_split), ModalActiveLearner)


class TestStrategyResults:
    """What a custom query strategy returns, modAL's idioms included."""

    def _learner(self, d, strategy):
        return ActiveLearner(
            LogisticRegression(max_iter=500),
            query_strategy=strategy,
            X_training=d["X_init"],
            y_training=d["y_init"],
        )

    def test_a_bare_int_is_one_pick_that_teach_takes(self, digits_split):
        # modAL's custom-strategy idiom: return np.argmax(utility)
        d = digits_split

        def most_uncertain(learner, X_pool):
            return np.argmax(1 - learner.predict_proba(X_pool).max(axis=1))

        learner = self._learner(d, most_uncertain)
        idx, rows = learner.query(d["X_pool"])
        assert idx.shape == (1,) and idx.dtype == np.int64
        assert rows.shape == (1, d["X_pool"].shape[1])
        n_before = len(learner.X_training)
        learner.teach(rows, d["y_pool"][idx])
        assert len(learner.X_training) == n_before + 1
        # modAL's examples reshape the picks themselves: still one row
        learner.teach(d["X_pool"][idx].reshape(1, -1), d["y_pool"][idx].reshape(1))
        assert len(learner.X_training) == n_before + 2

    def test_a_mask_and_negative_positions(self, digits_split):
        d = digits_split
        n_pool = len(d["X_pool"])
        learner = self._learner(d, lambda learner, X: np.arange(len(X)) % 50 == 3)
        idx, _ = learner.query(d["X_pool"])
        np.testing.assert_array_equal(idx, np.arange(3, n_pool, 50))
        learner = self._learner(d, lambda learner, X: [-1, 0])
        idx, rows = learner.query(d["X_pool"])
        assert idx.tolist() == [n_pool - 1, 0]
        np.testing.assert_array_equal(rows, d["X_pool"][[-1, 0]])

    def test_modal_strategy_on_an_unfitted_learner_warns(self, digits_split):
        # modAL scores every row 1 before a fit: rows picked by position
        import warnings

        X_pool = digits_split["X_pool"]
        learner = ActiveLearner(LogisticRegression())  # uncertainty_sampling
        with pytest.warns(UserWarning, match="positions.*RandomQuery") as caught:
            idx, _ = learner.query(X_pool, n_instances=3)
        assert caught[0].filename == __file__
        with pytest.warns(UserWarning, match="positions"):
            again, _ = learner.query(X_pool[::-1], n_instances=3)
        np.testing.assert_array_equal(again, idx)  # the same places, other rows
        taught = self._learner(digits_split, uncertainty_sampling)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            taught.query(X_pool, n_instances=3)

    def test_an_empty_pick(self, digits_split):
        learner = self._learner(digits_split, lambda learner, X: [])
        idx, rows = learner.query(digits_split["X_pool"])
        assert idx.dtype == np.int64 and idx.shape == (0,) and len(rows) == 0

    @pytest.mark.parametrize(
        ("result", "error", "match"),
        [
            (lambda n: np.linspace(0, 1, n), TypeError, "dtype float64.*not the "),
            (lambda n: np.zeros((2, 2), dtype=int), TypeError, r"shape \(2, 2\)"),
            (lambda n: [n], ValueError, r"position \d+ for a pool of \d+ rows"),
            (lambda n: [-n - 1], ValueError, "position -"),
            (lambda n: np.ones(3, dtype=bool), TypeError, "dtype bool"),
        ],
    )
    def test_refused_with_what_to_return(self, digits_split, result, error, match):
        learner = self._learner(digits_split, lambda learner, X: result(len(X)))
        with pytest.raises(error, match=match):
            learner.query(digits_split["X_pool"])


class TestBadInput:
    def test_a_list_of_models_is_refused_with_the_ensembles_that_fit(
        self, digits_split
    ):
        d = digits_split
        models = [forest().fit(d["X_init"], d["y_init"]) for _ in range(3)]
        for estimator in (models, tuple(models)):
            with pytest.raises(
                ValueError, match=r"got a (list|tuple) of 3 models"
            ) as info:
                ActiveLearner(estimator, X_training=d["X_init"], y_training=d["y_init"])
            assert "BatchBALDQuery()(models, X_pool, n_instances)" in str(info.value)
            assert "BaggingRegressor" in str(info.value)
            # unfitted, then taught: refused the same way, nothing added
            learner = ActiveLearner(estimator)
            with pytest.raises(ValueError, match="has no fit"):
                learner.teach(d["X_pool"][:3], d["y_pool"][:3])
            assert learner.X_training is None

    def test_length_mismatch(self, digits_split):
        d = digits_split
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            ActiveLearner(forest(), X_training=d["X_init"], y_training=d["y_init"][:5])
        learner = ActiveLearner(
            forest(), X_training=d["X_init"], y_training=d["y_init"]
        )
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            learner.teach(d["X_pool"][:3], d["y_pool"][:2])
        assert learner.X_training.shape[0] == 20  # nothing was added

    def test_nan_rejected_when_asked(self, digits_split):
        # modAL's own setting, given explicitly, still refuses a forest's NaN
        d = digits_split
        X = d["X_init"].copy()
        X[3, 5] = np.nan
        with pytest.raises(ValueError, match=r"contains NaN.*force_all_finite=False"):
            ActiveLearner(
                forest(), X_training=X, y_training=d["y_init"], force_all_finite=True
            )
        learner = ActiveLearner(
            forest(), X_training=d["X_init"], y_training=d["y_init"]
        )
        bad = d["X_pool"][:2].copy()
        bad[0, 0] = np.inf
        with pytest.raises(ValueError, match="infinity"):
            learner.teach(bad, d["y_pool"][:2])

    def test_nan_allowed_when_asked(self, digits_split):
        d = digits_split
        X = d["X_init"].copy()
        X[3, 5] = np.nan
        learner = ActiveLearner(
            HistGradientBoostingClassifier(max_iter=5),
            X_training=X,
            y_training=d["y_init"],
            force_all_finite="allow-nan",
        )
        assert np.isnan(learner.X_training).sum() == 1

    def test_bad_force_all_finite(self, digits_split):
        d = digits_split
        with pytest.raises(ValueError, match="force_all_finite must be"):
            ActiveLearner(
                forest(),
                X_training=d["X_init"],
                y_training=d["y_init"],
                force_all_finite="yes",
            )

    def test_missing_labels(self, digits_split):
        with pytest.raises(ValueError, match="y is None"):
            ActiveLearner(forest(), X_training=digits_split["X_init"])

    def test_feature_mismatch_on_teach(self, digits_split):
        d = digits_split
        learner = ActiveLearner(
            forest(), X_training=d["X_init"], y_training=d["y_init"]
        )
        with pytest.raises(ValueError, match="same features"):
            learner.teach(d["X_pool"][:2, :10], d["y_pool"][:2])

    def test_strategy_not_callable(self, digits_split):
        d = digits_split
        learner = ActiveLearner(
            forest(), "uncertainty", X_training=d["X_init"], y_training=d["y_init"]
        )
        with pytest.raises(TypeError, match="query_strategy must be callable"):
            learner.query(d["X_pool"])

    def test_predict_before_fit(self, digits_split):
        learner = ActiveLearner(forest())
        assert learner.X_training is None
        with pytest.raises(NotFittedError):
            learner.predict(digits_split["X_pool"])

    @pytest.mark.parametrize(
        "X, y",
        [
            (np.empty((0, 64)), np.empty(0, dtype=int)),
            (np.empty((0, 64)), []),
            ([], []),
        ],
    )
    def test_an_empty_batch_says_there_is_nothing_to_teach(self, digits_split, X, y):
        d = digits_split
        learner = ActiveLearner(
            forest(), X_training=d["X_init"], y_training=d["y_init"]
        )
        with pytest.raises(ValueError, match=r"teach\(\) got an empty batch"):
            learner.teach(X, y)
        with pytest.raises(ValueError, match=r"teach\(\) got an empty batch"):
            learner.teach(X, y, only_new=True)
        assert learner.X_training.shape == (20, 64)

    def test_no_initial_rows_name_the_cold_start(self, digits_split):
        X, y = digits_split["X_init"][:0], digits_split["y_init"][:0]
        with pytest.raises(ValueError, match=r"has 0 rows.*RandomQuery"):
            ActiveLearner(forest(), X_training=X, y_training=y)
        with pytest.raises(ValueError, match=r"has 0 rows.*RandomQuery"):
            ActiveLearner(forest()).fit(X, y)


class FailingFit(RandomForestClassifier):
    """A forest whose fit raises once it gets more than ``max_rows`` rows."""

    def __init__(self, max_rows=20):
        super().__init__(n_estimators=5, random_state=0)
        self.max_rows = max_rows

    def fit(self, X, y, **kwargs):
        if len(X) > self.max_rows:
            raise RuntimeError("fit failed")
        return super().fit(X, y, **kwargs)


class TestFailedFit:
    def test_teach_keeps_the_labelled_set_when_fit_raises(self, digits_split):
        d = digits_split
        learner = ActiveLearner(
            FailingFit(), X_training=d["X_init"], y_training=d["y_init"]
        )
        X_before, y_before = learner.X_training, learner.y_training
        with pytest.raises(RuntimeError, match="fit failed"):
            learner.teach(d["X_pool"][:5], d["y_pool"][:5])
        assert learner.X_training is X_before and learner.y_training is y_before
        # The batch can be taught again once fit works: it was not kept.
        learner.estimator.max_rows = 100
        learner.teach(d["X_pool"][:5], d["y_pool"][:5])
        assert learner.X_training.shape == (25, 64)

    def test_fit_keeps_the_labelled_set_when_fit_raises(self, digits_split):
        d = digits_split
        learner = ActiveLearner(
            FailingFit(max_rows=25), X_training=d["X_init"], y_training=d["y_init"]
        )
        learner.teach(d["X_pool"][:5], d["y_pool"][:5])
        X_before, y_before = learner.X_training, learner.y_training
        with pytest.raises(RuntimeError, match="fit failed"):
            learner.fit(d["X_pool"][5:35], d["y_pool"][5:35])
        assert learner.X_training is X_before and learner.y_training is y_before
        # Still the rows of the first fit, then the taught ones: the 5 rows
        # taught since that fit, sent again with a new one, are found.
        with pytest.raises(ValueError, match="the first 5 rows"):
            learner.teach(d["X_pool"][:6], d["y_pool"][:6])


@pytest.mark.slow
def test_missing_modal_gives_the_install_command(run_python):
    result = run_python(
        """
        import sys
        sys.modules["modAL"] = None  # what an uninstalled package looks like
        from skbatchbald import ActiveLearner
        """
    )
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "pip install --no-deps modAL-python==0.4.2.1" in result.stderr
    assert "skorch==0.9.0" in result.stderr


@pytest.mark.slow
def test_other_modal_release_gives_the_reinstall_command(run_python):
    result = run_python(
        """
        from importlib import metadata
        real = metadata.version
        metadata.version = lambda name: (
            "0.4.1" if name == "modAL-python" else real(name)
        )
        from skbatchbald import ActiveLearner
        """
    )
    assert result.returncode != 0
    assert "needs modAL-python 0.4.2.1, found 0.4.1" in result.stderr
    assert "pip install --no-deps --force-reinstall" in result.stderr


def _dropout_net(**params):
    return MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        max_epochs=1,
        batch_size=64,
        verbose=0,
        random_state=0,
        **params,
    )


def _rows_in_last_fit(net):
    """Rows the net trained on in its last epoch (skorch's batch records)."""
    return sum(batch["train_batch_size"] for batch in net.history[-1, "batches"])


@pytest.fixture(scope="module")
def port_data(digits):
    """modAL's deep examples, offline: 100 initial labels, a pool of digits."""
    X, y = digits
    X = (X / 16).astype(np.float32)
    return X[:100], y[:100], X[100:700], y[100:700]


class TestModalDeepLoopPorts:
    """Issue 21, point 6: modAL's deep loop ported to skbatchbald.ActiveLearner."""

    def test_teaching_every_labelled_row_again_is_refused(self, port_data):
        # examples/pytorch_mc_dropout.py: DeepActiveLearner.teach trains on what it
        # is given, so the example passes all labelled rows each round. As written
        # here, ActiveLearner.teach appended them: 3 rounds of 20 on 100 initial
        # labels trained the net on 520 rows, 160 of them distinct.
        X_init, y_init, X_pool, y_pool = port_data
        learner = ActiveLearner(_dropout_net(), query_strategy=BALDQuery())
        learner.teach(X_init, y_init)
        idx, _ = learner.query(X_pool, n_instances=20)
        X_teach = np.concatenate([X_init, X_pool[idx]])
        y_teach = np.concatenate([y_init, y_pool[idx]])
        with pytest.raises(ValueError, match="Pass only the newly labelled rows"):
            learner.teach(X_teach, y_teach)
        assert learner.X_training.shape == (100, 64)  # nothing was added
        assert _rows_in_last_fit(learner.estimator) == 100

    def test_teaching_the_queried_rows_again_is_refused(self, port_data):
        # The same, with the initial labels in the constructor and only queried
        # rows accumulated: found once two rows would be taught twice.
        X_init, y_init, X_pool, y_pool = port_data
        learner = ActiveLearner(
            _dropout_net(),
            query_strategy=MarginQuery(),
            X_training=X_init,
            y_training=y_init,
        )
        X_teach, y_teach = X_pool[:0], y_pool[:0]
        for round_ in range(2):
            idx, _ = learner.query(X_pool, n_instances=2)
            X_teach = np.concatenate([X_teach, X_pool[idx]])
            y_teach = np.concatenate([y_teach, y_pool[idx]])
            X_pool, y_pool = np.delete(X_pool, idx, axis=0), np.delete(y_pool, idx)
            if round_ == 0:
                learner.teach(X_teach, y_teach)
        with pytest.raises(ValueError, match=r"the first 2 rows of X and y"):
            learner.teach(X_teach, y_teach)

    @pytest.mark.parametrize(
        "container",
        [
            lambda X: X,
            sp.csr_matrix,
            pd.DataFrame,
            torch.as_tensor,
            lambda X: X.tolist(),
        ],
        ids=["array", "sparse", "dataframe", "tensor", "list"],
    )
    def test_teaching_rows_again_is_found_in_every_container(
        self, port_data, container
    ):
        X_init, y_init, X_pool, y_pool = port_data
        learner = ActiveLearner(
            RandomForestClassifier(n_estimators=3, random_state=0),
            X_training=container(X_init[:30]),
            y_training=y_init[:30],
        )
        learner.teach(container(X_pool[:5]), y_pool[:5])
        again = container(np.concatenate([X_pool[:5], X_pool[5:8]]))
        with pytest.raises(ValueError, match="the first 5 rows of X and y"):
            learner.teach(again, y_pool[:8])
        learner.teach(container(X_pool[5:8]), y_pool[5:8])
        X_taught = learner.X_training
        assert len(learner.y_training) == 38
        assert (
            X_taught.shape[0] if hasattr(X_taught, "shape") else len(X_taught)
        ) == 38

    def test_the_port_that_teaches_new_rows_trains_on_each_once(self, port_data):
        X_init, y_init, X_pool, y_pool = port_data
        learner = ActiveLearner(_dropout_net(), query_strategy=BALDQuery())
        learner.teach(X_init, y_init)
        for _ in range(3):
            idx, _ = learner.query(X_pool, n_instances=20)
            learner.teach(X_pool[idx], y_pool[idx])
            X_pool, y_pool = np.delete(X_pool, idx, axis=0), np.delete(y_pool, idx)
        assert _rows_in_last_fit(learner.estimator) == 160
        assert len(np.unique(learner.X_training, axis=0)) == 160

    def test_a_duplicate_row_in_the_pool_may_be_taught(self, port_data):
        X_init, y_init, X_pool, y_pool = port_data
        learner = ActiveLearner(
            RandomForestClassifier(n_estimators=3, random_state=0),
            X_training=X_init,
            y_training=y_init,
        )
        learner.teach(X_pool[:1], y_pool[:1])
        learner.teach(X_pool[[0, 5]], y_pool[[0, 5]])  # an exact copy, then more
        assert learner.X_training.shape == (103, 64)

    def test_only_new_with_warm_start_keeps_training_on_the_new_rows(self, port_data):
        # examples/pytorch_integration.py with a warm-started net: what modAL's
        # DeepActiveLearner.teach does (partial_fit on the new rows).
        X_init, y_init, X_pool, y_pool = port_data
        learner = ActiveLearner(
            _dropout_net(warm_start=True, classes=np.arange(10)),
            query_strategy=BALDQuery(),
            X_training=X_init,
            y_training=y_init,
        )
        for round_ in range(3):
            idx, _ = learner.query(X_pool, n_instances=20)
            learner.teach(X_pool[idx], y_pool[idx], only_new=True)
            X_pool, y_pool = np.delete(X_pool, idx, axis=0), np.delete(y_pool, idx)
            assert _rows_in_last_fit(learner.estimator) == 20
            assert len(learner.estimator.history) == 2 + round_  # not restarted
        assert learner.X_training.shape == (100, 64)  # modAL's only_new

    def test_only_new_with_a_net_that_restarts_is_refused(self, port_data):
        # examples/pytorch_integration.py as written (warm_start=False): the net
        # would be re-initialised and trained on the 20 new rows alone.
        X_init, y_init, X_pool, y_pool = port_data
        learner = ActiveLearner(
            make_pipeline(StandardScaler(), _dropout_net()),
            query_strategy=BALDQuery(),
            X_training=X_init,
            y_training=y_init,
        )
        idx, _ = learner.query(X_pool, n_instances=20)
        with pytest.raises(ValueError, match="forget the 100 rows") as info:
            learner.teach(X_pool[idx], y_pool[idx], only_new=True)
        assert "warm_start=True" in str(info.value)
        assert _rows_in_last_fit(learner.estimator[-1]) == 100

    def test_only_new_with_a_laplace_head_is_refused(self, port_data):
        # its posterior comes from the rows of each fit, whatever warm_start
        from skbatchbald.heads import LaplaceHeadClassifier

        X_init, y_init, X_pool, y_pool = port_data
        head = LaplaceHeadClassifier(max_epochs=5, random_state=0, warm_start=True)
        learner = ActiveLearner(head, X_training=X_init, y_training=y_init)
        with pytest.raises(ValueError, match="posterior is computed from the rows"):
            learner.teach(X_pool[:5], y_pool[:5], only_new=True)
        assert head._n_train_ == len(y_init)  # not refitted

    def test_deep_active_learners_warm_start_argument(self, port_data):
        X_init, y_init, X_pool, y_pool = port_data
        learner = ActiveLearner(_dropout_net(), X_training=X_init, y_training=y_init)
        with pytest.raises(
            TypeError, match=r"MCDropoutClassifier\(\.\.\., warm_start=True\)"
        ):
            learner.teach(X_pool[:5], y_pool[:5], warm_start=True)

    def test_keras_fit_arguments_say_where_they_go(self, port_data):
        # examples/deep_bayesian_active_learning.py (Keras): verbose=0 in the
        # constructor, teach(..., epochs=50, batch_size=128, verbose=0).
        X_init, y_init, X_pool, y_pool = port_data
        with pytest.raises(TypeError, match=r"MCDropoutClassifier\(\.\.\., verbose="):
            ActiveLearner(
                _dropout_net(), X_training=X_init, y_training=y_init, verbose=0
            )
        learner = ActiveLearner(
            make_pipeline(StandardScaler(), _dropout_net()),
            X_training=X_init,
            y_training=y_init,
        )
        with pytest.raises(
            TypeError, match=r"batch_size=\.\.\., verbose=\.\.\."
        ) as info:
            learner.teach(X_pool[:10], y_pool[:10], batch_size=128, verbose=0)
        message = str(info.value)
        assert "batch_size, verbose: Keras fit() arguments" in message
        assert "module's forward() (only epochs is its own)" in message
        assert learner.X_training.shape == (100, 64)  # nothing was added

    def test_keras_epochs_trains_that_many_epochs(self, port_data):
        # skorch's fit takes epochs (it overrides max_epochs for that fit)
        X_init, y_init, X_pool, y_pool = port_data
        learner = ActiveLearner(_dropout_net(), X_training=X_init, y_training=y_init)
        learner.teach(X_pool[:10], y_pool[:10], epochs=3)
        assert len(learner.estimator.history) == 3
        assert learner.estimator.max_epochs == 1  # for that fit only
        learner.teach(X_pool[10:20], y_pool[10:20])
        assert len(learner.estimator.history) == 1

    def test_keras_epochs_in_a_pipeline_names_the_step_prefix(self, port_data):
        X_init, y_init, X_pool, y_pool = port_data
        learner = ActiveLearner(
            make_pipeline(StandardScaler(), _dropout_net()),
            X_training=X_init,
            y_training=y_init,
        )
        with pytest.raises(TypeError, match=r"pass mcdropoutclassifier__epochs=3\."):
            learner.teach(X_pool[:10], y_pool[:10], epochs=3)
        assert learner.X_training.shape == (100, 64)  # nothing was added
        learner.teach(X_pool[:10], y_pool[:10], mcdropoutclassifier__epochs=3)
        assert len(learner.estimator[-1].history) == 3

    def test_modal_mc_dropout_strategies_are_refused_with_the_replacement(
        self, port_data
    ):
        X_init, y_init, X_pool, _ = port_data
        net = _dropout_net().fit(X_init, y_init)
        pool = torch.as_tensor(X_pool)
        # Why: modAL switches on only layers named Dropout*, so on consistent
        # dropout layers its passes agree and every BALD score is 0.
        _, scores = mc_dropout_bald(ActiveLearner(net), pool, 5, num_cycles=4)
        assert scores.max() < 1e-4  # 0 up to float32 rounding
        _, ours = BALDQuery(n_mc_samples=4, random_state=0)(net, X_pool, 5)
        assert ours.min() > 100 * scores.max()
        for strategy, ours in [
            (mc_dropout_bald, "BALDQuery"),
            (mc_dropout_mean_st, "MeanSTDQuery"),
            (mc_dropout_max_entropy, "MaxEntropyQuery"),
        ]:
            learner = ActiveLearner(net, query_strategy=strategy)
            with pytest.raises(ValueError, match=rf"skbatchbald\.{ours}\(n_mc_samples"):
                learner.query(pool, n_instances=5, num_cycles=4)


def test_scikit_learn_sees_the_kind_of_the_estimator_inside():
    """cross_val_score stratifies a learner of a classifier, as its estimator."""
    from sklearn.base import is_classifier, is_regressor
    from sklearn.datasets import load_iris
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import cross_val_score

    X, y = load_iris(return_X_y=True)  # sorted by class: plain K-fold differs
    model = RandomForestClassifier(n_estimators=10, random_state=0)
    assert is_classifier(ActiveLearner(model)) and not is_regressor(
        ActiveLearner(model)
    )
    assert is_regressor(ActiveLearner(Ridge()))
    np.testing.assert_array_equal(
        cross_val_score(ActiveLearner(model), X, y, cv=5),
        cross_val_score(model, X, y, cv=5),
    )


def test_a_model_given_fitted_warns_at_the_first_teach(digits):
    # the fit on 40 labels was silently replaced by a fit on the 5 taught rows
    X, y = digits
    from sklearn.linear_model import SGDClassifier

    model = LogisticRegression(max_iter=500).fit(X[:40], y[:40])
    learner = ActiveLearner(model, query_strategy=MarginQuery())
    with pytest.warns(UserWarning, match="given to ActiveLearner fitted.*5 rows"):
        learner.teach(X[40:45], y[40:45])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        learner.teach(X[45:50], y[45:50])  # fitted by the learner since
        for unfitted in (
            ActiveLearner(LogisticRegression(max_iter=500)),
            ActiveLearner(model, X_training=X[:40], y_training=y[:40]),
            # warm_start goes on from its fitted state: nothing is lost
            ActiveLearner(SGDClassifier(warm_start=True).fit(X[:40], y[:40])),
            # a FrozenEstimator's fit does nothing
            ActiveLearner(FrozenEstimator(model)),
        ):
            unfitted.teach(X[50:150], y[50:150])
    assert not [w for w in caught if "given to ActiveLearner fitted" in str(w.message)]
    # a fitted scaler before a frozen classifier is refitted on the taught rows
    piped = ActiveLearner(
        make_pipeline(StandardScaler().fit(X), FrozenEstimator(model))
    )
    with pytest.warns(UserWarning, match="the Pipeline was given to ActiveLearner"):
        piped.teach(X[50:150], y[50:150])


def test_an_unfitted_gaussian_process_is_unfitted():
    # scikit-learn's check_is_fitted passes a GP unfitted (it predicts from
    # its prior), so a GP's cold start warned that it was given fitted
    from sklearn.datasets import make_friedman1
    from sklearn.gaussian_process import GaussianProcessRegressor

    X, y = make_friedman1(60, random_state=0)
    for model in (
        GaussianProcessRegressor(),
        make_pipeline(StandardScaler(), GaussianProcessRegressor()),
    ):
        learner = ActiveLearner(model, query_strategy=RandomQuery(random_state=0))
        assert not learner.__sklearn_is_fitted__()
        idx, rows = learner.query(X, n_instances=5)
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*given to ActiveLearner")
            learner.teach(rows, y[idx])
        assert learner.__sklearn_is_fitted__()
        given = ActiveLearner(clone(model).fit(X[:5], y[:5]))
        assert given.__sklearn_is_fitted__()
        assert ActiveLearner(FrozenEstimator(given.estimator)).__sklearn_is_fitted__()
        with pytest.warns(UserWarning, match="given to ActiveLearner fitted"):
            given.teach(X[5:8], y[5:8])


class _FailsOnSecondFit(ClassifierMixin, BaseEstimator):
    """Learns a coefficient, then binds a half-made state and raises on refit."""

    def fit(self, X, y):
        if hasattr(self, "coef_"):
            self.coef_ = None  # half-way through, as a failing fit leaves it
            raise np.linalg.LinAlgError("singular matrix")
        self.coef_ = np.ones(np.shape(X)[1])
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.where(np.asarray(X) @ self.coef_ > 0, self.classes_[-1], 0)


@pytest.mark.parametrize(
    "wrap", [lambda m: m, lambda m: make_pipeline(StandardScaler(), m)]
)
def test_a_teach_whose_fit_raises_is_undone_estimator_included(digits, wrap):
    # the estimator was left as the failed fit left it: a GP with the new
    # rows' X_train_ beside the old L_, whose every later query then failed
    X, y = digits
    learner = ActiveLearner(
        wrap(_FailsOnSecondFit()), X_training=X[:20], y_training=y[:20]
    )
    before = learner.predict(X[:50])
    with pytest.raises(np.linalg.LinAlgError) as error:
        learner.teach(X[20:25], y[20:25])
    assert "ActiveLearner.teach() was undone" in "".join(error.value.__notes__)
    assert len(learner.y_training) == 20
    np.testing.assert_array_equal(learner.predict(X[:50]), before)


def test_a_gaussian_process_whose_refit_fails_is_queried_as_before():
    from sklearn.datasets import make_friedman1
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF

    X, y = make_friedman1(200, noise=1.0, random_state=0)
    gp = GaussianProcessRegressor(RBF(), alpha=0.0, optimizer=None)
    learner = ActiveLearner(
        gp, BALDQuery(noise_variance=1.0), X_training=X[:20], y_training=y[:20]
    )
    expected, _ = learner.query(X[20:], n_instances=5)
    # a repeated measurement with another value: singular without noise
    with pytest.raises(np.linalg.LinAlgError):
        learner.teach(X[:2], y[:2] + 3.0)
    assert learner.estimator.X_train_.shape == (20, 10)
    np.testing.assert_array_equal(learner.query(X[20:], n_instances=5)[0], expected)


def test_only_new_is_undone_too():
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = np.sin(X).sum(1)
    gp = GaussianProcessRegressor(RBF(1.0), alpha=0.0, optimizer=None)
    learner = ActiveLearner(gp, X_training=X[:20], y_training=y[:20])
    before = learner.predict(X[30:35])
    # one input measured twice with two values: singular without noise
    with pytest.raises(np.linalg.LinAlgError) as error:
        learner.teach(X[[5, 5, 6]], [y[5] + 1, y[5] - 1, y[6]], only_new=True)
    assert "teach() was undone" in "".join(error.value.__notes__)
    np.testing.assert_array_equal(learner.predict(X[30:35]), before)


def test_warm_start_is_not_kept_and_the_note_says_so():
    # warm_start trains coef_ in place: a shallow copy would "restore" NaNs
    from sklearn.linear_model import SGDClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] > 0).astype(int)
    model = SGDClassifier(loss="squared_error", warm_start=True, random_state=0)
    learner = ActiveLearner(model, X_training=X[:40], y_training=y[:40])
    batch = X[40:].copy()
    batch[5] *= 1e200  # one mis-scaled row
    with pytest.raises(ValueError) as error, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        learner.teach(batch, y[40:])
    assert "warm_start=True, which train in place" in "".join(error.value.__notes__)
    assert len(learner.y_training) == 40


def test_a_net_whose_refit_fails_is_not_kept_and_the_note_says_so(digits):
    # keeping a net would hold its module and optimizer beside the new ones
    # through every fit: the labelled set is undone, the net is not
    X, y = digits
    net = MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        module__n_classes=10,
        classes=np.arange(10),
        max_epochs=1,
        train_split=None,
        verbose=0,
    )
    learner = ActiveLearner(
        net, X_training=X[:20].astype(np.float32), y_training=y[:20]
    )

    def fail(*args, **kwargs):
        net.module_ = "half-trained"  # as initialize() rebinds it
        raise RuntimeError("CUDA out of memory")

    net.fit = fail
    with pytest.raises(RuntimeError) as error:
        learner.teach(X[20:25].astype(np.float32), y[20:25])
    assert "which train in place) is as the failed fit" in "".join(
        error.value.__notes__
    )
    assert len(learner.y_training) == 20
    assert learner.estimator.module_ == "half-trained"  # not put back


@pytest.mark.parametrize("as_tensor", [False, True])
def test_one_row_and_one_label_name_the_2d_block(as_tensor):
    # teach(X_pool[i], y_pool[i]): the row read as 4 rows of one feature
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), np.arange(30) % 3
    learner = ActiveLearner(RandomForestClassifier(3), X_training=X, y_training=y)
    row = torch.as_tensor(X[5]) if as_tensor else X[5]
    with pytest.raises(
        ValueError,
        match=r"X has shape \(4,\) and y is a single label \(2\).*"
        r"teach\(X_pool\[i:i \+ 1\], \[2\]\)",
    ):
        learner.teach(row, y[5])
    learner.teach(X[5:6], [y[5]])  # what the message says works
    assert len(learner.y_training) == 31


def test_only_new_through_a_pipeline_warns_of_its_refitted_scaler(digits_split):
    # the net keeps training, but the scaler before it sees 5 rows a round
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skbatchbald import SkbatchbaldWarning

    d = digits_split
    X_init = d["X_init"].astype(np.float32)
    X_new = d["X_pool"][:5].astype(np.float32)

    def net():
        return MCDropoutClassifier(
            BayesianMLP,
            module__n_features=64,
            classes=np.arange(10),
            max_epochs=2,
            warm_start=True,
            verbose=0,
            random_state=0,
        )

    learner = ActiveLearner(
        make_pipeline(StandardScaler(), net()),
        X_training=X_init,
        y_training=d["y_init"],
    )
    with pytest.warns(SkbatchbaldWarning, match=r"step\(s\) 'standardscaler' are fit"):
        learner.teach(X_new, d["y_pool"][:5], only_new=True)
    # the fix it names: a scaler fitted once on the pool, frozen
    scaler = FrozenEstimator(StandardScaler().fit(d["X_pool"].astype(np.float32)))
    learner = ActiveLearner(
        make_pipeline(scaler, net()), X_training=X_init, y_training=d["y_init"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkbatchbaldWarning)
        learner.teach(X_new, d["y_pool"][:5], only_new=True)
