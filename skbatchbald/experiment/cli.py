"""The ``skbatchbald`` command: ``run`` an experiment, ``report`` a saved one."""

import argparse
import sys
import time

from ._config import DATASETS, MODELS, PRESETS, STRATEGIES, ExperimentConfig

__all__ = ["build_parser", "main"]

_DESCRIPTION = """\
Active learning with BatchBALD and its baselines, following the protocol of
the BatchBALD paper (Kirsch et al. 2019): start from 20 labels, train a fresh
MC-dropout network each round, acquire b points, repeat until the budget;
several paired trials per strategy.
"""

_EXAMPLES = """\
examples:
  skbatchbald run --preset demo --output results/demo
      Repeated digits, BatchBALD vs BALD vs PowerBALD vs random, 3 trials.
  skbatchbald run --strategies batchbald random --trials 20 --budget 150 \\
      --output results/digits20
  skbatchbald run --dataset repeated_mnist --pool-size 1000 --budget 100 \\
      --output results/rmnist
  skbatchbald report results/demo      # re-render summary.md and the plots
"""


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


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


# CLI option -> ExperimentConfig field, for options given on the command line.
_FIELDS = {
    "dataset": "dataset",
    "strategies": "strategies",
    "model": "model",
    "hidden_sizes": "hidden_sizes",
    "batch_size": "batch_size",
    "budget": "budget",
    "initial": "n_initial",
    "trials": "n_trials",
    "seed": "seed",
    "first_trial": "first_trial",
    "mc_samples": "n_mc_samples",
    "joint_samples": "n_joint_samples",
    "eval_samples": "eval_mc_samples",
    "pool_subsample": "pool_subsample",
    "pool_size": "pool_size",
    "validation_size": "validation_size",
    "test_size": "test_size",
    "max_epochs": "max_epochs",
    "patience": "patience",
    "epoch_size": "epoch_size",
    "thresholds": "thresholds",
    "data_home": "data_home",
}


def _add_run(subparsers):
    run = subparsers.add_parser(
        "run",
        help="run an experiment and write results, summary and plots",
        description=_DESCRIPTION,
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = run.add_argument
    add(
        "--preset",
        choices=sorted(PRESETS),
        metavar="NAME",
        help="start from a named setup",
    )
    add(
        "--output",
        "-o",
        required=True,
        metavar="FOLDER",
        help="folder for results (created)",
    )
    add("--dataset", choices=DATASETS, help="data (default: repeated_digits)")
    add(
        "--strategies",
        nargs="+",
        choices=list(STRATEGIES),
        metavar="NAME",
        help=f"strategies to compare, from: {', '.join(STRATEGIES)} "
        "(default: batchbald bald powerbald random)",
    )
    add(
        "--model", choices=MODELS, help="network (default: mlp on digits, cnn on MNIST)"
    )
    add("--hidden-sizes", nargs="+", type=_positive_int, metavar="H", help="MLP widths")
    add(
        "--batch-size",
        "-b",
        type=_positive_int,
        metavar="N",
        help="points acquired per round (10)",
    )
    add(
        "--budget",
        type=_positive_int,
        metavar="N",
        help="labels at which a trial stops (150)",
    )
    add(
        "--initial",
        type=_positive_int,
        metavar="N",
        help="balanced initial labels (20)",
    )
    add("--trials", type=_positive_int, metavar="N", help="paired trials (3)")
    add("--seed", type=int, metavar="N", help="base seed of every trial (0)")
    add(
        "--first-trial",
        type=int,
        metavar="N",
        help="number of the first trial (0); split a long run over processes",
    )
    add(
        "--mc-samples",
        "-K",
        type=_positive_int,
        metavar="N",
        help="posterior samples K (20)",
    )
    add(
        "--joint-samples",
        "-M",
        type=_positive_int,
        metavar="N",
        help="BatchBALD's M (10000)",
    )
    add(
        "--eval-samples",
        type=_positive_int,
        metavar="N",
        help="MC samples for test/val (5)",
    )
    add(
        "--pool-subsample",
        type=_positive_int,
        metavar="N",
        help="score this many pool points",
    )
    add(
        "--pool-size",
        type=_positive_int,
        metavar="N",
        help="build the pool from N training images (before repeating)",
    )
    add(
        "--validation-size",
        type=_positive_int,
        metavar="N",
        help="validation images (100)",
    )
    add("--test-size", type=_positive_int, metavar="N", help="test images (500)")
    add(
        "--max-epochs",
        type=_positive_int,
        metavar="N",
        help="epochs per round at most (100)",
    )
    add(
        "--patience",
        type=_positive_int,
        metavar="N",
        help="early-stopping patience (3)",
    )
    add(
        "--epoch-size",
        type=_positive_int,
        metavar="N",
        help="min samples per epoch (1024)",
    )
    add("--thresholds", nargs="+", type=_accuracy, metavar="ACC", help="e.g. 0.8 0.9")
    add(
        "--data-home",
        metavar="FOLDER",
        help="MNIST cache folder (scikit-learn's data home)",
    )
    add(
        "--threads",
        type=_positive_int,
        default=1,
        help="torch threads (1: fastest for these small nets on a shared CPU)",
    )
    add("--quiet", "-q", action="store_true", help="no progress bars or summary")
    return run


def build_parser():
    """Return the ``skbatchbald`` argument parser (``run`` and ``report``).

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
    subparsers = parser.add_subparsers(dest="command", metavar="{run,report}")
    parser.set_defaults(run_parser=_add_run(subparsers))
    report = subparsers.add_parser(
        "report",
        help="re-render summary.md and plots from a run's folder",
        description="Re-read results.csv and config.json in FOLDER and write "
        "summary.md, learning_curve.png and class_entropy.png again.",
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
    return parser


def _config(args):
    options = dict(PRESETS[args.preset]) if args.preset else {}
    for option, field in _FIELDS.items():
        value = getattr(args, option)
        if value is not None:
            options[field] = tuple(value) if isinstance(value, list) else value
    return ExperimentConfig(**options)


def _run(args, parser):
    try:
        config = _config(args)
    except ValueError as exc:
        args.run_parser.error(str(exc))
    import torch

    from ._protocol import run_experiment
    from ._results import write_report

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    run_experiment(config, output=args.output, progress=not args.quiet)
    text = write_report(args.output)
    if not args.quiet:
        print(text)
        print(
            f"{time.perf_counter() - start:.0f} s; results, summary.md and plots in "
            f"{args.output}"
        )


def main(argv=None):
    """Run the command line; return the exit status.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments after the program name; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 1 when the run fails with a one-line error; wrong
        options exit with status 2 from argparse.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "run":
            _run(args, parser)
        else:
            from ._results import write_report

            text = write_report(args.folder, thresholds=args.thresholds)
            if not args.quiet:
                print(text)
    except (ValueError, TypeError, OSError) as exc:
        print(f"skbatchbald {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "skbatchbald: interrupted; results so far are in the folder.",
            file=sys.stderr,
        )
        return 130
    return 0
