"""The configuration of an experiment: every option, validated, with presets."""

import dataclasses
from numbers import Integral, Real

__all__ = ["DATASETS", "MODELS", "PRESETS", "STRATEGIES", "ExperimentConfig"]

# Command-line name -> class in skbatchbald.query (imported only when a run starts,
# so that `skbatchbald --help` stays fast).
STRATEGIES = {
    "batchbald": "BatchBALDQuery",
    "bald": "BALDQuery",
    "powerbald": "PowerBALDQuery",
    "maxentropy": "MaxEntropyQuery",
    "varratios": "VarRatiosQuery",
    "meanstd": "MeanSTDQuery",
    "random": "RandomQuery",
}
DATASETS = ("repeated_digits", "digits", "repeated_mnist", "mnist", "fashion_mnist")
MODELS = ("mlp", "cnn")

# Accuracies whose "labels needed" the summary reports, when none are given.
_DEFAULT_THRESHOLDS = {"digits": (0.80, 0.85, 0.90), "mnist": (0.80, 0.90, 0.95)}

PRESETS = {
    # `make demo`: the four strategies of the issue on Repeated digits, sized to
    # finish in a few minutes on a 2-core laptop.
    "demo": {
        "dataset": "repeated_digits",
        "strategies": ("batchbald", "bald", "powerbald", "random"),
        "batch_size": 10,
        "budget": 150,
        "n_trials": 3,
    },
}


