"""The configuration of an experiment: every option, validated, with presets.

Each field carries its command-line help in ``metadata``; ``cli.py`` builds the
parser from these fields, so an option, its default and its help live here only.
"""

import dataclasses

from .._validation import check_int, check_real

__all__ = ["DATASETS", "MODELS", "PRESETS", "STRATEGIES", "ExperimentConfig"]

# Command-line name (the acquisition function's name) -> class in
# skbatchbald.query, imported only when a run starts so that `skbatchbald --help`
# stays fast.
STRATEGIES = {
    "batchbald": "BatchBALDQuery",
    "bald": "BALDQuery",
    "power_bald": "PowerBALDQuery",
    "max_entropy": "MaxEntropyQuery",
    "variation_ratios": "VarRatiosQuery",
    "mean_std": "MeanSTDQuery",
    "random": "RandomQuery",
    "margin": "MarginQuery",
    "epig": "EPIGQuery",
    "batch_epig": "BatchEPIGQuery",
}
DATASETS = ("repeated_digits", "digits", "repeated_mnist", "mnist", "fashion_mnist")
MODELS = ("mlp", "cnn")
# The strategies whose score measures how posterior samples disagree: with one
# sample (K = 1) it is 0 for every pool point. The query classes say the same
# through ``_disagreement``; a test keeps the two in step.
SAMPLED = ("batchbald", "bald", "power_bald", "mean_std", "epig", "batch_epig")
# What a user with data or a model of their own is told: the runner knows only
# the built-in ones.
_OWN_DATA = (
    "The runner takes only these built-in ones: for data or a model of your "
    "own, write the loop with skbatchbald.ActiveLearner and the query classes "
    "(docs: Quickstart)"
)
# How each round's network trains: MCDropoutClassifier's default recipe, or the
# paper's loop with early stopping on a validation set.
TRAININGS = ("default", "early_stopping")
# The options of the early-stopping loop, which the default recipe does not
# read: a run refuses them unless they keep their defaults.
EARLY_STOPPING_OPTIONS = (
    "max_epochs",
    "patience",
    "epoch_size",
    "train_batch_size",
    "lr",
    "mc_validation",
)

# Accuracies whose "labels needed" the summary reports, when none are given.
_DEFAULT_THRESHOLDS = {"digits": (0.80, 0.85, 0.90), "mnist": (0.80, 0.90, 0.95)}

# The settings the BatchBALD paper states for both MNIST experiments (its code's
# run configurations; Kirsch et al. 2019, Section 5 and Appendix). What they
# cannot match is said on docs/reproducing.rst.
_PAPER_COMMON = {
    "training": "early_stopping",
    "model": "cnn",
    "batch_size": 10,
    "budget": 320,  # 20 initial + 300 acquired
    "n_initial": 20,
    "fixed_initial": True,
    "n_trials": 6,
    "n_joint_samples": 40_000,
    "pool_size": None,
    "test_size": None,
    "patience": 3,
    "epoch_size": 5056,
    "train_batch_size": 64,
    "lr": 1e-3,
    "normalize": True,
    "mc_validation": False,
    "thresholds": (0.90, 0.95),
}

PRESETS = {
    # `make demo`: the four strategies of the issue on Repeated digits, sized to
    # finish in a few minutes on a 2-core laptop; the default training recipe.
    "demo": {
        "dataset": "repeated_digits",
        "strategies": ("batchbald", "bald", "power_bald", "random"),
        "batch_size": 10,
        "budget": 150,
        "n_trials": 3,
    },
    "paper-mnist": {
        **_PAPER_COMMON,
        "dataset": "mnist",
        "strategies": ("batchbald", "bald"),
        "n_mc_samples": 100,
        "eval_mc_samples": 100,
        "validation_size": 1024,
        "max_epochs": 30,
        "stop_accuracy": 0.96,
    },
    "paper-repeated-mnist": {
        **_PAPER_COMMON,
        "dataset": "repeated_mnist",
        "strategies": ("batchbald", "bald", "random"),
        "n_mc_samples": 10,
        "eval_mc_samples": 10,
        "validation_size": 3072,
        "validation_from_pool": True,
        "max_epochs": 40,
        "n_repeats": 3,
        "noise_std": 0.1,
    },
}


