"""MCDropoutMultiLabelClassifier: consistent MC dropout with one Bernoulli per label."""

import numpy as np
import scipy.sparse as sp
import torch
from skorch import NeuralNet
from skorch.utils import is_dataset, to_numpy

from ._estimator import MCDropoutClassifier
from ._inputs import fit_labels
from ._locks import lock_of
from ._outputs import refuse_tuple_outputs

__all__ = ["MCDropoutMultiLabelClassifier", "check_indicator"]


def check_indicator(y, name="MCDropoutMultiLabelClassifier"):
    """A 0/1 indicator y of shape (n_samples, n_labels) as float32, or ValueError.

    Rows with no label (all 0) are valid: "none of the labels applies".
    """
    if isinstance(y, torch.Tensor):
        y = to_numpy(y)
    if sp.issparse(y):
        y = y.toarray()
    try:
        y = np.asarray(y)
    except (TypeError, ValueError):
        y = np.asarray(y, dtype=object)  # ragged label sets: refused below
    if y.ndim != 2 or y.dtype.kind == "O":
        raise ValueError(
            f"{name} needs y as a 0/1 indicator matrix of shape (n_samples, "
            f"n_labels), one column per label, got an array of shape {y.shape}"
            f"{' and dtype object' if y.dtype.kind == 'O' else ''}. For one label "
            "per row use MCDropoutClassifier; turn lists of label names into an "
            "indicator with sklearn.preprocessing.MultiLabelBinarizer."
        )
    if y.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} needs a numeric 0/1 indicator y, got dtype {y.dtype}; encode "
            "label names with sklearn.preprocessing.MultiLabelBinarizer."
        )
    if y.shape[1] == 0:
        raise ValueError(
            f"{name} needs at least one label column, got y of shape {y.shape}."
        )
    if y.dtype.kind == "f" and np.isnan(y).any():
        rows = np.flatnonzero(np.isnan(y).any(axis=1))
        raise ValueError(
            f"y holds NaN in {len(rows)} rows (first: {rows[:5].tolist()}); every "
            "label of a taught row must be 0 or 1. Label the missing entries or "
            "drop those rows."
        )
    bad = ~np.isin(y, (0, 1))
    if bad.any():
        raise ValueError(
            f"y must hold 0 or 1 only (label absent or present), got "
            f"{np.unique(y[bad])[:10].tolist()}. Threshold scores or encode "
            "{-1, 1} labels as 0/1 first."
        )
    return y.astype(np.float32)


