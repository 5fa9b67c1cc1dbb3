"""Row containers of any kind: what an input is, some of its rows, and two
blocks of rows stacked.

numpy only: dask, scipy.sparse, pandas and torch objects are recognised by
looking in ``sys.modules`` or at their type's module, so code that only asks
never pays for importing them. A dict of such containers (skorch's form for a
module with several inputs, also as skorch's ``SliceDict``) is rows too, taken
and stacked key by key; so is a map-style torch ``Dataset`` (rows are taken as
a ``Subset`` and stacked as a ``ConcatDataset``, so no item is loaded).
"""

import bisect
import sys
from collections.abc import Mapping

import numpy as np

__all__ = [
    "base_dataset",
    "dataset_row_keys",
    "is_dask_array",
    "is_torch_dataset",
    "none_placeholder_message",
    "stack_rows",
    "subsample_pool",
    "take_rows",
]


def is_dask_array(x):
    """Whether x is a dask array, without importing dask."""
    dask_array = sys.modules.get("dask.array")  # not imported: x cannot be one
    return dask_array is not None and isinstance(x, dask_array.Array)


def is_torch_dataset(x):
    """Whether x is a torch ``Dataset`` (map-style or iterable), without importing
    torch."""
    data = sys.modules.get("torch.utils.data")  # not imported: x cannot be one
    return data is not None and isinstance(x, data.Dataset)


def base_dataset(dataset):
    """The user's Dataset under torch's and the learner's wrappers (the first
    part of a ``ConcatDataset``), to name it in messages."""
    for _ in range(100):  # wrappers nest a few levels; a cycle is no Dataset's
        if hasattr(dataset, "datasets"):  # ConcatDataset
            dataset = dataset.datasets[0]
        elif hasattr(dataset, "dataset"):  # Subset, the learner's labelled items
            dataset = dataset.dataset
        else:
            break
    return dataset


def none_placeholder_message(dataset=None, item=None):
    """Why items holding None cannot be batched, or None if ``item`` holds none.

    ``item`` defaults to ``dataset[0]`` (read only after a failure, so a
    Dataset that cannot give it leaves the original error to show).
    """
    if item is None:
        try:
            item = dataset[0]
        except Exception:  # the original failure is the one to show
            return None
    if not isinstance(item, tuple | list) or all(value is not None for value in item):
        return None
    name = "Dataset" if dataset is None else type(base_dataset(dataset)).__name__
    kinds = ", ".join(type(value).__name__ for value in item)
    return (
        f"the {name}'s items hold None (an item is a {type(item).__name__} of "
        f"{kinds}), and torch's DataLoader cannot batch None: return a number "
        "as the placeholder of an unlabelled item, e.g. (x, -1)."
    )


def dataset_row_keys(dataset, rows=None, identity=id):
    """Which item of which base dataset rows of ``dataset`` are.

    ``Subset`` and ``ConcatDataset`` (what :func:`take_rows` and
    :func:`stack_rows` build) are followed down to the datasets that hold the
    items, so two datasets can be compared row by row without loading one.
    A list of ``(identity(base), index)`` pairs for ``rows`` (default: all),
    each row mapped on its own: a batch of a pool of 10^6 items costs its own
    length, never the pool's.
    """
    data = sys.modules["torch.utils.data"]
    rows = range(len(dataset)) if rows is None else rows
    if isinstance(dataset, data.Subset):
        return dataset_row_keys(
            dataset.dataset, [dataset.indices[i] for i in rows], identity
        )
    if isinstance(dataset, data.ConcatDataset):
        keys = []
        for row in rows:
            part = bisect.bisect_right(dataset.cumulative_sizes, row)
            start = dataset.cumulative_sizes[part - 1] if part else 0
            keys += dataset_row_keys(dataset.datasets[part], [row - start], identity)
        return keys
    name = identity(dataset)
    return [(name, int(row)) for row in rows]


def _library(obj):
    return type(obj).__module__.partition(".")[0]


def _columns_by_name(frame, rows, name="X"):
    """``rows``' columns in ``frame``'s order, matched by name, as pandas does.

    Renaming by position would put one feature's values under another's name
    when a DataFrame arrives with its columns in another order.
    """
    if rows.columns.equals(frame.columns):
        return rows
    missing = frame.columns.difference(rows.columns, sort=False)
    extra = rows.columns.difference(frame.columns, sort=False)
    if len(missing) or len(extra) or rows.columns.has_duplicates:
        raise ValueError(
            "the new rows' columns do not match the labelled rows' columns: "
            f"missing {list(missing)}, unexpected {list(extra)}"
            + (", duplicated names" if rows.columns.has_duplicates else "")
            + f". Pass a DataFrame with the same column names as {name}_training "
            f"(in any order), or a numpy array in {name}_training's column order."
        )
    return rows[frame.columns]


