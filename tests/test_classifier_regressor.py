"""MCDropoutRegressor: consistent MC-dropout samples of a regression."""

import copy

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone, is_regressor
from sklearn.exceptions import NotFittedError

from skbatchbald import MCDropoutRegressor
from skbatchbald.nn import BayesianMLP


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = np.sin(X[:, 0]) + X[:, 1] ** 2 / 2 + 0.1 * rng.normal(size=300)
    return X, y


def _regressor(**kw):
    params = dict(
        module=BayesianMLP,
        module__n_features=5,
        module__hidden_sizes=(32,),
        max_epochs=60,
        lr=0.01,
        batch_size=32,
        verbose=0,
        random_state=0,
    )
    params.update(kw)
    return MCDropoutRegressor(**params)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return _regressor().fit(X[:100], y[:100])


def test_fit_predict_and_samples(data, fitted):
    X, y = data
    assert is_regressor(fitted)
    samples = fitted.predict_samples(X, n_mc_samples=6, random_state=0)
    assert samples.shape == (300, 6) and samples.dtype == np.float64
    assert samples.std(axis=1).min() > 0  # dropout masks differ
    prediction = fitted.predict(X)
    assert prediction.shape == (300,)
    np.testing.assert_array_equal(prediction, fitted.predict(X))
    assert fitted.score(X[100:], y[100:]) > 0.3  # it learned something


def test_samples_are_consistent(data, fitted):
    X, _ = data
    whole = fitted.predict_samples(X, n_mc_samples=8, random_state=3)
    # same seed: same samples; chunks of the pool: the same samples, bitwise
    np.testing.assert_array_equal(
        whole, fitted.predict_samples(X, n_mc_samples=8, random_state=3)
    )
    chunks = np.concatenate(
        [
            fitted.predict_samples(X[i : i + 37], n_mc_samples=8, random_state=3)
            for i in range(0, 300, 37)
        ]
    )
    np.testing.assert_array_equal(chunks, whole)
    order = np.random.default_rng(0).permutation(300)
    shuffled = fitted.predict_samples(X[order], n_mc_samples=8, random_state=3)
    np.testing.assert_allclose(shuffled, whole[order], atol=1e-6)
    # batch size, memory budget and workers do not change a sample
    small = copy.deepcopy(fitted).set_params(batch_size=7)
    np.testing.assert_allclose(
        small.predict_samples(X, n_mc_samples=8, random_state=3), whole, atol=1e-6
    )
    np.testing.assert_allclose(
        fitted.predict_samples(X, 8, 3, max_memory=20_000), whole, atol=1e-6
    )
    with joblib.parallel_config(backend="threading"):
        sharded = fitted.predict_samples(X, 8, 3, n_jobs=3)
    np.testing.assert_allclose(sharded, whole, atol=1e-6)
    other = fitted.predict_samples(X, n_mc_samples=8, random_state=4)
    assert not np.allclose(other, whole)


def test_seeded_fit_is_reproducible(data):
    X, y = data
    a = _regressor(max_epochs=5).fit(X[:60], y[:60]).predict(X)
    b = _regressor(max_epochs=5).fit(X[:60], y[:60]).predict(X)
    np.testing.assert_array_equal(a, b)
    state = torch.random.get_rng_state()
    _regressor(max_epochs=2).fit(X[:60], y[:60])
    assert torch.equal(state, torch.random.get_rng_state())  # global untouched


def test_noise_variance(data, fitted):
    X, y = data
    output = fitted.forward(X[:100].astype(np.float32), training=False)
    deterministic = output.numpy().ravel()
    mse = np.mean((deterministic - y[:100].astype(np.float32)) ** 2)
    assert fitted.noise_variance_ == pytest.approx(mse, rel=1e-5)
    fixed = _regressor(max_epochs=1, noise_variance=0.3).fit(X[:50], y[:50])
    assert fixed.noise_variance_ == 0.3
    # a net that fits its labels exactly is floored, never noise 0
    exact = _regressor(max_epochs=300).fit(X[:3], y[:3])
    assert exact.noise_variance_ >= 1e-6 * np.var(y[:3].astype(np.float32))
    for bad in (0.0, -1.0, np.inf, "learned"):
        with pytest.raises(ValueError, match="noise_variance"):
            _regressor(noise_variance=bad).fit(X[:20], y[:20])


