"""One random generator per call, from a scikit-learn style ``random_state``."""

import numbers

import numpy as np


def as_generator(random_state, name="random_state"):
    """Return a :class:`numpy.random.Generator` for ``random_state``.

    ``None`` gives fresh OS entropy, an int a seeded generator, a ``Generator`` is
    used as is and a legacy ``RandomState`` seeds a new generator (advancing it).
    The global numpy and torch generators are never touched.
    """
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(
        random_state, bool
    ):
        if random_state < 0:
            raise ValueError(
                f"{name} must be a non-negative int, got {random_state}; pass a "
                "seed such as 0."
            )
        return np.random.default_rng(int(random_state))
    raise TypeError(
        f"{name} must be None, a non-negative int, a numpy Generator or a "
        f"RandomState, got {random_state!r} of type {type(random_state).__name__}."
    )


def torch_seeds(random_state, n, name="random_state"):
    """Draw ``n`` independent int64 seeds for :class:`torch.Generator` objects."""
    rng = as_generator(random_state, name)
    return [int(s) for s in rng.integers(0, 2**63 - 1, size=n)]


def as_random_state(random_state, name="random_state"):
    """Return a legacy :class:`numpy.random.RandomState` for ``random_state``.

    For code whose draws are defined on ``RandomState`` (scikit-learn's
    ``check_random_state``): None, an int or a ``RandomState`` as there, and a
    ``Generator`` wrapped around its own bit generator, so drawing advances it.
    """
    if isinstance(random_state, np.random.Generator):
        return np.random.RandomState(random_state.bit_generator)
    from sklearn.utils import check_random_state

    try:
        return check_random_state(random_state)
    except ValueError as exc:
        raise TypeError(
            f"{name} must be None, an int, a numpy Generator or a RandomState, "
            f"got {random_state!r} of type {type(random_state).__name__}."
        ) from exc
