"""What save_params/load_params keep beyond the weights.

The classifier's classes and prediction seed; the regressor's prediction seed,
target scaling and noise variance.
"""

import warnings

import numpy as np

from .._warnings import SkbatchbaldWarning, user_stacklevel

_STATE_KEY = "skbatchbald.MCDropoutClassifier"
_REGRESSOR_KEY = "skbatchbald.MCDropoutRegressor"


class ModuleWithClassifierState:
    """A module as save_params/load_params see it: state dict plus our state.

    The classes and the prediction seed travel in the state dict's
    ``_metadata``, which ``torch.save``/``torch.load(weights_only=True)`` keep
    and ``Module.load_state_dict`` ignores, so the file still loads into a bare
    module.
    """

    def __init__(self, net, module, adopt_classes):
        self.net = net
        self.module = module
        # the net's own step, given by it: classes arrived; returns the module
        # to load the weights into (rebuilt if it was sized without them)
        self.adopt_classes = adopt_classes

    def state_dict(self, *args, **kwargs):
        state = self.module.state_dict(*args, **kwargs)
        ours = {}
        if hasattr(self.net, "prediction_seed_"):
            ours["prediction_seed"] = int(self.net.prediction_seed_)
        if hasattr(self.net, "classes_inferred_"):
            classes = np.asarray(self.net.classes_inferred_)
            if classes.dtype.kind in "biufUS":  # JSON-like values load safely
                ours["classes"] = classes.tolist()
                ours["classes_dtype"] = classes.dtype.str
        metadata = getattr(state, "_metadata", None)
        if metadata is not None and ours:
            metadata[_STATE_KEY] = ours
        return state

    def load_state_dict(self, state_dict, *args, **kwargs):
        ours = getattr(state_dict, "_metadata", {}).get(_STATE_KEY, {})
        if "classes" in ours:
            classes = np.asarray(ours["classes"], dtype=np.dtype(ours["classes_dtype"]))
            self.module = self.adopt_classes(classes, self.module)
        result = self.module.load_state_dict(state_dict, *args, **kwargs)
        if "prediction_seed" in ours:
            self.net.prediction_seed_ = int(ours["prediction_seed"])
        return result

    def __getattr__(self, name):
        return getattr(self.module, name)


class ModuleWithRegressorState:
    """A regressor's module as save_params/load_params see it.

    As :class:`ModuleWithClassifierState`: the regressor's learned numbers
    beside the weights (``_FIELDS``) travel in the state dict's ``_metadata``,
    so that a fresh net that loads the file predicts in the targets' units
    (the weights alone predict standardised targets under ``normalize_y``).
    A file without them (saved before they were kept) loads the weights only.
    """

    _FIELDS = (
        ("prediction_seed_", int),
        ("y_mean_", float),
        ("y_scale_", float),
        ("noise_variance_", float),
    )

    def __init__(self, net, module):
        self.net = net
        self.module = module

    def state_dict(self, *args, **kwargs):
        state = self.module.state_dict(*args, **kwargs)
        # during a fit (a Checkpoint callback) the noise is the previous
        # fit's: it is refitted after training, so it is not saved then
        fitting = getattr(self.net, "_in_fit", False)
        ours = {
            name: cast(getattr(self.net, name))
            for name, cast in self._FIELDS
            if hasattr(self.net, name) and not (fitting and name == "noise_variance_")
        }
        metadata = getattr(state, "_metadata", None)
        if metadata is not None and ours:
            metadata[_REGRESSOR_KEY] = ours
        return state

    def load_state_dict(self, state_dict, *args, **kwargs):
        ours = (getattr(state_dict, "_metadata", None) or {}).get(_REGRESSOR_KEY)
        result = self.module.load_state_dict(state_dict, *args, **kwargs)
        if ours is None:
            self._weights_only()
            return result
        for name, cast in self._FIELDS:
            if name in ours:
                setattr(self.net, name, cast(ours[name]))
        return result

    def _weights_only(self):
        """Weights without the scaling: taken as trained on y as given.

        Files saved before the scaling was kept were trained on raw targets;
        a fresh net would otherwise keep no scaling and a partial_fit would
        take the loaded network as trained on standardised ones. A net that
        has a scaling already (the one that saved the weights) keeps it.
        """
        if "y_mean_" in vars(self.net):
            return
        self.net.y_mean_, self.net.y_scale_ = 0.0, 1.0
        if self.net.normalize_y:
            warnings.warn(
                "the loaded weights come without the target scaling (saved with "
                "use_safetensors=True, by hand, or before MCDropoutRegressor kept "
                "it), so they are taken as trained on y as given: y_mean_=0, "
                "y_scale_=1. If they were trained with normalize_y=True, their "
                "outputs are standardised targets; save them with save_params' "
                "default format, which keeps the scaling.",
                SkbatchbaldWarning,
                stacklevel=user_stacklevel(),
            )

    def __getattr__(self, name):
        return getattr(self.module, name)
