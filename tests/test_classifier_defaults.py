"""The default training recipe: good out of the box, every part overridable."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from skorch.callbacks import EarlyStopping
from skorch.dataset import ValidSplit
from torch.utils.data import RandomSampler, SequentialSampler

from skbatchbald import DeepEnsembleClassifier, MCDropoutClassifier, MCDropoutRegressor
from skbatchbald.nn import BayesianMLP


def test_minimal_constructor_learns_fifty_digits(digits):
    # With skorch's training defaults (10 epochs, unshuffled batches of 128)
    # this split scored 0.453; docs/quickstart.rst has the table over sizes.
    X, y = digits
    X_l, X_t, y_l, y_t = train_test_split(
        X / 16, y, train_size=50, stratify=y, random_state=0
    )
    clf = MCDropoutClassifier(BayesianMLP, module__n_features=64, random_state=0)
    clf.set_params(verbose=0).fit(X_l, y_l)
    assert np.mean(clf.predict(X_t) == y_t) >= 0.75


def test_defaults_are_parameters():
    params = MCDropoutClassifier(BayesianMLP).get_params()
    assert params["max_epochs"] == 200
    assert params["iterator_train__shuffle"] is True
    assert params["batch_size"] == 128  # skorch's; prediction batches stay large
    assert params["warm_start"] is False  # fresh weights at every fit
    cloned = clone(MCDropoutClassifier(BayesianMLP, iterator_train__shuffle=False))
    assert cloned.get_params()["iterator_train__shuffle"] is False


def _training_sampler(clf, X, y):
    dataset = clf.get_dataset(X, y)
    return clf.get_iterator(dataset, training=True).sampler


@pytest.mark.parametrize(
    ("params", "sampler", "n_epochs"),
    [({}, RandomSampler, 200), (
        {"iterator_train__shuffle": False, "max_epochs": 3}, SequentialSampler, 3
    )],
)  # fmt: skip
def test_skorch_parameters_override_the_recipe(params, sampler, n_epochs):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 4)), np.repeat([0, 1], 6)
    clf = MCDropoutClassifier(
        BayesianMLP, module__n_features=4, verbose=0, random_state=0, **params
    ).fit(X, y)
    assert isinstance(_training_sampler(clf, X, y), sampler)
    assert len(clf.history) == n_epochs


@pytest.mark.parametrize(
    ("n_rows", "params", "sizes"),
    [
        (129, {}, [65, 64]),  # skorch: 128 and 1
        (1000, {}, [125] * 8),
        (20, {}, [20]),
        (10, {"batch_size": 4}, [4, 4, 2]),
        (129, {"iterator_train__drop_last": True}, [128]),  # skorch's batches
    ],
)
def test_training_batches_are_evened_out(n_rows, params, sizes):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(n_rows, 4)), np.arange(n_rows) % 2
    clf = MCDropoutClassifier(
        BayesianMLP, module__n_features=4, max_epochs=1, verbose=0, **params
    ).fit(X, y)
    assert [b["train_batch_size"] for b in clf.history[-1, "batches"]] == sizes


@pytest.mark.parametrize(
    "make",
    [
        lambda cb: MCDropoutClassifier(
            BayesianMLP, module__n_features=64, max_epochs=2, callbacks=[cb]
        ),
        lambda cb: MCDropoutRegressor(
            BayesianMLP, module__n_features=64, max_epochs=2, callbacks=[cb]
        ),
        lambda cb: DeepEnsembleClassifier(max_epochs=2, callbacks=[cb]),
    ],
    ids=["classifier", "regressor", "ensemble head"],
)
def test_a_validation_monitor_without_a_split_is_named(make, digits):
    # skorch's EarlyStopping() watches valid_loss; these nets default to
    # train_split=None, where skorch fails mid-fit with a KeyError
    X, y = digits
    X = X[:40].astype(np.float32)
    with pytest.raises(ValueError, match=r"monitors 'valid_loss'.*monitor='train"):
        make(EarlyStopping()).fit(X, y[:40].astype(np.float32))
    make(EarlyStopping(monitor="train_loss")).fit(X, y[:40].astype(np.float32))


@pytest.mark.parametrize(
    "make",
    [
        lambda: MCDropoutClassifier(BayesianMLP, module__n_features=64, max_epochs=1),
        lambda: MCDropoutRegressor(BayesianMLP, module__n_features=64, max_epochs=1),
        lambda: DeepEnsembleClassifier(max_epochs=1),
    ],
    ids=["classifier", "regressor", "ensemble head"],
)
def test_sample_weight_is_refused_with_the_ways_to_weigh(make, digits):
    # skorch hands fit parameters to the module's forward, which would fail
    # inside torch with a TypeError
    X, y = digits
    X, y = X[:40].astype(np.float32), y[:40].astype(np.float32)
    net = make()
    with pytest.raises(ValueError, match=r"sample_weight.*repeat them") as error:
        net.fit(X, y, sample_weight=np.ones(40))
    # the module's class before the first fit, not "type"
    module = type(net).__name__ == "DeepEnsembleClassifier" and "BatchedHeads"
    assert f"{module or 'BayesianMLP'}.forward takes no such" in str(error.value)
    classifier = not isinstance(net, MCDropoutRegressor)
    assert ("class_weight='balanced'" in str(error.value)) is classifier


def test_set_params_to_a_training_monitor_without_a_split(digits):
    # skorch's set_params re-initialises the callbacks before it sets their
    # parameters: the check waits for training
    X, y = digits
    X, y = X[:60].astype(np.float32), y[:60]
    net = MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        max_epochs=2,
        train_split=ValidSplit(4),
        callbacks=[("es", EarlyStopping(monitor="valid_loss"))],
    ).fit(X, y)
    net.set_params(train_split=None, callbacks__es__monitor="train_loss").fit(X, y)
    # skorch reads train_split=False as no split too
    with pytest.raises(ValueError, match="monitors 'valid_loss'"):
        net.set_params(train_split=False, callbacks__es__monitor="valid_loss")
        net.fit(X, y)


def test_a_refused_fit_keeps_the_fitted_weights(digits):
    X, y = digits
    X, y = X[:40].astype(np.float32), y[:40]
    net = MCDropoutClassifier(BayesianMLP, module__n_features=64, max_epochs=2)
    net.fit(X, y)
    before = [p.detach().clone() for p in net.module_.parameters()]
    with pytest.raises(ValueError, match="sample_weight"):
        net.fit(X, y, sample_weight=np.ones(40))
    assert all(
        torch.equal(a, b) for a, b in zip(before, net.module_.parameters(), strict=True)
    )
