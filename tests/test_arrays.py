"""stack_rows and take_rows: the one way two blocks of rows are stacked (query's
pool and targets, the ActiveLearner's taught rows) and rows are taken, whatever
their container."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from skorch.helper import SliceDict

from skbatchbald._arrays import dataset_row_keys, is_dask_array, stack_rows, take_rows

FIRST = np.arange(6.0).reshape(3, 2)
SECOND = np.arange(6.0, 10.0).reshape(2, 2)
BOTH = np.arange(10.0).reshape(5, 2)


def test_arrays_and_lists():
    np.testing.assert_array_equal(stack_rows(FIRST, SECOND), BOTH)
    assert stack_rows([1, 2], np.array([3])) == [1, 2, 3]


def test_sparse_if_either_is():
    out = stack_rows(sp.csc_matrix(FIRST), SECOND)
    assert sp.issparse(out) and out.format == "csc"
    out = stack_rows(FIRST, sp.csr_matrix(SECOND))
    assert sp.issparse(out) and out.format == "csr"
    np.testing.assert_array_equal(out.toarray(), BOTH)


def test_pandas_second_takes_the_first_columns_or_name():
    frame = pd.DataFrame(FIRST, columns=["a", "b"])
    out = stack_rows(frame, SECOND)
    assert list(out.columns) == ["a", "b"]
    np.testing.assert_array_equal(out.to_numpy(), BOTH)  # no NaN column
    out = stack_rows(pd.Series([1, 2], name="s"), [3])
    assert out.name == "s" and out.tolist() == [1, 2, 3]


def test_pandas_columns_are_matched_by_name():
    frame = pd.DataFrame(FIRST, columns=["a", "b"])
    swapped = pd.DataFrame(SECOND[:, ::-1], columns=["b", "a"])
    out = stack_rows(frame, swapped)
    assert list(out.columns) == ["a", "b"]
    np.testing.assert_array_equal(out.to_numpy(), BOTH)  # values follow names


@pytest.mark.parametrize(
    "columns, named",
    [
        (["x", "y"], "missing \\['a', 'b'\\], unexpected \\['x', 'y'\\]"),
        (["a", "a"], "duplicated"),
    ],
)
def test_pandas_columns_of_other_names_are_refused(columns, named):
    frame = pd.DataFrame(FIRST, columns=["a", "b"])
    with pytest.raises(ValueError, match=named):
        stack_rows(frame, pd.DataFrame(SECOND, columns=columns))


def _table():
    return pd.DataFrame(
        {
            "amount": [10.5, 20.0, np.nan],
            "count": np.array([1, 2, 3], dtype=np.int64),
            "region": pd.Categorical(["east", "west", "east"]),
            "product": pd.Categorical(
                ["auto", "home", "life"],
                categories=["auto", "home", "life"],
                ordered=True,
            ),
        },
        index=[100, 101, 102],
    )


def test_rows_taught_as_an_object_array_keep_the_table_dtypes():
    # rows.to_numpy() of a mixed table: objects, which pandas would spread to
    # every column of the labelled rows
    table = _table()
    rows = table.iloc[[0, 2]].to_numpy()
    assert rows.dtype == object
    stacked = stack_rows(table, rows)
    assert stacked.dtypes.to_dict() == table.dtypes.to_dict()
    np.testing.assert_array_equal(stacked["count"], [1, 2, 3, 1, 3])
    assert stacked["region"].tolist() == ["east", "west", "east", "east", "east"]
    assert stacked["amount"].isna().tolist() == [False, False, True, False, True]


def test_a_batch_with_categories_of_its_own_joins_the_categories():
    # a batch read back from a file and cast: categories from the batch alone
    table = _table()
    batch = pd.DataFrame(
        {
            "amount": [1.0],
            "count": [4],
            "region": pd.Categorical(["north"]),
            "product": pd.Categorical(["home"]),  # unordered, one category
        }
    )
    stacked = stack_rows(table, batch)
    assert isinstance(stacked["region"].dtype, pd.CategoricalDtype)
    assert stacked["region"].cat.categories.tolist() == ["east", "west", "north"]
    assert stacked["region"].tolist() == ["east", "west", "east", "north"]
    assert stacked["product"].dtype == table["product"].dtype  # ordered, kept
    assert stacked["product"].tolist() == ["auto", "home", "life", "home"]
    assert not stacked[["region", "product"]].isna().to_numpy().any()
    assert table["region"].cat.categories.tolist() == ["east", "west"]  # not changed


def test_values_a_cast_would_change_are_left_to_pandas():
    table = _table()
    batch = table.iloc[:2].copy()
    batch["count"] = [1.5, np.nan]  # not integers: pandas' float column
    stacked = stack_rows(table, batch)
    assert stacked["count"].dtype == np.float64
    np.testing.assert_array_equal(stacked["count"], [1, 2, 3, 1.5, np.nan])


def test_text_where_the_labelled_rows_hold_numbers_is_named():
    table = _table()
    shifted = table[["region", "amount", "count", "product"]].to_numpy()  # reordered
    with pytest.raises(ValueError, match=r"column 'amount' holds 'east'.*X_training"):
        stack_rows(table, shifted)


def test_a_missing_value_marker_in_a_numeric_column_names_na_values():
    table = _table()
    batch = table.iloc[:1].astype(object)
    batch.iloc[0, 1] = "?"
    with pytest.raises(ValueError, match=r"'count' holds '\?'.*na_values=\['\?'\]"):
        stack_rows(table, batch)


def test_categories_pandas_cannot_join_are_left_to_pandas():
    # True equals 1: a category column of 0/1 cannot also hold True
    table = pd.DataFrame({"flag": pd.Categorical([0, 1])})
    batch = pd.DataFrame({"flag": [True]})
    assert stack_rows(table, batch)["flag"].tolist() == [0, 1, True]


def test_torch_second_takes_the_first_dtype():
    out = stack_rows(torch.zeros(3, 2, dtype=torch.float64), SECOND.astype("f4"))
    assert out.dtype == torch.float64 and out.shape == (5, 2)


@pytest.mark.parametrize("x", [FIRST, [1], torch.zeros(1)])
def test_only_dask_arrays_are_dask_arrays(x):
    assert not is_dask_array(x)


@pytest.mark.parametrize("mapping", [dict, SliceDict], ids=["dict", "SliceDict"])
def test_a_dict_of_inputs_is_taken_and_stacked_key_by_key(mapping):
    """skorch's form for a module with several inputs: one array per key."""
    first = mapping(a=FIRST, b=torch.arange(3.0))
    second = mapping(a=SECOND, b=torch.arange(3.0, 5.0))
    both = stack_rows(first, second)
    assert type(both) is mapping
    np.testing.assert_array_equal(both["a"], BOTH)
    np.testing.assert_array_equal(both["b"].numpy(), np.arange(5.0))
    rows = take_rows(both, np.array([4, 0]))
    assert type(rows) is mapping
    np.testing.assert_array_equal(rows["a"], BOTH[[4, 0]])
    np.testing.assert_array_equal(rows["b"].numpy(), [4.0, 0.0])


