"""LaplaceHeadClassifier: a MAP softmax head, then a Gaussian last-layer posterior."""

import numbers

import numpy as np
import torch
from scipy.special import softmax
from skorch.utils import to_numpy

from .._memory import _available_memory
from .._validation import check_n_mc_samples
from ._base import HeadClassifierBase
from ._module import BatchedHeads
from ._posterior import (
    draw_kron_weights,
    draw_weights,
    ggn_eigenvalues,
    kron_eigen,
    kron_factors,
    last_layer_ggn,
    log_likelihood,
    marglik_prior_precision,
    precision_cholesky,
)
from ._predictive import class_covariances, logit_variances, probit_proba

_STRUCTURES = ("full", "kron")

__all__ = ["LaplaceHeadClassifier"]


class LaplaceHeadClassifier(HeadClassifierBase):
    """A softmax head with a last-layer Laplace posterior; weights drawn per call.

    A linear (or one-hidden-layer MLP) softmax head on an (N, d) embedding
    array is trained by skorch to its MAP under a Gaussian prior of precision
    λ on its weights. The last layer's weights W (with the bias as a last row)
    then get the Gaussian posterior N(W*, H⁻¹), with H the Hessian of the
    summed cross-entropy at W* (its generalised Gauss-Newton matrix,
    Σ_n (diag(p_n) - p_n p_nᵀ) ⊗ φ_n φ_nᵀ, full) plus λ I.
    ``predict_log_proba_samples`` draws K weight matrices once per call and
    applies the same K to every pool row, so the samples are consistent across
    rows and chunks, as BatchBALD needs. All other parameters are skorch's.

    Parameters
    ----------
    module : torch.nn.Module class, default=BatchedHeads
        The head, built with ``n_features``, ``n_classes``, ``n_members=1``
        and ``hidden``; it must have ``weight`` (1, D, C), ``bias`` (1, C) and a
        ``features`` method like :class:`BatchedHeads`.
    hidden : None or int, default=None
        None: a linear head (the posterior covers all its weights); an int: an
        MLP with this many ReLU units, whose hidden layer stays at its MAP.
    prior_precision : float or "marglik", default="marglik"
        The precision λ > 0 of the Gaussian prior N(0, λ⁻¹ I), used for the
        MAP and the posterior. ``"marglik"``: the MAP is trained with λ = 1,
        then λ for the posterior maximises the Laplace marginal likelihood
        (one eigendecomposition of H; ``prior_precision_`` holds it). A fixed
        λ suits embeddings of a known scale only: the posterior's width along
        directions the labels do not constrain is λ^(-1/2) per weight, so on
        unnormalised embeddings (norms of 10 or more) λ = 1 makes the draws
        disagree at random and every point look maximally uncertain.
    hessian_structure : {"full", "kron"}, default="full"
        "full": the exact GGN, P x P with P = (D + 1) C. "kron": its
        Kronecker factorisation A ⊗ B (K-FAC), A = Σ_n φ_n φ_nᵀ of size
        (D + 1)² and B = (1/N) Σ_n (diag(p_n) - p_n p_nᵀ) of size C²: exact
        for one row, an approximation otherwise, and far cheaper for wide
        embeddings or many classes (two small eigendecompositions instead of
        a P x P Cholesky). "full" works on four P x P float64 matrices and
        one N x P, in O(P³) time (P = 3,850 for D = 384 and C = 10: 0.47 GB
        and 0.03 GB per 1,000 rows; with C = 1000 and D = 128, 530 GB): a fit
        that would need more memory than is available is refused before
        training.
    n_mc_samples : int, default=20
        Number K of weight draws made by ``predict_log_proba_samples`` when
        its ``n_mc_samples`` is None. ``predict_proba`` draws nothing (see
        there).
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds initialisation, shuffling and ``prediction_seed_``.
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
        Epochs per fit; every fit starts from a fresh head, unless
        ``warm_start=True`` (a skorch parameter): then a fit trains the fitted
        head on (its ``classes_`` kept, a changed ``hidden`` starting over).
        The posterior always comes from the rows of the fit, so
        ``teach(only_new=True)`` is refused.
    batch_size : int, default=128
        Rows per training step.
    iterator_train__shuffle : bool, default=True
        Reshuffle the training rows every epoch.
    train_split : None or callable, default=None
        No validation split by default, so tiny labelled sets fit. With one,
        such as ``skorch.dataset.ValidSplit(5, stratified=True)`` (for
        skorch's ``EarlyStopping``), each epoch records ``valid_loss`` and
        ``valid_acc`` (of the MAP head), and the posterior is computed from
        the training rows only.
    verbose : int, default=0
        Print skorch's progress table every epoch if 1.
    criterion : torch criterion class, default=torch.nn.CrossEntropyLoss
        Keep it: the posterior is that of the cross-entropy. ``NLLLoss``
        (skorch's default, for probabilities) is refused at fit: the module
        returns logits.
    criterion__reduction : str, default="none"
        Keep ``"none"``; another reduction is refused at fit.
    class_weight : None, "balanced" or dict, default=None
        Weights of the classes in the loss, as scikit-learn's
        ``class_weight``: ``{label: weight}`` (1 for labels left out), or
        ``"balanced"``, ``n_samples / (n_present * count)`` from the labels of
        each fit. Each row's loss is multiplied by its class's weight (the
        posterior's curvature and marginal likelihood are those of this
        weighted loss; with ``hessian_structure="kron"`` the weights enter the
        factor of the inputs, Σ_n r_n φ_n φ_nᵀ).
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
        The MAP head.
    last_layer_map_ : ndarray of shape (D + 1, n_classes)
        The MAP W*: last-layer weights, the bias as the last row.
    prior_precision_ : float
        λ of the posterior.
    posterior_precision_ : ndarray of shape (P, P), P = (D + 1) * n_classes
        H = GGN + λ I; row i * C + c stands for ``last_layer_map_[i, c]``.
        Only with ``hessian_structure="full"``; computed from
        ``posterior_cholesky_`` when read (not stored).
    posterior_cholesky_ : ndarray of shape (P, P)
        Its lower Cholesky factor L (L Lᵀ = H), which weight draws use. Only
        with ``hessian_structure="full"``.
    class_covariances_ : ndarray of shape (n_classes, D + 1, D + 1)
        The diagonal blocks of H⁻¹: the posterior covariance of each class's
        weight column, which ``predict_proba`` uses. Only with
        ``hessian_structure="full"``.
    kron_factors_ : tuple of ndarray, shapes (D + 1, D + 1) and (C, C)
        A and B, H = A ⊗ B + λ I. Only with ``hessian_structure="kron"``.
    kron_eigen_ : tuple of ndarray
        Eigenvalues and eigenvectors of A and of B, (la, Qa, lb, Qb), which
        weight draws use. Only with ``hessian_structure="kron"``.
    prediction_seed_ : int
        Seed of the weight draws of ``predict_proba``.

    See Also
    --------
    DeepEnsembleClassifier : E heads, each one sample.
    skbatchbald.MCDropoutClassifier : MC dropout, for any network.

    Notes
    -----
    Last-layer Laplace (MacKay 1992; Daxberger et al. 2021, "Laplace Redux").
    Libraries' "GLM" predictives draw logits independently per input, which
    would make every pool row see a different model; BatchBALD's joint entropy
    needs one ω_k for all rows (Kirsch et al. 2019), so this class draws the
    weights themselves. H has P = (D + 1) C rows: about 3,850 for d = 384 and
    C = 10 (118 MB in float64, a Cholesky of about a second on two cores).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skbatchbald.heads import LaplaceHeadClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> head = LaplaceHeadClassifier(max_epochs=100, random_state=0)
    >>> head = head.fit(X[:300], y[:300])
    >>> log_probs = head.predict_log_proba_samples(X[300:305], random_state=0)
    >>> log_probs.shape
    (5, 20, 10)
    >>> head.posterior_precision_.shape
    (650, 650)
    >>> bool((head.predict(X[300:]) == y[300:]).mean() > 0.8)
    True
    """

    # teach(only_new=True) would compute the posterior from the new rows alone
    _posterior_from_fit_rows = True

    def __init__(
        self,
        module=BatchedHeads,
        *,
        hidden=None,
        prior_precision="marglik",
        hessian_structure="full",
        n_mc_samples=20,
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
        self.hidden = hidden
        self.prior_precision = prior_precision
        self.hessian_structure = hessian_structure
        self.n_mc_samples = n_mc_samples
        self.random_state = random_state
        self.max_memory = max_memory
        self.class_weight = class_weight

    def _n_members(self):
        return 1

    def _check_params(self):
        super()._check_params()
        check_n_mc_samples(self.n_mc_samples)
        self._map_precision()
        if not (
            isinstance(self.hessian_structure, str)
            and self.hessian_structure in _STRUCTURES
        ):
            raise ValueError(
                f"hessian_structure must be 'full' (the exact GGN) or 'kron' "
                f"(Kronecker-factored, for wide embeddings), got "
                f"{self.hessian_structure!r}."
            )

    def _map_precision(self):
        """λ of the MAP's prior; ValueError for a bad ``prior_precision``."""
        value = self.prior_precision
        if isinstance(value, str) and value == "marglik":
            return 1.0
        if (
            isinstance(value, numbers.Real)
            and not isinstance(value, bool | np.bool_)
            and np.isfinite(value)
            and value > 0
        ):
            return float(value)
        raise ValueError(
            f"prior_precision must be a finite real > 0 (e.g. 1.0) or "
            f"'marglik' (tuned by the marginal likelihood), got {value!r}."
        )

    def _training_inputs(self, X, seed):
        self._n_train_ = len(X)  # the prior's weight in the mean loss is λ / N
        return X

    def _trained_on(self, dataset_train, dataset_valid):
        # the prior's weight in the mean loss is λ / N over the rows trained on
        self._n_train_ = len(dataset_train)
        self._split_rows = None if dataset_valid is None else dataset_train

    def _rows_trained_on(self, X, y_index):
        """The rows the MAP was trained on: X, or the training split's rows."""
        split = vars(self).pop("_split_rows", None)
        if split is None:
            return X, y_index
        rows, labels = [], []
        for Xi, yi in self.get_iterator(split, training=False):
            rows.append(to_numpy(Xi))
            labels.append(to_numpy(yi))
        return np.concatenate(rows), np.concatenate(labels).astype(np.int64)

    def _check_loadable(self, loads_weights):
        if loads_weights and hasattr(self, "prediction_seed_"):
            raise ValueError(
                f"load_params would replace the weights of this fitted "
                f"{type(self).__name__}, but not its posterior (last_layer_map_, "
                "its covariance, prior_precision_), which fit computed from the "
                "training rows and save_params does not keep: the head would go "
                "on predicting as its last fit. To restore a saved head, pickle "
                "it (or joblib.dump it) and load that; to train on, call fit."
            )

    def _penalty(self):
        sq_norm = sum(torch.sum(p**2) for p in self.module_.parameters())
        return self._map_precision() / (2 * self._n_train_) * sq_norm

    def _features(self, X):
        """Last-layer inputs φ (n, D) of embeddings X (a tensor), no bias column."""
        phi = self.module_.features(X)
        return phi[:, 0] if phi.dim() == 3 else phi

    def _fit_posterior(self, X, y_index):
        # the Hessian of the loss the MAP minimised: a validation split's rows
        # were never in it
        X, y_index = self._rows_trained_on(X, y_index)
        with torch.no_grad():
            self.module_.eval()
            phi = self._features(torch.as_tensor(X, device=self.device))
            phi = phi.double().cpu().numpy()
            weight = self.module_.weight[0].double().cpu().numpy()
            bias = self.module_.bias[0].double().cpu().numpy()
        phi = np.hstack([phi, np.ones((len(phi), 1))])
        self.last_layer_map_ = np.vstack([weight, bias[None]])  # (D + 1, C)
        probs = softmax(phi @ self.last_layer_map_, axis=1)
        # class weights scale each row's loss, so its curvature and likelihood
        # too: the posterior of the loss the MAP minimised
        row_weights = self._row_weights(y_index)
        curvature_phi = (
            phi if row_weights is None else phi * np.sqrt(row_weights)[:, None]
        )
        for name in (
            "posterior_precision_",  # kept by heads pickled before 0.1
            "posterior_cholesky_",
            "class_covariances_",
            "kron_factors_",
            "kron_eigen_",
        ):
            self.__dict__.pop(name, None)  # nothing of another structure is kept
        if self.hessian_structure == "kron":
            self.kron_factors_ = kron_factors(curvature_phi, probs)
            self.kron_eigen_ = kron_eigen(*self.kron_factors_)
            eigenvalues = np.outer(self.kron_eigen_[0], self.kron_eigen_[2])
            self.prior_precision_ = self._posterior_prior(
                eigenvalues, phi, y_index, row_weights
            )
            return
        ggn = last_layer_ggn(curvature_phi, probs)
        self.prior_precision_ = self._posterior_prior(
            ggn_eigenvalues(ggn) if self.prior_precision == "marglik" else None,
            phi,
            y_index,
            row_weights,
        )
        ggn[np.diag_indices_from(ggn)] += self.prior_precision_
        # L alone is kept: H = L Lᵀ on demand, so the fitted head (and its
        # pickle) holds one P x P matrix, not two (238 -> 119 MB at d = 384)
        self.posterior_cholesky_ = precision_cholesky(ggn)
        del ggn
        self.class_covariances_ = class_covariances(
            self.posterior_cholesky_, self.last_layer_map_.shape[1]
        )

    def _check_posterior_size(self, n_rows, n_features, n_classes):
        if self.hessian_structure != "full":
            return
        width = self.hidden or n_features
        n_weights = (width + 1) * n_classes
        # float64: the GGN, its transpose's sum, the outer product's Gram and
        # eigh's or Cholesky's copy (P x P each), and the rows' φ ⊗ p (N x P)
        needed = 8 * (4 * n_weights**2 + n_rows * n_weights)
        available = _available_memory()
        if available is not None and needed > available:
            raise ValueError(
                f"hessian_structure='full' needs about {needed / 2**30:.3g} GiB "
                f"(four {n_weights} x {n_weights} float64 matrices and one of "
                f"{n_rows} x {n_weights}; P = (D + 1) x C = {n_weights} "
                f"last-layer weights for D = {width} and C = {n_classes} classes), "
                f"more than the {available / 2**30:.3g} GiB available. Use "
                "hessian_structure='kron', whose factors are (D + 1)^2 and C^2."
            )

    def _posterior_prior(self, eigenvalues, phi, y_index, row_weights=None):
        """λ of the posterior: the parameter, or tuned by the marginal likelihood."""
        if self.prior_precision != "marglik":
            return self._map_precision()
        return marglik_prior_precision(
            eigenvalues,
            self.last_layer_map_,
            log_likelihood(phi, self.last_layer_map_, y_index, row_weights),
        )

    def __setstate__(self, state):
        # a head pickled when H was kept beside L: L alone holds it now
        state.pop("posterior_precision_", None)
        super().__setstate__(state)

    @property
    def posterior_precision_(self):
        """ndarray of shape (P, P): H = L Lᵀ, from ``posterior_cholesky_``
        (computed at each read: keep it if you read it often)."""
        try:
            cholesky = self.posterior_cholesky_
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__} has no attribute 'posterior_precision_' "
                "(fitted with hessian_structure='full' only)"
            ) from None
        return cholesky @ cholesky.T

    def _draw(self, n_mc_samples, rng):
        """K last-layer weight matrices (K, D + 1, C), float32, on the device."""
        k = check_n_mc_samples(
            self.n_mc_samples if n_mc_samples is None else n_mc_samples
        )
        if hasattr(self, "kron_factors_"):
            weights = draw_kron_weights(
                self.last_layer_map_, self.kron_eigen_, self.prior_precision_, k, rng
            )
        else:
            weights = draw_weights(
                self.last_layer_map_, self.posterior_cholesky_, k, rng
            )
        return torch.as_tensor(weights, dtype=torch.float32, device=self.device)

    def _chunk_logits(self, X, draw):
        phi = self._features(X)  # (n, D)
        k, d1, c = draw.shape
        flat = draw[:, :-1].permute(1, 0, 2).reshape(d1 - 1, k * c)
        return (phi @ flat).reshape(len(phi), k, c) + draw[:, -1]

    def predict_log_proba_samples(
        self, X, n_mc_samples=None, random_state=None, *, max_memory=None
    ):
        """K posterior samples of the class log-probabilities, (N, K, C).

        K last-layer weight matrices are drawn once per call from N(W*, H⁻¹)
        and applied to every row, so sample k is one model for the whole pool,
        whatever the chunking or row order.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Pool embeddings; a memmap is read block by block.
        n_mc_samples : int, default=None
            Number K of weight draws; None uses ``n_mc_samples``.
        random_state : None, int, numpy.random.Generator or RandomState, default=None
            Source of the draws; the same value gives the same samples.
        max_memory : None, int or str, default=None
            Overrides the ``max_memory`` parameter for this call.

        Returns
        -------
        log_probs : ndarray of shape (n_samples, K, n_classes), float32
            ``log p(y = c | x_n, W_k)``, classes in ``classes_`` order.

        Raises
        ------
        NotFittedError
            If the classifier is not fitted.
        ValueError
            If X is not 2-D, has another dimension than at fit, or holds NaN
            or infinity.
        """
        return super().predict_log_proba_samples(
            X, n_mc_samples, random_state, max_memory=max_memory
        )

    def predict_proba(self, X):
        """Return the posterior predictive's class probabilities, without draws.

        The logits f(x) = W φ(x) are Gaussian under the weight posterior, with
        mean ``W*`` φ(x) and per-class variance σ²_c(x); the probit
        approximation softmax(μ_c / sqrt(1 + π σ²_c / 8)) (MacKay 1992) stands
        for their expected softmax. It is deterministic: an average of
        ``n_mc_samples`` draws would carry Monte Carlo noise that, with wide
        posteriors and K = 20, cost more accuracy than the posterior itself.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Embeddings; a memmap is read block by block.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
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
        width, n_classes = self.last_layer_map_.shape
        if hasattr(self, "kron_eigen_"):
            posterior = {"kron": (*self.kron_eigen_, self.prior_precision_)}
        else:
            posterior = {"covariances": self.class_covariances_}

        def proba(chunk, rows):
            phi = self._features(chunk).double().cpu().numpy()
            phi = np.hstack([phi, np.ones((len(phi), 1))])
            variances = logit_variances(phi, **posterior)
            return probit_proba(phi @ self.last_layer_map_, variances)

        # float64 per row: the input, hidden layer, φ and C x (D + 1) products
        per_row = 8 * (X.shape[1] + (self.hidden or 0) + (n_classes + 2) * width)
        out = np.empty((len(X), n_classes))
        return self._map_chunks(X, per_row, None, out, proba)
