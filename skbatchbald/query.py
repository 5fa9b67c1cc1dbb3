"""Query strategies for modAL: BatchBALD and the paper's baselines.

Each strategy is a scikit-learn estimator (parameters in ``__init__``,
``get_params``, ``clone``, ``repr``) and a callable with modAL's contract,
``strategy(learner, X_pool, n_instances=1) -> (indices, scores)``. It draws
posterior samples with :func:`skbatchbald.sampling.predict_log_proba_samples`
and hands them to the matching function of :mod:`skbatchbald.acquisition`; it
never re-implements the math.
"""

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from . import acquisition
from ._arrays import is_dask_array, stack_rows, subsample_pool, take_rows
from ._docstrings import fill_pieces
from ._gaussian_ties import tie_breaking_order, warn_tied_top
from ._labels import ONE_HOT_FIX, is_one_hot
from ._memory import _available_memory, check_max_memory
from ._models import check_model_noise, warn_if_noise_dwarfs
from ._pickled_version import VersionedPickle
from ._round_off import scores_tied
from ._validation import (
    NONFINITE_PREFIX,
    call_context,
    call_generator,
    check_beta,
    check_int,
    check_n_mc_samples,
    check_noise_variance,
    check_on_saturation,
    check_random_state,
    check_stochastic,
    count_rows,
    draw_seed,
    is_auto,
    nonfinite_rows_message,
)
from ._warnings import SkbatchbaldWarning, user_stacklevel
from .sampling import (
    gaussian_process_covariance,
    is_gaussian_process,
    is_multilabel,
    is_regression_model,
    model_noise_variance,
    predict_log_proba_samples,
    predict_multilabel_log_proba_samples,
    predict_samples,
)

__all__ = [
    "BALDQuery",
    "BatchBALDQuery",
    "BatchEPIGQuery",
    "EPIGQuery",
    "MarginQuery",
    "MaxEntropyQuery",
    "MeanSTDQuery",
    "PowerBALDQuery",
    "RandomQuery",
    "VarRatiosQuery",
]


def _check_pool(X_pool, n_instances):
    """Return the pool size after checking that ``n_instances`` fits in it."""
    if X_pool is None:
        raise ValueError("X_pool is None: pass the unlabelled pool to query from.")
    n_pool = count_rows(X_pool, "X_pool", row="pool point")
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


# Query arguments of modAL's strategies (mc_dropout_bald and friends,
# uncertainty_sampling, uncertainty_batch_sampling) and of modAL's Keras
# examples, with what replaces each here.
_NUM_SAMPLES = (
    "the number of posterior samples is the strategy's n_mc_samples, e.g. "
    "{name}(n_mc_samples=100), or the MCDropoutClassifier's n_mc_samples"
)
_MODAL_QUERY_ARGUMENTS = {
    "num_cycles": _NUM_SAMPLES,
    "T": _NUM_SAMPLES,
    "dropout_layer_indexes": (
        "not needed: MCDropoutClassifier samples every dropout layer of the "
        "module (nn.Dropout, Dropout1d/2d/3d), with masks consistent across the "
        "pool"
    ),
    "sample_per_forward_pass": (
        "memory per sampling pass is bounded by the MCDropoutClassifier's "
        "max_memory, in bytes or as a string like '512MB'"
    ),
    "logits_adaptor": (
        "not needed: MCDropoutClassifier turns the module's outputs into "
        "log-probabilities itself"
    ),
    "random_tie_break": (
        "ties break towards the lowest pool index; for a randomised batch pass "
        "stochastic='softrank' (or 'power', 'softmax') and random_state to the "
        "strategy"
    ),
    "metric": (
        "the strategy is the measure: pick MarginQuery, MaxEntropyQuery, "
        "VarRatiosQuery, BALDQuery, BatchBALDQuery, ..."
    ),
    "n_jobs": (
        "set n_jobs on the MCDropoutClassifier or MCDropoutRegressor (the "
        "heads, DeepEnsembleClassifier and LaplaceHeadClassifier, sample on "
        "as many threads as the cores allow and take no n_jobs)"
    ),
}


def _query_argument_fix(strategy, arg):
    """What replaces the query argument ``arg`` of this strategy."""
    name = type(strategy).__name__
    if arg in strategy.get_params():
        return (
            f"a parameter of the strategy: {name}({arg}=...), or "
            f"learner.set_params(query_strategy__{arg}=...)"
        )
    if arg in _MODAL_QUERY_ARGUMENTS:
        return _MODAL_QUERY_ARGUMENTS[arg].format(name=name)
    return (
        "not an argument of any skbatchbald strategy; its settings are "
        f"constructor parameters: {', '.join(sorted(strategy.get_params()))}"
    )


def _check_rows_scored(outputs, X, learner):
    """ValueError unless the model gave one output per row of X.

    A text vectorizer iterates over what it is given: a DataFrame's column
    names, not its rows, so a one-column DataFrame of texts was scored as one
    document and the strategies picked its first row.
    """
    n_rows = count_rows(X, "X_pool", row="pool point")
    if outputs.shape[0] == n_rows:
        return
    frame = (
        " A DataFrame given to a text vectorizer (TfidfVectorizer, "
        "CountVectorizer) is read as its column names, one document each: pass "
        "the text column (df['text']) as the pool, or a ColumnTransformer that "
        "selects it."
        if hasattr(X, "columns")
        else ""
    )
    raise ValueError(
        f"the {_model_name(learner)} gave {outputs.shape[0]} outputs for a pool of "
        f"{n_rows} rows, so its scores cannot be matched to the pool's rows.{frame}"
    )


# A pool at least this large, and a labelled set of at least this many classes,
# predicted as one class throughout: not an imbalanced pool, a model that has
# not learnt.
_ONE_CLASS_POOL = 20
_ONE_CLASS_TAUGHT = 3


