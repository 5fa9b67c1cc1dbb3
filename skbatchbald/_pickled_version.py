"""The package version recorded in every pickle of its estimators.

A learner, a strategy or a network pickled by one version and loaded by
another may hold attributes the other reads differently; scikit-learn keeps
its own version in its estimators' pickles for that reason. A nightly job that
keeps its snapshots across upgrades is told when one was written by another
version.
"""

import warnings

from ._warnings import SkbatchbaldWarning, user_stacklevel

__all__ = ["VersionedPickle"]

_KEY = "_skbatchbald_version"


def _version():
    from . import __version__

    return __version__


class VersionedPickle:
    """Mixin: ``__getstate__`` records the version, ``__setstate__`` checks it."""

    def __getstate__(self):
        state = super().__getstate__()
        state = dict(self.__dict__ if state is None else state)
        state[_KEY] = _version()
        return state

    def __setstate__(self, state):
        state = dict(state)
        pickled = state.pop(_KEY, None)
        if pickled != _version():
            warnings.warn(
                f"this {type(self).__name__} was pickled by skbatchbald "
                f"{pickled or 'before 0.1.0.dev0 (no version recorded)'} and is "
                f"loaded by {_version()}: its attributes may mean other things "
                "here. Refit it, or load it with the version that wrote it.",
                SkbatchbaldWarning,
                stacklevel=user_stacklevel(),
            )
        super().__setstate__(state)
