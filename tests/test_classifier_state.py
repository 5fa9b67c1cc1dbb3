"""MCDropoutClassifier keeps what it learned: save_params, pickling, fixed masks."""

import io
import pickle

import numpy as np
import pytest
import skorch
import torch
from sklearn.datasets import make_blobs

from skbatchbald import MCDropoutClassifier
from skbatchbald.nn import BayesianMLP


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=60, centers=3, n_features=4, random_state=0)
    return X.astype(np.float32), np.array(["cat", "dog", "emu"])[y]


def mlp(**kwargs):
    params = {"module__n_features": 4, "max_epochs": 5, "lr": 1e-2, "verbose": 0}
    return MCDropoutClassifier(BayesianMLP, **{**params, **kwargs})


@pytest.mark.parametrize("random_state", [None, 0])
def test_a_fitted_classifier_predicts_the_same_twice(blobs, random_state):
    clf = mlp(random_state=random_state).fit(*blobs)
    first = clf.predict_proba(blobs[0])
    np.testing.assert_array_equal(clf.predict_proba(blobs[0]), first)
    np.testing.assert_array_equal(clf.predict(blobs[0]), clf.classes_[first.argmax(1)])


@pytest.mark.parametrize(
    "make_state",
    [lambda: np.random.default_rng(3), lambda: np.random.RandomState(3)],
    ids=["Generator", "RandomState"],
)
def test_generator_forms_predict_the_same_twice_and_reproduce(blobs, make_state):
    a = mlp(random_state=make_state()).fit(*blobs)
    b = mlp(random_state=make_state()).fit(*blobs)
    np.testing.assert_array_equal(a.predict_proba(blobs[0]), a.predict_proba(blobs[0]))
    np.testing.assert_array_equal(a.predict_proba(blobs[0]), b.predict_proba(blobs[0]))


def test_unseeded_fits_draw_different_masks(blobs):
    # The prediction seed is drawn per fit, like skorch's fresh initialisation.
    seeds = {mlp().initialize().prediction_seed_ for _ in range(3)}
    assert len(seeds) == 3


@pytest.mark.parametrize("random_state", [None, 0])
def test_save_params_then_load_in_a_fresh_net_predicts_the_same(blobs, random_state):
    clf = mlp(random_state=random_state).fit(*blobs)
    f_params = io.BytesIO()
    clf.save_params(f_params=f_params)
    f_params.seek(0)
    fresh = mlp().initialize()  # built for BayesianMLP's default 10 classes
    assert not hasattr(fresh, "classes_inferred_")
    fresh.load_params(f_params=f_params)
    assert list(fresh.classes_) == ["cat", "dog", "emu"]
    assert fresh.prediction_seed_ == clf.prediction_seed_
    np.testing.assert_array_equal(fresh.predict(blobs[0]), clf.predict(blobs[0]))
    np.testing.assert_array_equal(
        fresh.predict_proba(blobs[0]), clf.predict_proba(blobs[0])
    )


def test_the_params_file_still_loads_into_a_bare_module(blobs, tmp_path):
    clf = mlp(random_state=0).fit(*blobs)
    clf.save_params(f_params=tmp_path / "params.pt")
    module = BayesianMLP(n_features=4, n_classes=3)
    module.load_state_dict(torch.load(tmp_path / "params.pt", weights_only=True))
    for a, b in zip(module.parameters(), clf.module_.parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("random_state", [None, 1])
def test_pickle_round_trip_predicts_the_same(blobs, random_state):
    clf = mlp(random_state=random_state).fit(*blobs)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(
        loaded.predict_proba(blobs[0]), clf.predict_proba(blobs[0])
    )
    assert list(loaded.classes_) == ["cat", "dog", "emu"]


def test_integer_labels_and_an_unpicklable_dtype_round_trip(blobs):
    X, y = blobs
    labels = np.array([7, 5, 6])[np.searchsorted(["cat", "dog", "emu"], y)]
    clf = mlp(random_state=0).fit(X, labels)
    f_params = io.BytesIO()
    clf.save_params(f_params=f_params)
    f_params.seek(0)
    fresh = mlp(module__n_classes=3).initialize()
    fresh.load_params(f_params=f_params)
    assert fresh.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(fresh.predict(X), clf.predict(X))


def test_pickles_name_the_public_path_only(blobs):
    # Pickles written before the classifier became a package load, and new
    # ones do not depend on its private module layout.
    X, y = blobs
    data = pickle.dumps(mlp().fit(X, y))
    assert b"skbatchbald.classifier" in data
    assert b"skbatchbald.classifier._" not in data
    assert type(pickle.loads(data)) is MCDropoutClassifier


_FIT_ONLY = ("_train_seed", "_fitting", "_outputs_unchecked")


class _RecordFitState(skorch.callbacks.Callback):
    """Keeps what the instance holds of the running fit, after each epoch."""

    def initialize(self):
        self.seen = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.seen.append({name: vars(net).get(name) for name in _FIT_ONLY[:2]})


class _Fail(skorch.callbacks.Callback):
    def on_epoch_end(self, net, **kwargs):
        raise RuntimeError("stop here")


def test_state_of_a_running_fit_does_not_stay_on_the_instance(blobs):
    record = _RecordFitState()
    clf = mlp(random_state=0, max_epochs=2, callbacks=[record]).fit(*blobs)
    (record,) = [cb for _, cb in clf.callbacks_ if isinstance(cb, _RecordFitState)]
    # set while fitting: the seed of the shuffling and the fitting flag
    assert record.seen and all(s["_fitting"] is True for s in record.seen)
    assert all(s["_train_seed"] is not None for s in record.seen)
    # gone afterwards, also from what a pickle carries
    assert not set(_FIT_ONLY) & set(vars(clf))
    assert not set(_FIT_ONLY) & set(pickle.loads(pickle.dumps(clf)).__dict__)
    clf.partial_fit(*blobs)
    assert not set(_FIT_ONLY) & set(vars(clf))


def test_state_of_a_failed_fit_does_not_stay_on_the_instance(blobs):
    clf = mlp(random_state=0, callbacks=[_Fail()])
    with pytest.raises(RuntimeError, match="stop here"):
        clf.fit(*blobs)
    assert not set(_FIT_ONLY) & set(vars(clf))
