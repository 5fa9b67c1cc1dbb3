"""MCDropoutClassifier: labels of any type, consistent samples, scikit-learn API."""

import contextlib
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.dataset import ValidSplit
from torch import nn

from skbatchbald import ActiveLearner, MCDropoutClassifier
from skbatchbald.nn import BayesianCNN, BayesianMLP

ATOL = 1e-5  # matrix products may round differently for different batch sizes


def net(module, **kwargs):
    """A small, seeded classifier that learns the blobs in a few epochs."""
    params = {
        "max_epochs": 30,
        "lr": 1e-2,
        "batch_size": 32,
        "iterator_train__shuffle": True,
        "verbose": 0,
        "random_state": 0,
    }
    return MCDropoutClassifier(module, **{**params, **kwargs})


def mlp(**kwargs):
    module_params = {
        "module__n_features": 4,
        "module__n_classes": 3,
        "module__hidden_sizes": (32,),
    }
    return net(BayesianMLP, **{**module_params, **kwargs})


@pytest.fixture(scope="module")
def blobs():
    """Three well separated classes, 4 features, 90 rows."""
    X, y = make_blobs(
        n_samples=90, centers=3, n_features=4, cluster_std=1.5, random_state=0
    )
    return X, y


@pytest.fixture(scope="module")
def fitted(blobs):
    X, y = blobs
    return mlp().fit(X, np.array(["cat", "dog", "emu"])[y])


class BatchNormNet(nn.Module):
    def __init__(self, n_features=4, n_classes=3):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(n_features, 16),
            nn.BatchNorm1d(16),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(16, n_classes),
        )

    def forward(self, x):
        return self.layers(x)


class NoDropoutNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x)