def _mean_predictive_blocks(log_probs):
    """The mean predictive probabilities (rows, C) of blocks of about 2**21
    values (8 MB in float32), spread-out rows first: a caller that stops at
    the first difference is done in one small block when the model varies,
    at any pool size and number of outputs."""
    n_pool, n_mc_samples, n_outputs = log_probs.shape
    rows = max(1, 2**21 // (n_mc_samples * n_outputs))
    probe = np.linspace(0, n_pool - 1, min(n_pool, rows)).astype(np.int64)
    for block in (probe, *(slice(i, i + rows) for i in range(0, n_pool, rows))):
        yield np.exp(log_probs[block], dtype=np.float32).mean(axis=1)


def _predicted_classes(log_probs):
    """The classes the mean predictive picks over rows, as a set, stopped
    at two."""
    seen = set()
    for mean in _mean_predictive_blocks(log_probs):
        seen.update(np.unique(np.argmax(mean, axis=1)).tolist())
        if len(seen) > 1:
            break
    return seen


def _warn_if_one_class(log_probs, learner, what):
    """Warn when the model predicts one class for the whole pool, and for its
    own labelled rows, after being taught several: its scores then rank
    nothing useful (users' nets trained for too few epochs on a few labels sat
    at chance for ten rounds). A pool that holds one class, scored by a model
    that tells its labelled rows apart, is left quiet."""
    taught = getattr(learner, "y_training", None)
    if type(log_probs) is not np.ndarray or taught is None:
        return  # memmap and dask pools are not read an extra time
    n_pool, _, n_classes = log_probs.shape
    if n_pool < _ONE_CLASS_POOL or n_classes < _ONE_CLASS_TAUGHT:
        return
    try:
        labels = np.unique(np.asarray(taught))
    except TypeError:
        return  # labels that do not sort: nothing to say
    if np.ndim(taught) != 1 or len(labels) < _ONE_CLASS_TAUGHT:
        return
    if len(_predicted_classes(log_probs)) > 1:
        return
    # the rare path: does the model tell its own labelled rows apart?
    X_taught = getattr(learner, "X_training", None)
    try:
        n_taught = count_rows(X_taught, "X_training")
        rows = np.linspace(0, n_taught - 1, min(n_taught, 200)).astype(np.int64)
        if len(np.unique(np.asarray(learner.predict(take_rows(X_taught, rows))))) > 1:
            return
    except Exception:  # a check that cannot predict says nothing
        return
    warnings.warn(
        f"the {_model_name(learner)} predicts one class for all {n_pool} {what} "
        f"and for its labelled rows, though they hold {len(labels)} classes: it "
        "has not learnt them yet, and every strategy's scores are then noise "
        "around one prediction. For a network, train longer (max_epochs; "
        "MCDropoutClassifier's default is 200) or with a larger learning rate, "
        "and scale the inputs.",
        SkbatchbaldWarning,
        stacklevel=user_stacklevel(),
    )


def _predicted_label_sets(log_probs):
    """The labels the mean predictive gives every row, (L,) bool, or None
    once two rows differ (a label is predicted where its mean probability is
    above 1/2)."""
    first = None
    for mean in _mean_predictive_blocks(log_probs):
        predicted = mean > 0.5
        if first is None:
            first = predicted[0]
        if (predicted != first).any():
            return None
    return first


def _warn_if_one_label_set(log_probs, learner, what):
    """`_warn_if_one_class` for a multi-label model: the same labels predicted
    for every pool point and every labelled row (mostly none: a net trained
    too briefly predicts each label's base rate, below 1/2), though the
    labelled rows hold several label combinations."""
    taught = getattr(learner, "y_training", None)
    if type(log_probs) is not np.ndarray or taught is None:
        return  # memmap and dask pools are not read an extra time
    if log_probs.shape[0] < _ONE_CLASS_POOL or np.ndim(taught) != 2:
        return
    try:
        combinations = np.unique(np.asarray(taught), axis=0)
    except (TypeError, ValueError):
        return
    if len(combinations) < _ONE_CLASS_TAUGHT:
        return
    first = _predicted_label_sets(log_probs)
    if first is None:
        return
    X_taught = getattr(learner, "X_training", None)
    try:
        n_taught = count_rows(X_taught, "X_training")
        rows = np.linspace(0, n_taught - 1, min(n_taught, 200)).astype(np.int64)
        own = np.asarray(learner.predict(take_rows(X_taught, rows)))
        if own.ndim != 2 or len(np.unique(own, axis=0)) > 1:
            return
    except Exception:  # a check that cannot predict says nothing
        return
    labels = np.flatnonzero(first).tolist()
    shown = f"the labels {labels}" if labels else "no label"
    warnings.warn(
        f"the {_model_name(learner)} predicts {shown} for all "
        f"{log_probs.shape[0]} {what} and for its labelled rows, though they hold "
        f"{len(combinations)} combinations of labels: it has not learnt them "
        "yet, and every strategy's scores are then noise around one prediction. "
        "For a network, train longer (max_epochs) or with a larger learning "
        "rate, and scale the inputs.",
        SkbatchbaldWarning,
        stacklevel=user_stacklevel(),
    )


def _reject_query_arguments(strategy, kwargs):
    """TypeError naming each query argument the strategy does not take, and its fix."""
    fixes = "; ".join(
        f"{arg}={value!r}: {_query_argument_fix(strategy, arg)}"
        for arg, value in kwargs.items()
    )
    raise TypeError(
        f"{type(strategy).__name__} takes the pool and n_instances only, not "
        f"{', '.join(kwargs)}. {fixes}."
    )


def _on_cluster():
    """Whether a Dask distributed client is active (persisting keeps data on
    its workers, not here)."""
    try:
        from distributed import get_client

        get_client()
    except (ImportError, ValueError):
        return False
    return True


def _sampled_once(log_probs):
    """Lazy (dask) samples computed once and kept, where they fit.

    Left lazy, every greedy step and every check would sample the pool again:
    14 passes of the model over the pool for a batch of 20 in a user trial
    (72-95 s, against 9 s from a memmap). On a distributed cluster they are
    kept on the workers; on one machine in memory, where half of the memory
    available (as measured: Linux's MemAvailable) holds them; else, or where
    memory cannot be measured, they stay lazy, with a warning.
    """
    if not is_dask_array(log_probs):
        return log_probs
    if _on_cluster():
        return log_probs.persist()
    available, size = _available_memory(), float(log_probs.nbytes)
    if available is not None and np.isfinite(size) and size <= available / 2:
        return log_probs.persist()
    known = "an unknown size" if not np.isfinite(size) else f"{size / 2**30:.3g} GiB"
    where = (
        "half of this machine's available memory"
        if available is not None
        else "memory that cannot be measured here"
    )
    warnings.warn(
        f"the pool's posterior samples ({known}) are not kept in {where}, so "
        "each greedy step samples the pool again. Sample it once into a file "
        "with skbatchbald.out_of_core.write_log_proba_samples and call the "
        "acquisition function on that, or run on a Dask cluster (the samples "
        "are kept on its workers).",
        SkbatchbaldWarning,
        stacklevel=user_stacklevel(),
    )
    return log_probs


def _model_name(learner):
    """Name of the model a learner samples: its estimator, a Pipeline's last step."""
    if hasattr(learner, "query_strategy") and hasattr(learner, "estimator"):
        learner = learner.estimator  # a modAL learner
    steps = getattr(learner, "steps", None)
    return _model_name(steps[-1][1]) if steps else type(learner).__name__


# Docstring pieces the strategies share (placeholder lines such as {stochastic}).
_PIECES = {
    "needs_samples": """\
    Needs posterior samples (K >= 2): an MCDropoutClassifier, a fitted
    RandomForest/ExtraTrees/Bagging ensemble, a modAL Committee, or any of
    these in a Pipeline, search or learner (see
    :func:`skbatchbald.sampling.predict_log_proba_samples`). With one sample
    the score is 0 for every point, so a classifier that only has
    ``predict_proba`` (LogisticRegression, a VotingClassifier, ...), or
    ``n_mc_samples=1``, is refused with a ``ValueError``.
""",
    "multilabel": """\
    Multi-label learners (fitted on a 0/1 indicator y: an
    MCDropoutMultiLabelClassifier, a forest, a MultiOutputClassifier of
    forests) are scored on their (N, K, L) label samples, summed over labels
    (:func:`skbatchbald.sampling.predict_multilabel_log_proba_samples`).
""",
    "predictive": """\
    A score of the predictive distribution alone: posterior samples are
    averaged into it when the model gives them (MC dropout, a forest), and
    any other fitted classifier with ``predict_proba`` (LogisticRegression,
    KNeighborsClassifier, a calibrated SVC, a VotingClassifier, a plain
    skorch net, a Pipeline or GridSearchCV ending in one, ...) serves as one
    sample, K = 1.
""",
    "ties": """\
    Ties go to the lowest pool index, except when every pool point has the
    same score: the score then ranks nothing (a model whose probabilities
    carry no uncertainty, such as a fully grown tree, ``n_mc_samples=1`` on a
    forest or an AdaBoost whose probabilities coincide), and the batch is a
    uniform draw seeded by ``random_state``, as :class:`RandomQuery` would
    make it, with a :class:`~skbatchbald.acquisition.TiedScoresWarning`,
    rather than the first rows of the pool. A Gaussian process scored exactly
    breaks every tie that decides the batch at random (seeded): points far
    from every label share the prior's variance.
""",
    "stochastic": """\
    stochastic : {"power", "softmax", "softrank"} or None, default=None
        None: the b highest scores. Otherwise draw the batch without
        replacement with probability ∝ score^beta, exp(beta score) or
        rank^-beta (Kirsch et al., TMLR 2023).
    beta : float or None, default=None
        Inverse temperature of the stochastic draw; None means 1.0. Only with
        ``stochastic``.
""",
    "n_mc_samples_needed": """\
    n_mc_samples : int, default=None
        Posterior samples K, at least 2; ``None`` uses the estimator's own
        (and scores a GaussianProcessRegressor exactly, with no draws).
""",
    "n_mc_samples_predictive": """\
    n_mc_samples : int, default=None
        Posterior samples K; ``None`` uses the estimator's own, and a
        classifier without posterior samples gives its ``predict_proba`` as
        one (K = 1).
""",
    "target": """\
    X_target : array-like of shape (n_target, ...) or None, default=None
        The inputs whose predictions matter (what the model will serve),
        in a container the estimator accepts. None: a random sample of the
        pool, drawn anew at each query.
    target_subsample : int or None, default=100
        Target inputs drawn at random per query, from ``X_target`` or the
        pool; the cost grows as N * target_subsample. None uses every target
        input (with ``X_target=None``: the whole pool, quadratic cost).
""",
    "max_memory": """\
max_memory : int, str or None, default=None
    Memory budget of one query, in bytes or as a string like ``"1GB"``: it
    bounds the temporaries of the sampling passes (passed to the estimator's
    ``predict_log_proba_samples``, in place of an MCDropoutClassifier's own
    ``max_memory``) and those of the acquisition. ``None``: the estimator's
    own budget for sampling; the smaller of 1 GiB and a quarter of available
    memory for the acquisition.
""",
    "noise_variance": """\
noise_variance : float, "auto" or None, default=None
    Regression only: the variance σ² of the observation noise in the
    Gaussian estimator (see :func:`skbatchbald.acquisition.batchbald_regression`),
    one number in squared units of the scored predictions (those of y; of the
    transformed target inside a TransformedTargetRegressor). A number over
    100 times every posterior variance of the pool warns (wrong units, most
    likely). A GaussianProcessRegressor with ``n_mc_samples=None`` is scored
    exactly from its posterior covariance
    (:func:`skbatchbald.acquisition.batchbald_gaussian`), not from draws.
    None or ``"auto"``: the model's own
    estimate (``noise_variance_`` of an MCDropoutRegressor, as its
    ``noise_variance="auto"`` fits it; a GaussianProcessRegressor's
    ``alpha`` (its mean, if an array) plus its kernel's white noise), else
    the mean over the scored pool of the posterior samples' variance, a
    scale-free default that sets the signal-to-noise ratio to 1 on average.
    An array of one variance per point or per sample is for the acquisition
    functions, which score the pool they are given; a strategy's pool
    changes every round, so it takes one number. Classifiers ignore it.
""",
    "subsample_and_seed": """\
pool_subsample : int, default=None
    Score a random subset of this many pool points only; the returned
    indices still refer to the full pool.
random_state : None, int, numpy.random.Generator or RandomState, default=None
    Seeds the pool subset, the dropout masks and the stochastic draw, and the
    uniform draw made when every pool point has the same score (see Notes).
    An int repeats the call's draws for the same pool and labelled set, and
    draws afresh for each round of a loop (a smaller pool, more labels),
    whichever strategy object makes the call.
""",
}


def _doc(doc):
    return fill_pieces(doc, _PIECES, "query")


class _Query(VersionedPickle, BaseEstimator):
    """Shared call logic: validate, subsample the pool, acquire, map indices back."""

    def _check_params(self):
        """Check every parameter; return the call's one random generator."""
        if self.pool_subsample is not None:
            check_int(self.pool_subsample, "pool_subsample", hint="or None")
        return check_random_state(self.random_state)

    def __call__(self, learner, X_pool, n_instances=1, **kwargs):
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
        **kwargs : dict
            None accepted: a ``TypeError`` says what replaces each query argument
            of modAL's strategies (``num_cycles``, ``T``,
            ``dropout_layer_indexes``, ``sample_per_forward_pass``, ...).

        Returns
        -------
        indices : ndarray of shape (n_instances,), dtype int64
            Indices into ``X_pool`` in pick order, distinct.
        scores : ndarray of shape (n_instances,), dtype float64
            The strategy's score of each pick (for BatchBALD the cumulative
            joint mutual information after each pick, in nats).
        """
        if kwargs:
            _reject_query_arguments(self, kwargs)
        rng = self._check_params()
        n_pool = _check_pool(X_pool, n_instances)
        # each round of a loop draws afresh, a repeated call repeats
        rng = call_generator(self.random_state, rng, call_context(learner, n_pool))
        candidates, X_pool = subsample_pool(
            X_pool, n_pool, n_instances, self.pool_subsample, rng
        )
        picked, scores = self._acquire(learner, X_pool, n_instances, rng)
        return candidates[picked].astype(np.int64), np.asarray(scores, np.float64)


class _PosteriorQuery(_Query):
    """A strategy scored on posterior samples of shape (n_pool, K, C).

    ``_disagreement`` names what the score measures between samples; it is
    None for scores of the predictive distribution alone, which any classifier
    with ``predict_proba`` gives (K = 1).
    """

    _disagreement = "the disagreement of the posterior samples"

    def _check_params(self):
        rng = super()._check_params()
        if self.n_mc_samples is not None:
            check_n_mc_samples(self.n_mc_samples)
            if self.n_mc_samples == 1:
                self._check_n_samples(1, "n_mc_samples=1")
        if self._score_regression is not None:  # the strategies with noise_variance
            self._check_noise_variance()
        return rng

    def _check_n_samples(self, n_samples, source, *, regression=None):
        """ValueError if a score that needs samples gets fewer than 2.

        ``regression``: whether the model is a regressor, None where unknown
        (the parameter check, before any model is seen).
        """
        if self._disagreement is None or n_samples >= 2:
            return
        regressors = (
            "a source of more samples (an MCDropoutRegressor, a RandomForest/"
            "ExtraTrees/BaggingRegressor of several members, a modAL "
            "CommitteeRegressor of several learners, a GaussianProcessRegressor "
            "with n_mc_samples=None, scored exactly), or RandomQuery"
        )
        classifiers = (
            "a source of more samples (an MCDropoutClassifier, a RandomForest/"
            "ExtraTrees/Bagging ensemble of several members, a modAL Committee of "
            "several learners), or MarginQuery, MaxEntropyQuery or VarRatiosQuery, "
            "which work with one"
        )
        if regression is None:
            advice = (
                f"For a classifier use {classifiers}; for a regressor, {regressors}"
            )
        else:
            advice = f"Use {regressors if regression else classifiers}"
        raise ValueError(
            f"{type(self).__name__} needs at least 2 posterior samples, and "
            f"{source} gives {n_samples}: its score, {self._disagreement}, is 0 "
            "for every pool point with one. Pass n_mc_samples >= 2 (or None: "
            "every member of an ensemble, the net's own n_mc_samples). "
            f"{advice}."
        )

    # Strategies with a multi-label score (BALD, PowerBALD, BatchBALD) define
    # _score_multilabel on (N, K, L) label log-probabilities; others refuse.
    _score_multilabel = None

    def _refuse_multilabel(self, learner):
        if self._score_multilabel is None and is_multilabel(learner):
            name, model = type(self).__name__, _model_name(learner)
            y = getattr(learner, "y_training", None)  # a learner's labels
            if y is not None and is_one_hot(y):
                raise ValueError(
                    f"{name} scores one class per row, and the {model} was "
                    f"fitted on a one-hot y (shape {tuple(np.shape(y))}, a single "
                    "1 per row), which it learns as one yes/no label per column "
                    f"(multi-label). For one class per row, {ONE_HOT_FIX}: "
                    "learner.fit(learner.X_training, "
                    "learner.y_training.argmax(axis=1)), and teach labels so from "
                    "then on."
                )
            raise ValueError(
                f"{name} does not support multi-label models, and the {model} "
                "was fitted on a 0/1 indicator y (a column per label, any number "
                "of them per row). Use BALDQuery, PowerBALDQuery or "
                "BatchBALDQuery (their scores sum over labels, see the user "
                "guide: Multi-label) with a model that gives multi-label "
                "posterior samples (an MCDropoutMultiLabelClassifier, a forest "
                "fitted on the indicator y, a OneVsRestClassifier of bagged "
                "models), or RandomQuery."
            )

    def _log_probs(self, learner, X, rng, *, multilabel=False, n_pool=None):
        """Posterior samples of X's rows; its first ``n_pool`` rows (all for
        None) are pool points, checked for a model that has not learnt
        (`_warn_if_one_class`, `_warn_if_one_label_set`)."""
        if not multilabel:
            self._refuse_multilabel(learner)
        try:
            if multilabel:
                log_probs = predict_multilabel_log_proba_samples(
                    learner,
                    X,
                    n_mc_samples=self.n_mc_samples,
                    random_state=draw_seed(rng),
                    max_memory=getattr(self, "max_memory", None),
                )
            else:
                log_probs = predict_log_proba_samples(
                    learner,
                    X,
                    n_mc_samples=self.n_mc_samples,
                    random_state=draw_seed(rng),
                    # one budget for the whole query, sampling included
                    max_memory=getattr(self, "max_memory", None),
                    allow_point_estimate=self._disagreement is None,
                )
        except NotFittedError as exc:
            # The zero-label case: skorch's own message ("call initialize or
            # fit") does not say how to get the first labels.
            raise NotFittedError(
                f"{type(self).__name__} needs a fitted model, and the "
                f"{_model_name(learner)} is not fitted yet ({exc}). For the first "
                "batch use a strategy that needs no model, RandomQuery() or "
                "TypiClustQuery(), teach that batch, then set the learner's "
                "query_strategy back (user guide: Cold start and rare classes)."
            ) from exc
        log_probs = _sampled_once(log_probs)
        _check_rows_scored(log_probs, X, learner)
        scored = "scored pool points" if self.pool_subsample else "pool points"
        if multilabel:
            _warn_if_one_label_set(log_probs[:n_pool], learner, scored)
        else:
            _warn_if_one_class(log_probs[:n_pool], learner, scored)
        self._check_n_samples(
            log_probs.shape[1], f"the {_model_name(learner)}", regression=False
        )
        return log_probs

    def _acquire(self, learner, X_pool, n_instances, rng):
        if is_regression_model(learner):
            return self._acquire_regression(learner, X_pool, n_instances, rng)
        if self._score_multilabel is not None and is_multilabel(learner):
            log_probs = self._log_probs(learner, X_pool, rng, multilabel=True)
            return self._score_multilabel(log_probs, n_instances, draw_seed(rng))
        log_probs = self._log_probs(learner, X_pool, rng)
        return self._score(log_probs, n_instances, draw_seed(rng))

    # Regression: strategies with a ``_score_regression`` take posterior samples
    # of the prediction (N, K); the others score class probabilities only.
    _score_regression = None

    def _refuse_regression(self, learner):
        name = type(self).__name__
        raise ValueError(
            f"{name} scores the class probabilities of a classifier, and the "
            f"{_model_name(learner)} is a regressor. For regression use "
            "BALDQuery, PowerBALDQuery or BatchBALDQuery (posterior samples of the "
            "prediction, see the user guide: Regression), or RandomQuery; for "
            f"{name}, fit a classifier on class labels."
        )

    def _acquire_regression(self, learner, X_pool, n_instances, rng):
        if self._score_regression is None:
            self._refuse_regression(learner)
        # a Gaussian process's information is known exactly: no draws
        exact = self.n_mc_samples is None and is_gaussian_process(learner)
        max_memory = getattr(self, "max_memory", None)
        try:
            if exact:
                # the variances first: they tell whether ties decide the batch,
                # before the joint covariance is computed in the order to score
                posterior = gaussian_process_covariance(
                    learner, X_pool, diagonal=True, max_memory=max_memory
                )
            else:
                posterior = predict_samples(
                    learner,
                    X_pool,
                    n_mc_samples=self.n_mc_samples,
                    random_state=draw_seed(rng),
                    max_memory=max_memory,
                )
        except NotFittedError as exc:
            raise NotFittedError(
                f"{type(self).__name__} needs a fitted model, and the "
                f"{_model_name(learner)} is not fitted yet ({exc}). For the first "
                "batch use RandomQuery() or TypiClustQuery(), teach that batch, "
                "then set the learner's query_strategy back."
            ) from exc
        _check_rows_scored(posterior, X_pool, learner)
        if exact:
            variance = posterior
        else:
            self._check_n_samples(
                posterior.shape[1], f"the {_model_name(learner)}", regression=True
            )
            variance = posterior.var(axis=1)
        noise = None if is_auto(self.noise_variance) else self.noise_variance
        if noise is not None:
            warn_if_noise_dwarfs(
                noise,
                variance,
                learner,
                "the batch is close to BALD's top points",
                type(self).__name__,
            )
        else:
            noise = model_noise_variance(learner)
            check_model_noise(noise, learner, type(self).__name__)
        if noise is None:
            # scale-free default: signal-to-noise ratio 1 on average over the pool
            noise = max(float(variance.mean()), np.finfo(float).tiny)
        if exact:
            return self._score_gaussian_process(
                learner, X_pool, variance, n_instances, noise, draw_seed(rng)
            )
        return self._score_regression(posterior, n_instances, noise, draw_seed(rng))

    def _score_gaussian_process(
        self, learner, X_pool, variance, n_instances, noise, seed
    ):
        """``_score_gaussian`` of the pool's exact posterior, scored in a seeded
        permuted order when tied variances decide a top-k or greedy batch
        (``_gaussian_ties``); the joint covariance is computed in that order,
        never copied into it."""
        order = None
        if not self._draws and getattr(self, "stochastic", None) is None:
            order = tie_breaking_order(
                variance, n_instances, joint=self._joint, seed=seed
            )
        if not self._joint:
            if order is None:
                return self._score_gaussian(variance, n_instances, noise, seed)
            warn_tied_top(variance, n_instances)
            indices, scores = self._score_gaussian(
                variance[order], n_instances, noise, seed
            )
            return order[indices], scores
        max_memory = getattr(self, "max_memory", None)
        if order is None or scores_tied(float(variance.min()), float(variance.max())):
            # no tie decides the batch, or every point is tied, when the pool
            # order stands only if no two are correlated either (the
            # strategy's uniform draw)
            covariance = gaussian_process_covariance(
                learner, X_pool, max_memory=max_memory
            )
            if order is None or _tied_and_uncorrelated(covariance, np.diag(covariance)):
                return self._score_gaussian(covariance, n_instances, noise, seed)
            del covariance  # correlated: scored again, in the drawn order
        warn_tied_top(variance, n_instances)
        covariance = gaussian_process_covariance(
            learner, take_rows(X_pool, order), max_memory=max_memory
        )
        indices, scores = self._score_gaussian(covariance, n_instances, noise, seed)
        return order[indices], scores

    # Whether the regression score needs the pool's joint posterior (BatchBALD)
    # or each point's variance only.
    _joint = False
    # Whether the batch is always a draw (PowerBALD), which breaks its own ties.
    _draws = False

    def _score_gaussian(self, variance, n_instances, noise, seed):
        """Score a Gaussian process from its exact variances (N,)."""
        return acquisition.bald_gaussian(
            variance,
            n_instances,
            noise_variance=noise,
            stochastic=self.stochastic,
            beta=self.beta,
            random_state=seed,
        )

    def _check_noise_variance(self):
        check_noise_variance(
            self.noise_variance,
            default=_MODEL_NOISE,
            array_hint=(
                "A variance per point (n_pool, 1) or per point and sample "
                "(n_pool, n_mc_samples) is for the acquisition functions "
                "skbatchbald.acquisition.bald_regression and batchbald_regression, "
                "which score the pool they are given: a strategy's pool changes "
                "every round (and with pool_subsample every call), so an array "
                "could not stay aligned with it. Call predict_samples(model, "
                "X_pool) and the acquisition function with your array, or pass "
                f"None to use {_MODEL_NOISE}."
            ),
        )


# What None and "auto" take, in the messages.
_MODEL_NOISE = (
    "the model's own noise estimate (noise_variance_ of an MCDropoutRegressor, "
    "a Gaussian process's alpha plus white noise), else the mean sample "
    "variance over the scored pool"
)


def _carries_no_information(scores, *, scale=1.0):
    """Whether every point's BALD score is round-off of 0 (the tie rule's
    tolerance, measured from 0): BatchBALD's first gain, the largest BALD
    score, is then 0 and its batch the pool's first rows. Equal scores above
    0 are information the joint score tells apart, and are left to it."""
    return scores_tied(0.0, float(np.max(scores)), scale=scale)


def _uninformative_batch(n_pool, n_instances, n_mc_samples, seed):
    """A seeded uniform batch, with a SaturationWarning, for a pool that carries
    no information: what RandomQuery and BALDQuery's tie draw give, not the
    pool's first rows."""
    why = (
        "the Gaussian process's posterior variance is 0 at every pool point "
        "(inputs it was fitted on, with no noise in its kernel)"
        if n_mc_samples is None
        else f"the K={n_mc_samples} posterior samples predict alike on every "
        "point (a model fitted on a single target value or class pattern, trees "
        "that all agree, a bagging ensemble with bootstrap=False over a "
        "deterministic model)"
    )
    warnings.warn(
        f"no pool point carries information about ω: {why}, so every gain is "
        "0 and the batch of "
        f"{n_instances} is drawn uniformly at random (seeded by random_state), "
        "as RandomQuery would draw it, instead of being the first rows of the "
        "pool. Label a few more varied examples, use more varied posterior "
        "samples (bootstrap=True, more trees or members, more MC-dropout "
        "samples), or RandomQuery to make the random batch explicit.",
        acquisition.SaturationWarning,
        stacklevel=user_stacklevel(),
    )
    return _seeded_uniform(n_pool, n_instances, seed), np.zeros(n_instances)


