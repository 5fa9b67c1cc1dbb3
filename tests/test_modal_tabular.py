"""ActiveLearner on tables: DataFrames with categories, missing values."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skbatchbald import ActiveLearner, MarginQuery, MCDropoutClassifier
from skbatchbald.modal import _warn_repeated_index_labels
from skbatchbald.nn import BayesianMLP


@pytest.fixture(scope="module")
def table():
    """A small mixed table: two numbers (one with NaN), strings, booleans.

    Category columns next to a boolean one are what scikit-learn's check_X_y
    tries to cast to float ("Cannot cast str dtype to float64").
    """
    rng = np.random.default_rng(0)
    n = 80
    y = np.arange(n) % 2
    frame = pd.DataFrame(
        {
            "amount": rng.normal(size=n) + y,
            "age": rng.normal(size=n),
            "card": rng.choice(["visa", "mc", "amex"], n),
            "online": rng.random(n) < 0.5,
        }
    )
    with_nan = frame.copy()
    with_nan.loc[::7, "amount"] = np.nan
    return frame, with_nan, y


def _encoded(model):
    """``model`` after one-hot encoding the card, numbers imputed."""
    return make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["card"]),
            remainder=SimpleImputer(),
        ),
        model,
    )


def _loop(learner, X_pool, y_pool):
    """One query and teach: the frame reaches the model in every call."""
    idx, rows = learner.query(X_pool, n_instances=5)
    learner.teach(rows, y_pool[idx])
    return learner


class TestCategoryColumns:
    """A pandas category column reaches the estimator as it is."""

    @pytest.mark.parametrize(
        "model",
        [
            HistGradientBoostingClassifier(
                categorical_features="from_dtype", max_iter=5, min_samples_leaf=5
            ),
            _encoded(RandomForestClassifier(10, random_state=0)),
        ],
        ids=["hgb-from-dtype", "onehot-forest"],
    )
    def test_category_dtype_is_taught(self, table, model):
        frame, _, y = table
        frame = frame.assign(card=frame["card"].astype("category"))
        learner = ActiveLearner(
            model,
            query_strategy=MarginQuery(),
            X_training=frame[:40],
            y_training=y[:40],
        )
        _loop(learner, frame[40:], y[40:])
        assert isinstance(learner.X_training, pd.DataFrame)
        assert learner.X_training["card"].dtype == "category"
        assert len(learner.X_training) == 45

    def test_frame_rows_still_counted(self, table):
        frame, _, y = table
        frame = frame.assign(card=frame["card"].astype("category"))
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            ActiveLearner(
                HistGradientBoostingClassifier(categorical_features="from_dtype"),
                X_training=frame[:40],
                y_training=y[:30],
            )


class TestMissingValuesDefault:
    """force_all_finite='auto' follows the estimator's allow_nan tag."""

    @pytest.mark.parametrize(
        "model",
        [
            HistGradientBoostingClassifier(max_iter=5),
            make_pipeline(SimpleImputer(), LogisticRegression()),
            GridSearchCV(
                make_pipeline(SimpleImputer(), LogisticRegression()),
                {"logisticregression__C": [0.1, 1.0]},
                cv=2,
            ),
        ],
        ids=["hgb", "imputer-pipeline", "search-over-imputer-pipeline"],
    )
    def test_nan_accepted_where_the_model_handles_it(self, table, model):
        _, frame, y = table
        X = frame[["amount", "age"]].to_numpy()
        learner = ActiveLearner(model, X_training=X[:40], y_training=y[:40])
        _loop(learner, X[40:], y[40:])
        assert np.isnan(learner.X_training).any()

    def test_mixed_frame_with_nan_and_encoder(self, table):
        # the trial's case: a ColumnTransformer that imputes and encodes
        _, frame, y = table
        model = _encoded(RandomForestClassifier(10, random_state=0))
        learner = ActiveLearner(model, X_training=frame[:40], y_training=y[:40])
        _loop(learner, frame[40:], y[40:])
        assert learner.X_training["amount"].isna().any()

    @pytest.mark.parametrize(
        "model",
        [LogisticRegression(), make_pipeline(StandardScaler(), LogisticRegression())],
        ids=["logistic", "scaler-then-logistic"],
    )
    def test_nan_refused_where_the_model_refuses_it(self, table, model):
        _, frame, y = table
        X = frame[["amount", "age"]].to_numpy()
        with pytest.raises(ValueError, match="contains NaN") as info:
            ActiveLearner(model, X_training=X[:40], y_training=y[:40])
        message = str(info.value)
        assert "force_all_finite='auto'" in message
        assert "LogisticRegression, which does not accept them" in message
        assert "SimpleImputer" in message
        assert "ensure_all_finite" in message
        assert "force_all_finite='allow-nan'" in message
        assert message.endswith(".") and ". ." not in message

    def test_explicit_setting_still_wins(self, table):
        _, frame, y = table
        X = frame[["amount", "age"]].to_numpy()
        hgb = HistGradientBoostingClassifier(max_iter=5)
        with pytest.raises(ValueError, match=r"force_all_finite=True\) rejects"):
            ActiveLearner(
                hgb, X_training=X[:40], y_training=y[:40], force_all_finite=True
            )
        learner = ActiveLearner(
            LogisticRegression(),
            X_training=np.nan_to_num(X[:40]),
            y_training=y[:40],
            force_all_finite=False,
        )
        assert learner.get_params()["force_all_finite"] is False

    def test_default_is_auto(self):
        assert ActiveLearner(LogisticRegression()).force_all_finite == "auto"

    def test_frame_missing_values_named_by_column(self, table):
        frame, _, y = table
        frame = frame.astype({"card": object})
        frame.loc[3, "card"] = None  # a missing string, not a float NaN
        with pytest.raises(ValueError, match=r"NaN.*\['card'\]"):
            ActiveLearner(
                _encoded(RandomForestClassifier(10)),
                X_training=frame[:40],
                y_training=y[:40],
                force_all_finite=True,
            )

    def test_frame_infinity_refused_by_default(self, table):
        _, frame, y = table
        frame = frame.copy()
        frame.loc[5, "age"] = np.inf
        with pytest.raises(ValueError, match=r"infinity in columns \['age'\]"):
            ActiveLearner(
                HistGradientBoostingClassifier(max_iter=5),
                X_training=frame[["amount", "age"]][:40],
                y_training=y[:40],
            )