class TestLabelsAndInputs:
    @pytest.mark.parametrize(
        "labels",
        [
            np.array(["spam", "eggs", "ham"]),
            np.array([7, 5, 6]),
            np.array([2, 0, 1], dtype=np.int32),
        ],
        ids=["strings", "567", "int32"],
    )
    @pytest.mark.parametrize("as_input", ["float64", "float32", "dataframe"])
    def test_fit_predict_with_user_labels(self, blobs, labels, as_input):
        X, y = blobs
        X_in = {
            "float64": X,
            "float32": X.astype(np.float32),
            "dataframe": pd.DataFrame(X, columns=list("abcd")),
        }[as_input]
        clf = mlp(max_epochs=15).fit(X_in, labels[y])
        np.testing.assert_array_equal(clf.classes_, np.sort(labels))
        pred = clf.predict(X_in)
        assert pred.dtype == labels.dtype
        # a wrong index -> label mapping would make this ~0.33
        assert np.mean(pred == labels[y]) > 0.9
        assert clf.predict_log_proba_samples(X_in[:5]).shape == (5, 20, 3)

    def test_twenty_labels_fit_with_the_defaults(self, digits):
        X, y = digits
        idx = np.concatenate([np.flatnonzero(y == c)[:2] for c in range(10)])
        clf = MCDropoutClassifier(BayesianMLP, module__n_features=64, verbose=0)
        clf.fit(X[idx] / 16, y[idx])
        assert len(clf.history) == 200  # the default max_epochs, no validation split
        assert "valid_loss" not in clf.history[-1]
        assert isinstance(clf.optimizer_, torch.optim.Adam)
        assert clf.predict_proba(X[:3] / 16).shape == (3, 10)

    def test_missing_classes_with_the_classes_parameter(self, blobs):
        X, y = blobs
        keep = y != 2
        clf = mlp(classes=[0, 1, 2], max_epochs=2).fit(X[keep], y[keep])
        np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
        assert clf.predict_proba(X).shape == (90, 3)

    @pytest.mark.parametrize("classes", [None, list(range(40))])
    def test_a_cold_start_of_many_classes_warns_of_regression_without_classes(
        self, blobs, classes
    ):
        # 30 rows of 20 labels: scikit-learn's "could represent a regression
        # problem", which the classes parameter answers
        X, _ = blobs
        y = np.arange(30) % 20
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            n_classes = 20 if classes is None else len(classes)
            mlp(classes=classes, max_epochs=1, module__n_classes=n_classes).fit(
                X[:30], y
            )
        regression = [w for w in caught if "regression problem" in str(w.message)]
        assert len(regression) >= 1 if classes is None else not regression

    def test_missing_class_without_classes_parameter_explains(self, blobs):
        X, y = blobs
        keep = y != 2
        with pytest.raises(ValueError, match=r"2 classes.*classes=<all labels>"):
            mlp(max_epochs=1).fit(X[keep], y[keep])

    def test_partial_fit_keeps_classes_and_rejects_unknown_labels(self, blobs):
        X, y = blobs
        clf = mlp(max_epochs=1)
        clf.partial_fit(X[:30], y[:30], classes=[0, 1, 2])
        weights = clf.module_.layers[0].weight.detach().clone()
        clf.partial_fit(X[30:], y[30:])
        assert not torch.equal(clf.module_.layers[0].weight, weights)  # trained on
        np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
        with pytest.raises(ValueError, match=r"labels \[9\] that are not in"):
            clf.partial_fit(X[:3], np.array([0, 9, 1]))
        with pytest.raises(ValueError, match=r"labels \['a', 'b'\] that are not in"):
            clf.partial_fit(X[:2], np.array(["a", "b"]))

    @pytest.mark.parametrize(
        ("X", "match"),
        [
            (np.full((4, 4), np.nan), "NaN or infinity"),
            (np.ones(4), r"Reshape your data.*X.reshape\(-1, 1\)"),
            (np.array([["a"] * 4] * 4), "X must be numeric"),
        ],
    )
    def test_bad_X(self, X, match):
        with pytest.raises(ValueError, match=match):
            mlp(max_epochs=1).fit(X, [0, 1, 2, 0])

    def test_bad_y(self, blobs):
        X, _ = blobs
        with pytest.raises(ValueError, match="requires y to be passed"):
            mlp().fit(X, None)
        with pytest.raises(ValueError, match="continuous"):
            mlp().fit(X, np.linspace(0, 1, len(X)))

    def test_wrong_number_of_logits_names_module_parameter(self, blobs):
        X, y = blobs
        with pytest.raises(ValueError, match="module__n_classes=3"):
            mlp(module__n_classes=5, max_epochs=1).fit(X, y)

    def test_wrong_number_of_logits_when_sampling(self, blobs):
        """The check that guards training guards sampling too."""
        X, y = blobs
        clf = mlp(max_epochs=1).fit(X, y)
        clf.module_ = BayesianMLP(n_features=4, n_classes=5)
        message = r"outputs of shape \(\d+, 5\) but there are 3 classes.*n_classes=3"
        with pytest.raises(ValueError, match=message):
            clf.predict_log_proba_samples(X, n_mc_samples=2)


