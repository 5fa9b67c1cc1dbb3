"""The cold start: a first batch with no labels and no fitted model."""

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import sparse
from scipy.spatial.distance import cdist
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)
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

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "cold_start.rst"

# Ten well-separated blobs of very different sizes: a uniform draw of 10 points
# lands mostly in the big ones.
BLOB_SIZES = [6, 10, 15, 20, 30, 45, 60, 80, 100, 130]


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(
        n_samples=BLOB_SIZES,
        n_features=4,
        cluster_std=0.5,
        center_box=(-60, 60),
        random_state=3,
    )
    return X, y


class Untouchable:
    """A learner with no labels whose model must never be called."""

    X_training = None

    def __getattr__(self, name):
        raise AssertionError(f"the strategy used learner.{name}")


def unfitted_net():
    return MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        max_epochs=5,
        random_state=0,
        verbose=0,
    )


class TestZeroLabels:
    @pytest.mark.slow  # trains a network
    def test_typiclust_starts_an_unfitted_learner_then_batchbald_takes_over(
        self, digits
    ):
        X, y = digits
        X = X.astype(np.float32) / 16
        net = unfitted_net()
        learner = ActiveLearner(net, query_strategy=TypiClustQuery(random_state=0))
        idx, rows = learner.query(X, n_instances=10)
        with pytest.raises(NotFittedError):
            check_is_fitted(net)  # the query did not touch the model
        learner.teach(rows, y[idx])
        learner.query_strategy = BatchBALDQuery(random_state=0)
        pool = np.delete(np.arange(len(y)), idx)
        idx2, _ = learner.query(X[pool], n_instances=10)
        assert len(np.unique(idx2)) == 10

    @pytest.mark.slow  # trains a network four times
    def test_the_user_guide_snippet_runs(self, capsys):
        (block,) = re.findall(
            r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", GUIDE.read_text()
        )
        namespace = {}
        exec(compile(re.sub(r"(?m)^   ", "", block), str(GUIDE), "exec"), namespace)
        assert "40 labels" in capsys.readouterr().out
        assert len(namespace["learner"].y_training) == 40

    def test_typiclust_never_calls_the_model(self, blobs):
        X, _ = blobs
        idx, scores = TypiClustQuery(random_state=0)(Untouchable(), X, 10)
        assert idx.shape == scores.shape == (10,)

    def test_random_query_works_on_an_unfitted_learner(self, digits):
        X, _ = digits
        learner = ActiveLearner(
            unfitted_net(), query_strategy=RandomQuery(random_state=0)
        )
        idx, rows = learner.query(X, n_instances=10)
        assert len(np.unique(idx)) == 10
        np.testing.assert_array_equal(rows, X[idx])

    def test_digits_first_batch_covers_more_classes_than_random(self, digits):
        """Raw 8x8 digits: ten typical picks, one per cluster, span more classes."""
        X, y = digits

        def n_classes(strategy_cls, seed):
            return len(np.unique(y[strategy_cls(random_state=seed)(None, X, 10)[0]]))

        typical = np.mean([n_classes(TypiClustQuery, seed) for seed in range(5)])
        random = np.mean([n_classes(RandomQuery, seed) for seed in range(5)])
        assert typical > random + 1


