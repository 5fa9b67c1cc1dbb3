"""``skbatchbald label``: one round of the human-in-the-loop loop from the shell.

Each call fits a model on every answer so far and, unless a batch is still
waiting for labels, asks for the next one, through batch files or a Label
Studio project (:mod:`skbatchbald.annotation`). It keeps no state: run it
again whenever people have labelled a batch.
"""

import argparse
import csv
import itertools
import os
import re
import sys
import warnings
from pathlib import Path

import numpy as np

from ..annotation._answers import TARGET_TYPES
from ._config import SAMPLED, STRATEGIES

__all__ = ["add_label_parser", "run_label"]

_MODELS = ("forest", "logistic", "mlp")
_COLD_STARTS = ("random", "typiclust")
# The strategies that score tags and numbers as well as classes; the others
# score class probabilities. Written out rather than read from the query
# classes, which would import torch to build the parser; a test keeps the two
# in step.
_ANY_TARGET = ("batchbald", "bald", "power_bald", "random")

_EXAMPLES = """\
examples:
  skbatchbald label --data pool.npy --classes 0 1 2 3 4 5 6 7 8 9 --files labels/
      Writes labels/batch-001.csv; fill in its label column (? for a row that
      cannot be labelled: it is set aside), then run it again.
  skbatchbald label --data pool.npy --target-type continuous --files labels/
      People write a number in each label cell (a regression target).
  LABEL_STUDIO_API_KEY=... skbatchbald label --data pool.npy \\
      --label-studio http://localhost:8080 --project 3 --strategy batchbald
      Marks the batch in project 3; Label All Tasks serves it in this order.
"""


def add_label_parser(subparsers):
    """Add the ``label`` command to the ``skbatchbald`` parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The subcommands of the ``skbatchbald`` parser.

    Returns
    -------
    parser : argparse.ArgumentParser
        The ``label`` command's parser.
    """
    label = subparsers.add_parser(
        "label",
        help="one round of labelling by people: files or Label Studio",
        description="Fit a model on every answer so far, then ask for the next "
        "batch unless one is still waiting for labels. The files or the Label "
        "Studio project hold all the state: run the same command again after "
        "each batch is labelled, or after a crash.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    label.add_argument(
        "--data",
        required=True,
        help="the pool: a numeric .npy array (one row per pool row) or a "
        "numeric .csv as pandas or numpy.savetxt writes it: a first line of "
        "column names (pandas' 0,1,... too) is skipped, and an index column "
        "of the row numbers 0..n-1 dropped with a note (a leading ~ is the home "
        "folder, as in every path option)",
    )
    where = label.add_mutually_exclusive_group(required=True)
    where.add_argument("--files", metavar="DIR", help="batch files in DIR")
    where.add_argument("--label-studio", metavar="URL", help="a Label Studio server")
    label.add_argument(
        "--classes",
        nargs="+",
        help="the labels people may give, each once (needed with --files; "
        "with Label Studio, default: the project's choices)",
    )
    label.add_argument(
        "--target-type",
        choices=TARGET_TYPES,
        default="multiclass",
        help="what people answer: one of --classes per row, a row's tags (names "
        "of --classes separated by ';', '-' for none), or a number (no "
        "--classes) (default: %(default)s)",
    )
    label.add_argument(
        "--format",
        choices=("csv", "jsonl"),
        default="csv",
        help="the batch files' format (default: %(default)s)",
    )
    label.add_argument(
        "--references",
        metavar="FILE",
        help="a text file with one line per pool row (e.g. an image path), "
        "written to the batch files' reference column",
    )
    label.add_argument("--project", type=int, help="the Label Studio project's id")
    label.add_argument(
        "--api-key-env",
        default="LABEL_STUDIO_API_KEY",
        metavar="NAME",
        help="environment variable holding the access token (default: "
        "%(default)s); a token on the command line would be seen by others",
    )
    label.add_argument(
        "--push-table",
        action="store_true",
        help="create missing tasks showing the row's features as a table "
        "(for skbatchbald.annotation.label_config(classes, data='table')); with "
        "or without it, every round checks such tasks against --data's rows",
    )
    label.add_argument(
        "--strategy",
        choices=sorted(STRATEGIES),
        default="batchbald",
        help="strategy once there are answers; with --target-type multilabel "
        f"or continuous only {', '.join(_ANY_TARGET[:-1])} or {_ANY_TARGET[-1]} "
        "(default: %(default)s)",
    )
    label.add_argument(
        "--cold-start",
        choices=_COLD_STARTS,
        default="random",
        help="strategy of the first batches, until the answers hold two classes "
        "(default: %(default)s)",
    )
    label.add_argument(
        "--model",
        choices=_MODELS,
        default="forest",
        help="fitted on the answers: a random forest (its trees are the "
        "posterior samples), a scaled logistic regression (multiclass only, "
        "with --strategy margin, max_entropy, variation_ratios or random), or "
        "an MC-dropout MLP; a regressor or a multi-label model for the other "
        "target types (default: %(default)s)",
    )
    label.add_argument(
        "--n-samples",
        type=int,
        metavar="K",
        help="posterior samples the strategy scores with: the trees of --model "
        "forest (default 50), the MC-dropout samples of --model mlp (default: "
        "the strategy's); more keep BatchBALD's picks joint for longer",
    )
    label.add_argument(
        "--n-instances",
        type=int,
        default=10,
        metavar="B",
        help="batch size (default: %(default)s)",
    )
    label.add_argument(
        "--random-state",
        type=int,
        default=0,
        metavar="SEED",
        help="seeds the strategy and the model, so that a rerun asks for the "
        "same batch (default: %(default)s)",
    )
    return label


