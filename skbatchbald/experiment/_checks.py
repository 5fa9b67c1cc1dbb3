"""Checks of a saved results table against its config.json, before it is used.

A resumed run rebuilds each curve's labelled set from the rows' pool indices,
and a report counts the rows as rounds, so a row cut short, a round recorded
twice or missing, or rows of other options (another b, budget or strategy)
would silently give wrong curves. ``check_results`` refuses such a table with
a one-line error that names the file, the curve and the round, and says what
to delete.
"""

import numpy as np

__all__ = ["check_results"]

# Columns that must hold whole numbers >= 0, and the accuracy.
_COUNTS = ("trial", "round", "n_labels")


def _remedy(strategy, trial, round_):
    return (
        f"delete the rows of {strategy}, trial {trial} from round {round_} on "
        "(a resumed run recomputes them), or start a new --output folder."
    )


def _numeric(results, path):
    """The count columns as int64; ValueError naming the first bad cell."""
    import pandas as pd

    typed = {}
    for name in (*_COUNTS, "test_accuracy"):
        values = pd.to_numeric(results[name], errors="coerce")
        if name in _COUNTS:
            bad = values.isna() | (values < 0) | (values % 1 != 0)
            expected = "a whole number >= 0"
        else:
            bad = values.isna() | (values < 0) | (values > 1)
            expected = "an accuracy in [0, 1]"
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise ValueError(
                f"{path}, line {i + 2}: {name} {results[name].iloc[i]!r} is not "
                f"{expected}; correct or delete that row and the later rows of "
                "its curve, or start a new --output folder."
            )
        typed[name] = values.astype(np.int64) if name in _COUNTS else values
    return results.assign(**typed)


def _check_setup(results, config, path):
    """Every row's strategy, data set and model are those of config.json."""
    checks = {"strategy": set(config.strategies)}
    if "dataset" in results:
        checks["dataset"] = {config.dataset}
    if "model" in results:
        checks["model"] = {config.resolved_model}
    for column, allowed in checks.items():
        foreign = ~results[column].isin(allowed)
        if foreign.any():
            row = results[foreign].iloc[0]
            raise ValueError(
                f"{path}: {row['strategy']}, trial {row['trial']}, round "
                f"{row['round']}: {column} {row[column]!r} is not config.json's "
                f"({', '.join(sorted(allowed))}), so the row is of another "
                "configuration; delete such rows, or start a new --output folder."
            )


def _expected_sizes(config, rounds):
    """Labelled-set size of each round: full batches, the last cut at the budget."""
    return np.minimum(config.n_initial + config.batch_size * rounds, config.budget)


def _check_rounds(curve, config, where, remedy):
    """Rounds 0, 1, ... once each, none after the round that ended the curve."""
    rounds = curve["round"].to_numpy()  # sorted
    wrong = np.flatnonzero(rounds != np.arange(len(rounds)))
    if wrong.size:
        # rounds 0 to r - 1 are there once each; rounds[r] repeats r - 1 or
        # skips r
        r = int(wrong[0])
        if r and rounds[r] == r - 1:
            raise ValueError(f"{where(r - 1)} is recorded twice; {remedy(r - 1)}")
        before = f"follows round {r - 1}" if r else "starts the curve"
        raise ValueError(
            f"{where(r)} is missing (round {rounds[r]} {before}); {remedy(r)}"
        )
    ends = np.asarray(config.ends_curve(curve["round"], curve["test_accuracy"]))
    if ends[:-1].any():
        r = int(np.argmax(ends))
        why = (
            f"the budget, {config.budget} labels"
            if r == config.n_rounds
            else f"stop_accuracy={config.stop_accuracy:g}"
        )
        raise ValueError(
            f"{where(r + 1)} follows round {r}, which ended the curve ({why}; "
            f"rows of another configuration?); {remedy(r + 1)}"
        )


def _batch(row, column):
    """The space-separated cell ``column`` of a row as a list of words."""
    return str(row[column]).split() if column in row else None


def _check_row(row, expected, added, config, n_pool, picked):
    """What is wrong with one round's row, or None; ``picked`` maps the pool
    indices of the curve's earlier rounds to their round and gains this one's."""
    if row["n_labels"] != expected:
        return (
            f"has n_labels {row['n_labels']}, but n_initial={config.n_initial}, "
            f"batch_size={config.batch_size} and budget={config.budget} give "
            f"{expected} (rows of another configuration?)"
        )
    for column in ("acquired_labels", "acquired_indices"):
        words = _batch(row, column)
        if words is None:
            continue  # rows of versions before the column
        if not words:
            return f"has no {column} (the row was cut short)"
        if len(words) != added:
            return f"has {len(words)} {column}, but the round added {added} points"
    words = _batch(row, "acquired_indices")
    if words is None:
        return None
    try:
        batch = [int(word) for word in words]
    except ValueError:
        text = " ".join(words)[:40]
        return f"has acquired_indices that are not whole numbers ({text!r})"
    for i in batch:
        if i < 0 or (n_pool is not None and i >= n_pool):
            pool = "" if n_pool is None else f" of {n_pool} points"
            return f"has acquired_indices outside the pool{pool} ({i})"
        if i in picked:
            return f"acquires pool index {i} again (labelled in round {picked[i]})"
        picked[i] = row["round"]
    return None


def check_results(results, config, path, n_pool=None):
    """Refuse a results table that is not a run of ``config``; return it typed.

    Parameters
    ----------
    results : pandas.DataFrame
        The rows of a ``results.csv``, as read.
    config : ExperimentConfig
        The options of its ``config.json``.
    path : str or path
        The file, for the messages.
    n_pool : int or None, default=None
        The number of pool rows, when known (a run knows it; a report does
        not load the data): every pool index must be below it.

    Returns
    -------
    results : pandas.DataFrame
        The same rows, ``trial``, ``round`` and ``n_labels`` as int64 and
        ``test_accuracy`` as float.

    Raises
    ------
    ValueError
        With the file, the curve, the round and what to delete, if a cell is
        not a number; a row names a strategy, data set or model that
        config.json does not; a curve's rounds are not 0, 1, ... once each,
        go on after the budget or the stop accuracy ended it, or hold other
        labelled-set sizes than n_initial, b and the budget give; or a batch
        lacks its labels or pool indices, holds other than the round's
        number of them, or picks a pool index outside the pool or picked
        before in the curve. Rows of versions before a column are not
        checked on it.
    """
    results = _numeric(results, path)
    _check_setup(results, config, path)
    for (strategy, trial), curve in results.groupby(["strategy", "trial"], sort=False):
        curve = curve.sort_values("round", kind="stable")

        def where(r, strategy=strategy, trial=trial):
            return f"{path}: {strategy}, trial {trial}, round {r}"

        def remedy(r, strategy=strategy, trial=trial):
            return _remedy(strategy, trial, r)

        _check_rounds(curve, config, where, remedy)
        sizes = _expected_sizes(config, curve["round"].to_numpy())
        picked = {}
        for row, expected, added in zip(
            curve.to_dict("records"), sizes, np.diff(sizes, prepend=0), strict=True
        ):
            problem = _check_row(row, expected, added, config, n_pool, picked)
            if problem:
                r = row["round"]
                raise ValueError(f"{where(r)} {problem}; {remedy(r)}")
    return results
