"""Parameter checks shared by every layer: ints, ``random_state``, ``stochastic``.

numpy only, so that the acquisition functions and the torch modules use the same
checks without importing scikit-learn or torch. The contract is scikit-learn's
(``sklearn.utils.check_scalar``): a value of the wrong type is a ``TypeError``, a
value of the right type out of range a ``ValueError``, and the message names the
parameter, the value received and what is expected. Unlike ``check_scalar``, a
``bool`` is not accepted as an int.
"""

import numbers
import sys
from collections.abc import Mapping

import numpy as np

__all__ = [
    "check_beta",
    "check_int",
    "check_n_mc_samples",
    "check_on_saturation",
    "check_random_state",
    "check_real",
    "check_stochastic",
    "draw_seed",
    "spawn_seeds",
]

_RANDOM_STATE_FORMS = (
    "None, an int >= 0, a numpy.random.Generator, SeedSequence, BitGenerator or "
    "RandomState"
)


def _describe(min_val, max_val):
    if max_val is not None:
        return f"an int in [{min_val}, {max_val}]"
    if min_val == 1:
        return "a positive int"
    return f"an int >= {min_val}"


def check_int(value, name, *, min_val=1, max_val=None, hint=""):
    """Return ``value`` as a Python int after checking its type and range.

    Parameters
    ----------
    value : object
        A Python or numpy integer; ``bool`` and floats (even integral ones) are
        rejected.
    name : str
        The parameter's name, for the message.
    min_val : int, default=1
        Smallest accepted value.
    max_val : int or None, default=None
        Largest accepted value; None for no bound.
    hint : str, default=""
        Appended to the message: what to do, or what the value means.

    Returns
    -------
    value : int

    Raises
    ------
    TypeError
        If ``value`` is not an integer (a ``bool``, a float, a string, ...).
    ValueError
        If ``value`` is outside ``[min_val, max_val]``.
    """
    expected = _describe(min_val, max_val)
    suffix = f"; {hint}" if hint else ""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be {expected}, got {value!r} of type "
            f"{type(value).__name__}{suffix}"
        )
    if value < min_val or (max_val is not None and value > max_val):
        raise ValueError(f"{name} must be {expected}, got {value}{suffix}")
    return int(value)


def check_real(
    value,
    name,
    *,
    expected,
    min_val=None,
    max_val=None,
    min_open=False,
    max_open=False,
    finite=False,
    hint="",
):
    """Return ``value`` as a float after checking its type and range.

    Parameters
    ----------
    value : object
        A Python or numpy real number; ``bool`` and strings are rejected.
    name : str
        The parameter's name, for the message.
    expected : str
        What the parameter must be, for the message (e.g. "a number >= 0").
    min_val, max_val : float or None, default=None
        Bounds; None for none.
    min_open, max_open : bool, default=False
        Whether the bound itself is excluded.
    finite : bool, default=False
        Whether ``inf`` is rejected (NaN always is).
    hint : str, default=""
        Appended to the message: what to do, or what the value means.

    Returns
    -------
    value : float

    Raises
    ------
    TypeError
        If ``value`` is not a real number (a ``bool``, a string, ...).
    ValueError
        If it is NaN, infinite with ``finite=True``, or out of range.
    """
    suffix = f"; {hint}" if hint else ""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be {expected}, got {value!r} of type "
            f"{type(value).__name__}{suffix}"
        )
    number = float(value)
    below = min_val is not None and (
        number < min_val or (min_open and number == min_val)
    )
    above = max_val is not None and (
        number > max_val or (max_open and number == max_val)
    )
    if np.isnan(number) or (finite and np.isinf(number)) or below or above:
        raise ValueError(f"{name} must be {expected}, got {value!r}{suffix}")
    return number


def check_n_mc_samples(value, name="n_mc_samples"):
    """Return the number K of posterior samples as an int >= 1.

    Parameters
    ----------
    value : int
        K.
    name : str, default="n_mc_samples"
        The parameter's name, for the message.

    Returns
    -------
    n_mc_samples : int

    Raises
    ------
    TypeError
        If ``value`` is not an integer.
    ValueError
        If ``value`` < 1.
    """
    return check_int(
        value,
        name,
        hint="the number K of posterior samples; 20 is a common choice",
    )


