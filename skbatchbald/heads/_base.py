"""What the heads share: a skorch classifier on (N, d) embeddings.

Labels of any type are encoded to indices before skorch sees them; training
(initialisation, shuffling) runs on a forked torch generator seeded from
``random_state``; pools are sampled block by block within ``max_memory``, on
as many threads as the cores allow. Subclasses say how posterior samples are
drawn (``_draw``) and what logits they give a block (``_chunk_logits``).
"""

import inspect
from collections.abc import Mapping
from contextlib import contextmanager, nullcontext

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d
from skorch import NeuralNetClassifier
from skorch.callbacks import EpochScoring
from threadpoolctl import threadpool_limits

from .._labels import label_indices, shown_labels
from .._memory import check_max_memory
from .._pickled_version import VersionedPickle
from .._validation import check_int, check_random_state, spawn_seeds
from ..classifier._callbacks import ValidationMonitorMixin
from ..classifier._class_weight import (
    check_class_weight,
    class_weight_vector,
    criterion_weight_vector,
    refuse_unweighted_criterion,
    set_class_weight,
)
from ..classifier._fit_params import check_fit_params
from ..classifier._inputs import (
    check_targets,
    refuse_indicator_labels,
    sorted_classes,
)
from ..classifier._locks import seeded_global_torch
from ..classifier._outputs import log_softmax_rows
from ..classifier._stream import BLOCK_ROWS, block_threads, for_each_block
from ._inputs import check_embeddings, finite_float32

__all__ = ["HeadClassifierBase"]


def _refuse_partial_fit(estimator):
    raise AttributeError(
        f"{type(estimator).__name__} has no partial_fit: call fit with all "
        "labelled rows (a head on embeddings retrains in seconds, and its "
        "posterior is computed from all of them)."
    )


def _refused_criterion(criterion, reduction, owner):
    """The reason ``criterion`` (a class or instance) cannot train a head, or None.

    The heads hand the criterion their logits as they are and need one loss
    per row: NLLLoss would read the logits as log-probabilities (and train
    badly without an error), a reduced loss could not be weighed per member
    and row. Every other criterion, such as a subclass of CrossEntropyLoss or
    one of the user's, is left to the fit.
    """
    name = type(owner).__name__
    cls = criterion if isinstance(criterion, type) else type(criterion)
    if issubclass(cls, torch.nn.NLLLoss):
        return (
            f"criterion={cls.__name__} takes log-probabilities, but {name}'s "
            "module returns logits, which the criterion gets as they are: the "
            "heads would train on the raw logits, badly and without an error. "
            "Use criterion=torch.nn.CrossEntropyLoss (the default), which takes "
            "the log-softmax itself; it gives NLLLoss's loss on log-probabilities "
            "too, so a module ending in log_softmax trains the same under it."
        )
    if reduction is not None and reduction != "none":
        return (
            f"criterion__reduction={reduction!r}, but {name} needs the "
            "criterion's loss of every row and member (reduction='none', the "
            "default): it sums them over the members and averages them over the "
            "rows itself, weighing each row where bootstrap or class weights "
            "ask. Leave criterion__reduction out."
        )
    return None


def _sizes_missing(module, params):
    """The size arguments of the module's class that ``params`` leaves unset."""
    if not isinstance(module, type):
        return []
    try:
        parameters = inspect.signature(module).parameters
    except (TypeError, ValueError):  # no signature: let the module say
        return []
    return [
        name
        for name in ("n_features", "n_classes")
        if name in parameters
        and parameters[name].default is inspect.Parameter.empty
        and name not in params
    ]


def _member_mean_accuracy(net, X, y):
    """Accuracy of the members' mean softmax on (X, y), y the class indices.

    skorch's default ``valid_acc`` scores with ``predict``, which a head
    offers only once its fit is done (the Laplace posterior is learned after
    training); this reads the module's logits (N, E, C), which ``EpochScoring``
    caches from the validation steps, and the label indices fit gave skorch.
    The ensemble's mean for E heads, the MAP head for the Laplace one.
    """
    logits = net.forward(X, training=False)
    proba = torch.softmax(logits.float(), dim=-1).mean(dim=1)
    return float(np.mean(proba.argmax(dim=1).cpu().numpy() == np.asarray(y)))


