"""Callbacks that watch a validation score, on nets that default to none."""

__all__ = ["ValidationMonitorMixin", "check_validation_monitors"]


def check_validation_monitors(net):
    """ValueError if a callback monitors a ``valid_*`` score without a split.

    The library's nets default to ``train_split=None`` so that a labelled set
    of 20 rows fits; skorch's ``EarlyStopping()`` then fails mid-fit with a
    KeyError about ``valid_loss``.
    """
    if net.train_split:  # skorch reads None and False alike: no split
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
    """Checks a skorch net's monitors as training starts, not at set_params.

    skorch's ``set_params`` re-initialises the callbacks before it applies
    their new parameters, so a check there would see the old monitor.
    """

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """Refuse a valid_* monitor without a split, then run skorch's loop.

        Parameters
        ----------
        X : input data
            As skorch's ``fit_loop``.
        y : target data, default=None
            As skorch's ``fit_loop``.
        epochs : int or None, default=None
            As skorch's ``fit_loop``.
        **fit_params : dict
            As skorch's ``fit_loop``.

        Returns
        -------
        self : object
            This net.
        """
        check_validation_monitors(self)
        return super().fit_loop(X, y, epochs=epochs, **fit_params)
