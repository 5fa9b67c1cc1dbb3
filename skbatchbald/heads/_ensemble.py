"""DeepEnsembleClassifier: E heads trained together, each one posterior sample."""

import numpy as np
import torch

from .._validation import check_int, check_n_mc_samples, spawn_seeds
from ..classifier._outputs import log_softmax_rows
from ._base import HeadClassifierBase
from ._module import BatchedHeads

__all__ = ["DeepEnsembleClassifier"]


class DeepEnsembleClassifier(HeadClassifierBase):
    """A deep ensemble of small heads on embeddings; each member is one sample.

    E linear (or one-hidden-layer MLP) softmax heads on an (N, d) embedding
    array, held as one batched module (:class:`BatchedHeads`, weights of
    shape (E, d, C)) and trained together by skorch: the loss is the sum of the
    members' cross-entropies, so each member follows its own gradient from its
    own initialisation (and, with ``bootstrap=True``, its own resample of the
    labelled rows). ``predict_log_proba_samples`` returns one sample per member
    (Lakshminarayanan, Pritzel & Blundell 2017), the same member for every
    row. All other parameters are skorch's (``callbacks``, ``device``,
    ``optimizer__weight_decay``, ...).

    Parameters
    ----------
    module : torch.nn.Module class, default=BatchedHeads
        The batched heads; it is built with ``n_features``, ``n_classes``,
        ``n_members`` and ``hidden`` and returns logits (N, E, C).
    n_members : int, default=5
        Number E of heads, the most posterior samples there are.
    hidden : None or int, default=None
        None: linear heads; an int: MLP heads with this many ReLU units.
    bootstrap : bool, default=False
        If True, each member's loss weights the labelled rows by a bootstrap
        resample of its own (a row drawn m times counts m times); if False,
        members differ by their initialisation only, as in Lakshminarayanan et
        al. (2017), who found that enough.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds initialisation, shuffling and the bootstrap. Set, fits are
        repeatable and neither read nor change the global torch generator.
    max_memory : None, int or str, default=None
        Budget in bytes (or a string such as ``"512MB"``) for the blocks of a
        sampled pool in memory at once; None: ``min(1 GiB, available memory /
        4)``. A pool is read in blocks of 8,192 rows (fewer if the budget holds
        fewer), sampled on ``cores // torch.get_num_threads()`` threads at once
        as :class:`~skbatchbald.MCDropoutClassifier` does (2 on two cores with one
        torch thread), as many as the budget holds; the samples are the same
        either way.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Optimizer.
    lr : float, default=1e-2
        Learning rate.
    max_epochs : int, default=200
        Epochs per fit; every fit starts from fresh heads, unless
        ``warm_start=True`` (a skorch parameter): then a fit trains the fitted
        heads on, keeps their ``classes_`` (labels outside them are refused)
        and starts over only if ``hidden`` or ``n_members`` changed.
    batch_size : int, default=128
        Rows per training step.
    iterator_train__shuffle : bool, default=True
        Reshuffle the training rows every epoch.
    train_split : None or callable, default=None
        No validation split by default, so tiny labelled sets fit. With one,
        such as ``skorch.dataset.ValidSplit(5, stratified=True)`` (for
        skorch's ``EarlyStopping``), each epoch records ``valid_loss`` and
        ``valid_acc`` (of the members' mean prediction).
    verbose : int, default=0
        Print skorch's progress table every epoch if 1.
    criterion : torch criterion class, default=torch.nn.CrossEntropyLoss
        Loss of each member on its logits (a subclass, or
        ``criterion__label_smoothing``, works too). ``NLLLoss`` (skorch's
        default, for probabilities) is refused at fit: the module returns
        logits.
    criterion__reduction : str, default="none"
        Keep ``"none"`` (rows and members are summed here); another reduction
        is refused at fit.
    class_weight : None, "balanced" or dict, default=None
        Weights of the classes in the loss, as scikit-learn's
        ``class_weight``: ``{label: weight}`` (1 for labels left out), or
        ``"balanced"``, ``n_samples / (n_present * count)`` from the labels of
        each fit. Each row's loss is multiplied by its class's weight.
        skorch's ``criterion__weight`` does the same by position, in
        ``classes_`` order (sorted: refused with ``classes=`` in another
        order); give one of the two.
    **kwargs
        Any other :class:`skorch.NeuralNetClassifier` parameter, such as
        ``classes`` (all labels, each once, for a labelled set that misses
        some; a label given twice is a ``ValueError``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels, sorted.
    n_features_in_ : int
        Dimension d of the embeddings.
    module_ : BatchedHeads
        The fitted heads.
    prediction_seed_ : int
        Drawn from ``random_state`` at fit (unused by the ensemble itself).

    See Also
    --------
    LaplaceHeadClassifier : A last-layer Laplace posterior on one head.
    skbatchbald.MCDropoutClassifier : MC dropout, for any network.

    Notes
    -----
    BatchBALD needs the same model ω_k for every pool row; a member is one
    fixed model, so ensembles give consistent samples for free, but only E of
    them: K = E at most, and with few members the joint entropies BatchBALD
    estimates are coarse (Kirsch et al. 2019 use K = 100 dropout samples; 5 to
    20 members is usual for ensembles).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skbatchbald.heads import DeepEnsembleClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> heads = DeepEnsembleClassifier(n_members=8, max_epochs=100, random_state=0)
    >>> heads = heads.fit(X[:300], y[:300])
    >>> heads.predict_log_proba_samples(X[300:305]).shape
    (5, 8, 10)
    >>> bool((heads.predict(X[300:]) == y[300:]).mean() > 0.8)
    True
    """

    def __init__(
        self,
        module=BatchedHeads,
        *,
        n_members=5,
        hidden=None,
        bootstrap=False,
        random_state=None,
        max_memory=None,
        optimizer=torch.optim.Adam,
        lr=1e-2,
        max_epochs=200,
        batch_size=128,
        iterator_train__shuffle=True,
        train_split=None,
        verbose=0,
        criterion=torch.nn.CrossEntropyLoss,
        criterion__reduction="none",
        class_weight=None,
        **kwargs,
    ):
        super().__init__(
            module,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            iterator_train__shuffle=iterator_train__shuffle,
            train_split=train_split,
            verbose=verbose,
            criterion=criterion,
            criterion__reduction=criterion__reduction,
            **kwargs,
        )
        self.n_members = n_members
        self.hidden = hidden
        self.bootstrap = bootstrap
        self.random_state = random_state
        self.max_memory = max_memory
        self.class_weight = class_weight

    def _n_members(self):
        return self.n_members

    def _check_params(self):
        super()._check_params()
        check_int(self.n_members, "n_members", hint="the number E of heads, e.g. 5")
        if not isinstance(self.bootstrap, bool | np.bool_):
            raise ValueError(
                f"bootstrap must be True (a resample per member) or False, got "
                f"{self.bootstrap!r}."
            )

    def _training_inputs(self, X, seed):
        if not self.bootstrap:
            return X
        rng = np.random.default_rng(spawn_seeds(seed, 1)[0])
        n = len(X)
        counts = np.stack(
            [
                np.bincount(rng.integers(0, n, n), minlength=n)
                for _ in range(self.n_members)
            ],
            axis=1,
        )
        return {"X": X, "member_weights": counts.astype(np.float32)}

    def _draw(self, n_mc_samples, rng):
        """Indices of the members that are the samples, sorted."""
        n_members = self.module_.n_members
        if n_mc_samples is None:
            return np.arange(n_members)
        k = check_n_mc_samples(n_mc_samples)
        if k > n_members:
            raise ValueError(
                f"n_mc_samples={k} exceeds the {n_members} members of the "
                f"{type(self).__name__}, each of which is one posterior sample; "
                f"pass n_mc_samples <= {n_members}, None for all, or fit with "
                f"n_members >= {k}."
            )
        if k == n_members:
            return np.arange(n_members)
        return np.sort(rng.choice(n_members, k, replace=False))

    def _chunk_logits(self, X, draw):
        return self.module_(X)[:, torch.as_tensor(draw, device=X.device)]

    def predict_log_proba_samples(
        self, X, n_mc_samples=None, random_state=None, *, max_memory=None
    ):
        """One sample of the class log-probabilities per member, (N, K, C).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Pool embeddings; a memmap is read block by block.
        n_mc_samples : int, default=None
            Number K of samples: None for all E members; K < E picks K members
            at random without replacement (seeded by ``random_state``), in
            member order.
        random_state : None, int, numpy.random.Generator or RandomState, default=None
            Source of the member subsample when K < E.
        max_memory : None, int or str, default=None
            Overrides the ``max_memory`` parameter for this call.

        Returns
        -------
        log_probs : ndarray of shape (n_samples, K, n_classes), float32
            ``log p(y = c | x_n, member_k)``, classes in ``classes_`` order.

        Raises
        ------
        NotFittedError
            If the classifier is not fitted.
        ValueError
            If ``n_mc_samples`` exceeds ``n_members``, or X is not 2-D, has
            another dimension than at fit, or holds NaN or infinity.
        """
        return super().predict_log_proba_samples(
            X, n_mc_samples, random_state, max_memory=max_memory
        )

    def predict_proba(self, X):
        """Return the class probabilities averaged over all members.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
            ``(1/E) Σ_e p(y | x, member_e)``, computed block by block within
            ``max_memory`` (the (N, E, C) samples are never held at once).

        Raises
        ------
        NotFittedError
            If the classifier is not fitted.
        ValueError
            If X is not 2-D, has another dimension than at fit, or holds NaN
            or infinity.
        """
        X = self._fitted_embeddings(X)
        members = self._draw(None, None)
        n_classes = len(self.classes_)

        def proba(chunk, rows):
            logits = self._chunk_logits(chunk, members)
            samples = log_softmax_rows(logits).cpu().numpy()
            return np.exp(samples.astype(np.float64)).mean(axis=1)

        # per row: the input and hidden layers, E logits and their float32
        # log-softmax, then their float64 exp
        per_row = (
            4 * (X.shape[1] + len(members) * ((self.hidden or 0) + 3 * n_classes))
            + 16 * len(members) * n_classes
        )
        out = np.empty((len(X), n_classes))
        return self._map_chunks(X, per_row, None, out, proba)