class TestNetInputWidth:
    """An encoder refitted each round changes a net's input width."""

    @staticmethod
    def _cities(n, seed):
        rng = np.random.default_rng(seed)
        return pd.DataFrame({"city": rng.choice([f"c{i}" for i in range(12)], n)})

    @staticmethod
    def _net(n_features):
        return MCDropoutClassifier(
            BayesianMLP,
            module__n_features=n_features,
            max_epochs=1,
            verbose=0,
            random_state=0,
        )

    def test_width_change_names_the_frozen_encoder(self):
        X = self._cities(60, 0)
        y = np.arange(60) % 2
        start = X[:6]  # holds only some of the 12 cities
        width = start["city"].nunique()
        learner = ActiveLearner(
            make_pipeline(OneHotEncoder(handle_unknown="ignore"), self._net(width)),
            X_training=start,
            y_training=y[:6],
        )
        with pytest.raises(ValueError, match="module__n_features") as info:
            learner.teach(X[6:30], y[6:30])  # new cities: new columns
        message = str(info.value)
        assert "only moves the error to the next round" in message
        assert "['onehotencoder']" in message
        assert "OneHotEncoder(categories=...)" in message
        assert "FrozenEstimator" in message
        assert "Text: fit the vectorizer once, on the pool" in message

    def test_the_named_fix_keeps_the_width(self):
        X = self._cities(60, 0)
        y = np.arange(60) % 2
        encoder = OneHotEncoder(handle_unknown="ignore").fit(X)  # the whole pool
        learner = ActiveLearner(
            make_pipeline(FrozenEstimator(encoder), self._net(12)),
            X_training=X[:6],
            y_training=y[:6],
        )
        learner.teach(X[6:30], y[6:30])
        assert len(learner.y_training) == 30

    def test_a_wrong_width_at_the_first_fit_keeps_the_nets_advice(self):
        X = self._cities(60, 0)
        with pytest.raises(ValueError, match="module__n_features") as info:
            ActiveLearner(
                make_pipeline(OneHotEncoder(), self._net(3)),
                X_training=X[:20],
                y_training=np.arange(20) % 2,
            )
        assert "FrozenEstimator" not in str(info.value)


