"""Fit parameters, which skorch hands to the module's ``forward``."""

import inspect

__all__ = ["check_fit_params"]


def check_fit_params(module, fit_params, class_weight=False):
    """ValueError for a fit parameter the module's ``forward`` cannot take.

    skorch passes every fit parameter to ``module(X, **fit_params)``, so
    scikit-learn's ``fit(X, y, sample_weight=w)`` ends in a TypeError from
    inside torch unless the module asked for it. ``module`` is the module or,
    before the first fit, its class; ``class_weight``: whether the estimator
    takes a ``class_weight`` (named in the hint for ``sample_weight``).
    """
    forward = getattr(module, "forward", None)
    if not fit_params or forward is None:  # e.g. a functools.partial factory
        return
    try:
        parameters = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):  # a builtin or C forward: let torch say
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return
    names = {p.name for p in parameters}
    # skorch's own keys (partial_fit's ``epochs``, ``_routing_method``) never
    # reach forward
    unknown = sorted(
        key for key in set(fit_params) - names - {"epochs"} if not key.startswith("_")
    )
    if not unknown:
        return
    name = module.__name__ if isinstance(module, type) else type(module).__name__
    hint = ""
    if "sample_weight" in unknown:
        hint = (
            " To weight rows, repeat them in X and y, or (skorch's FAQ) pass X as "
            "a dict holding the weights and weigh the loss in get_loss, which "
            "gets X."
        )
        if class_weight:
            hint += (
                " To weigh classes (a rare class), pass class_weight='balanced' "
                "or {label: weight} to the constructor."
            )
    raise ValueError(
        f"fit got {', '.join(unknown)}, which skorch passes to the module's "
        f"forward, and {name}.forward takes no such argument.{hint}"
    )