def _new_rows_like(frame, rows, name="X"):
    """``rows`` as a DataFrame (Series) with ``frame``'s columns (name)."""
    if hasattr(frame, "columns"):
        if hasattr(rows, "columns"):
            return _columns_by_name(frame, rows, name)
        return type(frame)(np.asarray(rows), columns=frame.columns)
    if _library(rows) == "pandas":
        return rows
    return type(frame)(np.asarray(rows), name=frame.name)


def _same_values(cast, values):
    """Whether casting kept every value (and every missing one) as it was."""
    import pandas as pd

    missing = values.isna().to_numpy()
    if not np.array_equal(missing, cast.isna().to_numpy()):
        return False
    if pd.api.types.is_numeric_dtype(cast.dtype) and pd.api.types.is_numeric_dtype(
        values.dtype
    ):
        # numbers to numbers: one vectorised comparison, not object by object
        return np.array_equal(
            cast.to_numpy(dtype=float, na_value=np.nan),
            values.to_numpy(dtype=float, na_value=np.nan),
            equal_nan=True,
        )
    kept = values.to_numpy(dtype=object)[~missing]
    return bool(np.all(kept == cast.to_numpy(dtype=object)[~missing]))


# How str() writes a missing value: astype(str) of a column with NaN or NaT
_MISSING_TEXT = frozenset({"", "nan", "NaN", "NaT", "None", "<NA>"})


def _as_missing(values):
    """``values`` with the text of a missing value as NaN."""
    text = values.map(lambda v: isinstance(v, str) and v.strip() in _MISSING_TEXT)
    return values.mask(text.astype(bool))


def _read_dates(values, dtype):
    """Text read as ISO dates of ``dtype``'s time zone; NaT where it is none.

    ISO 8601 only, what ``to_csv`` and ``to_json(date_format="iso")`` write:
    day-first text ("13/01/2024") read cell by cell would give some cells
    day-first and others month-first. A time-zone column is read through UTC,
    so offsets that change with daylight saving are one column.
    """
    import pandas as pd

    if int(pd.__version__.split(".")[0]) < 2:  # no format="ISO8601"
        return pd.Series(pd.NaT, index=values.index)
    tz = getattr(dtype, "tz", None)
    utc = tz is not None
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=utc)
    return parsed if tz is None else parsed.dt.tz_convert(tz)


def _parsed_text(values, dtype):
    """``values`` read as numbers or dates of ``dtype``, where every one that
    is not missing is text that reads as one (a batch written to CSV or
    read back from ISO JSON without its types), else None.

    Left as text, such a column turns the labelled rows' column into
    objects, and a ColumnTransformer selecting columns by dtype drops it from
    the model without a word.
    """
    import pandas as pd

    values = _as_missing(values)
    present = values.notna().to_numpy()
    kept = values.to_numpy(dtype=object)[present]
    if not any(isinstance(v, str) for v in kept) or any(
        isinstance(v, (bytes, bool, np.bool_)) for v in kept
    ):
        return None  # no text, or True and False, which are not 1 and 0
    is_date = pd.api.types.is_datetime64_any_dtype(dtype)
    try:
        parsed = (
            _read_dates(values, dtype)
            if is_date
            else pd.to_numeric(values, errors="coerce")
        )
    except (TypeError, ValueError, OverflowError):  # e.g. mixed time zones
        return None
    if not np.array_equal(parsed.notna().to_numpy(), present):
        return None
    try:
        cast = parsed.astype(dtype)
    except (TypeError, ValueError, OverflowError):  # floats for ints
        return None if is_date else parsed
    return cast if _same_values(cast, parsed) else parsed


def _not_a_date(values, dtype):
    """The first value of ``values`` that is not an ISO date, or None."""
    values = _as_missing(values)
    values = values[values.notna()]
    try:
        bad = _read_dates(values, dtype).isna().to_numpy()
    except (TypeError, ValueError, OverflowError):  # mixed time zones
        return None
    return values[bad].iloc[0] if bad.any() else None


def _joined_categories(dtype, values):
    """A category dtype of ``dtype``'s categories and any new ones in ``values``,
    or None when pandas cannot hold them together (1 and True are equal)."""
    import pandas as pd

    seen = pd.Index(values.dropna().unique())
    try:
        joined = dtype.categories.append(seen.difference(dtype.categories))
        return pd.CategoricalDtype(joined, ordered=dtype.ordered)
    except (TypeError, ValueError):
        return None


