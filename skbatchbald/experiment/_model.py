"""The network of one round: a fresh MCDropoutClassifier, trained as configured."""

import numpy as np
from skorch.callbacks import EarlyStopping
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from tqdm.auto import tqdm

from ..classifier import MCDropoutClassifier
from ..nn import BayesianCNN, BayesianMLP


class _ProgressClassifier(MCDropoutClassifier):
    """MCDropoutClassifier that shows a bar over inference batches when asked.

    ``progress`` is a parameter, like skorch's ``verbose``: True shows a bar
    over MC inference batches, False none, None one only on a terminal
    (tqdm's own check).
    """

    def __init__(self, *args, progress=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.progress = progress

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training=training)
        if training or self.progress is False:
            return iterator
        disable = None if self.progress is None else not self.progress
        return tqdm(
            iterator, desc="MC inference", leave=False, unit="batch", disable=disable
        )


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


def make_model(config, data, image_side, seed, device="cpu"):
    """A fresh, unfitted classifier for one round, on ``device``.

    ``training="default"``: MCDropoutClassifier's own training recipe on the
    labelled set. ``"early_stopping"``: the paper's loop, validated on the
    trial's validation set after every epoch.
    """
    classes = data.classes
    module, params = _module_params(
        config, data.X_pool.shape[1], image_side, len(classes)
    )
    params.update(
        classes=classes,
        n_mc_samples=config.eval_mc_samples,
        random_state=seed,
        verbose=0,
        device=device,
    )
    if config.training == "default":
        return _ProgressClassifier(module, **params)
    # Labels as given: the classifier encodes them where the loss needs indices.
    validation = Dataset(data.X_val.astype(np.float32), data.y_val)
    return _ProgressClassifier(
        module,
        mc_validation=config.mc_validation,
        lr=config.lr,
        max_epochs=config.max_epochs,
        batch_size=config.train_batch_size,
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
        **params,
    )


def epoch_rows(n_labelled, epoch_size):
    """Row indices of one training epoch: the labelled set tiled to ``epoch_size``.

    Every labelled point appears equally often, so a 20-point set still gives an
    epoch of several minibatches and early stopping's patience means something.
    """
    repeats = -(-epoch_size // n_labelled)
    return np.tile(np.arange(n_labelled), repeats)
