"""skorch's habits with the heads: criteria, validation splits, saving and loading."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Checkpoint, EarlyStopping, EpochScoring
from skorch.dataset import Dataset, ValidSplit

from skbatchbald.heads import DeepEnsembleClassifier, LaplaceHeadClassifier
from skbatchbald.heads._posterior import last_layer_ggn

HEADS = [DeepEnsembleClassifier, LaplaceHeadClassifier]


def _head(head_class, **params):
    return head_class(**{"max_epochs": 50, "random_state": 0, **params})


@pytest.mark.parametrize("head_class", HEADS)
@pytest.mark.parametrize("criterion", [torch.nn.NLLLoss, torch.nn.NLLLoss()])
def test_nll_loss_on_logits_is_refused_naming_cross_entropy(
    blobs, pool, head_class, criterion
):
    X, y = blobs
    head = _head(head_class).fit(X, y)
    before = head.predict_proba(pool)
    head.set_params(criterion=criterion)
    with pytest.raises(ValueError, match=r"NLLLoss.*logits.*CrossEntropyLoss"):
        head.fit(X, y)
    np.testing.assert_array_equal(head.predict_proba(pool), before)  # kept


@pytest.mark.parametrize("head_class", HEADS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_a_reduced_criterion_is_refused_before_training(blobs, head_class, reduction):
    X, y = blobs
    head = _head(head_class, criterion__reduction=reduction)
    with pytest.raises(ValueError, match=r"criterion__reduction=.*'none'"):
        head.fit(X, y)
    assert not head.initialized_


def test_a_criterion_that_reduces_by_itself_is_named(blobs):
    X, y = blobs

    class MeanLoss(torch.nn.CrossEntropyLoss):
        def forward(self, logits, target):
            return super().forward(logits, target).mean()

    # one batch of 60 rows, 5 members
    with pytest.raises(ValueError, match=r"shape \(\) for 300 rows.*one loss per row"):
        _head(DeepEnsembleClassifier, criterion=MeanLoss).fit(X, y)


@pytest.mark.parametrize("head_class", HEADS)
@pytest.mark.parametrize(
    "params",
    [
        {"criterion": type("SmoothCE", (torch.nn.CrossEntropyLoss,), {})},
        {"criterion__label_smoothing": 0.1},
        {"class_weight": "balanced"},
    ],
    ids=["subclass", "label_smoothing", "class_weight"],
)
def test_cross_entropy_variants_still_train(blobs, head_class, params):
    X, y = blobs
    head = _head(head_class, **params).fit(X, y)
    assert head.score(X, y) > 0.9


@pytest.mark.parametrize("head_class", HEADS)
def test_a_validation_split_records_valid_scores_and_stops_early(head_class):
    X, y = load_digits(return_X_y=True)
    X, y = (X[:300] / 16).astype(np.float32), y[:300]
    labels = np.array(list("abcdefghij"))[y]  # skorch holds indices, not these
    head = _head(
        head_class,
        max_epochs=500,
        lr=0.05,
        train_split=ValidSplit(5, stratified=True),
        callbacks=[EarlyStopping(patience=3)],
    ).fit(X, labels)
    history = head.history
    assert len(history) < 200  # stopped early (after 81 and 37 epochs)
    assert all(np.isfinite(history[:, "valid_loss"]))
    assert history[0, "valid_acc"] < 0.95 < history[-1, "valid_acc"]
    assert np.mean(head.predict(X) == labels) > 0.95
    assert not {"_in_training", "_split_rows"} & set(vars(head))


def test_valid_acc_is_the_members_mean_on_the_validation_rows(blobs):
    X, y = blobs
    split = ValidSplit(4, stratified=True)
    head = _head(DeepEnsembleClassifier, max_epochs=3, train_split=split).fit(X, y)
    valid = split(Dataset(X, y), y)[1].indices
    with torch.no_grad():
        logits = head.module_(torch.as_tensor(X[valid]))
    mean = torch.softmax(logits, dim=-1).mean(dim=1).argmax(dim=1).numpy()
    assert head.history[-1, "valid_acc"] == pytest.approx(np.mean(mean == y[valid]))


def test_laplace_posterior_comes_from_the_training_split(blobs):
    X, y = blobs
    split = ValidSplit(5, stratified=True)
    head = _head(LaplaceHeadClassifier, prior_precision=2.0, train_split=split)
    head.fit(X, y)
    train = split(Dataset(X, y), y)[0].indices
    assert head._n_train_ == len(train) == 48
    phi = np.hstack([X[train].astype(np.float64), np.ones((len(train), 1))])
    logits = phi @ head.last_layer_map_
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    expected = last_layer_ggn(phi, probs) + 2.0 * np.eye(9 * 3)  # (d + 1) C
    np.testing.assert_allclose(
        head.posterior_precision_, expected, rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize("head_class", HEADS)
def test_predicting_during_fit_is_refused_naming_valid_acc(blobs, head_class):
    X, y = blobs
    head = _head(head_class).fit(X, y)  # a refit holds the last fit's posterior
    head.set_params(
        max_epochs=2,
        train_split=ValidSplit(4),
        callbacks=[EpochScoring("f1_macro", name="valid_f1")],
    )
    with pytest.raises(NotFittedError, match=r"during fit.*valid_acc.*net\.forward"):
        head.fit(X, y)


def test_load_params_into_a_fitted_laplace_head_is_refused(blobs, pool, tmp_path):
    X, y = blobs
    saved = _head(LaplaceHeadClassifier).fit(X, y)
    saved.save_params(f_params=tmp_path / "head.pt")
    head = _head(LaplaceHeadClassifier, max_epochs=2).fit(X[::3], y[::3])
    before = head.predict_proba(pool)
    weights = {k: v.clone() for k, v in head.module_.state_dict().items()}
    with pytest.raises(ValueError, match=r"not its posterior.*pickle"):
        head.load_params(f_params=tmp_path / "head.pt")
    np.testing.assert_array_equal(head.predict_proba(pool), before)
    for name, value in head.module_.state_dict().items():
        torch.testing.assert_close(value, weights[name])
    saved.save_params(f_history=tmp_path / "history.json")
    head.load_params(f_history=tmp_path / "history.json")  # no weights: loaded
    assert len(head.history) == len(saved.history)


def test_load_params_into_a_fitted_ensemble_takes_the_weights(blobs, pool, tmp_path):
    X, y = blobs
    saved = _head(DeepEnsembleClassifier).fit(X, y)
    saved.save_params(f_params=tmp_path / "head.pt")
    head = _head(DeepEnsembleClassifier, max_epochs=2).fit(X[::3], y[::3])
    head.load_params(f_params=tmp_path / "head.pt")
    np.testing.assert_allclose(head.predict_proba(pool), saved.predict_proba(pool))


@pytest.mark.parametrize("head_class", HEADS)
def test_skorch_callbacks_load_weights_during_a_refit(blobs, head_class, tmp_path):
    X, y = blobs
    head = _head(
        head_class,
        max_epochs=30,
        train_split=ValidSplit(4, stratified=True),
        callbacks=[Checkpoint(dirname=str(tmp_path), load_best=True)],
    )
    head.fit(X, y).fit(X, y)  # the refit's Checkpoint loads into a fitted head
    assert head.score(X, y) > 0.9


@pytest.mark.parametrize("head_class", HEADS)
def test_initialize_before_fit_names_its_sizes_and_pickle(head_class):
    with pytest.raises(
        NotFittedError, match=r"module__n_features and module__n_classes.*pickle"
    ):
        head_class().initialize()
    with pytest.raises(NotFittedError, match=r"module__n_classes\. .*pickle"):
        head_class(module__n_features=8).initialize()


@pytest.mark.parametrize(
    "head",
    [DeepEnsembleClassifier(n_members=4), LaplaceHeadClassifier(hidden=16)],
    ids=["ensemble", "laplace"],
)
def test_initialize_with_sizes_builds_the_heads_a_fit_would(blobs, head):
    X, y = blobs
    head.set_params(module__n_features=8, module__n_classes=3).initialize()
    fitted = type(head)(**head.get_params()).set_params(max_epochs=1).fit(X, y)
    assert {k: v.shape for k, v in head.module_.state_dict().items()} == {
        k: v.shape for k, v in fitted.module_.state_dict().items()
    }


@pytest.mark.parametrize("head_class", HEADS)
def test_load_params_before_fit_names_pickle(head_class, tmp_path):
    with pytest.raises(NotFittedError, match=r"builds it at fit.*pickle"):
        head_class().load_params(f_params=tmp_path / "weights.pt")


def test_a_head_pickled_during_fit_is_not_in_training_when_loaded(blobs, tmp_path):
    X, y = blobs
    checkpoint = Checkpoint(
        monitor="train_loss_best",
        f_params=None,
        f_optimizer=None,
        f_criterion=None,
        f_history=None,
        f_pickle="head.pkl",
        dirname=str(tmp_path),
    )
    _head(LaplaceHeadClassifier, callbacks=[checkpoint]).fit(X, y)
    with open(tmp_path / "head.pkl", "rb") as f:
        loaded = pickle.load(f)
    assert not {"_in_training", "_split_rows"} & set(vars(loaded))
