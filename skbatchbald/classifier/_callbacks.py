"""Callbacks that watch a validation score, on nets that default to none."""

__all__ = ["ValidationMonitorMixin", "check_validation_monitors"]


def check_validation_monitors(net):
    """ValueError if a callback monitors a ``valid_*`` score without a split.

    The library's nets default to ``train_split=None`` so that a labelled set
    of 20 rows fits; skorch's ``EarlyStopping()`` then fails mid-fit with a
    KeyError about ``valid_loss``.
    """
    if net.train_split is not None:
        return
    for name, callback in getattr(net, "callbacks_", []):
        monitor = getattr(callback, "monitor", None)
        if isinstance(monitor, str) and monitor.startswith("valid_"):
            raise ValueError(
                f"the callback {name!r} monitors {monitor!r}, but "
                f"{type(net).__name__} has train_split=None (its default, so that "
                "small labelled sets fit) and computes no validation score: "
                "monitor a training score instead (e.g. EarlyStopping(monitor="
                "'train_loss') or Checkpoint(monitor='train_loss_best')), or "
                "pass train_split=skorch.dataset.ValidSplit(5)."
            )


class ValidationMonitorMixin:
    """Checks the callbacks of a skorch net once they are initialised."""

    def initialize_callbacks(self):
        """Initialise skorch's callbacks; refuse a valid_* monitor without a split.

        Returns
        -------
        self : object
            This net.
        """
        super().initialize_callbacks()
        check_validation_monitors(self)
        return self
