"""MCDropoutRegressor: consistent MC-dropout samples of a regression."""

import copy
import warnings

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


def test_defaults_fit_raw_scale_targets():
    # The user trial: diabetes progression (25 to 346) with the defaults. On
    # raw targets the network predicted ~20 where y averages ~150 (R² -3.1).
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    reg = MCDropoutRegressor(BayesianMLP, module__n_features=10, random_state=0)
    reg.set_params(verbose=0).fit(X[:100], y[:100])
    assert reg.score(X[100:], y[100:]) > 0.3  # 0.44 measured
    assert reg.y_mean_ == pytest.approx(np.mean(y[:100]), rel=1e-6)
    assert reg.y_scale_ == pytest.approx(np.std(y[:100]), rel=1e-6)
    assert np.mean(reg.predict(X[100:])) == pytest.approx(np.mean(y[100:]), rel=0.2)
    # σ² in y's units: a fraction of the targets' variance, not of 1
    assert 0.1 * np.var(y[:100]) < reg.noise_variance_ < np.var(y[:100])


def test_outputs_are_in_the_units_of_y(data):
    # y in other units (times 1e6, shifted): the same network, its outputs
    # in the new units, its losses on the one standardised scale
    X, y = data
    a, b = 1e6, 3e6
    base = _regressor().fit(X[:100], y[:100])
    scaled = _regressor().fit(X[:100], a * y[:100] + b)
    assert scaled.y_mean_ == pytest.approx(a * base.y_mean_ + b, rel=1e-6)
    assert scaled.y_scale_ == pytest.approx(a * base.y_scale_, rel=1e-6)
    tol = dict(rtol=1e-4, atol=1e-4 * a)
    np.testing.assert_allclose(scaled.predict(X), a * base.predict(X) + b, **tol)
    samples = base.predict_samples(X, 6, random_state=0)
    np.testing.assert_allclose(
        scaled.predict_samples(X, 6, random_state=0), a * samples + b, **tol
    )
    forward = base.forward(X.astype(np.float32), training=False).numpy()
    np.testing.assert_allclose(
        scaled.forward(X.astype(np.float32), training=False).numpy(),
        a * forward + b,
        rtol=1e-4,
        atol=1e-4 * a,
    )
    assert scaled.noise_variance_ == pytest.approx(a**2 * base.noise_variance_, 1e-3)
    assert scaled.score(X[100:], a * y[100:] + b) == pytest.approx(
        base.score(X[100:], y[100:]), abs=1e-4
    )
    np.testing.assert_allclose(
        scaled.history[:, "train_loss"], base.history[:, "train_loss"], rtol=1e-3
    )
    # a fixed noise variance is taken in y's units, as given
    fixed = _regressor(max_epochs=1, noise_variance=4e12).fit(X[:50], a * y[:50])
    assert fixed.noise_variance_ == 4e12


def test_normalize_y_false_trains_on_y_as_given(data):
    X, y = data
    reg = _regressor(max_epochs=5, normalize_y=False).fit(X[:60], 10 * y[:60] + 50)
    assert (reg.y_mean_, reg.y_scale_) == (0.0, 1.0)
    # the losses are the squared errors in y's units
    residual = reg.forward(X[:60].astype(np.float32)).numpy().ravel()
    residual -= (10 * y[:60] + 50).astype(np.float32)
    assert reg.noise_variance_ == pytest.approx(np.mean(residual**2), rel=1e-5)
    assert reg.history[-1, "train_loss"] > 100  # far from the targets, unscaled
    assert "normalize_y" in clone(reg).get_params()
    assert clone(reg).get_params()["normalize_y"] is False
    assert _regressor().get_params()["normalize_y"] is True
    for bad in ("yes", 1, None):
        with pytest.raises(TypeError, match="normalize_y must be True or False"):
            _regressor(max_epochs=1, normalize_y=bad).fit(X[:20], y[:20])