def test_dicts_of_other_keys_or_no_dict_are_not_stacked():
    first = {"a": FIRST, "b": FIRST}
    with pytest.raises(ValueError, match=r"keys \['a'\].*keys \['a', 'b'\]"):
        stack_rows(first, {"a": SECOND})
    with pytest.raises(ValueError, match=r"of type ndarray.*same keys"):
        stack_rows(first, SECOND)
    with pytest.raises(ValueError, match=r"a dict of inputs.*of type ndarray"):
        stack_rows(FIRST, {"a": SECOND, "b": SECOND})


class TestTorchDatasets:
    """A map-style Dataset's rows: taken as a Subset, stacked flat, never loaded."""

    def test_take_and_stack_without_loading_an_item(self):
        from torch.utils.data import ConcatDataset, Dataset, Subset

        class Untouchable(Dataset):
            def __len__(self):
                return 10

            def __getitem__(self, i):
                raise AssertionError("an item was loaded")

        base = Untouchable()
        first = take_rows(base, np.array([3, 1]))
        assert isinstance(first, Subset) and first.indices == [3, 1]
        both = stack_rows(stack_rows(first, take_rows(base, [7])), take_rows(base, [0]))
        assert isinstance(both, ConcatDataset) and len(both.datasets) == 3
        assert dataset_row_keys(both) == [(id(base), i) for i in (3, 1, 7, 0)]
        assert dataset_row_keys(take_rows(both, [2, 0])) == [
            (id(base), 7),
            (id(base), 3),
        ]
        # rows of a Subset are a Subset of its base: .indices are base positions
        nested = take_rows(take_rows(base, [9, 8, 7]), [2, 0])
        assert nested.dataset is base and nested.indices == [7, 9]

    def test_a_dataset_stacks_only_with_a_dataset(self):
        from torch.utils.data import TensorDataset

        dataset = TensorDataset(torch.zeros(4, 2))
        with pytest.raises(ValueError, match="a ndarray and the rows before a Tens"):
            stack_rows(dataset, np.zeros((2, 2)))
        with pytest.raises(ValueError, match="a torch Dataset stacks only"):
            stack_rows(np.zeros((2, 2)), dataset)


def _claims():
    return pd.DataFrame(
        {
            "amount": [1.25, -0.5, 3.0],
            "count": [1, 2, 3],
            "channel": ["web", "agent", "web"],
            "policy_date": pd.to_datetime(["2020-01-01", "2021-06-30", "2022-02-03"]),
        }
    )