def _check_int(name, value, low, hint=""):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        message = f"{name} must be an integer >= {low}; got {value!r}."
        raise ValueError(f"{message} {hint}" if hint else message)
    return int(value)


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")
    return value


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """All options of an active-learning experiment, checked on creation.

    The defaults follow the BatchBALD paper's protocol on Repeated digits: a
    fresh network each round trained with Adam (lr 1e-3) and early stopping on
    validation accuracy (patience 3, best weights restored), 20 initial labels
    balanced over the classes, b = 10 points acquired per round up to the
    label budget, several paired trials.

    Parameters
    ----------
    dataset : {"repeated_digits", "digits", "repeated_mnist", "mnist", \
"fashion_mnist"}, default="repeated_digits"
        The data. Repeated sets hold ``n_repeats`` noisy copies of every pool
        image; test and validation images are never repeated.
    strategies : tuple of str, default=("batchbald", "bald", "powerbald", "random")
        Names from :data:`STRATEGIES`, compared on the same trials.
    model : {"mlp", "cnn"} or None, default=None
        :class:`~skbatchbald.nn.BayesianMLP` or :class:`~skbatchbald.nn.BayesianCNN`;
        None: the MLP for digits, the paper's CNN for MNIST.
    hidden_sizes : tuple of int, default=(128, 128)
        Hidden widths of the MLP.
    batch_size : int, default=10
        Points acquired per round (b). The last round acquires fewer if the
        budget is not a multiple of b away.
    budget : int, default=150
        Labelled-set size at which a trial stops.
    n_initial : int, default=20
        Initial labels, balanced over classes (2 per class for 10 classes).
    n_trials : int, default=3
        Paired trials: within a trial every strategy sees the same split,
        initial set, noise and model seeds.
    seed : int, default=0
        Base seed; every other seed is derived from it and the trial number.
    first_trial : int, default=0
        Number of the first trial: trials ``first_trial`` to ``first_trial +
        n_trials - 1`` run, so that several processes can share one long
        experiment and their tables be concatenated.
    n_mc_samples : int, default=20
        Posterior samples K drawn for acquisition.
    n_joint_samples : int, default=10_000
        Label configurations M of BatchBALD's sampled joint entropy.
    eval_mc_samples : int, default=5
        MC-dropout samples averaged for validation and test predictions.
    pool_subsample : int or None, default=None
        Score only a random subset of this many pool points per round. On
        repeated data this hides the copies from each other; prefer
        ``pool_size``.
    pool_size : int or None, default=None
        Build the pool from this many training images (drawn per trial) before
        repeating them; None uses all that test and validation leave.
    validation_size : int, default=100
        Held-out labelled images for early stopping.
    test_size : int or None, default=500
        Test images, drawn per trial: from MNIST's official test set (None:
        all 10,000), or held out from digits (None: 500). They are never
        repeated and never in the pool.
    max_epochs : int, default=100
        Upper bound on epochs per round (early stopping usually ends sooner).
    patience : int, default=3
        Epochs without a better validation accuracy before stopping.
    epoch_size : int, default=1024
        Minimum samples per epoch: a small labelled set is repeated until an
        epoch holds at least this many, so that patience counts real progress.
    train_batch_size : int, default=64
        Minibatch size of training.
    lr : float, default=1e-3
        Adam's learning rate.
    n_repeats : int, default=3
        Copies per pool image of the repeated data sets.
    noise_std : float, default=0.1
        Gaussian noise added to each copy (pixels in [0, 1]).
    thresholds : tuple of float or None, default=None
        Accuracies for the "labels needed" table; None: 0.80/0.85/0.90 on
        digits, 0.80/0.90/0.95 on MNIST.
    data_home : str or None, default=None
        Where MNIST is cached (scikit-learn's data home when None).

    Raises
    ------
    ValueError
        If an option is out of range; the message names it.

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
    >>> ExperimentConfig(budget=10)
    Traceback (most recent call last):
    ...
    ValueError: budget must be an integer >= 21 (more than n_initial=20); got 10.
    """

    dataset: str = "repeated_digits"
    strategies: tuple = ("batchbald", "bald", "powerbald", "random")
    model: str | None = None
    hidden_sizes: tuple = (128, 128)
    batch_size: int = 10
    budget: int = 150
    n_initial: int = 20
    n_trials: int = 3
    seed: int = 0
    first_trial: int = 0
    n_mc_samples: int = 20
    n_joint_samples: int = 10_000
    eval_mc_samples: int = 5
    pool_subsample: int | None = None
    pool_size: int | None = None
    validation_size: int = 100
    test_size: int | None = 500
    max_epochs: int = 100
    patience: int = 3
    epoch_size: int = 1024
    train_batch_size: int = 64
    lr: float = 1e-3
    n_repeats: int = 3
    noise_std: float = 0.1
    thresholds: tuple | None = None
    data_home: str | None = None

    def __post_init__(self):
        _check_choice("dataset", self.dataset, DATASETS)
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
        if self.model is not None:
            _check_choice("model", self.model, MODELS)
        object.__setattr__(
            self,
            "hidden_sizes",
            tuple(
                _check_int(f"hidden_sizes[{i}]", h, 1)
                for i, h in enumerate(self.hidden_sizes)
            ),
        )
        _check_int("n_initial", self.n_initial, 1)
        if (
            isinstance(self.budget, bool)
            or not isinstance(self.budget, Integral)
            or self.budget <= self.n_initial
        ):
            raise ValueError(
                f"budget must be an integer >= {self.n_initial + 1} (more than "
                f"n_initial={self.n_initial}); got {self.budget!r}."
            )
        for name in (
            "batch_size",
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
        _check_int("seed", self.seed, 0)
        _check_int("first_trial", self.first_trial, 0)
        for name in ("pool_subsample", "pool_size", "test_size"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), 1, "Or None for all.")
        if self.pool_subsample is not None and self.pool_subsample < self.batch_size:
            raise ValueError(
                f"pool_subsample={self.pool_subsample} is smaller than "
                f"batch_size={self.batch_size}; raise it or use None (whole pool)."
            )
        for name in ("lr", "noise_std"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, Real) or value < 0:
                raise ValueError(f"{name} must be a number >= 0; got {value!r}.")
        if self.lr == 0:
            raise ValueError("lr must be > 0; got 0. The paper uses 1e-3.")
        if self.thresholds is not None:
            thresholds = tuple(float(t) for t in self.thresholds)
            if not thresholds or not all(0 < t <= 1 for t in thresholds):
                raise ValueError(
                    f"thresholds must be accuracies in (0, 1], e.g. 0.9; got "
                    f"{self.thresholds!r}."
                )
            object.__setattr__(self, "thresholds", thresholds)

    @property
    def is_mnist(self):
        """Whether the data are 28x28 MNIST-style images."""
        return self.dataset.endswith("mnist")

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
        """Acquisition rounds per trial and strategy."""
        return -(-(self.budget - self.n_initial) // self.batch_size)

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
            Field name to value; lists become tuples. Unknown names raise.

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
        return cls(
            **{
                key: tuple(value) if isinstance(value, list) else value
                for key, value in options.items()
            }
        )
