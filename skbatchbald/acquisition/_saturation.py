"""When a BatchBALD batch stops gaining information before it is full."""

import math
import warnings

import numpy as np

__all__ = ["SaturationWarning", "gained_nothing", "warn_if_saturated"]

# Within 1 % of log K the remaining gains are smaller than the estimator's noise.
_SATURATION = 0.99
# An exact gain this small is round-off of a gain of 0 (float64 sums of
# float32-bounded, float64-recomputed entropies).
_NO_GAIN = 1e-9


class SaturationWarning(UserWarning):
    """The batch's joint mutual information stopped growing before the batch was full.

    With K posterior samples, I(y_1..y_b; ω) <= H(ω) = log K, so once the cumulative
    BatchBALD score is within 1 % of log K the true gains of the remaining points are
    tiny and the later picks are decided by estimator noise. The score can also
    stop below log K: when the samples fall into groups that predict alike on
    every pool point (trees with the same leaves, identical members), no label
    tells them apart, and the gains are exactly 0 once the batch has told the
    groups apart. BatchBALD then fills the batch in BALD order. Either way,
    use more (and more varied) posterior samples or acquire fewer points.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skbatchbald.acquisition import SaturationWarning, batchbald
    >>> # two posterior samples that disagree completely: one point holds log 2 nats
    >>> log_probs = np.array([[[0.0, -np.inf], [-np.inf, 0.0]]] * 3)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = batchbald(log_probs, 2)
    >>> [w.category.__name__ for w in caught]
    ['SaturationWarning']
    """


def gained_nothing(value, scores):
    """Whether an exact step's best gain is 0: by submodularity, every later one is.

    The K posterior samples then fall into groups that predict alike on every
    point left, and the batch already tells which group holds ω.
    """
    return value - (scores[-1] if len(scores) else 0.0) <= _NO_GAIN


def warn_if_saturated(scores, n_mc_samples, n_greedy):
    """Warn if the scores reached log K, or the greedy stopped after ``n_greedy``."""
    limit = math.log(n_mc_samples)
    saturated = np.flatnonzero(scores[:-1] >= _SATURATION * limit)
    if n_greedy == 0:
        warnings.warn(
            f"no pool point carries information about ω: the K={n_mc_samples} "
            f"posterior samples predict alike on every point (e.g. a bagging "
            f"ensemble with bootstrap=False over a deterministic model fits the "
            f"same member K times), so BatchBALD's scores are 0 and its "
            f"{scores.size} picks follow BALD's order, ties to the lowest index. "
            f"Use posterior samples that differ (bootstrap=True, more varied "
            f"members, MC dropout).",
            SaturationWarning,
            stacklevel=3,
        )
        return
    if n_greedy < scores.size and not (saturated.size and saturated[0] < n_greedy):
        warnings.warn(
            f"BatchBALD's joint mutual information stopped growing at "
            f"{scores[n_greedy - 1] if n_greedy else 0.0:.4g} nats after pick "
            f"{n_greedy} of {scores.size}, below log K = {limit:.4g}: no pool "
            f"point adds information, as the K={n_mc_samples} posterior samples "
            f"fall into groups that predict alike on every point left (e.g. "
            f"trees with the same leaves). The remaining {scores.size - n_greedy} "
            f"picks follow their BALD scores. Use more varied posterior samples "
            f"(more trees or members, bootstrap, more MC-dropout samples) or "
            f"acquire fewer points.",
            SaturationWarning,
            stacklevel=3,
        )
        return
    if saturated.size:
        first = int(saturated[0])
        warnings.warn(
            f"BatchBALD's cumulative score reached {scores[first]:.4g} nats after "
            f"pick {first + 1} of {scores.size}, within 1% of log K = {limit:.4g} "
            f"(K={n_mc_samples} posterior samples): no batch carries more than log K "
            f"nats, so the remaining picks carry almost no information (decided "
            f"by estimator noise, or in BALD order once no gain is left). Raise "
            f"the number of posterior samples K or acquire fewer points.",
            SaturationWarning,
            stacklevel=3,
        )