def _in_frame_dtypes(frame, new, name):
    """``frame`` and ``new`` with ``new``'s columns in ``frame``'s dtypes.

    Rows taught as a numpy array of a mixed table hold objects, and a batch
    read back from a file has category columns of its own categories; pandas
    concatenates either into object columns, so the labelled rows' numbers
    and categories would turn to objects, which a model reading dtypes
    (HistGradientBoosting's ``categorical_features="from_dtype"``) refuses.
    A column is cast only where no value changes; category columns take the
    union of both categories (the labelled rows' first), so no value becomes
    NaN. Text where the labelled rows hold numbers is a ValueError naming the
    column. Text that reads as the column's numbers or dates (a batch read back
    from a file without its types) is read as them; other text where the
    labelled rows hold dates is a ValueError too.
    """
    import pandas as pd

    differ = [
        column
        for column, before, now in zip(
            frame.columns, frame.dtypes, new.dtypes, strict=True
        )
        if before != now
    ]
    if not differ:
        return frame, new
    frame, new = frame.copy(deep=False), new.copy(deep=False)
    for column in differ:
        dtype, values = frame[column].dtype, new[column]
        if isinstance(dtype, pd.CategoricalDtype):
            joined = _joined_categories(dtype, values)
            if joined is not None:
                frame[column] = frame[column].astype(joined)
                new[column] = values.astype(joined)
            continue
        try:
            cast = values.astype(dtype)
        except (TypeError, ValueError, OverflowError):
            cast = None
        if cast is not None and _same_values(cast, values):
            new[column] = cast
            continue
        is_number = pd.api.types.is_numeric_dtype(dtype) and not (
            pd.api.types.is_bool_dtype(dtype)
        )
        is_date = pd.api.types.is_datetime64_any_dtype(dtype)
        parsed = _parsed_text(values, dtype) if is_number or is_date else None
        if parsed is not None:
            new[column] = parsed
            continue
        if is_date and not pd.api.types.is_datetime64_any_dtype(values.dtype):
            bad = _not_a_date(values, dtype)
            what = (
                "dates of another time zone"
                if bad is None
                else f"{bad!r}, which is no ISO date (YYYY-MM-DD ...)"
            )
            raise ValueError(
                f"the new rows' column {column!r} holds {what}, where "
                f"{name}_training holds dates ({dtype}). Pass the rows with that "
                "column's dates (pd.read_csv(..., parse_dates=[...]), "
                "pd.read_json(..., convert_dates=[...]) read them from a file); "
                "if the columns came in another order, pass a DataFrame with "
                f"{name}_training's column names."
            )
        text = values[pd.to_numeric(values, errors="coerce").isna() & values.notna()]
        if is_number and not pd.api.types.is_numeric_dtype(values.dtype) and len(text):
            raise ValueError(
                f"the new rows' column {column!r} holds {text.iloc[0]!r}, where "
                f"{name}_training holds numbers ({dtype}). If {text.iloc[0]!r} "
                "marks a missing value, write NaN instead (pd.read_csv(..., "
                f"na_values=[{text.iloc[0]!r}])); if the columns came in another "
                f"order, pass a DataFrame with {name}_training's column names."
            )
    return frame, new


def _dict_like(template, values):
    """The dict ``values`` in ``template``'s mapping type (a SliceDict stays one)."""
    if type(template) is dict:
        return values
    return type(template)(**values)


def take_rows(X, indices):
    """Rows ``indices`` of X, in X's container type.

    What scikit-learn's ``_safe_indexing`` takes (arrays, sparse matrices,
    DataFrames, Series, tensors, lists), a dict of them, taken key by key, and
    a torch Dataset, whose rows are a ``Subset`` of it (of its base for a
    ``Subset``, so that ``.indices`` are always positions in the Dataset that
    holds the items).
    """
    if is_torch_dataset(X):
        data = sys.modules["torch.utils.data"]
        indices = np.asarray(indices, dtype=np.int64).tolist()
        if isinstance(X, data.Subset):  # flat: .indices stay the base's positions
            return data.Subset(X.dataset, [X.indices[i] for i in indices])
        return data.Subset(X, indices)
    if isinstance(X, Mapping):
        return _dict_like(
            X, {key: take_rows(value, indices) for key, value in X.items()}
        )
    # _safe_indexing: documented but private in scikit-learn, with no public
    # equivalent; tests/test_sklearn_private.py fails first if an upgrade
    # changes it. Imported here, so that the numpy-only callers never pay.
    from sklearn.utils import _safe_indexing

    if getattr(X, "format", None) in ("coo", "dia", "bsr") and hasattr(X, "tocsr"):
        # scipy's formats without row indexing (COO is what sparse.hstack
        # returns): taken from a CSR copy, given back in the pool's format,
        # but for DIA, whose picked rows fill every diagonal (a 150 MB matrix
        # for 200 rows of a banded 20000 x 20000 pool): CSR
        rows = _safe_indexing(X.tocsr(), indices)
        return rows if X.format == "dia" else rows.asformat(X.format)
    return _safe_indexing(X, indices)


