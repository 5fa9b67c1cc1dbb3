"""MCDropoutClassifier: a skorch classifier that draws consistent MC-dropout samples."""

import contextlib
import copy
import itertools
import os
from collections.abc import Mapping

import joblib
import numpy as np
import torch
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d
from skorch import NeuralNetClassifier
from skorch.callbacks import EpochScoring
from skorch.dataset import get_len, unpack_data
from skorch.utils import is_dataset, multi_indexing, to_numpy, to_tensor

from ._labels import label_indices
from ._validation import check_n_mc_samples, check_random_state, spawn_seeds
from .acquisition._validation import check_max_memory
from .nn._engine import MCForward, n_rows
from .nn.dropout import active_layers, masked

__all__ = ["MCDropoutClassifier"]


def _accuracy_of_indices(net, X, y):
    """Accuracy against the *encoded* targets that skorch's datasets hold."""
    y = np.asarray(to_numpy(y) if isinstance(y, torch.Tensor) else y)
    return float(np.mean(net.predict_proba(X).argmax(axis=1) == y))


def _shards(n_pool, batch_size, n_jobs):
    """Contiguous (start, stop) row ranges, one per job, on batch boundaries.

    Whole batches per shard: each worker then sees the batches a single process
    would, so results do not depend on ``n_jobs``.
    """
    batch_size = n_pool if batch_size is None or batch_size <= 0 else batch_size
    n_batches = -(-n_pool // max(batch_size, 1))
    n_shards = max(1, min(n_jobs, n_batches))
    bounds = [n_batches * i // n_shards for i in range(n_shards + 1)]
    return [
        (lo * batch_size, min(n_pool, hi * batch_size))
        for lo, hi in itertools.pairwise(bounds)
    ]


def _sample_shard(net, X, n_mc_samples, seeds, max_memory, parent_pid):
    """One joblib task: the samples of one shard of the pool.

    In a worker process torch runs one intra-op thread, so that n_jobs workers
    share the cores without oversubscribing them; threads of the calling
    process (a threading backend) leave torch's process-wide setting alone and
    sample their own copy of the module.
    """
    if os.getpid() == parent_pid:
        # Threads of one process must not share the module: its hooks hold the
        # selected samples.
        module = copy.deepcopy(net.module_)
        return net._sample(X, n_mc_samples, seeds, max_memory, module)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return net._sample(X, n_mc_samples, seeds, max_memory)
    finally:
        torch.set_num_threads(threads)


class MCDropoutClassifier(NeuralNetClassifier):
    """A skorch classifier whose dropout network gives consistent posterior samples.

    A :class:`skorch.NeuralNetClassifier` for a module that returns logits and
    contains dropout layers. It accepts any labels (``classes_`` holds them,
    ``predict`` returns them), float64 arrays and pandas DataFrames, and fits a
    20-point labelled set with its defaults. ``predict_log_proba_samples`` returns
    K posterior samples drawn with consistent MC dropout: sample k uses one fixed
    set of dropout masks for every row. ``predict_proba`` averages
    ``n_mc_samples`` of them. All other parameters are skorch's
    (``max_epochs``, ``batch_size``, ``callbacks``, ``module__*``, ...).

    Parameters
    ----------
    module : torch.nn.Module class or instance
        The network, returning logits ``(N, n_classes)``, e.g.
        :class:`skbatchbald.nn.BayesianCNN`. Set its parameters with
        ``module__name=value``; the number of logits must equal ``len(classes_)``.
    *args
        Passed on to skorch's constructor, as skorch's own subclasses do; give
        every other parameter by keyword.
    n_mc_samples : int, default=20
        Number K of posterior samples averaged by ``predict_proba`` and drawn by
        ``predict_log_proba_samples`` when its ``n_mc_samples`` is None.
    mc_predict : bool, default=True
        If True, ``predict_proba`` is the MC average of consistent samples; if
        False, it is the deterministic network (eval mode, dropout off).
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds module initialisation and training (shuffling, training dropout)
        inside a forked torch RNG, so the global torch RNG is left unchanged, and
        the masks of ``predict_proba``. None uses the global torch RNG for
        training (skorch's behaviour) and fresh masks for each ``predict_proba``.
    max_memory : None, int or str, default=None
        Budget in bytes (or a string such as ``"512MB"``) for the activations
        of one sampling pass, the output excluded; the pool is sampled in
        passes of as many rows and samples as fit. None: ``min(1 GiB,
        available memory / 4)``.
    n_jobs : None or int, default=None
        Number of joblib workers that sample shards of the pool; None is one
        unless a ``joblib.parallel_config`` says otherwise, -1 all cores. Each
        worker process runs torch with one thread. Results do not depend on it.
    criterion : torch criterion class, default=torch.nn.CrossEntropyLoss
        Loss on logits.
    optimizer : torch optimizer class, default=torch.optim.Adam
        As in the BatchBALD paper.
    lr : float, default=1e-3
        Learning rate.
    train_split : None or callable, default=None
        No internal validation split, so tiny labelled sets fit. Pass, e.g.,
        ``skorch.dataset.ValidSplit(5, stratified=True)`` for early stopping;
        ``valid_acc`` is then computed with ``predict_proba``.
    **kwargs
        Any other :class:`skorch.NeuralNetClassifier` parameter, including
        ``classes`` (the full label list, needed when the labelled set misses
        some classes but the module has a logit for each).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, in the order of the module's logits.
    module_ : torch.nn.Module
        The fitted network.

    See Also
    --------
    skbatchbald.sampling.predict_log_proba_samples : One entry point for nets,
        pipelines, ensembles and modAL learners.
    skbatchbald.nn.consistent_dropout : How the masks are drawn.

    Notes
    -----
    Dropout at test time approximates the posterior predictive,
    p(y | x) ≈ (1/K) Σ_k p(y | x, ω_k), with ω_k the k-th dropout mask set
    (Gal & Ghahramani 2016). BatchBALD's joint mutual information needs the same
    ω_k for all pool points (consistent MC dropout; Kirsch, van Amersfoort & Gal
    2019, Fig. 7). Plain ``nn.Dropout``/``Dropout1d/2d/3d`` layers of any module
    are sampled consistently too; dropout called functionally inside
    ``forward`` is not seen. Validation data given via
    ``skorch.helper.predefined_split`` must hold encoded targets (indices into
    ``classes_``); ``ValidSplit`` needs nothing special.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from skbatchbald import MCDropoutClassifier
    >>> from skbatchbald.nn import BayesianMLP
    >>> X, y = load_digits(return_X_y=True)
    >>> labels = np.array(list("abcdefghij"))[y]
    >>> X_train, X_test, y_train, y_test = train_test_split(
    ...     X / 16, labels, train_size=300, stratify=y, random_state=0)
    >>> clf = MCDropoutClassifier(
    ...     BayesianMLP, module__n_features=64, max_epochs=40, batch_size=32,
    ...     iterator_train__shuffle=True, verbose=0, random_state=0,
    ... ).fit(X_train, y_train)
    >>> clf.classes_[:3]
    array(['a', 'b', 'c'], dtype='<U1')
    >>> clf.predict_log_proba_samples(X_test[:5], random_state=0).shape
    (5, 20, 10)
    >>> bool((clf.predict(X_test) == y_test).mean() > 0.85)
    True
    """

    def __init__(
        self,
        module,
        *args,
        n_mc_samples=20,
        mc_predict=True,
        random_state=None,
        max_memory=None,
        n_jobs=None,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        train_split=None,
        **kwargs,
    ):
        super().__init__(
            module,
            *args,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            train_split=train_split,
            **kwargs,
        )
        self.n_mc_samples = n_mc_samples
        self.mc_predict = mc_predict
        self.random_state = random_state
        self.max_memory = max_memory
        self.n_jobs = n_jobs

    @property
    def _default_callbacks(self):
        # skorch's "accuracy" scorer compares predict() (user labels) with the
        # dataset's encoded targets; score on indices instead.
        return [
            (
                name,
                EpochScoring(
                    _accuracy_of_indices, name="valid_acc", lower_is_better=False
                )
                if name == "valid_acc"
                else callback,
            )
            for name, callback in super()._default_callbacks
        ]

    @contextlib.contextmanager
    def _torch_rng(self):
        """Run a block on a forked torch RNG seeded from ``random_state``."""
        if self.random_state is None:
            yield
            return
        seed = int(check_random_state(self.random_state).integers(2**63 - 1))
        device = torch.device(self.device or "cpu")
        on_cpu = device.type == "cpu"
        with torch.random.fork_rng(
            devices=[] if on_cpu else None,
            device_type="cuda" if on_cpu else device.type,
        ):
            torch.manual_seed(seed)
            yield

    def _check_params(self):
        check_n_mc_samples(self.n_mc_samples)
        check_max_memory(self.max_memory)
        if not isinstance(self.mc_predict, (bool, np.bool_)):
            raise ValueError(
                f"mc_predict must be True (MC average) or False (deterministic "
                f"net), got {self.mc_predict!r}."
            )

    def _check_y(self, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} needs labels: got y=None; pass the "
                "labels of X as y."
            )
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        return y

    def _encode(self, y):
        """Map labels to indices 0..C-1 in ``classes_`` order (int64)."""
        classes = np.asarray(self.classes_)
        idx = label_indices(y, classes)
        unknown = idx < 0
        if np.any(unknown):
            raise ValueError(
                f"y contains labels {np.unique(y[unknown])[:10].tolist()} that are "
                f"not in classes_={classes.tolist()}; fit on all labels or pass "
                "classes=<all labels> to the constructor."
            )
        return idx

    def _as_float32(self, X):
        """Cast array-like X to float32; other skorch inputs pass unchanged."""
        if isinstance(X, torch.Tensor):
            X = X.float()
        elif hasattr(X, "columns") and hasattr(X, "to_numpy"):  # pandas DataFrame
            X = X.to_numpy(dtype=np.float32)
        elif isinstance(X, (np.ndarray, np.generic)) or np.isscalar(X):
            try:
                X = np.asarray(X, dtype=np.float32)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"X must be numeric, got an array of dtype {np.asarray(X).dtype}; "
                    "encode non-numeric features first (e.g. OneHotEncoder)."
                ) from exc
        else:
            return X  # dict, list/tuple of inputs, sparse: skorch's own handling
        if isinstance(X, np.ndarray) and not X.flags.writeable:
            X = X.copy()  # torch warns on read-only arrays (pandas copy-on-write)
        if X.ndim < 2:
            raise ValueError(
                f"X must have shape (n_samples, n_features, ...), got shape "
                f"{tuple(X.shape)}; use X.reshape(-1, 1) for a single feature."
            )
        is_tensor = isinstance(X, torch.Tensor)
        if not bool(torch.isfinite(X).all() if is_tensor else np.isfinite(X).all()):
            raise ValueError("X contains NaN or infinity; impute or drop those rows.")
        return X

    def get_dataset(self, X, y=None):
        """Wrap X (cast to float32) and encoded y in skorch's dataset."""
        if not is_dataset(X):
            X = self._as_float32(X)
        return super().get_dataset(X, y)

    def check_data(self, X, y):
        """Do nothing: ``classes_`` come from the user's labels in ``fit``.

        skorch's own check would infer them from the encoded targets.
        """

    def _check_logits(self, shape):
        """ValueError unless one sample's outputs are ``(batch, n_classes)``.

        The one check, for training (``get_loss``) and for sampling.
        """
        n_classes = len(self.classes_)
        if len(shape) != 2 or shape[1] != n_classes:
            raise ValueError(
                f"the module returns outputs of shape {tuple(shape)} but there are "
                f"{n_classes} classes; it must return (batch, {n_classes}) logits. "
                f"Set module__n_classes={n_classes}, or pass classes=<all labels> "
                "if the labelled set misses some classes."
            )

    def get_loss(self, y_pred, y_true, *args, **kwargs):
        """Cross-entropy on logits, after checking one logit per class."""
        if isinstance(y_pred, torch.Tensor):
            self._check_logits(tuple(y_pred.shape))
        return super().get_loss(y_pred, y_true, *args, **kwargs)

    def initialize(self):
        """Initialise module, criterion and optimizer (seeded by random_state)."""
        with self._torch_rng():
            return super().initialize()

    def fit(self, X, y, **fit_params):
        """Initialise and fit the module on X and labels y of any type.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Cast to float32; DataFrames are converted with ``to_numpy``.
        y : array-like of shape (n_samples,)
            Labels (strings, ints, ...); ``classes_`` becomes their sorted
            unique values unless ``classes`` was given.
        **fit_params : dict
            Passed to skorch's ``fit``.

        Returns
        -------
        self : MCDropoutClassifier
            The fitted classifier.
        """
        self._check_params()
        y = self._check_y(y)
        self.classes_inferred_ = np.unique(y)
        return super().fit(X, y, **fit_params)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train further on X, y without re-initialising the module.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training inputs.
        y : array-like of shape (n_samples,)
            Labels, all in ``classes_``.
        classes : array-like, default=None
            All labels; used on the first call if ``classes`` was not given to
            the constructor.
        **fit_params : dict
            Passed to skorch's ``partial_fit``.

        Returns
        -------
        self : MCDropoutClassifier
            The fitted classifier.
        """
        y = self._check_y(y)
        if self.classes is None and not hasattr(self, "classes_inferred_"):
            self.classes_inferred_ = np.unique(y if classes is None else classes)
        with self._torch_rng():
            return super().partial_fit(X, self._encode(y), **fit_params)

    def _log_probs(self):
        """Return a function from module outputs to log-probabilities (B, C)."""
        criterion = getattr(self.criterion_, "_orig_mod", self.criterion_)
        if self.predict_nonlinearity == "auto" and isinstance(
            criterion, torch.nn.CrossEntropyLoss
        ):
            return lambda logits: torch.log_softmax(logits.float(), dim=-1)
        nonlin = self._get_predict_nonlinearity()

        def log_of_probabilities(output):
            proba = nonlin(output).float()
            if not (
                (proba >= 0).all()
                and torch.allclose(proba.sum(-1), torch.ones(()), atol=1e-3)
            ):
                raise ValueError(
                    "the module's outputs after predict_nonlinearity are not "
                    "probabilities (rows must be >= 0 and sum to 1); return logits "
                    "with criterion=torch.nn.CrossEntropyLoss (the default)."
                )
            return torch.log(proba)

        return log_of_probabilities

    def predict_log_proba_samples(
        self, X, n_mc_samples=None, random_state=None, *, max_memory=None, n_jobs=None
    ):
        """Draw K consistent MC-dropout samples of the class log-probabilities.

        The module is put in eval mode (BatchNorm keeps its running statistics)
        and each dropout layer applies mask set k to every row, under
        ``torch.no_grad()``; all modes are restored afterwards. X is streamed in
        batches of ``batch_size`` rows. Per batch, the layers before the first
        sampled dropout layer run once, and the K samples are folded into the
        batch from that layer on; a module with an ``mc_forward`` method (such
        as :class:`~skbatchbald.nn.BayesianCNN`) computes them its own faster
        way. Passes are cut to ``max_memory``; a module whose layers break the
        folding gets one forward pass per sample, with a ``RuntimeWarning``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Pool inputs.
        n_mc_samples : int, default=None
            Number K of posterior samples; None uses ``n_mc_samples``.
        random_state : None, int, numpy.random.Generator or RandomState, default=None
            Source of the dropout masks. The same value gives the same samples.
        max_memory : None, int or str, default=None
            Overrides the ``max_memory`` parameter for this call.
        n_jobs : None or int, default=None
            Overrides the ``n_jobs`` parameter for this call.

        Returns
        -------
        log_probs : ndarray of shape (n_samples, n_mc_samples, n_classes), float32
            ``log p(y = c | x_n, ω_k)``, classes in ``classes_`` order.

        Raises
        ------
        NotFittedError
            If the classifier is not fitted.
        ValueError
            If the module has no dropout layer (all samples would be identical),
            or ``max_memory`` cannot hold one row and one sample.

        See Also
        --------
        skbatchbald.sampling.predict_log_proba_samples : The same for any
            supported estimator.

        Notes
        -----
        Consistent MC dropout (Kirsch, van Amersfoort & Gal 2019, Fig. 7) on top
        of MC dropout (Gal & Ghahramani 2016): a row's k-th sample does not depend
        on its batch, the batch size, the row order, ``max_memory`` or
        ``n_jobs`` (up to float rounding): mask set k is a function of
        ``random_state`` and k only.

        Examples
        --------
        >>> import numpy as np
        >>> from skbatchbald import MCDropoutClassifier
        >>> from skbatchbald.nn import BayesianMLP
        >>> rng = np.random.default_rng(0)
        >>> X, y = rng.normal(size=(20, 4)), np.repeat(["no", "yes"], 10)
        >>> clf = MCDropoutClassifier(BayesianMLP, module__n_features=4,
        ...     module__n_classes=2, verbose=0, random_state=0).fit(X, y)
        >>> lp = clf.predict_log_proba_samples(X, n_mc_samples=5, random_state=1)
        >>> lp.shape, lp.dtype
        ((20, 5, 2), dtype('float32'))
        >>> same = clf.predict_log_proba_samples(
        ...     X[::-1], n_mc_samples=5, random_state=1)
        >>> bool(np.allclose(lp, same[::-1], atol=1e-6))
        True
        """
        self.check_is_fitted()
        n_mc_samples = check_n_mc_samples(
            self.n_mc_samples if n_mc_samples is None else n_mc_samples
        )
        max_memory = check_max_memory(
            self.max_memory if max_memory is None else max_memory
        )
        n_jobs = self.n_jobs if n_jobs is None else n_jobs
        active = active_layers(
            self.module_,
            n_mc_samples,
            advice="Or set mc_predict=False for a deterministic predict_proba "
            "(acquisition then needs an ensemble).",
        )
        # Masks are a function of these seeds only: every shard draws the same.
        seeds = spawn_seeds(random_state, len(active))
        n_pool = len(X) if is_dataset(X) else get_len(X)
        batch_size = self.get_params_for("iterator_valid").get(
            "batch_size", self.batch_size
        )
        shards = _shards(n_pool, batch_size, joblib.effective_n_jobs(n_jobs))
        if len(shards) <= 1:
            return self._sample(X, n_mc_samples, seeds, max_memory)
        parts = joblib.Parallel(n_jobs=n_jobs)(
            joblib.delayed(_sample_shard)(
                self,
                multi_indexing(X, slice(start, stop)),
                n_mc_samples,
                seeds,
                max_memory // len(shards),
                os.getpid(),
            )
            for start, stop in shards
        )
        return np.concatenate(parts)

    def _sample(self, X, n_mc_samples, seeds, max_memory, module=None):
        """(N, K, C) log-probabilities of X by ``module`` (``module_``)."""
        module = self.module_ if module is None else module
        dataset = self.get_dataset(X)
        n_classes = len(self.classes_)
        log_probs = np.empty((len(dataset), n_mc_samples, n_classes), dtype=np.float32)
        to_log_probs = self._log_probs()

        def forward(x):  # skorch's infer, on the given module
            output = module(**x) if isinstance(x, Mapping) else module(x)
            return output[0] if isinstance(output, tuple) else output

        start = 0
        with torch.no_grad(), masked(module, n_mc_samples, seeds) as masks:
            engine = MCForward(module, masks, forward, max_memory)
            for batch in self.get_iterator(dataset, training=False):
                Xi, _ = unpack_data(batch)
                Xi = to_tensor(Xi, device=self.device)
                for rows, k, output in engine(Xi):
                    n, m = output.shape[:2]  # (rows, samples, n_classes)
                    self._check_logits(tuple(output.shape[:1] + output.shape[2:]))
                    lp = to_log_probs(output.reshape(n * m, n_classes))
                    rows = slice(start + rows.start, start + rows.stop)
                    log_probs[rows, k : k + m] = to_numpy(lp).reshape(n, m, n_classes)
                start += n_rows(Xi)
        return log_probs

    def predict_proba(self, X):
        """Return class probabilities, the MC average of consistent samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float32
            ``(1/K) Σ_k p(y | x, ω_k)`` with K = ``n_mc_samples`` and masks from
            ``random_state``; the deterministic network if ``mc_predict=False``.
        """
        self._check_params()
        if not self.mc_predict:
            return super().predict_proba(X)
        log_probs = self.predict_log_proba_samples(X, random_state=self.random_state)
        return np.exp(log_probs.astype(np.float64)).mean(axis=1).astype(np.float32)

    def predict(self, X):
        """Return the label of highest ``predict_proba`` for each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return np.asarray(self.classes_)[proba.argmax(axis=1)]
