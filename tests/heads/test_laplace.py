"""LaplaceHeadClassifier: the Hessian, the posterior and its draws."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from skbatchbald.heads import DeepEnsembleClassifier, LaplaceHeadClassifier, _laplace
from skbatchbald.heads._predictive import logit_variances


def _features(head, X):
    with torch.no_grad():
        phi = head.module_.features(torch.as_tensor(X, dtype=torch.float32))
        phi = (phi[:, 0] if phi.dim() == 3 else phi).double().numpy()
    return np.hstack([phi, np.ones((len(phi), 1))])


@pytest.mark.parametrize("hidden", [None, 4])
def test_precision_is_autograds_hessian_of_the_map_loss(blobs, hidden):
    X, y = blobs
    X, y = X[::4], y[::4]  # 15 rows: a tiny case
    head = LaplaceHeadClassifier(
        hidden=hidden, prior_precision=0.7, max_epochs=20, random_state=0
    ).fit(X, y)
    phi = torch.as_tensor(_features(head, X))
    target = torch.as_tensor(y)

    def loss(w):  # Σ_n CE(φ_n W, y_n) + λ/2 |W|², W read row-major
        logits = phi @ w.reshape(phi.shape[1], 3)
        ce = torch.nn.functional.cross_entropy(logits, target, reduction="sum")
        return ce + 0.7 / 2 * (w**2).sum()

    w_map = torch.as_tensor(head.last_layer_map_.reshape(-1))
    hessian = torch.autograd.functional.hessian(loss, w_map).numpy()
    assert (
        head.posterior_precision_.shape
        == hessian.shape
        == (
            phi.shape[1] * 3,
            phi.shape[1] * 3,
        )
    )
    np.testing.assert_allclose(head.posterior_precision_, hessian, atol=1e-8)
    chol = head.posterior_cholesky_
    np.testing.assert_allclose(chol @ chol.T, hessian, atol=1e-8)
    # one P x P matrix is kept, not two: H is computed from L when read
    kept = [v for v in vars(head).values() if np.shape(v) == hessian.shape]
    assert len(kept) == 1 and kept[0] is chol


def test_last_layer_map_is_the_modules_weights(blobs):
    X, y = blobs
    head = LaplaceHeadClassifier(max_epochs=5, random_state=0).fit(X, y)
    np.testing.assert_allclose(
        head.last_layer_map_[:-1], head.module_.weight[0].detach().numpy(), atol=1e-6
    )
    np.testing.assert_allclose(
        head.last_layer_map_[-1], head.module_.bias[0].detach().numpy(), atol=1e-6
    )


def test_ggn_of_one_row_in_closed_form():
    # One row, φ = (2, 1), p = (1/2, 1/2): the GGN is φφᵀ ⊗ [[1/4, -1/4],
    # [-1/4, 1/4]] (W read row-major). A confident p (one-hot) adds nothing.
    from skbatchbald.heads._posterior import last_layer_ggn

    phi = np.array([[2.0, 1.0]])
    p = np.array([[0.5, 0.5]])
    expected = np.kron(np.outer(phi[0], phi[0]), [[0.25, -0.25], [-0.25, 0.25]])
    np.testing.assert_allclose(last_layer_ggn(phi, p), expected)
    one_hot = np.array([[1.0, 0.0]])
    np.testing.assert_allclose(last_layer_ggn(phi, one_hot), 0.0)


def test_weight_draws_have_the_posterior_covariance(blobs):
    X, y = blobs
    head = LaplaceHeadClassifier(
        max_epochs=20, prior_precision=2.0, random_state=0
    ).fit(X[:, :2], y)  # P = 3 * 3 = 9 weights
    draws = head._draw(40_000, np.random.default_rng(0)).double().numpy()
    flat = draws.reshape(len(draws), -1)
    covariance = np.linalg.inv(head.posterior_precision_)
    np.testing.assert_allclose(
        flat.mean(axis=0), head.last_layer_map_.reshape(-1), atol=0.05
    )
    np.testing.assert_allclose(np.cov(flat.T), covariance, atol=0.03 * covariance.max())


def test_posterior_shrinks_as_labels_grow():
    rng = np.random.default_rng(0)
    centers = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.0]])
    # The variance of a logit difference at a fixed point: the direction that
    # adds a constant to every logit is left to the prior, whatever the data.
    phi = np.array([0.5, 0.5, 1.0])
    contrast = np.kron(phi, [1.0, -1.0, 0.0])
    variances = []
    for n in (15, 60, 240):
        y = np.arange(n) % 3
        X = centers[y] + rng.normal(size=(n, 2))
        head = LaplaceHeadClassifier(max_epochs=50, random_state=0).fit(X, y)
        covariance = np.linalg.inv(head.posterior_precision_)
        variances.append(contrast @ covariance @ contrast)
    assert variances[0] > variances[1] > variances[2]
    assert variances[2] < variances[0] / 4  # 16 times the labels


def test_marglik_maximises_the_evidence(blobs):
    from skbatchbald.heads._posterior import log_likelihood

    X, y = blobs
    head = LaplaceHeadClassifier(
        prior_precision="marglik", max_epochs=30, random_state=0
    ).fit(X, y)
    assert head.prior_precision != head.prior_precision_
    phi = _features(head, X)
    w = head.last_layer_map_
    ggn = head.posterior_precision_ - head.prior_precision_ * np.eye(len(w.reshape(-1)))
    fit = log_likelihood(phi, w, y)

    def evidence(lam):
        _, logdet = np.linalg.slogdet(ggn + lam * np.eye(len(ggn)))
        return fit - lam / 2 * np.sum(w**2) + w.size / 2 * np.log(lam) - logdet / 2

    best = evidence(head.prior_precision_)
    for factor in (0.5, 0.9, 1.1, 2.0):
        assert best >= evidence(head.prior_precision_ * factor)


def test_prior_precision_is_validated(blobs):
    X, y = blobs
    for bad in (0.0, -1.0, np.inf, "auto", True):
        with pytest.raises(ValueError, match="prior_precision must be a finite real"):
            LaplaceHeadClassifier(prior_precision=bad).fit(X, y)


def test_stronger_prior_gives_a_narrower_posterior(blobs):
    X, y = blobs
    spreads = [
        np.trace(
            np.linalg.inv(
                LaplaceHeadClassifier(
                    prior_precision=lam, max_epochs=30, random_state=0
                )
                .fit(X, y)
                .posterior_precision_
            )
        )
        for lam in (0.1, 10.0)
    ]
    assert spreads[0] > spreads[1]


def test_kron_factors_are_exact_for_one_row():
    from skbatchbald.heads._posterior import kron_factors, last_layer_ggn

    rng = np.random.default_rng(0)
    phi = np.hstack([rng.normal(size=(1, 4)), np.ones((1, 1))])
    p = np.array([[0.2, 0.5, 0.3]])
    np.testing.assert_allclose(
        np.kron(*kron_factors(phi, p)), last_layer_ggn(phi, p), atol=1e-12
    )


def test_kron_draws_have_the_kron_posterior_covariance(blobs):
    X, y = blobs
    head = LaplaceHeadClassifier(
        hessian_structure="kron", prior_precision=2.0, max_epochs=20, random_state=0
    ).fit(X[:, :2], y)
    assert not hasattr(head, "posterior_precision_")
    a, b = head.kron_factors_
    phi = _features(head, X[:, :2])
    np.testing.assert_allclose(a, phi.T @ phi, rtol=1e-6)
    covariance = np.linalg.inv(np.kron(a, b) + 2.0 * np.eye(9))
    draws = head._draw(40_000, np.random.default_rng(0)).double().numpy()
    flat = draws.reshape(len(draws), -1)
    np.testing.assert_allclose(
        flat.mean(axis=0), head.last_layer_map_.reshape(-1), atol=0.05
    )
    np.testing.assert_allclose(np.cov(flat.T), covariance, atol=0.03 * covariance.max())


def test_switching_structure_keeps_nothing_of_the_other(blobs):
    X, y = blobs
    head = LaplaceHeadClassifier(max_epochs=5, random_state=0).fit(X, y)
    head.set_params(hessian_structure="kron").fit(X, y)
    assert not hasattr(head, "posterior_cholesky_")
    head.set_params(hessian_structure="full").fit(X, y)
    assert not hasattr(head, "kron_factors_")
    with pytest.raises(ValueError, match="hessian_structure must be 'full'"):
        head.set_params(hessian_structure="diag").fit(X, y)


def test_a_full_posterior_larger_than_memory_is_refused_before_training(
    blobs, monkeypatch
):
    X, y = blobs  # P = (D + 1) C; four P x P float64 matrices and an N x P
    n_weights = (X.shape[1] + 1) * len(np.unique(y))
    needed = 8 * (4 * n_weights**2 + len(X) * n_weights)
    monkeypatch.setattr(_laplace, "_available_memory", lambda: needed - 1)
    head = LaplaceHeadClassifier(max_epochs=5, random_state=0)
    with pytest.raises(ValueError, match="hessian_structure='kron'") as caught:
        head.fit(X, y)
    assert f"four {n_weights} x {n_weights} float64" in str(caught.value)
    assert not hasattr(head, "module_")  # nothing trained
    head.set_params(hessian_structure="kron").fit(X, y)  # its factors are small
    monkeypatch.setattr(_laplace, "_available_memory", lambda: needed)
    head.set_params(hessian_structure="full").fit(X, y)
    assert head.posterior_precision_.shape == (n_weights, n_weights)


@pytest.mark.parametrize("structure", ["full", "kron"])
def test_logit_variances_are_those_of_the_weight_draws(blobs, pool, structure):
    # the probit predictive's σ²_c(x) against 40,000 drawn weight matrices
    X, y = blobs
    head = LaplaceHeadClassifier(
        hessian_structure=structure, max_epochs=30, random_state=0
    ).fit(X, y)
    phi = _features(head, pool[:20])
    if structure == "full":
        variances = logit_variances(phi, covariances=head.class_covariances_)
    else:
        posterior = (*head.kron_eigen_, head.prior_precision_)
        variances = logit_variances(phi, kron=posterior)
    weights = head._draw(40_000, np.random.default_rng(0)).double().numpy()
    logits = np.einsum("nd,kdc->nkc", phi, weights)
    # the sample variance of 40,000 Gaussian draws is within 2 % (3 s.e.)
    np.testing.assert_allclose(variances, logits.var(axis=1), rtol=0.03)


def test_predict_proba_is_the_probit_of_the_logit_moments(blobs, pool):
    X, y = blobs
    head = LaplaceHeadClassifier(max_epochs=30, random_state=0).fit(X, y)
    phi = _features(head, pool)
    mean = phi @ head.last_layer_map_
    variances = logit_variances(phi, covariances=head.class_covariances_)
    scaled = mean / np.sqrt(1 + np.pi / 8 * variances)
    expected = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(head.predict_proba(pool), expected, atol=1e-5)
    # chunking does not change it
    head.set_params(max_memory=500)
    np.testing.assert_allclose(head.predict_proba(pool), expected, atol=1e-5)


def test_default_head_predicts_as_well_as_its_map_on_unnormalised_embeddings():
    # Embeddings of norm ~14, 50 labels: with λ = 1 the posterior is nearly
    # the prior along unlabelled directions, and the mean of 20 draws
    # predicted a third of the rows right where the MAP gets 95 %.
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(10, 64))
    y = rng.integers(0, 10, 3_000)
    X = (centers[y] + 1.5 * rng.normal(size=(3_000, 64))).astype(np.float32)
    head = LaplaceHeadClassifier(random_state=0).fit(X[:50], y[:50])
    phi = _features(head, X[50:])
    map_accuracy = ((phi @ head.last_layer_map_).argmax(axis=1) == y[50:]).mean()
    assert map_accuracy > 0.9
    assert head.score(X[50:], y[50:]) >= map_accuracy - 0.02
    assert head.prior_precision_ > 2  # tuned: the prior was too wide here


@pytest.mark.parametrize("head_class", [LaplaceHeadClassifier, DeepEnsembleClassifier])
def test_weights_loaded_into_an_unfitted_head_name_pickle(blobs, tmp_path, head_class):
    X, y = blobs
    head = head_class(max_epochs=5, random_state=0).fit(X, y)
    head.save_params(f_params=tmp_path / "weights.pt")
    members = 5 if head_class is DeepEnsembleClassifier else 1
    loaded = head_class(
        module__n_features=X.shape[1], module__n_classes=3, module__n_members=members
    ).initialize()
    loaded.load_params(f_params=tmp_path / "weights.pt")
    with pytest.raises(NotFittedError, match=r"save_params does not keep.*pickle"):
        loaded.predict_proba(X)
    with pytest.raises(NotFittedError, match=r"not fitted yet\. Call 'fit' [^W]*$"):
        head_class().predict_proba(X)  # a plain unfitted head: no such advice


def test_a_head_pickled_with_the_precision_drops_it(blobs):
    import pickle

    X, y = blobs
    head = LaplaceHeadClassifier(max_epochs=5, random_state=0).fit(X, y)
    state = head.__getstate__()
    state["posterior_precision_"] = head.posterior_precision_  # as before
    old = LaplaceHeadClassifier.__new__(LaplaceHeadClassifier)
    old.__setstate__(state)
    assert "posterior_precision_" not in vars(old)
    np.testing.assert_allclose(old.predict_proba(X), head.predict_proba(X))
    again = pickle.loads(pickle.dumps(old))
    np.testing.assert_allclose(again.predict_proba(X), head.predict_proba(X))