def _stack_dicts(first, second):
    """A dict of inputs stacked key by key; ValueError unless the keys agree."""
    if not isinstance(second, Mapping) or set(first) != set(second):
        got = (
            f"a dict with keys {sorted(map(str, second))}"
            if isinstance(second, Mapping)
            else f"of type {type(second).__name__}"
        )
        raise ValueError(
            f"the new rows are {got}, and the rows before are a dict of inputs "
            f"with keys {sorted(map(str, first))}: pass a dict with the same "
            "keys, one array per input of the module."
        )
    return _dict_like(
        first, {key: stack_rows(first[key], second[key]) for key in first}
    )


def stack_rows(first, second, name="X"):
    """Rows of ``first`` then rows of ``second``, in ``first``'s container type.

    ``name`` ("X" or "y") names them in the messages.

    Arrays, scipy sparse matrices (the result is sparse if either is), pandas
    DataFrames and Series (``second`` takes ``first``'s columns or name), torch
    tensors (``second`` takes ``first``'s dtype and device), lists, dicts of
    these (key by key; ValueError if the keys differ), and torch Datasets (a
    ``ConcatDataset``). The trailing shapes are the caller's to check.
    """
    if is_torch_dataset(first) or is_torch_dataset(second):
        if not (is_torch_dataset(first) and is_torch_dataset(second)):
            new, before = type(second).__name__, type(first).__name__
            raise ValueError(
                f"the new rows are a {new} and the rows before a {before}: a "
                "torch Dataset stacks only with another (the Subset a query "
                "returns, or your own Dataset of the new rows). Pass every "
                "batch in the same form."
            )
        data = sys.modules["torch.utils.data"]
        # flat, so that a row is found in one step after any number of rounds
        parts = first.datasets if isinstance(first, data.ConcatDataset) else [first]
        return data.ConcatDataset([*parts, second])
    if isinstance(first, Mapping) or isinstance(second, Mapping):
        if not isinstance(first, Mapping):
            raise ValueError(
                "the new rows are a dict of inputs, and the rows before are of "
                f"type {type(first).__name__}: pass every batch in the same form."
            )
        return _stack_dicts(first, second)
    sparse = sys.modules.get("scipy.sparse")  # not imported: neither is sparse
    if sparse is not None and (sparse.issparse(first) or sparse.issparse(second)):
        fmt = first.format if sparse.issparse(first) else "csr"
        return sparse.vstack([first, second], format=fmt)
    if _library(first) == "pandas":
        import pandas as pd

        second = _new_rows_like(first, second, name)
        if hasattr(first, "columns"):
            first, second = _in_frame_dtypes(first, second, name)
        return pd.concat([first, second])
    if _library(first) == "torch":
        import torch

        second = torch.as_tensor(second, dtype=first.dtype, device=first.device)
        return torch.cat([first, second])
    if isinstance(first, list):
        return [*first, *list(second)]
    return np.concatenate([np.asarray(first), np.asarray(second)])


def subsample_pool(X_pool, n_pool, n_instances, pool_subsample, rng):
    """``(candidates, X_pool[candidates])``: a random subset, or the whole pool.

    ``candidates`` are sorted pool indices, so ties still break towards the
    lowest pool index; the whole pool when ``pool_subsample`` is None or not
    smaller than it (no draw is made then).
    """
    if pool_subsample is None or pool_subsample >= n_pool:
        return np.arange(n_pool), X_pool
    if n_instances > pool_subsample:
        raise ValueError(
            f"pool_subsample={pool_subsample} is smaller than "
            f"n_instances={n_instances}; raise pool_subsample or set it to None."
        )
    candidates = np.sort(rng.choice(n_pool, size=pool_subsample, replace=False))
    return candidates, take_rows(X_pool, candidates)