_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _note(text):
    print(f"note: {text}", file=sys.stderr)


def _shown(values, n=3):
    return ", ".join(map(str, values[:n])) + (", ..." if len(values) > n else "")


def _head(path, n=5):
    """The first ``n`` non-blank lines of a CSV, as lists of cells."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(itertools.islice(filter(None, csv.reader(f)), n))


def _has_header(path, first, second):
    """Whether the CSV's first line holds column names rather than a pool row.

    A line with a cell that is no number (an empty one too, pandas' unnamed
    index) holds names. A line of numbers holds names only as pandas writes
    them for a DataFrame of an array, 0, 1, ..., n-1:
    ``DataFrame(X).to_csv(path, index=False)``; other numbers are a row.
    """
    if not all(map(_is_number, first)):
        return True
    integers = all(_INTEGER.fullmatch(cell) for cell in first)
    # A writer formats every row of a column alike: rows of floats (np.savetxt,
    # pandas) have a point or an exponent, so a line of bare integers above them
    # is no row. Above rows of integers (pandas' integer features) 0, 1, ... may
    # be either: taken as pandas' names, the likelier, with a note.
    next_integers = second is not None and all(map(_INTEGER.fullmatch, second))
    line = ",".join(cell.strip() for cell in first)
    if [cell.strip() for cell in first] == [str(j) for j in range(len(first))]:
        if next_integers:
            _note(
                f"--data {path}: its first line, {_shown(first)}, is read as "
                "pandas' column names, not as pool row 0; if it is a row, add a "
                "line of column names above it."
            )
        return True
    if integers and second and not next_integers:
        # names such as wavelengths (400,410,...) cannot be told from a row
        _note(
            f"--data {path}: its first line ({line[:40]}) is read as pool row 0, "
            "though written unlike the next; if it holds column names, make one "
            "of them not a number (x400) or save the pool with numpy.save."
        )
    return False


def _refuse_index(path, values):
    raise ValueError(
        f"--data {path}: its first column, unnamed in the header, is an index as "
        f"DataFrame.to_csv writes it, holding {_shown(values)} rather than the "
        "row numbers 0, 1, 2, ... that batch files give as pool_index; save the "
        "pool without it, DataFrame.to_csv(path, index=False) (ids can go to "
        "--references FILE)."
    )


def _load_csv(path):
    """A numeric CSV as pandas or numpy.savetxt writes it.

    A first line of column names is skipped (see :func:`_has_header`). An index
    column (an empty first column name, as pandas writes an unnamed index, or a
    first column of the row numbers 0..n-1) is no feature: it is dropped with a
    note if it numbers the rows as batch files do, and refused otherwise, since
    a person reading the index where a batch file gives ``pool_index`` would
    label another row.
    """
    head = _head(path)
    header = bool(head) and _has_header(path, head[0], (head[1:] or [None])[0])
    if len(head) <= header:
        raise ValueError(f"--data {path} holds no rows; save the pool in it.")
    # an empty first name is pandas' unnamed index; one name fewer than values
    # is R's write.table, whose row names have none
    row_names = header and len(head) > 1 and len(head[1]) == len(head[0]) + 1
    unnamed_index = header and (not head[0][0].strip() or row_names)
    try:
        X = np.loadtxt(
            path,
            delimiter=",",
            ndmin=2,
            skiprows=int(header),
            encoding="utf-8-sig",
            quotechar='"',
        )
    except ValueError as exc:
        index = [row[0].strip() for row in head[1:]]
        if unnamed_index and index != [str(i) for i in range(len(index))]:
            _refuse_index(path, index)
        raise ValueError(
            f"--data {path} is not a numeric CSV ({exc}); keep only the feature "
            "columns, separated by commas: DataFrame.to_csv(path, index=False), "
            "without an index or text column, or numpy.save to a .npy file."
        ) from None
    names = head[0] if header else None
    if header and not unnamed_index and len(names) != X.shape[1]:
        raise ValueError(
            f"--data {path} has {len(names)} column names on its first line but "
            f"{X.shape[1]} values a row; give each column one name."
        )
    rows = np.arange(len(X))
    if unnamed_index and not np.array_equal(X[:, 0], rows):
        _refuse_index(path, [f"{v:g}" for v in X[:4, 0]])
    if unnamed_index or (X.shape[1] > 1 and np.array_equal(X[:, 0], rows)):
        named = f" ({names[0].strip()})" if header and not unnamed_index else ""
        _note(
            f"--data {path}: dropped its first column{named}, the row numbers "
            f"0..{len(X) - 1}: an index (DataFrame.to_csv writes one), not a "
            "feature."
        )
        X = X[:, 1:]
    return X


def _load_npy(path):
    numbers = (
        "the pool must be numbers: save the features (e.g. embeddings of the "
        "texts) with numpy.save, and show the texts in the batch files with "
        "--references FILE, one line per row."
    )
    try:
        X = np.load(path)
    except ValueError as exc:
        if "Object arrays" in str(exc):  # e.g. texts of dtype object
            raise ValueError(
                f"--data {path} holds Python objects (texts?), not numbers; " + numbers
            ) from None
        raise ValueError(
            f"--data {path} is not an array saved by numpy.save ({exc})."
        ) from None
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"--data {path} holds {X.dtype} values, not numbers; " + numbers
        )
    return X


def _load_pool(path):
    path = Path(path).expanduser()  # "~/pool.npy" quoted, or after --data=
    if path.suffix == ".npy":
        X = _load_npy(path)
    elif path.suffix == ".csv":
        X = _load_csv(path)
    else:
        raise ValueError(
            f"--data {path} is neither .npy nor .csv; save the pool with "
            "numpy.save or as a numeric CSV."
        )
    return np.asarray(X, dtype=np.float32).reshape(len(X), -1)


def _classes(values):
    if values is None:
        return None
    try:
        classes = [int(v) for v in values]
    except ValueError:
        classes = list(values)
    # refused here, before a round holds (creates) the batch directory, and
    # with the names as typed rather than numpy's reprs
    given = {}
    for value, label in zip(values, classes, strict=True):
        given.setdefault(str(label), []).append(value)
    for same in given.values():
        if len(same) > 1:
            what = (
                f"{same[0]} more than once"
                if len(set(same)) == 1
                else f"{' and '.join(dict.fromkeys(same))}, the same number"
            )
            raise ValueError(f"--classes gives {what}; name each label once.")
    return np.asarray(classes)


def _check_strategy(strategy, target_type, model="forest"):
    # before the cold start writes a batch: the strategy would fail only at the
    # next round, once people had labelled it
    if model == "logistic" and target_type == "multiclass" and strategy in SAMPLED:
        usable = sorted(set(STRATEGIES) - set(SAMPLED))
        raise ValueError(
            f"--strategy {strategy} scores how posterior samples disagree, and "
            "--model logistic gives one predictive distribution; use --model "
            f"forest or mlp, or --strategy {', '.join(usable[:-1])} or "
            f"{usable[-1]}."
        )
    if target_type != "multiclass" and strategy not in _ANY_TARGET:
        raise ValueError(
            f"--strategy {strategy} scores class probabilities; with --target-type "
            f"{target_type} use --strategy {', '.join(_ANY_TARGET[:-1])} or "
            f"{_ANY_TARGET[-1]}."
        )


def _estimator(name, n_features, random_state, target_type="multiclass", K=None):
    if name == "logistic" and target_type != "multiclass":
        raise ValueError(
            f"--model logistic predicts one class per row; with --target-type "
            f"{target_type} use --model forest or --model mlp."
        )
    if K is not None and (K < 2 or name == "logistic"):
        raise ValueError(
            "--model logistic has no posterior samples; drop --n-samples."
            if name == "logistic"
            else f"--n-samples must be at least 2 (posterior samples); got {K}."
        )
    if name == "forest":
        from sklearn import ensemble

        forest = (
            ensemble.RandomForestRegressor
            if target_type == "continuous"
            else ensemble.RandomForestClassifier
        )
        return forest(n_estimators=K or 50, random_state=random_state)
    if name == "logistic":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    import skbatchbald
    from skbatchbald.nn import BayesianMLP

    net = {
        "multiclass": skbatchbald.MCDropoutClassifier,
        "multilabel": skbatchbald.MCDropoutMultiLabelClassifier,
        "continuous": skbatchbald.MCDropoutRegressor,
    }[target_type]
    return net(
        BayesianMLP,
        module__n_features=n_features,
        random_state=random_state,
        verbose=0,
    )


def _annotator(args, X):
    from skbatchbald.annotation import FileAnnotator, LabelStudioAnnotator

    classes = _classes(args.classes)
    if args.files is not None:
        if classes is None and args.target_type != "continuous":
            raise ValueError(
                "--files needs --classes: the labels (tags) people may give, "
                "unless they answer numbers (--target-type continuous)."
            )
        references = None
        if args.references is not None:
            references = Path(args.references).expanduser().read_text()
            references = references.splitlines()
            if len(references) != len(X):
                raise ValueError(
                    f"--references {args.references} has {len(references)} lines "
                    f"but the pool has {len(X)} rows; give one line per row."
                )
        return FileAnnotator(
            args.files,
            classes,
            target_type=args.target_type,
            format=args.format,
            reference=references,
        )
    if args.project is None:
        raise ValueError("--label-studio needs --project: the project's id.")
    api_key = os.environ.get(args.api_key_env)
    if not api_key:
        raise ValueError(
            f"the environment variable {args.api_key_env} holds no Label Studio "
            "access token; export it (Account & Settings shows the token)."
        )

    def table(i):
        return {"table": {f"x{j}": float(v) for j, v in enumerate(X[i])}}

    # --push-table only creates the missing tasks: the table also checks, in
    # every round, that the tasks made from features show their rows of X, so
    # a pool file saved in another row order is refused (tasks of another
    # form, images made in Python, it cannot check and leaves alone)
    return LabelStudioAnnotator(
        args.label_studio,
        api_key,
        args.project,
        classes=classes,
        target_type=args.target_type,
        task_data=table,
        create_tasks=args.push_table,
    )


def _rows(n):
    return f"{n} row" if n == 1 else f"{n} rows"


def run_label(args):
    """Run one labelling round for parsed ``skbatchbald label`` arguments.

    Parameters
    ----------
    args : argparse.Namespace
        From the parser of :func:`add_label_parser`.

    Returns
    -------
    status : int
        0; errors are raised (``ValueError``, ``ConnectionError``, ...) for
        the command line to print.
    """
    import skbatchbald
    from skbatchbald.annotation import annotation_round

    _check_strategy(args.strategy, args.target_type, args.model)
    X = _load_pool(args.data)
    annotator = _annotator(args, X)
    strategy = getattr(skbatchbald, STRATEGIES[args.strategy])()
    cold_start = (
        skbatchbald.RandomQuery()
        if args.cold_start == "random"
        else skbatchbald.TypiClustQuery()
    )
    for each in (strategy, cold_start):
        if "random_state" in each.get_params():
            each.set_params(random_state=args.random_state)
    K = args.n_samples
    if K is not None and isinstance(strategy, skbatchbald.RandomQuery):
        raise ValueError(
            f"--strategy {args.strategy} scores no posterior samples; drop --n-samples."
        )
    if K is not None and args.model == "mlp":
        strategy.set_params(n_mc_samples=K)
    learner = skbatchbald.ActiveLearner(
        _estimator(args.model, X.shape[1], args.random_state, args.target_type, K),
        query_strategy=strategy,
    )
    from ..acquisition import SaturationWarning

    try:
        with warnings.catch_warnings(record=True) as caught:
            if not sys.warnoptions:
                # each saturated query noted, unless -W or PYTHONWARNINGS says
                # what to do with it
                warnings.simplefilter("always", SaturationWarning)
            result = annotation_round(
                learner,
                X,
                annotator,
                n_instances=args.n_instances,
                cold_start=cold_start,
            )
    finally:
        # also when the round fails: a warning may say why
        for w in caught:
            if issubclass(w.category, SaturationWarning):
                # one line of what happened to this batch, with the option
                # that changes it, not a warning located in runpy
                print(f"note: {w.message} (--n-samples sets K)", file=sys.stderr)
            elif sys.warnoptions or "<frozen" not in str(w.filename):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            else:
                # located in runpy (the package's warnings point past it): one
                # line saying what it is, as the notes are
                print(f"warning: {w.message}", file=sys.stderr)
    if result.cold_start:
        strategy = cold_start
    print(f"fitted on {result.answered.size} answers")
    if result.skipped.size:
        print(
            f"{_rows(result.skipped.size)} set aside as unlabelable (skipped): "
            + " ".join(map(str, result.skipped.tolist()))
        )
    if result.requested.size:
        print(
            f"asked for {result.requested.size} rows with {type(strategy).__name__}: "
            + " ".join(map(str, result.requested.tolist()))
        )
    elif result.pending.size:
        print(
            f"{_rows(result.pending.size)} still wait for a label: "
            + " ".join(map(str, result.pending.tolist()))
            + "; label them and run this again"
        )
    elif result.skipped.size:
        print("every pool row is labelled or set aside")
    else:
        print("every pool row is labelled")
    return 0