def _seeded_uniform(n_pool, n_instances, seed):
    """``n_instances`` distinct pool indices drawn uniformly from ``seed``, as
    the acquisition functions' tie draw makes them: the same seed gives
    BALDQuery's batch."""
    rng = check_random_state(seed)
    return rng.choice(n_pool, size=n_instances, replace=False).astype(np.int64)


def _tied_and_uncorrelated(covariance, variance):
    """Whether every pool point has one posterior variance and no two are
    correlated: the exact greedy's gains are then equal at every step, and
    its batch the pool's first rows."""
    if not scores_tied(float(variance.min()), float(variance.max())):
        return False
    off_diagonal = np.abs(covariance).sum() - np.abs(variance).sum()
    return scores_tied(0.0, float(off_diagonal), scale=float(variance.max()))


def _tied_gaussian_batch(n_pool, n_instances, variance, noise, seed):
    """A seeded uniform batch, with a TiedScoresWarning, for a Gaussian process
    that tells no pool point from another."""
    warnings.warn(
        f"every pool point has the same posterior variance ({variance:.4g}) and "
        "none is correlated with another, so every batch holds the same "
        f"information: the batch of {n_instances} is drawn uniformly at random "
        "(seeded by random_state), as BALDQuery draws it, instead of being the "
        "first rows of the pool. The usual cause is a kernel whose length scale "
        "collapsed below the pool's spacing when fitted on a few labels (see "
        "the GP's kernel_): label a few more, or bound the length scale "
        "(length_scale_bounds).",
        acquisition.TiedScoresWarning,
        stacklevel=user_stacklevel(),
    )
    # uncorrelated: the joint information of the first i picks is i times one's
    each = 0.5 * np.log1p(variance / noise)
    scores = each * np.arange(1, n_instances + 1)
    return _seeded_uniform(n_pool, n_instances, seed), scores


