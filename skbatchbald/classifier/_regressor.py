"""MCDropoutRegressor: a skorch regressor that draws consistent MC-dropout samples.

The classifier's machinery, reused: the dropout masks (``nn.dropout.masked``),
the sampling engine (``nn._engine.MCForward``), the seeds, the locks and the
``n_jobs`` shards. Only what a regression output is differs.
"""

import copy
import os
from collections.abc import Mapping

import joblib
import numpy as np
import torch
from skorch import NeuralNetRegressor
from skorch.utils import to_numpy, to_tensor

from .._arrays import base_dataset
from .._memory import check_max_memory
from .._pickled_version import VersionedPickle
from .._validation import (
    check_n_mc_samples,
    check_random_state,
    check_real,
    nonfinite_rows_message,
    spawn_seeds,
)
from ..nn._engine import MCForward
from ..nn.dropout import active_layers, masked
from ._fit_params import check_fit_params
from ._inputs import check_device, takes_n_classes
from ._locks import lock_of
from ._outputs import refuse_tuple_outputs
from ._saved_state import ModuleWithRegressorState
from ._seeded import SeededNetMixin
from ._shards import check_shards_can_unpickle, pool_shards, sample_shard
from ._stream import array_blocks

__all__ = ["MCDropoutRegressor"]

# With noise_variance="auto", the fitted noise never goes below this fraction of
# the targets' variance: a net that interpolates its few labels would otherwise
# claim noise 0, and with it infinite information per label.
_NOISE_FLOOR = 1e-6


def regression_targets(y, owner):
    """y as float32 of shape (n, 1), with a ValueError naming the fix if it is not."""
    if isinstance(y, torch.Tensor):
        y = to_numpy(y)
    y = np.asarray(y)
    if y.dtype.kind not in "iufb":
        raise ValueError(
            f"{owner} got targets of dtype {y.dtype} (e.g. class labels "
            f"{np.unique(y)[:3].tolist()}); a regressor needs numbers. For class "
            "labels use a classifier (MCDropoutClassifier)."
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"{owner} supports one target per row (y of shape (n_samples,)), got "
            f"shape {y.shape}; multi-output regression is not supported."
        )
    if not np.isfinite(y.astype(np.float64)).all():
        row = int(np.flatnonzero(~np.isfinite(y.astype(np.float64)))[0])
        raise ValueError(
            f"y holds NaN or inf (first at row {row}): every labelled row needs "
            "a finite target. Drop the rows without a label before fitting."
        )
    return y.astype(np.float32).reshape(-1, 1)


def _as_float32(X, owner):
    """A numeric array (or CPU tensor) of X, float32, checked finite and >= 2-d."""
    if isinstance(X, torch.utils.data.Dataset):
        name = type(base_dataset(X)).__name__
        raise ValueError(
            f"{owner} takes arrays, not a torch Dataset ({name}): "
            "it fits its noise variance and samples on rows of one array. Pass "
            "the inputs as an array, e.g. np.stack([np.asarray(x) for x, _ in "
            "dataset]), or their embeddings."
        )
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    elif hasattr(X, "to_numpy"):  # pandas
        X = X.to_numpy()
    try:
        X = np.asarray(X, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{owner} needs numeric inputs; encode non-numeric features first ({exc})."
        ) from exc
    if X.ndim < 2 or X.shape[0] == 0:
        raise ValueError(
            f"X must have shape (n_samples, n_features, ...) with at least one "
            f"row, got shape {X.shape}."
        )
    if not np.isfinite(X).all():
        raise ValueError(nonfinite_rows_message(X))
    return X