def check_random_state(random_state, name="random_state"):
    """Turn any accepted ``random_state`` into one :class:`numpy.random.Generator`.

    Parameters
    ----------
    random_state : None, int, numpy.random.Generator, numpy.random.SeedSequence, \
numpy.random.BitGenerator or numpy.random.RandomState
        ``None``: fresh OS entropy. An int >= 0, a SeedSequence or a
        BitGenerator: a new generator seeded by it (same seed, same draws). A
        Generator: used as is, so its state advances. A legacy RandomState (what
        scikit-learn's ``check_random_state`` returns): a seed is drawn from it,
        so its state advances and results are reproducible from its seed.
    name : str, default="random_state"
        The parameter's name, for the message.

    Returns
    -------
    rng : numpy.random.Generator

    Raises
    ------
    TypeError
        If ``random_state`` is of none of these types (a ``bool``, a float, a
        string, ...).
    ValueError
        If it is a negative int.

    Notes
    -----
    The global numpy generator is never used, so a call with a seed neither
    reads nor changes it.
    """
    if isinstance(random_state, np.random.RandomState):
        random_state = random_state.randint(np.iinfo(np.int64).max, dtype=np.int64)
    if random_state is None or isinstance(
        random_state,
        np.random.Generator | np.random.SeedSequence | np.random.BitGenerator,
    ):
        return np.random.default_rng(random_state)
    if isinstance(random_state, bool | np.bool_) or not isinstance(
        random_state, numbers.Integral
    ):
        raise TypeError(
            f"{name} must be {_RANDOM_STATE_FORMS}; got {random_state!r} of type "
            f"{type(random_state).__name__}"
        )
    if random_state < 0:
        raise ValueError(
            f"{name} must be {_RANDOM_STATE_FORMS}; got the negative int "
            f"{random_state}: pass a seed such as 0"
        )
    return np.random.default_rng(int(random_state))


def random_stream(owner, random_state, name="random_state"):
    """``owner``'s generator for one more call: a seed starts a stream, later
    calls continue it.

    :func:`check_random_state` gives the same draws for the same seed on
    every call, which suits one fit. A learner's bootstrap, drawn again at
    every ``teach(bootstrap=True)`` and modAL ``rebag()`` on the same rows,
    would then repeat its resample. A seed (an int or a SeedSequence)
    therefore seeds ``owner``'s first call, and its later calls continue the
    same stream: fresh draws each call, the same sequence in every run. A
    clone starts the stream over, and so does setting another seed. A
    Generator or RandomState advances anyway; None is fresh entropy every
    call. (Strategies, whose calls differ by their data, use
    :func:`call_generator` instead.)

    Parameters
    ----------
    owner : object
        Keeps the stream, in ``owner.__dict__``.
    random_state : any form :func:`check_random_state` accepts
        The owner's parameter.
    name : str, default="random_state"
        The parameter's name, for messages.

    Returns
    -------
    rng : numpy.random.Generator
    """
    seeded = isinstance(random_state, np.random.SeedSequence) or (
        isinstance(random_state, numbers.Integral)
        and not isinstance(random_state, bool | np.bool_)
    )
    if not seeded:
        return check_random_state(random_state, name)
    kept = owner.__dict__.get("_random_stream")
    # ints compare by value; a SeedSequence (no __eq__ of its own) by identity
    if kept is not None and kept[0] == random_state:
        return kept[1]
    rng = check_random_state(random_state, name)
    owner.__dict__["_random_stream"] = (random_state, rng)
    return rng


def count_labelled(learner):
    """Rows a modAL learner (or a Committee's first member) was taught, or
    None for a model that keeps none.

    A Committee keeps no rows of its own; modAL's ``Committee.teach`` adds
    each batch to every member.
    """
    modal = sys.modules.get("modAL.models.base")  # a Committee means modAL is in
    if modal is not None and isinstance(learner, modal.BaseCommittee):
        members = list(learner.learner_list)
        learner = members[0] if members else None
    X_training = getattr(learner, "X_training", None)
    return None if X_training is None else count_rows(X_training, "X_training")


def call_context(learner, n_pool):
    """What tells one round's call of a strategy from another's: the pool's
    size and the labelled set's (0 for a model that keeps none)."""
    return n_pool, count_labelled(learner) or 0


