"""Where the package's warnings point: the first line of the user's code."""

import os
import sys

__all__ = ["SkbatchbaldRuntimeWarning", "SkbatchbaldWarning", "user_stacklevel"]


class SkbatchbaldWarning(UserWarning):
    r"""Base class of every warning skbatchbald issues.

    Filter them all at once, ``warnings.simplefilter("ignore",
    SkbatchbaldWarning)``, or turn them into errors in a test suite; a
    ``module=`` filter does not find them, since each is reported at the line
    of your code that called the library. Each is a ``UserWarning`` too (and
    :class:`~skbatchbald.acquisition.SaturationWarning` and
    :class:`~skbatchbald.acquisition.TiedScoresWarning` are subclasses), so
    filters written for ``UserWarning`` keep working. The sampling engine's
    fallbacks (posterior samples drawn one pass per sample) are also
    ``RuntimeWarning``\ s.

    Examples
    --------
    >>> import warnings
    >>> from skbatchbald import SkbatchbaldWarning
    >>> from skbatchbald.acquisition import SaturationWarning
    >>> issubclass(SaturationWarning, SkbatchbaldWarning)
    True
    >>> warnings.simplefilter("ignore", SkbatchbaldWarning)
    """


class SkbatchbaldRuntimeWarning(SkbatchbaldWarning, RuntimeWarning):
    """A :class:`SkbatchbaldWarning` about how a computation runs (a slower
    path taken), not about the inputs."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
# Context managers and decorators (contextlib's, and torch's no_grad as a
# decorator, in torch/utils/_contextlib.py) put their frames between the
# package's own: they are passed through, never the user's line.
_GLUE = ("contextlib.py", "_contextlib.py")


def _modal_folder():
    """modAL's package folder when it is imported: ``ActiveLearner`` inherits
    ``predict``, ``predict_proba`` and ``score`` from it, so its frames lie
    between the user's call and the package's warning."""
    modal = sys.modules.get("modAL")
    path = getattr(modal, "__file__", None)
    return None if path is None else os.path.dirname(os.path.abspath(path)) + os.sep


def _ours(frame, modal):
    filename = frame.f_code.co_filename
    return (
        filename.startswith(_PACKAGE)
        or (modal is not None and filename.startswith(modal))
        or os.path.basename(filename) in _GLUE
    )


def user_stacklevel():
    """``stacklevel`` for the caller's ``warnings.warn``: the first frame outside.

    Counts the caller's frame and every skbatchbald frame above it (and the
    context-manager and decorator frames between them, and modAL's, whose
    methods the learner inherits), so a
    warning raised deep in a strategy, ``teach``, the sampling engine or the
    constructor is reported at the user's line, however many library calls
    lead there.

    Returns
    -------
    stacklevel : int
        At least 1.

    Examples
    --------
    >>> import warnings
    >>> from skbatchbald._warnings import user_stacklevel
    >>> def warns():  # defined outside the package: its caller is the user
    ...     return user_stacklevel()
    >>> warns()
    1
    """
    frame, level = sys._getframe(1), 1  # level 1: the function that warns
    modal = _modal_folder()
    while frame is not None and _ours(frame, modal):
        frame, level = frame.f_back, level + 1
    return max(level - 1, 1) if frame is None else level
