"""A fresh network to train from a module instance given as ``module``.

skorch trains a module instance in place and never initialises it again, so
with an instance a refit with ``warm_start=False`` would continue from the
trained weights, and :func:`sklearn.base.clone` (which deep-copies the
parameter) would copy them into the clone. The MC-dropout nets take the
instance as the starting point instead: every initialisation trains a copy
of it, and the instance keeps the weights it was given. Its weights are not
drawn again: an instance may hold pretrained weights to fine-tune, which a
re-draw would throw away without a word; a module class draws its own,
seeded by ``random_state``.
"""

import copy

__all__ = ["fresh_copy"]


def fresh_copy(template, owner):
    """A deep copy of ``template``, the network a fit trains.

    Parameters
    ----------
    template : torch.nn.Module
        The ``module`` parameter; it is not changed.
    owner : str
        The net's class name, for the error message.

    Returns
    -------
    module : torch.nn.Module
        The network to train, with the template's weights.

    Raises
    ------
    TypeError
        If ``template`` cannot be deep-copied.
    """
    try:
        return copy.deepcopy(template)
    except Exception as exc:
        raise TypeError(
            f"{owner} trains a copy of a module instance, so that every fit with "
            "warm_start=False starts from the instance's weights and the "
            f"instance keeps them, but copy.deepcopy fails on this "
            f"{type(template).__name__}: {exc}. Pass the module class instead, "
            "with its constructor arguments as module__<name>=value."
        ) from exc