def test_bad_targets_and_inputs(data):
    X, y = data
    reg = _regressor(max_epochs=1)
    with pytest.raises(ValueError, match="class labels"):
        reg.fit(X[:4], np.array(["a", "b", "a", "b"]))
    bad = y[:10].copy()
    bad[4] = np.nan
    with pytest.raises(ValueError, match="first at row 4"):
        reg.fit(X[:10], bad)
    with pytest.raises(ValueError, match="multi-output"):
        reg.fit(X[:10], np.column_stack([y[:10], y[:10]]))
    with pytest.raises(ValueError, match="one target per row"):
        reg.fit(X[:10], y[:9])
    with pytest.raises(ValueError, match="NaN or infinity"):
        reg.fit(np.full((4, 5), np.nan), y[:4])
    with pytest.raises(NotFittedError):
        _regressor().predict_samples(X)


def test_predict_before_fit_or_after_clone_is_not_fitted(data):
    X, y = data
    with pytest.raises(NotFittedError):
        _regressor().predict(X)
    with pytest.raises(NotFittedError):
        clone(_regressor(max_epochs=1).fit(X[:20], y[:20])).predict(X)


def test_module_without_dropout_is_refused(data):
    X, y = data
    reg = _regressor(max_epochs=1, module__p=0.0).fit(X[:20], y[:20])
    with pytest.raises(ValueError, match="no dropout layer with p > 0"):
        reg.predict_samples(X)


def test_module_with_several_outputs_is_refused(data):
    X, y = data
    reg = _regressor(max_epochs=1, module__n_classes=2)
    with pytest.raises(ValueError, match=r"shape \(20, 2\)"):
        reg.fit(X[:20], y[:20])
    reg = _regressor(max_epochs=1)
    reg.fit(X[:20], y[:20])
    reg.module_ = BayesianMLP(n_features=5, n_classes=2)
    with pytest.raises(ValueError, match="2 outputs per row"):
        reg.predict_samples(X[:5])


def test_clone_and_pickle(data, fitted):
    import pickle

    from sklearn.base import clone

    X, _ = data
    params = clone(fitted).get_params()
    assert params["noise_variance"] == "auto" and params["n_mc_samples"] == 20
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
    assert loaded.noise_variance_ == fitted.noise_variance_


def test_partial_fit_takes_one_dimensional_targets(data, fitted):
    import copy as copy_module

    X, y = data
    more = copy_module.deepcopy(fitted).partial_fit(X[100:150], y[100:150])
    assert more.noise_variance_ != fitted.noise_variance_  # refitted on the new rows
    assert not np.array_equal(more.predict(X), fitted.predict(X))  # trained further
    with pytest.raises(ValueError, match="class labels"):
        copy_module.deepcopy(fitted).partial_fit(X[:2], np.array(["a", "b"]))


@pytest.mark.parametrize(
    ("n_rows", "params", "sizes"),
    [
        (129, {"batch_size": 128}, [65, 64]),  # skorch: 128 and 1
        (129, {"batch_size": 128, "iterator_train__drop_last": True}, [128]),
    ],
)
def test_training_batches_are_evened_out_as_the_classifier_s(n_rows, params, sizes):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(n_rows, 5)), rng.normal(size=n_rows)
    reg = _regressor(max_epochs=1, **params).fit(X, y)
    assert [b["train_batch_size"] for b in reg.history[-1, "batches"]] == sizes


def test_nothing_of_a_fit_stays_on_the_instance(data):
    # the shuffling seed of a running fit is the class default again after
    # fit, also when the fit fails
    X, y = data
    reg = _regressor(max_epochs=1).fit(X[:40], y[:40])
    assert "_train_seed" not in vars(reg)
    broken = _regressor(max_epochs=1, module__n_classes=3)
    with pytest.raises(ValueError, match="one output per row"):
        broken.fit(X[:40], y[:40])
    assert "_train_seed" not in vars(broken)


class _TwoOutputs(torch.nn.Module):
    """``(prediction, features)``: several outputs, as skorch allows."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(5, 16), torch.nn.ReLU(), torch.nn.Dropout(0.2)
        )
        self.out = torch.nn.Linear(16, 1)

    def forward(self, x):
        features = self.body(x)
        return self.out(features), features


def test_tuple_outputs_name_the_get_loss_recipe(data):
    X, y = data
    with pytest.raises(ValueError, match=r"tuple of 2 outputs.*y_pred\[0\]"):
        MCDropoutRegressor(_TwoOutputs, max_epochs=1, verbose=0).fit(X, y)


def test_n_jobs_refuses_a_module_the_workers_cannot_import(data):
    X, y = data

    class LocalNet(BayesianMLP):  # pickle cannot refer to a class in a function
        pass

    net = _regressor(module=LocalNet, max_epochs=1).fit(X[:50], y[:50])
    with pytest.raises(ValueError, match=r"LocalNet is defined inside a function"):
        net.predict_samples(X, 4, random_state=0, n_jobs=2)
    with joblib.parallel_config(backend="threading"):  # threads pickle nothing
        assert net.predict_samples(X, 4, random_state=0, n_jobs=2).shape == (300, 4)
