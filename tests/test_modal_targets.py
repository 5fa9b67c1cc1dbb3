"""ActiveLearner: targets of the wrong kind, NaN targets, mixed tasks, one-hot y."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_digits, make_multilabel_classification
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import DataConversionWarning
from sklearn.linear_model import LogisticRegression
from sklearn.multioutput import ClassifierChain, MultiOutputClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MultiLabelBinarizer, StandardScaler

from skbatchbald import ActiveLearner, MCDropoutMultiLabelClassifier
from skbatchbald._modal_ports import check_targets
from skbatchbald.nn import BayesianMLP


@pytest.fixture(scope="module")
def data():
    X, y = load_diabetes(return_X_y=True)
    return X[:60], y[:60] / 100.0 + 0.01  # continuous, never integral


def test_regressor_float_then_labels_then_floats(data):
    X, y = data
    learner = ActiveLearner(
        RandomForestRegressor(5, random_state=0), X_training=X[:20], y_training=y[:20]
    )
    with pytest.raises(ValueError, match="this round's targets are labels") as info:
        learner.teach(X[20:25], np.array(["a", "b", "a", "b", "a"]))
    assert "numbers for regression" in str(info.value)
    assert learner.X_training.shape[0] == 20  # the refused round left no trace
    learner.teach(X[20:25], y[20:25])  # and back: numbers again
    assert learner.X_training.shape[0] == 25


def test_classifier_labels_then_floats(data):
    X, y = data
    labels = np.where(y[:20] > 1.5, "high", "low")
    learner = ActiveLearner(
        RandomForestClassifier(5, random_state=0), X_training=X[:20], y_training=labels
    )
    with pytest.raises(ValueError, match="this round's targets are continuous"):
        learner.teach(X[20:25], y[20:25])
    int_learner = ActiveLearner(
        RandomForestClassifier(5, random_state=0),
        X_training=X[:20],
        y_training=(y[:20] > 1.5).astype(int),
    )
    with pytest.raises(ValueError, match="is a classifier"):
        int_learner.teach(X[20:25], y[20:25])
    int_learner.teach(X[20:25], np.array([0, 1, 0, 1, 1]))


def test_continuous_target_for_a_classifier(data):
    X, y = data
    with pytest.raises(ValueError, match=r"regression target, but \w+ is a classifier"):
        ActiveLearner(
            make_pipeline(StandardScaler(), RandomForestClassifier(3)),
            X_training=X,
            y_training=y,
        )


def test_class_labels_for_a_regressor(data):
    X, _ = data
    with pytest.raises(ValueError, match="RandomForestRegressor is a regressor"):
        ActiveLearner(
            RandomForestRegressor(3),
            X_training=X[:4],
            y_training=np.array(["cat", "dog", "cat", "dog"]),
        )


@pytest.mark.parametrize("force_all_finite", [True, False])
def test_nan_targets(data, force_all_finite):
    X, y = data
    learner = ActiveLearner(
        RandomForestRegressor(3),
        X_training=X[:10],
        y_training=y[:10],
        force_all_finite=force_all_finite,
    )
    bad = y[10:15].copy()
    bad[2] = np.nan
    with pytest.raises(ValueError, match=r"pandas' NA\) at row\(s\) \[2\]"):
        learner.teach(X[10:15], bad)
    with pytest.raises(ValueError, match="Teach only the rows that have been"):
        learner.teach(X[10:12], np.array(["a", None], dtype=object))
    with pytest.raises(ValueError, match="NaN"):
        ActiveLearner(RandomForestRegressor(3), X_training=X[:3], y_training=bad[:3])


@pytest.mark.parametrize(
    ("dtype", "values"),
    [
        ("string", ["cat", "dog", None, "cat"]),  # convert_dtypes(), read_csv
        ("Int64", [1, 2, None, 1]),
        ("boolean", [True, False, None, True]),
        ("category", ["cat", "dog", None, "cat"]),
    ],
)
def test_pandas_missing_labels_are_named(data, dtype, values):
    # pd.NA made scikit-learn's check raise "boolean value of NA is ambiguous"
    X, _ = data
    y = pd.Series(values, dtype=dtype)
    learner = ActiveLearner(LogisticRegression())
    with pytest.raises(ValueError, match=r"pandas' NA\) at row\(s\) \[2\]"):
        learner.teach(X[:4], y)


def test_sparse_and_two_dimensional_targets_are_left_to_the_estimator(data):
    import scipy.sparse as sp

    X, y = data
    Y = (np.column_stack([y, y * 2]) > 1.5).astype(int)
    learner = ActiveLearner(
        RandomForestClassifier(3, random_state=0), X_training=X[:20], y_training=Y[:20]
    )
    learner.teach(X[20:25], Y[20:25])
    assert learner.y_training.shape == (25, 2)
    # a sparse target (a multi-label indicator) is not read here
    check_targets(
        learner.estimator,
        sp.csr_matrix(Y),
        Y,
        is_regressor=False,
        is_classifier=True,
    )


# A forest fitted on a column y says so; the column is what this test teaches.
@pytest.mark.filterwarnings("ignore:A column-vector y was passed")
def test_a_column_target_then_a_flat_one(data):
    # skorch regressors take y of shape (n, 1); a round given y.ravel() instead
    # is taught in the taught shape, (n, 1), not mistaken for multi-label
    # labels or refused
    X, y = data
    learner = ActiveLearner(
        RandomForestRegressor(5, random_state=0),
        X_training=X[:20],
        y_training=y[:20, None],
    )
    learner.teach(X[20:25], y[20:25])
    assert learner.y_training.shape == (25, 1)
    np.testing.assert_array_equal(learner.y_training[:, 0], y[:25])


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:60], y[:60]


class TestOneHotTargets:
    """A one-hot y to a forest would silently be a multi-label problem."""

    def test_a_one_hot_y_warns_with_the_fix_at_the_users_line(self, digits):
        X, y = digits
        one_hot = np.eye(10, dtype=int)[y]
        with pytest.warns(UserWarning, match=r"one-hot.*y\.argmax\(axis=1\)") as info:
            learner = ActiveLearner(
                RandomForestClassifier(5, random_state=0),
                X_training=X[:30],
                y_training=one_hot[:30],
            )
        assert info[0].filename == __file__
        with pytest.warns(UserWarning, match="one-hot") as info:
            learner.teach(X[30:35], one_hot[30:35])
        assert info[0].filename == __file__
        pipeline = make_pipeline(StandardScaler(), RandomForestClassifier(5))
        with pytest.warns(UserWarning, match="one-hot"):
            ActiveLearner(pipeline, X_training=X[:30], y_training=one_hot[:30] > 0)

    def test_only_a_one_hot_y_warns_not_a_multilabel_one(self, digits):
        X, y = digits
        one_hot = np.eye(10, dtype=int)[y]
        indicator = one_hot.copy()
        indicator[::3, 0] = 1  # some rows with two labels
        indicator[1::3] = 0  # some with none
        forest = RandomForestClassifier(5, random_state=0)
        with pytest.warns(UserWarning, match="one-hot"):
            ActiveLearner(forest, X_training=X[:30], y_training=one_hot[:30])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            learner = ActiveLearner(
                forest, X_training=X[:30], y_training=indicator[:30]
            )
            # a batch of single labels, taught to a multi-label set
            learner.teach(X[30:32], one_hot[30:32])
            # estimators chosen for multi-label
            for model in (
                MultiOutputClassifier(LogisticRegression()),
                ClassifierChain(LogisticRegression()),
                MCDropoutMultiLabelClassifier(
                    BayesianMLP, module__n_features=64, max_epochs=1, verbose=0
                ),
            ):
                ActiveLearner(model, X_training=X[:30], y_training=one_hot[:30])

    def test_a_classifier_refusing_a_one_hot_y_gets_the_fix_named(self, digits):
        # LogisticRegression refuses a 2-D y with "y should be a 1d array"
        X, y = digits
        one_hot = np.eye(10, dtype=int)[y]
        with pytest.raises(ValueError, match=r"1d array.*one-hot.*argmax\(axis=1\)"):
            ActiveLearner(
                LogisticRegression(), X_training=X[:30], y_training=one_hot[:30]
            )
        learner = ActiveLearner(
            LogisticRegression(), X_training=X[:30], y_training=y[:30]
        )
        with pytest.raises(ValueError, match=r"one-hot.*argmax\(axis=1\)"):
            learner.fit(X[:40], one_hot[:40])
        # a multi-label y (rows with several labels) is left to the estimator
        indicator = one_hot[:30].copy()
        indicator[0, 0] = indicator[0, 1] = 1
        with pytest.raises(ValueError) as info:
            ActiveLearner(LogisticRegression(), X_training=X[:30], y_training=indicator)
        assert "one-hot" not in str(info.value)


class TestLabelLists:
    """Label names per row, before MultiLabelBinarizer: refused with the encoding."""

    @pytest.mark.parametrize(
        "rows",
        [
            [["cat"], ["cat", "dog"], []],  # ragged lists
            [("cat",), ("cat", "dog"), ()],  # ragged tuples
            [{"cat"}, {"dog"}, {"cat"}],  # sets, even of one size
            ["cat", ["cat", "dog"], "dog"],  # names mixed with lists
            [["billing", "login"], ["refund", "bug"]],  # two tags each, by chance
        ],
    )
    @pytest.mark.parametrize(
        "make_model",
        [
            lambda: RandomForestClassifier(5, random_state=0),
            lambda: MultiOutputClassifier(LogisticRegression()),
            lambda: MCDropoutMultiLabelClassifier(
                BayesianMLP, module__n_features=10, max_epochs=1, verbose=0
            ),
        ],
    )
    def test_refused_naming_multilabel_binarizer(self, data, rows, make_model):
        X, _ = data
        y = rows * 5
        with pytest.raises(
            ValueError, match=r"collection of labels per row \(row \d"
        ) as info:
            ActiveLearner(make_model(), X_training=X[:15], y_training=y)
        assert "MultiLabelBinarizer(classes=all_labels)" in str(info.value)

    def test_equal_length_names_name_the_multi_output_form(self, data):
        X, _ = data
        pairs = [["billing", "login"], ["refund", "bug"], ["login", "bug"]] * 5
        with pytest.raises(ValueError, match=r"pass np.array\(y\) or a DataFrame"):
            ActiveLearner(
                RandomForestClassifier(5), X_training=X[:15], y_training=pairs
            )
        # as an array, two outputs of classes, as scikit-learn fits them
        learner = ActiveLearner(
            RandomForestClassifier(5, random_state=0),
            X_training=X[:15],
            y_training=np.array(pairs),
        )
        assert learner.predict(X[15:17]).shape == (2, 2)
        # after an array of names, more rows of them are the same target
        learner.teach(X[15:16], [["billing", "bug"]])
        assert learner.y_training.shape == (16, 2)
        # tags split from a text column: a Series of lists
        series = pd.Series(["billing;login", "refund;bug", "login;bug"] * 5)
        with pytest.raises(ValueError, match="collection of labels per row"):
            ActiveLearner(
                RandomForestClassifier(5),
                X_training=X[:15],
                y_training=series.str.split(";"),
            )
        # one name per row in a list is a column of labels, not tags
        column = [["cat"], ["dog"], ["cat"]] * 5
        learner = ActiveLearner(
            RandomForestClassifier(5, random_state=0),
            X_training=X[:15],
            y_training=column,
        )
        assert set(learner.predict(X[15:20]).ravel()) <= {"cat", "dog"}

    def test_refused_when_taught_and_as_a_series(self, data):
        X, _ = data
        rows = [["cat"], ["cat", "dog"], []] * 5
        binarizer = MultiLabelBinarizer(classes=["cat", "dog"])
        learner = ActiveLearner(
            RandomForestClassifier(5, random_state=0),
            X_training=X[:15],
            y_training=binarizer.fit_transform(rows),
        )
        for y in (rows[:4], pd.Series(rows[:4], dtype=object)):
            with pytest.raises(ValueError, match="MultiLabelBinarizer"):
                learner.teach(X[15:19], y)
        assert learner.X_training.shape[0] == 15
        learner.teach(X[15:19], binarizer.transform(rows[:4]))  # encoded: taught
        assert learner.X_training.shape[0] == 19

    def test_indicators_and_equal_length_rows_are_not_label_lists(self, data):
        X, y = data
        indicator = [[0, 1], [1, 1], [0, 0]] * 5  # a 0/1 list of lists
        ActiveLearner(
            RandomForestClassifier(5, random_state=0),
            X_training=X[:15],
            y_training=indicator,
        )
        ActiveLearner(  # numbers in a list, and class names in an object array
            RandomForestRegressor(5, random_state=0),
            X_training=X[:15],
            y_training=list(y[:15]),
        )
        ActiveLearner(
            RandomForestClassifier(5, random_state=0),
            X_training=X[:15],
            y_training=np.array(["a", "b", "c"] * 5, dtype=object),
        )


def test_a_sparse_label_indicator_names_toarray():
    import scipy.sparse as sp
    from sklearn.datasets import make_multilabel_classification
    from sklearn.multiclass import OneVsRestClassifier

    X, Y = make_multilabel_classification(60, 8, n_classes=4, random_state=0)
    with pytest.raises(
        ValueError, match=r"not supported\. y is a sparse csr_matrix.*toarray"
    ):
        ActiveLearner(
            RandomForestClassifier(5, random_state=0),
            X_training=X[:20],
            y_training=sp.csr_matrix(Y[:20]),
        )
    learner = ActiveLearner(
        RandomForestClassifier(5, random_state=0), X_training=X[:20], y_training=Y[:20]
    )
    with pytest.raises(ValueError, match="toarray"):
        learner.teach(X[20:22], sp.csr_matrix(Y[20:22]))
    assert learner.X_training.shape == (20, 8)
    # an estimator that takes a sparse indicator keeps taking it
    ovr = ActiveLearner(
        OneVsRestClassifier(LogisticRegression()),
        X_training=X[:20],
        y_training=sp.csr_matrix(Y[:20]),
    )
    ovr.teach(X[20:22], sp.csr_matrix(Y[20:22]))
    assert ovr.y_training.shape == (22, 4)


def test_whole_number_floats_after_integer_labels_stay_integers(digits):
    # teaching y.astype(float) turned classes_ and predictions into floats
    X, y = digits
    learner = ActiveLearner(
        RandomForestClassifier(10, random_state=0), X_training=X[:40], y_training=y[:40]
    )
    learner.teach(X[40:58], y[40:58].astype(float))
    assert learner.y_training.dtype.kind == "i"
    assert learner.estimator.classes_.dtype.kind == "i"
    assert learner.predict(X[:3]).dtype.kind == "i"
    with pytest.raises(ValueError, match="continuous values"):
        learner.teach(X[58:60], np.array([1.5, 2.0]))


def test_one_rows_labels_as_a_vector_name_the_slice():
    X, Y = make_multilabel_classification(60, n_classes=4, random_state=0)
    learner = ActiveLearner(
        RandomForestClassifier(5, random_state=0), X_training=X[:40], y_training=Y[:40]
    )
    with pytest.raises(ValueError, match=r"shape \(4,\) for one row.*Y\[i:i \+ 1\]"):
        learner.teach(X[40:41], Y[40])
    learner.teach(X[40:41], Y[40:41])
    assert learner.y_training.shape == (41, 4)


def test_a_misspelt_label_column_is_named_in_y():
    X, Y = make_multilabel_classification(60, n_classes=4, random_state=0)
    tags = ["even", "gt4", "prime", "round"]
    learner = ActiveLearner(
        RandomForestClassifier(5, random_state=0),
        X_training=X[:40],
        y_training=pd.DataFrame(Y[:40], columns=tags),
    )
    typo = pd.DataFrame(Y[40:45], columns=[*tags[:3], "Round"])
    with pytest.raises(ValueError, match=r"missing \['round'\].*as y_training"):
        learner.teach(X[40:45], typo)


def test_a_float_label_below_an_unsigned_dtype_keeps_its_value():
    # uint8 labels (Keras's MNIST) then -1.0: cast to uint8 it became 255
    X, y = load_digits(return_X_y=True)
    learner = ActiveLearner(
        RandomForestClassifier(5, random_state=0),
        X_training=X[:30],
        y_training=y[:30].astype(np.uint8),
    )
    learner.teach(X[30:32], np.array([-1.0, 3.0]))
    assert learner.y_training[-2:].tolist() == [-1, 3]
    assert -1 in learner.estimator.classes_ and 255 not in learner.estimator.classes_


def test_a_one_hot_y_is_explained_once():
    # the net's own one-hot message came back with the learner's appended
    from skbatchbald import MCDropoutClassifier
    from skbatchbald.nn import BayesianMLP

    X, y = load_digits(return_X_y=True)
    net = MCDropoutClassifier(BayesianMLP, module__n_features=64, max_epochs=1)
    with pytest.raises(ValueError, match="one-hot") as info:
        ActiveLearner(net, X_training=X[:50], y_training=np.eye(10)[y[:50]])
    assert str(info.value).count("looks one-hot") == 1


def test_float_labels_after_uint64_stay_integers():
    # cast to int64, they stacked with uint64 into floats
    X, y = load_digits(return_X_y=True)
    learner = ActiveLearner(
        RandomForestClassifier(5, random_state=0),
        X_training=X[:30],
        y_training=y[:30].astype(np.uint64),
    )
    learner.teach(X[30:32], np.array([3.0, 4.0]))
    assert learner.y_training.dtype == np.uint64
    assert learner.predict(X[:2]).dtype.kind == "u"


@pytest.mark.parametrize(
    ("before", "now", "fix"),
    [
        (lambda y: pd.Series(y), np.array([0, 1, 0]), "bool"),  # pandas: "unknown"
        (lambda y: y, np.array([0, 1, 0]), "bool"),  # numpy: classes_ [0, 1]
        (lambda y: pd.Series(y, dtype="boolean"), [0, 1, 0], "bool"),
        (lambda y: y.astype(int), np.array([True, False, True]), "int"),
        (lambda y: y, np.array([1.0, 0.0, 1.0]), "bool"),  # floats: classes_ [0., 1.]
    ],
)
def test_bools_then_ints_name_the_cast(data, before, now, fix):
    X, _ = data
    y = X[:, 0] > np.median(X[:, 0])
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5, random_state=0),
        X_training=X[:30],
        y_training=before(y[:30]),
    )
    with pytest.raises(
        ValueError,
        match=rf"labels are \w+ .*taught before have .*"
        rf"np\.asarray\(y\)\.astype\({fix}\)",
    ):
        learner.teach(X[30:33], now)
    assert len(learner.y_training) == 30
    learner.teach(X[30:33], np.asarray(now).astype(fix))  # the fix
    assert len(learner.estimator.classes_) == 2


@pytest.mark.parametrize(
    ("before", "now", "kept"),
    [
        (lambda y: y.to_frame(), lambda y: y, pd.DataFrame),  # df[["target"]] first
        (lambda y: y.to_frame(), lambda y: y.to_numpy(), pd.DataFrame),
        (lambda y: y, lambda y: y.to_frame(), pd.Series),
        (lambda y: y.to_numpy()[:, None], lambda y: y.to_numpy(), np.ndarray),
        (lambda y: y.to_numpy(), lambda y: y.to_numpy()[:, None], np.ndarray),
    ],
)
def test_one_label_column_and_one_label_per_row_are_taught_together(
    data, before, now, kept
):
    X, _ = data
    y = pd.Series(np.where(X[:, 0] > 0, "fraud", "ok"), name="target")
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5, random_state=0),
        X_training=X[:30],
        y_training=before(y[:30]),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataConversionWarning)  # sklearn's, on (n, 1)
        learner.teach(X[30:33], now(y[30:33]))
    assert isinstance(learner.y_training, kept)
    assert np.shape(learner.y_training)[1:] == np.shape(before(y[:30]))[1:]
    assert np.asarray(learner.y_training).ravel().tolist() == y[:33].tolist()


def test_labels_of_several_columns_after_one_per_row_are_still_refused(data):
    X, _ = data
    y = (X[:, :2] > 0).astype(int)
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5, random_state=0),
        X_training=X[:30],
        y_training=y[:30, 0],
    )
    with pytest.raises(ValueError, match=r"new y has 2 0/1 label columns per row"):
        learner.teach(X[30:33], y[30:33])


@pytest.mark.parametrize(
    ("before", "now"),
    [
        (lambda y: y[:, None], lambda y: y.astype(float)),  # (n, 1) ints, (n,) floats
        (lambda y: y, lambda y: y[:, None].astype(float)),
    ],
)
def test_whole_number_floats_after_ints_stay_ints_across_the_column_shape(
    data, before, now
):
    X, _ = data
    y = (X[:, 0] > 0).astype(int)
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5, random_state=0),
        X_training=X[:30],
        y_training=before(y[:30]),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataConversionWarning)
        learner.teach(X[30:33], now(y[30:33]))
    assert learner.y_training.dtype.kind == "i"
    assert learner.estimator.classes_.dtype.kind == "i"


def test_a_tensor_of_one_label_per_row_after_a_column():
    import torch

    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5, random_state=0),
        X_training=np.eye(4),
        y_training=np.array([[0], [1], [0], [1]]),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataConversionWarning)
        learner.teach(np.eye(4)[:2], torch.tensor([1, 0]))
    assert np.shape(learner.y_training) == (6, 1)


def test_bools_then_other_numbers_name_no_cast(data):
    # astype(bool) would make 2 True: the labels are of another task
    X, _ = data
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5, random_state=0),
        X_training=X[:4],
        y_training=np.array([True, False, True, False]),
    )
    with pytest.raises(ValueError, match=r"True and False cannot stand for them"):
        learner.teach(X[4:7], np.array([0, 1, 2]))


def test_a_label_no_row_has_yet_names_the_column_and_one_vs_rest():
    from sklearn.ensemble import BaggingClassifier
    from sklearn.multiclass import OneVsRestClassifier

    X, Y = make_multilabel_classification(120, n_classes=4, random_state=0)
    Y[:40, 3] = 0  # a rare tag: no labelled row has it yet
    bagged = BaggingClassifier(LogisticRegression(), n_estimators=5, random_state=0)
    frame = pd.DataFrame(Y[:40], columns=["billing", "login", "refund", "bug"])
    with pytest.raises(
        ValueError,
        match=r"column\(s\) 'bug' \(always 0\) hold one value in all 40 rows the.*"
        r"OneVsRestClassifier\(BaggingClassifier",
    ):
        ActiveLearner(
            MultiOutputClassifier(bagged), X_training=X[:40], y_training=frame
        )
    # an error about X is not blamed on the labels
    X_text = X[:40].astype(object)
    X_text[0, 0] = "abc"
    with pytest.raises(ValueError, match="could not convert") as err:
        ActiveLearner(
            MultiOutputClassifier(RandomForestClassifier(3)),
            X_training=X_text,
            y_training=frame,
        )
    assert "hold one value" not in str(err.value)
    # what the message offers fits, and predicts the tag absent
    learner = ActiveLearner(
        OneVsRestClassifier(bagged), X_training=X[:40], y_training=Y[:40]
    )
    assert learner.predict(X[40:])[:, 3].sum() == 0


def test_numbers_in_an_object_array_are_a_regression_target(data):
    # a lab sheet's number column taken from a mixed DataFrame's .to_numpy()
    from decimal import Decimal

    X, y = data
    sheet = pd.DataFrame({"site": ["A", "B"] * 15, "dose": y[:30]})
    doses = sheet.to_numpy()[:, -1]
    assert doses.dtype == object
    learner = ActiveLearner(
        RandomForestRegressor(5, random_state=0), X_training=X[:30], y_training=doses
    )
    expected = RandomForestRegressor(5, random_state=0).fit(X[:30], y[:30])
    np.testing.assert_allclose(learner.predict(X[30:40]), expected.predict(X[30:40]))
    learner.teach(X[30:32], np.array([Decimal("12.5"), 30], dtype=object))
    assert len(learner.y_training) == 32
    # text among them is still class labels, refused for a regressor
    with pytest.raises(ValueError, match=r"targets are labels \(\[1.5, 'high'\]\)"):
        learner.teach(X[32:34], np.array([1.5, "high"], dtype=object))


def test_one_hot_rows_after_integer_labels_name_argmax(digits):
    X, y = digits
    learner = ActiveLearner(
        RandomForestClassifier(5, random_state=0), X_training=X[:50], y_training=y[:50]
    )
    one_hot = np.eye(10, dtype=np.float32)[y[50:53]]
    with pytest.raises(
        ValueError, match=r"new y looks one-hot encoded \(shape \(3, 10\).*argmax"
    ):
        learner.teach(X[50:53], one_hot)
    learner.teach(X[50:53], one_hot.argmax(axis=1))
    assert len(learner.y_training) == 53