def test_numbers_and_dates_read_back_as_text_are_read_as_them():
    # a batch written to CSV and read back without parse_dates, or made text:
    # left as text, the labelled rows' columns turned to objects, and a
    # ColumnTransformer selecting numbers dropped 'amount' without a word
    table = _claims()
    batch = table.iloc[:2].astype(str)
    batch.loc[1, "amount"] = np.nan  # a missing value stays missing
    stacked = stack_rows(table, batch)
    assert stacked.dtypes.to_dict() == table.dtypes.to_dict()
    np.testing.assert_array_equal(stacked["amount"], [1.25, -0.5, 3.0, 1.25, np.nan])
    assert stacked["count"].tolist() == [1, 2, 3, 1, 2]
    assert stacked["policy_date"].iloc[3:].tolist() == [
        pd.Timestamp("2020-01-01"),
        pd.Timestamp("2021-06-30"),
    ]


def test_text_of_a_fraction_in_an_int_column_becomes_a_float_column():
    table = _claims()
    batch = table.iloc[:1].astype(str)
    batch.loc[0, "count"] = "2.5"
    stacked = stack_rows(table, batch)
    assert stacked["count"].dtype == np.float64
    assert stacked["count"].tolist() == [1, 2, 3, 2.5]


def test_text_where_the_labelled_rows_hold_dates_is_named():
    table = _claims()
    batch = table.iloc[:2].astype(str)
    batch.loc[1, "policy_date"] = "yesterday"
    with pytest.raises(
        ValueError,
        match=r"column 'policy_date' holds 'yesterday', which is no ISO date "
        r".*where X_training holds dates.*parse_dates=",
    ):
        stack_rows(table, batch)


def test_true_and_false_are_not_read_as_numbers():
    table = _claims()
    batch = table.iloc[:2].astype(object)
    batch["count"] = [True, "2"]
    assert stack_rows(table, batch)["count"].tolist()[3:] == [True, "2"]


def test_day_first_text_in_a_date_column_is_refused_not_misread():
    # read cell by cell, "13/01/2024" was 13 January and "01/02/2024" 2 January
    table = _claims()
    batch = table.iloc[:2].astype(str)
    batch["policy_date"] = ["13/01/2024", "01/02/2024"]
    with pytest.raises(ValueError, match=r"holds '13/01/2024', which is no ISO date"):
        stack_rows(table, batch)


def test_a_time_zone_column_read_back_across_daylight_saving():
    import io

    table = pd.DataFrame(
        {"when": pd.date_range("2024-03-25", periods=10, freq="D", tz="Europe/Paris")}
    )
    text = io.StringIO()
    table.to_csv(text, index=False)  # offsets +01:00, then +02:00
    text.seek(0)
    stacked = stack_rows(table, pd.read_csv(text))
    assert stacked["when"].dtype == table["when"].dtype
    assert stacked["when"].iloc[10:].tolist() == table["when"].tolist()


def test_missing_values_written_as_text_stay_missing():
    # astype(str) writes NaN as "nan" and NaT as "NaT"
    table = _claims()
    batch = table.iloc[:2].copy()
    batch.loc[1, "amount"] = np.nan
    batch.loc[1, "policy_date"] = pd.NaT
    stacked = stack_rows(table, batch.astype(str))
    assert stacked.dtypes.to_dict() == table.dtypes.to_dict()
    assert stacked["amount"].isna().tolist() == [False] * 4 + [True]
    assert stacked["policy_date"].isna().tolist() == [False] * 4 + [True]


def test_dates_of_another_time_zone_are_named():
    table = _claims()
    batch = pd.DataFrame({"policy_date": ["2024-01-01T00:00:00+01:00"]})
    with pytest.raises(ValueError, match=r"holds dates of another time zone"):
        stack_rows(table[["policy_date"]], batch)


@pytest.mark.parametrize("fmt", ["coo", "dia", "bsr"])
def test_take_rows_of_sparse_formats_without_row_indexing(fmt):
    # scipy.sparse.hstack([tfidf, column]) returns COO, which has no X[rows]
    from scipy import sparse

    dense = np.arange(20.0).reshape(5, 4) * (np.arange(4) % 2)
    rows = take_rows(sparse.csr_matrix(dense).asformat(fmt), [3, 0, 3])
    # DIA's picked rows come back as CSR: as DIA they would fill every diagonal
    assert rows.format == ("csr" if fmt == "dia" else fmt)
    np.testing.assert_array_equal(rows.toarray(), dense[[3, 0, 3]])


def test_a_coo_pool_is_queried_and_taught():
    from scipy import sparse
    from sklearn.ensemble import RandomForestClassifier

    from skbatchbald import ActiveLearner, RandomQuery

    rng = np.random.default_rng(0)
    X = sparse.random(80, 6, density=0.3, format="csr", random_state=0)
    y = rng.integers(2, size=80)
    pool = sparse.hstack([X[20:], np.ones((60, 1))])
    assert pool.format == "coo"
    learner = ActiveLearner(
        RandomForestClassifier(5, random_state=0),
        query_strategy=RandomQuery(random_state=0),
        X_training=sparse.hstack([X[:20], np.ones((20, 1))]),
        y_training=y[:20],
    )
    idx, rows = learner.query(pool, n_instances=4)
    np.testing.assert_array_equal(rows.toarray(), pool.toarray()[idx])
    learner.teach(rows, y[20:][idx])
    assert learner.X_training.shape == (24, 7)
