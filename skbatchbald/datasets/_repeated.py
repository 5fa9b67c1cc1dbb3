"""Repeated data sets: every sample several times, each copy with Gaussian noise.

Repeated MNIST (Kirsch et al. 2019, Section 5.1) holds every training image
several times: a pool in which top-b BALD wastes its batch on near-duplicates.
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import Bunch

from .._validation import check_int, check_random_state, check_real

__all__ = ["load_repeated_digits", "make_repeated"]


def make_repeated(X, y, n_repeats=3, noise_std=0.1, random_state=None):
    """Repeat every sample ``n_repeats`` times, adding Gaussian noise to each copy.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        The data; any number of trailing dimensions (flat features or images).
    y : array-like of shape (n_samples,)
        Labels, copied with their samples.
    n_repeats : int, default=3
        Copies of each sample (the paper uses 3).
    noise_std : float, default=0.1
        Standard deviation of the noise added to every copy, in the units of
        ``X``. ``0`` gives exact copies. The paper adds N(0, 0.1) to MNIST
        after standardising the pixels (``(X - 0.1307) / 0.3081``), which is
        about a third of the noise that 0.1 gives on pixels in [0, 1]: pass
        standardised images to follow it (``skbatchbald run
        --normalize`` does).
    random_state : None, int, numpy.random.Generator or RandomState, default=None
        Seeds the noise.

    Returns
    -------
    X_repeated : ndarray of shape (n_samples * n_repeats, ...), float64
        Copy ``r`` of sample ``i`` is row ``r * n_samples + i``.
    y_repeated : ndarray of shape (n_samples * n_repeats,)
        Its labels.
    source : ndarray of shape (n_samples * n_repeats,), int64
        The row of ``X`` each copy came from: two rows are copies of the same
        sample exactly when their ``source`` is equal.

    Raises
    ------
    ValueError
        If ``X`` and ``y`` differ in length, ``n_repeats`` < 1, ``noise_std`` is
        negative or not finite, or ``random_state`` is a negative int.
    TypeError
        If ``n_repeats``, ``noise_std`` or ``random_state`` is of a wrong type.

    See Also
    --------
    load_repeated_digits : This construction on scikit-learn's digits.

    Notes
    -----
    Kirsch, van Amersfoort & Gal, "BatchBALD: Efficient and Diverse Batch
    Acquisition for Deep Bayesian Active Learning", NeurIPS 2019, Section 5.1.

    Examples
    --------
    >>> import numpy as np
    >>> from skbatchbald.datasets import make_repeated
    >>> X = np.zeros((2, 4))
    >>> X_rep, y_rep, source = make_repeated(X, [0, 1], noise_std=0.0)
    >>> X_rep.shape, y_rep.tolist(), source.tolist()
    ((6, 4), [0, 1, 0, 1, 0, 1], [0, 1, 0, 1, 0, 1])
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(
            "X and y must hold the same number of samples, with y one label per "
            f"sample; got X of shape {X.shape} and y of shape {y.shape}."
        )
    n_repeats = check_int(n_repeats, "n_repeats", hint="the paper uses 3")
    check_real(
        noise_std,
        "noise_std",
        expected="a finite number >= 0",
        min_val=0.0,
        finite=True,
    )
    rng = check_random_state(random_state)
    X_repeated = np.concatenate([X] * n_repeats)
    X_repeated += rng.normal(scale=noise_std, size=X_repeated.shape)
    source = np.tile(np.arange(len(X), dtype=np.int64), n_repeats)
    return X_repeated, y[source], source


def load_repeated_digits(
    *, n_repeats=3, noise_std=0.1, random_state=0, return_X_y=False
):
    """Load scikit-learn's digits with every image repeated, each copy noisy.

    Pixels are scaled from [0, 16] to [0, 1] before the noise is added, so that
    ``noise_std=0.1`` means what it means for MNIST in the paper.

    Parameters
    ----------
    n_repeats : int, default=3
        Copies of each of the 1,797 images.
    noise_std : float, default=0.1
        Standard deviation of the Gaussian noise added to every copy.
    random_state : None, int, numpy.random.Generator or RandomState, default=0
        Seeds the noise; the default makes the data set the same every time.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (n_samples, 64) float64, ``target`` (n_samples,) int,
        ``images`` (n_samples, 8, 8), ``source`` (n_samples,) the index of the
        original digit each copy came from, ``target_names`` and ``DESCR``.
    (data, target) : tuple of ndarray
        When ``return_X_y=True``.

    See Also
    --------
    make_repeated : The construction for any data set.

    Examples
    --------
    >>> from skbatchbald.datasets import load_repeated_digits
    >>> digits = load_repeated_digits()
    >>> digits.data.shape, int(digits.source.max())
    ((5391, 64), 1796)
    """
    digits = load_digits()
    data, target, source = make_repeated(
        digits.data / 16.0,
        digits.target,
        n_repeats=n_repeats,
        noise_std=noise_std,
        random_state=random_state,
    )
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        images=data.reshape(-1, 8, 8),
        source=source,
        target_names=digits.target_names,
        DESCR=(
            f"scikit-learn's 8x8 digits scaled to [0, 1], each image repeated "
            f"{n_repeats} times with N(0, {noise_std}^2) noise per copy, after "
            "Repeated MNIST (Kirsch et al. 2019). `source` maps each row to its "
            "original digit."
        ),
    )
