"""Seeded initialisation, training iterators and fits of the MC-dropout nets.

:class:`MCDropoutClassifier` (a skorch ``NeuralNetClassifier``) and
:class:`MCDropoutRegressor` (a ``NeuralNetRegressor``) cannot share a base
class of skorch's, so they share this mixin, placed before skorch's class in
their bases: how ``random_state`` becomes the seeds of initialisation,
shuffling and prediction, and the training iterator built from them.
"""

import contextlib
import re

import torch

from .._validation import spawn_seeds
from ._callbacks import ValidationMonitorMixin
from ._fresh_module import fresh_copy
from ._inputs import is_dataloader
from ._locks import lock_of, seeded_global_torch

__all__ = ["SeededNetMixin"]


class SeededNetMixin(ValidationMonitorMixin):
    """Seeds from ``random_state`` for a skorch net; see the module docstring."""

    # Passed to the DataLoaders as ``collate_fn`` unless the user gave one.
    _collate_fn = None
    _train_seed = None  # the seed of the running fit's shuffling, if any

    def _seeds(self):
        """Seeds for module initialisation, training and prediction (or Nones)."""
        if self.random_state is None:
            return None, None, None
        return spawn_seeds(self.random_state, 3)

    def initialize(self):
        """Initialise module, criterion and optimizer; draw the prediction seed.

        Module initialisation runs on a forked torch generator seeded from
        ``random_state`` (the global one when it is None), holding a process-wide
        lock, so that concurrent fits in other threads do not change it.

        Returns
        -------
        self : object
            The initialised net.
        """
        self._check_params()
        init_seed, _, prediction_seed = self._seeds()
        with seeded_global_torch(init_seed, self.device), lock_of(self):
            super().initialize()
            # None: fresh masks per fit, but a fitted net predicts the same twice.
            self.prediction_seed_ = (
                spawn_seeds(None, 1)[0] if prediction_seed is None else prediction_seed
            )
        return self

    def initialize_module(self):
        """Initialise the module; a missing argument names its ``module__`` parameter.

        A module instance is not trained itself (skorch would): ``module_`` is
        a copy of it (see ``fresh_copy``), so that every initialisation starts
        from the instance's weights and the ``module`` parameter, which
        ``clone`` copies, keeps them.

        Returns
        -------
        self : object
            The net, its module built.

        Raises
        ------
        TypeError
            If the module class needs an argument that no ``module__<name>``
            parameter gives: the message names the parameter to pass; or if a
            module instance cannot be copied.
        """
        try:
            super().initialize_module()
        except TypeError as exc:
            found = re.search(r"missing \d+ required .*?arguments?: (.*)$", str(exc))
            if not isinstance(self.module, type) or found is None:
                raise
            names = re.findall(r"'(\w+)'", found.group(1))
            hint = (
                " (n_features: the number of columns of X, X.shape[1])"
                if "n_features" in names
                else ""
            )
            passed = ", ".join(f"module__{name}=..." for name in names)
            raise TypeError(
                f"{exc}. skorch builds the module from the net's module__ "
                f"parameters: pass {passed} to {type(self).__name__}{hint}."
            ) from exc
        if isinstance(self.module, torch.nn.Module) and self.module_ is self.module:
            self.module_ = fresh_copy(self.module, type(self).__name__)
        return self

    @contextlib.contextmanager
    def _seeded_training(self, **flags):
        """Hold the locks and generators of one (partial) fit.

        ``flags`` are instance attributes set for the fit's duration (their
        class defaults come back afterwards, also on error): nothing of the
        fit stays in ``__dict__``, which is what pickling and repr see.
        """
        _, train_seed, _ = self._seeds()
        with seeded_global_torch(train_seed, self.device), lock_of(self):
            if not self.initialized_:
                self.initialize()
            flags = {"_train_seed": train_seed, **flags}
            self.__dict__.update(flags)
            try:
                yield
            finally:
                for name in flags:
                    self.__dict__.pop(name, None)

    def get_iterator(self, dataset, training=False):
        """Return a DataLoader that never draws from the global torch generator.

        Training iterators shuffle with a generator seeded from ``random_state``
        (the global generator, as in skorch, when it is None); prediction
        iterators get a fixed one, which they use only to seed workers. The
        net's ``_collate_fn``, where it has one, collates batches unless
        ``collate_fn`` is given. Training batches are evened out: as many as
        skorch makes, of ``ceil(n_rows / n_batches)`` rows but the last, so
        that an epoch does not end with a step on a few rows (129 rows in
        batches of 128: 65 and 64, not 128 and 1; ``drop_last=True`` keeps
        skorch's batches).

        Parameters
        ----------
        dataset : torch Dataset
            The data.
        training : bool, default=False
            Whether to use ``iterator_train`` or ``iterator_valid``.

        Returns
        -------
        iterator : iterable of batches
            The instantiated iterator.
        """
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = self.get_params_for(prefix)
        iterator = getattr(self, prefix)
        loader = is_dataloader(iterator)
        seed = self._train_seed if training else 0
        if loader and "generator" not in kwargs and seed is not None:
            kwargs["generator"] = torch.Generator().manual_seed(seed)
        if loader and "collate_fn" not in kwargs and self._collate_fn is not None:
            kwargs["collate_fn"] = self._collate_fn
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        size = len(dataset) if hasattr(dataset, "__len__") else 0
        if training and size and loader and not kwargs.get("drop_last"):
            # Same number of batches, evened out: 129 rows in batches of 128
            # would end every epoch with a step on a single row.
            kwargs["batch_size"] = -(-size // -(-size // kwargs["batch_size"]))
        return iterator(dataset, **kwargs)
