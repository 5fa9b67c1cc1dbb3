"""Class weights of the heads: by label or by position, and Laplace's posterior
of the weighted loss."""

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import check_class_weight_classifiers

from skbatchbald.heads import DeepEnsembleClassifier, LaplaceHeadClassifier

HEADS = {
    "ensemble": lambda **kw: DeepEnsembleClassifier(
        **{"n_members": 3, "max_epochs": 20, "random_state": 0, **kw}
    ),
    "laplace": lambda **kw: LaplaceHeadClassifier(
        **{"max_epochs": 20, "random_state": 0, **kw}
    ),
    "laplace-kron": lambda **kw: LaplaceHeadClassifier(
        **{"hessian_structure": "kron", "max_epochs": 20, "random_state": 0, **kw}
    ),
}


@pytest.fixture(scope="module")
def rare(blobs):
    """Class 2 has 3 rows of 43."""
    X, y = blobs
    keep = np.r_[np.flatnonzero(y != 2), np.flatnonzero(y == 2)[:3]]
    return X[keep], y[keep]


@pytest.mark.parametrize("name", sorted(HEADS))
def test_a_weight_by_label_trains_as_skorchs_weight_by_position(rare, pool, name):
    X, y = rare
    by_label = HEADS[name](class_weight={2: 5.0}).fit(X, y)
    by_position = HEADS[name](criterion__weight=[1.0, 1.0, 5.0]).fit(X, y)
    unweighted = HEADS[name]().fit(X, y)
    samples = [
        head.predict_log_proba_samples(pool, random_state=0)
        for head in (by_label, by_position, unweighted)
    ]
    np.testing.assert_array_equal(samples[0], samples[1])
    assert np.abs(samples[0] - samples[2]).max() > 1e-3


def test_balanced_weights_are_computed_from_the_labels(rare):
    X, y = rare
    head = HEADS["ensemble"](class_weight="balanced", max_epochs=1).fit(X, y)
    counts = np.bincount(y)
    np.testing.assert_allclose(
        head.criterion_.weight.numpy(), len(y) / (3 * counts), rtol=1e-6
    )


def _features(head, X):
    with torch.no_grad():
        phi = head.module_.features(torch.as_tensor(X, dtype=torch.float32))
        phi = (phi[:, 0] if phi.dim() == 3 else phi).double().numpy()
    return np.hstack([phi, np.ones((len(phi), 1))])


def test_laplace_precision_is_the_hessian_of_the_weighted_map_loss(rare):
    X, y = rare
    weights = {0: 0.5, 1: 1.0, 2: 4.0}
    head = LaplaceHeadClassifier(
        prior_precision=0.7, class_weight=weights, max_epochs=20, random_state=0
    ).fit(X, y)
    phi = torch.as_tensor(_features(head, X))
    target = torch.as_tensor(y)
    row_weights = torch.as_tensor([weights[label] for label in y.tolist()])

    def loss(w):  # Σ_n r_n CE(φ_n W, y_n) + λ/2 |W|², W read row-major
        logits = phi @ w.reshape(phi.shape[1], 3)
        ce = torch.nn.functional.cross_entropy(logits, target, reduction="none")
        return (row_weights * ce).sum() + 0.7 / 2 * (w**2).sum()

    w_map = torch.as_tensor(head.last_layer_map_.reshape(-1))
    hessian = torch.autograd.functional.hessian(loss, w_map).numpy()
    np.testing.assert_allclose(head.posterior_precision_, hessian, atol=1e-8)


def test_laplace_marglik_uses_the_weighted_likelihood(rare):
    X, y = rare
    # doubling every weight doubles the likelihood and the curvature: as if
    # each row were given twice, the evidence prefers another prior
    once = LaplaceHeadClassifier(max_epochs=20, random_state=0).fit(X, y)
    twice = LaplaceHeadClassifier(
        class_weight={0: 2.0, 1: 2.0, 2: 2.0}, max_epochs=20, random_state=0
    ).fit(X, y)
    doubled = LaplaceHeadClassifier(max_epochs=20, random_state=0).fit(
        np.repeat(X, 2, axis=0), np.repeat(y, 2)
    )
    assert twice.prior_precision_ != pytest.approx(once.prior_precision_, rel=1e-3)
    assert twice.prior_precision_ == pytest.approx(doubled.prior_precision_, rel=0.2)


@pytest.mark.parametrize("name", ["ensemble", "laplace"])
def test_positional_weights_with_unsorted_classes_are_refused(rare, name):
    X, y = rare
    head = HEADS[name](classes=[2, 0, 1], criterion__weight=[5.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="classes_ holds the labels sorted"):
        head.fit(X, y)
    with pytest.raises(ValueError, match="both class_weight and criterion__weight"):
        HEADS[name](class_weight={2: 5.0}, criterion__weight=[1, 1, 5]).fit(X, y)


@pytest.mark.parametrize("head", [DeepEnsembleClassifier, LaplaceHeadClassifier])
def test_scikit_learns_class_weight_check_passes_with_the_defaults(head):
    # class_weight={0: 1000, 1: 0.0001, ...} must make class 0 most predictions
    check_class_weight_classifiers(head.__name__, head(random_state=0))


@pytest.mark.parametrize("name", ["ensemble", "laplace"])
def test_a_refused_class_weight_keeps_the_fitted_heads(rare, pool, name):
    X, y = rare
    head = HEADS[name]().fit(X, y)
    before = head.predict_log_proba_samples(pool, random_state=0)
    head.set_params(class_weight={7: 2.0})
    with pytest.raises(ValueError, match="which are not classes"):
        head.fit(X, y)
    np.testing.assert_array_equal(
        head.predict_log_proba_samples(pool, random_state=0), before
    )


def test_a_criterion_without_class_weights_is_refused(rare):
    X, y = rare

    class PerRow(torch.nn.Module):
        def forward(self, logits, target):
            return torch.nn.functional.cross_entropy(logits, target, reduction="none")

    with pytest.raises(ValueError, match="criterion with a per-class weight"):
        HEADS["laplace"](criterion=PerRow, class_weight={2: 5.0}).fit(X, y)