class TestPicks:
    def test_each_blob_gets_one_pick_where_random_misses_some(self, blobs):
        X, y = blobs
        for seed in range(5):
            idx, _ = TypiClustQuery(random_state=seed)(None, X, 10)
            assert sorted(y[idx]) == list(range(10))
            random_idx, _ = RandomQuery(random_state=seed)(None, X, 10)
            assert len(np.unique(y[random_idx])) < 10

    def test_labelled_blobs_are_covered_so_picks_go_elsewhere(self, blobs):
        X, y = blobs
        labelled = np.array([np.flatnonzero(y == c)[0] for c in range(5)])
        learner = Untouchable()
        learner.X_training = X[labelled]
        pool = np.delete(np.arange(len(y)), labelled)
        idx, _ = TypiClustQuery(random_state=0)(learner, X[pool], 5)
        assert sorted(y[pool][idx]) == [5, 6, 7, 8, 9]

    def test_picks_are_distinct_and_seeded(self, digits):
        X, _ = digits
        strategy = TypiClustQuery(random_state=1)
        idx, scores = strategy(None, X, 30)
        assert idx.dtype == np.int64 and scores.dtype == np.float64
        assert len(np.unique(idx)) == 30
        again, again_scores = clone(strategy)(None, X, 30)
        np.testing.assert_array_equal(idx, again)
        np.testing.assert_array_equal(scores, again_scores)

    def test_pool_subsample_picks_from_a_subset_in_full_pool_indices(self, blobs):
        X, y = blobs
        labelled = np.array([np.flatnonzero(y == c)[0] for c in range(3)])
        learner = Untouchable()
        learner.X_training = X[labelled]
        subset = TypiClustQuery(
            pool_subsample=60, random_state=np.random.default_rng(4)
        )
        idx, scores = subset(learner, X, 5)
        # the same draws by hand: the subset first, then k-means's seed
        rng = np.random.default_rng(4)
        candidates = np.sort(rng.choice(len(X), size=60, replace=False))
        on_subset, subset_scores = TypiClustQuery(random_state=rng)(
            learner, X[candidates], 5
        )
        np.testing.assert_array_equal(idx, candidates[on_subset])
        np.testing.assert_array_equal(scores, subset_scores)
        # a subset as large as the pool is the pool, with no draw made
        whole, _ = TypiClustQuery(pool_subsample=len(X), random_state=0)(None, X, 5)
        plain, _ = TypiClustQuery(random_state=0)(None, X, 5)
        np.testing.assert_array_equal(whole, plain)
        with pytest.raises(ValueError, match="pool_subsample=3 is smaller"):
            TypiClustQuery(pool_subsample=3)(None, X, 5)

    def test_more_clusters_than_full_kmeans_handles(self, digits):
        """Beyond 50 clusters MiniBatchKMeans clusters; picks stay distinct."""
        X, _ = digits
        idx, _ = TypiClustQuery(random_state=0)(None, X, 60)
        assert len(np.unique(idx)) == 60

    def test_pick_is_the_most_typical_point(self):
        """One cluster: the pick has the smallest mean distance to its 20 NN."""
        X = np.random.default_rng(0).standard_normal((200, 3))
        idx, scores = TypiClustQuery(random_state=0)(None, X, 1)
        distances = np.sort(cdist(X, X), axis=1)[:, 1:21]  # column 0: itself
        typicality = 1 / distances.mean(axis=1)
        assert idx[0] == np.argmax(typicality)
        assert scores[0] == pytest.approx(typicality.max())

    def test_isolated_points_are_not_picked(self, blobs):
        X, y = blobs
        far = np.array([[1e3, 0, 0, 0], [0, 1e3, 0, 0], [0, 0, 1e3, 0]])
        X = np.concatenate([X[y < 2], far])  # 16 blob points, then 3 outliers
        idx, _ = TypiClustQuery(random_state=0)(None, X, 5)
        assert np.all(idx < 16)
        idx, _ = TypiClustQuery(min_cluster_size=1, random_state=0)(None, X, 5)
        assert set(idx) >= {16, 17, 18}

    def test_sparse_and_image_pools_give_the_dense_picks(self, digits):
        X, _ = digits
        dense, _ = TypiClustQuery(random_state=0)(None, X, 10)
        from_csr, _ = TypiClustQuery(random_state=0)(None, sparse.csr_matrix(X), 10)
        images = torch.as_tensor(X.reshape(-1, 1, 8, 8))
        from_images, _ = TypiClustQuery(random_state=0)(None, images, 10)
        np.testing.assert_array_equal(from_csr, dense)
        np.testing.assert_array_equal(from_images, dense)


class TestEstimator:
    @pytest.mark.parametrize(
        "check",
        [
            check_no_attributes_set_in_init,
            check_parameters_default_constructible,
            check_get_params_invariance,
            check_set_params,
        ],
        ids=lambda c: c.__name__,
    )
    def test_scikit_learn_checks_that_need_no_fit(self, check):
        check("TypiClustQuery", TypiClustQuery())

    def test_clone_and_repr_keep_the_parameters(self):
        strategy = TypiClustQuery(n_neighbors=7, random_state=3)
        assert clone(strategy).get_params() == strategy.get_params()
        assert repr(strategy) == "TypiClustQuery(n_neighbors=7, random_state=3)"


