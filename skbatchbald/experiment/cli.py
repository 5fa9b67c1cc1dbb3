"""The ``skbatchbald`` command: ``run`` an experiment, ``report`` or ``merge`` runs.

The options of ``run`` are generated from the fields of
:class:`~skbatchbald.experiment.ExperimentConfig` and their metadata, so that
an option's default and help are written once, in ``_config.py``.
"""

import argparse
import dataclasses
import importlib.util
import sys
import time
import types

from ._config import PRESETS, ExperimentConfig
from ._label import add_label_parser, run_label

__all__ = ["build_parser", "main"]

_DESCRIPTION = """\
Active learning with BatchBALD and its baselines, with the protocol of the
BatchBALD paper (Kirsch et al. 2019): start from 20 labels, train a fresh
MC-dropout network each round, acquire b points, repeat until the budget;
several paired trials per strategy.
"""

# Pre-wrapped: the raw formatter keeps the examples' layout, and this text's.
_RUN_DESCRIPTION = """
A folder that holds results of the same options is continued after its last
finished round; results of other options make the run refuse.

The data sets and networks are the built-in ones (--dataset, --model). For
data or a model of your own, write the loop in Python with
skbatchbald.ActiveLearner and the query classes (docs: Quickstart); a table
of its rounds in the columns of results.csv goes into
skbatchbald.experiment.summarize.
"""

_EXAMPLES = """\
examples:
  skbatchbald run --preset demo --output results/demo
      Repeated digits, BatchBALD vs BALD vs PowerBALD vs random, 3 trials.
  skbatchbald run --preset paper-repeated-mnist --output results/rmnist
      The paper's Repeated MNIST settings; run it again to continue.
  skbatchbald run --strategies batchbald random --n-trials 20 --output results/d
  skbatchbald report results/demo      # re-render summary.md and the plots
  skbatchbald merge results/all results/part1 results/part2
  skbatchbald label --data pool.npy --classes 0 1 2 --files labels/
      One round of labelling by people (see skbatchbald label --help).
"""


def _accuracy(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(
            f"expected an accuracy in (0, 1], e.g. 0.9, got {value}"
        )
    return value


def _integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _base_type(annotation):
    """int for ``int | None``, the type itself otherwise."""
    if isinstance(annotation, types.UnionType):
        (annotation,) = (t for t in annotation.__args__ if t is not type(None))
    return annotation


def _parse_type(kind, name):
    if kind is int:
        return _integer
    if kind is float:
        return _accuracy if name in ("thresholds", "stop_accuracy") else float
    return kind


def _add_config_options(parser):
    """One option per ExperimentConfig field, from its metadata."""
    group = parser.add_argument_group(
        "experiment options (defaults: ExperimentConfig's; a --preset sets some)"
    )
    for field in dataclasses.fields(ExperimentConfig):
        meta = field.metadata
        kind = _base_type(field.type)
        default = field.default
        shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
        kwargs = {
            "dest": field.name,
            "default": None,
            "help": f"{meta['help']} (default: {shown})",
        }
        if kind is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            element = meta["type"] or kind
            kwargs["type"] = _parse_type(element, field.name)
            kwargs["metavar"] = meta["metavar"] or (
                "N" if element is int else "X" if element is float else None
            )
            if kind is tuple:
                kwargs["nargs"] = "+"
            if meta["choices"] is not None:
                kwargs["choices"] = meta["choices"]
        flag = "--" + field.name.replace("_", "-")
        group.add_argument(flag, *meta["flags"], **kwargs)


def _add_run(subparsers):
    run = subparsers.add_parser(
        "run",
        help="run (or continue) an experiment; write results, summary and plots",
        description=_DESCRIPTION + _RUN_DESCRIPTION,
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        metavar="NAME",
        help=f"start from a named setup: {', '.join(sorted(PRESETS))}",
    )
    run.add_argument(
        "--output", "-o", required=True, metavar="FOLDER", help="folder for results"
    )
    run.add_argument(
        "--n-jobs",
        type=_integer,
        default=None,
        metavar="N",
        help="worker processes, one torch thread each; -1: all cores (default: "
        "-1 on the CPU, 1 with --device cuda: one GPU, one process)",
    )
    run.add_argument(
        "--device",
        default="cpu",
        metavar="DEVICE",
        help="torch device of the networks, e.g. cuda (default: cpu); "
        "recorded in config.json",
    )
    run.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bars or summary"
    )
    run.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars on standard error (default: only when it is a "
        "terminal, so a redirected log holds none)",
    )
    _add_config_options(run)
    return run