class MCDropoutRegressor(VersionedPickle, SeededNetMixin, NeuralNetRegressor):
    """A skorch regressor whose dropout network gives consistent posterior samples.

    A :class:`skorch.NeuralNetRegressor` for a module with dropout layers and
    one output per row. ``predict_samples`` returns K posterior samples of the
    prediction drawn with consistent MC dropout (sample k uses one fixed set of
    dropout masks for every row), the input of
    :func:`skbatchbald.acquisition.batchbald_regression`; ``predict`` averages
    ``n_mc_samples`` of them with masks fixed at fit time. All other
    parameters are skorch's.

    With ``normalize_y=True`` (the default) the network learns standardised
    targets, (y - mean) / std of the training targets, whatever their scale;
    every output is in y's units: ``predict``, ``predict_samples``,
    ``noise_variance_``, ``score``, ``forward`` and ``infer``. Only the losses
    (``history``, and what a callback reads from it) are on the standardised
    scale. Acquisition scores compare the spread of the samples with the
    noise, both in y's units, so rescaling y changes no pick.

    Parameters
    ----------
    module : torch.nn.Module class or instance
        The network, returning ``(N, 1)`` (or ``(N,)``) predictions, e.g.
        :class:`skbatchbald.nn.BayesianMLP`: a module class whose constructor
        takes ``n_classes`` gets ``n_classes=1`` unless
        ``module__n_classes`` is set. An instance is the starting point: every
        initialisation trains a copy of it from its weights, as in
        :class:`~skbatchbald.MCDropoutClassifier`.
    *args
        Passed on to skorch's constructor; give every other parameter by
        keyword.
    n_mc_samples : int, default=20
        Number K of posterior samples averaged by ``predict`` and drawn by
        ``predict_samples`` when its ``n_mc_samples`` is None.
    normalize_y : bool, default=True
        Train the network on the targets standardised by the mean and
        standard deviation of the training targets (a constant y: its value,
        and scale 1), kept in ``y_mean_`` and ``y_scale_``; outputs are
        mapped back to y's units. With the default learning rate and epochs a
        network fits targets of order 1: on raw targets such as diabetes
        progression (25 to 346) it predicts far too small values. False
        trains on y as given (``y_mean_ = 0``, ``y_scale_ = 1``), as before
        the parameter existed; a y already standardised, by hand or by a
        :class:`~sklearn.compose.TransformedTargetRegressor`, gives nearly
        the same fit either way. The scaling is set by the fit that
        initialises the network and kept by ``partial_fit`` and warm-started
        fits, whose network was trained for it.
    noise_variance : "auto" or float, default="auto"
        Variance σ² of the Gaussian observation noise, y = f(x) + ε,
        ε ~ N(0, σ²), in squared units of y (whatever ``normalize_y``), kept
        in ``noise_variance_`` for the acquisition functions. A number fixes
        it. "auto" fits it by maximum likelihood after training: the mean
        squared residual of the deterministic network (dropout off) on the
        training data, floored at 1e-6 times the targets' variance. Training
        minimises the squared error, which is the Gaussian negative
        log-likelihood for any fixed σ², so the two together are the Gaussian
        maximum-likelihood fit.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds module initialisation, training (shuffling, training dropout) and
        ``prediction_seed_``. Set, no call reads or changes the global numpy or
        torch generators.
    max_memory : None, int or str, default=None
        Budget in bytes (or a string such as ``"512MB"``) for the activations
        of one sampling pass. None: ``min(1 GiB, available memory / 4)``.
    n_jobs : None or int, default=None
        Number of joblib workers that sample shards of the pool. Results do not
        depend on it. The module's class must be importable by the worker
        processes (not defined in ``__main__`` or inside a function).
    criterion : torch criterion class, default=torch.nn.MSELoss
        The squared error (the Gaussian likelihood with fixed noise).
    optimizer : torch optimizer class, default=torch.optim.Adam
        The optimizer.
    lr : float, default=1e-3
        Learning rate.
    max_epochs : int, default=200
        Epochs per fit.
    iterator_train__shuffle : bool, default=True
        Reshuffle the training rows every epoch.
    train_split : None or callable, default=None
        No internal validation split, so tiny labelled sets fit.
    **kwargs
        Any other :class:`skorch.NeuralNetRegressor` parameter.

    Attributes
    ----------
    module_ : torch.nn.Module
        The fitted network (a copy of a ``module`` instance, never the
        instance itself).
    noise_variance_ : float
        The noise variance σ², fixed or fitted (see ``noise_variance``), in
        squared units of y.
    y_mean_ : float
        Mean of the training targets the network was fitted for (0.0 with
        ``normalize_y=False``).
    y_scale_ : float
        Their standard deviation (1.0 with ``normalize_y=False`` or a
        constant y).
    prediction_seed_ : int
        Seed of the dropout masks of ``predict``. ``save_params`` and
        pickling keep it with ``y_mean_``, ``y_scale_`` and
        ``noise_variance_`` (``save_params`` not with
        ``use_safetensors=True``, which stores tensors only).

    See Also
    --------
    skbatchbald.MCDropoutClassifier : The same for class labels.
    skbatchbald.sampling.predict_samples : Samples of any supported regressor.

    Notes
    -----
    Consistency is the classifier's (Kirsch, van Amersfoort & Gal 2019,
    Fig. 7): mask set k is a function of the seed and k only, so a row's k-th
    sample does not depend on its batch, the order of the pool, ``max_memory``
    or ``n_jobs`` (up to float rounding), and a pool sampled in chunks gives
    the samples of one call. Inputs are numeric arrays, DataFrames or CPU
    tensors; targets one finite number per row.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald import MCDropoutRegressor
    >>> from skbatchbald.nn import BayesianMLP
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=40)
    >>> reg = MCDropoutRegressor(BayesianMLP, module__n_features=3, max_epochs=50,
    ...     verbose=0, random_state=0).fit(X, y)
    >>> samples = reg.predict_samples(X[:5], n_mc_samples=8, random_state=1)
    >>> samples.shape, reg.predict(X[:5]).shape
    ((5, 8), (5,))
    >>> same = reg.predict_samples(X[:5][::-1], n_mc_samples=8, random_state=1)
    >>> bool(np.allclose(samples, same[::-1], atol=1e-6))
    True
    """

    def __init__(
        self,
        module,
        *args,
        n_mc_samples=20,
        normalize_y=True,
        noise_variance="auto",
        random_state=None,
        max_memory=None,
        n_jobs=None,
        criterion=torch.nn.MSELoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=200,
        iterator_train__shuffle=True,
        train_split=None,
        **kwargs,
    ):
        super().__init__(
            module,
            *args,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            iterator_train__shuffle=iterator_train__shuffle,
            train_split=train_split,
            **kwargs,
        )
        self.n_mc_samples = n_mc_samples
        self.normalize_y = normalize_y
        self.noise_variance = noise_variance
        self.random_state = random_state
        self.max_memory = max_memory
        self.n_jobs = n_jobs

    def _check_params(self):
        check_n_mc_samples(self.n_mc_samples)
        check_max_memory(self.max_memory)
        check_random_state(self.random_state)
        check_device(self.device)
        if not isinstance(self.normalize_y, (bool, np.bool_)):
            raise TypeError(
                f"normalize_y must be True or False, got {self.normalize_y!r}."
            )
        if not (isinstance(self.noise_variance, str) and self.noise_variance == "auto"):
            if isinstance(self.noise_variance, str):
                raise ValueError(
                    f'noise_variance must be "auto" or a number > 0, got '
                    f"{self.noise_variance!r}."
                )
            check_real(
                self.noise_variance,
                "noise_variance",
                expected='"auto" or a finite number > 0',
                min_val=0.0,
                min_open=True,
                finite=True,
            )

    def initialize(self):
        """Initialise the net; the next (partial) fit sets the target scaling.

        Returns
        -------
        self : MCDropoutRegressor
            The initialised regressor.
        """
        super().initialize()
        # A fresh network was trained for no scaling yet: the next fit's y
        # sets it, not the previous fit's.
        for name in ("y_mean_", "y_scale_"):
            self.__dict__.pop(name, None)
        return self

    def _get_module(self, name, msg):
        # save_params/load_params: the module's state carries the target
        # scaling, without which a fresh net would predict standardised values
        module = super()._get_module(name, msg)
        if name in ("module", "module_"):
            return ModuleWithRegressorState(self, module)
        return module

    def _target_scaling(self):
        """(mean, scale) from the network's outputs to y's units.

        The identity before a fit sets them, such as for a net initialised
        to load weights saved without them.
        """
        return getattr(self, "y_mean_", 0.0), getattr(self, "y_scale_", 1.0)

    def _set_target_scaling(self, y):
        """Set ``y_mean_`` and ``y_scale_`` from the float32 targets (n, 1)."""
        if not self.normalize_y:
            self.y_mean_, self.y_scale_ = 0.0, 1.0
            return
        y = y.astype(np.float64)
        mean, scale = float(y.mean()), float(y.std())
        # A constant y has std 0 (its float32 values are equal, so their mean
        # is exact); a subnormal one would overflow the division in float32.
        if not scale >= np.finfo(np.float32).tiny:
            scale = 1.0
        self.y_mean_, self.y_scale_ = mean, scale

    def infer(self, x, **fit_params):
        """The module's output on one batch, in y's units.

        Parameters
        ----------
        x : torch.Tensor or Mapping
            The batch's inputs.
        **fit_params : dict
            Passed to skorch's ``infer``.

        Returns
        -------
        y_infer : torch.Tensor or tuple
            The module's output times ``y_scale_`` plus ``y_mean_`` (a tuple
            of outputs as the module returns it, refused by ``get_loss``).
        """
        output = super().infer(x, **fit_params)
        mean, scale = self._target_scaling()
        if not isinstance(output, torch.Tensor) or (mean, scale) == (0.0, 1.0):
            return output
        return output * scale + mean

    def get_params_for(self, prefix):
        """Return skorch's parameters for ``prefix``, with ``n_classes=1`` implied.

        Parameters
        ----------
        prefix : str
            A component, such as ``"module"`` or ``"iterator_train"``.

        Returns
        -------
        params : dict
            The ``<prefix>__<name>`` parameters, without the prefix.
        """
        params = super().get_params_for(prefix)
        if (
            prefix == "module"
            and "n_classes" not in params
            and takes_n_classes(self.module)
        ):
            params["n_classes"] = 1  # one output: the prediction
        return params

    def get_loss(self, y_pred, y_true, *args, **kwargs):
        """The criterion on one batch, on the standardised scale.

        The module's output shape is checked first. Predictions and targets,
        both in y's units, are standardised by ``y_mean_`` and ``y_scale_``
        (see ``normalize_y``) before the criterion sees them, so that every
        batch the loss is given (training, and validation sets of any
        ``train_split``) is scored on the scale the network learns.

        Parameters
        ----------
        y_pred : torch.Tensor
            The predictions in y's units (``infer``'s), ``(B, 1)`` or ``(B,)``.
        y_true : torch.Tensor
            The targets, ``(B, 1)`` or ``(B,)`` (a validation set's).
        *args, **kwargs
            Passed to skorch's ``get_loss``.

        Returns
        -------
        loss : torch.Tensor
            The loss.
        """
        criterion = getattr(self, "criterion_", None)
        refuse_tuple_outputs(
            y_pred,
            getattr(criterion, "_orig_mod", criterion),  # unwrapped from compile
            type(self).__name__,
            what="predictions",
        )
        if tuple(y_pred.shape[1:]) not in ((), (1,)):
            raise ValueError(
                f"the module {type(self.module_).__name__} returns outputs of "
                f"shape {tuple(y_pred.shape)}; a regressor needs one output per "
                "row, (batch, 1) (module__n_classes=1 for BayesianMLP)."
            )
        y_pred = y_pred.reshape(-1, 1)
        if isinstance(y_true, torch.Tensor) and y_true.ndim == 1:
            # a validation Dataset given with 1-d targets (fit's own are
            # (n, 1)): the criterion would broadcast (B, 1) against (B,)
            y_true = y_true.reshape(-1, 1)
        mean, scale = self._target_scaling()
        if (mean, scale) != (0.0, 1.0):
            y_pred = (y_pred - mean) / scale
            y_true = (y_true - mean) / scale
        return super().get_loss(y_pred, y_true, *args, **kwargs)

    def fit(self, X, y, **fit_params):
        """Initialise and fit the module on X and numeric targets y.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs, cast to float32.
        y : array-like of shape (n_samples,) or (n_samples, 1)
            Finite numbers.
        **fit_params : dict
            Passed to skorch's ``fit``.

        Returns
        -------
        self : MCDropoutRegressor
            The fitted regressor.
        """
        self._check_params()
        # before initialising: a refused fit keeps its model
        check_fit_params(getattr(self, "module_", self.module), fit_params)
        if not self.warm_start or not self.initialized_:
            self.initialize()
        return self.partial_fit(X, y, **fit_params)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train further on X, y without re-initialising the module.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs, cast to float32.
        y : array-like of shape (n_samples,) or (n_samples, 1)
            Finite numbers.
        classes : None
            Unused; skorch's signature.
        **fit_params : dict
            Passed to skorch's ``partial_fit``.

        Returns
        -------
        self : MCDropoutRegressor
            The fitted regressor, ``noise_variance_`` refitted on X, y.
            ``y_mean_`` and ``y_scale_`` are set from y when the network is
            fresh (first call, or after ``initialize``) and kept otherwise:
            the network was trained for them.
        """
        self._check_params()
        owner = type(self).__name__
        X = _as_float32(X, owner)
        y = regression_targets(y, owner)
        if len(X) != len(y):
            raise ValueError(
                f"X has {len(X)} rows but y has {len(y)} targets; pass one target "
                "per row."
            )
        check_fit_params(getattr(self, "module_", self.module), fit_params)
        # _in_fit: a checkpoint saved during training leaves out the noise,
        # which is refitted only after it
        with self._seeded_training(_in_fit=True):  # initialises a fresh net
            new_scaling = "y_mean_" not in vars(self)
            if new_scaling:
                self._set_target_scaling(y)
            try:
                super().partial_fit(X, y, classes=classes, **fit_params)
            except BaseException:
                if new_scaling:  # a refused first fit sets nothing
                    del self.y_mean_, self.y_scale_
                raise
        self.n_features_in_ = X.shape[1]
        self.noise_variance_ = self._fit_noise(X, y)
        return self

    def _fit_noise(self, X, y):
        if not isinstance(self.noise_variance, str):
            return float(self.noise_variance)
        residual = to_numpy(self.forward(X, training=False)).reshape(-1, 1) - y
        mse = float(np.mean(residual.astype(np.float64) ** 2))
        floor = _NOISE_FLOOR * max(float(np.var(y.astype(np.float64))), 1e-12)
        return max(mse, floor)

    def predict_samples(
        self, X, n_mc_samples=None, random_state=None, *, max_memory=None, n_jobs=None
    ):
        """Draw K consistent MC-dropout samples of the prediction.

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
        predictions : ndarray of shape (n_samples, n_mc_samples), float64
            The prediction f(x_n; ω_k) under mask set k, in y's units (the
            network's output times ``y_scale_`` plus ``y_mean_``).

        Raises
        ------
        NotFittedError
            If the regressor is not fitted.
        ValueError
            If the module has no dropout layer, or X is not numeric and finite.
        """
        self.check_is_fitted()
        X = _as_float32(X, type(self).__name__)
        n_mc_samples = check_n_mc_samples(
            self.n_mc_samples if n_mc_samples is None else n_mc_samples
        )
        max_memory = check_max_memory(
            self.max_memory if max_memory is None else max_memory
        )
        n_jobs = self.n_jobs if n_jobs is None else n_jobs
        with lock_of(self):
            active = active_layers(self.module_, n_mc_samples)
            seeds = spawn_seeds(random_state, len(active))
            layer_seeds = [
                (name, seed) for (name, _), seed in zip(active, seeds, strict=True)
            ]
            batch_size = self.get_params_for("iterator_valid").get(
                "batch_size", self.batch_size
            )
            shards = pool_shards(len(X), batch_size, joblib.effective_n_jobs(n_jobs))
            if len(shards) <= 1:
                return self._sample(X, n_mc_samples, layer_seeds, max_memory)
            check_shards_can_unpickle(self, n_jobs)
            parts = joblib.Parallel(n_jobs=n_jobs)(
                joblib.delayed(sample_shard)(
                    self._sample,
                    X[start:stop],
                    n_mc_samples,
                    layer_seeds,
                    max_memory // len(shards),
                    os.getpid(),
                )
                for start, stop in shards
            )
        return np.concatenate(parts)

    def _sample(self, X, n_mc_samples, layer_seeds, max_memory, own_module=False):
        """(N, K) predictions of X by ``module_`` or a copy of it (for shards)."""
        module = copy.deepcopy(self.module_) if own_module else self.module_
        predictions = np.empty((len(X), n_mc_samples), dtype=np.float64)

        def forward(x):
            output = module(**x) if isinstance(x, Mapping) else module(x)
            return output[0] if isinstance(output, tuple) else output

        with torch.no_grad(), masked(module, n_mc_samples, layer_seeds) as masks:
            engine = MCForward(module, masks, forward, max_memory)
            for start, Xi in array_blocks(X, lambda block, start: block):
                Xi = to_tensor(Xi, device=self.device)
                for rows, k, output in engine(Xi):
                    n, m = output.shape[:2]
                    if output[0, 0].numel() != 1:
                        raise ValueError(
                            f"the module {type(module).__name__} returns "
                            f"{output[0, 0].numel()} outputs per row; a regressor "
                            "needs one (module__n_classes=1 for BayesianMLP)."
                        )
                    rows = slice(start + rows.start, start + rows.stop)
                    predictions[rows, k : k + m] = to_numpy(output).reshape(n, m)
        mean, scale = self._target_scaling()
        predictions *= scale  # in float64: no rounding beyond the network's
        predictions += mean
        return predictions

    def predict(self, X):
        """Return the MC average of ``n_mc_samples`` consistent samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        y : ndarray of shape (n_samples,), float32
            (1/K) Σ_k f(x; ω_k) with the masks of ``prediction_seed_``, so a
            fitted regressor predicts the same every time.
        """
        self.check_is_fitted()  # before prediction_seed_, which fit sets
        samples = self.predict_samples(X, random_state=self.prediction_seed_)
        return samples.mean(axis=1).astype(np.float32)
