"""How each round trains: the classifier's default recipe, or early stopping."""

import numpy as np
import pytest
from skorch.callbacks import EarlyStopping

from skbatchbald import MCDropoutClassifier
from skbatchbald.experiment import PRESETS, ExperimentConfig, run_experiment
from skbatchbald.experiment._model import epoch_rows, make_model
from skbatchbald.experiment._splits import load_source, make_trial
from skbatchbald.nn import BayesianMLP


def _model(config):
    data = make_trial(config, load_source(config), 0)
    return make_model(config, data, 8, seed=0)


def _early_stopping(model):
    return [cb for _, cb in model.callbacks or [] if isinstance(cb, EarlyStopping)]


def test_demo_trains_with_the_classifier_default():
    model = _model(ExperimentConfig(**PRESETS["demo"]))
    default = MCDropoutClassifier(BayesianMLP).get_params(deep=False)
    params = model.get_params(deep=False)
    for name in ("max_epochs", "batch_size", "lr", "optimizer", "train_split"):
        assert params[name] == default[name], name
    assert params["iterator_train__shuffle"] is True
    assert not _early_stopping(model)


@pytest.mark.parametrize("preset", ["paper-mnist", "paper-repeated-mnist"])
def test_paper_presets_keep_the_paper_loop(preset):
    config = ExperimentConfig(**PRESETS[preset])
    assert config.training == "early_stopping"
    # the preset's training, on digits (MNIST is not needed to build the model)
    options = {**PRESETS[preset], "dataset": "digits", "normalize": False}
    options.update(pool_size=None, test_size=300, validation_size=100)
    model = _model(ExperimentConfig(**options))
    (stopping,) = _early_stopping(model)
    assert (stopping.monitor, stopping.patience) == ("valid_acc", 3)
    assert (model.lr, model.batch_size) == (1e-3, 64)
    assert model.max_epochs == config.max_epochs
    assert model.train_split is not None


def test_default_training_refuses_early_stopping_options():
    with pytest.raises(ValueError, match="max_epochs, patience set the early-stop"):
        ExperimentConfig(max_epochs=5, patience=2)
    with pytest.raises(ValueError, match="--training early_stopping"):
        ExperimentConfig(lr=1e-2)
    ExperimentConfig(training="early_stopping", max_epochs=5)  # accepted


def test_folders_from_before_the_option_trained_with_early_stopping():
    options = ExperimentConfig(training="early_stopping").to_dict()
    del options["training"]
    assert ExperimentConfig.from_dict(options).training == "early_stopping"
    assert ExperimentConfig.from_dict({}).training == "early_stopping"
    with pytest.raises(ValueError, match="training must be one of"):
        ExperimentConfig(training="paper")


def test_a_default_run_trains_on_the_labels_only():
    config = ExperimentConfig(
        dataset="digits",
        strategies=("random",),
        budget=25,
        batch_size=5,
        n_trials=1,
        eval_mc_samples=2,
        validation_size=40,
        test_size=100,
    )
    results = run_experiment(config)
    max_epochs = MCDropoutClassifier(BayesianMLP).max_epochs
    assert (results["n_epochs"] == max_epochs).all()  # no early stopping
    assert results["best_epoch"].isna().all()
    assert results["validation_accuracy"].between(0.3, 1).all()
    assert results["n_labels"].tolist() == [20, 25]
    assert np.isfinite(results["test_accuracy"]).all()


@pytest.mark.parametrize("preset", ["paper-mnist", "paper-repeated-mnist"])
def test_paper_epochs_keep_skorchs_batches(preset):
    # The paper-scale runs resume rows written before training batches were
    # evened out: their tiled epochs (epoch_size rows and a few more) must
    # still be cut into the same minibatches, all full but the last.
    options = {**PRESETS[preset], "dataset": "digits", "normalize": False}
    options.update(pool_size=None, test_size=300, validation_size=100)
    config = ExperimentConfig(**options)
    model = _model(config)
    model.initialize()
    for n_labelled in (20, 30, 63, 64, 65, 100, 319, 320):
        size = len(epoch_rows(n_labelled, config.epoch_size))
        dataset = model.get_dataset(np.zeros((size, 64), np.float32), np.zeros(size))
        sizes = [len(xb) for xb, _ in model.get_iterator(dataset, training=True)]
        full, rest = divmod(size, config.train_batch_size)
        assert sizes == [config.train_batch_size] * full + [rest] * (rest > 0)