class BatchBALDQuery(_PosteriorQuery):
    __doc__ = _doc(
        """BatchBALD: greedily pick the batch of most joint mutual information.

    Scores a batch jointly, I(y_1, ..., y_b; ω), so that a point that repeats
    what is already in the batch adds little: batches are informative and
    diverse. See :func:`skbatchbald.acquisition.batchbald` for the estimator.

    Parameters
    ----------
    n_mc_samples : int, default=None
        Posterior samples K drawn from the estimator, at least 2; ``None`` uses
        the estimator's own (``MCDropoutClassifier.n_mc_samples``, or every
        member of an ensemble), and scores a GaussianProcessRegressor exactly,
        from its posterior covariance.
    n_joint_samples : int, default=10_000
        Label configurations M for the joint entropy once it can no longer be
        computed exactly.
    {max_memory}
    pool_subsample : int, default=None
        Score a random subset of this many pool points only (Gal et al. 2017
        did so for speed); the returned indices still refer to the full pool.
    lazy : bool, default=False
        Lazy greedy in the sampled phase: faster on long batches, but picks may
        differ from full greedy by more than a change of seed would (see
        :func:`skbatchbald.acquisition.batchbald`).
    on_saturation : {{"bald", "greedy"}}, default="bald"
        What fills a classification batch after its score reaches 99 % of
        log K (the most K samples hold): the remaining points in BALD order,
        or further greedy steps as in the paper's code, whose gains are then
        below the estimator's noise and which cost N x M x K x C each (minutes
        with C = 1000 classes). A multi-label batch goes on greedily.
    {noise_variance}
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds the pool subset, the dropout masks and the sampled estimator,
        and the uniform draw made when no pool point carries information
        (see Notes).
        An int repeats the call's draws for the same pool and labelled set, and draws
        afresh for each round of a loop (a smaller pool, more labels), whichever
        strategy object makes the call.

    Warns
    -----
    SaturationWarning
        When the batch stops gaining information before it is full (see
        :func:`skbatchbald.acquisition.batchbald`), and when no pool point
        carries any.

    See Also
    --------
    skbatchbald.acquisition.batchbald : The acquisition function.
    BALDQuery : Top-b of the single-point scores.

    Notes
    -----
    Kirsch, van Amersfoort & Gal, "BatchBALD: Efficient and Diverse Batch
    Acquisition for Deep Bayesian Active Learning", NeurIPS 2019.

    When no pool point carries information, every gain is 0 (the posterior
    samples predict alike everywhere: a model fitted on one target value,
    trees that all agree), and the acquisition function's batch would be the
    first rows of the pool, whatever their order. The batch is then a
    uniform draw seeded by ``random_state``, the one :class:`BALDQuery`
    makes for the same seed, with a
    :class:`~skbatchbald.acquisition.SaturationWarning`. A Gaussian process
    scored exactly has the greedy's ties among its top points broken at
    random (seeded), not by pool order (see the user guide: Regression).

    {needs_samples}

    {multilabel}
    The multi-label score: :func:`skbatchbald.acquisition.multilabel_batchbald`.

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
    )

    _disagreement = "the joint mutual information I(y_1, ..., y_b; ω)"

    def _check_params(self):
        rng = super()._check_params()
        check_int(self.n_joint_samples, "n_joint_samples")
        check_max_memory(self.max_memory)
        if not isinstance(self.lazy, bool | np.bool_):
            raise TypeError(f"lazy must be True or False, got {self.lazy!r}.")
        check_on_saturation(self.on_saturation)
        return rng

    def __init__(
        self,
        *,
        n_mc_samples=None,
        n_joint_samples=10_000,
        max_memory=None,
        pool_subsample=None,
        lazy=False,
        on_saturation="bald",
        noise_variance=None,
        random_state=None,
    ):
        self.n_mc_samples = n_mc_samples
        self.n_joint_samples = n_joint_samples
        self.max_memory = max_memory
        self.pool_subsample = pool_subsample
        self.lazy = lazy
        self.on_saturation = on_saturation
        self.noise_variance = noise_variance
        self.random_state = random_state

    # When no point carries information (every gain 0), the greedy's batch is
    # the pool's first rows, which a pool sorted by date or source biases; the
    # strategy has a random_state, so the batch is a seeded uniform draw then,
    # as BALDQuery's. The acquisition functions keep their documented order.

    def _score_regression(self, predictions, n_instances, noise, seed):
        n_pool = predictions.shape[0]
        if n_instances < n_pool:
            _, scores = acquisition.bald_regression(
                predictions, n_pool, noise_variance=noise
            )
            # full relative precision (scale 0): 0 exactly, every point's
            # samples agree
            if _carries_no_information(scores, scale=0.0):
                return _uninformative_batch(
                    n_pool, n_instances, predictions.shape[1], seed
                )
        return acquisition.batchbald_regression(
            predictions, n_instances, noise_variance=noise, random_state=seed
        )

    _joint = True

    def _score_gaussian(self, covariance, n_instances, noise, seed):
        n_pool = covariance.shape[0]
        if n_instances < n_pool:
            # every variance 0 (a noiseless GP at the inputs it was fitted on)
            variance = np.diag(covariance)
            if _carries_no_information(variance, scale=0.0):
                return _uninformative_batch(n_pool, n_instances, None, seed)
            if _tied_and_uncorrelated(covariance, variance):
                return _tied_gaussian_batch(
                    n_pool, n_instances, float(variance[0]), noise, seed
                )
        return acquisition.batchbald_gaussian(
            covariance, n_instances, noise_variance=noise, random_state=seed
        )

    def _score(self, log_probs, n_instances, seed):
        n_pool = log_probs.shape[0]
        # pools read from disk or dask are not read an extra time for it
        if (
            n_instances < n_pool
            and type(log_probs) is np.ndarray
            and _carries_no_information(acquisition.mutual_information(log_probs))
        ):
            return _uninformative_batch(n_pool, n_instances, log_probs.shape[1], seed)
        return acquisition.batchbald(
            log_probs,
            n_instances,
            n_joint_samples=self.n_joint_samples,
            max_memory=self.max_memory,
            lazy=self.lazy,
            on_saturation=self.on_saturation,
            random_state=seed,
        )

    def _score_multilabel(self, log_probs, n_instances, seed):
        n_pool = log_probs.shape[0]
        # the sum over labels bounds the first gain, the joint information
        summed = acquisition.label_mutual_information(log_probs).sum(axis=1)
        if n_instances < n_pool and _carries_no_information(summed):
            return _uninformative_batch(n_pool, n_instances, log_probs.shape[1], seed)
        return acquisition.multilabel_batchbald(
            log_probs,
            n_instances,
            n_joint_samples=self.n_joint_samples,
            max_memory=self.max_memory,
            random_state=seed,
        )


class PowerBALDQuery(_PosteriorQuery):
    __doc__ = _doc(
        """PowerBALD: sample a batch with probability proportional to BALD^beta.

    Stochastic batch acquisition: as cheap as BALD, and the randomness spreads
    the batch over near-duplicates instead of taking all of them.

    Parameters
    ----------
    beta : float, default=1.0
        Inverse temperature; ``beta -> inf`` recovers top-b BALD.
    n_mc_samples : int, default=None
        Posterior samples K, at least 2; ``None`` uses the estimator's own.
    pool_subsample : int, default=None
        Score a random subset of this many pool points only.
    {noise_variance}
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds the pool subset, the dropout masks and the draw.
        An int repeats the call's draws for the same pool and labelled set, and draws
        afresh for each round of a loop (a smaller pool, more labels), whichever
        strategy object makes the call.

    See Also
    --------
    skbatchbald.acquisition.power_bald : The acquisition function.

    Notes
    -----
    Kirsch, Farquhar, Atighehchian, Jesson, Branchaud-Charron & Gal,
    "Stochastic Batch Acquisition: A Simple Baseline for Deep Active
    Learning", TMLR 2023.

    {needs_samples}

    {multilabel}
    The multi-label score: :func:`skbatchbald.acquisition.multilabel_bald`.
    """
    )

    _disagreement = "BALD's mutual information I(y; ω)"

    def _check_params(self):
        rng = super()._check_params()
        check_beta(self.beta)
        return rng

    def __init__(
        self,
        *,
        beta=1.0,
        n_mc_samples=None,
        pool_subsample=None,
        noise_variance=None,
        random_state=None,
    ):
        self.beta = beta
        self.n_mc_samples = n_mc_samples
        self.pool_subsample = pool_subsample
        self.noise_variance = noise_variance
        self.random_state = random_state

    _draws = True

    def _score_regression(self, predictions, n_instances, noise, seed):
        return acquisition.bald_regression(
            predictions,
            n_instances,
            noise_variance=noise,
            stochastic="power",
            beta=self.beta,
            random_state=seed,
        )

    def _score_gaussian(self, variance, n_instances, noise, seed):
        return acquisition.bald_gaussian(
            variance,
            n_instances,
            noise_variance=noise,
            stochastic="power",
            beta=self.beta,
            random_state=seed,
        )

    def _score(self, log_probs, n_instances, seed):
        # BALD drawn with stochastic="power": the picks of acquisition.power_bald
        return acquisition.bald(
            log_probs,
            n_instances,
            stochastic="power",
            beta=self.beta,
            random_state=seed,
        )

    def _score_multilabel(self, log_probs, n_instances, seed):
        return acquisition.multilabel_bald(
            log_probs,
            n_instances,
            stochastic="power",
            beta=self.beta,
            random_state=seed,
        )


class _TopKQuery(_PosteriorQuery):
    """Top-b, or a stochastic draw, of the single-point score ``_function``."""

    def _check_params(self):
        rng = super()._check_params()
        check_stochastic(self.stochastic, self.beta)
        return rng

    def __init__(
        self,
        *,
        stochastic=None,
        beta=None,
        n_mc_samples=None,
        pool_subsample=None,
        random_state=None,
    ):
        self.stochastic = stochastic
        self.beta = beta
        self.n_mc_samples = n_mc_samples
        self.pool_subsample = pool_subsample
        self.random_state = random_state

    def _score(self, log_probs, n_instances, seed):
        return type(self)._function(
            log_probs,
            n_instances,
            stochastic=self.stochastic,
            beta=self.beta,
            random_state=seed,
        )


class BALDQuery(_TopKQuery):
    __doc__ = _doc(
        """BALD: the b points with the most mutual information I(y; ω).

    Parameters
    ----------
    {stochastic}
    {n_mc_samples_needed}
    pool_subsample : int, default=None
        Score a random subset of this many pool points only; the returned
        indices still refer to the full pool.
    {noise_variance}
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds the pool subset, the dropout masks and the stochastic draw, and
        the uniform draw made when every pool point has the same score (see
        Notes).
        An int repeats the call's draws for the same pool and labelled set, and draws
        afresh for each round of a loop (a smaller pool, more labels), whichever
        strategy object makes the call.

    See Also
    --------
    skbatchbald.acquisition.bald : The acquisition function.
    skbatchbald.acquisition.bald_regression : Its regression form.
    BatchBALDQuery : Scores the batch jointly instead.

    Notes
    -----
    Houlsby et al. 2011; Gal, Islam & Ghahramani, ICML 2017. Top-b BALD tends
    to fill a batch with near-duplicates.

    {needs_samples}

    {ties}

    {multilabel}
    The multi-label score: :func:`skbatchbald.acquisition.multilabel_bald`.
    """
    )
    _function = staticmethod(acquisition.bald)
    _disagreement = "the mutual information I(y; ω)"

    def _score_multilabel(self, log_probs, n_instances, seed):
        return acquisition.multilabel_bald(
            log_probs,
            n_instances,
            stochastic=self.stochastic,
            beta=self.beta,
            random_state=seed,
        )

    def __init__(
        self,
        *,
        stochastic=None,
        beta=None,
        n_mc_samples=None,
        pool_subsample=None,
        noise_variance=None,
        random_state=None,
    ):
        super().__init__(
            stochastic=stochastic,
            beta=beta,
            n_mc_samples=n_mc_samples,
            pool_subsample=pool_subsample,
            random_state=random_state,
        )
        self.noise_variance = noise_variance

    def _score_regression(self, predictions, n_instances, noise, seed):
        return acquisition.bald_regression(
            predictions,
            n_instances,
            noise_variance=noise,
            stochastic=self.stochastic,
            beta=self.beta,
            random_state=seed,
        )


class MaxEntropyQuery(_TopKQuery):
    __doc__ = _doc(
        """Max entropy: the b points with the highest predictive entropy.

    Parameters
    ----------
    {stochastic}
    {n_mc_samples_predictive}
    {subsample_and_seed}

    See Also
    --------
    skbatchbald.acquisition.max_entropy : The acquisition function.

    Notes
    -----
    {predictive}

    {ties}
    """
    )
    _function = staticmethod(acquisition.max_entropy)
    _disagreement = None


class VarRatiosQuery(_TopKQuery):
    __doc__ = _doc(
        """Variation ratios: the b points with the least confident MC prediction.

    Parameters
    ----------
    {stochastic}
    {n_mc_samples_predictive}
    {subsample_and_seed}

    See Also
    --------
    skbatchbald.acquisition.variation_ratios : The acquisition function.

    Notes
    -----
    Score 1 - max_c p_c of the predictive mean (least confidence).
    {predictive}

    {ties}
    """
    )
    _function = staticmethod(acquisition.variation_ratios)
    _disagreement = None


class MeanSTDQuery(_TopKQuery):
    __doc__ = _doc(
        """Mean STD: the b points whose class probabilities vary most across ω.

    Parameters
    ----------
    {stochastic}
    {n_mc_samples_needed}
    {subsample_and_seed}

    See Also
    --------
    skbatchbald.acquisition.mean_std : The acquisition function.

    Notes
    -----
    {needs_samples}

    {ties}
    """
    )
    _function = staticmethod(acquisition.mean_std)
    _disagreement = "the standard deviation of the class probabilities across ω"


class MarginQuery(_TopKQuery):
    __doc__ = _doc(
        """Margin: the b points whose two likeliest classes are closest.

    Parameters
    ----------
    {stochastic}
    {n_mc_samples_predictive}
    {subsample_and_seed}

    See Also
    --------
    skbatchbald.acquisition.margin : The acquisition function.

    Notes
    -----
    Score 1 - (p1 - p2) of the predictive mean, in [0, 1]. Kirsch et al.
    (TMLR 2023) found plain top-b margin as good as BatchBALD on Repeated
    MNIST. With ``n_mc_samples=1`` it is the margin of one posterior sample.

    {predictive}

    {ties}
    """
    )
    _function = staticmethod(acquisition.margin)
    _disagreement = None


class RandomQuery(_Query):
    """Uniformly random batch: the baseline every strategy must beat.

    Needs no posterior samples, so it works with any learner, fitted or not.

    Parameters
    ----------
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds the draw.
        An int repeats the call's draws for the same pool and labelled set, and draws
        afresh for each round of a loop (a smaller pool, more labels), whichever
        strategy object makes the call.

    See Also
    --------
    skbatchbald.acquisition.random_batch : The acquisition function.
    """

    def __init__(self, *, random_state=None):
        self.random_state = random_state

    pool_subsample = None  # a random batch of a random subset is a random batch

    def _acquire(self, learner, X_pool, n_instances, rng):
        picked = rng.choice(
            count_rows(X_pool, "X_pool", row="pool point"),
            size=n_instances,
            replace=False,
        )
        # Zeros, as acquisition.random_batch: a random pick has no score.
        return picked, np.zeros(n_instances)


def _target_rows(X_target):
    """Number of target inputs; TypeError if X_target is not array-like."""
    try:
        return count_rows(X_target, "X_target", row="target point")
    except TypeError:
        raise TypeError(
            "X_target must be None or array-like with one row per target input "
            "(an array, DataFrame, tensor, sparse matrix or list, or a dict of "
            f"them as the pool), got {type(X_target).__name__}."
        ) from None


def _check_target_features(X_pool, X_target):
    """Refuse targets whose rows are not shaped like the pool's, before stacking.

    Only containers with a shape (arrays, sparse matrices, DataFrames,
    tensors): a list's rows are the model's to read.
    """
    if not (hasattr(X_pool, "shape") and hasattr(X_target, "shape")):
        return
    pool_shape, target_shape = tuple(X_pool.shape[1:]), tuple(X_target.shape[1:])
    if pool_shape != target_shape:
        raise ValueError(
            f"X_target's rows have shape {target_shape} but X_pool's have "
            f"{pool_shape}: the targets are inputs the model predicts on, so pass "
            "them with the pool's features (the same preprocessing and columns)."
        )


class _TargetQuery(_PosteriorQuery):
    """A strategy scored on the pool's and the target inputs' samples together."""

    def _check_params(self):
        rng = super()._check_params()
        if self.X_target is not None:
            _target_rows(self.X_target)
        if self.target_subsample is not None:
            check_int(self.target_subsample, "target_subsample", hint="or None")
        check_max_memory(self.max_memory)
        return rng

    def _acquire(self, learner, X_pool, n_instances, rng):
        if is_regression_model(learner):
            self._refuse_regression(learner)
        n_pool = count_rows(X_pool, "X_pool", row="pool point")
        n_source = n_pool if self.X_target is None else _target_rows(self.X_target)
        if n_source == 0:
            raise ValueError(
                "X_target is empty: pass the inputs whose predictions matter (at "
                "least one row), or None to use a random sample of the pool."
            )
        targets = np.arange(n_source)
        if self.target_subsample is not None and self.target_subsample < n_source:
            targets = np.sort(
                rng.choice(n_source, size=self.target_subsample, replace=False)
            )
        if self.X_target is None:
            # the targets are pool points: their samples are the pool's
            log_probs = self._log_probs(learner, X_pool, rng)
            log_probs_target = log_probs[targets]
        else:
            _check_target_features(X_pool, self.X_target)
            # one call over pool and targets: sample k is the same network for both
            X_both = stack_rows(X_pool, take_rows(self.X_target, targets))
            try:
                both = self._log_probs(learner, X_both, rng, n_pool=n_pool)
            except ValueError as exc:
                # rows past the pool's are target rows: named in X_target
                if not str(exc).startswith(NONFINITE_PREFIX):
                    raise
                try:
                    message = nonfinite_rows_message(self.X_target)
                except (TypeError, ValueError):
                    message = None
                if message is None:
                    raise
                raise ValueError(
                    message.replace(
                        NONFINITE_PREFIX, "X_target contains NaN or infinity in", 1
                    )
                ) from exc
            log_probs, log_probs_target = both[:n_pool], both[n_pool:]
        return self._score(log_probs, log_probs_target, n_instances, draw_seed(rng))


class EPIGQuery(_TargetQuery):
    __doc__ = _doc(
        """EPIG: the b points most informative about predictions on targets.

    BALD and BatchBALD seek information about the parameters, including about
    inputs nobody will ask the model about; EPIG seeks information about the
    labels y* of target inputs x*. See :func:`skbatchbald.acquisition.epig`.

    Parameters
    ----------
    {target}
    {stochastic}
    {n_mc_samples_needed}
    {max_memory}
    pool_subsample : int, default=None
        Score a random subset of this many pool points only; the returned
        indices still refer to the full pool.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds the pool subset, the target subset, the dropout masks and the
        stochastic draw, and the uniform draw made when every pool point has
        the same score (see Notes).
        An int repeats the call's draws for the same pool and labelled set, and draws
        afresh for each round of a loop (a smaller pool, more labels), whichever
        strategy object makes the call.

    See Also
    --------
    skbatchbald.acquisition.epig : The acquisition function.
    BALDQuery : Information about the parameters instead.

    Notes
    -----
    Bickford Smith, Kirsch, Farquhar, Gal, Foster & Rainforth, "Prediction-
    Oriented Bayesian Active Learning", AISTATS 2023. The pool and the target
    inputs are sampled in one call, so that posterior sample k is the same
    network for both, as the estimator of I(y; y*) needs.

    {needs_samples}

    {ties}

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skbatchbald import ActiveLearner, EPIGQuery
    >>> X, y = load_digits(return_X_y=True)
    >>> X_target = X[y < 5][-100:]  # the model will only see digits 0-4
    >>> learner = ActiveLearner(
    ...     RandomForestClassifier(50, random_state=0),
    ...     query_strategy=EPIGQuery(X_target=X_target, random_state=0),
    ...     X_training=X[:20], y_training=y[:20],
    ... )
    >>> idx, rows = learner.query(X[20:1000], n_instances=5)
    >>> idx.shape
    (5,)
    """
    )

    _disagreement = "the mutual information I(y; y*) through ω"

    def _check_params(self):
        rng = super()._check_params()
        check_stochastic(self.stochastic, self.beta)
        return rng

    def __init__(
        self,
        *,
        X_target=None,
        target_subsample=100,
        stochastic=None,
        beta=None,
        n_mc_samples=None,
        max_memory=None,
        pool_subsample=None,
        random_state=None,
    ):
        self.X_target = X_target
        self.target_subsample = target_subsample
        self.stochastic = stochastic
        self.beta = beta
        self.n_mc_samples = n_mc_samples
        self.max_memory = max_memory
        self.pool_subsample = pool_subsample
        self.random_state = random_state

    def _score(self, log_probs, log_probs_target, n_instances, seed):
        return acquisition.epig(
            log_probs,
            n_instances,
            log_probs_target=log_probs_target,
            stochastic=self.stochastic,
            beta=self.beta,
            max_memory=self.max_memory,
            random_state=seed,
        )


class BatchEPIGQuery(_TargetQuery):
    __doc__ = _doc(
        """Batch EPIG: greedily pick the batch most informative about targets.

    BatchBALD's greedy joint scoring, applied to EPIG: the batch maximises
    E_x* I(y_1, ..., y_b; y* | x*), so a point that repeats what the batch
    already says about the targets adds little. See
    :func:`skbatchbald.acquisition.batch_epig`.

    Parameters
    ----------
    {target}
    n_mc_samples : int, default=None
        Posterior samples K, at least 2; ``None`` uses the estimator's own.
    n_joint_samples : int, default=10_000
        Joint samples M of (target input, batch labels, target label) once
        they can no longer be enumerated.
    {max_memory}
    pool_subsample : int, default=None
        Score a random subset of this many pool points only; the returned
        indices still refer to the full pool.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds the pool subset, the target subset, the dropout masks and the
        joint samples.
        An int repeats the call's draws for the same pool and labelled set, and draws
        afresh for each round of a loop (a smaller pool, more labels), whichever
        strategy object makes the call.

    See Also
    --------
    skbatchbald.acquisition.batch_epig : The acquisition function.
    EPIGQuery : Each point scored alone.
    BatchBALDQuery : Joint information about the parameters instead.

    Notes
    -----
    Score from Bickford Smith, Kirsch, Farquhar, Gal, Foster & Rainforth,
    AISTATS 2023; greedy joint estimator from Kirsch, van Amersfoort & Gal,
    NeurIPS 2019. The pool and the target inputs are sampled in one call.

    {needs_samples}
    """
    )

    _disagreement = "the joint mutual information I(y_1, ..., y_b; y*) through ω"

    def _check_params(self):
        rng = super()._check_params()
        check_int(self.n_joint_samples, "n_joint_samples")
        return rng

    def __init__(
        self,
        *,
        X_target=None,
        target_subsample=100,
        n_mc_samples=None,
        n_joint_samples=10_000,
        max_memory=None,
        pool_subsample=None,
        random_state=None,
    ):
        self.X_target = X_target
        self.target_subsample = target_subsample
        self.n_mc_samples = n_mc_samples
        self.n_joint_samples = n_joint_samples
        self.max_memory = max_memory
        self.pool_subsample = pool_subsample
        self.random_state = random_state

    def _score(self, log_probs, log_probs_target, n_instances, seed):
        return acquisition.batch_epig(
            log_probs,
            n_instances,
            log_probs_target=log_probs_target,
            n_joint_samples=self.n_joint_samples,
            max_memory=self.max_memory,
            random_state=seed,
        )
