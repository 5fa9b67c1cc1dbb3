"""MCDropoutClassifier's class weights: ``class_weight`` by label, skorch's
``criterion__weight`` by position, and the two never weighing the wrong class."""

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from skbatchbald import MCDropoutClassifier, MCDropoutMultiLabelClassifier
from skbatchbald.nn import BayesianMLP


@pytest.fixture(scope="module")
def rare(digits):
    """200 digits other than 8, and five 8s: one rare class."""
    X, y = digits
    X = (X / 16).astype(np.float32)
    rows = np.r_[np.flatnonzero(y != 8)[:200], np.flatnonzero(y == 8)[:5]]
    return X[rows], y[rows], X, y


def mlp(**kwargs):
    params = {
        "module__n_features": 64,
        "module__hidden_sizes": (32,),
        "max_epochs": 20,
        "verbose": 0,
        "random_state": 0,
    }
    return MCDropoutClassifier(BayesianMLP, **{**params, **kwargs})


def _weights(rare_weight, dtype=np.float32):
    weights = np.ones(10, dtype=dtype)
    weights[8] = rare_weight
    return weights


def test_a_weight_by_label_trains_as_skorchs_weight_by_position(rare):
    X, y, pool, _ = rare
    by_label = mlp(class_weight={8: 10.0}).fit(X, y)
    by_position = mlp(criterion__weight=torch.tensor(_weights(10.0))).fit(X, y)
    unweighted = mlp().fit(X, y)
    np.testing.assert_array_equal(
        by_label.predict_proba(pool), by_position.predict_proba(pool)
    )
    assert np.abs(by_label.predict_proba(pool) - unweighted.predict_proba(pool)).max()
    np.testing.assert_array_equal(by_label.criterion_.weight.numpy(), _weights(10.0))


def test_the_weighted_rare_class_is_recalled(rare):
    X, y, pool, labels = rare
    recall = {
        weight: (
            mlp(class_weight={8: weight}).fit(X, y).predict(pool)[labels == 8] == 8
        )
        .mean()
        .item()
        for weight in (1.0, 10.0)
    }
    assert recall[10.0] > recall[1.0] + 0.3


def test_balanced_weights_follow_each_fits_labels(rare):
    X, y, _, _ = rare
    net = mlp(class_weight="balanced", classes=np.arange(11), max_epochs=1)
    net.fit(X, y)  # 11 classes, 10 present; class 10 has no row
    counts = np.bincount(y, minlength=11)
    expected = np.ones(11)
    expected[:10] = len(y) / (10 * counts[:10])
    np.testing.assert_allclose(net.criterion_.weight.numpy(), expected, rtol=1e-6)
    net.fit(X[:100], y[:100])  # other counts, other weights
    counts = np.bincount(y[:100], minlength=11)
    present = counts > 0
    expected = np.ones(11)
    expected[present] = 100 / (present.sum() * counts[present])
    np.testing.assert_allclose(net.criterion_.weight.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "weight",
    [
        torch.tensor(
            _weights(10.0, np.float64)
        ),  # torch.tensor(compute_class_weight(...))
        _weights(10.0, np.float64),
        _weights(10.0).tolist(),
    ],
    ids=["float64 tensor", "numpy", "list"],
)
def test_criterion_weight_of_any_array_type_trains_as_a_float32_tensor(rare, weight):
    X, y, pool, _ = rare
    expected = mlp(criterion__weight=torch.tensor(_weights(10.0))).fit(X, y)
    net = mlp(criterion__weight=weight).fit(X, y)
    np.testing.assert_array_equal(net.predict_proba(pool), expected.predict_proba(pool))


def test_criterion_weight_with_classes_in_another_order_is_refused(rare):
    X, y, _, _ = rare
    unsorted = [8, 0, 1, 2, 3, 4, 5, 6, 7, 9]
    net = mlp(classes=unsorted, criterion__weight=torch.tensor(_weights(10.0)))
    with pytest.raises(ValueError, match=r"classes_ holds the labels sorted") as error:
        net.fit(X, y)
    assert "class_weight={label: weight}" in str(error.value)
    assert not net.initialized_  # refused before anything was built
    # the same weights by label are fine in any order of classes
    mlp(classes=unsorted, class_weight={8: 10.0}, max_epochs=1).fit(X, y)
    # and sorted classes with positional weights too
    net.set_params(classes=sorted(unsorted), max_epochs=1).fit(X, y)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"class_weight": {8: 2.0}, "criterion__weight": torch.ones(10)},
            "both class_weight and criterion__weight",
        ),
        ({"class_weight": "auto"}, "class_weight must be None, 'balanced'"),
        ({"class_weight": {8: -1.0}}, r"class_weight\[8\] must be a finite real"),
        ({"class_weight": {8: np.nan}}, r"class_weight\[8\] must be a finite real"),
        ({"class_weight": {"eight": 2.0}}, r"names \['eight'\], which are not"),
        ({"criterion__weight": torch.ones(9)}, r"one weight per class.*shape \(9,\)"),
        ({"criterion__weight": -torch.ones(10)}, "finite weights >= 0"),
    ],
)
def test_bad_class_weights_are_refused(rare, params, match):
    X, y, _, _ = rare
    with pytest.raises(ValueError, match=match):
        mlp(max_epochs=1, **params).fit(X, y)


