"""MCDropoutClassifier's inputs: lists of rows, torch Datasets, devices, modules."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import make_blobs
from torch import nn

from skbatchbald import ActiveLearner, BatchBALDQuery, MCDropoutClassifier
from skbatchbald.nn import BayesianMLP


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=60, centers=3, n_features=4, random_state=0)
    return X.astype(np.float32), y


def mlp(**kwargs):
    params = {"module__n_features": 4, "max_epochs": 5, "lr": 1e-2, "verbose": 0}
    return MCDropoutClassifier(BayesianMLP, **{**params, "random_state": 0, **kwargs})


class TestListsAreRows:
    def test_fit_and_predict_on_lists_equal_the_array(self, blobs):
        X, y = blobs
        from_array = mlp().fit(X, y)
        from_list = mlp().fit(X.tolist(), list(y))
        np.testing.assert_array_equal(
            from_list.predict_proba(X.tolist()), from_array.predict_proba(X)
        )
        # A list of 1-D arrays (list(X)) and a tuple are rows too.
        np.testing.assert_array_equal(
            from_list.predict_proba(list(X)), from_array.predict_proba(X)
        )
        np.testing.assert_array_equal(
            from_list.predict_log_proba_samples(tuple(X[:5]), 3, random_state=0),
            from_array.predict_log_proba_samples(X[:5], 3, random_state=0),
        )

    def test_a_list_pool_is_queried_like_the_array(self, blobs):
        X, y = blobs

        def picks(pool):
            learner = ActiveLearner(
                mlp(), BatchBALDQuery(random_state=0), X[:12], y[:12]
            )
            return learner.query(pool, n_instances=4)[0]

        np.testing.assert_array_equal(picks(X[12:].tolist()), picks(X[12:]))

    def test_ragged_rows_are_a_clear_error(self, blobs):
        clf = mlp().fit(*blobs)
        with pytest.raises(ValueError, match=r"read as rows.*dict of arrays"):
            clf.predict([[0.0, 1.0, 2.0, 3.0], [0.0, 1.0]])


class TestTorchDatasets:
    def test_implicit_y_from_a_tensor_dataset(self, blobs):
        X, y = blobs
        dataset = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
        clf = mlp().fit(dataset, None)
        np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
        assert np.mean(clf.predict(X) == y) > 0.8
        np.testing.assert_array_equal(clf.predict(dataset), clf.predict(X))

    def test_y_none_without_a_dataset_names_the_fix(self, blobs):
        with pytest.raises(ValueError, match=r"requires y to be passed.*torch Dataset"):
            mlp().fit(blobs[0], None)


class FunctionalDropoutNet(nn.Module):
    """nn.Dropout (seen by the hooks) and F.dropout(training=True) (not seen)."""

    def __init__(self, n_classes=3):
        super().__init__()
        self.hidden = nn.Linear(4, 32)
        self.dropout = nn.Dropout(0.5)
        self.out = nn.Linear(32, n_classes)

    def forward(self, x):
        h = self.dropout(torch.relu(self.hidden(x)))
        return self.out(F.dropout(h, 0.5, training=True))


def test_functional_dropout_in_eval_mode_is_detected(blobs):
    clf = MCDropoutClassifier(FunctionalDropoutNet, max_epochs=2, verbose=0)
    clf.fit(*blobs)
    for call in (
        lambda: clf.predict_log_proba_samples(blobs[0], 3, random_state=0),
        lambda: clf.predict(blobs[0]),
    ):
        with pytest.raises(ValueError, match=r"F.dropout\(x, training=True\)"):
            call()


class OnlyFunctionalDropoutNet(nn.Module):
    """Keras' habit of dropout at inference: F.dropout's training=True default."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 32)
        self.out = nn.Linear(32, 3)

    def forward(self, x):
        return self.out(F.dropout(torch.relu(self.hidden(x)), 0.5))


@pytest.mark.parametrize("mc_predict", [True, False])
def test_only_functional_dropout_is_refused_at_predict(blobs, mc_predict):
    # no dropout layer, so predict_proba takes the deterministic network,
    # which is not: it must neither warn "no dropout layer" nor vary
    clf = MCDropoutClassifier(
        OnlyFunctionalDropoutNet, max_epochs=2, verbose=0, mc_predict=mc_predict
    ).fit(*blobs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"F.dropout\(x, training=True\)"):
            clf.predict_proba(blobs[0])


def test_the_deterministic_net_is_checked_once_per_module(blobs, monkeypatch):
    clf = mlp(mc_predict=False).fit(*blobs)
    calls = []
    check = clf._check_eval_is_deterministic
    monkeypatch.setattr(
        clf, "_check_eval_is_deterministic", lambda X: calls.append(1) or check(X)
    )
    clf.predict_proba(blobs[0])
    clf.predict_proba(blobs[0])
    assert len(calls) == 1
    clf.fit(*blobs)  # a new module is checked anew
    clf.predict_proba(blobs[0])
    assert len(calls) == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_names_the_parameter(blobs):
    with pytest.raises(ValueError, match=r"device='cuda'.*set device='cpu'"):
        mlp(device="cuda").fit(*blobs)


def test_n_classes_is_set_from_the_labels_when_not_given(blobs):
    X, y = blobs
    clf = mlp().fit(X, np.array(["a", "b", "c"])[y])  # BayesianMLP's default is 10
    assert clf.module_.layers[-1].out_features == 3
    two = mlp().fit(X[y < 2], y[y < 2])
    assert two.module_.layers[-1].out_features == 2
    assert "module__n_classes" not in two.get_params()  # clone keeps it automatic


