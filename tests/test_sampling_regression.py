"""predict_samples: posterior samples (N, K) of a regressor's prediction."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from modAL.models import ActiveLearner, CommitteeRegressor
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.ensemble import (
    BaggingRegressor,
    ExtraTreesRegressor,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.exceptions import NotFittedError
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald.sampling import (
    is_regression_model,
    model_noise_variance,
    predict_samples,
)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X[:200], y[:200]


@pytest.mark.parametrize(
    "model",
    [
        RandomForestRegressor(n_estimators=7, random_state=0),
        ExtraTreesRegressor(n_estimators=5, random_state=0),
        BaggingRegressor(n_estimators=6, max_features=0.5, random_state=0),
    ],
    ids=["forest", "extra_trees", "bagging_feature_subsets"],
)
def test_ensemble_members_are_samples_averaging_to_predict(diabetes, model):
    X, y = diabetes
    model.fit(X[:150], y[:150])
    # unseen rows: fully grown trees without bootstrap (ExtraTrees) agree
    # exactly on the rows they were fitted on
    samples = predict_samples(model, X[150:])
    assert samples.shape == (50, model.n_estimators) and samples.dtype == np.float64
    np.testing.assert_allclose(samples.mean(axis=1), model.predict(X[150:]))
    assert samples.std(axis=1).mean() > 0  # the members disagree


def test_wrappers_give_the_inner_samples(diabetes):
    X, y = diabetes
    forest = RandomForestRegressor(n_estimators=4, random_state=0)
    pipe = make_pipeline(StandardScaler(), forest).fit(X, y)
    expected = predict_samples(pipe[-1], pipe[0].transform(X))
    np.testing.assert_array_equal(predict_samples(pipe, X), expected)
    search = GridSearchCV(pipe, {"randomforestregressor__max_depth": [2, 3]}, cv=2)
    search.fit(X, y)
    np.testing.assert_array_equal(
        predict_samples(search, X), predict_samples(search.best_estimator_, X)
    )
    learner = ActiveLearner(estimator=pipe, X_training=X, y_training=y)
    np.testing.assert_array_equal(
        predict_samples(learner, X), predict_samples(learner.estimator, X)
    )


def test_a_transformed_target_is_sampled_in_its_own_space(diabetes):
    # The regressor inside was fitted (and its noise estimated) on the
    # transformed targets; the mutual information of a label does not change
    # under an invertible map of it, so the samples stay in that space.
    X, y = diabetes
    forest = RandomForestRegressor(n_estimators=5, random_state=0)
    model = TransformedTargetRegressor(forest, func=np.log, inverse_func=np.exp)
    with pytest.raises(NotFittedError):
        predict_samples(model, X)
    model.fit(X, y)
    samples = predict_samples(model, X)
    np.testing.assert_array_equal(samples, predict_samples(model.regressor_, X))
    np.testing.assert_allclose(np.exp(samples.mean(axis=1)), model.predict(X))
    assert is_regression_model(model)

    class WithNoise(Ridge):
        noise_variance_ = 0.25

    scaled = TransformedTargetRegressor(WithNoise(), transformer=StandardScaler())
    assert model_noise_variance(scaled.fit(X, y)) == 0.25


def test_bagging_on_a_sparse_pool(diabetes):
    X, y = diabetes
    bag = BaggingRegressor(Ridge(), n_estimators=4, max_features=0.5, random_state=0)
    bag.fit(sp.csr_matrix(X), y)
    sparse = predict_samples(bag, sp.csr_matrix(X))
    np.testing.assert_allclose(sparse, predict_samples(bag, X))
    np.testing.assert_allclose(sparse.mean(axis=1), bag.predict(X))


def test_a_list_of_regressors_is_an_ensemble(diabetes):
    X, y = diabetes
    models = [Ridge(alpha=a).fit(X, y) for a in (0.01, 0.1, 1.0)]
    samples = predict_samples(models, X)
    for k, model in enumerate(models):
        np.testing.assert_allclose(samples[:, k], model.predict(X))
    picked = predict_samples(tuple(models), X, n_mc_samples=2, random_state=0)
    assert picked.shape == (200, 2)
    again = predict_samples(tuple(models), X, n_mc_samples=2, random_state=0)
    np.testing.assert_array_equal(picked, again)


def test_modal_committee_regressor(diabetes):
    X, y = diabetes
    committee = CommitteeRegressor(
        [
            ActiveLearner(
                estimator=RandomForestRegressor(n_estimators=3, random_state=s),
                X_training=X,
                y_training=y,
            )
            for s in range(3)
        ]
    )
    samples = predict_samples(committee, X)
    for k, learner in enumerate(committee.learner_list):
        np.testing.assert_allclose(samples[:, k], learner.estimator.predict(X))


def test_member_subsample(diabetes):
    X, y = diabetes
    forest = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y)
    a = predict_samples(forest, X, n_mc_samples=4, random_state=1)
    np.testing.assert_array_equal(a, predict_samples(forest, X, 4, random_state=1))
    every = predict_samples(forest, X)
    columns = [
        int(np.flatnonzero((every == a[:, [k]]).all(axis=0))[0]) for k in range(4)
    ]
    assert len(set(columns)) == 4
    with pytest.raises(ValueError, match="exceeds the 10 members"):
        predict_samples(forest, X, n_mc_samples=11)


def test_bad_estimators(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="is a classifier, and regression sampling"):
        predict_samples(RandomForestClassifier(3).fit(X, y > 140), X)
    with pytest.raises(ValueError, match="is a classifier"):
        predict_samples([RandomForestClassifier(3).fit(X, y > 140)], X)
    for model in (LinearRegression(), GradientBoostingRegressor(n_estimators=5)):
        with pytest.raises(ValueError, match="one prediction per row"):
            predict_samples(model.fit(X, y), X)
    with pytest.raises(NotFittedError):
        predict_samples(RandomForestRegressor(), X)
    with pytest.raises(NotFittedError):
        predict_samples([Ridge()], X)
    multi = RandomForestRegressor(3).fit(X, np.column_stack([y, y]))
    with pytest.raises(ValueError, match=r"fitted on 2 targets.*one learner per"):
        predict_samples(multi, X)
    with pytest.raises(ValueError, match="holds no model"):
        predict_samples([], X)
    with pytest.raises(TypeError, match="cannot draw posterior samples"):
        predict_samples(object(), X)


def test_a_dask_pool_is_computed_within_the_memory_budget(diabetes):
    da = pytest.importorskip("dask.array")
    X, y = diabetes
    forest = RandomForestRegressor(3, random_state=0).fit(X, y)
    pool = da.from_array(X, chunks=50)
    np.testing.assert_array_equal(
        predict_samples(forest, pool), predict_samples(forest, X)
    )
    with pytest.raises(ValueError, match=r"sampled in memory.*pool_subsample"):
        predict_samples(forest, pool, max_memory=X.nbytes - 1)
    filtered = pool[pool[:, 0] > -100]  # chunks of unknown size
    with pytest.raises(ValueError, match=r"unknown size.*compute_chunk_sizes"):
        predict_samples(forest, filtered, max_memory="1KB")


def test_a_subsample_of_a_dask_pool_is_scored(diabetes):
    # the advice "score a subsample (pool_subsample)" works
    da = pytest.importorskip("dask.array")
    from skbatchbald import BatchBALDQuery

    X, y = diabetes
    forest = RandomForestRegressor(10, random_state=0).fit(X[:40], y[:40])
    pool = da.from_array(X[40:], chunks=100)
    strategy = BatchBALDQuery(pool_subsample=100, random_state=0, max_memory="1MB")
    with pytest.raises(ValueError, match="sampled in memory"):
        BatchBALDQuery(random_state=0, max_memory="10KB")(forest, pool, 4)
    picked, _ = strategy(forest, pool, 4)
    assert picked.shape == (4,) and np.unique(picked).size == 4


def test_is_regression_model_and_noise(diabetes):
    X, y = diabetes
    forest = RandomForestRegressor(3).fit(X, y)
    assert is_regression_model(forest)
    assert is_regression_model(make_pipeline(StandardScaler(), forest))
    assert is_regression_model([forest])
    assert is_regression_model(GridSearchCV(RandomForestRegressor(), {}))
    assert is_regression_model(ActiveLearner(estimator=RandomForestRegressor()))
    assert not is_regression_model(RandomForestClassifier())
    assert not is_regression_model(make_pipeline(RandomForestClassifier()))
    assert model_noise_variance(forest) is None

    class WithNoise(Ridge):
        noise_variance_ = 0.25

    assert model_noise_variance(make_pipeline(WithNoise())) == 0.25


def test_an_ensembles_noise_is_its_members_whatever_their_order(diabetes):
    X, y = diabetes
    forest = RandomForestRegressor(3, random_state=0).fit(X, y)
    gps = [
        GaussianProcessRegressor(RBF(), alpha=alpha, optimizer=None).fit(X, y)
        for alpha in (0.5, 1.5)
    ]
    # every member gives one: their mean, for a list, tuple or Committee
    assert model_noise_variance(gps) == pytest.approx(1.0)
    assert model_noise_variance(tuple(gps[::-1])) == pytest.approx(1.0)
    committee = CommitteeRegressor(
        [ActiveLearner(estimator=gp, X_training=X, y_training=y) for gp in gps]
    )
    assert model_noise_variance(committee) == pytest.approx(1.0)
    # a member without one leaves it unknown, first or last (was the first
    # member's: alpha as the noise of a forest's samples, or none at all)
    assert model_noise_variance([gps[0], forest]) is None
    assert model_noise_variance([forest, gps[0]]) is None
    assert model_noise_variance([]) is None


@pytest.fixture(scope="module")
def fitted():
    """A GP with fixed hyperparameters (no optimizer) on 15 noisy points."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(15, 1))
    y = 50 + 20 * np.sin(X[:, 0]) + rng.normal(scale=2, size=15)
    kernel = ConstantKernel(1.0) * RBF(1.0) + WhiteKernel(0.1)
    gp = GaussianProcessRegressor(
        kernel, alpha=1e-6, normalize_y=True, optimizer=None
    ).fit(X, y)
    return gp, X, y, np.linspace(-4, 4, 30)[:, None]