def call_generator(random_state, rng, context):
    """The generator of one call of a seeded strategy: the seed's draws for
    what the call is about.

    :func:`check_random_state` gives the same draws for the same seed at every
    call. A strategy kept for a whole loop, or made anew each round (or each
    day, in a new process) with the same seed, would then draw the same
    random positions of the shrinking pool round after round: a "random"
    batch of the previous batch's neighbours, the same pool subset, the same
    stochastic batch. A seed (an int) therefore draws from the seed together
    with the call's context (the sizes of the pool and of the labelled set):
    a repeated call repeats its batch, each round of a loop draws afresh,
    and a loop resumed from its labels draws what it would have drawn
    uninterrupted, since nothing is kept between calls.

    Parameters
    ----------
    random_state : any form :func:`check_random_state` accepts
        The strategy's parameter.
    rng : numpy.random.Generator
        ``check_random_state(random_state)`` of this call.
    context : tuple of int
        What the call is about (non-negative ints).

    Returns
    -------
    rng : numpy.random.Generator
        ``rng`` itself unless ``random_state`` is an int (a Generator advances
        on its own; None is fresh entropy anyway).
    """
    if isinstance(random_state, bool | np.bool_) or not isinstance(
        random_state, numbers.Integral
    ):
        return rng
    return np.random.default_rng([int(random_state), *map(int, context)])


def spawn_seeds(random_state, n, name="random_state"):
    """Draw ``n`` independent int64 seeds (e.g. for :class:`torch.Generator`).

    Parameters
    ----------
    random_state : any form :func:`check_random_state` accepts
        Source of the seeds.
    n : int
        Number of seeds.
    name : str, default="random_state"
        The parameter's name, for the message.

    Returns
    -------
    seeds : list of int
        Each in ``[0, 2**63 - 1)``.
    """
    rng = check_random_state(random_state, name)
    return [int(s) for s in rng.integers(0, 2**63 - 1, size=n)]


def draw_seed(rng):
    """One int seed drawn from a generator, for a call that takes a seed.

    In ``[0, 2**31 - 1)``: every library accepts it (scikit-learn's seeds must
    be below 2**32). Where a call needs several seeds, or seeds torch
    generators, :func:`spawn_seeds` draws them.

    Parameters
    ----------
    rng : numpy.random.Generator
        Advanced by one draw.

    Returns
    -------
    seed : int
    """
    return int(rng.integers(np.iinfo(np.int32).max))


def count_rows(X, name, *, row="sample"):
    """Number of rows of an array, DataFrame, tensor, sparse matrix or list.

    Also of a dict of such arrays (skorch's form for a module with several
    inputs), whose values must have as many rows each: ValueError naming the
    counts otherwise. TypeError, naming ``name`` and what one ``row`` is, for
    anything without rows (a string, a scalar).
    """
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    if isinstance(X, Mapping):
        return _count_dict_rows(X, name, row)
    if _is_iterable_dataset(X):
        raise TypeError(
            f"{name} is a {type(X).__name__}, an iterable-style torch Dataset: "
            "it has no rows to count or index, and the learner takes rows of "
            "the pool (a Subset) and stacks them. Pass a map-style Dataset "
            "(with __len__ and __getitem__), e.g. a TensorDataset or an "
            "ImageFolder."
        )
    if isinstance(X, str | bytes) or not hasattr(X, "__len__"):
        raise TypeError(
            f"{name} must be array-like with one row per {row} (an array, "
            "DataFrame, tensor, sparse matrix or list, or a dict of them for a "
            f"module with several inputs), got {type(X).__name__}."
        )
    return len(X)


def _is_iterable_dataset(X):
    data = sys.modules.get("torch.utils.data")  # not imported: X cannot be one
    return data is not None and isinstance(X, data.IterableDataset)


def _count_dict_rows(X, name, row):
    """Rows of a dict of inputs: each value's, which must agree."""
    if not X:
        raise ValueError(
            f"{name} is an empty dict; a dict of inputs holds one array per "
            f"input of the module, each with one row per {row}."
        )
    counts = {
        key: count_rows(value, f"{name}[{key!r}]", row=row) for key, value in X.items()
    }
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{key!r}: {n}" for key, n in counts.items())
        raise ValueError(
            f"the arrays of the dict {name} have different numbers of rows "
            f"({listed}); each holds one input of the module, with one row per "
            f"{row}."
        )
    return next(iter(counts.values()))


STOCHASTIC_MODES = ("power", "softmax", "softrank")


def check_stochastic(stochastic, beta):
    """Validate the pair (stochastic, beta); return (mode, beta as a float).

    Parameters
    ----------
    stochastic : None or {"power", "softmax", "softrank"}
    beta : None or float
        None means 1.0. A value other than None needs a ``stochastic`` mode.

    Returns
    -------
    stochastic : None or str
    beta : float
    """
    expected = "None (deterministic top-k) or one of " + ", ".join(
        repr(mode) for mode in STOCHASTIC_MODES
    )
    if stochastic is not None and not isinstance(stochastic, str):
        raise TypeError(
            f"stochastic must be {expected}; got {stochastic!r} of type "
            f"{type(stochastic).__name__}"
        )
    if stochastic is not None and stochastic not in STOCHASTIC_MODES:
        raise ValueError(f"stochastic must be {expected}; got {stochastic!r}")
    if beta is None:
        return stochastic, 1.0
    if stochastic is None:
        raise ValueError(
            f"beta={beta!r} is only used by stochastic acquisition: pass "
            f"stochastic='power', 'softmax' or 'softrank' with it, or leave beta "
            f"at None for the deterministic top-k"
        )
    return stochastic, check_beta(beta)