class TestEmbedding:
    def test_callable_embedding_defines_the_distances(self, blobs):
        X, y = blobs
        # a huge noise column hides the blobs from raw distances
        noise = np.random.default_rng(0).uniform(0, 1e4, size=(len(y), 1))
        X_noisy = np.hstack([X, noise])
        raw, _ = TypiClustQuery(random_state=0)(None, X_noisy, 10)
        embedded, _ = TypiClustQuery(embedding=lambda Z: Z[:, :4], random_state=0)(
            None, X_noisy, 10
        )
        assert len(np.unique(y[raw])) < 10
        assert sorted(y[embedded]) == list(range(10))

    def test_unfitted_transformer_is_fitted_on_a_clone(self, digits):
        X, _ = digits
        scaler = StandardScaler()
        idx, _ = TypiClustQuery(embedding=scaler, random_state=0)(None, X, 10)
        with pytest.raises(NotFittedError):
            check_is_fitted(scaler)
        fitted = StandardScaler().fit(X)
        expected, _ = TypiClustQuery(embedding=fitted.transform, random_state=0)(
            None, X, 10
        )
        np.testing.assert_array_equal(idx, expected)

    def test_fitted_transformer_is_used_as_is(self, digits):
        X, _ = digits
        fitted = StandardScaler().fit(X[:100])  # not the pool's statistics
        idx, _ = TypiClustQuery(embedding=fitted, random_state=0)(None, X, 10)
        expected, _ = TypiClustQuery(embedding=fitted.transform, random_state=0)(
            None, X, 10
        )
        refitted, _ = TypiClustQuery(embedding=StandardScaler(), random_state=0)(
            None, X, 10
        )
        np.testing.assert_array_equal(idx, expected)
        assert not np.array_equal(idx, refitted)