class TestGaussianProcess:
    """Joint draws of a GP's latent function, against its closed form."""

    def test_noise_is_alpha_and_white_noise_in_units_of_y(self, fitted):
        gp, _, y, _ = fitted
        # normalize_y divides y by its standard deviation (ddof 0)
        assert model_noise_variance(gp) == pytest.approx(np.var(y) * (0.1 + 1e-6))
        plain = GaussianProcessRegressor(RBF(), alpha=0.5, optimizer=None)
        assert model_noise_variance(plain.fit(*fitted[1:3])) == pytest.approx(0.5)

    def test_draws_have_the_latent_posterior_mean_and_covariance(self, fitted):
        gp, _, _, pool = fitted
        samples = predict_samples(gp, pool, n_mc_samples=40_000, random_state=0)
        assert samples.shape == (30, 40_000)
        mean, cov = gp.predict(pool, return_cov=True)
        # predict's covariance is of the noisy targets: white noise on its
        # diagonal, which the latent function's leaves out
        white = np.var(fitted[2]) * 0.1
        latent = cov - white * np.eye(30)
        scale = np.sqrt(np.outer(np.diag(latent), np.diag(latent)))
        np.testing.assert_allclose(samples.mean(axis=1), mean, atol=0.05)
        np.testing.assert_allclose(
            np.cov(samples, bias=True) / scale, latent / scale, atol=0.03
        )

    def test_draws_are_seeded(self, fitted):
        gp, _, _, pool = fitted
        first = predict_samples(gp, pool, n_mc_samples=5, random_state=3)
        np.testing.assert_array_equal(
            first, predict_samples(gp, pool, n_mc_samples=5, random_state=3)
        )
        assert predict_samples(gp, pool).shape == (30, 100)  # the default K

    def test_a_pool_too_large_for_the_budget_is_refused(self, fitted):
        gp, _, _, pool = fitted
        with pytest.raises(ValueError, match="pool_subsample"):
            predict_samples(gp, pool, max_memory=1000)
        with pytest.raises(NotFittedError):
            predict_samples(GaussianProcessRegressor(), pool)


