"""DeepEnsembleClassifier: its members are distinct samples of one posterior."""

import numpy as np
import pytest
import torch

from skbatchbald.acquisition import mutual_information
from skbatchbald.heads import DeepEnsembleClassifier


def _two_blobs(n, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = np.column_stack([np.where(y == 0, -2.0, 2.0), np.zeros(n)])
    return (X + 0.5 * rng.normal(size=(n, 2))).astype(np.float32), y


@pytest.mark.parametrize("kw", [{}, {"hidden": 8}, {"bootstrap": True}])
def test_members_disagree_far_from_the_data_and_agree_on_it(kw):
    X, y = _two_blobs(40)
    ensemble = DeepEnsembleClassifier(n_members=8, random_state=0, **kw).fit(X, y)
    # the data lie on the first axis; far along the second, nothing was seen
    far = np.column_stack([np.zeros(20), np.linspace(-8, 8, 20)]).astype(np.float32)
    on_data = ensemble.predict_log_proba_samples(X)
    off_data = ensemble.predict_log_proba_samples(far)
    members = np.exp(on_data)
    assert np.ptp(members[:, :, 0], axis=1).max() > 1e-3  # members differ
    assert mutual_information(on_data).mean() < 0.02
    assert mutual_information(off_data).mean() > 3 * mutual_information(on_data).mean()
    assert (ensemble.predict(X) == y).mean() == 1.0


def test_members_start_from_their_own_weights(blobs):
    X, y = blobs
    ensemble = DeepEnsembleClassifier(n_members=4, max_epochs=1, random_state=0)
    weights = ensemble.fit(X, y).module_.weight.detach().numpy()
    for a in range(4):
        for b in range(a):
            assert np.abs(weights[a] - weights[b]).max() > 1e-2


def test_bootstrap_gives_each_member_its_own_resample(blobs):
    X, y = blobs
    ensemble = DeepEnsembleClassifier(n_members=3, bootstrap=True, random_state=0)
    inputs = ensemble._training_inputs(X, 0)
    counts = inputs["member_weights"]
    assert counts.shape == (60, 3)
    np.testing.assert_array_equal(counts.sum(axis=0), [60, 60, 60])
    assert (counts == 0).any(axis=0).all()  # each member leaves rows out
    assert not np.array_equal(counts[:, 0], counts[:, 1])
    # the loss counts each row as often as the member drew it
    fitted = DeepEnsembleClassifier(n_members=2, max_epochs=1).fit(X, y)
    logits = torch.randn(4, 2, 3)
    target = torch.tensor([0, 1, 2, 1])
    weights = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0], [0.0, 0.0]])
    ce = torch.nn.functional.cross_entropy(
        logits.permute(0, 2, 1), target[:, None].expand(4, 2), reduction="none"
    )
    loss = fitted.get_loss(logits, target, X={"X": None, "member_weights": weights})
    torch.testing.assert_close(loss, (ce * weights).sum() / 4)
    torch.testing.assert_close(fitted.get_loss(logits, target), ce.sum() / 4)


def test_n_mc_samples_subsamples_members_without_replacement(blobs, pool):
    X, y = blobs
    ensemble = DeepEnsembleClassifier(n_members=6, max_epochs=10, random_state=0)
    ensemble.fit(X, y)
    every = ensemble.predict_log_proba_samples(pool)
    assert every.shape == (len(pool), 6, 3)
    some = ensemble.predict_log_proba_samples(pool, n_mc_samples=3, random_state=0)
    picked = np.random.default_rng(0).choice(6, 3, replace=False)
    np.testing.assert_array_equal(some, every[:, np.sort(picked)])
    with pytest.raises(ValueError, match="n_mc_samples=7 exceeds the 6 members"):
        ensemble.predict_log_proba_samples(pool, n_mc_samples=7)
    with pytest.raises(ValueError, match="n_mc_samples"):
        ensemble.predict_log_proba_samples(pool, n_mc_samples=0)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_members": 0}, "n_members"),
        ({"n_members": 2.5}, "n_members"),
        ({"hidden": 0}, "hidden"),
        ({"bootstrap": "yes"}, "bootstrap must be True"),
        ({"random_state": -1}, "random_state"),
        ({"max_memory": "lots"}, "max_memory"),
    ],
)
def test_bad_parameters_fail_at_fit(blobs, params, match):
    X, y = blobs
    with pytest.raises((TypeError, ValueError), match=match):
        DeepEnsembleClassifier(**params).fit(X, y)