class TestIndexOrder:
    """pandas X and y of the same rows in other orders."""

    def _frames(self):
        rng = np.random.default_rng(0)
        X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
        X.index = X.index + 100
        y = pd.Series((X["a"] > 0).astype(int), index=X.index)
        return X, y

    def test_a_shuffled_y_is_refused_with_the_fix(self):
        X, y = self._frames()
        learner = ActiveLearner(
            LogisticRegression(), X_training=X.iloc[:20], y_training=y.iloc[:20]
        )
        n_before = len(learner.y_training)
        with pytest.raises(ValueError, match=r"y\.loc\[X\.index\]") as info:
            learner.teach(X.iloc[20:24], y.iloc[20:24].iloc[::-1])
        assert "4 of 4 rows differ" in str(info.value)
        assert len(learner.y_training) == n_before  # nothing taught
        with pytest.raises(ValueError, match="different orders"):
            ActiveLearner(LogisticRegression(), X_training=X, y_training=y[::-1])
        # the fix the message names
        learner.teach(X.iloc[20:24], y.iloc[20:24].iloc[::-1].loc[X.index[20:24]])
        np.testing.assert_array_equal(learner.y_training[-4:], y.iloc[20:24])

    def test_other_labels_pair_by_position_as_scikit_learn(self):
        # a y built with a fresh RangeIndex, a plain array: scikit-learn's
        # pairing by position, quietly
        X, y = self._frames()
        # a frame shuffled whole beside labels made by position: its permuted
        # 0..n-1 labels and the labels' fresh RangeIndex hold the same set
        shuffled = X.reset_index(drop=True).sample(frac=1, random_state=0)
        labels = pd.Series((shuffled["a"] > 0).astype(int).to_numpy())
        learner = ActiveLearner(
            LogisticRegression(), X_training=shuffled, y_training=labels
        )
        np.testing.assert_array_equal(learner.y_training, labels.to_numpy())
        for labels in (y.reset_index(drop=True), y.to_numpy()):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                learner = ActiveLearner(
                    LogisticRegression(), X_training=X, y_training=labels
                )
            np.testing.assert_array_equal(learner.y_training, y.to_numpy())
        # labels of their own: paired by position, with a warning naming why
        with pytest.warns(UserWarning, match=r"0 of 40 shared.*y\.to_numpy\(\)"):
            learner = ActiveLearner(
                LogisticRegression(),
                X_training=X,
                y_training=y.set_axis(X.index + 1000),
            )
        np.testing.assert_array_equal(learner.y_training, y.to_numpy())

    def test_labels_looked_up_by_label_beside_rows_by_position_warn(self):
        # modAL's habit on pandas: X_pool.iloc[idx] (positions) beside
        # y_pool[idx], which a Series with an integer index reads by label;
        # once taught rows are dropped, the two are different rows
        X, y = self._frames()
        X_pool, y_pool = X.reset_index(drop=True), y.reset_index(drop=True)
        learner = ActiveLearner(
            LogisticRegression(),
            X_training=X_pool.iloc[:10],
            y_training=y_pool.iloc[:10],
        )
        X_pool, y_pool = X_pool.drop(index=range(10)), y_pool.drop(index=range(10))
        idx = np.array([13, 20, 15])  # positions a query returned
        with pytest.warns(UserWarning, match=r"y_pool\.iloc\[idx\]") as record:
            learner.teach(X_pool.iloc[idx], y_pool[idx])
        assert "X's row 23 is y's 13 by position" in str(record[0].message)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            learner.teach(X_pool.iloc[idx], y_pool.iloc[idx])  # the fix
            # once per learner: a y with an index of its own in every batch
            learner.teach(X_pool.iloc[[1, 2]], y_pool.iloc[[1, 2]].set_axis([7, 8]))

    def test_the_example_row_moved_and_index_dtypes_do_not_count(self):
        X, y = self._frames()
        with pytest.raises(
            ValueError, match=r"2 of 40 rows differ, e\.g\. X's row 101"
        ):
            ActiveLearner(
                LogisticRegression(),
                X_training=X,
                y_training=y.iloc[[0, 2, 1, *range(3, 40)]],
            )
        # the same labels in the same order, one index Int64 (convert_dtypes)
        nullable = X.set_axis(X.index.astype("Int64"))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ActiveLearner(LogisticRegression(), X_training=nullable, y_training=y)


def _abc_learner():
    """A learner taught 20 rows of a three-column frame, and the frame."""
    X = pd.DataFrame(
        np.random.default_rng(0).normal(size=(30, 3)), columns=["a", "b", "c"]
    )
    y = (X["a"] > 0).astype(int)
    learner = ActiveLearner(
        LogisticRegression(), X_training=X.iloc[:20], y_training=y.iloc[:20]
    )
    return learner, X, y


def test_rows_taught_without_a_column_name_it():
    learner, X, y = _abc_learner()
    with pytest.raises(ValueError, match=r"missing \['b'\], unexpected \[\]"):
        learner.teach(X.iloc[20:25].drop(columns=["b"]), y.iloc[20:25])
    assert len(learner.y_training) == 20


def test_one_row_taught_as_a_series_is_named():
    learner, X, y = _abc_learner()
    with pytest.raises(ValueError, match=r"X_pool\.iloc\[\[i\]\]"):
        learner.teach(X.iloc[25], [y.iloc[25]])
    learner.teach(X.iloc[[25]], [y.iloc[25]])  # the fix
    assert len(learner.y_training) == 21