def test_a_warm_fit_without_weights_drops_the_earlier_ones(rare):
    X, y, _, _ = rare
    net = mlp(class_weight={8: 10.0}, warm_start=True, max_epochs=1).fit(X, y)
    assert net.criterion_.weight is not None
    net.set_params(class_weight=None).fit(X, y)
    assert net.criterion_.weight is None


def test_a_criterion_without_class_weights_refuses_class_weight(rare):
    X, y, _, _ = rare

    class Loss(torch.nn.Module):
        def forward(self, logits, target):
            return torch.nn.functional.cross_entropy(logits, target)

    with pytest.raises(ValueError, match=r"criterion with a per-class weight.*Loss"):
        mlp(criterion=Loss, class_weight="balanced", max_epochs=1).fit(X, y)
    mlp(criterion=Loss, max_epochs=1).fit(X, y)  # no weights: its own loss


def test_a_multilabel_classifier_keeps_its_per_label_weight(rare):
    X, y, _, _ = rare
    Y = np.stack([y == 8, y < 5], axis=1).astype(np.float32)
    net = MCDropoutMultiLabelClassifier(
        BayesianMLP,
        module__n_features=64,
        module__n_classes=2,
        max_epochs=1,
        criterion__pos_weight=torch.tensor([5.0, 1.0]),
        random_state=0,
    ).fit(X, Y)
    assert "class_weight" not in net.get_params()
    assert net.criterion_.weight is None
    np.testing.assert_array_equal(net.criterion_.pos_weight.numpy(), [5.0, 1.0])


def test_a_refused_class_weight_keeps_the_fitted_model(rare):
    X, y, pool, _ = rare
    net = mlp(max_epochs=2).fit(X, y)
    before = net.predict_proba(pool)
    net.set_params(class_weight={"eight": 10.0})
    with pytest.raises(ValueError, match="which are not classes"):
        net.fit(X, y)
    np.testing.assert_array_equal(net.predict_proba(pool), before)


def test_weights_count_in_batches_of_one_row(rare):
    # torch's weighted mean, Σ w ℓ / Σ w, cancels a one-row batch's weight
    X, y, pool, _ = rare
    kw = {"batch_size": 1, "max_epochs": 1}
    weighted = mlp(class_weight={8: 10.0}, **kw).fit(X, y).predict_proba(pool)
    unweighted = mlp(**kw).fit(X, y).predict_proba(pool)
    assert np.abs(weighted - unweighted).max() > 1e-3


def test_a_batch_loss_is_the_weighted_sum_over_its_rows(rare):
    X, y, _, _ = rare
    net = mlp(class_weight={8: 10.0, 0: 0.5}, max_epochs=1).fit(X, y)
    logits = torch.randn(6, 10)
    labels = np.array([8, 8, 0, 1, 2, 3])
    loss = net.get_loss(logits, labels)
    weights = np.array([10.0, 10.0, 0.5, 1.0, 1.0, 1.0])
    per_row = torch.nn.functional.cross_entropy(
        logits, torch.as_tensor(labels), reduction="none"
    ).numpy()
    assert loss.item() == pytest.approx(float((weights * per_row).sum() / 6), 1e-6)


def test_a_saved_criterion_loads_into_a_fresh_net(rare, tmp_path):
    # skorch's Checkpoint saves the criterion; weights from class_weight are
    # recomputed at every fit, not saved with it
    X, y, pool, _ = rare
    net = mlp(class_weight={8: 10.0}, classes=np.arange(10), max_epochs=1)
    net.fit(X, y)
    net.save_params(f_params=tmp_path / "p.pt", f_criterion=tmp_path / "c.pt")
    fresh = mlp(class_weight={8: 10.0}, classes=np.arange(10)).initialize()
    fresh.load_params(f_params=tmp_path / "p.pt", f_criterion=tmp_path / "c.pt")
    np.testing.assert_array_equal(
        fresh.predict_proba(pool[:20]), net.predict_proba(pool[:20])
    )


def test_a_dataset_without_y_takes_weights_by_label(rare):
    X, y, _, _ = rare
    dataset = TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    net = mlp(class_weight={8: 10.0}, max_epochs=1).fit(dataset, None)
    np.testing.assert_array_equal(net.criterion_.weight.numpy(), _weights(10.0))
    with pytest.raises(ValueError, match="'balanced' counts the labels"):
        mlp(class_weight="balanced", classes=np.arange(10), max_epochs=1).fit(
            TensorDataset(torch.as_tensor(X)), None
        )


def test_a_dataset_of_three_items_without_weights_gets_skorchs_message(rare):
    # no weights: classes_ is not read before skorch checks the items (a
    # Dataset without labels has none to infer)
    X, _, _, _ = rare
    three = TensorDataset(*(torch.as_tensor(X),) * 3)
    with pytest.raises(ValueError, match="returns 3 values"):
        mlp(train_split=None, max_epochs=1).fit(three, None)