def check_beta(beta):
    """β as a float: a real number > 0, ``np.inf`` allowed.

    Raises
    ------
    TypeError
        If ``beta`` is not a real number (a bool, a string, ...).
    ValueError
        If it is not > 0 (NaN included).
    """
    return check_real(
        beta,
        "beta",
        expected="a real number > 0 (np.inf allowed)",
        min_val=0.0,
        min_open=True,
    )


NONFINITE_PREFIX = "X contains NaN or infinity in"


def renumbered_nonfinite_error(exc, X, start=0):
    """``exc`` with its rows numbered from ``start`` in ``X`` (a part of a
    pool that begins at row ``start``, or the whole pool) when it is the
    :func:`nonfinite_rows_message` of a shard or chunk that numbered them
    from 0; None for any other error. Scans X only on this error path."""
    if not isinstance(exc, ValueError) or not str(exc).startswith(NONFINITE_PREFIX):
        return None
    try:
        message = nonfinite_rows_message(X, start)
    except (TypeError, ValueError):  # inputs numpy cannot read whole
        return None
    return ValueError(message) if message else None


def nonfinite_rows_message(X, start=0):
    """The ValueError message for an input X (array, tensor or sparse matrix)
    with NaN or infinity, naming its rows (from ``start``, X's first row in a
    larger input); None when X is finite.

    A row number is what a user needs to find a broken image or a bad record
    in a pool of millions; "X contains NaN" alone sends them searching.
    """
    if sys.modules.get("scipy.sparse") is not None and hasattr(X, "tocoo"):
        coo = X.tocoo()
        bad = np.unique(coo.row[~np.isfinite(coo.data)])
    elif type(X).__module__.partition(".")[0] == "torch":
        flat = X.detach().reshape(len(X), -1)
        bad = np.flatnonzero(~flat.isfinite().all(dim=1).cpu().numpy())
    else:
        flat = np.asarray(X).reshape(len(X), -1)
        bad = np.flatnonzero(~np.isfinite(flat).all(axis=1))
    if bad.size == 0:
        return None
    bad = bad + start
    return (
        f"{NONFINITE_PREFIX} {bad.size} row(s) (first: "
        f"{bad[:5].tolist()}); impute them (a SimpleImputer first in a Pipeline) "
        "or drop those rows (keep = np.isfinite(X).reshape(len(X), -1).all(axis=1))."
    )


def is_auto(noise_variance):
    """Whether ``noise_variance`` is the string "auto" (the model's own noise)."""
    return isinstance(noise_variance, str) and noise_variance == "auto"


def check_noise_variance(noise_variance, *, default, array_hint):
    """Validate a strategy's or stopping rule's ``noise_variance``.

    None, ``"auto"`` (both: ``default``, said in the messages) or one finite
    number > 0; another string or an array is a TypeError, an array's
    message ending with ``array_hint``.
    """
    if noise_variance is None or is_auto(noise_variance):
        return
    if isinstance(noise_variance, str):
        raise TypeError(
            'noise_variance must be None, "auto" or a finite number > 0, got '
            f'{noise_variance!r}. None and "auto" both take {default}.'
        )
    if np.ndim(noise_variance) > 0:
        raise TypeError(
            'noise_variance must be one number (or None or "auto"), got an '
            f"array-like of shape {np.shape(noise_variance)}. {array_hint}"
        )
    check_real(
        noise_variance,
        "noise_variance",
        expected='None, "auto" or a finite number > 0',
        min_val=0.0,
        min_open=True,
        finite=True,
        hint="the variance of a regressor's observation noise",
    )


def check_on_saturation(on_saturation):
    """``on_saturation`` of BatchBALD, checked: ``"bald"`` or ``"greedy"``."""
    if not isinstance(on_saturation, str) or on_saturation not in ("bald", "greedy"):
        raise ValueError(
            "on_saturation must be 'bald' (fill a saturated batch in BALD order) "
            f"or 'greedy' (go on with greedy steps); got {on_saturation!r}."
        )
    return on_saturation