def build_parser():
    """Return the ``skbatchbald`` argument parser (``run``, ``report``, ``merge``).

    Returns
    -------
    parser : argparse.ArgumentParser
        The parser ``main`` uses; ``parser.parse_args(["run", "--help"])``
        prints the options.
    """
    parser = argparse.ArgumentParser(
        prog="skbatchbald",
        description=_DESCRIPTION,
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="{run,report,merge,label}"
    )
    parser.set_defaults(run_parser=_add_run(subparsers))
    report = subparsers.add_parser(
        "report",
        help="re-render summary.md and plots from a run's folder",
        description="Re-read results.csv and config.json in FOLDER and write "
        "summary.md, learning_curve.png, class_entropy.png and "
        "class_histogram.png again.",
    )
    report.add_argument("folder", help="the --output folder of a run")
    report.add_argument(
        "--thresholds",
        nargs="+",
        type=_accuracy,
        metavar="ACC",
        help="accuracies of the tables (default: the run's own)",
    )
    report.add_argument("--quiet", "-q", action="store_true", help="print nothing")
    merge = subparsers.add_parser(
        "merge",
        help="merge the folders of runs with the same options",
        description="Check that the runs in SOURCE folders used the same "
        "options (their trials and strategies may differ: trials are paired by "
        "seed) and that rounds run twice agree, then write their rows into "
        "OUTPUT, with the sources recorded in its config.json.",
    )
    merge.add_argument("output", help="new folder for the merged results")
    merge.add_argument("sources", nargs="+", metavar="SOURCE", help="run folders")
    add_label_parser(subparsers)
    return parser


def _config(args):
    options = dict(PRESETS[args.preset]) if args.preset else {}
    for field in dataclasses.fields(ExperimentConfig):
        value = getattr(args, field.name)
        if value is not None:
            options[field.name] = tuple(value) if isinstance(value, list) else value
    return ExperimentConfig(**options)


def _run(args):
    try:
        config = _config(args)
    except ValueError as exc:
        args.run_parser.error(str(exc))
    import torch

    from ._protocol import run_experiment
    from ._report import write_report

    torch.set_num_threads(1)  # fastest for these small nets on a shared CPU
    start = time.perf_counter()
    try:
        progress = False if args.quiet else args.progress
        run_experiment(
            config,
            output=args.output,
            n_jobs=_default_n_jobs(args.n_jobs, args.device),
            progress=progress,
            device=args.device,
        )
    except KeyboardInterrupt:
        print(
            f"skbatchbald run: interrupted; the finished rounds are in "
            f"{args.output}; the same command continues them.",
            file=sys.stderr,
        )
        return 130
    # the tables at the accuracies asked for now (a resumed run's config.json
    # keeps those it was started with)
    thresholds = None if args.thresholds is None else tuple(args.thresholds)
    text = write_report(args.output, thresholds=thresholds)
    if not args.quiet:
        print(text)
        print(
            f"{time.perf_counter() - start:.0f} s; results, summary.md and plots in "
            f"{args.output}"
        )
    return 0


def _missing_dependency():
    for name in ("pandas",):
        if importlib.util.find_spec(name) is None:
            return name
    return None


def _default_n_jobs(n_jobs, device):
    """All cores on the CPU; one process on an accelerator, whose every worker
    would otherwise hold a context of its own on the one device."""
    if n_jobs is not None:
        return n_jobs
    return -1 if device == "cpu" else 1


def main(argv=None):
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments after the program name; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 1 when the command fails with a one-line error, 130
        when interrupted (finished rounds are kept); wrong options exit with
        status 2 from argparse.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    missing = _missing_dependency() if args.command != "label" else None
    if missing:
        print(
            f"skbatchbald {args.command}: error: needs {missing}, which is not "
            "installed; pip install 'skbatchbald[experiment]'.",
            file=sys.stderr,
        )
        return 1
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "label":
            try:
                return run_label(args)
            except KeyboardInterrupt:
                print(
                    "skbatchbald label: interrupted; the batch files or the "
                    "project hold every answer, and the same command carries on.",
                    file=sys.stderr,
                )
                return 130
        if args.command == "merge":
            from ._merge import merge_results

            merge_results(args.output, args.sources)
            print(f"merged {len(args.sources)} runs into {args.output}")
            return 0
        from ._report import write_report

        text = write_report(args.folder, thresholds=args.thresholds)
        if not args.quiet:
            print(text)
    except (ValueError, TypeError, OSError, ImportError) as exc:
        print(f"skbatchbald {args.command}: error: {exc}", file=sys.stderr)
        return 1
    return 0
