"""A module instance as ``module`` (Keras' habit): the starting point of every
fit, never trained itself.

skorch trains an instance in place, so a refit with warm_start=False went on
from the trained weights, and clone copied them (a strategy comparison that
clones the net per arm leaked training).
"""

import copy
import io
import pickle
import threading

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from torch import nn

from skbatchbald import (
    ActiveLearner,
    MCDropoutClassifier,
    MCDropoutMultiLabelClassifier,
    MCDropoutRegressor,
)


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return (X[:80] / 16).astype(np.float32), y[:80]


def mlp(n_outputs=10):
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, n_outputs)
    )


def net(module, **kwargs):
    params = {"max_epochs": 3, "lr": 1e-2, "verbose": 0, "random_state": 0}
    return MCDropoutClassifier(module, **{**params, **kwargs})


def weights(module):
    return {name: value.clone() for name, value in module.state_dict().items()}


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0, msg=name)


def differ(a, b):
    return any(not torch.equal(a[name], b[name]) for name in a)


def first_loss(estimator):
    return estimator.history[0, "train_loss"]


def regressor_case(X, y):
    return MCDropoutRegressor, mlp(1), X, y.astype(np.float32)


def multilabel_case(X, y):
    Y = np.stack([y % 2, y < 5, y > 6], axis=1).astype(int)
    return MCDropoutMultiLabelClassifier, mlp(3), X, Y


def classifier_case(X, y):
    return MCDropoutClassifier, mlp(), X, y


CASES = [classifier_case, regressor_case, multilabel_case]
CASE_IDS = ["classifier", "regressor", "multilabel"]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_a_refit_without_warm_start_starts_from_the_instance_weights(data, case):
    cls, module, X, y = case(*data)
    estimator = cls(module, max_epochs=3, lr=1e-2, verbose=0, random_state=0)
    first = first_loss(estimator.fit(X, y))
    assert first_loss(estimator.fit(X, y)) == pytest.approx(first, abs=1e-6)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_the_instance_given_is_not_trained(data, case):
    cls, module, X, y = case(*data)
    given = weights(module)
    estimator = cls(module, max_epochs=3, verbose=0).fit(X, y)
    assert estimator.module is module  # the parameter stays as given
    assert estimator.module_ is not module
    assert_same_weights(weights(module), given)


def test_every_initialisation_starts_from_the_instance_weights(data):
    # an instance may hold pretrained weights: a re-draw would lose them
    module = mlp()
    given = weights(module)
    for seed in (0, 1, None):
        assert_same_weights(
            weights(net(module, random_state=seed).initialize().module_), given
        )


def test_a_clone_of_a_fitted_net_starts_untrained(data):
    # a strategy comparison clones the net per arm: no arm may inherit training
    X, y = data
    estimator = net(mlp(), max_epochs=20)
    before = clone(estimator)
    estimator.fit(X, y)
    after = clone(estimator)
    before.fit(X[:20], y[:20])
    after.fit(X[:20], y[:20])
    assert first_loss(after) == pytest.approx(first_loss(before), abs=1e-6)
    np.testing.assert_array_equal(after.predict_proba(X), before.predict_proba(X))


def test_warm_start_keeps_training_the_fitted_copy(data):
    X, y = data
    module = mlp()
    given = weights(module)
    estimator = net(module, warm_start=True).fit(X, y)
    trained = estimator.module_
    estimator.fit(X, y)
    assert estimator.module_ is trained
    assert_same_weights(weights(module), given)


def test_warm_start_fits_continue_and_cold_ones_repeat(data):
    X, y = data
    warm = net(mlp(), warm_start=True, max_epochs=10)
    cold = net(mlp(), max_epochs=10)
    warm_losses, cold_losses = [], []
    for _ in range(2):
        # a warm fit appends to the history: its first epoch is 10 from the end
        warm_losses.append(warm.fit(X, y).history[-10, "train_loss"])
        cold_losses.append(first_loss(cold.fit(X, y)))
    assert warm_losses[0] == pytest.approx(cold_losses[0], abs=1e-6)
    assert warm_losses[1] < warm_losses[0] - 0.3  # from the trained weights
    assert cold_losses[1] == pytest.approx(cold_losses[0], abs=1e-6)


def test_pretrained_weights_are_fine_tuned_from_at_every_fit(data):
    X, y = data
    pretrained = net(mlp(), max_epochs=30).fit(X, y).module_
    start = weights(pretrained)
    tuned = net(pretrained, max_epochs=1)
    for _ in range(2):  # each fit from the pretrained weights, not from scratch
        tuned.fit(X, y)
        assert first_loss(tuned) < first_loss(net(mlp(), max_epochs=1).fit(X, y)) - 0.5
    assert_same_weights(weights(pretrained), start)


class Uncopyable(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(64, 10)
        self.lock = threading.Lock()

    def forward(self, x):
        return self.layer(x)


def test_an_instance_that_cannot_be_copied_names_the_class_form():
    with pytest.raises(TypeError, match="Pass the module class instead") as info:
        net(Uncopyable()).initialize()
    assert "Uncopyable" in str(info.value)
    assert isinstance(info.value.__cause__, TypeError)


def test_pickling_keeps_the_trained_copy_and_the_template(data):
    X, y = data
    module = mlp()
    estimator = net(module).fit(X, y)
    loaded = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
    assert_same_weights(weights(loaded.module), weights(module))
    loaded.fit(X, y)  # and a refit of the copy starts over as the original's
    assert first_loss(loaded) == pytest.approx(first_loss(estimator), abs=1e-6)


def test_save_params_then_load_params_into_a_net_of_the_same_instance(data):
    X, y = data
    module = mlp()
    estimator = net(module).fit(X, y)
    f_params = io.BytesIO()
    estimator.save_params(f_params=f_params)
    f_params.seek(0)
    fresh = net(module, random_state=1).initialize()
    fresh.load_params(f_params=f_params)
    np.testing.assert_array_equal(fresh.predict_proba(X), estimator.predict_proba(X))
    assert_same_weights(weights(module), weights(mlp()))  # loaded into the copy
    assert differ(weights(fresh.module_), weights(module))


def test_grid_search_over_an_instance_fits_each_candidate_afresh(data):
    X, y = data
    module = mlp()
    given = weights(module)
    grid = GridSearchCV(
        net(module, max_epochs=2), {"lr": [1e-3, 1e-2]}, cv=2, error_score="raise"
    ).fit(X, y)
    assert grid.best_estimator_.module_ is not module
    assert_same_weights(weights(module), given)
    assert_same_weights(weights(grid.estimator.module), given)


def test_a_copy_of_the_net_keeps_its_own_template(data):
    # copy.deepcopy is what clone does to the module parameter
    X, y = data
    estimator = net(mlp())
    twin = copy.deepcopy(estimator).fit(X, y)
    assert_same_weights(weights(estimator.module), weights(mlp()))
    assert twin.module_ is not twin.module


def test_every_teach_of_an_active_learner_starts_over(data):
    X, y = data
    learner = ActiveLearner(net(mlp()), X_training=X[:40], y_training=y[:40])
    learner.teach(X[40:60], y[40:60])
    refit = first_loss(learner.estimator)
    assert refit == pytest.approx(first_loss(net(mlp()).fit(X[:60], y[:60])), abs=1e-6)
