"""MCDropoutClassifier: a skorch classifier that draws consistent MC-dropout samples."""

import copy
import functools
import os
import warnings
from collections.abc import Mapping

import joblib
import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import column_or_1d
from skorch import NeuralNetClassifier
from skorch.dataset import get_len, unpack_data
from skorch.utils import (
    is_dataset,
    multi_indexing,
    to_numpy,
    to_tensor,
)
from torch.utils.data import DataLoader, Subset

from .._labels import label_indices, shown_labels
from .._memory import check_max_memory, large_empty
from .._pickled_version import VersionedPickle
from .._validation import (
    check_n_mc_samples,
    check_random_state,
    nonfinite_rows_message,
    renumbered_nonfinite_error,
    spawn_seeds,
)
from .._warnings import SkbatchbaldWarning, user_stacklevel
from ..nn._engine import MCForward, n_rows
from ..nn.dropout import active_layers, dropout_layers, masked
from ._class_weight import (
    check_class_weight,
    class_weight_vector,
    criterion_takes_weight,
    criterion_weight_vector,
    refuse_unweighted_criterion,
    set_class_weight,
)
from ._fit_params import check_fit_params
from ._inputs import (
    check_device,
    check_targets,
    collate_labels,
    fit_labels,
    head,
    other_array_like,
    refuse_complex,
    refuse_indicator_labels,
    rows_of,
    sorted_classes,
    sparse_rows,
    takes_n_classes,
)
from ._locks import lock_of, seeded_global_torch
from ._outputs import (
    are_probabilities,
    check_outputs_suit_criterion,
    log_softmax_rows,
    refuse_tuple_outputs,
)
from ._saved_state import ModuleWithClassifierState
from ._seeded import SeededNetMixin
from ._shards import check_shards_can_unpickle, pool_shards, sample_shard
from ._stream import (
    BLOCK_ROWS,
    array_blocks,
    block_threads,
    for_each_block,
    read_block,
    streams_as_array,
)

__all__ = ["MCDropoutClassifier"]


def _exclusive_sampling(method):
    """Hold the estimator's lock while sampling; refuse inconsistent modules.

    The dropout hooks sit on the shared module, so concurrent calls wait for
    each other instead of mixing masks.
    """

    @functools.wraps(method)
    def wrapper(self, X, *args, **kwargs):
        if other_array_like(X):
            X = np.asarray(X)  # e.g. an object with __array__ only
        elif sp.issparse(X):
            X = sparse_rows(X, type(self).__name__)  # rows and slices index it
        with lock_of(self):
            self.check_is_fitted()
            self._get_predict_nonlinearity()  # a bad one fails before any pass
            self._check_eval_is_deterministic(X)
            return method(self, X, *args, **kwargs)

    return wrapper