@pytest.mark.parametrize("value", [7.0, 0.0, -2e8])
def test_constant_targets(data, value):
    X, _ = data
    y = np.full(40, value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero
        reg = _regressor().fit(X[:40], y)
        prediction = reg.predict(X)
    assert reg.y_mean_ == value and reg.y_scale_ == 1.0
    np.testing.assert_allclose(prediction, value, atol=0.05 + 1e-6 * abs(value))
    assert np.isfinite(reg.noise_variance_) and reg.noise_variance_ > 0


def test_partial_fit_and_warm_start_keep_the_first_fit_s_scaling(data, fitted):
    X, y = data
    scaling = fitted.y_mean_, fitted.y_scale_
    y_new = 10 * y[100:150] + 5  # other units: a new fit would scale them
    more = copy.deepcopy(fitted).partial_fit(X[100:150], y_new)
    assert (more.y_mean_, more.y_scale_) == scaling
    warm = copy.deepcopy(fitted).set_params(warm_start=True).fit(X[100:150], y_new)
    assert (warm.y_mean_, warm.y_scale_) == scaling
    cold = copy.deepcopy(fitted).fit(X[100:150], y_new)  # re-initialised
    assert cold.y_mean_ == pytest.approx(np.mean(y_new), rel=1e-6)
    fresh = copy.deepcopy(fitted).initialize().partial_fit(X[100:150], y_new)
    assert fresh.y_mean_ == pytest.approx(np.mean(y_new), rel=1e-6)
    # a first partial_fit sets it, as fit does
    first = _regressor(max_epochs=5).partial_fit(X[:60], y_new[:10].repeat(6))
    assert first.y_scale_ == pytest.approx(np.std(y_new[:10]), rel=1e-5)
    # a refused first fit sets nothing
    broken = _regressor(max_epochs=1, module__n_classes=2)
    with pytest.raises(ValueError, match="one output per row"):
        broken.partial_fit(X[:20], y[:20])
    assert not hasattr(broken, "y_mean_") and not hasattr(broken, "y_scale_")


def test_validation_loss_is_on_the_training_scale(data):
    # a validation set in y's units (predefined_split) is scored on the
    # standardised scale, as the training batches are
    from skorch.dataset import Dataset
    from skorch.helper import predefined_split

    X, y = data
    X32, y_raw = X.astype(np.float32), (1000 * y + 5000).astype(np.float32)
    valid = Dataset(X32[200:], y_raw[200:, None])
    reg = _regressor(train_split=predefined_split(valid)).fit(X32[:100], y_raw[:100])
    train_loss, valid_loss = reg.history[-1, ["train_loss", "valid_loss"]]
    assert valid_loss < 1 and train_loss < 1  # standardised units (~1e6 in y's)
    expected = np.mean(
        ((reg.forward(X32[200:]).numpy().ravel() - y_raw[200:]) / reg.y_scale_) ** 2
    )
    assert valid_loss == pytest.approx(expected, rel=1e-3)


def test_a_transformed_target_regressor_around_it_scales_once(data):
    # standardised by the wrapper, then by the net (mean ~0, std ~1): the
    # same fit as the net on the wrapper's targets alone
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.preprocessing import StandardScaler

    X, y = data
    y_raw = 40 * y[:100] + 150
    fits = [
        TransformedTargetRegressor(
            _regressor(normalize_y=normalize), transformer=StandardScaler()
        ).fit(X[:100], y_raw)
        for normalize in (True, False)
    ]
    assert fits[0].regressor_.y_mean_ == pytest.approx(0.0, abs=1e-6)
    assert fits[0].regressor_.y_scale_ == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(
        fits[0].predict(X), fits[1].predict(X), rtol=1e-4, atol=1e-3
    )
    bare = _regressor().fit(X[:100], y_raw)
    np.testing.assert_allclose(bare.predict(X), fits[0].predict(X), rtol=1e-4)


def test_save_params_keeps_the_scaling(data, fitted, tmp_path):
    X, _ = data
    fitted.save_params(f_params=tmp_path / "params.pt")
    fresh = _regressor().initialize()
    fresh.load_params(f_params=tmp_path / "params.pt")
    assert (fresh.y_mean_, fresh.y_scale_) == (fitted.y_mean_, fitted.y_scale_)
    assert fresh.noise_variance_ == fitted.noise_variance_
    assert fresh.prediction_seed_ == fitted.prediction_seed_
    np.testing.assert_array_equal(fresh.predict(X), fitted.predict(X))
    # the file still loads into a bare module
    module = BayesianMLP(n_features=5, n_classes=1, hidden_sizes=(32,))
    module.load_state_dict(torch.load(tmp_path / "params.pt", weights_only=True))


def test_a_checkpoint_during_training_keeps_this_fits_noise(data, tmp_path):
    # a Checkpoint saves while training, before the noise is refitted: the
    # file held the previous fit's noise, and loading it brought that back
    from skorch.callbacks import Checkpoint

    X, y = data
    checkpoint = Checkpoint(dirname=str(tmp_path), monitor=None)
    reg = _regressor(max_epochs=5, callbacks=[checkpoint]).fit(X[:20], y[:20])
    first = reg.noise_variance_
    reg.fit(X[:200], y[:200])
    assert reg.noise_variance_ != first
    now = reg.noise_variance_
    reg.load_params(checkpoint=checkpoint)
    assert reg.noise_variance_ == now


def test_weights_without_the_scaling_are_taken_as_raw(data, fitted, tmp_path):
    # a file of weights only (safetensors, or saved before the scaling was
    # kept): a fresh net takes it as trained on y as given, and says so
    X, y = data
    raw = _regressor(normalize_y=False).fit(X[:100], 1000 * y[:100])
    torch.save(raw.module_.state_dict(), tmp_path / "weights.pt")
    fresh = _regressor().initialize()
    with pytest.warns(UserWarning, match="without the target scaling"):
        fresh.load_params(f_params=tmp_path / "weights.pt")
    assert (fresh.y_mean_, fresh.y_scale_) == (0.0, 1.0)
    np.testing.assert_allclose(fresh.predict(X[:5]), raw.predict(X[:5]), rtol=1e-6)
    # a partial_fit continues on the raw scale it was trained for
    fresh.partial_fit(X[:100], 1000 * y[:100])
    assert (fresh.y_mean_, fresh.y_scale_) == (0.0, 1.0)


def test_a_validation_set_with_one_dimensional_targets(data):
    # predefined_split's Dataset keeps its y as given: 1-d targets were
    # broadcast against the (B, 1) predictions, a B x B loss
    from skorch.dataset import Dataset
    from skorch.helper import predefined_split

    X, y = data
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    losses = []
    for targets in (y32[200:], y32[200:, None]):
        split = predefined_split(Dataset(X32[200:], targets))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # torch's broadcasting warning
            reg = _regressor(max_epochs=3, train_split=split).fit(X32[:100], y[:100])
        losses.append(reg.history[:, "valid_loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-6)
