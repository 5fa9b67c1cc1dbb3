"""Stopping rules: when more labels stop paying, judged on a fixed unlabelled stop set.

A rule is consulted once per round, after the model was refitted:
``rule.update(learner, X_stop)`` returns True when the rule says stop, and keeps
the evidence of every round in ``rule.history_`` (also logged through
:mod:`logging`, logger ``skbatchbald.stopping``). The stop set is a fixed set of
unlabelled inputs (e.g. a random sample of the initial pool); it must not change
between rounds, or the rounds would not be comparable.

:func:`evaluate_stop` replays a rule over the per-round outputs of a finished run
and compares its stop with the best fixed stopping point in hindsight.
"""

import contextlib
import hashlib
import logging
import math
import warnings

import joblib
import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import cohen_kappa_score

from ._missing import REFUSES, has_missing, nan_flow
from ._models import check_model_noise, final_model, warn_if_noise_dwarfs
from ._pickled_version import VersionedPickle
from ._validation import (
    check_int,
    check_n_mc_samples,
    check_noise_variance,
    check_random_state,
    check_real,
    count_labelled,
    count_rows,
    draw_seed,
    is_auto,
)
from ._warnings import SkbatchbaldWarning, user_stacklevel
from .acquisition import (
    bald_gaussian,
    bald_regression,
    label_mutual_information,
    mutual_information,
)
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
    "ExpectedInformation",
    "StabilizingPredictions",
    "evaluate_stop",
    "hindsight_stop",
]

logger = logging.getLogger(__name__)

# A stop-set point whose BALD is within this fraction of min(log K, log C) is at
# the ceiling: its score says "K samples cannot tell more", not how much is left.
_CEILING_SLACK = 0.01

# A stop whose rarest predicted class covers fewer stop-set inputs than this
# rests on those few: kappa 1 on two rare predictions says little.
_FEW_PREDICTIONS = 10


def _n_labels_of(estimator, n_labels):
    """The labels spent so far: given, or the rows a learner or Committee was
    taught, or None."""
    if n_labels is not None:
        return check_int(n_labels, "n_labels", min_val=0)
    return count_labelled(estimator)


def _nonfinite(X_stop):
    """Whether the stop set holds a missing value (NaN, None, pd.NA, NaT), and
    whether its numbers hold infinity.

    A DataFrame's columns are read one by one, so a mixed-type frame is
    checked as a numeric array is.
    """
    if hasattr(X_stop, "dtypes") and hasattr(X_stop, "columns"):  # a DataFrame
        columns = [X_stop.iloc[:, j] for j in range(X_stop.shape[1])]
    else:
        columns = [X_stop.data if hasattr(X_stop, "tocsr") else X_stop]  # sparse
    has_inf = False
    for values in columns:
        try:
            array = np.asarray(values)
        except (TypeError, ValueError, RuntimeError):  # ragged lists, GPU tensors
            continue
        if array.dtype.kind in "fc":
            has_inf = has_inf or bool(np.isinf(array).any())
    sparse_values = X_stop.data if hasattr(X_stop, "tocsr") else X_stop
    return has_missing(sparse_values), has_inf


def _check_stop_set(X_stop, estimator):
    """The stop set's digest (:func:`_stop_set_digest`).

    ValueError if it is None or empty, holds infinity, or holds NaN that
    ``estimator`` refuses (:func:`skbatchbald._missing.nan_flow`).
    """
    if X_stop is None:
        raise ValueError(
            "X_stop is None: pass a fixed set of unlabelled inputs (e.g. a random "
            "sample of the initial pool) and the same one every round."
        )
    n_rows = count_rows(X_stop, "X_stop", row="stop-set input")
    if n_rows == 0:
        raise ValueError(
            "X_stop is empty: a stopping rule needs stop-set inputs to compare "
            "rounds on; pass e.g. a few hundred unlabelled pool inputs."
        )
    has_nan, has_inf = _nonfinite(X_stop)
    if has_inf:
        raise ValueError(
            "X_stop holds infinite values; replace or drop those rows before "
            "choosing the stop set."
        )
    if has_nan and nan_flow(estimator) == REFUSES:
        name = type(final_model(estimator)).__name__
        raise ValueError(
            f"X_stop holds NaN values, and {name} does not accept missing values "
            "(scikit-learn's tag input_tags.allow_nan is False for it, or for a "
            "step of its Pipeline before any imputer); impute or drop those rows "
            "before choosing the stop set, or put an imputer in front of the model "
            "(make_pipeline(SimpleImputer(), model))."
        )
    return _stop_set_digest(X_stop)


# Values hashed per block, which bounds the float32 copy of a dense stop set.
_DIGEST_BLOCK = 1 << 20


def _stop_set_digest(X_stop):
    """Hash of the stop set's shape and values, whatever holds them.

    The same inputs give the same digest as an array in C or Fortran order, a
    list, a DataFrame or its ``to_numpy()``, a CPU tensor or a sparse matrix,
    and in any numeric dtype: numbers are compared at float32 precision (the
    precision torch networks and scikit-learn's trees compute in), so a
    float32 copy of float64 inputs is the same stop set. Non-numeric inputs
    (text, mixed-type frames) are compared by value, element by element.
    """
    if hasattr(X_stop, "tocsr"):  # scipy sparse: its nonzeros, never densified
        return _sparse_digest(X_stop)
    if hasattr(X_stop, "detach") and hasattr(X_stop, "cpu"):  # a torch tensor
        with contextlib.suppress(TypeError, RuntimeError):
            X_stop = X_stop.detach().cpu()
    try:
        array = np.asarray(X_stop)
    except (TypeError, ValueError, RuntimeError):  # ragged lists, ...
        return joblib.hash(X_stop)
    if array.dtype.kind in "biuf" and array.ndim > 0:
        return _dense_digest(array)
    if array.dtype.kind in "OUS":  # strings of any width are the same objects
        array = array.astype(object)
    return joblib.hash((array.shape, np.ascontiguousarray(array)))