class TestConsistentSamples:
    def test_duplicated_row_identical_everywhere(self, fitted, blobs):
        X = blobs[0].copy()
        positions = [0, 17, 44, 89]
        X[positions] = X[5]
        lp = fitted.predict_log_proba_samples(X, n_mc_samples=10, random_state=0)
        assert lp.shape == (90, 10, 3) and lp.dtype == np.float32
        for i in positions:
            np.testing.assert_allclose(lp[i], lp[5], atol=ATOL, rtol=0)

    @pytest.mark.parametrize("batch_size", [1, 7, -1])
    def test_batch_size_and_row_order_do_not_matter(self, fitted, blobs, batch_size):
        X = blobs[0]
        reference = fitted.predict_log_proba_samples(X, 6, random_state=1)
        net = clone(fitted).set_params(batch_size=batch_size)
        net.initialize().module_.load_state_dict(fitted.module_.state_dict())
        net.classes_inferred_ = fitted.classes_inferred_
        order = np.random.default_rng(0).permutation(len(X))
        shuffled = net.predict_log_proba_samples(X[order], 6, random_state=1)
        np.testing.assert_allclose(shuffled, reference[order], atol=ATOL, rtol=0)

    def test_samples_differ_across_k_and_seeds_repeat(self, fitted, blobs):
        X = blobs[0]
        a = fitted.predict_log_proba_samples(X, 5, random_state=3)
        b = fitted.predict_log_proba_samples(X, 5, random_state=3)
        c = fitted.predict_log_proba_samples(X, 5, random_state=4)
        np.testing.assert_array_equal(a, b)
        assert np.abs(a - c).max() > 1e-3
        for k in range(1, 5):
            assert np.abs(a[:, k] - a[:, 0]).max() > 1e-3

    def test_log_probabilities_are_normalised(self, fitted, blobs):
        lp = fitted.predict_log_proba_samples(blobs[0], 4, random_state=0)
        np.testing.assert_allclose(np.exp(lp).sum(-1), 1.0, atol=1e-5)

    def test_n_mc_samples_defaults_to_the_constructor_value(self, fitted, blobs):
        net = clone(fitted).set_params(n_mc_samples=7)
        net.initialize().module_.load_state_dict(fitted.module_.state_dict())
        net.classes_inferred_ = fitted.classes_inferred_
        assert net.predict_log_proba_samples(blobs[0][:4]).shape == (4, 7, 3)

    def test_plain_dropout_user_module_is_sampled_consistently(self, blobs):
        X, y = blobs
        clf = net(BatchNormNet, max_epochs=3).fit(X, y)
        whole = clf.predict_log_proba_samples(X, 8, random_state=0)
        one = clf.set_params(batch_size=1).predict_log_proba_samples(X, 8, 0)
        np.testing.assert_allclose(one, whole, atol=ATOL, rtol=0)
        assert np.abs(whole[:, 1] - whole[:, 0]).max() > 1e-3
        assert type(clf.module_.layers[3]) is nn.Dropout


