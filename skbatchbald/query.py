"""Query strategies for modAL: BatchBALD and the paper's baselines.

Each strategy is a scikit-learn estimator (parameters in ``__init__``,
``get_params``, ``clone``, ``repr``) and a callable with modAL's contract,
``strategy(learner, X_pool, n_instances=1) -> (indices, scores)``. It draws
posterior samples with :func:`skbatchbald.sampling.predict_log_proba_samples`
and hands them to the matching function of :mod:`skbatchbald.acquisition`; it
never re-implements the math.
"""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import _safe_indexing  # public, documented API despite the _

from . import acquisition
from ._validation import check_int, check_n_mc_samples, check_random_state
from .acquisition._power_bald import check_beta
from .acquisition._validation import check_max_memory
from .sampling import predict_log_proba_samples

__all__ = [
    "BALDQuery",
    "BatchBALDQuery",
    "MaxEntropyQuery",
    "MeanSTDQuery",
    "PowerBALDQuery",
    "RandomQuery",
    "VarRatiosQuery",
]

_SEED_MAX = np.iinfo(np.int32).max


def _n_rows(X_pool):
    """Number of pool points of an array, DataFrame, tensor, sparse matrix or list."""
    shape = getattr(X_pool, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    if isinstance(X_pool, str | bytes | dict) or not hasattr(X_pool, "__len__"):
        raise TypeError(
            "X_pool must be array-like with one row per pool point (an array, "
            f"DataFrame, tensor, sparse matrix or list), got {type(X_pool).__name__}."
        )
    return len(X_pool)


def _check_pool(X_pool, n_instances):
    """Return the pool size after checking that ``n_instances`` fits in it."""
    if X_pool is None:
        raise ValueError("X_pool is None: pass the unlabelled pool to query from.")
    n_pool = _n_rows(X_pool)
    if n_pool == 0:
        raise ValueError(
            "X_pool is empty: there is nothing left to query. Stop the loop, or "
            "add unlabelled samples to the pool."
        )
    check_int(
        n_instances,
        "n_instances",
        max_val=n_pool,
        hint=(
            "a strategy never returns a partial batch: ask for at most the pool size"
        ),
    )
    return n_pool


class _Query(BaseEstimator):
    """Shared call logic: validate, subsample the pool, acquire, map indices back."""

    def _check_params(self):
        """Check every parameter; return the call's one random generator."""
        if self.pool_subsample is not None:
            check_int(self.pool_subsample, "pool_subsample", hint="or None")
        return check_random_state(self.random_state)

    def __call__(self, learner, X_pool, n_instances=1):
        """Pick ``n_instances`` samples of ``X_pool`` to label next.

        Parameters
        ----------
        learner : modAL learner, Committee or fitted estimator
            Where the posterior samples come from; see
            :func:`skbatchbald.sampling.predict_log_proba_samples`.
        X_pool : array-like of shape (n_pool, ...)
            The unlabelled pool (array, DataFrame, tensor or list, as the
            estimator accepts).
        n_instances : int, default=1
            Batch size.

        Returns
        -------
        indices : ndarray of shape (n_instances,), dtype int64
            Indices into ``X_pool`` in pick order, distinct.
        scores : ndarray of shape (n_instances,), dtype float64
            The strategy's score of each pick (for BatchBALD the cumulative
            joint mutual information after each pick, in nats).
        """
        rng = self._check_params()
        n_pool = _check_pool(X_pool, n_instances)
        candidates = np.arange(n_pool)
        if self.pool_subsample is not None and self.pool_subsample < n_pool:
            if n_instances > self.pool_subsample:
                raise ValueError(
                    f"pool_subsample={self.pool_subsample} is smaller than "
                    f"n_instances={n_instances}; raise pool_subsample or set it "
                    "to None."
                )
            # Sorted, so that ties still break towards the lowest pool index.
            candidates = np.sort(
                rng.choice(n_pool, size=self.pool_subsample, replace=False)
            )
            X_pool = _safe_indexing(X_pool, candidates)
        picked, scores = self._acquire(learner, X_pool, n_instances, rng)
        return candidates[picked].astype(np.int64), np.asarray(scores, np.float64)


class _PosteriorQuery(_Query):
    """A strategy scored on posterior samples of shape (n_pool, K, C)."""

    def _check_params(self):
        rng = super()._check_params()
        if self.n_mc_samples is not None:
            check_n_mc_samples(self.n_mc_samples)
        return rng

    def _acquire(self, learner, X_pool, n_instances, rng):
        log_probs = predict_log_proba_samples(
            learner,
            X_pool,
            n_mc_samples=self.n_mc_samples,
            random_state=int(rng.integers(_SEED_MAX)),
        )
        return self._score(log_probs, n_instances, int(rng.integers(_SEED_MAX)))


class BatchBALDQuery(_PosteriorQuery):
    """BatchBALD: greedily pick the batch with the most joint mutual information.

    Scores a batch jointly, I(y_1, ..., y_b; ω), so that a point that repeats
    what is already in the batch adds little: batches are informative and
    diverse. See :func:`skbatchbald.acquisition.batchbald` for the estimator.

    Parameters
    ----------
    n_mc_samples : int, default=None
        Posterior samples K drawn from the estimator; ``None`` uses the
        estimator's own (``MCDropoutClassifier.n_mc_samples``, or every member
        of an ensemble).
    n_joint_samples : int, default=10_000
        Label configurations M for the joint entropy once it can no longer be
        computed exactly.
    max_memory : int, str or None, default=None
        Working-memory bound of the acquisition, in bytes or as a string like
        ``"1GB"``; ``None``: the smaller of 1 GiB and a quarter of available
        memory.
    pool_subsample : int, default=None
        Score a random subset of this many pool points only (Gal et al. 2017
        did so for speed); the returned indices still refer to the full pool.
    lazy : bool, default=False
        Lazy greedy in the sampled phase: faster on long batches, but picks may
        differ from full greedy by more than a change of seed would (see
        :func:`skbatchbald.acquisition.batchbald`).
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds the pool subset, the dropout masks and the sampled estimator.

    See Also
    --------
    skbatchbald.acquisition.batchbald : The acquisition function.
    BALDQuery : Top-b of the single-point scores.

    Notes
    -----
    Kirsch, van Amersfoort & Gal, "BatchBALD: Efficient and Diverse Batch
    Acquisition for Deep Bayesian Active Learning", NeurIPS 2019.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbatchbald import ActiveLearner, BatchBALDQuery
    >>> X, y = load_digits(return_X_y=True)
    >>> forest = RandomForestClassifier(100, min_samples_leaf=3, random_state=0)
    >>> learner = ActiveLearner(
    ...     forest,
    ...     query_strategy=BatchBALDQuery(random_state=0),
    ...     X_training=X[:20], y_training=y[:20],
    ... )
    >>> idx, rows = learner.query(X[20:], n_instances=5)
    >>> idx.shape
    (5,)
    """

    def _check_params(self):
        rng = super()._check_params()
        check_int(self.n_joint_samples, "n_joint_samples")
        check_max_memory(self.max_memory)
        if not isinstance(self.lazy, bool | np.bool_):
            raise TypeError(f"lazy must be True or False, got {self.lazy!r}.")
        return rng

    def __init__(
        self,
        *,
        n_mc_samples=None,
        n_joint_samples=10_000,
        max_memory=None,
        pool_subsample=None,
        lazy=False,
        random_state=None,
    ):
        self.n_mc_samples = n_mc_samples
        self.n_joint_samples = n_joint_samples
        self.max_memory = max_memory
        self.pool_subsample = pool_subsample
        self.lazy = lazy
        self.random_state = random_state

    def _score(self, log_probs, n_instances, seed):
        return acquisition.batchbald(
            log_probs,
            n_instances,
            n_joint_samples=self.n_joint_samples,
            max_memory=self.max_memory,
            lazy=self.lazy,
            random_state=seed,
        )


class PowerBALDQuery(_PosteriorQuery):
    """PowerBALD: sample a batch with probability proportional to BALD^beta.

    Stochastic batch acquisition: as cheap as BALD, and the randomness spreads
    the batch over near-duplicates instead of taking all of them.

    Parameters
    ----------
    beta : float, default=1.0
        Inverse temperature; ``beta -> inf`` recovers top-b BALD.
    n_mc_samples : int, default=None
        Posterior samples K; ``None`` uses the estimator's own.
    pool_subsample : int, default=None
        Score a random subset of this many pool points only.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds the pool subset, the dropout masks and the draw.

    See Also
    --------
    skbatchbald.acquisition.power_bald : The acquisition function.

    Notes
    -----
    Kirsch, Farquhar, Atighehchian, Jesson, Branchaud-Charron & Gal,
    "Stochastic Batch Acquisition: A Simple Baseline for Deep Active
    Learning", TMLR 2023.
    """

    def _check_params(self):
        rng = super()._check_params()
        check_beta(self.beta)
        return rng

    def __init__(
        self, *, beta=1.0, n_mc_samples=None, pool_subsample=None, random_state=None
    ):
        self.beta = beta
        self.n_mc_samples = n_mc_samples
        self.pool_subsample = pool_subsample
        self.random_state = random_state

    def _score(self, log_probs, n_instances, seed):
        return acquisition.power_bald(
            log_probs, n_instances, beta=self.beta, random_state=seed
        )


class _TopKQuery(_PosteriorQuery):
    """Top-b of a single-point score computed by ``_function``."""

    def __init__(self, *, n_mc_samples=None, pool_subsample=None, random_state=None):
        self.n_mc_samples = n_mc_samples
        self.pool_subsample = pool_subsample
        self.random_state = random_state

    def _score(self, log_probs, n_instances, seed):
        return type(self)._function(log_probs, n_instances, random_state=seed)


_TOPK_PARAMETERS = """
    Parameters
    ----------
    n_mc_samples : int, default=None
        Posterior samples K; ``None`` uses the estimator's own.
    pool_subsample : int, default=None
        Score a random subset of this many pool points only; the returned
        indices still refer to the full pool.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds the pool subset and the dropout masks.
"""


class BALDQuery(_TopKQuery):
    __doc__ = f"""BALD: the b points with the most mutual information I(y; ω).
{_TOPK_PARAMETERS}
    See Also
    --------
    skbatchbald.acquisition.bald : The acquisition function.
    BatchBALDQuery : Scores the batch jointly instead.

    Notes
    -----
    Houlsby et al. 2011; Gal, Islam & Ghahramani, ICML 2017. Top-b BALD tends
    to fill a batch with near-duplicates.
    """
    _function = staticmethod(acquisition.bald)


class MaxEntropyQuery(_TopKQuery):
    __doc__ = f"""Max entropy: the b points with the highest predictive entropy.
{_TOPK_PARAMETERS}
    See Also
    --------
    skbatchbald.acquisition.max_entropy : The acquisition function.
    """
    _function = staticmethod(acquisition.max_entropy)


class VarRatiosQuery(_TopKQuery):
    __doc__ = f"""Variation ratios: the b points with the least confident MC prediction.
{_TOPK_PARAMETERS}
    See Also
    --------
    skbatchbald.acquisition.variation_ratios : The acquisition function.
    """
    _function = staticmethod(acquisition.variation_ratios)


class MeanSTDQuery(_TopKQuery):
    __doc__ = f"""Mean STD: the b points whose class probabilities vary most across ω.
{_TOPK_PARAMETERS}
    See Also
    --------
    skbatchbald.acquisition.mean_std : The acquisition function.
    """
    _function = staticmethod(acquisition.mean_std)


class RandomQuery(_Query):
    """Uniformly random batch: the baseline every strategy must beat.

    Needs no posterior samples, so it works with any learner, fitted or not.

    Parameters
    ----------
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds the draw.

    See Also
    --------
    skbatchbald.acquisition.random_batch : The acquisition function.
    """

    def __init__(self, *, random_state=None):
        self.random_state = random_state

    pool_subsample = None  # a random batch of a random subset is a random batch

    def _acquire(self, learner, X_pool, n_instances, rng):
        picked = rng.choice(_n_rows(X_pool), size=n_instances, replace=False)
        # Zeros, as acquisition.random_batch: a random pick has no score.
        return picked, np.zeros(n_instances)
