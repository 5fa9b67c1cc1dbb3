"""merge_results: one folder from the folders of several processes' runs."""

import dataclasses
import json
from pathlib import Path

from ._store import TIMING, ResultsFolder, _sorted, atomic_write

__all__ = ["joined_results", "merge_results"]


def merge_results(output, sources):
    """Merge the results of runs of the same options into one folder.

    The runs may hold other trials, or other strategies (their trials are
    paired: a trial's splits, initial labels and network seeds do not depend on
    the strategies run beside it); the merged folder holds every strategy.

    Parameters
    ----------
    output : str or path
        New folder (or an empty one) for the merged ``results.csv`` and
        ``config.json``; the latter records the sources (absolute paths)
        under ``merged_from`` and every source's runs under ``runs``, each
        with its folder.
    sources : list of str or path
        ``--output`` folders of runs whose options agree but for the trials and
        the strategies (which may differ or overlap).

    Returns
    -------
    results : pandas.DataFrame
        The merged table.

    Raises
    ------
    ValueError
        If fewer than two sources are given, two of them are one folder
        (also spelt differently: a trailing slash, a relative path, a link),
        ``output`` holds files, the options of two sources differ (other than
        trials and strategies), or a round present in two sources differs in
        anything but its timings.

    See Also
    --------
    run_experiment : Writes the folders this merges.
    """
    table, _, document = joined_results(sources)
    output = Path(output).expanduser()
    if output.exists() and any(output.iterdir()):
        raise ValueError(f"{output} is not empty; merge into a new folder.")
    output.mkdir(parents=True, exist_ok=True)
    atomic_write(output / "results.csv", table.to_csv(index=False))
    atomic_write(output / "config.json", json.dumps(document, indent=2) + "\n")
    return table


def joined_results(sources):
    """Join runs in memory, as :func:`merge_results` would write them.

    Parameters
    ----------
    sources : list of str or path
        Run folders, as for :func:`merge_results`.

    Returns
    -------
    results : pandas.DataFrame
        The merged table, sorted as a run writes it.
    config : ExperimentConfig
        The options, with every strategy and trial of the sources.
    document : dict
        The merged ``config.json``, with ``merged_from``.

    Raises
    ------
    ValueError
        As :func:`merge_results`, but for the output folder.
    """
    import pandas as pd

    from ._results import load_results

    if len(sources) < 2:
        raise ValueError(f"merge needs at least two folders; got {len(sources)}.")
    _refuse_repeated_folders(sources)
    tables, first, strategies, runs = [], None, [], {}
    for source in sources:
        results, config = load_results(source)
        store = ResultsFolder(source)
        _, document = store.read_config()
        # absolute, so that config.json names the sources wherever it is read
        source = str(store.path.resolve())
        runs.setdefault(
            source, [{"folder": source, **run} for run in document.get("runs", [])]
        )
        if first is None:
            first = (source, config, document)
        differences = first[1].same_experiment(config)
        # A trial's seeds derive from the trial, the purpose and the round, not
        # from the other strategies of its run: runs of other strategies with
        # the same options are paired trials of one experiment.
        differences.pop("strategies", None)
        strategies += [s for s in config.strategies if s not in strategies]
        if differences:
            listed = "; ".join(
                f"{name} {a!r} in {first[0]}, {b!r} in {source}"
                for name, (a, b) in differences.items()
            )
            raise ValueError(f"the runs used different options: {listed}.")
        tables.append(results.assign(_source=str(source)))
    table = pd.concat(tables, ignore_index=True)
    key = ["trial", "strategy", "round"]
    repeated = table[table.duplicated(key, keep=False)]
    compare = [c for c in table.columns if c not in (*TIMING, "_source", *key)]
    for (trial, strategy, r), rows in repeated.groupby(key):
        values = rows[compare].astype(str)
        differ = [c for c in compare if values[c].nunique() > 1]
        if differ:
            column = values[differ[0]]
            other = column != column.iloc[0]
            more = f" (and {', '.join(differ[1:])})" if len(differ) > 1 else ""
            raise ValueError(
                f"trial {trial}, {strategy}, round {r} differs in {differ[0]}"
                f"{more}: {column.iloc[0][:40]} in {rows['_source'].iloc[0]}, "
                f"{column[other].iloc[0][:40]} in {rows['_source'][other].iloc[0]}; "
                "these runs cannot be merged (delete that curve's rows from "
                f"round {r} on in one of them)."
            )
    merged_from = [
        {"folder": str(s), "trials": sorted(int(t) for t in t_.unique())}
        for s, t_ in table.groupby("_source", sort=False)["trial"]
    ]
    table = table.drop_duplicates(key).drop(columns="_source")
    config = first[1]
    trials = sorted(int(t) for t in table["trial"].unique())
    config = dataclasses.replace(
        config,
        strategies=type(config.strategies)(strategies),
        first_trial=trials[0],
        n_trials=trials[-1] - trials[0] + 1,
    )
    document = {
        **first[2],
        "config": config.to_dict(),
        "runs": [run for records in runs.values() for run in records],
        "merged_from": merged_from,
        "trials": trials,
    }
    table = _sorted(table, config.strategies).reset_index(drop=True)
    return table, config, document


def _refuse_repeated_folders(sources):
    """ValueError if two sources name one folder, however they spell it."""
    seen = {}
    for source in sources:
        # "runs/a", "runs/a/", "./runs/a", "~/..." and an absolute path or a
        # symbolic link to it are one folder, and one run
        folder = Path(source).expanduser().resolve()
        if folder in seen:
            raise ValueError(
                f"the folder {folder} is given twice (as {str(seen[folder])!r} "
                f"and {str(source)!r}); give each run folder once."
            )
        seen[folder] = source