def test_a_gaussian_process_fitted_on_a_dataframe_samples_it_without_warning(fitted):
    pd = pytest.importorskip("pandas")
    _, X, y, pool = fitted
    gp = GaussianProcessRegressor(RBF(), alpha=0.1, optimizer=None)
    gp.fit(pd.DataFrame(X, columns=["x"]), y)
    frame = pd.DataFrame(pool, columns=["x"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # was "X does not have valid feature names"
        samples = predict_samples(gp, frame, n_mc_samples=4, random_state=0)
        noise = model_noise_variance(gp)
    on_arrays = GaussianProcessRegressor(RBF(), alpha=0.1, optimizer=None).fit(X, y)
    np.testing.assert_array_equal(
        samples, predict_samples(on_arrays, pool, n_mc_samples=4, random_state=0)
    )
    assert noise == pytest.approx(0.1)
    with pytest.raises(ValueError, match="feature names"):  # predict checks them
        predict_samples(gp, frame.rename(columns={"x": "z"}))


def test_a_gaussian_process_takes_a_list_pool_and_one_target(fitted):
    gp, X, y, pool = fitted
    np.testing.assert_array_equal(
        predict_samples(gp, pool.tolist(), n_mc_samples=3, random_state=0),
        predict_samples(gp, pool, n_mc_samples=3, random_state=0),
    )
    two = GaussianProcessRegressor(RBF(), optimizer=None).fit(X, np.c_[y, y])
    for call in (model_noise_variance, lambda gp: predict_samples(gp, pool)):
        with pytest.raises(ValueError, match=r"fitted on 2 targets.*y\[:, j\]"):
            call(two)