class MCDropoutClassifier(VersionedPickle, SeededNetMixin, NeuralNetClassifier):
    """A skorch classifier whose dropout network gives consistent posterior samples.

    A :class:`skorch.NeuralNetClassifier` for a module that returns logits and
    contains dropout layers. It accepts any labels (``classes_`` holds them,
    ``predict`` returns them), float64 arrays, pandas DataFrames, scipy sparse
    matrices, lists of rows and torch Datasets, and fits a 20-point labelled
    set with its defaults.
    ``predict_log_proba_samples`` returns K posterior samples drawn with
    consistent MC dropout: sample k uses one fixed set of dropout masks for
    every row. ``predict_proba`` averages ``n_mc_samples`` of them, with masks
    fixed at fit time, so a fitted classifier predicts the same every time. All
    other parameters are skorch's (``max_epochs``, ``batch_size``,
    ``callbacks``, ``module__*``, ...).

    Parameters
    ----------
    module : torch.nn.Module class or instance
        The network, returning logits ``(N, n_classes)``, e.g.
        :class:`skbatchbald.nn.BayesianCNN` (log-probabilities, from a final
        ``log_softmax``, train and sample the same). Set its parameters with
        ``module__name=value``. A module class whose constructor takes
        ``n_classes`` gets ``len(classes_)`` unless ``module__n_classes`` is set.
        An instance is the starting point: every initialisation (each
        ``fit`` unless ``warm_start``) trains a copy of it, ``module_``, from
        the instance's weights (pretrained ones too), which the instance
        keeps. skorch would train the instance itself; here a refit starts
        over and ``clone`` gives an untrained net. ``random_state`` seeds the
        initial weights of a module class only: an instance's are the ones it
        holds.
    *args
        Passed on to skorch's constructor, as skorch's own subclasses do; give
        every other parameter by keyword.
    n_mc_samples : int, default=20
        Number K of posterior samples averaged by ``predict_proba`` and drawn by
        ``predict_log_proba_samples`` when its ``n_mc_samples`` is None.
    mc_predict : bool, default=True
        If True, ``predict_proba`` is the MC average of consistent samples; if
        False, it is the deterministic network (eval mode, dropout off).
    mc_validation : bool, default=False
        How ``predict_proba`` scores validation data during training, and so
        every scoring callback (``valid_acc``, an ``EpochScoring``): False with
        the deterministic network, as the BatchBALD paper's training loop does;
        True with the MC average of ``n_mc_samples`` consistent samples, K
        forward passes per batch. skorch's ``valid_loss`` (what
        ``EarlyStopping`` and ``Checkpoint`` monitor by default) is the
        criterion on one deterministic forward pass either way; to stop on
        the MC loss, add ``EpochScoring("neg_log_loss", name="valid_nll",
        lower_is_better=False)`` and monitor ``"valid_nll"``.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds module initialisation, training (shuffling, training dropout) and
        ``prediction_seed_``. Set, no call reads or changes the global numpy or
        torch generators. None: initialisation and training draw from the global
        torch generator, as in skorch, and ``prediction_seed_`` is fresh per fit.
    max_memory : None, int or str, default=None
        Budget in bytes (or a string such as ``"512MB"``) for the activations
        of one sampling pass, the output excluded; the pool is sampled in
        passes of as many rows and samples as fit. None: ``min(1 GiB,
        available memory / 4)``.
    n_jobs : None or int, default=None
        Number of joblib workers that sample shards of the pool; None is one
        unless a ``joblib.parallel_config`` says otherwise, -1 all cores. Each
        worker process runs torch with one thread. Results do not depend on it.
        The workers unpickle the classifier, so the module's class must be
        importable: one defined in ``__main__`` (a notebook, the script being
        run) or inside a function is refused with a ``ValueError`` before
        any worker starts.
    criterion : torch criterion class, default=torch.nn.CrossEntropyLoss
        Loss on logits (or log-probabilities). ``torch.nn.NLLLoss`` for a module
        that ends in a softmax: as in skorch, the log of its outputs is taken.
        The first batch of every fit checks the outputs against the criterion
        and raises a ``ValueError`` naming the fix where they do not suit it
        (probabilities under ``CrossEntropyLoss``, which would train badly
        without an error; logits or log-probabilities under ``NLLLoss``, whose
        losses would be NaN); sampling checks its first pass the same way.
    class_weight : None, "balanced" or dict, default=None
        Weights of the classes in the loss, as scikit-learn's
        ``LogisticRegression(class_weight=...)``: ``{label: weight}`` (1 for
        labels left out), or ``"balanced"``, ``n_samples / (n_present *
        count)`` from the labels of each ``fit`` (and ``partial_fit``) call,
        so that they follow the labelled set as it grows. Passed to the
        criterion's ``weight`` (``CrossEntropyLoss``, ``NLLLoss``), with the
        batch's loss ``Σ_i w_(y_i) ℓ_i / n`` over its n rows as in
        scikit-learn (torch's weighted mean divides by ``Σ_i w_(y_i)``
        instead, which cancels the weight of a batch of one class). skorch's
        ``criterion__weight`` does the same by position, in ``classes_``
        order (sorted: with ``classes=`` given in another order it is
        refused); give one of the two.
    optimizer : torch optimizer class, default=torch.optim.Adam
        As in the BatchBALD paper.
    lr : float, default=1e-3
        Learning rate.
    max_epochs : int, default=200
        Epochs per fit (skorch's default is 10: too few steps for a labelled
        set of a few dozen points). With ``iterator_train__shuffle`` and
        skorch's ``batch_size=128`` (training batches evened out, see
        ``get_iterator``) this is the default training recipe, chosen on
        digits from 20 to 1,000 labels (measurements in the quickstart);
        ``warm_start=False`` retrains from fresh weights at every fit.
    iterator_train__shuffle : bool, default=True
        Reshuffle the training rows every epoch (skorch's DataLoader default is
        False).
    train_split : None or callable, default=None
        No internal validation split, so tiny labelled sets fit. Pass, e.g.,
        ``skorch.dataset.ValidSplit(5, stratified=True)`` for early stopping.
    **kwargs
        Any other :class:`skorch.NeuralNetClassifier` parameter, including
        ``classes`` (the full label list, needed when the labelled set misses
        some classes but the module has a logit for each: a cold start, a
        refit on new labels only). Each label must appear once; ``classes_``
        holds them sorted, whatever their order here (skorch keeps the order
        given), because scikit-learn's ``log_loss`` and ``neg_log_loss``
        scorer read ``predict_proba``'s columns as the sorted labels. Given
        here it holds for every fit; without it, each ``fit`` takes
        ``classes_`` from its y, which must hold at least 2 classes.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, sorted (as ``np.unique`` sorts them), in the order of the
        module's logits and of ``predict_proba``'s columns.
    module_ : torch.nn.Module
        The fitted network (a copy of a ``module`` instance, never the
        instance itself).
    n_features_in_ : int
        ``X.shape[1]`` of the training inputs (arrays, tensors, DataFrames).
    prediction_seed_ : int
        Seed of the dropout masks of ``predict_proba``, drawn from
        ``random_state`` when the module is initialised. ``save_params`` and
        pickling keep it with ``classes_``.

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
    are sampled consistently too; a module that draws randomness in eval mode
    (``F.dropout(x, training=True)`` in ``forward``) is refused when sampled.
    A module without dropout is predicted deterministically, with a warning.

    Inputs: a scipy sparse X (e.g. TF-IDF features) is kept sparse and
    densified row by row as batches are drawn, so that only one batch is ever
    dense. A list or tuple X is read as rows, as scikit-learn reads it (skorch
    would read several inputs); a module with several inputs takes a dict of
    arrays keyed by its ``forward`` arguments. Labels are encoded to indices
    batch by batch inside ``get_loss``, so datasets, ``predefined_split`` data
    and callbacks all hold the labels as given.

    Threads: fits hold a process-wide lock (torch's initialisation and training
    dropout draw from its global generator, which a seeded fit forks), and each
    classifier holds its own lock while it predicts, so concurrent calls wait
    instead of mixing dropout masks; seeded results do not depend on other
    threads' calls. torch's own thread count (``torch.set_num_threads``) changes
    the order of float sums, so results agree to float rounding across it.

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
        mc_validation=False,
        random_state=None,
        max_memory=None,
        n_jobs=None,
        criterion=torch.nn.CrossEntropyLoss,
        class_weight=None,
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
        self.mc_predict = mc_predict
        self.mc_validation = mc_validation
        self.random_state = random_state
        self.max_memory = max_memory
        self.n_jobs = n_jobs
        if self._weighs_classes:  # not a multi-label classifier's parameter
            self.class_weight = class_weight

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # densified batch by batch
        return tags

    def _check_params(self):
        check_n_mc_samples(self.n_mc_samples)
        check_max_memory(self.max_memory)
        for name in ("mc_predict", "mc_validation"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(
                    f"{name} must be True (MC average) or False (deterministic "
                    f"net), got {value!r}."
                )
        check_random_state(self.random_state)  # raises on a bad random_state
        check_device(self.device)
        if self.classes is not None and len(sorted_classes(self.classes)) == 1:
            raise ValueError(
                f"classes must hold all labels, at least 2, got classes="
                f"{np.asarray(self.classes).tolist()!r}."
            )
        self._check_class_weight()

    # multi-label classifiers weigh no classes: their criterion's weight is
    # per element
    _weighs_classes = True

    def _check_class_weight(self):
        if self._weighs_classes:
            criterion_weight = super().get_params_for("criterion").get("weight")
            check_class_weight(self.class_weight, self.classes, criterion_weight, self)

    def _class_weights(self, X, y, classes=None):
        """The class weights of a fit on X, y over ``classes`` (float32), or None.

        ``classes`` None: ``classes_``, read only when weights are asked for (a
        fit without weights on a Dataset without labels reaches skorch's own
        error about the Dataset).

        ValueError for weights that do not suit the classes or the criterion;
        called before a fit changes anything, and by `fit_loop` to set them.
        """
        if not self._weighs_classes:
            return None
        criterion_weight = super().get_params_for("criterion").get("weight")
        if self.class_weight is None and criterion_weight is None:
            return None
        refuse_unweighted_criterion(self.criterion, self)
        classes = np.asarray(self.classes_ if classes is None else classes)
        if self.class_weight is None:
            return criterion_weight_vector(criterion_weight, classes)
        y_index = None
        if isinstance(self.class_weight, str):  # "balanced": this fit's counts
            y_index = label_indices(self._fit_labels(X, y), classes)
        return class_weight_vector(self.class_weight, classes, y_index)

    def _fit_labels(self, X, y):
        """The labels of a fit: y, or a Dataset's own (checked)."""
        y = fit_labels(X, y)
        if y is None:
            raise ValueError(
                "class_weight='balanced' counts the labels of each fit, but y is "
                "None and the Dataset's labels cannot be read: pass y to fit, or "
                "class_weight={label: weight}."
            )
        return self._check_y(y)

    def _check_class_weights_before_fit(self, X, y, reset):
        """Raise for bad class weights before the fit changes the model."""
        if not self._weighs_classes or (
            self.class_weight is None
            and super().get_params_for("criterion").get("weight") is None
        ):
            return
        if not reset:
            classes = self._known_classes()
        elif self.classes is not None and len(self.classes):
            classes = sorted_classes(self.classes)
        else:
            try:
                classes = np.unique(self._fit_labels(X, y))
            except ValueError:
                return  # a Dataset's labels out of reach: skorch needs classes=
        if classes is not None:
            self._class_weights(X, y, classes)

    @property
    def classes_(self):
        """The labels, sorted (``classes`` too), in the order of the logits."""
        if self.classes is not None and len(self.classes):
            return sorted_classes(self.classes)
        return super().classes_  # inferred from y, or skorch's AttributeError

    def _check_y(self, y):
        if isinstance(y, torch.Tensor):
            y = to_numpy(y)
        refuse_indicator_labels(y)
        y = column_or_1d(y, warn=True)
        check_targets(y, self.classes is not None)
        return y

    def _encode(self, y):
        """Map labels to indices 0..C-1 in ``classes_`` order (int64)."""
        classes = np.asarray(self.classes_)
        idx = label_indices(y, classes)
        unknown = idx < 0
        if not np.any(unknown):
            return idx
        labels = np.unique(y[unknown])[:10].tolist()
        if self._labels_of_y is not None and not set(labels) <= self._labels_of_y:
            raise ValueError(
                f"the Dataset's items carry labels {labels} that are not in "
                f"classes_={shown_labels(classes)}: skorch trains on the labels a "
                "Dataset yields, and fit's y only sets the classes (and the "
                "split). Yield the true labels from the Dataset, or let "
                "skbatchbald.ActiveLearner fit it: it pairs each item with its "
                "label in y (an unlabelled pool's placeholder is no class)."
            )
        if self.classes is not None:
            raise ValueError(
                f"y contains labels {labels} that are not in classes="
                f"{shown_labels(classes)} (the constructor's, which every fit keeps); "
                "add them to classes."
            )
        if self._warm_fit:
            # teach() refits on every label, but a warm fit keeps the module,
            # and with it the classes_ of the first fit: the cause is not y.
            raise ValueError(
                f"y contains labels {labels} that the fitted module has no logit "
                f"for: with warm_start=True each fit keeps training the module "
                f"built by the first one, with classes_={shown_labels(classes)}. Pass "
                "classes=<all labels> to the constructor, so that the module has "
                "a logit for every class from the start, or set warm_start=False, "
                "so that each fit starts over with the classes of its y."
            )
        raise ValueError(
            f"y contains labels {labels} that are not in classes_="
            f"{shown_labels(classes)}; fit on all labels or pass classes=<all labels> "
            "to the constructor."
        )

    def _known_classes(self):
        """``classes_``, or None where they are not known (skorch's case)."""
        try:
            return np.asarray(self.classes_)
        except AttributeError:
            return None

    def _as_float32(self, X, start=0):
        """Cast array-like X to float32 and check its shape; dicts pass unchanged.

        ``start``: X's first row in the whole input, for the message naming
        rows with NaN (X is then one block of a pool).
        """
        name = type(self).__name__
        if isinstance(X, (list, tuple)):
            X = rows_of(X, name)
        if sp.issparse(X):
            X = sparse_rows(X, name)
        elif isinstance(X, torch.Tensor):
            X = refuse_complex(X, name).float()
        elif hasattr(X, "columns") and hasattr(X, "to_numpy"):  # pandas DataFrame
            X = refuse_complex(X.to_numpy(), name).astype(np.float32, copy=False)
        elif isinstance(X, Mapping):
            return X  # several inputs, by forward argument: skorch's handling
        else:
            try:
                array = np.asarray(X)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"X must be numeric: {exc}.") from exc
            refuse_complex(array, name)
            try:
                X = array.astype(np.float32, copy=False)
            except ValueError as exc:
                raise ValueError(
                    f"X must be numeric, got an array of dtype {array.dtype}; "
                    "encode non-numeric features first (e.g. OneHotEncoder)."
                ) from exc
            except TypeError as exc:
                raise TypeError(f"X must be numeric: {exc}.") from exc
        if isinstance(X, np.ndarray) and not X.flags.writeable:
            X = X.copy()  # torch warns on read-only arrays (pandas copy-on-write)
        if X.ndim < 2:
            raise ValueError(
                f"X must have shape (n_samples, n_features, ...), got shape "
                f"{tuple(X.shape)}. Reshape your data either using X.reshape(-1, 1) "
                "if it has a single feature or X.reshape(1, -1) if it is a single "
                "sample."
            )
        for axis, what in ((0, "sample"), (1, "feature")):
            if X.shape[axis] == 0:
                raise ValueError(
                    f"Found array with 0 {what}(s) (shape={tuple(X.shape)}) while "
                    "a minimum of 1 is required."
                )
        n_features = getattr(self, "n_features_in_", None)
        if n_features is not None and X.shape[1] != n_features:
            images = (
                f" (axis 1 of X, shape {tuple(X.shape)}, is the one counted: for "
                "images, the channel axis; a batch without it needs X[:, None])"
                if X.ndim >= 3
                else ""
            )
            raise ValueError(
                f"X has {X.shape[1]} features, but {name} is expecting "
                f"{n_features} features as input{images}."
            )
        if isinstance(X, torch.Tensor):
            finite = torch.isfinite(X).all()
        else:
            finite = np.isfinite(X.data if sp.issparse(X) else X).all()
        if not bool(finite):
            raise ValueError(nonfinite_rows_message(X, start))
        return X

    def _inputs_and_labels(self, X, y, reset):
        """X cast and checked, y as a 1-D array; ``n_features_in_`` learned."""
        if reset:
            self.__dict__.pop("n_features_in_", None)
        if not is_dataset(X):
            X = self._as_float32(X)
            if not hasattr(self, "n_features_in_") and not isinstance(X, Mapping):
                self.n_features_in_ = int(X.shape[1])
        if y is not None:
            y = self._check_y(y)
        return X, y

    def get_dataset(self, X, y=None):
        """Wrap X (cast to float32; a list is rows) and the labels y in a Dataset."""
        if not is_dataset(X):
            X = self._as_float32(X)
        if isinstance(y, (list, tuple)):
            y = np.asarray(y)  # labels, one per row (skorch would read inputs)
        return super().get_dataset(X, y)

    def check_data(self, X, y):
        """Check the labels and, on the first call of a fit, infer ``classes_``.

        ``classes_`` are the sorted unique labels of y, or of the Dataset's own
        targets when y is None (skorch's implicit y); the ``classes`` parameter
        overrides both.
        """
        if y is None and not is_dataset(X) and self.iterator_train is DataLoader:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                f"is None (X is a {type(X).__name__}); pass the labels of X as y, "
                "or a torch Dataset that yields (x, y) pairs as X."
            )
        if y is not None:
            y = self._check_y(y)
        if hasattr(self, "classes_inferred_"):
            return
        if y is None:
            y = fit_labels(X, None)
            if y is None:
                return  # targets not reachable: skorch needs classes= then
            y = self._check_y(y)
        classes = np.unique(y)
        if self.classes is None and len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but "
                f"y contains only one class: {classes.tolist()}. If the labelled "
                "set misses classes (a cold start, or a refit on new labels only), "
                "pass classes=<all labels> to the constructor; it holds for every "
                "later fit."
            )
        self.classes_inferred_ = classes

    def _check_logits(self, shape):
        """ValueError unless one sample's outputs are ``(batch, n_classes)``.

        The one check, for training (``get_loss``) and for sampling.
        """
        classes = np.asarray(self.classes_)
        n_classes = len(classes)
        if len(shape) == 2 and shape[1] == n_classes:
            return
        resize = self._resize_advice(n_classes)
        if len(shape) == 2 and shape[1] > n_classes and self.classes is None:
            # More outputs than labels seen: most often labels missing from y.
            raise ValueError(
                f"the module returns outputs of shape {tuple(shape)} but there are "
                f"{n_classes} classes in y ({classes[:10].tolist()}). If the "
                "labelled set misses some of the module's classes (a cold start, "
                "or a refit on new labels only such as modAL's teach(..., "
                "only_new=True)), pass classes=<all labels> to the constructor; "
                f"it holds for every later fit. If there are only {n_classes} "
                f"classes, {resize[0].lower()}{resize[1:]}"
            )
        source = "in y" if self.classes is None else "in the classes parameter"
        if n_classes == 2 and tuple(shape[1:]) in ((), (1,)):
            # Keras' binary head: Dense(1, activation="sigmoid") with BCE.
            criterion = self._criterion()
            instead = (
                f" instead of {type(criterion).__name__}"
                if isinstance(criterion, (torch.nn.BCELoss, torch.nn.BCEWithLogitsLoss))
                else ""
            )
            how = (
                "set module__n_classes=2"
                if takes_n_classes(self.module)
                else "e.g. a final nn.Linear(..., 2)"
            )
            raise ValueError(
                f"the module returns one output per row (shape {tuple(shape)}), as "
                f"a binary sigmoid head does, but there are 2 classes {source} and "
                f"{type(self).__name__} takes one logit per class: return 2 "
                f"logits per row ({how}; no final sigmoid) and keep the default "
                f"criterion=torch.nn.CrossEntropyLoss{instead}."
            )
        raise ValueError(
            f"the module returns outputs of shape {tuple(shape)} but there are "
            f"{n_classes} classes {source}; it must return (batch, {n_classes}) "
            f"logits. {resize}"
        )

    def _resize_advice(self, n_classes):
        """How to give the module ``n_classes`` outputs: its parameter, or not."""
        if takes_n_classes(self.module):
            return f"Set module__n_classes={n_classes}."
        module = self.module if isinstance(self.module, type) else type(self.module)
        return (
            f"Make its last layer return {n_classes} outputs (e.g. a final "
            f"nn.Linear(..., {n_classes})): {module.__name__}'s constructor takes "
            "no n_classes, so module__n_classes cannot set it."
        )

    def get_loss(self, y_pred, y_true, *args, **kwargs):
        """The criterion on the module's output and the labels encoded as indices.

        Labels are encoded here, batch by batch, so that datasets, splits and
        callbacks all hold the user's labels.
        """
        refuse_tuple_outputs(y_pred, self._criterion(), type(self).__name__)
        classes = self._known_classes()
        if classes is not None:
            if isinstance(y_pred, torch.Tensor):
                self._check_logits(tuple(y_pred.shape))
            y_true = self._indices_of(y_true, classes)
        if self._outputs_unchecked:
            # The first batch of a fit tells logits from (log-)probabilities.
            self._outputs_unchecked = False
            check_outputs_suit_criterion(y_pred, self._criterion())
        loss = super().get_loss(y_pred, y_true, *args, **kwargs)
        if classes is not None and self._weighs_classes:
            loss = self._rows_mean(loss, y_true)
        return loss

    def _rows_mean(self, loss, y_true):
        """A class-weighted mean loss over the batch's rows, as scikit-learn's.

        torch's weighted mean is Σ w ℓ / Σ w over the batch: a batch of one
        class (one row, with batch_size=1) loses its weight, and small batches
        dilute it. Rescaled to Σ w ℓ / n, the weights count as
        ``class_weight`` says, whatever the batches.
        """
        criterion = self._criterion()
        weight = getattr(criterion, "weight", None)
        if weight is None or getattr(criterion, "reduction", None) != "mean":
            return loss
        if not isinstance(y_true, torch.Tensor) or y_true.dim() != 1:
            return loss
        counted = y_true[y_true != getattr(criterion, "ignore_index", -100)]
        if not counted.numel():
            return loss
        return loss * (weight[counted].sum() / counted.numel())

    def _indices_of(self, y_true, classes):
        """The batch's labels as int64 class indices (a tensor on the device)."""
        if (
            isinstance(y_true, torch.Tensor)
            and y_true.dtype == torch.int64
            and classes.dtype.kind in "iu"
            and np.array_equal(classes, np.arange(len(classes)))
            and bool(((y_true >= 0) & (y_true < len(classes))).all())
        ):
            return y_true  # labels that are already the indices
        if isinstance(y_true, torch.Tensor):
            y = to_numpy(y_true)
        else:
            y = np.asarray(list(y_true) if isinstance(y_true, tuple) else y_true)
        return torch.as_tensor(self._encode(y.reshape(-1)), device=self.device)

    def get_params_for(self, prefix):
        """Return skorch's parameters for ``prefix``, with ``n_classes`` implied.

        A module class whose constructor takes ``n_classes`` gets the number of
        classes when the user set none: the classes are known before the module is
        built in ``fit``.

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
        if prefix == "criterion" and self._weighs_classes:
            weight = params.get("weight")
            if weight is not None and not isinstance(weight, torch.Tensor):
                # torch's losses take only a tensor; validated at fit
                params["weight"] = torch.as_tensor(np.asarray(weight, np.float32))
        if prefix == "module" and self._sizes_output():
            classes = self._known_classes()
            if classes is not None:
                params["n_classes"] = len(classes)
        return params

    def _sizes_output(self):
        """Whether the classifier sets ``module__n_classes`` (the user did not)."""
        given = super().get_params_for("module")
        return "n_classes" not in given and takes_n_classes(self.module)

    def fit(self, X, y, **fit_params):
        """Initialise and fit the module on X and labels y of any type.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or torch Dataset
            Cast to float32; DataFrames are converted with ``to_numpy``, a
            sparse matrix is kept sparse (CSR), a list or tuple is read as
            rows. A Dataset yields ``(x, y)`` pairs.
        y : array-like of shape (n_samples,) or None
            Labels (strings, ints, ...); ``classes_`` becomes their sorted
            unique values unless ``classes`` was given. None when X is a
            Dataset that holds the labels.
        **fit_params : dict
            Passed to skorch's ``fit``.

        Returns
        -------
        self : MCDropoutClassifier
            The fitted classifier.
        """
        self._check_params()
        # before skorch's fit re-initialises: a refused fit keeps its model
        check_fit_params(
            getattr(self, "module_", self.module), fit_params, self._weighs_classes
        )
        reset = not self.warm_start or not self.initialized_
        self._check_class_weights_before_fit(X, y, reset)
        X, y = self._inputs_and_labels(X, y, reset=reset)
        if reset:
            self.__dict__.pop("classes_inferred_", None)
            # Classes first: a module taking n_classes is built for them.
            self.check_data(X, y)
            return super().fit(X, y, **fit_params)
        self._warm_fit = True  # classes_ kept: an unknown label names warm_start
        try:
            return super().fit(X, y, **fit_params)
        finally:
            self.__dict__.pop("_warm_fit", None)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train further on X, y without re-initialising the module.

        Training draws shuffling and dropout from torch generators seeded from
        ``random_state``, holding a process-wide lock (see Notes of the class).

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or torch Dataset
            Training inputs.
        y : array-like of shape (n_samples,) or None
            Labels, all in ``classes_``.
        classes : array-like, default=None
            All labels, as in scikit-learn's ``SGDClassifier.partial_fit``:
            needed on the first call where y may miss some (unless ``classes``
            was given to the constructor), optional later, and an error if it
            differs from ``classes_``. They hold for every later
            ``partial_fit``; ``fit`` starts over (``classes_`` from its y),
            so for labels that must survive every refit pass ``classes`` to
            the constructor.
        **fit_params : dict
            Passed to skorch's ``partial_fit``.

        Returns
        -------
        self : MCDropoutClassifier
            The fitted classifier.
        """
        self._check_params()
        # before skorch builds the module on a first call: its class's forward
        check_fit_params(
            getattr(self, "module_", self.module), fit_params, self._weighs_classes
        )
        X, y = self._inputs_and_labels(X, y, reset=False)
        if classes is not None:
            self._keep_classes(np.unique(self._check_y(classes)))
        # skorch trains on a Dataset's own labels, not on y: a label of its
        # items that y does not hold is named as theirs
        if is_dataset(X) and y is not None:
            self._labels_of_y = set(np.unique(y).tolist())
        try:
            with self._seeded_training(_fitting=True, _outputs_unchecked=True):
                return super().partial_fit(X, y, **fit_params)
        finally:
            self.__dict__.pop("_labels_of_y", None)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """Run skorch's training loop, after setting the class weights of these labels.

        Parameters
        ----------
        X : array-like, torch Dataset or dict
            Training inputs, as cast by ``fit`` or ``partial_fit``.
        y : array-like of shape (n_samples,) or None
            Labels (None: a Dataset's own).
        epochs : int or None, default=None
            Epochs to train; None: ``max_epochs``.
        **fit_params : dict
            Passed to skorch's ``fit_loop``.

        Returns
        -------
        self : MCDropoutClassifier
            The trained classifier.
        """
        self.check_data(X, y)  # classes_ known first (once per fit)
        criterion = self._criterion()
        if self._weighs_classes and criterion_takes_weight(criterion):
            # set at every fit: none now, whatever an earlier warm fit set
            weights = self._class_weights(X, y)
            set_class_weight(
                criterion, weights, self.class_weight is not None, self.device
            )
        return super().fit_loop(X, y, epochs=epochs, **fit_params)

    def _keep_classes(self, classes):
        """Hold ``classes`` (sorted labels) from now on, or refuse other ones."""
        known = self._known_classes()
        if known is None:
            if len(classes) < 2:
                raise ValueError(
                    f"classes must hold at least 2 labels, got {classes.tolist()}."
                )
            self.classes_inferred_ = classes
        elif not np.array_equal(np.unique(known), classes):
            raise ValueError(
                f"classes={shown_labels(classes)} differs from the classifier's "
                f"classes_={shown_labels(known)} (from the constructor, the first "
                "partial_fit or the last fit); partial_fit keeps them: pass the "
                "same classes, or call fit to start over."
            )

    _collate_fn = staticmethod(collate_labels)  # string labels into arrays
    _fitting = False  # inside partial_fit: validation scoring follows mc_validation
    _outputs_unchecked = False  # until get_loss sees the first batch of a fit
    _warm_fit = False  # inside a fit that keeps the fitted module (warm_start)
    _labels_of_y = None  # inside a fit on a Dataset given with a y: y's labels

    def _criterion(self):
        """The criterion, unwrapped from torch.compile (None for custom names)."""
        criterion = getattr(self, "criterion_", None)
        return getattr(criterion, "_orig_mod", criterion)

    def _get_module(self, name, msg):
        # save_params/load_params: the module's state carries classes_ and the
        # prediction seed, so that a fresh net loads a model that predicts.
        module = super()._get_module(name, msg)
        if name in ("module", "module_"):
            return ModuleWithClassifierState(self, module, self._adopt_saved_classes)
        return module

    def _log_probs(self):
        """Return a function from module outputs to log-probabilities (B, C).

        It takes an optional ``out``, a float32 CPU tensor of shape (B, C) to
        write them into.
        """
        criterion = self._criterion()
        if self.predict_nonlinearity == "auto" and isinstance(
            criterion, torch.nn.CrossEntropyLoss
        ):
            # Also right for log-probabilities: log_softmax is idempotent.
            return log_softmax_rows
        nonlin = self._get_predict_nonlinearity()

        def log_of_probabilities(output, out=None):
            proba = torch.as_tensor(nonlin(output)).float()
            if not are_probabilities(proba, atol=1e-3):
                raise ValueError(
                    "the module's outputs after predict_nonlinearity are not "
                    "probabilities (rows must be >= 0 and sum to 1); return logits "
                    "with criterion=torch.nn.CrossEntropyLoss (the default), or, "
                    "with a criterion of your own on logits "
                    f"({type(criterion).__name__}), pass predict_nonlinearity="
                    "torch.nn.Softmax(dim=-1) so that predictions turn the logits "
                    "into probabilities."
                )
            return torch.log(proba, out=out)

        return log_of_probabilities

    def _check_eval_is_deterministic(self, X):
        """Raise if two eval-mode passes over a few rows disagree; True if compared.

        Dropout called as ``F.dropout(x, training=True)`` inside ``forward`` is
        invisible to the mask hooks and draws fresh masks per row and per pass,
        which would make the posterior samples inconsistent.
        """
        rows = Subset(X, range(min(8, len(X)))) if is_dataset(X) else head(X, 8)
        dataset = self.get_dataset(rows)
        batch = next(iter(self.get_iterator(dataset, training=False)), None)
        if batch is None:  # no rows: nothing to compare
            return False
        Xi, _ = unpack_data(batch)
        # A well-behaved module draws nothing here. (Forking the global generator
        # would need the process-wide lock, taken after this estimator's: the
        # opposite order of a fit's, so it could deadlock.)
        with torch.no_grad():
            modes = {m: m.training for m in self.module_.modules()}
            try:
                self.module_.eval()
                first, second = self.infer(Xi), self.infer(Xi)
            finally:
                for m, training in modes.items():
                    m.training = training
        first = first[0] if isinstance(first, tuple) else first
        second = second[0] if isinstance(second, tuple) else second
        if not torch.allclose(first, second, rtol=1e-4, atol=1e-5):
            raise ValueError(
                f"the module {type(self.module_).__name__} gives different outputs "
                "for the same rows in two passes in eval mode, so neither its "
                "predictions nor its posterior samples would be consistent: it "
                "draws randomness that eval "
                "mode does not switch off, such as F.dropout(x, training=True) in "
                "forward. Use nn.Dropout layers (or skbatchbald.nn."
                "ConsistentMCDropout) instead."
            )
        return True

    @_exclusive_sampling
    def predict_log_proba_samples(
        self, X, n_mc_samples=None, random_state=None, *, max_memory=None, n_jobs=None
    ):
        """Draw K consistent MC-dropout samples of the class log-probabilities.

        The module is put in eval mode (BatchNorm keeps its running statistics) and each
        dropout layer applies mask set k to every row, under ``torch.no_grad()``; all
        modes are restored afterwards. X is streamed in batches of ``batch_size`` rows;
        a numpy array, memmap or CPU tensor (with the default ``dataset`` and
        ``iterator_valid``) is sliced instead, in blocks of 8,192 rows, each cast to
        float32 and checked on its own, so a memmapped pool is never read into memory
        whole; where the module computes its samples with ``mc_forward``, the
        blocks are sampled on ``cores // torch.get_num_threads()`` threads at
        once (2 on two cores with one torch thread; 1, as before, with torch's
        default of one thread per core; 1 off the main thread, as in a Dask
        task or an ``n_jobs`` shard), sharing ``max_memory``. Per batch, the
        layers before the first sampled dropout layer run once, and the K samples
        are folded into the batch from that layer on; a module with an
        ``mc_forward`` method (such as :class:`~skbatchbald.nn.BayesianCNN`) computes
        them its own faster way. Passes are cut to ``max_memory``; a module whose layers
        break the folding gets one forward pass per sample, with a ``RuntimeWarning``.

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
            ``max_memory`` cannot hold one row and one sample, or ``n_jobs``
            worker processes could not import the module's class (defined in
            ``__main__`` or in a function).

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
        ``random_state`` and k only. With
        :class:`~skbatchbald.nn.BayesianMLP`, whose ``mc_forward`` computes
        rows in fixed tiles, and an array X, a row's samples are bitwise the
        same whether the pool is sampled in one call or in chunks of any size.

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
        layer_seeds = [
            (name, seed) for (name, _), seed in zip(active, seeds, strict=True)
        ]
        n_pool = len(X) if is_dataset(X) else get_len(X)
        batch_size = self.get_params_for("iterator_valid").get(
            "batch_size", self.batch_size
        )
        shards = pool_shards(n_pool, batch_size, joblib.effective_n_jobs(n_jobs))
        if len(shards) <= 1:
            return self._sample(X, n_mc_samples, layer_seeds, max_memory)
        check_shards_can_unpickle(self, n_jobs)
        try:
            parts = joblib.Parallel(n_jobs=n_jobs)(
                joblib.delayed(sample_shard)(
                    self._sample,
                    multi_indexing(X, slice(start, stop)),
                    n_mc_samples,
                    layer_seeds,
                    max_memory // len(shards),
                    os.getpid(),
                )
                for start, stop in shards
            )
        except ValueError as exc:
            # a shard numbers its rows from 0: name the pool's
            renumbered = renumbered_nonfinite_error(exc, X)
            if renumbered is None:
                raise
            raise renumbered from exc
        return np.concatenate(parts)

    def _adopt_saved_classes(self, classes, module):
        """Take the classes a saved state carries; the module to load it into.

        A module built before the classes were known is rebuilt for them (the
        weights are overwritten next; the draw is kept off the global
        generator).
        """
        known = self._known_classes()
        self.classes_inferred_ = classes
        if known is None and module is self.module_ and self._sizes_output():
            with seeded_global_torch(0, self.device):
                self._initialize_module()
                self._initialize_optimizer()
            return self.module_
        return module

    def _sample(self, X, n_mc_samples, layer_seeds, max_memory, own_module=False):
        """(N, K, C) log-probabilities of X by ``module_`` or a copy of it.

        ``own_module``: sample a copy, as every ``n_jobs`` shard does. Threads of
        one process must not share the hooks, and on Dask (joblib's dask
        backend) the net is scattered to one worker and fetched from there by
        the others, which would pickle the hooks of a module being sampled (the
        fetch fails and the shard is never computed).
        """
        module = copy.deepcopy(self.module_) if own_module else self.module_
        as_array = streams_as_array(self, X)
        if as_array:
            n_pool, batches = len(X), array_blocks(X, self._as_float32)
        else:
            dataset = self.get_dataset(X)
            n_pool, batches = len(dataset), self._batches(dataset)
        n_classes = len(self.classes_)
        log_probs = large_empty((n_pool, n_mc_samples, n_classes), np.float32)
        to_log_probs = self._log_probs()
        unchecked = [self.predict_nonlinearity == "auto"]  # outputs read by criterion

        def forward(x):  # skorch's infer, on the given module
            output = module(**x) if isinstance(x, Mapping) else module(x)
            return output[0] if isinstance(output, tuple) else output

        @torch.no_grad()  # grad mode is per thread: block threads need their own
        def fill(start, Xi):
            Xi = to_tensor(Xi, device=self.device)
            for rows, k, output in engine(Xi):
                n, m = output.shape[:2]  # (rows, samples, n_classes)
                self._check_logits(tuple(output.shape[:1] + output.shape[2:]))
                output = output.reshape(n * m, n_classes)
                if unchecked[0]:
                    unchecked[0] = False
                    check_outputs_suit_criterion(output, self._criterion())
                rows = slice(start + rows.start, start + rows.stop)
                if m == n_mc_samples and output.device.type == "cpu":
                    # all samples of these rows: written in place, not copied
                    target = torch.from_numpy(log_probs[rows]).view(n * m, n_classes)
                    to_log_probs(output, out=target)
                    continue
                lp = to_log_probs(output)
                log_probs[rows, k : k + m] = to_numpy(lp).reshape(n, m, n_classes)

        with torch.no_grad(), masked(module, n_mc_samples, layer_seeds) as masks:
            engine = MCForward(module, masks, forward, max_memory)
            start, Xi = next(batches, (None, None))
            if start is not None:
                fill(start, Xi)  # chooses the engine's path and draws the masks
            # an n_jobs shard (own_module) shares the cores with the other shards
            threads = 1
            if as_array and not own_module:
                threads = engine.threads_for(BLOCK_ROWS, block_threads())
            if threads > 1 and start is not None:
                # Blocks are independent and mc_forward computes fixed tiles:
                # the same numbers as one block after another.
                batches.close()
                with engine.shared():
                    for_each_block(
                        lambda at: fill(at, read_block(X, at, self._as_float32)),
                        range(BLOCK_ROWS, n_pool, BLOCK_ROWS),
                        threads,
                    )
            else:
                for start, Xi in batches:
                    fill(start, Xi)
        return log_probs

    def _batches(self, dataset):
        """Yield ``(start, inputs)`` for the batches of the prediction iterator."""
        start = 0
        for batch in self.get_iterator(dataset, training=False):
            Xi, _ = unpack_data(batch)
            yield start, Xi
            start += n_rows(Xi)

    def predict_proba(self, X):
        """Return class probabilities, the MC average of consistent samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float32
            ``(1/K) Σ_k p(y | x, ω_k)`` with K = ``n_mc_samples`` and the masks
            of ``prediction_seed_``, so a fitted classifier predicts the same
            every time. The deterministic network (eval mode, dropout off) if
            ``mc_predict=False``, during training unless ``mc_validation=True``,
            and, with a warning, for a module without dropout.
        """
        self._check_params()
        with lock_of(self):
            if self._deterministic(X):
                return super().predict_proba(X)
            log_probs = self.predict_log_proba_samples(
                X, random_state=self._prediction_seed()
            )
        return np.exp(log_probs.astype(np.float64)).mean(axis=1).astype(np.float32)

    def _deterministic(self, X):
        """Whether to predict with the deterministic network.

        Outside training, a module whose eval mode still draws randomness
        (``F.dropout(x, p)`` in ``forward``, a Keras habit) is refused: neither
        path would predict the same twice.
        """
        if self._fitting and not self.mc_validation:
            return True
        self.check_is_fitted()
        if not self.mc_predict:
            # once per module (marked on it: a new module is checked anew), so
            # that a predict call does not pay two passes each time
            if not getattr(self.module_, "_skbatchbald_eval_checked", False):
                checked = self._check_eval_is_deterministic(X)
                self.module_._skbatchbald_eval_checked = checked
            return True
        if any(layer.p > 0 for _, layer in dropout_layers(self.module_)):
            return False
        self._check_eval_is_deterministic(X)
        warnings.warn(
            f"the module {type(self.module_).__name__} has no dropout layer with "
            "p > 0, so predict_proba is the deterministic network (the MC average "
            "of identical samples). Set mc_predict=False to say so and silence "
            "this warning.",
            SkbatchbaldWarning,
            stacklevel=user_stacklevel(),
        )
        return True

    def _prediction_seed(self):
        # Nets pickled before the seed existed keep their random_state masks.
        return getattr(self, "prediction_seed_", self.random_state)

    def forward(self, X, training=False, device="cpu"):
        """Run skorch's ``forward``, waiting while another thread samples the module.

        Parameters
        ----------
        X : array-like or Dataset
            Inputs.
        training : bool, default=False
            Whether to run the module in training mode.
        device : str, default="cpu"
            Where to put the output.

        Returns
        -------
        y_infer : torch.Tensor or tuple of torch.Tensor
            The module's outputs, concatenated over batches.
        """
        with lock_of(self):
            return super().forward(X, training=training, device=device)

    def predict(self, X):
        """Return the label of highest ``predict_proba`` for each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``; class indices, as skorch returns, where
            the classes are not known (a Dataset without reachable targets and
            no ``classes``).
        """
        index = self.predict_proba(X).argmax(axis=1)
        classes = self._known_classes()
        return index if classes is None else classes[index]