def _nonzeros_digest(shape, blocks):
    """Digest of ``shape`` and the (flat index, float32 value) pairs of ``blocks``.

    ``blocks`` yields ``(flat_indices, values)`` in row-major order; how the
    pairs are split into blocks does not change the digest.
    """
    indices, values = hashlib.sha256(), hashlib.sha256()
    for flat, vals in blocks:
        indices.update(np.asarray(flat, dtype="<i8").tobytes())
        values.update(np.asarray(vals, dtype="<f4").tobytes())
    whole = hashlib.sha256(repr(tuple(int(n) for n in shape)).encode())
    whole.update(indices.digest())
    whole.update(values.digest())
    return whole.hexdigest()


def _dense_digest(array):
    """:func:`_nonzeros_digest` of a numeric array, a block of rows at a time."""
    width = math.prod(array.shape[1:])
    step = max(1, _DIGEST_BLOCK // max(width, 1))

    def blocks():
        for start in range(0, array.shape[0], step):
            with np.errstate(over="ignore"):  # beyond float32: inf, still equal
                block = np.asarray(array[start : start + step], dtype=np.float32)
            block = block.reshape(-1)  # row-major, whatever the memory layout
            nonzero = np.flatnonzero(block)  # -0.0 equals 0.0 and is left out
            yield nonzero + start * width, block[nonzero]

    return _nonzeros_digest(array.shape, blocks())


def _sparse_digest(matrix):
    """:func:`_nonzeros_digest` of a scipy sparse matrix (the dense array's)."""
    csr = matrix.tocsr().copy()
    csr.sum_duplicates()  # also sorts each row's column indices
    with np.errstate(over="ignore"):
        csr.data = np.asarray(csr.data, dtype=np.float32)
    csr.eliminate_zeros()  # explicit zeros, and values that round to zero
    rows = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
    flat = rows * csr.shape[1] + csr.indices
    return _nonzeros_digest(csr.shape, [(flat, csr.data)])


class _StoppingRule(VersionedPickle, BaseEstimator):
    """What every rule shares: the stop-set checks, the rounds and the history."""

    _output_name = "outputs"

    def update(self, estimator, X_stop, *, n_labels=None):
        """Take one round's model into account and say whether to stop.

        Parameters
        ----------
        estimator : object
            The model after this round's refit: an
            :class:`~skbatchbald.ActiveLearner` (or modAL learner), a fitted
            classifier (or, for :class:`ExpectedInformation`, a regressor or
            multi-label classifier), a Pipeline, or anything else the rule can
            predict with.
        X_stop : array-like of shape (n_stop, ...)
            The stop set: the same unlabelled inputs every round.
        n_labels : int, default=None
            Labels spent so far; None takes the rows a learner (or a
            Committee's members) was taught, where there are any. A round
            at the labels of the last recorded one (a script run again) is
            that round evaluated again:
            its record is replaced, compared with the round before, so
            repeating a round never stops the rule.

        Returns
        -------
        stop : bool
            Whether the rule says stop after this round.

        Raises
        ------
        ValueError
            If ``X_stop`` is empty, holds infinity, holds NaN the model does
            refuses (scikit-learn's tag ``input_tags.allow_nan``, looked
            for through a learner, a search, a Pipeline's steps up to an
            imputer and a ColumnTransformer's transformers), or differs from
            the stop
            set of the earlier rounds; if ``n_labels`` is fewer than the last
            round's.
        """
        self._check_params()
        digest = _check_stop_set(X_stop, estimator)
        known = getattr(self, "stop_set_hash_", None)
        if known is not None and digest != known:
            raise ValueError(
                "X_stop changed between rounds: its shape or values differ from "
                f"round 0's (hash {digest[:12]}... against {known[:12]}...), and "
                "rounds are only comparable on one stop set. Pass the same inputs "
                "every round (any container or dtype), or clone the rule to start "
                "over."
            )
        # the outputs, and what the model says about reading them (a
        # multi-label model's labels, a regressor's noise)
        outputs, options = self._outputs(estimator, X_stop)
        stop = self._update_from(outputs, _n_labels_of(estimator, n_labels), options)
        self.stop_set_hash_ = digest
        return stop

    def update_from(self, outputs, *, n_labels=None):
        """Take one round into account from the model's outputs on the stop set.

        For replaying a recorded run (see :func:`evaluate_stop`) or for a loop
        that already computed them; :meth:`update` takes its round the same
        way once it has the outputs.

        Parameters
        ----------
        outputs : array-like
            This round's outputs on the stop set (see the class's description).
        n_labels : int, default=None
            Labels spent so far. At the last recorded round's labels, that
            round is evaluated again and its record replaced (see
            :meth:`update`); None always records a new round.

        Returns
        -------
        stop : bool
            Whether the rule says stop after this round.

        Raises
        ------
        ValueError
            If the outputs are malformed, hold NaN, or cover a different number
            of stop-set inputs than the earlier rounds; if ``n_labels`` is fewer
            than the last round's.
        """
        self._check_params()  # before the options read the parameters
        return self._update_from(outputs, n_labels, self._replay_options())

    def _replay_options(self):
        """How to read outputs given without a model (`update_from`)."""
        return {}

    def _update_from(self, outputs, n_labels, options):
        """`update_from`, with ``options`` for `_check_outputs` and `_evidence`.

        Its callers, `update` and `update_from`, have checked the parameters.
        """
        outputs = self._check_outputs(outputs, **options)
        n_stop = getattr(self, "n_stop_", None)
        if n_stop is not None and outputs.shape[0] != n_stop:
            raise ValueError(
                f"this round's {self._output_name} cover {outputs.shape[0]} stop-set "
                f"inputs, the earlier rounds' {n_stop}: the stop set changed between "
                "rounds. Use the same stop set every round, or clone the rule to "
                "start over."
            )
        if n_labels is not None:
            n_labels = check_int(n_labels, "n_labels", min_val=0)
        records = getattr(self, "records_", [])
        last = records[-1]["n_labels"] if records else None
        if n_labels is not None and last is not None and n_labels < last:
            raise ValueError(
                f"n_labels={n_labels} is fewer than the last recorded round's "
                f"{last}: rounds are recorded in the order their labels were "
                "spent. In an annotation loop, where a withdrawn answer (set "
                "aside with '?', an annotation deleted) leaves the learner fewer "
                "rows, pass the labels spent, which never go down: n_labels="
                "result.answered.size + result.skipped.size of annotation_round's "
                "result. To go back to an earlier round, load the rule as it was "
                "saved then, or clone it to start over."
            )
        # A round at the labels of the last one (a script re-run, a second call)
        # is that round evaluated again: it replaces the record, compared with
        # the round before, so re-running never adds evidence nor stops a rule.
        again = n_labels is not None and n_labels == last
        earlier = records[:-1] if again else records
        round_ = len(earlier)
        record = {"round": round_, "n_labels": n_labels}
        record.update(self._evidence(outputs, earlier, again=again, **options))
        stop = bool(record["stop"])
        self._remember(outputs, again=again)
        self.records_ = [*earlier, record]
        self.n_stop_ = outputs.shape[0]
        self.n_rounds_ = round_ + 1
        self.stop_ = stop
        first = next((r for r in self.records_ if r["stop"]), None)
        self.stop_round_ = None if first is None else first["round"]
        self.stop_labels_ = None if first is None else first["n_labels"]
        logger.info(
            "%s round %d (%s labels%s): %s",
            type(self).__name__,
            round_,
            "?" if n_labels is None else n_labels,
            ", evaluated again: replaces the last record" if again else "",
            ", ".join(
                f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in record.items()
                if k not in ("round", "n_labels")
            ),
        )
        if stop and self.stop_round_ == round_:
            logger.info("%s says stop at round %d", type(self).__name__, round_)
        return stop

    def _remember(self, outputs, *, again):
        """Keep what the next round is compared with (nothing, by default)."""

    @property
    def history_(self):
        """The evidence of every round so far, one row per round (pandas DataFrame).

        Returns
        -------
        history : pandas.DataFrame
            The columns ``round``, ``n_labels``, the rule's evidence (see the
            class's description) and ``stop``.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before the first round.
        """
        import pandas as pd  # optional: only the history table needs it

        if not hasattr(self, "records_"):
            raise NotFittedError(
                f"this {type(self).__name__} has seen no round yet; call update() "
                "after each round's refit."
            )
        return pd.DataFrame.from_records(self.records_)


class StabilizingPredictions(_StoppingRule):
    """Stop when successive models agree on the stop set: stabilising predictions.

    Bloodgood & Vijay-Shanker's rule: each round, the model's predicted labels
    on the fixed stop set are compared with the previous round's by Cohen's
    kappa (:func:`sklearn.metrics.cohen_kappa_score`); the rule says stop once
    the mean kappa of the last ``window`` comparisons reaches ``threshold``.
    It needs only ``predict``, so it works with any classifier.

    Parameters
    ----------
    window : int, default=3
        Number k of successive kappas averaged (their default).
    threshold : float, default=0.99
        Mean kappa at or above which the rule says stop, in (0, 1] (their
        default 0.99).

    Attributes
    ----------
    records_ : list of dict
        One per round: ``round``, ``n_labels``, ``kappa`` (with the previous
        round's predictions; NaN in round 0 and when both rounds predict the
        same one class), ``agreement`` (the fraction of equal predictions),
        ``mean_kappa`` (over the last ``window`` kappas; NaN until that many
        exist or when one of them is NaN) and ``stop``.
    history_ : pandas.DataFrame
        ``records_`` as a table.
    n_rounds_ : int
        Rounds seen.
    n_stop_ : int
        Stop-set size.
    stop_ : bool
        The last round's decision.
    stop_round_ : int or None
        The first round at which the rule said stop (rounds count from 0).
    stop_labels_ : int or None
        The labels spent at that round, where known.
    stop_set_hash_ : str
        Hash of the stop set's shape and values (set by :meth:`update`); the
        same inputs in another container, memory layout or numeric dtype
        have the same hash (numbers compared at float32 precision).
    predictions_ : ndarray of shape (n_stop,)
        The last round's predictions, compared with the next round's.

    See Also
    --------
    ExpectedInformation : Stops when the stop set's expected information is low.
    evaluate_stop : Replays a rule over a recorded run.

    Notes
    -----
    M. Bloodgood and K. Vijay-Shanker (2009), "A Method for Stopping Active
    Learning Based on Stabilizing Predictions and the Need for User-Adjustable
    Stopping", CoNLL. Predictions stable from round r on (kappa 1 at rounds r,
    r + 1, ...) make the rule stop at round r + window - 1 at the latest, and
    not before unless the kappas before r were already near 1. Two rounds with
    identical predictions have kappa 1, except when both predict one class for
    the whole stop set: chance agreement is then 1 and Cohen's kappa 0/0,
    undefined (:func:`~sklearn.metrics.cohen_kappa_score` returns NaN). Such
    rounds agree only trivially, e.g. a model that predicts the majority class
    everywhere on imbalanced data, so their kappa is recorded as NaN, a window
    that holds one has no mean and never stops the rule, and a warning says
    why. A stop while a predicted class covers fewer than 10 stop-set inputs
    stands, with a warning: its kappas rest on those few inputs.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.stopping import StabilizingPredictions
    >>> rule = StabilizingPredictions(window=2, threshold=0.99)
    >>> rounds = [[0, 1, 1, 0], [1, 1, 0, 0], [1, 1, 0, 1], [1, 1, 0, 1],
    ...           [1, 1, 0, 1]]
    >>> [rule.update_from(np.array(p)) for p in rounds]
    [False, False, False, False, True]
    >>> rule.stop_round_
    4
    """

    _output_name = "predictions"

    def __init__(self, *, window=3, threshold=0.99):
        self.window = window
        self.threshold = threshold

    def _check_params(self):
        check_int(self.window, "window", hint="the number of kappas averaged")
        check_real(
            self.threshold,
            "threshold",
            expected="a number in (0, 1]",
            min_val=0.0,
            max_val=1.0,
            min_open=True,
            hint="the mean kappa at which to stop; 0.99 in the paper",
        )

    def _outputs(self, estimator, X_stop):
        if not hasattr(estimator, "predict"):
            raise TypeError(
                f"{type(estimator).__name__} has no predict method: pass the "
                "fitted classifier or the learner that holds it."
            )
        if is_regression_model(estimator):
            raise ValueError(
                f"StabilizingPredictions compares predicted class labels (Cohen's "
                f"kappa), and {type(estimator).__name__} is a regression model; "
                "for regression use ExpectedInformation (the mean regression "
                "BALD on the stop set), or stop on a labelling budget or a "
                "held-out error."
            )
        return estimator.predict(X_stop), {}

    def _check_outputs(self, predictions):
        predictions = np.asarray(predictions)
        if predictions.ndim == 2 and predictions.dtype.kind in "iub":
            raise ValueError(
                "predictions must be one label per stop-set input, shape "
                f"(n_stop,); got an indicator matrix of shape {predictions.shape}: "
                "a multi-label model. Cohen's kappa compares one label per input: "
                "give each label its own rule, rule_l.update_from(predictions[:, l]), "
                "or use ExpectedInformation, which scores a multi-label model."
            )
        if predictions.ndim != 1:
            raise ValueError(
                "predictions must be one label per stop-set input, shape "
                f"(n_stop,); got shape {predictions.shape}. Pass predict()'s "
                "output, not predict_proba()'s."
            )
        if predictions.shape[0] == 0:
            raise ValueError("predictions are empty: the stop set has no inputs.")
        if predictions.dtype.kind in "fc" and np.isnan(predictions).any():
            raise ValueError(
                "predictions hold NaN; the model predicted no label for some "
                "stop-set inputs."
            )
        if predictions.dtype.kind == "f" and not np.array_equal(
            predictions, np.round(predictions)
        ):
            raise ValueError(
                "predictions hold continuous values ("
                f"{', '.join(f'{v:g}' for v in predictions[:3])}, ...), a "
                "regressor's: StabilizingPredictions compares predicted class "
                "labels (Cohen's kappa), and every float would count as its own "
                "class. For regression use ExpectedInformation (the mean "
                "regression BALD on the stop set), or stop on a labelling budget "
                "or a held-out error."
            )
        return predictions

    def _evidence(self, predictions, earlier, *, again):
        # the round before: on a re-run, the one before the replaced record
        previous = getattr(
            self, "_previous_predictions_" if again else "predictions_", None
        )
        classes = np.unique(predictions)
        if len(classes) == 1:
            warnings.warn(
                f"the model predicts one class ({classes.tolist()[0]!r}) for all "
                f"{len(predictions)} stop-set inputs: rounds that agree only on "
                "that show nothing stable (Cohen's kappa is 0/0, undefined), so "
                "this round cannot count towards a stop. On imbalanced data the "
                "model has not learnt the rare class yet: label more, use a stop "
                "set large enough to hold rare-class inputs, or stop on another "
                "signal (ExpectedInformation, a labelling budget).",
                SkbatchbaldWarning,
                stacklevel=user_stacklevel(),
            )
        if previous is None or not earlier:
            kappa = agreement = math.nan
        else:
            agreement = float(np.mean(previous == predictions))
            if len(classes) == 1 and np.array_equal(previous, predictions):
                kappa = math.nan  # chance agreement 1: kappa is 0/0
            elif np.array_equal(previous, predictions):
                kappa = 1.0
            else:
                kappa = float(cohen_kappa_score(previous, predictions))
        # round 0 compares with nothing; an undefined kappa in the window
        # leaves its mean undefined, so such a round never stops the rule
        kappas = [r["kappa"] for r in earlier[1:]] + [kappa]
        kappas = kappas[-self.window :]
        mean = math.nan
        if len(kappas) == self.window and not any(math.isnan(k) for k in kappas):
            mean = float(np.mean(kappas))
        stop = not math.isnan(mean) and mean >= self.threshold
        counts = np.unique(predictions, return_counts=True)
        if stop and len(classes) > 1 and counts[1].min() < _FEW_PREDICTIONS:
            rare = counts[0].tolist()[int(np.argmin(counts[1]))]
            warnings.warn(
                f"the rule says stop, but the model predicts class {rare!r} for "
                f"only {counts[1].min()} of {len(predictions)} stop-set inputs: "
                "the kappas rest on those few. Check that it predicts the rare "
                "class about as often as it occurs before stopping, or use a "
                "larger stop set.",
                SkbatchbaldWarning,
                stacklevel=user_stacklevel(),
            )
        return {
            "kappa": kappa,
            "agreement": agreement,
            "mean_kappa": mean,
            "stop": stop,
        }

    def _remember(self, predictions, *, again):
        if not again:
            self._previous_predictions_ = getattr(self, "predictions_", None)
        self.predictions_ = predictions


class ExpectedInformation(_StoppingRule):
    """Stop when a label would tell the model little: mean BALD on the stop set.

    Each round, posterior samples of the stop set are drawn
    (:func:`~skbatchbald.sampling.predict_log_proba_samples`) and each stop-set
    input's BALD score, the mutual information between its label and the model
    (:func:`~skbatchbald.acquisition.mutual_information`), is averaged: the
    expected information one more label brings, in nats. The rule says stop
    once it has been below ``threshold`` for ``window`` rounds in a row, or,
    with ``min_decrease``, once it fell by less than that fraction over the
    last ``window`` rounds (the gain per round flattened).

    A multi-label model (fitted on a 0/1 indicator y) is scored by
    multi-label BALD, the sum over labels of each label's BALD
    (:func:`~skbatchbald.acquisition.label_mutual_information`, on
    :func:`~skbatchbald.sampling.predict_multilabel_log_proba_samples`), and a
    regressor by regression BALD, ``1/2 log(1 + Var_k f / σ²)``
    (:func:`~skbatchbald.acquisition.bald_regression`, on
    :func:`~skbatchbald.sampling.predict_samples`), and a Gaussian process
    (with ``n_mc_samples=None``) by the same score from its exact posterior
    variance, ``1/2 log(1 + v / σ²)``
    (:func:`~skbatchbald.acquisition.bald_gaussian`, on
    :func:`~skbatchbald.sampling.gaussian_process_covariance`): the scores
    the query strategies rank by. :meth:`update_from` takes such variances
    as outputs of shape (n_stop,).

    Parameters
    ----------
    threshold : float, default=0.01
        Mean BALD on the stop set, in nats, below which labels are not worth
        their cost. Below the most one label can tell (checked once the
        samples are drawn: at or above it the rule would stop at once):
        ``min(log K, log n_classes)``, ``n_labels * log 2`` for a multi-label
        model, ``log K`` for a regressor's samples (none for a Gaussian
        process's exact variances).
    window : int, default=3
        Number of successive rounds the criterion must hold.
    min_decrease : float or None, default=None
        If given, in (0, 1): also stop when the mean BALD fell by less than
        this fraction of its value ``window`` rounds earlier.
    n_mc_samples : int, default=None
        Posterior samples K per round; None: the estimator's default (all
        members of an ensemble).
    max_saturated : float, default=0.05
        Fraction of stop-set inputs at the ceiling (the most one label can
        tell, as for ``threshold``) above which a round is *saturated*: its
        score is capped, so the rule neither stops nor counts it (see Notes).
    noise_variance : float, "auto" or None, default=None
        Regressors only: the variance σ² of the observation noise, in squared
        target units (inside a TransformedTargetRegressor, the transformed
        target's, which the model is sampled in), the same every round; a
        number over 100 times every stop-set input's posterior variance is
        warned about, since the rule would then stop as soon as its window
        fills. None or ``"auto"``: the model's
        own estimate each round (``noise_variance_`` of an
        MCDropoutRegressor, a GaussianProcessRegressor's ``alpha`` plus its
        white noise); a regressor without one (a forest) needs a number, or
        :meth:`update` raises a ``ValueError`` (see Notes). :meth:`update_from`
        on a regressor's (n_stop, K) samples always needs a number.
    multilabel : bool or None, default=None
        Whether the outputs are a multi-label model's (n_stop, K, L) per-label
        log p(y_l = 1). None: :meth:`update` asks the model, and
        :meth:`update_from` reads (n_stop, K, C) outputs as one class per
        input; pass True to replay a multi-label run.
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Source of the posterior samples. An int draws the same dropout masks or
        members every round, so the rounds differ only by the model.

    Attributes
    ----------
    records_ : list of dict
        One per round: ``round``, ``n_labels``, ``mean_bald`` (nats),
        ``ceiling`` (the most one label can tell), ``saturated_fraction``,
        ``saturated``, ``decrease`` (the relative fall over the window; NaN
        until ``window`` rounds exist), for a regressor ``noise_variance``
        (σ² of the round), and ``stop``.
    history_ : pandas.DataFrame
        ``records_`` as a table.
    n_rounds_ : int
        Rounds seen.
    n_stop_ : int
        Stop-set size.
    stop_ : bool
        The last round's decision.
    stop_round_ : int or None
        The first round at which the rule said stop (rounds count from 0).
    stop_labels_ : int or None
        The labels spent at that round, where known.
    stop_set_hash_ : str
        Hash of the stop set's shape and values (set by :meth:`update`); the
        same inputs in another container, memory layout or numeric dtype
        have the same hash (numbers compared at float32 precision).

    See Also
    --------
    StabilizingPredictions : Stops when successive models agree.
    evaluate_stop : Replays a rule over a recorded run.

    Notes
    -----
    Why not BatchBALD's score: the joint information of a batch of b labels
    is at most the entropy of the K equally weighted posterior samples,
    ``I(y_1, ..., y_b; ω) <= log K``, and the greedy batch reaches that ceiling
    after a few picks (:class:`~skbatchbald.acquisition.SaturationWarning`).
    The batch score then stays at ``log K`` round after round however much is
    left to learn, so it is flat for the wrong reason and cannot be the signal.
    The per-input BALD averaged over the stop set is bounded per input, by
    ``min(log K, log C)``, and falls as the model learns; where many stop-set
    inputs reach that bound (K too small, e.g. an ensemble of few members) the
    round is marked saturated and never triggers a stop. Raise K then.

    A multi-label input's score is at most ``L log 2`` (each label's BALD at
    most log 2). A regressor's Gaussian estimate has no such bound, but K
    equally weighted samples hold at most ``log K`` nats, so an input
    scored at ``log K`` or more is at the ceiling (a Gaussian process scored
    exactly has no ceiling: its score is the information itself; a tiny noise
    variance, such as its default ``alpha=1e-10`` without a WhiteKernel,
    makes every label worth many nats, so the rule stops only once the
    posterior variance falls near that noise). The regression score
    needs σ², and the query strategies' fallback for a model without a noise
    estimate, the mean sample variance of the scored inputs, is no use here:
    it sets the mean signal-to-noise ratio to 1 in every round, so the mean
    BALD would stay put however much the model learns. Hence a number for a
    forest, fixed across rounds so that the rounds are comparable.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.stopping import ExpectedInformation
    >>> agree = np.log(np.full((5, 4, 2), 0.5))  # samples agree: 0 nats
    >>> rule = ExpectedInformation(threshold=0.05, window=2)
    >>> [rule.update_from(agree) for _ in range(3)]
    [False, True, True]

    A regressor's posterior samples, with the noise variance:

    >>> f = np.array([[0.0, 2.0], [1.0, 1.0]])  # Var_k f: 1 and 0
    >>> rule = ExpectedInformation(threshold=0.05, window=1, noise_variance=1.0)
    >>> rule.update_from(f), round(rule.records_[0]["mean_bald"], 4)
    (False, 0.1733)
    """

    _output_name = "log-probabilities"

    def __init__(
        self,
        *,
        threshold=0.01,
        window=3,
        min_decrease=None,
        n_mc_samples=None,
        max_saturated=0.05,
        noise_variance=None,
        multilabel=None,
        random_state=None,
    ):
        self.threshold = threshold
        self.window = window
        self.min_decrease = min_decrease
        self.n_mc_samples = n_mc_samples
        self.max_saturated = max_saturated
        self.noise_variance = noise_variance
        self.multilabel = multilabel
        self.random_state = random_state

    def _check_params(self):
        check_real(
            self.threshold,
            "threshold",
            expected="a number > 0 (nats)",
            min_val=0.0,
            min_open=True,
            finite=True,
            hint="the mean BALD on the stop set below which to stop",
        )
        check_noise_variance(
            self.noise_variance,
            default="a regressor's own estimate",
            array_hint=(
                "The rule scores its stop set with one variance of a "
                "regressor's observation noise, the same for every input."
            ),
        )
        if self.multilabel is not None and not isinstance(
            self.multilabel, bool | np.bool_
        ):
            raise TypeError(
                f"multilabel must be None, True or False, got {self.multilabel!r}."
            )
        check_int(self.window, "window", hint="rounds the criterion must hold")
        if self.min_decrease is not None:
            check_real(
                self.min_decrease,
                "min_decrease",
                expected="None or a number in (0, 1)",
                min_val=0.0,
                max_val=1.0,
                min_open=True,
                max_open=True,
            )
        if self.n_mc_samples is not None:
            check_n_mc_samples(self.n_mc_samples)
        check_real(
            self.max_saturated,
            "max_saturated",
            expected="a number in [0, 1)",
            min_val=0.0,
            max_val=1.0,
            max_open=True,
        )
        check_random_state(self.random_state)

    def _noise(self):
        """The rule's own noise variance, or None ("auto", None)."""
        noise = self.noise_variance
        return None if noise is None or is_auto(noise) else float(noise)

    def _replay_options(self):
        return {"multilabel": bool(self.multilabel), "noise_variance": self._noise()}

    def _outputs(self, estimator, X_stop):
        seed = draw_seed(check_random_state(self.random_state))
        if is_regression_model(estimator):
            noise = self._noise()
            if noise is None:
                noise = model_noise_variance(estimator)
                check_model_noise(noise, estimator, type(self).__name__)
            if noise is None:
                raise ValueError(
                    "ExpectedInformation scores a regressor by its regression "
                    "BALD, 1/2 log(1 + Var_k f / noise_variance) per stop-set "
                    "input, which needs the variance of the observation noise, "
                    f"and the {type(final_model(estimator)).__name__} gives no "
                    "estimate of its "
                    "own. " + _no_noise_message()
                )
            if self.n_mc_samples is None and is_gaussian_process(estimator):
                # known exactly: the posterior variances (n_stop,), no draws
                outputs = gaussian_process_covariance(estimator, X_stop, diagonal=True)
            else:
                outputs = predict_samples(
                    estimator, X_stop, n_mc_samples=self.n_mc_samples, random_state=seed
                )
            if self._noise() is not None:
                variance = outputs if outputs.ndim == 1 else outputs.var(axis=1)
                warn_if_noise_dwarfs(
                    noise,
                    variance,
                    estimator,
                    "the rule stops as soon as its window of rounds fills",
                    type(self).__name__,
                )
            return outputs, {"multilabel": False, "noise_variance": noise}
        multilabel = self.multilabel
        if multilabel is None:
            multilabel = is_multilabel(estimator)
        sample = (
            predict_multilabel_log_proba_samples
            if multilabel
            else predict_log_proba_samples
        )
        point = {} if multilabel else {"allow_point_estimate": True}
        try:
            log_probs = sample(
                estimator,
                X_stop,
                n_mc_samples=self.n_mc_samples,
                random_state=seed,
                **point,
            )
        except ValueError as exc:
            if "fitted on one class only" not in str(exc):
                raise
            # the sampler's advice is about picking batches; the rule's round
            # is what to put off
            raise ValueError(
                "ExpectedInformation cannot judge a model fitted on one class: "
                "it has no uncertainty to measure yet, and a stop now would "
                "mean nothing. Update the stopping rules once the labels hold "
                "two classes; in an annotation loop, from the round that is no "
                "cold start: if not result.cold_start: rule.update(learner, "
                "X_stop)."
            ) from exc
        if not multilabel and log_probs.shape[1] == 1 and self.n_mc_samples != 1:
            # the strategies' message would recommend margin: a query strategy
            raise ValueError(
                f"ExpectedInformation needs posterior samples, and the "
                f"{type(final_model(estimator)).__name__} gives one predictive "
                "distribution (predict_proba): its expected information is 0 on "
                "every input, which would stop at once. Stop with "
                "StabilizingPredictions, which needs only predictions, or use a "
                "model with posterior samples (a forest, bagging, an "
                "MCDropoutClassifier, a Committee; user guide: Which strategy)."
            )
        return log_probs, {"multilabel": bool(multilabel), "noise_variance": None}

    def _check_outputs(self, outputs, *, multilabel=False, noise_variance=None):
        outputs = np.asarray(outputs)
        if outputs.ndim == 1 and not multilabel:
            if noise_variance is None:
                raise ValueError(
                    f"outputs of shape {outputs.shape} are read as a Gaussian "
                    "process's posterior variances, one per stop-set input "
                    "(gaussian_process_covariance(..., diagonal=True); not its "
                    "predictions), and their BALD score needs the variance of the "
                    "observation noise. " + _no_noise_message()
                )
            return outputs
        if outputs.ndim == 2 and not multilabel:
            if noise_variance is None:
                raise ValueError(
                    f"outputs of shape {outputs.shape} are a regressor's "
                    "posterior samples of the prediction, shape (n_stop, "
                    "n_mc_samples), and their BALD score needs the variance of "
                    "the observation noise. "
                    + _no_noise_message()
                    + " A classifier's outputs are log-probabilities of shape "
                    "(n_stop, n_mc_samples, n_classes)."
                )
        elif outputs.ndim != 3:
            raise ValueError(
                "the outputs must be log-probabilities of shape (n_stop, "
                "n_mc_samples, n_classes), a multi-label model's (n_stop, "
                "n_mc_samples, n_labels) log p(y_l = 1) (with multilabel=True), "
                "a regressor's posterior samples of shape (n_stop, "
                "n_mc_samples), or a Gaussian process's posterior variances of "
                f"shape (n_stop,); got shape {outputs.shape}. Pass the sampling "
                "function's output on the stop set (predict_log_proba_samples, "
                "predict_multilabel_log_proba_samples or predict_samples)."
            )
        if outputs.shape[1] < 2:
            raise ValueError(
                f"the outputs have {outputs.shape[1]} posterior sample: the "
                "information about the model needs K >= 2 samples (an MC-dropout "
                "net, an ensemble, ...), not a point estimate."
            )
        return outputs

    def _evidence(
        self, outputs, earlier, *, again, multilabel=False, noise_variance=None
    ):
        extra = {}
        if outputs.ndim == 1:
            # a Gaussian process's exact 1/2 log(1 + v / σ²): no sample ceiling
            order, ranked = bald_gaussian(
                outputs, outputs.shape[0], noise_variance=noise_variance
            )
            scores = np.empty(outputs.shape[0])
            scores[order] = ranked
            return self._decide(
                scores,
                earlier,
                ceiling=math.inf,
                at_ceiling=0.0,
                extra={"noise_variance": float(noise_variance)},
            )
        n_samples = outputs.shape[1]
        if outputs.ndim == 2:
            # regression: 1/2 log(1 + Var_k f / σ²) per input (bald_regression
            # validates: NaN, the noise); at most log K for K samples
            order, ranked = bald_regression(
                outputs, outputs.shape[0], noise_variance=noise_variance
            )
            scores = np.empty(outputs.shape[0])
            scores[order] = ranked
            ceiling = math.log(n_samples)
            bound = "log K"
            where = f"K={n_samples} samples"
            extra = {"noise_variance": float(noise_variance)}
        elif multilabel:
            # the sum over labels of each label's binary BALD (multilabel_bald)
            scores = label_mutual_information(outputs).sum(axis=1)
            n_labels = outputs.shape[2]
            ceiling = n_labels * min(math.log(n_samples), math.log(2))
            bound = "L min(log K, log 2)"
            where = f"K={n_samples} samples, L={n_labels} labels"
        else:
            scores = mutual_information(outputs)  # validates: NaN, shape, norm
            n_classes = outputs.shape[2]
            ceiling = min(math.log(n_samples), math.log(n_classes))
            bound = "min(log K, log C)"
            where = f"K={n_samples} samples, C={n_classes} classes"
        if self.threshold >= ceiling:
            raise ValueError(
                f"threshold={self.threshold} nats is at or above {bound} "
                f"= {ceiling:.3f} ({where}), "
                "the most one label can tell, so the rule would stop at once; "
                "choose a small fraction of it (the default is 0.01)."
            )
        at_ceiling = float(np.mean(scores >= (1 - _CEILING_SLACK) * ceiling))
        if at_ceiling > self.max_saturated:
            logger.warning(
                "%.0f%% of the stop set is at the BALD ceiling %s = "
                "%.3f nats with K=%d: the score is capped, not low. Raise "
                "n_mc_samples.%s",
                100 * at_ceiling,
                bound,
                ceiling,
                n_samples,
                (
                    " (A regression score far above log K also comes from a "
                    f"noise variance, here {noise_variance:.3g}, far below the "
                    "samples' variance: a Gaussian process's default "
                    "alpha=1e-10 without a WhiteKernel; give it the labels' "
                    "real noise.)"
                    if outputs.ndim == 2
                    else ""
                ),
            )
        return self._decide(
            scores, earlier, ceiling=ceiling, at_ceiling=at_ceiling, extra=extra
        )

    def _decide(self, scores, earlier, *, ceiling, at_ceiling, extra=None):
        """The round's record from its per-input scores (see `_evidence`)."""
        saturated = at_ceiling > self.max_saturated
        mean = float(scores.mean())
        run = [*earlier, {"mean_bald": mean, "saturated": saturated}][-self.window :]
        full = len(run) == self.window and not any(r["saturated"] for r in run)
        below = full and all(r["mean_bald"] < self.threshold for r in run)
        decrease = math.nan
        if len(earlier) >= self.window:
            start = earlier[-self.window]["mean_bald"]
            decrease = (start - mean) / start if start > 0 else 0.0
        flat = (
            self.min_decrease is not None
            and full
            and len(earlier) >= self.window
            and not earlier[-self.window]["saturated"]
            and decrease < self.min_decrease
        )
        return {
            "mean_bald": mean,
            "ceiling": ceiling,
            "saturated_fraction": at_ceiling,
            "saturated": saturated,
            "decrease": decrease,
            **(extra or {}),
            "stop": bool(below or flat),
        }


def _no_noise_message():
    """Where a regression round's noise variance comes from, and why not the
    strategies' fallback."""
    return (
        "Pass "
        "ExpectedInformation(noise_variance=...), in squared target units and "
        "the same every round (a known measurement error, or the "
        "cross-validated mean squared error on the labelled set), or use a "
        "model that estimates it (an MCDropoutRegressor, a "
        "GaussianProcessRegressor with a WhiteKernel). The query strategies' "
        "fallback, the mean sample variance of the scored inputs, would put "
        "the signal-to-noise ratio at 1 in every round, so the mean BALD "
        "would not fall as the model learns."
    )


def hindsight_stop(n_labels, accuracy, *, tolerance=0.005):
    """The best fixed stopping point of a run, in hindsight.

    The first round whose accuracy is within ``tolerance`` of the run's final
    accuracy: fewer labels would have lost more than ``tolerance``, more would
    have bought at most ``tolerance``.

    Parameters
    ----------
    n_labels : array-like of shape (n_rounds,)
        Labels spent at each round, increasing.
    accuracy : array-like of shape (n_rounds,)
        Test accuracy at each round, a fraction at most 1 (or another score
        at most 1, such as a regressor's R², which may be negative).
    tolerance : float, default=0.005
        Accuracy (a fraction: 0.005 is half a point) the stop may lose against
        the final round.

    Returns
    -------
    round : int
        Index of that round.

    Raises
    ------
    ValueError
        If the arrays are empty, of different lengths, or hold NaN, if an
        accuracy is above 1 (a percentage), or if ``n_labels`` decreases
        (rounds out of order).

    Examples
    --------
    >>> from skbatchbald.stopping import hindsight_stop
    >>> hindsight_stop([10, 20, 30, 40], [0.5, 0.898, 0.9, 0.9], tolerance=0.005)
    1
    """
    n_labels, accuracy = _check_curve(n_labels, accuracy)
    tolerance = check_real(
        tolerance, "tolerance", expected="a number >= 0", min_val=0.0, finite=True
    )
    # the 1e-12 keeps a round exactly `tolerance` below (in decimal) inside
    return int(np.flatnonzero(accuracy >= accuracy[-1] - tolerance - 1e-12)[0])


def _check_curve(n_labels, accuracy):
    n_labels = np.asarray(n_labels, dtype=float)
    accuracy = np.asarray(accuracy, dtype=float)
    if n_labels.ndim != 1 or n_labels.shape != accuracy.shape or not len(n_labels):
        raise ValueError(
            "n_labels and accuracy must be 1-d, non-empty and of one length (one "
            f"entry per round); got shapes {n_labels.shape} and {accuracy.shape}."
        )
    if np.isnan(n_labels).any() or np.isnan(accuracy).any():
        raise ValueError("n_labels and accuracy must not hold NaN.")
    # a score may be negative (R² of a regressor), never above 1
    outside = np.flatnonzero(accuracy > 1)
    if outside.size:
        hint = "; divide by 100" if accuracy.max() <= 100 else ""
        raise ValueError(
            "accuracy must be a fraction, at most 1; got "
            f"{accuracy[outside[0]]:g} at round {outside[0]} (a percentage?){hint}."
        )
    if np.any(np.diff(n_labels) < 0):
        raise ValueError(
            "n_labels must not decrease from round to round; got "
            f"{n_labels.tolist()[:8]}: pass the rounds in order (sort by round)."
        )
    return n_labels, accuracy


def evaluate_stop(rule, n_labels, accuracy, outputs, *, tolerance=0.005):
    """Replay a stopping rule over a recorded run and score where it stopped.

    A run records, per round, the labels spent, the test accuracy and the
    model's outputs on the stop set (predicted labels for
    :class:`StabilizingPredictions`, posterior log-probabilities for
    :class:`ExpectedInformation`). A clone of ``rule`` sees the rounds in order;
    its first stop is compared with :func:`hindsight_stop`.

    Parameters
    ----------
    rule : StabilizingPredictions or ExpectedInformation
        The rule, unfitted or not (it is cloned).
    n_labels : array-like of shape (n_rounds,)
        Labels spent at each round.
    accuracy : array-like of shape (n_rounds,)
        Test accuracy at each round, a fraction at most 1 (or another score
        at most 1, such as a regressor's R², which may be negative).
    outputs : sequence of length n_rounds
        Each round's stop-set outputs, as ``rule.update_from`` takes them.
    tolerance : float, default=0.005
        As in :func:`hindsight_stop`.

    Returns
    -------
    result : dict
        ``stopped`` (whether the rule ever said stop; if not, it is scored at
        the last round), ``stop_round``, ``stop_labels``, ``stop_accuracy``,
        ``hindsight_round``, ``hindsight_labels``, ``final_labels``,
        ``final_accuracy``, ``extra_labels`` (stop minus hindsight labels:
        negative if the rule stopped early), ``accuracy_lost`` (final minus stop
        accuracy, in points: positive if stopping lost accuracy) and
        ``labels_saved`` (final minus stop labels).

    Raises
    ------
    ValueError
        If the lengths differ, as :func:`hindsight_stop` raises (an accuracy
        above 1, rounds out of order), or as the rule's ``update_from``
        raises.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.stopping import StabilizingPredictions, evaluate_stop
    >>> preds = [np.array(p) for p in
    ...          ([0, 0, 1, 1], [0, 1, 1, 0], [0, 1, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1])]
    >>> result = evaluate_stop(
    ...     StabilizingPredictions(window=2), [10, 20, 30, 40, 50],
    ...     [0.5, 0.7, 0.8, 0.8, 0.81], preds)
    >>> result["stop_labels"], result["hindsight_labels"], result["labels_saved"]
    (50, 50, 0)
    """
    n_labels, accuracy = _check_curve(n_labels, accuracy)
    if len(outputs) != len(n_labels):
        raise ValueError(
            f"outputs has {len(outputs)} rounds, n_labels {len(n_labels)}: pass "
            "one stop-set output per round."
        )
    replay = clone(rule)
    stop_round = None
    for i, output in enumerate(outputs):
        if replay.update_from(output, n_labels=int(n_labels[i])):
            stop_round = i
            break
    stopped = stop_round is not None
    stop = stop_round if stopped else len(n_labels) - 1
    best = hindsight_stop(n_labels, accuracy, tolerance=tolerance)
    return {
        "stopped": stopped,
        "stop_round": stop,
        "stop_labels": int(n_labels[stop]),
        "stop_accuracy": float(accuracy[stop]),
        "hindsight_round": best,
        "hindsight_labels": int(n_labels[best]),
        "final_labels": int(n_labels[-1]),
        "final_accuracy": float(accuracy[-1]),
        "extra_labels": int(n_labels[stop] - n_labels[best]),
        "accuracy_lost": 100 * float(accuracy[-1] - accuracy[stop]),
        "labels_saved": int(n_labels[-1] - n_labels[stop]),
    }
