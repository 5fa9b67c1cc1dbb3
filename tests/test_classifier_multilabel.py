"""MCDropoutMultiLabelClassifier: indicator targets, BCE training, (N, K, L) samples."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_parameters_default_constructible,
)

from skbatchbald import MCDropoutClassifier, MCDropoutMultiLabelClassifier
from skbatchbald.nn import BayesianMLP
from skbatchbald.sampling import is_multilabel, predict_multilabel_log_proba_samples


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    Y = np.stack(
        [X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 1] > 1, X[:, 2] > 2], axis=1
    ).astype(np.int64)
    return X, Y


def net(**kwargs):
    params = dict(
        module__n_features=4, max_epochs=15, lr=1e-2, verbose=0, random_state=0
    )
    return MCDropoutMultiLabelClassifier(BayesianMLP, **{**params, **kwargs})


@pytest.fixture(scope="module")
def fitted(data):
    X, Y = data
    return net().fit(X[:120], Y[:120])


class TestFitAndPredict:
    def test_learns_each_label(self, fitted, data):
        X, Y = data
        assert fitted.classes_.tolist() == [0, 1, 2, 3]
        predicted = fitted.predict(X[120:])
        assert predicted.shape == (80, 4) and predicted.dtype == np.int64
        # label 3 is almost always 0: accuracy of each of labels 0, 1 well above 1/2
        accuracy = (predicted == Y[120:]).mean(axis=0)
        assert (accuracy[:2] > 0.8).all()

    def test_predict_proba_is_the_mean_of_the_samples(self, fitted, data):
        X, _ = data
        proba = fitted.predict_proba(X[:30])
        assert proba.shape == (30, 4)
        samples = fitted.predict_log_proba_samples(
            X[:30], random_state=fitted.prediction_seed_
        )
        np.testing.assert_allclose(proba, np.exp(samples).mean(axis=1), atol=1e-6)
        np.testing.assert_array_equal(fitted.predict(X[:30]), proba >= 0.5)
        np.testing.assert_array_equal(proba, fitted.predict_proba(X[:30]))

    def test_deterministic_predict_proba_is_the_sigmoid(self, data):
        X, Y = data
        clf = net(mc_predict=False).fit(X[:60], Y[:60])
        logits = clf.forward(X[:10])
        np.testing.assert_allclose(
            clf.predict_proba(X[:10]), torch.sigmoid(logits).numpy(), atol=1e-7
        )

    def test_a_dataframe_of_label_columns(self, data):
        pd = pytest.importorskip("pandas")
        X, Y = data
        frame = pd.DataFrame(Y[:60].astype(bool), columns=["a", "b", "c", "d"])
        clf = net(max_epochs=2).fit(X[:60], frame)
        twin = net(max_epochs=2).fit(X[:60], Y[:60])
        np.testing.assert_array_equal(clf.predict_proba(X), twin.predict_proba(X))

    def test_rows_without_labels_are_valid(self, data):
        X, Y = data
        Y = Y[:60].copy()
        Y[:30] = 0
        assert net(max_epochs=2).fit(X[:60], Y).predict(X[:5]).shape == (5, 4)

    def test_clone_pickle_and_saved_params(self, fitted, data, tmp_path):
        X, _ = data
        assert clone(fitted).get_params()["criterion"] is torch.nn.BCEWithLogitsLoss
        again = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
        fitted.save_params(f_params=tmp_path / "params.pt")
        fresh = net().initialize()
        fresh.load_params(f_params=tmp_path / "params.pt")
        assert fresh.classes_.tolist() == [0, 1, 2, 3]
        np.testing.assert_allclose(fresh.predict_proba(X), fitted.predict_proba(X))

    def test_is_a_multilabel_source_fitted_or_not(self, fitted):
        assert is_multilabel(fitted) and is_multilabel(net())
        assert not is_multilabel(MCDropoutClassifier(BayesianMLP))


class TestSamples:
    def test_logsigmoid_of_the_logits_per_sample(self, fitted, data):
        X, _ = data
        log_probs = fitted.predict_log_proba_samples(X, n_mc_samples=6, random_state=2)
        assert log_probs.shape == (200, 6, 4) and log_probs.dtype == np.float32
        assert (log_probs <= 0).all()
        # the same array through the sampling entry point
        np.testing.assert_array_equal(
            predict_multilabel_log_proba_samples(fitted, X, 6, random_state=2),
            log_probs,
        )
        # samples differ (dropout), and a seed repeats them
        assert np.ptp(log_probs, axis=1).max() > 1e-3
        np.testing.assert_array_equal(
            fitted.predict_log_proba_samples(X, n_mc_samples=6, random_state=2),
            log_probs,
        )

    def test_consistent_masks_across_chunks_and_order(self, fitted, data):
        X, _ = data
        whole = fitted.predict_log_proba_samples(X, n_mc_samples=5, random_state=3)
        chunks = np.concatenate(
            [
                fitted.predict_log_proba_samples(
                    X[i : i + 37], n_mc_samples=5, random_state=3
                )
                for i in range(0, 200, 37)
            ]
        )
        np.testing.assert_array_equal(chunks, whole)
        reversed_ = fitted.predict_log_proba_samples(
            X[::-1], n_mc_samples=5, random_state=3
        )
        np.testing.assert_allclose(reversed_[::-1], whole, atol=1e-6)

    @pytest.mark.slow  # joblib's worker processes start in seconds
    def test_n_jobs_shards_draw_the_same_samples(self, fitted):
        X = np.random.default_rng(1).normal(size=(600, 4)).astype(np.float32)
        batch_size = fitted.batch_size
        fitted.set_params(batch_size=64)  # several batches: several shards
        try:
            one = fitted.predict_log_proba_samples(X, n_mc_samples=5, random_state=1)
            two = fitted.predict_log_proba_samples(
                X, n_mc_samples=5, random_state=1, n_jobs=2
            )
        finally:
            fitted.set_params(batch_size=batch_size)
        np.testing.assert_array_equal(two, one)

    def test_unfitted(self, data):
        with pytest.raises(NotFittedError):
            net().predict_log_proba_samples(data[0])


class TestBadInput:
    @pytest.mark.parametrize(
        ("make_y", "match"),
        [
            (lambda Y: Y[:, 0], r"shape \(n_samples, n_labels\).*MCDropoutClassifier"),
            (lambda Y: Y * 2, r"0 or 1 only.*\[2\]"),
            (lambda Y: np.where(Y == 1, 1, -1), r"0 or 1 only.*\{-1, 1\}"),
            (lambda Y: np.where(Y == 1, np.nan, 0.0), "NaN in"),
            (lambda Y: Y.astype(str), "MultiLabelBinarizer"),
            (lambda Y: Y[:, :0], "at least one label column"),
        ],
    )
    def test_targets(self, data, make_y, match):
        X, Y = data
        with pytest.raises(ValueError, match=match):
            net(max_epochs=1).fit(X[:40], make_y(Y[:40]))

    def test_label_sets_point_to_the_binarizer(self, data):
        X, _ = data
        with pytest.raises(ValueError, match="MultiLabelBinarizer"):
            net(max_epochs=1).fit(X[:3], [["cat"], ["dog", "cat"], []])

    def test_the_number_of_labels_cannot_change(self, data):
        X, Y = data
        clf = net(max_epochs=1).fit(X[:40], Y[:40])
        with pytest.raises(ValueError, match=r"3 label columns.*fitted on 4"):
            clf.partial_fit(X[:40], Y[:40, :3])
        warm = net(max_epochs=1, warm_start=True).fit(X[:40], Y[:40])
        with pytest.raises(ValueError, match=r"3 label columns.*fitted on 4"):
            warm.fit(X[:40], Y[:40, :3])
        # fit starts over
        assert clf.fit(X[:40], Y[:40, :3]).classes_.tolist() == [0, 1, 2]

    def test_classes_is_refused(self, data):
        X, Y = data
        with pytest.raises(ValueError, match=r"classes=.*columns of y"):
            net(max_epochs=1, classes=[0, 1]).fit(X[:40], Y[:40])
        clf = net(max_epochs=1).fit(X[:40], Y[:40])
        with pytest.raises(ValueError, match="classes is not used"):
            clf.partial_fit(X[:40], Y[:40], classes=[0, 1])

    def test_other_criterion(self, data):
        X, Y = data
        with pytest.raises(ValueError, match=r"criterion=torch.nn.BCEWithLogitsLoss"):
            net(max_epochs=1, criterion=torch.nn.CrossEntropyLoss).fit(X[:40], Y[:40])

    def test_module_with_the_wrong_number_of_outputs(self, data):
        X, Y = data
        with pytest.raises(ValueError, match="module__n_classes=4"):
            net(max_epochs=1, module__n_classes=3).fit(X[:40], Y[:40])

    def test_single_label_classifier_names_this_one(self, data):
        X, Y = data
        single = MCDropoutClassifier(BayesianMLP, module__n_features=4, verbose=0)
        with pytest.raises(ValueError, match="MCDropoutMultiLabelClassifier"):
            single.fit(X[:40], Y[:40])


@pytest.mark.parametrize(
    "check",
    [check_parameters_default_constructible, check_get_params_invariance],
    ids=lambda c: c.__name__,
)
def test_scikit_learn_checks_that_need_no_fit(check):
    check("MCDropoutMultiLabelClassifier", net())


class _TwoOutputs(torch.nn.Module):
    """``(logits, features)``: several outputs, as skorch allows."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(0.2)
        )
        self.out = torch.nn.Linear(16, 4)

    def forward(self, x):
        features = self.body(x)
        return self.out(features), features


def test_tuple_outputs_name_the_get_loss_recipe(data):
    X, Y = data
    net = MCDropoutMultiLabelClassifier(_TwoOutputs, max_epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"tuple of 2 outputs.*y_pred\[0\]"):
        net.fit(X[:40], Y[:40])
