"""Sample weights kept with the labelled rows they weigh.

``teach`` refits on every row taught, so a ``sample_weight`` given with a
batch must be joined to the weights of the rows before it, as ``X`` is to
``X_training``. Without this, ``teach(X_new, y_new, sample_weight=w_new)``
failed inside scikit-learn ("sample_weight.shape == (20,), expected
(120,)") after a Pipeline's first steps had refitted on the new rows.
"""

import numpy as np

from ._validation import count_rows

__all__ = ["join_row_weights", "split_row_weights"]


def _is_row_weight(key):
    # scikit-learn's name, and a Pipeline step's (routed by prefix)
    return key == "sample_weight" or key.endswith("__sample_weight")


def split_row_weights(fit_kwargs):
    """``fit_kwargs`` as (row weights, the other parameters)."""
    weights = {k: v for k, v in fit_kwargs.items() if _is_row_weight(k)}
    others = {k: v for k, v in fit_kwargs.items() if not _is_row_weight(k)}
    return weights, others


def join_row_weights(kept, given, n_taught, n_new):
    """The weights of the labelled set once a batch of ``n_new`` rows is added.

    Parameters
    ----------
    kept : dict
        The weights of the ``n_taught`` rows taught so far, by parameter.
    given : dict
        The batch's: one weight per new row, or (as before weights were kept)
        one per row of the whole labelled set.
    n_taught, n_new : int
        Rows taught so far, and rows of the batch.

    Returns
    -------
    weights : dict
        One array of ``n_taught + n_new`` weights per parameter; rows given
        no weight weigh 1, scikit-learn's default.
    """
    joined = {}
    for key in [*kept, *(k for k in given if k not in kept)]:
        before = kept.get(key)
        if before is None:
            before = np.ones(n_taught)
        if key not in given:
            joined[key] = np.concatenate([before, np.ones(n_new)])
            continue
        weights = np.asarray(given[key], dtype=np.float64)
        if weights.ndim == 0:  # one weight for every row of the batch
            weights = np.full(n_new, float(weights))
        n_weights = count_rows(weights, key, row="weight")
        if n_weights == n_new:
            joined[key] = np.concatenate([before, weights])
        elif n_weights == n_taught + n_new:
            joined[key] = weights
        else:
            raise ValueError(
                f"{key} has {n_weights} weights, and X has {n_new} rows: pass "
                f"one weight per new row (the learner keeps the weights of the "
                f"{n_taught} rows taught before and joins them), or one per row "
                f"of the whole labelled set ({n_taught + n_new})."
            )
    return joined