class MCDropoutMultiLabelClassifier(MCDropoutClassifier):
    """Consistent MC-dropout classifier for multi-label y: one Bernoulli per label.

    The multi-label sibling of :class:`~skbatchbald.MCDropoutClassifier`: the
    module returns L logits, one per label, trained with
    ``BCEWithLogitsLoss`` on a 0/1 indicator y of shape (n_samples, L).
    Sampling, its guarantees (masks consistent across the pool, chunk and
    ``n_jobs`` invariance, seeds) and every other parameter are those of
    :class:`~skbatchbald.MCDropoutClassifier`; only the outputs differ.

    Parameters
    ----------
    module : torch.nn.Module class or instance
        A network with dropout layers that returns ``(batch, n_labels)``
        logits. A module class whose constructor takes ``n_classes`` gets the
        number of labels L unless ``module__n_classes`` is set (so
        :class:`~skbatchbald.nn.BayesianMLP` works as it is). An instance is
        the starting point: every
        initialisation trains a copy of it from its weights, as in
        :class:`~skbatchbald.MCDropoutClassifier`.
    *args : list
        Passed to :class:`~skbatchbald.MCDropoutClassifier`.
    n_mc_samples : int, default=20
        Number K of posterior samples.
    mc_predict : bool, default=True
        ``predict_proba`` as the MC average of consistent samples (True) or
        the deterministic network (False).
    mc_validation : bool, default=False
        Score validation data with the MC average (True) or the deterministic
        network (False).
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds initialisation, shuffling, training dropout and prediction masks.
    max_memory : None, int or str, default=None
        Memory budget of one sampling pass.
    n_jobs : None or int, default=None
        Number of joblib workers for sampling.
    criterion : torch criterion class, default=torch.nn.BCEWithLogitsLoss
        Must be ``BCEWithLogitsLoss`` (or a subclass): the samples are
        ``logsigmoid`` of the logits.
    optimizer : torch optimizer class, default=torch.optim.Adam
        The optimizer.
    lr : float, default=1e-3
        Learning rate.
    max_epochs : int, default=200
        Training epochs per fit.
    iterator_train__shuffle : bool, default=True
        Shuffle training batches.
    train_split : None or callable, default=None
        The validation split of skorch; None trains on all rows.
    **kwargs : dict
        Any other skorch parameter. ``classes`` must stay None: the labels
        are y's columns.

    Attributes
    ----------
    classes_ : ndarray of shape (n_labels,)
        The label columns, ``0 .. L - 1`` (scikit-learn's ``MLPClassifier``
        convention for multi-label y).
    prediction_seed_ : int
        Seed of the masks of ``predict_proba``.

    See Also
    --------
    MCDropoutClassifier : One label per row.
    skbatchbald.sampling.predict_multilabel_log_proba_samples : Samples of any
        multi-label source.
    skbatchbald.acquisition.multilabel_batchbald : What BatchBALDQuery
        computes on these samples.

    Notes
    -----
    A sibling class rather than a mode of ``MCDropoutClassifier``: the two
    differ in what y is (labels vs. an indicator), in the loss, in what
    ``predict_proba`` returns ((N, C) rows summing to 1 vs. (N, L)
    independent probabilities), in ``predict`` (argmax vs. a 0.5 threshold
    per label) and in the samples' meaning; one class guessing which from y
    would turn a one-hot y typed by mistake into a multi-label model. The
    labels are independent given the weights ω (the usual sigmoid head), and
    dependent through ω: posterior sample k is one network for every label.

    A row with no label (all 0) is valid training data. y must be 0 or 1
    everywhere: NaN (a missing annotation) is refused, not read as 0.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald import MCDropoutMultiLabelClassifier
    >>> from skbatchbald.nn import BayesianMLP
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 4))
    >>> Y = np.stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 1] > 1], axis=1)
    >>> clf = MCDropoutMultiLabelClassifier(BayesianMLP, module__n_features=4,
    ...     max_epochs=20, verbose=0, random_state=0).fit(X, Y.astype(int))
    >>> clf.predict_proba(X[:2]).shape, clf.predict(X[:2]).shape
    ((2, 3), (2, 3))
    >>> clf.predict_log_proba_samples(X[:2], n_mc_samples=5, random_state=0).shape
    (2, 5, 3)
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
        criterion=torch.nn.BCEWithLogitsLoss,
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
            n_mc_samples=n_mc_samples,
            mc_predict=mc_predict,
            mc_validation=mc_validation,
            random_state=random_state,
            max_memory=max_memory,
            n_jobs=n_jobs,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            iterator_train__shuffle=iterator_train__shuffle,
            train_split=train_split,
            **kwargs,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # what skbatchbald.sampling reads: the samples are (N, K, L) per label
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags

    _weighs_classes = False  # BCE's weight is per element, not per class

    def _check_params(self):
        if self.classes is not None:
            raise ValueError(
                f"classes={self.classes!r} is not used by a multi-label "
                "classifier: the labels are the columns of y. Leave classes=None."
            )
        super()._check_params()

    def _check_y(self, y):
        return check_indicator(y, type(self).__name__)

    def check_data(self, X, y):
        """Check that y is a 0/1 indicator; on a fit's first call set ``classes_``.

        Parameters
        ----------
        X : array-like or Dataset
            Inputs.
        y : array-like of shape (n_samples, n_labels) or None
            The indicator; None when X is a Dataset that holds it.
        """
        y = fit_labels(X, y)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y, a 0/1 indicator of shape "
                "(n_samples, n_labels), but the target y is None; pass it, or a "
                "torch Dataset of (x, y) pairs whose y skorch can reach."
            )
        y = self._check_y(y)
        n_labels = y.shape[1]
        known = getattr(self, "classes_inferred_", None)
        if known is None:
            self.classes_inferred_ = np.arange(n_labels)
        elif len(known) != n_labels:
            raise ValueError(
                f"y has {n_labels} label columns but the classifier was fitted on "
                f"{len(known)}; partial_fit and warm starts keep the labels. Pass y "
                f"with the same {len(known)} columns in the same order, or call fit "
                "(without warm_start) to start over."
            )

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Train further on X and a 0/1 indicator y without re-initialising.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or torch Dataset
            Training inputs.
        y : array-like of shape (n_samples, n_labels) or None
            The indicator, with the columns of the first fit.
        classes : None, default=None
            Not used (the labels are y's columns); anything else is refused.
        **fit_params : dict
            Passed to skorch's ``partial_fit``.

        Returns
        -------
        self : MCDropoutMultiLabelClassifier
            The fitted classifier.
        """
        if classes is not None:
            raise ValueError(
                "classes is not used by a multi-label classifier: the labels are "
                "the columns of y. Call partial_fit(X, y)."
            )
        if y is not None and not is_dataset(X):
            self.check_data(X, y)  # the number of labels, before any training
        return super().partial_fit(X, y, **fit_params)

    def _check_logits(self, shape):
        n_labels = len(self.classes_)
        if len(shape) != 2 or shape[1] != n_labels:
            raise ValueError(
                f"the module returns outputs of shape {tuple(shape)} but y has "
                f"{n_labels} label columns; it must return (batch, {n_labels}) "
                f"logits, one per label. {self._resize_advice(n_labels)}"
            )

    def _check_criterion(self):
        criterion = self._criterion()
        if not isinstance(criterion, torch.nn.BCEWithLogitsLoss):
            raise ValueError(
                f"{type(self).__name__} needs criterion=torch.nn.BCEWithLogitsLoss "
                f"(one sigmoid per label), got {type(criterion).__name__}; the "
                "samples are logsigmoid of the module's logits."
            )

    def get_loss(self, y_pred, y_true, *args, **kwargs):
        """``BCEWithLogitsLoss`` of the logits against the float 0/1 indicator.

        Parameters
        ----------
        y_pred : torch.Tensor of shape (batch, n_labels)
            The module's logits.
        y_true : torch.Tensor or array of shape (batch, n_labels)
            The indicator.
        *args : list
            Passed to skorch's ``get_loss``.
        **kwargs : dict
            Passed to skorch's ``get_loss``.

        Returns
        -------
        loss : torch.Tensor
            The criterion's value.
        """
        self._check_criterion()
        refuse_tuple_outputs(y_pred, self._criterion(), type(self).__name__)
        if isinstance(y_pred, torch.Tensor):
            self._check_logits(tuple(y_pred.shape))
            y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
        # skorch's NeuralNet loss: NeuralNetClassifier's adds a log for NLLLoss
        return NeuralNet.get_loss(self, y_pred, y_true, *args, **kwargs)

    def _log_probs(self):
        self._check_criterion()

        def log_sigmoid(logits, out=None):
            # ``out``: the samples' own array, written in place (as the parent's)
            if out is None:
                return torch.nn.functional.logsigmoid(logits.float())
            return torch.nn.functional.logsigmoid(logits.float(), out=out)

        return log_sigmoid

    def predict_log_proba_samples(
        self, X, n_mc_samples=None, random_state=None, *, max_memory=None, n_jobs=None
    ):
        """Draw K consistent MC-dropout samples of each label's log-probability.

        As :meth:`MCDropoutClassifier.predict_log_proba_samples
        <skbatchbald.MCDropoutClassifier.predict_log_proba_samples>`, with the
        logits turned into ``log p(y_l = 1) = logsigmoid(logit_l)``.

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
        log_probs : ndarray of shape (n_samples, n_mc_samples, n_labels), float32
            ``log p(y_l = 1 | x_n, ω_k)``, labels in y's column order.
        """
        return super().predict_log_proba_samples(
            X,
            n_mc_samples=n_mc_samples,
            random_state=random_state,
            max_memory=max_memory,
            n_jobs=n_jobs,
        )

    def predict_proba(self, X):
        """Return each label's probability, the MC average of consistent samples.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels), float32
            ``(1/K) Σ_k p(y_l = 1 | x, ω_k)``, with the masks of
            ``prediction_seed_``; the deterministic network's sigmoid when
            ``mc_predict=False`` or while training (unless
            ``mc_validation=True``). Rows need not sum to 1.
        """
        self._check_params()
        with lock_of(self):
            if self._deterministic(X):
                self._check_criterion()
                logits = self.forward(X, training=False)
                return torch.sigmoid(logits.float()).numpy()
            log_probs = self.predict_log_proba_samples(
                X, random_state=self._prediction_seed()
            )
        return np.exp(log_probs.astype(np.float64)).mean(axis=1).astype(np.float32)

    def predict(self, X):
        """Return the 0/1 indicator of the labels of probability >= 0.5.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        y : ndarray of shape (n_samples, n_labels), int64
            1 where ``predict_proba`` is at least 0.5.
        """
        return (self.predict_proba(X) >= 0.5).astype(np.int64)