class TestSamplingEngine:
    """Folding, memory budget and joblib workers never change the samples."""

    def loop(self, clf, X, n_mc_samples, random_state):
        """The reference: one forward pass of the whole net per sample."""
        from skbatchbald.nn import consistent_dropout

        module = clf.module_
        with (
            torch.no_grad(),
            consistent_dropout(module, n_mc_samples, random_state) as m,
        ):
            out = []
            for k in range(n_mc_samples):
                m.select(k)
                out.append(torch.log_softmax(module(torch.as_tensor(X)), -1))
        return torch.stack(out, 1).numpy()

    def test_dropout_layers_are_checked_once_per_call(self, fitted, blobs, monkeypatch):
        from skbatchbald.classifier import _estimator as classifier
        from skbatchbald.nn import dropout

        calls = []

        def counted(module, *args, **kwargs):
            calls.append(module)
            return real(module, *args, **kwargs)

        real = dropout.active_layers
        monkeypatch.setattr(dropout, "active_layers", counted)
        monkeypatch.setattr(classifier, "active_layers", counted)
        fitted.predict_log_proba_samples(blobs[0][:10].astype(np.float32), 3)
        assert len(calls) == 1

    @pytest.mark.parametrize("max_memory", [None, 50_000, 3_000])
    def test_equal_to_the_per_k_loop_at_any_budget(self, fitted, blobs, max_memory):
        X = blobs[0].astype(np.float32)
        out = fitted.predict_log_proba_samples(
            X, 9, random_state=4, max_memory=max_memory
        )
        np.testing.assert_allclose(out, self.loop(fitted, X, 9, 4), atol=ATOL, rtol=0)

    def test_paper_cnn_equals_the_per_k_loop(self):
        rng = np.random.default_rng(0)
        X = rng.random((24, 64), dtype=np.float32)
        clf = net(
            BayesianCNN,
            module__image_size=8,
            module__kernel_size=3,
            module__padding=1,
            max_epochs=1,
            batch_size=10,
        ).fit(X, np.arange(24) % 10)
        out = clf.predict_log_proba_samples(X, 7, random_state=2)
        images = X.reshape(-1, 1, 8, 8)
        np.testing.assert_allclose(out, self.loop(clf, images, 7, 2), atol=ATOL, rtol=0)

    @pytest.mark.slow  # starts worker processes
    def test_n_jobs_gives_the_same_samples(self, fitted, blobs):
        X = blobs[0]
        one = fitted.predict_log_proba_samples(X, 5, random_state=3)
        two = clone(fitted).set_params(n_jobs=2)
        two.initialize()
        two.module_.load_state_dict(fitted.module_.state_dict())
        two.classes_inferred_ = fitted.classes_inferred_
        np.testing.assert_allclose(
            two.predict_log_proba_samples(X, 5, random_state=3), one, atol=ATOL, rtol=0
        )
        with joblib.parallel_config(backend="threading", n_jobs=3):
            threads = fitted.predict_log_proba_samples(X, 5, random_state=3)
        np.testing.assert_allclose(threads, one, atol=ATOL, rtol=0)

    def test_n_jobs_refuses_a_module_class_the_workers_cannot_import(
        self, fitted, blobs
    ):
        """Refused before any worker starts (joblib: 'failed to un-serialize')."""
        X = blobs[0]
        in_main = type("SmallCNN", (BayesianMLP,), {"__module__": "__main__"})

        class LocalNet(BayesianMLP):
            pass

        for module, where in ((in_main, "in __main__"), (LocalNet, "inside a")):
            net = clone(fitted).set_params(module=module, n_jobs=2)
            net.initialize()
            net.classes_inferred_ = fitted.classes_inferred_
            with pytest.raises(ValueError, match=f"is defined {where}") as error:
                net.predict_log_proba_samples(X, 5, random_state=3)
            assert "importable file" in str(error.value)
            assert "n_jobs=1" in str(error.value)
            assert net.predict_log_proba_samples(X, 5, n_jobs=1).shape == (90, 5, 3)
            with joblib.parallel_config(backend="threading"):  # nothing pickled
                assert net.predict_log_proba_samples(X, 5).shape == (90, 5, 3)

    @pytest.mark.slow  # a fresh interpreter
    def test_n_jobs_with_a_module_defined_in_a_script(self, run_python):
        result = run_python(
            """
            import numpy as np
            from torch import nn
            from skbatchbald import ActiveLearner, MCDropoutClassifier

            class SmallCNN(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.layers = nn.Sequential(
                        nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2)
                    )

                def forward(self, x):
                    return self.layers(x)

            X = np.random.default_rng(0).normal(size=(40, 4))
            net = MCDropoutClassifier(
                SmallCNN, max_epochs=1, batch_size=8, verbose=0
            ).fit(X, np.arange(40) % 2)
            try:
                net.set_params(n_jobs=2).predict_log_proba_samples(X)
            except ValueError as error:
                print(error)
            """
        )
        assert result.returncode == 0, result.stderr
        assert "SmallCNN is defined in __main__" in result.stdout

    def test_a_worker_shard_never_hooks_the_nets_own_module(
        self, fitted, blobs, monkeypatch
    ):
        """A Dask worker may pickle the net, to send it to another worker, while a
        shard samples with it: the pickle carries no dropout hook."""
        from skbatchbald._validation import spawn_seeds
        from skbatchbald.classifier import _estimator as classifier
        from skbatchbald.classifier._shards import sample_shard
        from skbatchbald.nn.dropout import active_layers

        real_masked, pickled = classifier.masked, []

        @contextlib.contextmanager
        def masked_then_pickled(module, n_mc_samples, layer_seeds):
            with real_masked(module, n_mc_samples, layer_seeds) as masks:
                pickled.append(pickle.dumps(fitted))
                yield masks

        monkeypatch.setattr(classifier, "masked", masked_then_pickled)
        X = blobs[0].astype(np.float32)
        names = [name for name, _ in active_layers(fitted.module_, 5)]
        layer_seeds = list(zip(names, spawn_seeds(3, len(names)), strict=True))
        # parent_pid=-1: the shard runs as in a worker process
        out = sample_shard(fitted._sample, X, 5, layer_seeds, 10**8, parent_pid=-1)
        monkeypatch.undo()
        assert len(pickled) == 1
        copy = pickle.loads(pickled[0])
        assert not any(
            m._forward_hooks or m._forward_pre_hooks for m in copy.module_.modules()
        )
        expected = fitted.predict_log_proba_samples(X, 5, random_state=3)
        np.testing.assert_allclose(out, expected, atol=ATOL, rtol=0)
        np.testing.assert_array_equal(
            copy.predict_log_proba_samples(X, 5, random_state=3), expected
        )

    def test_module_that_breaks_folding_warns_once_and_loops(self, blobs):
        X, y = blobs
        clf = net(FixedBatchNet, max_epochs=2).fit(X, y)
        with pytest.warns(RuntimeWarning, match="one forward pass per") as caught:
            out = clf.predict_log_proba_samples(X, 4, random_state=0)
        assert len(caught) == 1
        assert caught[0].filename == __file__  # the user's line
        expected = self.loop(clf, X.astype(np.float32), 4, 0)
        np.testing.assert_allclose(out, expected, atol=ATOL, rtol=0)

    def test_budget_below_one_row_raises(self, fitted, blobs):
        with pytest.raises(ValueError, match="raise max_memory"):
            fitted.predict_log_proba_samples(blobs[0], 4, max_memory=10)

    def test_bad_max_memory_rejected(self, fitted, blobs):
        with pytest.raises(ValueError, match="max_memory must be"):
            fitted.predict_log_proba_samples(blobs[0], 4, max_memory="lots")
        with pytest.raises(ValueError, match="max_memory must be"):
            mlp(max_memory=-1).fit(*blobs)