def _option(
    default, help, *, flags=(), metavar=None, choices=None, type=None, run_only=False
):
    """A dataclass field whose metadata the command line reads.

    ``flags`` are short spellings (the paper's b, K, M); ``choices`` and
    ``type`` (of each element, for tuples) override what the annotation
    implies; ``run_only`` marks options that change where or how a run happens
    but not its results.
    """
    metadata = {
        "help": help,
        "flags": flags,
        "metavar": metavar,
        "choices": choices,
        "type": type,
    }
    return dataclasses.field(
        default=default, metadata={**metadata, "run_only": run_only}
    )


def _check_int(name, value, low, hint=""):
    return check_int(value, name, min_val=low, hint=hint)


def _short(value, limit=60):
    """``repr(value)`` on one line, cut to ``limit`` characters (arrays are long)."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _check_choice(name, value, choices, hint=""):
    # an array compared with a string would be compared elementwise
    if not isinstance(value, str) or value not in choices:
        got = repr(value) if isinstance(value, str) else _short(value)
        if not isinstance(value, str):
            got = f"a {type(value).__name__} ({got})"
        suffix = f". {hint}" if hint else ""
        raise ValueError(
            f"{name} must be one of {', '.join(choices)}; got {got}{suffix}."
        )
    return value


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False; got {value!r}.")
    return value


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """All options of an active-learning experiment, checked on creation.

    The defaults describe a small run on Repeated digits: a fresh network each
    round trained with :class:`~skbatchbald.MCDropoutClassifier`'s default
    recipe on the labelled set, 20 initial labels balanced over the classes,
    b = 10 points acquired per round up to the label budget, several paired
    trials. The presets ``paper-mnist`` and ``paper-repeated-mnist`` in
    :data:`PRESETS` set the BatchBALD paper's own values where it states them,
    its training loop included (``training="early_stopping"``: Adam, lr 1e-3,
    early stopping on validation accuracy with patience 3, best weights
    restored).

    Parameters
    ----------
    dataset : {"repeated_digits", "digits", "repeated_mnist", "mnist", \
"fashion_mnist"}, default="repeated_digits"
        The data, one of the built-in sets in :data:`DATASETS` (for data of
        your own, see :func:`run_experiment`). Repeated sets hold
        ``n_repeats`` noisy copies of every pool image; test images are never
        repeated.
    strategies : tuple of str, default=("batchbald", "bald", "power_bald", \
"random")
        Names from :data:`STRATEGIES`, compared on the same trials.
    model : {"mlp", "cnn"} or None, default=None
        :class:`~skbatchbald.nn.BayesianMLP` or :class:`~skbatchbald.nn.BayesianCNN`;
        None: the MLP for digits, the paper's CNN for MNIST.
    training : {"default", "early_stopping"}, default="default"
        How each round's fresh network trains. ``"default"``: the
        classifier's default recipe (``MCDropoutClassifier``'s ``max_epochs``,
        shuffled minibatches, Adam) on the labelled set, which the validation
        set does not influence. ``"early_stopping"``: the paper's loop, set by
        ``max_epochs``, ``patience``, ``epoch_size``, ``train_batch_size``,
        ``lr`` and ``mc_validation``, which only this mode reads (changing
        them with ``"default"`` raises). Result folders written before the
        option existed trained with ``"early_stopping"``.
    hidden_sizes : tuple of int, default=(128, 128)
        Hidden widths of the MLP.
    batch_size : int, default=10
        Points acquired per round (b). The last round acquires fewer if the
        budget is not a multiple of b away.
    budget : int, default=150
        Labelled-set size at which a trial stops; at least ``n_initial`` plus
        one batch of ``batch_size``.
    n_initial : int, default=20
        Initial labels, balanced over classes (2 per class for 10 classes).
    fixed_initial : bool, default=False
        Use one initial set, drawn once from ``seed``, in every trial (as the
        paper did); False draws a new one per trial.
    n_trials : int, default=3
        Paired trials: within a trial every strategy sees the same split,
        initial set, noise and model seeds.
    seed : int, default=0
        Base seed; every other seed is derived from it and the trial number.
    first_trial : int, default=0
        Number of the first trial: trials ``first_trial`` to ``first_trial +
        n_trials - 1`` run. Trials keep their seeds whichever process runs
        them, so runs of different trials can be merged.
    n_mc_samples : int, default=20
        Posterior samples K drawn for acquisition; at least 2 for the
        strategies that score the samples' disagreement (those in
        ``SAMPLED``: BatchBALD, BALD, PowerBALD, Mean STD, EPIG, BatchEPIG).
    n_joint_samples : int, default=10_000
        Label configurations M of BatchBALD's sampled joint entropy.
    eval_mc_samples : int, default=5
        MC-dropout samples averaged for test predictions (and validation ones
        when ``mc_validation``).
    mc_validation : bool, default=True
        Early stopping only: score validation accuracy, which early stopping
        watches, with the MC average of ``eval_mc_samples`` samples; False
        uses the deterministic network (dropout off), as the paper's training
        loop does.
    pool_subsample : int or None, default=None
        Score only a random subset of this many pool points per round. On
        repeated data this hides the copies from each other; prefer
        ``pool_size``.
    pool_size : int or None, default=None
        Build the pool from this many training images (drawn per trial) before
        repeating them; None uses all that test and validation leave.
    validation_size : int, default=100
        Labelled images for early stopping (and, with the default training,
        the ``validation_accuracy`` column).
    validation_from_pool : bool, default=False
        Draw the validation images from the (repeated, noisy) pool, as the
        paper did for Repeated MNIST; False holds out original images that
        have no copy in the pool.
    test_size : int or None, default=500
        Test images, drawn per trial: from MNIST's official test set (None:
        all 10,000), or held out from digits (None: 500). They are never
        repeated and never in the pool.
    max_epochs : int, default=100
        Early stopping only: upper bound on epochs per round (early stopping
        usually ends sooner).
    patience : int, default=3
        Early stopping only: epochs without a better validation accuracy
        before stopping.
    epoch_size : int, default=1024
        Early stopping only: minimum samples per epoch; a small labelled set
        is repeated until an epoch holds at least this many, so that patience
        counts real progress.
    train_batch_size : int, default=64
        Early stopping only: minibatch size of training.
    lr : float, default=1e-3
        Early stopping only: Adam's learning rate.
    normalize : bool, default=False
        Standardise MNIST pixels with the data set's mean and standard
        deviation (MNIST: 0.1307, 0.3081) before the noise of repeated copies
        is added, as the paper did; False keeps pixels in [0, 1].
    n_repeats : int, default=3
        Copies per pool image of the repeated data sets.
    noise_std : float, default=0.1
        Gaussian noise added to each copy, in the units of the (possibly
        standardised) pixels.
    stop_accuracy : float or None, default=None
        End a learning curve early once its test accuracy reaches this (the
        paper stops MNIST at 0.96); None runs to the budget.
    thresholds : tuple of float or None, default=None
        Accuracies for the "labels needed" table; None: 0.80/0.85/0.90 on
        digits, 0.80/0.90/0.95 on MNIST.
    data_home : str or None, default=None
        Where MNIST is cached (scikit-learn's data home when None).

    Raises
    ------
    ValueError
        If an option is out of range; the message names it.
    TypeError
        If a count is not an integer.

    See Also
    --------
    run_experiment : Runs the experiment this describes.

    Notes
    -----
    Kirsch, van Amersfoort & Gal, "BatchBALD: Efficient and Diverse Batch
    Acquisition for Deep Bayesian Active Learning", NeurIPS 2019, Section 5.

    Examples
    --------
    >>> from skbatchbald.experiment import ExperimentConfig
    >>> config = ExperimentConfig(strategies=("batchbald", "random"), budget=60)
    >>> config.resolved_model, config.n_rounds
    ('mlp', 4)
    >>> ExperimentConfig(budget=25)
    Traceback (most recent call last):
    ...
    ValueError: budget must be an int >= 30, got 25; n_initial=20 plus one batch \
of batch_size=10 (raise budget or lower batch_size)
    """

    dataset: str = _option("repeated_digits", "the data", choices=DATASETS)
    strategies: tuple = _option(
        ("batchbald", "bald", "power_bald", "random"),
        "strategies to compare, from: " + ", ".join(STRATEGIES),
        metavar="NAME",
        choices=tuple(STRATEGIES),
        type=str,
    )
    model: str | None = _option(
        None, "network; None: mlp on digits, cnn on MNIST", choices=MODELS
    )
    training: str = _option(
        "default",
        "how each round trains: default (the classifier's recipe on the labels) "
        "or early_stopping (the paper's loop, on a validation set)",
        choices=TRAININGS,
    )
    hidden_sizes: tuple = _option((128, 128), "MLP widths", metavar="H", type=int)
    batch_size: int = _option(10, "points acquired per round (b)", flags=("-b",))
    budget: int = _option(150, "labelled-set size at which a trial stops")
    n_initial: int = _option(
        20,
        "balanced initial labels",
    )
    fixed_initial: bool = _option(
        False, "one initial set for every trial (drawn once from --seed)"
    )
    n_trials: int = _option(
        3,
        "paired trials",
    )
    seed: int = _option(0, "base seed of every trial")
    first_trial: int = _option(
        0, "number of the first trial; trials keep their seeds in any process"
    )
    n_mc_samples: int = _option(
        20, "posterior samples K for acquisition", flags=("-K",)
    )
    n_joint_samples: int = _option(
        10_000,
        "BatchBALD's sampled label configurations M",
        flags=("-M",),
    )
    eval_mc_samples: int = _option(
        5,
        "MC samples averaged for test (and MC validation) predictions",
    )
    mc_validation: bool = _option(
        True,
        "early stopping: score validation with the MC average; off: dropout off, "
        "as the paper",
    )
    pool_subsample: int | None = _option(
        None, "score only this many random pool points per round"
    )
    pool_size: int | None = _option(
        None, "build the pool from this many training images (before repeating)"
    )
    validation_size: int = _option(100, "validation images for early stopping")
    validation_from_pool: bool = _option(
        False, "draw validation from the noisy repeated pool, as the paper"
    )
    test_size: int | None = _option(
        500, "test images per trial; all of MNIST's 10,000 when not given"
    )
    max_epochs: int = _option(100, "early stopping: epochs per round at most")
    patience: int = _option(3, "early-stopping patience (epochs)")
    epoch_size: int = _option(
        1024, "early stopping: minimum samples per epoch (labelled set tiled)"
    )
    train_batch_size: int = _option(64, "early stopping: minibatch size of training")
    lr: float = _option(1e-3, "early stopping: Adam's learning rate")
    normalize: bool = _option(
        False, "standardise MNIST pixels before adding noise, as the paper"
    )
    n_repeats: int = _option(3, "copies per pool image of repeated data")
    noise_std: float = _option(0.1, "noise std added to each copy (pixel units)")
    stop_accuracy: float | None = _option(
        None, "end a curve once its test accuracy reaches this", metavar="ACC"
    )
    thresholds: tuple | None = _option(
        None,
        "accuracies of the summary tables, e.g. 0.8 0.9",
        metavar="ACC",
        type=float,
    )
    data_home: str | None = _option(
        None,
        "MNIST cache folder (scikit-learn's data home)",
        metavar="FOLDER",
        run_only=True,
    )

    def __post_init__(self):
        _check_choice("dataset", self.dataset, DATASETS, _OWN_DATA)
        strategies = self.strategies
        if isinstance(strategies, str) or not strategies:
            raise ValueError(
                f"strategies must be a non-empty list of names from "
                f"{', '.join(STRATEGIES)}; got {strategies!r}."
            )
        for name in strategies:
            _check_choice("each strategy", name, tuple(STRATEGIES))
        if len(set(strategies)) != len(strategies):
            raise ValueError(f"strategies must be distinct; got {list(strategies)}.")
        object.__setattr__(self, "strategies", tuple(strategies))
        _check_choice("training", self.training, TRAININGS)
        if self.model is not None:
            _check_choice("model", self.model, MODELS, _OWN_DATA)
        object.__setattr__(
            self,
            "hidden_sizes",
            tuple(
                _check_int(f"hidden_sizes[{i}]", h, 1)
                for i, h in enumerate(self.hidden_sizes)
            ),
        )
        _check_int("n_initial", self.n_initial, 1)
        _check_int("batch_size", self.batch_size, 1)
        # The paper's counting subtracts b from the set size: a budget short of
        # one whole batch would make it negative (and the first batch partial).
        _check_int(
            "budget",
            self.budget,
            self.n_initial + self.batch_size,
            f"n_initial={self.n_initial} plus one batch of "
            f"batch_size={self.batch_size} (raise budget or lower batch_size)",
        )
        for name in (
            "n_trials",
            "n_mc_samples",
            "n_joint_samples",
            "eval_mc_samples",
            "validation_size",
            "max_epochs",
            "patience",
            "epoch_size",
            "train_batch_size",
            "n_repeats",
        ):
            _check_int(name, getattr(self, name), 1)
        sampled = [name for name in strategies if name in SAMPLED]
        if sampled and self.n_mc_samples < 2:
            scores, them = (
                ("their scores measure", "them") if len(sampled) > 1 else
                ("its score measures", "it")
            )  # fmt: skip
            raise ValueError(
                f"n_mc_samples={self.n_mc_samples} is too few for "
                f"{', '.join(sampled)}: {scores} how posterior samples "
                "disagree, 0 for every pool point with one sample; pass "
                f"n_mc_samples >= 2 (-K 2) or leave {them} out."
            )
        _check_int("seed", self.seed, 0)
        _check_int("first_trial", self.first_trial, 0)
        for name in ("fixed_initial", "mc_validation", "validation_from_pool"):
            _check_bool(name, getattr(self, name))
        _check_bool("normalize", self.normalize)
        if self.normalize and not self.is_mnist:
            raise ValueError(
                "normalize=True standardises with the MNIST data sets' pixel "
                f"statistics; dataset={self.dataset!r} has none. Use an MNIST "
                "data set or normalize=False."
            )
        for name in ("pool_subsample", "pool_size", "test_size"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), 1, "or None for all")
        if self.pool_subsample is not None and self.pool_subsample < self.batch_size:
            raise ValueError(
                f"pool_subsample={self.pool_subsample} is smaller than "
                f"batch_size={self.batch_size}; raise it or use None (whole pool)."
            )
        for name in ("lr", "noise_std"):
            value = getattr(self, name)
            check_real(value, name, expected="a number >= 0", min_val=0.0)
        if self.lr == 0:
            raise ValueError("lr must be > 0; got 0. The paper uses 1e-3.")
        stop = self.stop_accuracy
        if stop is not None:
            check_real(
                stop,
                "stop_accuracy",
                expected="an accuracy in (0, 1] or None",
                min_val=0.0,
                max_val=1.0,
                min_open=True,
            )
        if self.thresholds is not None:
            thresholds = tuple(float(t) for t in self.thresholds)
            if not thresholds or not all(0 < t <= 1 for t in thresholds):
                raise ValueError(
                    f"thresholds must be accuracies in (0, 1], e.g. 0.9; got "
                    f"{self.thresholds!r}."
                )
            object.__setattr__(self, "thresholds", thresholds)
        self._check_training_options()

    def _check_training_options(self):
        """Refuse early-stopping options that the default recipe would ignore."""
        if self.training != "default":
            return
        fields = {f.name: f.default for f in dataclasses.fields(self)}
        changed = [
            name
            for name in EARLY_STOPPING_OPTIONS
            if getattr(self, name) != fields[name]
        ]
        if changed:
            raise ValueError(
                f"{', '.join(changed)} set the early-stopping loop, which "
                "training='default' does not use (it trains with "
                "MCDropoutClassifier's default recipe); add "
                "training='early_stopping' (--training early_stopping) or leave "
                f"{'them' if len(changed) > 1 else 'it'} out."
            )

    @property
    def is_mnist(self):
        """Whether the data are 28x28 MNIST-style images."""
        return self.dataset.endswith("mnist")

    @property
    def is_repeated(self):
        """Whether the pool holds noisy copies of every image."""
        return self.dataset.startswith("repeated")

    @property
    def resolved_model(self):
        """The network actually used: ``model``, or the data set's default."""
        if self.model is not None:
            return self.model
        return "cnn" if self.is_mnist else "mlp"

    @property
    def resolved_thresholds(self):
        """The accuracies of the "labels needed" table."""
        if self.thresholds is not None:
            return self.thresholds
        return _DEFAULT_THRESHOLDS["mnist" if self.is_mnist else "digits"]

    @property
    def n_rounds(self):
        """Acquisition rounds per trial and strategy (without early stops)."""
        return -(-(self.budget - self.n_initial) // self.batch_size)

    def ends_curve(self, round_, test_accuracy):
        """Whether a round ends its curve: the budget's round, or the stop accuracy.

        Parameters
        ----------
        round_ : int or pandas.Series of int
            Round numbers (0 is the initial set).
        test_accuracy : float or pandas.Series of float
            Their test accuracies.

        Returns
        -------
        ends : bool or pandas.Series of bool
            Elementwise for Series.
        """
        ends = round_ == self.n_rounds
        if self.stop_accuracy is not None:
            ends = ends | (test_accuracy >= self.stop_accuracy)
        return ends

    @property
    def trials(self):
        """The trial numbers this configuration runs."""
        return range(self.first_trial, self.first_trial + self.n_trials)

    def same_experiment(self, other):
        """List the options whose difference makes ``other``'s results incomparable.

        Parameters
        ----------
        other : ExperimentConfig
            Options of another run.

        Returns
        -------
        differences : dict of str to tuple
            Field name to ``(self's value, other's value)`` for every option
            that changes results. May differ: the trials run, the thresholds
            of the tables, the data folder, the order of the strategies,
            ``model=None`` and the model it stands for, and options the data
            set or model does not read (``n_repeats`` and ``noise_std`` off
            repeated data, ``hidden_sizes`` of a CNN).
        """
        ignored = {"n_trials", "first_trial", "thresholds"}
        ignored |= {
            f.name for f in dataclasses.fields(self) if f.metadata.get("run_only")
        }
        mine, theirs = self._results_options(), other._results_options()
        # Equal values never differ, even where one model reads them and the
        # other does not (the models' difference is listed).
        return {
            f.name: (getattr(self, f.name), getattr(other, f.name))
            for f in dataclasses.fields(self)
            if f.name not in ignored
            and mine[f.name] != theirs[f.name]
            and getattr(self, f.name) != getattr(other, f.name)
        }

    def _results_options(self):
        """Every option as it acts on the results: two configs whose values
        agree here give the same rows."""
        options = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        options["model"] = self.resolved_model
        # each strategy's rows depend on the trial's seeds, not on its place
        options["strategies"] = frozenset(self.strategies)
        if not self.is_repeated:
            options["n_repeats"] = options["noise_std"] = None
        if self.resolved_model != "mlp":
            options["hidden_sizes"] = None
        return options

    def to_dict(self):
        """Return the options as a JSON-friendly dict.

        Returns
        -------
        options : dict
            Field name to value; tuples become lists.
        """
        return {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_dict(cls, options):
        """Build a config from the output of :meth:`to_dict`.

        Parameters
        ----------
        options : dict
            Field name to value; lists become tuples. Unknown names raise;
            missing ones take their defaults, which are the values of runs
            made before the option existed, except ``training``: runs made
            before it existed trained with ``"early_stopping"``.

        Returns
        -------
        config : ExperimentConfig
            The validated configuration.
        """
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise ValueError(
                f"unknown experiment options {unknown}; known: {sorted(names)}."
            )
        options = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in options.items()
        }
        options.setdefault("training", "early_stopping")
        return cls(**options)