class TestErrors:
    def test_more_instances_than_pool(self, blobs):
        X, _ = blobs
        with pytest.raises(ValueError, match=r"n_instances must be .*got 1000"):
            TypiClustQuery()(None, X, 1000)

    def test_a_dict_of_inputs_needs_an_embedding(self, blobs):
        X = blobs[0]
        pool = {"left": X[:, :2], "right": X[:, 2:]}
        with pytest.raises(ValueError, match=r"dict of inputs \('left', 'right'\)"):
            TypiClustQuery()(None, pool, 2)
        joined = TypiClustQuery(
            embedding=lambda d: np.hstack([d["left"], d["right"]]), random_state=0
        )
        np.testing.assert_array_equal(
            joined(None, pool, 3)[0], TypiClustQuery(random_state=0)(None, X, 3)[0]
        )

    def test_nan_inputs_say_to_impute(self, blobs):
        X = blobs[0].copy()
        X[3, 1] = np.nan
        with pytest.raises(ValueError, match=r"X_pool contains NaN.*SimpleImputer"):
            TypiClustQuery()(None, X, 2)
        # and names the rows: an embedding that failed is dropped or redone
        X[7, 0] = np.inf
        with pytest.raises(
            ValueError, match=r"in 2 row\(s\) \(first: \[3, 7\]\).*re-embed"
        ):
            TypiClustQuery()(None, X, 2)

    @pytest.mark.parametrize(
        "container",
        [
            list,
            lambda t: np.array(t, dtype=object),
            np.array,
            pd.Series,  # pandas 3: dtype str, an extension dtype numpy cannot read
            lambda t: pd.Series(t, dtype="string"),
            lambda t: pd.Series(t, dtype="category"),
        ],
        ids=["list", "object", "unicode", "series", "string", "category"],
    )
    def test_text_without_embedding_names_it(self, container):
        texts = ["cheap flights to rome", "stock prices fall", "team wins the cup",
                 "rome hotel deals", "markets rally", "cup final tonight"]  # fmt: skip
        with pytest.raises(ValueError, match=r"raw inputs pass embedding=, e\.g\."):
            TypiClustQuery(random_state=0)(None, container(texts), 2)
        picked, _ = TypiClustQuery(embedding=TfidfVectorizer(), random_state=0)(
            None, texts, 2
        )
        assert len(set(picked.tolist())) == 2

    @staticmethod
    def _table():
        rng = np.random.default_rng(0)
        return pd.DataFrame(
            {
                "age": rng.integers(20, 70, 60),
                "income": rng.normal(5e4, 1e4, 60),
                "city": rng.choice(["Paris", "Rome", "Oslo"], 60),
            }
        )

    @pytest.mark.parametrize(
        ("convert", "columns"),
        [
            (lambda df: df, r"\['city'\]"),
            (lambda df: df.astype({"city": "category"}), r"\['city'\]"),
            (lambda df: df.astype({"city": "string"}), r"\['city'\]"),
            (lambda df: df[["city"]], r"\['city'\]"),
            (lambda df: df.to_numpy(), r"\[2\]"),
            (lambda df: df.to_numpy().tolist(), r"\[2\]"),
        ],
        ids=["frame", "category", "string", "one-column", "object-array", "rows"],
    )
    def test_string_columns_name_the_columns_and_the_encoding(self, convert, columns):
        X = convert(self._table())
        with pytest.raises(
            ValueError,
            match=rf"X_pool has non-numeric columns {columns}.*numeric features: "
            r"encode them with embedding=.*make_column_transformer\(\(OneHotEncoder"
            r".*learner\.estimator\[:-1\]",
        ):
            TypiClustQuery(random_state=0)(None, X, 3)

    def test_an_embedding_that_fails_on_string_columns_is_explained(self):
        X = self._table()
        with pytest.raises(
            ValueError,
            match=r"embedding=StandardScaler\(\) failed on X_pool, whose columns "
            r"\['city'\] are not numeric \(could not convert string",
        ):
            TypiClustQuery(embedding=StandardScaler(), random_state=0)(None, X, 3)
        with pytest.raises(ValueError, match=r"X_pool after embedding has non-numeric"):
            TypiClustQuery(embedding=lambda Z: Z, random_state=0)(None, X, 3)
        learner = Untouchable()
        learner.X_training = X.iloc[:5]
        with pytest.raises(ValueError, match=r"failed on X_training, whose columns"):
            TypiClustQuery(embedding=lambda Z: Z.astype(float), random_state=0)(
                learner, X.drop(columns="city"), 3
            )

    def test_the_suggested_encoding_works(self):
        X = self._table()
        encode = make_column_transformer(
            (OneHotEncoder(), ["city"]), remainder=StandardScaler()
        )
        picked, _ = TypiClustQuery(embedding=encode, random_state=0)(None, X, 3)
        assert len(set(picked.tolist())) == 3
        learner = ActiveLearner(
            make_pipeline(clone(encode), LogisticRegression()),
            query_strategy=TypiClustQuery(random_state=0),
        )
        learner.query_strategy.set_params(embedding=learner.estimator[:-1])
        idx, _ = learner.query(X, n_instances=3)
        np.testing.assert_array_equal(np.sort(idx), np.sort(picked))

    @staticmethod
    def _suggested_embedding(message):
        """The embedding= code a message suggests, built as the user would."""
        from sklearn.impute import SimpleImputer  # noqa: F401 (the code names it)

        code = re.search(r"embedding=(make_column_transformer\(.*\)), or", message)
        if code is None:
            code = re.search(r"embedding=(make_column_transformer\(.*\))\.$", message)
        assert code is not None, message
        return eval(code.group(1))

    @pytest.mark.parametrize("dtype", [object, "category"])
    def test_the_suggested_encoding_works_with_missing_values(self, dtype):
        # the trial's frame: strings with missing entries next to numbers with
        # NaN; the first suggestion copied must work, not lead to a second error
        X = self._table().astype({"city": dtype, "income": float})
        X.loc[::6, "income"] = np.nan
        X.loc[1::9, "city"] = None
        learner = Untouchable()
        learner.X_training = X.iloc[:10].assign(city="Lima")  # not in the pool
        pool = X.iloc[10:]
        with pytest.raises(ValueError, match="non-numeric columns") as info:
            TypiClustQuery(random_state=0)(learner, pool, 3)
        embedding = self._suggested_embedding(str(info.value))
        picked, _ = TypiClustQuery(embedding=embedding, random_state=0)(
            learner, pool, 3
        )
        assert len(set(picked.tolist())) == 3
        # an encoder without imputers: the NaN error suggests the whole embedding
        encode_only = make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["city"]),
            remainder=StandardScaler(),
        )
        with pytest.raises(ValueError, match="after embedding contains NaN") as info:
            TypiClustQuery(embedding=encode_only, random_state=0)(learner, pool, 3)
        embedding = self._suggested_embedding(str(info.value))
        again, _ = TypiClustQuery(embedding=embedding, random_state=0)(learner, pool, 3)
        np.testing.assert_array_equal(again, picked)

    @pytest.mark.parametrize("missing", [False, True])
    def test_the_suggested_encoding_leaves_dates_out(self, missing):
        # one-hot encoded, every date was a category of its own (962 columns
        # on 1,500 claims); the suggestion drops them and says how to keep them
        X = self._table().assign(
            policy_date=pd.Timestamp("2020-01-01")
            + pd.to_timedelta(np.arange(len(self._table())) * 7 % 1500, unit="D")
        )
        if missing:
            X.loc[::6, "income"] = np.nan
        learner = Untouchable()
        learner.X_training = X.iloc[:10]
        pool = X.iloc[10:]
        with pytest.raises(ValueError, match="non-numeric columns") as info:
            TypiClustQuery(random_state=0)(learner, pool, 3)
        message = str(info.value)
        assert "('drop', ['policy_date'])" in message
        assert "leaves out the date and time columns ['policy_date']" in message
        assert ".dt.days" in message
        embedding = self._suggested_embedding(message)
        encoded = clone(embedding).fit_transform(pool)
        assert encoded.shape[1] == pool["city"].nunique() + 2  # + age, income
        picked, _ = TypiClustQuery(embedding=embedding, random_state=0)(
            learner, pool, 3
        )
        assert len(set(picked.tolist())) == 3

    def test_a_one_dimensional_numeric_pool_keeps_sklearns_advice(self):
        with pytest.raises(ValueError, match="Expected 2D array"):
            TypiClustQuery(random_state=0)(None, np.arange(10.0), 2)

    def test_nan_embedding_is_named(self, blobs):
        X, _ = blobs
        with pytest.raises(ValueError, match="X_pool after embedding contains NaN"):
            TypiClustQuery(embedding=lambda Z: Z * np.nan)(None, X, 2)

    def test_embedding_with_wrong_row_count(self, blobs):
        X, _ = blobs
        with pytest.raises(ValueError, match="returned 1 rows for the 496 rows"):
            TypiClustQuery(embedding=lambda Z: Z[:1])(None, X, 2)

    def test_embedding_of_wrong_type(self, blobs):
        with pytest.raises(TypeError, match=r"embedding must be None.*got str"):
            TypiClustQuery(embedding="pca")(None, blobs[0], 2)

    @pytest.mark.parametrize(
        ("params", "error"),
        [
            ({"n_neighbors": 0}, ValueError),
            ({"n_neighbors": 2.0}, TypeError),
            ({"min_cluster_size": True}, TypeError),
            ({"max_clusters": -1}, ValueError),
            ({"pool_subsample": 0}, ValueError),
            ({"random_state": "0"}, TypeError),
        ],
    )
    def test_bad_parameters(self, blobs, params, error):
        name = next(iter(params))
        with pytest.raises(error, match=name):
            TypiClustQuery(**params)(None, blobs[0], 2)

    @pytest.mark.parametrize(
        ("X_pool", "message"),
        [(None, "X_pool is None"), (np.empty((0, 4)), "X_pool is empty")],
    )
    def test_missing_pool(self, X_pool, message):
        with pytest.raises(ValueError, match=message):
            TypiClustQuery()(None, X_pool, 1)

    def test_labelled_and_pool_features_differ(self, blobs):
        learner = Untouchable()
        learner.X_training = np.zeros((3, 2))
        with pytest.raises(
            ValueError, match=r"X_pool has 4 features.*X_training has 2"
        ):
            TypiClustQuery()(learner, blobs[0], 2)


@pytest.mark.parametrize("strategy", [BatchBALDQuery(), MarginQuery()])
def test_posterior_strategy_on_unfitted_learner_names_the_cold_start_path(strategy):
    X = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    net = MCDropoutClassifier(BayesianMLP, module__n_features=4, verbose=0)
    learner = ActiveLearner(net, query_strategy=strategy)
    with pytest.raises(NotFittedError, match=r"RandomQuery.*TypiClustQuery"):
        learner.query(X, n_instances=3)


def test_a_large_pool_without_a_subsample_is_warned_about(monkeypatch):
    from skbatchbald import SkbatchbaldWarning, cold_start

    monkeypatch.setattr(cold_start, "_SLOW_POOL", 100)  # 10^6 rows, in miniature
    X, _ = make_blobs(n_samples=200, centers=3, random_state=0)
    with pytest.warns(SkbatchbaldWarning, match=r"clusters all 200 pool points"):
        TypiClustQuery(random_state=0)(None, X, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkbatchbaldWarning)
        TypiClustQuery(pool_subsample=100, random_state=0)(None, X, 3)