class FixedBatchNet(nn.Module):
    """Uses the input's batch size after the dropout layer: cannot be folded."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 16)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        h = torch.relu(self.drop(self.fc(x)))
        return self.out(h.reshape(x.shape[0], -1)[:, :16])


class TestModes:
    def test_batchnorm_stats_modes_and_requires_grad_unchanged(self, blobs):
        X, y = blobs
        clf = net(BatchNormNet, max_epochs=3).fit(X, y)
        module = clf.module_.train()
        module.layers[0].bias.requires_grad_(False)
        stats = {k: v.clone() for k, v in module.layers[1].state_dict().items()}
        grads = {n: p.requires_grad for n, p in module.named_parameters()}
        clf.predict_log_proba_samples(X, 5, random_state=0)
        for key, value in stats.items():
            assert torch.equal(module.layers[1].state_dict()[key], value), key
        assert all(m.training for m in module.modules())
        assert {n: p.requires_grad for n, p in module.named_parameters()} == grads

    def test_samples_use_running_statistics(self, blobs):
        # in train mode BatchNorm would normalise each batch by its own statistics,
        # so one row alone would give a different result from the whole pool
        X, y = blobs
        clf = net(BatchNormNet, max_epochs=3).fit(X, y)
        whole = clf.predict_log_proba_samples(X, 3, random_state=0)
        first = clf.predict_log_proba_samples(X[:2], 3, random_state=0)
        np.testing.assert_allclose(first, whole[:2], atol=ATOL, rtol=0)


class TestPredict:
    def test_predict_proba_is_the_mc_average(self, fitted, blobs):
        X = blobs[0]
        net = clone(fitted).set_params(random_state=5, n_mc_samples=9)
        net.initialize().module_.load_state_dict(fitted.module_.state_dict())
        net.classes_inferred_ = fitted.classes_inferred_
        samples = net.predict_log_proba_samples(X, random_state=net.prediction_seed_)
        proba = net.predict_proba(X)
        np.testing.assert_allclose(proba, np.exp(samples).mean(1), atol=1e-6)
        np.testing.assert_array_equal(
            net.predict(X), net.classes_[proba.argmax(axis=1)]
        )

    def test_mc_predict_false_is_the_deterministic_net(self, fitted, blobs):
        X = blobs[0]
        net = clone(fitted).set_params(mc_predict=False)
        net.initialize().module_.load_state_dict(fitted.module_.state_dict())
        net.classes_inferred_ = fitted.classes_inferred_
        with torch.no_grad():
            logits = net.module_.eval()(torch.as_tensor(X, dtype=torch.float32))
        expected = torch.softmax(logits, -1).numpy()
        np.testing.assert_allclose(net.predict_proba(X), expected, atol=1e-6)
        assert not np.allclose(fitted.predict_proba(X), expected, atol=1e-3)

    def test_probability_output_with_nll_loss(self, blobs):
        X, y = blobs

        class SoftmaxNet(nn.Module):
            def __init__(self):
                super().__init__()
                self.mlp = BayesianMLP(n_features=4, n_classes=3)

            def forward(self, x):
                return torch.softmax(self.mlp(x), dim=-1)

        clf = net(SoftmaxNet, criterion=nn.NLLLoss, max_epochs=3).fit(X, y)
        lp = clf.predict_log_proba_samples(X, 4, random_state=0)
        np.testing.assert_allclose(np.exp(lp).sum(-1), 1.0, atol=1e-5)

    def test_logits_without_nonlinearity_rejected(self, blobs):
        X, y = blobs
        clf = mlp(predict_nonlinearity=None, max_epochs=1).fit(X, y)
        with pytest.raises(ValueError, match="not probabilities"):
            clf.predict_log_proba_samples(X, 2, random_state=0)


class TestErrors:
    @pytest.mark.parametrize(
        "method", ["predict", "predict_proba", "predict_log_proba_samples"]
    )
    def test_unfitted_raises_not_fitted_error(self, blobs, method):
        with pytest.raises(NotFittedError):
            getattr(mlp(), method)(blobs[0])

    def test_module_without_dropout(self, blobs):
        # Sampling refuses (acquisition would see K identical samples);
        # predict_proba is then the deterministic net, exactly the MC average.
        X, y = blobs
        clf = net(NoDropoutNet, max_epochs=1).fit(X, y)
        with pytest.raises(ValueError, match=r"identical.*mc_predict=False"):
            clf.predict_log_proba_samples(X)
        with pytest.warns(UserWarning, match="no dropout layer") as caught:
            proba = clf.predict_proba(X)
        assert caught[0].filename == __file__  # the user's line
        learner = ActiveLearner(clone(clf), X_training=X, y_training=y)
        with pytest.warns(UserWarning, match="no dropout layer") as caught:
            learner.predict_proba(X)  # through modAL's inherited method
        assert caught[0].filename == __file__
        deterministic = clf.set_params(mc_predict=False)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.testing.assert_array_equal(deterministic.predict_proba(X), proba)

    @pytest.mark.parametrize(
        ("n_mc_samples", "error"),
        [(0, ValueError), (-3, ValueError), (2.0, TypeError), (True, TypeError)],
    )
    def test_bad_n_mc_samples(self, fitted, blobs, n_mc_samples, error):
        with pytest.raises(error, match="n_mc_samples must be a positive int"):
            fitted.predict_log_proba_samples(blobs[0], n_mc_samples)

    @pytest.mark.parametrize(
        ("params", "match"),
        [
            ({"n_mc_samples": 0}, "n_mc_samples must be a positive int"),
            ({"mc_predict": "yes"}, "mc_predict must be True"),
        ],
    )
    def test_bad_parameters_rejected_at_fit(self, blobs, params, match):
        with pytest.raises(ValueError, match=match):
            mlp(**params).fit(*blobs)

    def test_bad_random_state(self, blobs):
        with pytest.raises(TypeError, match="random_state must be"):
            mlp(random_state="seed").fit(*blobs)


class TestScikitLearn:
    def test_get_params_set_params_and_clone(self):
        clf = mlp(n_mc_samples=11)
        params = clf.get_params()
        assert params["n_mc_samples"] == 11
        assert params["mc_predict"] is True
        assert params["module__hidden_sizes"] == (32,)
        assert params["train_split"] is None
        assert params["criterion"] is nn.CrossEntropyLoss
        clf.set_params(n_mc_samples=4, module__hidden_sizes=(8, 8))
        twin = clone(clf)
        assert twin.get_params()["n_mc_samples"] == 4
        assert twin.get_params()["module__hidden_sizes"] == (8, 8)
        assert twin is not clf

    def test_max_memory_and_n_jobs_are_parameters_kept_by_clone(self):
        clf = mlp(max_memory="256MB", n_jobs=2)
        assert clf.get_params()["max_memory"] == "256MB"
        twin = clone(clf)
        assert (twin.max_memory, twin.n_jobs) == ("256MB", 2)
        assert (mlp().max_memory, mlp().n_jobs) == (None, None)

    def test_set_params_module_parameter_reaches_the_module(self, blobs):
        clf = mlp(max_epochs=1).set_params(module__hidden_sizes=(8, 5)).fit(*blobs)
        widths = [
            m.out_features for m in clf.module_.modules() if hasattr(m, "out_features")
        ]
        assert widths == [8, 5, 3]

    def test_fit_is_reproducible_and_leaves_the_global_rng(self, blobs):
        state = torch.get_rng_state()
        a = mlp(max_epochs=3).fit(*blobs)
        b = clone(a).fit(*blobs)
        assert torch.equal(torch.get_rng_state(), state)
        for pa, pb in zip(a.module_.parameters(), b.module_.parameters(), strict=True):
            assert torch.equal(pa, pb)
        np.testing.assert_array_equal(
            a.predict_proba(blobs[0]), b.predict_proba(blobs[0])
        )

    def test_pipeline_with_scaler(self, blobs):
        X, y = blobs
        pipe = make_pipeline(StandardScaler(), mlp(max_epochs=15))
        pipe.fit(X * 100 + 5, np.array(["a", "b", "c"])[y])
        assert np.mean(pipe.predict(X * 100 + 5) == np.array(["a", "b", "c"])[y]) > 0.9
        assert pipe.predict_proba(X[:4]).shape == (4, 3)

    def test_grid_search_over_n_mc_samples_and_a_module_parameter(self, blobs):
        grid = GridSearchCV(
            mlp(max_epochs=5),
            {"n_mc_samples": [2, 5], "module__p": [0.1, 0.5]},
            cv=2,
        ).fit(*blobs)
        assert len(grid.cv_results_["params"]) == 4
        assert grid.best_estimator_.n_mc_samples in (2, 5)
        assert grid.best_estimator_.module_.layers[2].p in (0.1, 0.5)
        assert grid.best_score_ > 0.8

    def test_cross_val_score(self, blobs):
        scores = cross_val_score(mlp(max_epochs=10), *blobs, cv=3)
        assert scores.shape == (3,) and scores.min() > 0.8

    def test_pickle_round_trip_gives_the_same_samples(self, fitted, blobs):
        X = blobs[0]
        loaded = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(
            loaded.predict_log_proba_samples(X, 5, random_state=2),
            fitted.predict_log_proba_samples(X, 5, random_state=2),
        )
        np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
        assert list(loaded.classes_) == ["cat", "dog", "emu"]

    def test_validation_accuracy_with_string_labels(self, blobs):
        X, y = blobs
        clf = mlp(train_split=ValidSplit(3, stratified=True), max_epochs=15)
        clf.fit(X, np.array(["cat", "dog", "emu"])[y])
        # skorch's default scorer compares string predictions with encoded
        # targets and reports 0; ours compares indices
        assert clf.history[-1, "valid_acc"] > 0.9


@pytest.mark.slow
def test_paper_cnn_learns_digits_8x8(digits):
    """The paper's MNIST architecture reaches > 90 % on digits from 300 labels."""
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16, y, train_size=300, stratify=y, random_state=0
    )
    clf = MCDropoutClassifier(
        BayesianCNN,
        module__image_size=8,
        module__kernel_size=3,
        module__padding=1,
        max_epochs=40,
        lr=3e-3,
        batch_size=32,
        iterator_train__shuffle=True,
        verbose=0,
        random_state=0,
    ).fit(X_train, y_train)
    assert np.mean(clf.predict(X_test) == y_test) > 0.9