def test_a_batch_read_back_from_csv_keeps_its_number_and_date_columns():
    # The batch went out to claim handlers as CSV and came back: its dates
    # are text. The labelled rows keep their dtypes, so a ColumnTransformer
    # choosing columns by dtype still feeds 'amount' to the model.
    import io

    from sklearn.compose import make_column_selector

    rng = np.random.default_rng(0)
    n = 80
    X = pd.DataFrame(
        {
            "amount": rng.normal(size=n).round(2),
            "channel": rng.choice(["web", "agent"], n),
            "policy_date": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 1500, n), unit="D"),
        }
    )
    y = np.where(X["amount"] > 0.5, "fraud", "ok")
    numbers = make_column_selector(dtype_include="number")
    model = make_pipeline(
        make_column_transformer(
            (StandardScaler(), numbers), (OneHotEncoder(), ["channel"])
        ),
        LogisticRegression(),
    )
    learner = ActiveLearner(model, MarginQuery(), X_training=X[:40], y_training=y[:40])
    idx, rows = learner.query(X[40:], n_instances=3)
    returned = io.StringIO()
    rows.to_csv(returned)
    returned.seek(0)
    learner.teach(pd.read_csv(returned, index_col=0), y[40:][idx])
    learner.teach(X[40:][:2].astype({"amount": str}), y[40:42])
    assert learner.X_training.dtypes.to_dict() == X.dtypes.to_dict()
    assert "standardscaler__amount" in learner.estimator[0].get_feature_names_out()


def test_picks_whose_index_label_is_repeated_in_the_pool_are_warned_about():
    # two extracts joined without ignore_index=True: labels 0..59 twice
    rng = np.random.default_rng(1)
    part = pd.DataFrame(rng.normal(size=(60, 3)), columns=["amount", "age", "tenure"])
    pool = pd.concat([part, part + 0.1])
    y = (part["amount"] > 0).astype(int).to_numpy()
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=10, random_state=0),
        MarginQuery(),
        X_training=part.iloc[:20].to_numpy(),
        y_training=y[:20],
    )
    with pytest.warns(UserWarning, match=r"repeats the labels of 4 picked row.*on 8"):
        _, rows = learner.query(pool, n_instances=4)
    assert len(pool.drop(index=rows.index)) == len(pool) - 8  # what it warns of
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for an index without repeats
        learner.query(pool.reset_index(drop=True), n_instances=4)
        # nor for repeats among rows not picked
        _warn_repeated_index_labels(pd.concat([part, part.iloc[:1]]), [5, 6])


@pytest.mark.parametrize("as_frame", [False, True])
def test_picks_equal_to_labelled_rows_are_warned_about(as_frame):
    # the whole pool passed each round, labelled rows included: a model
    # whose members miss some labelled rows picks them again
    from skbatchbald import RandomQuery, SkbatchbaldWarning

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    pool = pd.DataFrame(X, columns=list("abc")) if as_frame else X
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5, random_state=0),
        RandomQuery(random_state=0),
        X_training=pool[:10] if not as_frame else pool.iloc[:10],
        y_training=y[:10],
    )
    with pytest.warns(SkbatchbaldWarning, match=r"10 of the 40 picked rows .*equal"):
        learner.query(pool, n_instances=40)
    unlabelled = pool[10:] if not as_frame else pool.iloc[10:]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkbatchbaldWarning)
        learner.query(unlabelled, n_instances=30)


def test_labelled_rows_picked_from_a_memmap_or_by_a_committee(tmp_path):
    from skbatchbald import Committee, RandomQuery, SkbatchbaldWarning

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    np.save(tmp_path / "pool.npy", X)
    pool = np.load(tmp_path / "pool.npy", mmap_mode="r")
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5, random_state=0),
        RandomQuery(random_state=0),
        X_training=X[:10].astype(np.float64),  # another dtype, as a copy may be
        y_training=y[:10],
    )
    with pytest.warns(SkbatchbaldWarning, match=r"10 of the 40 picked rows"):
        learner.query(pool, n_instances=40)
    committee = Committee([learner], query_strategy=RandomQuery(random_state=0))
    with pytest.warns(SkbatchbaldWarning, match=r"10 of the 40 picked rows"):
        committee.query(pool, n_instances=40)


def test_labelled_rows_picked_from_a_dataframe_are_named_by_index_label():
    from skbatchbald import RandomQuery, SkbatchbaldWarning

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(20, 3)), index=[f"img{i}" for i in range(20)])
    y = (frame[0] > 0).astype(int).to_numpy()
    pool = frame.sample(frac=1, random_state=0)
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5, random_state=0),
        RandomQuery(random_state=0),
        X_training=frame.iloc[:2],
        y_training=y[:2],
    )
    with pytest.warns(SkbatchbaldWarning, match="index labels") as caught:
        learner.query(pool, n_instances=20)
    message = str(caught[0].message)
    assert "'img0'" in message and "'img1'" in message
    assert "X_pool.drop(index=labels)" in message
