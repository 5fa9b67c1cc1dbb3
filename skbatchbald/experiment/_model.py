"""The network of one round: a fresh MCDropoutClassifier with early stopping."""

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, EpochScoring
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from skorch.utils import to_numpy
from tqdm.auto import tqdm

from .._labels import label_indices
from ..classifier import MCDropoutClassifier
from ..nn import BayesianCNN, BayesianMLP


class _ProgressClassifier(MCDropoutClassifier):
    """MCDropoutClassifier that shows a bar over inference batches when asked.

    ``progress`` is a parameter, like skorch's ``verbose``: a label shows a bar
    with that label over MC inference batches, None shows none.
    """

    def __init__(self, *args, progress=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.progress = progress

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training=training)
        if training or not self.progress:
            return iterator
        return tqdm(iterator, desc=self.progress, leave=False, unit="batch")


class _DeterministicValidation(_ProgressClassifier):
    """Scores validation accuracy with dropout off, as the paper's training loop.

    Test predictions stay MC averages; only the ``valid_acc`` that early
    stopping watches uses the deterministic network.
    """

    @property
    def _default_callbacks(self):
        return [
            (
                name,
                EpochScoring(
                    _deterministic_accuracy, name="valid_acc", lower_is_better=False
                )
                if name == "valid_acc"
                else callback,
            )
            for name, callback in super()._default_callbacks
        ]


def _deterministic_accuracy(net, X, y):
    """Accuracy of the network in eval mode against skorch's encoded targets."""
    y = to_numpy(y) if isinstance(y, torch.Tensor) else np.asarray(y)
    proba = NeuralNetClassifier.predict_proba(net, X)
    return float(np.mean(proba.argmax(axis=1) == y))


def _module_params(config, n_features, image_side, n_classes):
    if config.resolved_model == "mlp":
        return BayesianMLP, {
            "module__n_features": n_features,
            "module__n_classes": n_classes,
            "module__hidden_sizes": config.hidden_sizes,
        }
    small = image_side < 28  # 8x8 digits need 3x3 kernels and padding
    return BayesianCNN, {
        "module__n_classes": n_classes,
        "module__image_size": image_side,
        "module__kernel_size": 3 if small else 5,
        "module__padding": 1 if small else 0,
    }


def make_model(config, data, image_side, seed):
    """A fresh, unfitted classifier validated on the trial's validation set."""
    classes = data.classes
    # predefined_split bypasses the classifier's label encoding: indices here.
    y_val = label_indices(data.y_val, classes)
    validation = Dataset(data.X_val.astype(np.float32), y_val)
    module, params = _module_params(
        config, data.X_pool.shape[1], image_side, len(classes)
    )
    cls = _ProgressClassifier if config.mc_validation else _DeterministicValidation
    return cls(
        module,
        classes=classes,
        n_mc_samples=config.eval_mc_samples,
        lr=config.lr,
        max_epochs=config.max_epochs,
        batch_size=config.train_batch_size,
        iterator_train__shuffle=True,
        train_split=predefined_split(validation),
        callbacks=[
            (
                "early_stopping",
                EarlyStopping(
                    monitor="valid_acc",
                    patience=config.patience,
                    lower_is_better=False,
                    load_best=True,
                ),
            )
        ],
        random_state=seed,
        verbose=0,
        **params,
    )


def epoch_rows(n_labelled, epoch_size):
    """Row indices of one training epoch: the labelled set tiled to ``epoch_size``.

    Every labelled point appears equally often, so a 20-point set still gives an
    epoch of several minibatches and early stopping's patience means something.
    """
    repeats = -(-epoch_size // n_labelled)
    return np.tile(np.arange(n_labelled), repeats)