class TestValidation:
    def test_validation_uses_the_deterministic_net_by_default(self, blobs):
        from skorch.dataset import ValidSplit

        X, y = blobs
        split = ValidSplit(3, stratified=True)
        clf = mlp(train_split=split, max_epochs=3).fit(X, y)
        _, valid = split(clf.get_dataset(X, y), y)
        rows = valid.indices
        deterministic = clf.set_params(mc_predict=False).predict(X[rows])
        assert clf.history[-1, "valid_acc"] == pytest.approx(
            np.mean(deterministic == y[rows])
        )

    def test_mc_validation_scores_with_the_mc_average(self, blobs):
        from skorch.dataset import ValidSplit

        X, y = blobs
        split = ValidSplit(3, stratified=True)
        calls = []

        class Counting(MCDropoutClassifier):
            def predict_log_proba_samples(
                self, X, n_mc_samples=None, random_state=None
            ):
                calls.append(len(X))
                return super().predict_log_proba_samples(X, n_mc_samples, random_state)

        params = {"module__n_features": 4, "max_epochs": 2, "verbose": 0}
        Counting(BayesianMLP, train_split=split, **params).fit(X, y)
        assert calls == []
        Counting(BayesianMLP, train_split=split, mc_validation=True, **params).fit(X, y)
        assert calls == [20, 20]  # the validation fold, once per epoch

    def test_bad_mc_validation(self, blobs):
        with pytest.raises(ValueError, match="mc_validation must be True"):
            mlp(mc_validation="yes").fit(*blobs)


@pytest.mark.parametrize(
    "convert",
    [np.asarray, torch.as_tensor, pd.DataFrame, lambda X: X.tolist()],
    ids=["ndarray", "tensor", "DataFrame", "list"],
)
def test_complex_inputs_are_refused_not_truncated(blobs, convert):
    X, y = blobs
    clf = MCDropoutClassifier(
        BayesianMLP, module__n_features=X.shape[1], max_epochs=1, verbose=0
    )
    complex_X = convert(X.astype(np.complex64) + 1j)
    with pytest.raises(ValueError, match="Complex data not supported"):
        clf.fit(complex_X, y)
    clf.fit(X.astype(np.float32), y)
    with pytest.raises(ValueError, match="Complex data not supported"):
        clf.predict_proba(complex_X)


class TestIndicatorLabels:
    @pytest.mark.parametrize(
        "convert",
        [np.asarray, pd.DataFrame, torch.as_tensor],
        ids=["ndarray", "DataFrame", "tensor"],
    )
    def test_one_hot_y_asks_for_class_labels(self, blobs, convert):
        X, y = blobs
        one_hot = convert(np.eye(3, dtype=np.float32)[y])
        with pytest.raises(ValueError, match=r"one-hot.*y\.argmax\(axis=1\)"):
            mlp().fit(X, one_hot)

    def test_one_hot_y_of_a_pandas_get_dummies(self, blobs):
        X, y = blobs
        with pytest.raises(ValueError, match="one-hot"):
            mlp().fit(X, pd.get_dummies(np.array(list("abc"))[y]))

    def test_multi_label_y_says_what_is_supported(self, blobs):
        X, y = blobs
        labels = np.eye(3, dtype=int)[y] | np.eye(3, dtype=int)[(y + 1) % 3]
        pattern = r"multi-label.*one class label per row.*MCDropoutMultiLabelClassifier"
        with pytest.raises(ValueError, match=pattern):
            mlp().fit(X, labels)
        with pytest.raises(ValueError, match=pattern):
            mlp().partial_fit(X, labels)

    def test_a_column_of_labels_is_still_read(self, blobs):
        X, y = blobs
        with pytest.warns(UserWarning, match="column-vector y"):
            clf = mlp(max_epochs=1).fit(X, y[:, None])
        np.testing.assert_array_equal(clf.classes_, [0, 1, 2])


@pytest.mark.parametrize("net", ["classifier", "regressor"])
def test_a_missing_module_argument_names_its_module_parameter(blobs, net):
    from skbatchbald import MCDropoutRegressor

    X, y = blobs
    if net == "classifier":
        model, target = MCDropoutClassifier(BayesianMLP, max_epochs=1), y
    else:
        model = MCDropoutRegressor(BayesianMLP, max_epochs=1)
        target = y.astype(np.float32)
    with pytest.raises(
        TypeError, match=r"'n_features'\. .*pass module__n_features=\.\.\. to MCDrop"
    ):
        model.fit(X, target)

    class TwoArguments(nn.Module):
        def __init__(self, width, depth):
            super().__init__()

    with pytest.raises(TypeError, match=r"module__width=\.\.\., module__depth=\.\.\."):
        MCDropoutClassifier(TwoArguments, max_epochs=1).fit(X, y)


def test_a_one_row_reversed_view_is_predicted(blobs):
    # numpy flags X[::-1][:1] contiguous though its stride is negative, and
    # torch.from_numpy refused it
    X, y = blobs
    net = mlp().fit(X, y)
    view = X[::-1][:1]
    assert view.strides[0] < 0 and view.flags.c_contiguous
    np.testing.assert_allclose(net.predict_proba(view), net.predict_proba(X[-1:]))
    samples = net.predict_log_proba_samples(view, random_state=0)
    expected = net.predict_log_proba_samples(X[-1:].copy(), random_state=0)
    np.testing.assert_array_equal(samples, expected)


class _Images(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(2 * 6 * 6, 3)

    def forward(self, x):
        return self.out(self.drop(self.conv(x).flatten(1)))


def test_images_without_their_channel_axis_name_it():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 1, 8, 8)).astype(np.float32)
    y = np.arange(30) % 3
    net = MCDropoutClassifier(_Images, max_epochs=1, verbose=0, random_state=0)
    net.fit(X, y)
    with pytest.raises(ValueError, match=r"channel axis.*X\[:, None\]"):
        net.predict_proba(X[:5, 0])