class HeadClassifierBase(VersionedPickle, ValidationMonitorMixin, NeuralNetClassifier):
    """Base of the embedding heads; not for direct use (see its subclasses)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags

    # -- parameters -------------------------------------------------------
    def _n_members(self):
        """Number E of heads the module holds."""
        raise NotImplementedError

    @property
    def _default_callbacks(self):
        return [
            (
                name,
                EpochScoring(
                    _member_mean_accuracy, name="valid_acc", lower_is_better=False
                )
                if name == "valid_acc"
                else callback,
            )
            for name, callback in super()._default_callbacks
        ]

    def _check_params(self):
        refused = _refused_criterion(
            self.criterion, super().get_params_for("criterion").get("reduction"), self
        )
        if refused is not None:
            raise ValueError(refused)
        if self.hidden is not None:
            check_int(self.hidden, "hidden", hint="None for linear heads")
        check_max_memory(self.max_memory)
        check_random_state(self.random_state)
        # sorted, and refused where a label is given twice (one logit each)
        if self.classes is not None and len(sorted_classes(self.classes)) < 2:
            raise ValueError(
                f"classes must hold all labels, at least 2, got classes="
                f"{np.asarray(self.classes).tolist()!r}."
            )
        check_class_weight(
            self.class_weight,
            self.classes,
            super().get_params_for("criterion").get("weight"),
            self,
        )

    def get_params_for(self, prefix):
        """Return skorch's parameters for ``prefix``, the module's sizes added.

        Parameters
        ----------
        prefix : str
            A component, such as ``"module"`` or ``"optimizer"``.

        Returns
        -------
        params : dict
            The ``<prefix>__<name>`` parameters, without the prefix; for
            ``"module"`` also ``n_members`` and ``hidden`` (this classifier's
            parameters) and, once fitted, ``n_features`` and ``n_classes``
            (from the data).
        """
        params = super().get_params_for(prefix)
        weight = params.get("weight") if prefix == "criterion" else None
        if weight is not None and not isinstance(weight, torch.Tensor):
            # torch's losses take only a tensor; validated at fit
            params["weight"] = torch.as_tensor(np.asarray(weight, np.float32))
        if prefix == "module":
            if hasattr(self, "n_features_in_"):
                params.setdefault("n_features", self.n_features_in_)
                params.setdefault("n_classes", len(self.classes_))
            # so that initialize() before fit builds the heads a fit would
            params.setdefault("n_members", self._n_members())
            params.setdefault("hidden", self.hidden)
        return params

    def initialize_module(self):
        """Build the module; its sizes come from fit (or ``module__`` parameters).

        Returns
        -------
        self : object
            This classifier.

        Raises
        ------
        NotFittedError
            If the module's class needs the embedding size or the number of
            classes and neither a fit nor a ``module__`` parameter gave it.
        """
        missing = _sizes_missing(self.module, self.get_params_for("module"))
        if missing:
            name = type(self).__name__
            raise NotFittedError(
                f"{name} builds its module at fit, from the embedding size and "
                f"the classes, so initialize() before fit needs "
                f"{' and '.join(f'module__{size}' for size in missing)}. To "
                "reuse a fitted head, save it with pickle or joblib.dump and load "
                "that: save_params and load_params keep the weights only, not "
                "the classes, the embedding size or the Laplace posterior that "
                "a fit learns. Otherwise call fit."
            )
        return super().initialize_module()

    def _seeds(self):
        """Seeds for torch (init and training), resampling, and prediction."""
        if self.random_state is None:
            return None, None, None
        return spawn_seeds(self.random_state, 3)

    # -- fitting ----------------------------------------------------------
    def _continues(self):
        """Whether this fit trains the fitted heads on (``warm_start``)."""
        return self.warm_start and self.initialized_

    def _labels_to_indices(self, y, keep_classes=False):
        if isinstance(y, torch.Tensor):
            y = y.detach().cpu().numpy()
        refuse_indicator_labels(y, type(self).__name__)
        y = column_or_1d(y, warn=True)
        check_targets(y, self.classes is not None)
        if keep_classes:
            # the fitted logits are the fitted classes_: a batch of some
            # classes must not renumber them
            return self._continued_labels(y)
        classes = np.unique(y) if self.classes is None else sorted_classes(self.classes)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but "
                f"y contains only one class: {classes.tolist()}. If the labelled "
                "set misses classes (a cold start), pass classes=<all labels>."
            )
        index = label_indices(y, classes)
        if np.any(index < 0):
            raise ValueError(
                f"y contains labels {np.unique(y[index < 0])[:10].tolist()} that "
                f"are not in classes={shown_labels(classes)}; add them to classes."
            )
        self.classes_inferred_ = classes
        return index

    def _continued_labels(self, y):
        index = label_indices(y, self.classes_)
        if np.any(index < 0):
            raise ValueError(
                f"y contains labels {np.unique(y[index < 0])[:10].tolist()} that "
                f"the fitted heads have no logit for (classes_="
                f"{shown_labels(self.classes_)}; warm_start=True keeps them): pass "
                "classes=<all labels> and set warm_start=False to start over."
            )
        return index

    def check_data(self, X, y):
        """Nothing to check: ``fit`` has checked X and encoded y already."""

    @property
    def classes_(self):
        """The labels, sorted, in the order of the logits."""
        try:
            return self.classes_inferred_
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__} has no attribute 'classes_' before fit"
            ) from None

    def _training_inputs(self, X, seed):
        """What skorch trains on: X, or X with per-member row weights."""
        return X

    def fit(self, X, y, **fit_params):
        """Fit the head(s) on embeddings X and labels y of any type.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings, finite.
        y : array-like of shape (n_samples,)
            Labels; ``classes_`` becomes their sorted unique values (or the
            ``classes`` parameter's).
        **fit_params : dict
            Passed to skorch's ``fit``.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        self._check_params()
        # before anything changes: a refused fit keeps its model
        check_fit_params(getattr(self, "module_", self.module), fit_params, True)
        X = finite_float32(check_embeddings(X, self))
        # heads of another size (set_params(hidden=...)) start over, as skorch
        # re-initialises on set_params(module__...)
        architecture = (self._n_members(), self.hidden)
        restart = not self._continues() or architecture != getattr(
            self, "_fitted_architecture_", None
        )
        if not restart and getattr(self, "n_features_in_", X.shape[1]) != X.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input (warm_start="
                "True keeps the fitted heads): set warm_start=False to start over "
                "on the new embeddings."
            )
        kept_classes = vars(self).get("classes_inferred_")
        y_index = self._labels_to_indices(y, keep_classes=not restart)
        try:
            weights = self._class_weights(y_index)
            self._check_posterior_size(*X.shape, len(self.classes_))
        except ValueError:
            # refused before anything else changed: the fitted model stays
            if kept_classes is None:
                vars(self).pop("classes_inferred_", None)
            else:
                self.classes_inferred_ = kept_classes
            raise
        self.n_features_in_ = X.shape[1]
        torch_seed, data_seed, prediction_seed = self._seeds()
        inputs = self._training_inputs(X, data_seed)
        with seeded_global_torch(torch_seed, self.device):
            # skorch's fit, which would call our (absent) partial_fit
            if restart:
                self.initialize()
            self._fitted_architecture_ = architecture
            # set at every fit: none now, whatever an earlier warm fit set
            set_class_weight(
                self.criterion_, weights, self.class_weight is not None, self.device
            )
            with self._training():
                super().partial_fit(
                    inputs, y_index, _routing_method="fit", **fit_params
                )
        self.__dict__.pop("prediction_seed_", None)  # fitted once all is done
        self._fit_posterior(X, y_index)
        self.prediction_seed_ = (
            spawn_seeds(None, 1)[0] if prediction_seed is None else prediction_seed
        )
        return self

    @contextmanager
    def _training(self):
        """Mark skorch's training loop, whose callbacks may predict or load."""
        self._in_training = True
        try:
            yield
        finally:
            del self._in_training

    def __getstate__(self):
        state = super().__getstate__()
        # pickled mid-fit (skorch's Checkpoint(f_pickle=...)): loaded, the
        # head is in no fit, and keeps no training rows
        for name in ("_in_training", "_split_rows"):
            state.pop(name, None)
        return state

    def get_split_datasets(self, X, y=None, **fit_params):
        """Split skorch's datasets as skorch does, noting the training rows.

        Parameters
        ----------
        X : array-like or dict
            The training inputs fit hands skorch.
        y : array-like, default=None
            The labels as class indices.
        **fit_params : dict
            Passed to ``train_split``.

        Returns
        -------
        dataset_train, dataset_valid : torch Dataset, and torch Dataset or None
            As skorch's.
        """
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        self._trained_on(dataset_train, dataset_valid)
        return dataset_train, dataset_valid

    def _trained_on(self, dataset_train, dataset_valid):
        """Note the rows training sees (with a validation split, not all)."""

    def _class_weights(self, y_index):
        """The class weights of a fit on labels ``y_index`` (float32), or None."""
        criterion_weight = super().get_params_for("criterion").get("weight")
        if self.class_weight is None and criterion_weight is None:
            return None
        refuse_unweighted_criterion(self.criterion, self)
        classes = np.asarray(self.classes_)
        if self.class_weight is not None:
            return class_weight_vector(self.class_weight, classes, y_index)
        return criterion_weight_vector(criterion_weight, classes)

    def _row_weights(self, y_index):
        """Each row's class weight in the loss (float64), or None for none."""
        weight = getattr(self.criterion_, "weight", None)
        if weight is None:
            return None
        return weight.double().cpu().numpy()[y_index]

    def _check_posterior_size(self, n_rows, n_features, n_classes):
        """Before training: ValueError for a posterior too large to compute."""

    def _fit_posterior(self, X, y_index):
        """After training: learn what sampling needs (nothing by default)."""

    @available_if(_refuse_partial_fit)
    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Not available: call ``fit`` with every labelled row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings.
        y : array-like of shape (n_samples,), default=None
            Labels.
        classes : array-like, default=None
            All labels.
        **fit_params : dict
            Not used.

        Returns
        -------
        self : object
            Never returned: the attribute does not exist.
        """
        raise NotImplementedError  # unreachable: available_if refuses first

    def load_params(
        self,
        f_params=None,
        f_optimizer=None,
        f_criterion=None,
        f_history=None,
        checkpoint=None,
        use_safetensors=False,
        **kwargs,
    ):
        """Load skorch's saved state (weights, optimizer, history) into the head.

        ``save_params`` keeps the weights only; a fit also learns the classes,
        the embedding size and (Laplace) the posterior. To restore a fitted
        head, pickle it (or ``joblib.dump`` it) and load that.

        Parameters
        ----------
        f_params, f_optimizer, f_criterion, f_history : file-like, str or None
            As skorch's ``load_params``; None (the default) loads nothing.
        checkpoint : skorch.callbacks.Checkpoint, default=None
            As skorch's ``load_params``.
        use_safetensors : bool, default=False
            As skorch's ``load_params``.
        **kwargs : dict
            As skorch's ``load_params``.

        Raises
        ------
        NotFittedError
            If the head has no module yet: it builds one at fit.
        ValueError
            If weights would replace a fitted Laplace head's, whose posterior
            they cannot replace.
        """
        if not self.initialized_:
            raise NotFittedError(
                f"load_params needs the module, and {type(self).__name__} builds "
                "it at fit, from the embedding size and the classes. To restore "
                "a fitted head, save it with pickle or joblib.dump and load that: "
                "save_params keeps the weights only, not the classes, the "
                "embedding size or the Laplace posterior that a fit learns. "
                "Otherwise call fit."
            )
        if not vars(self).get("_in_training"):  # skorch's callbacks load in fit
            self._check_loadable(
                f_params is not None
                or (checkpoint is not None and checkpoint.f_params is not None)
                or any(value is not None for value in kwargs.values())
            )
        super().load_params(
            f_params=f_params,
            f_optimizer=f_optimizer,
            f_criterion=f_criterion,
            f_history=f_history,
            checkpoint=checkpoint,
            use_safetensors=use_safetensors,
            **kwargs,
        )

    def _check_loadable(self, loads_weights):
        """ValueError where loading (weights, if ``loads_weights``) is refused."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion per member and row, summed over members, mean over rows.

        Parameters
        ----------
        y_pred : torch.Tensor of shape (B, E, C)
            Logits of every member.
        y_true : torch.Tensor of shape (B,)
            Class indices.
        X : torch.Tensor or dict, default=None
            The batch; a dict's ``member_weights`` (B, E) weight each member's
            rows (a bootstrap).
        training : bool, default=False
            Whether this is a training step.

        Returns
        -------
        loss : torch.Tensor
            A scalar.

        Raises
        ------
        ValueError
            If the criterion does not return one loss per row and member.
        """
        n, e, c = y_pred.shape
        y_true = torch.as_tensor(y_true, device=y_pred.device).long()
        per_row = self.criterion_(y_pred.reshape(n * e, c), y_true.repeat_interleave(e))
        if not isinstance(per_row, torch.Tensor) or per_row.numel() != n * e:
            shape = tuple(getattr(per_row, "shape", ()))
            raise ValueError(
                f"{type(self).__name__}'s criterion returned a loss of shape "
                f"{shape} for {n * e} rows ({n} rows x {e} members); the heads "
                "need one loss per row, which they weigh, sum over the members "
                "and average over the rows: make it return the unreduced loss "
                "(reduction='none' for torch's losses)."
            )
        per_row = per_row.reshape(n, e)
        if isinstance(X, Mapping) and "member_weights" in X:
            per_row = per_row * torch.as_tensor(X["member_weights"]).to(per_row)
        return per_row.sum(dim=1).mean() + self._penalty()

    def _penalty(self):
        return 0.0

    # -- prediction -------------------------------------------------------
    def _fitted_embeddings(self, X):
        """X checked for prediction: NotFittedError first, then its embeddings."""
        if vars(self).get("_in_training"):
            # a refit still holds the last fit's posterior and classes: its
            # predictions would be those of neither fit
            raise NotFittedError(
                f"{type(self).__name__} was asked to predict during fit, by a "
                "callback (such as EpochScoring('f1_macro')); a head predicts "
                "once fit has learned its classes and posterior. The valid_acc "
                "it records with a train_split needs no prediction; to score "
                "during training, give EpochScoring a function of (net, X, y) "
                "that reads the logits net.forward(X), of shape (N, members, "
                "classes), against y, the class indices."
            )
        if not (self.initialized_ and hasattr(self, "prediction_seed_")):
            # initialized but never fitted: weights put in by load_params
            loaded = self.initialized_ and not hasattr(self, "classes_inferred_")
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call "
                "'fit' with appropriate arguments before using this estimator."
                + (
                    " Weights loaded with load_params are not a fitted head: a "
                    "fit also learns the classes, the embedding size and the "
                    "posterior, which save_params does not keep. Save the "
                    "fitted head with pickle or joblib.dump, and load that."
                    if loaded
                    else ""
                )
            )
        return check_embeddings(X, self, self.n_features_in_)

    def _draw(self, n_mc_samples, rng):
        """The K posterior samples (members, weights) used for every row."""
        raise NotImplementedError

    def _chunk_logits(self, X, draw):
        """(n, K, C) logits of a block (tensor) of embeddings."""
        raise NotImplementedError

    def predict_log_proba_samples(
        self, X, n_mc_samples=None, random_state=None, *, max_memory=None
    ):
        """Draw K posterior samples of the class log-probabilities, (N, K, C).

        Sample k uses one model (member or weight draw) for every row, so the
        samples are consistent across rows, chunks and calls.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Pool embeddings; a memmap is read block by block.
        n_mc_samples : int, default=None
            Number K of samples; see the class.
        random_state : None, int, numpy.random.Generator or RandomState, default=None
            Source of the draw; the same value gives the same samples.
        max_memory : None, int or str, default=None
            Overrides the ``max_memory`` parameter for this call.

        Returns
        -------
        log_probs : ndarray of shape (n_samples, K, n_classes), float32
            Classes in ``classes_`` order.

        Raises
        ------
        NotFittedError
            If the classifier is not fitted.
        ValueError
            If X is not 2-D, has another dimension than at fit, or holds NaN
            or infinity.
        """
        X = self._fitted_embeddings(X)
        rng = check_random_state(random_state)
        draw = self._draw(n_mc_samples, rng)
        return self._log_probs(X, draw, max_memory)

    def _log_probs(self, X, draw, max_memory):
        n_classes = len(self.classes_)
        k = self._n_samples(draw)
        width = self.hidden or 0
        # float32 per row: the input, E hidden layers, K logits and their
        # log-softmax (with one temporary).
        per_row = 4 * (X.shape[1] + self._n_members() * width + 3 * k * n_classes)
        out = np.empty((len(X), k, n_classes), dtype=np.float32)

        def log_probs(chunk, rows):
            logits = self._chunk_logits(chunk, draw)
            if logits.device.type != "cpu":
                return log_softmax_rows(logits).cpu().numpy()
            # written into the samples' own array, not copied there afterwards
            log_softmax_rows(logits, out=torch.from_numpy(out[rows]))
            return None

        return self._map_chunks(X, per_row, max_memory, out, log_probs)

    def _map_chunks(self, X, per_row, max_memory, out, compute):
        """Fill ``out`` with ``compute(chunk, rows)``, block by block within the budget.

        ``per_row`` is the bytes one row needs. Blocks have `BLOCK_ROWS` rows
        (fewer if the budget holds fewer), so the numbers never depend on a
        larger budget; on a CPU, as many blocks as the budget holds are
        computed at once, on up to `block_threads` threads (blocks are
        independent: the same numbers as one after another). Each block is
        checked finite and made a float32 tensor on the device; the module runs
        in eval mode, whose mode is restored afterwards. ``compute`` returns the
        block's values, or None when it wrote ``out[rows]`` itself.
        """
        budget = check_max_memory(self.max_memory if max_memory is None else max_memory)
        rows = max(1, min(BLOCK_ROWS, budget // per_row))
        on_cpu = self.device is None or torch.device(self.device).type == "cpu"
        threads = block_threads() if on_cpu else 1
        threads = max(1, min(threads, budget // (rows * per_row)))
        module = self.module_
        training = module.training
        module.eval()

        @torch.no_grad()  # grad mode is per thread: block threads need their own
        def fill(start):
            chunk = finite_float32(X[start : start + rows], start)
            block = slice(start, start + len(chunk))
            values = compute(torch.as_tensor(chunk, device=self.device), block)
            if values is not None:
                out[block] = values

        # numpy's BLAS (the Laplace predictive's float64 products) would start
        # its own threads inside each block thread: one each, as torch's
        blas = threadpool_limits(1, user_api="blas") if threads > 1 else nullcontext()
        try:
            with blas:
                for_each_block(fill, range(0, len(X), rows), threads)
        finally:
            module.train(training)
        return out

    def _n_samples(self, draw):
        return len(draw)

    def predict(self, X):
        """Return the label of highest ``predict_proba`` for each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        index = self.predict_proba(X).argmax(axis=1)  # NotFittedError first
        return self.classes_[index]
