"""When scores differ by round-off only: one rule for every layer.

The acquisition functions draw a uniform batch when every pool score is tied,
and the strategies decide with the same rule whether BatchBALD's pool
carries any information, so that both draw the same batch for one seed.
"""

import numpy as np

__all__ = ["TIE_RTOL", "scores_tied"]

# Scores this close (relative to their size, or to the size of the terms they
# were computed from) differ by round-off only.
TIE_RTOL = 1e-12


def scores_tied(low, high, *, scale=1.0):
    """Whether scores from ``low`` to ``high`` differ by round-off only.

    Within ``1e-12 * max(scale, |low|, |high|)`` of each other; never when
    either end is not finite, whose size would make any spread a tie.
    """
    if not (np.isfinite(low) and np.isfinite(high)):
        return False
    return high - low <= TIE_RTOL * max(scale, abs(high), abs(low))
