"""BALD, PowerBALD and BatchBALD strategies on regressors; the others refuse them."""

import numpy as np
import pytest
from modAL.models import CommitteeRegressor
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.ensemble import BaggingRegressor, RandomForestRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald import (
    ActiveLearner,
    BALDQuery,
    BatchBALDQuery,
    BatchEPIGQuery,
    EPIGQuery,
    MarginQuery,
    MaxEntropyQuery,
    MCDropoutRegressor,
    MeanSTDQuery,
    PowerBALDQuery,
    RandomQuery,
    VarRatiosQuery,
)
from skbatchbald.acquisition import bald_regression, batchbald_regression
from skbatchbald.nn import BayesianMLP
from skbatchbald.sampling import predict_samples


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def forest_learner(diabetes):
    X, y = diabetes
    return ActiveLearner(
        RandomForestRegressor(n_estimators=20, random_state=0),
        X_training=X[:30],
        y_training=y[:30],
    )


def test_batchbald_query_is_the_acquisition_function(diabetes, forest_learner):
    X, _ = diabetes
    pool = X[30:]
    samples = predict_samples(forest_learner, pool)
    default_noise = samples.var(axis=1).mean()
    idx, scores = BatchBALDQuery(random_state=0)(forest_learner, pool, 6)
    ref = batchbald_regression(samples, 6, noise_variance=default_noise)
    np.testing.assert_array_equal(idx, ref[0])
    np.testing.assert_allclose(scores, ref[1])
    idx, _ = BatchBALDQuery(noise_variance=25.0)(forest_learner, pool, 6)
    np.testing.assert_array_equal(
        idx, batchbald_regression(samples, 6, noise_variance=25.0)[0]
    )
    idx, scores = BALDQuery(noise_variance=25.0)(forest_learner, pool, 6)
    ref = bald_regression(samples, 6, noise_variance=25.0)
    np.testing.assert_array_equal(idx, ref[0])
    np.testing.assert_allclose(scores, ref[1])


def test_power_bald_and_stochastic_bald_are_seeded(diabetes, forest_learner):
    X, _ = diabetes
    for strategy in (
        PowerBALDQuery(random_state=0),
        BALDQuery(stochastic="softrank", random_state=0),
    ):
        a = strategy(forest_learner, X[30:], 5)[0]
        b = clone(strategy)(forest_learner, X[30:], 5)[0]
        np.testing.assert_array_equal(a, b)
        assert len(set(a.tolist())) == 5


def test_pool_subsample_maps_back(diabetes, forest_learner):
    X, _ = diabetes
    idx, _ = BatchBALDQuery(pool_subsample=50, random_state=1)(
        forest_learner, X[30:], 4
    )
    assert idx.max() < len(X) - 30 and len(set(idx.tolist())) == 4


def test_loop_with_pipeline_and_modal(diabetes):
    X, y = diabetes
    pool_idx = np.arange(30, len(X))
    learner = ActiveLearner(
        make_pipeline(
            StandardScaler(),
            BaggingRegressor(LinearRegression(), n_estimators=10, random_state=0),
        ),
        query_strategy=BatchBALDQuery(),
        X_training=X[:30],
        y_training=y[:30],
    )
    for _ in range(3):
        idx, rows = learner.query(X[pool_idx], n_instances=5)
        learner.teach(rows, y[pool_idx[idx]])
        pool_idx = np.delete(pool_idx, idx)
    assert learner.X_training.shape[0] == 45
    assert len(pool_idx) == len(X) - 45


def _net():
    return MCDropoutRegressor(
        BayesianMLP,
        module__n_features=10,
        module__hidden_sizes=(16,),
        max_epochs=20,
        verbose=0,
        random_state=0,
        n_mc_samples=10,
    )


def test_mc_dropout_regressor_uses_its_noise(diabetes):
    X, y = diabetes
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    net = _net()
    learner = ActiveLearner(net, X_training=X[:40], y_training=y[:40])
    noise = learner.estimator.noise_variance_
    strategy = BatchBALDQuery(random_state=0)
    idx, scores = strategy(learner, X[40:], 5)
    explicit = BatchBALDQuery(noise_variance=noise, random_state=0)
    idx2, scores2 = explicit(learner, X[40:], 5)
    np.testing.assert_array_equal(idx, idx2)
    np.testing.assert_allclose(scores, scores2)
    other = BatchBALDQuery(noise_variance=noise * 100, random_state=0)
    assert not np.allclose(other(learner, X[40:], 5)[1], scores)
    # in the loop: query, teach, query again
    learner.query_strategy = strategy
    i, rows = learner.query(X[40:], n_instances=3)
    learner.teach(rows, y[40:][i])
    assert learner.query(X[40:], n_instances=3)[0].shape == (3,)


def test_mc_dropout_regressor_picks_do_not_depend_on_the_units_of_y(diabetes):
    # Raw diabetes targets, then the same in units a million times smaller:
    # samples scale by 1e6 and the noise by 1e12, so every score is the same
    X, y = diabetes
    X = StandardScaler().fit_transform(X)
    picks = []
    for scale in (1.0, 1e6):
        net = _net().fit(X[:40], scale * y[:40])
        picks.append(
            (
                net,
                BALDQuery(random_state=0)(net, X[40:], 5),
                BatchBALDQuery(random_state=0)(net, X[40:], 5),
            )
        )
    (small, bald, batch), (large, bald_large, batch_large) = picks
    assert large.noise_variance_ == pytest.approx(1e12 * small.noise_variance_, 1e-3)
    np.testing.assert_allclose(
        predict_samples(large, X[40:], 10, random_state=0),
        1e6 * predict_samples(small, X[40:], 10, random_state=0),
        rtol=1e-4,
    )
    for ours, theirs in ((bald, bald_large), (batch, batch_large)):
        np.testing.assert_array_equal(ours[0], theirs[0])
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-3)


def test_a_net_on_standardised_targets_in_a_transformed_target_regressor(diabetes):
    # Raw diabetes targets (25 to 346) scaled by the wrapper (the net's own
    # normalize_y then sees mean 0, scale 1): the strategy scores the net's
    # samples and noise on the scaled targets.
    X, y = diabetes
    net = _net()
    model = TransformedTargetRegressor(
        make_pipeline(StandardScaler(), net), transformer=StandardScaler()
    )
    learner = ActiveLearner(model, X_training=X[:40], y_training=y[:40])
    inner = learner.estimator.regressor_
    assert inner[-1].noise_variance_ < 2  # fitted on unit-variance targets
    # Generators: an int would also seed by the labelled set's size, which
    # the learner knows and its inner model does not.
    idx, scores = BatchBALDQuery(random_state=np.random.default_rng(0))(
        learner, X[40:], 5
    )
    expected = BatchBALDQuery(random_state=np.random.default_rng(0))(inner, X[40:], 5)
    np.testing.assert_array_equal(idx, expected[0])
    np.testing.assert_allclose(scores, expected[1])


def test_gaussian_process_bald_and_batchbald_against_the_closed_form():
    # modAL's regression example: a GP. Its posterior is Gaussian, so the
    # Gaussian estimator is exact: BALD is 1/2 log(1 + var f(x) / noise) and a
    # batch's information 1/2 log det(I + Cov(f_B) / noise).
    rng = np.random.default_rng(1)
    X = rng.uniform(-3, 3, size=(12, 1))
    y = np.sin(2 * X[:, 0]) + rng.normal(scale=0.1, size=12)
    kernel = RBF(0.8) + WhiteKernel(0.05)
    gp = GaussianProcessRegressor(kernel, optimizer=None)
    learner = ActiveLearner(gp, X_training=X, y_training=y)
    pool = np.linspace(-5, 5, 40)[:, None]
    noise = 0.05 + gp.alpha
    _, cov = learner.estimator.predict(pool, return_cov=True)
    latent = cov - 0.05 * np.eye(40)
    closed = 0.5 * np.log1p(np.diag(latent) / noise)
    strategy = BALDQuery(n_mc_samples=20_000, random_state=0)
    idx, scores = strategy(learner, pool, 5)
    # the symmetric pool has near ties: the picks' true scores are the top 5
    np.testing.assert_allclose(closed[idx], np.sort(closed)[::-1][:5], rtol=0.03)
    np.testing.assert_allclose(scores, closed[idx], rtol=0.03)
    batch = BatchBALDQuery(n_mc_samples=20_000, random_state=0)
    picked, scores_joint = batch(learner, pool, 4)
    assert picked[0] == idx[0]  # BatchBALD's first pick is BALD's top
    block = latent[np.ix_(picked, picked)]
    joint = 0.5 * np.linalg.slogdet(np.eye(4) + block / noise)[1]
    assert scores_joint[-1] == pytest.approx(joint, rel=0.03)  # cumulative
    # BALD's top 4 are two pairs of neighbours at the edges, which tell much
    # the same: BatchBALD's batch holds more information (closed form)
    top = latent[np.ix_(idx[:4], idx[:4])]
    assert joint > 0.5 * np.linalg.slogdet(np.eye(4) + top / noise)[1] + 0.1


def test_modal_committee_regressor(diabetes):
    X, y = diabetes
    committee = CommitteeRegressor(
        [
            ActiveLearner(
                RandomForestRegressor(n_estimators=3, random_state=s),
                X_training=X[:30],
                y_training=y[:30],
            )
            for s in range(4)
        ],
        query_strategy=BatchBALDQuery(),
    )
    idx, _ = committee.query(X[30:], n_instances=3)
    samples = predict_samples(committee, X[30:])
    noise = samples.var(axis=1).mean()
    np.testing.assert_array_equal(
        idx, batchbald_regression(samples, 3, noise_variance=noise)[0]
    )


def test_a_list_with_a_gaussian_process_is_scored_whatever_the_order(diabetes):
    # the GP's alpha was taken as the noise of the list when the GP came first:
    # 1e-10 against the forest's spread, scores near 14 nats instead of 0.5
    X, y = diabetes
    gp = GaussianProcessRegressor(RBF(), optimizer=None).fit(X[:30], y[:30])
    forest = RandomForestRegressor(5, random_state=0).fit(X[:30], y[:30])
    first = BALDQuery()([gp, forest], X[30:], 3)
    second = BALDQuery()([forest, gp], X[30:], 3)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_allclose(first[1], second[1])
    samples = predict_samples([gp, forest], X[30:])
    expected = bald_regression(samples, 3, noise_variance=samples.var(axis=1).mean())
    np.testing.assert_allclose(first[1], expected[1])


@pytest.mark.parametrize(
    "strategy",
    [
        MarginQuery(),
        MaxEntropyQuery(),
        VarRatiosQuery(),
        MeanSTDQuery(),
        EPIGQuery(),
        BatchEPIGQuery(),
    ],
    ids=lambda s: type(s).__name__,
)
def test_classification_strategies_refuse_regressors(
    diabetes, forest_learner, strategy
):
    X, _ = diabetes
    name = type(strategy).__name__
    with pytest.raises(
        ValueError, match=f"{name} scores the class probabilities of a classifier"
    ) as info:
        strategy(forest_learner, X[30:], 2)
    assert "BALDQuery, PowerBALDQuery or BatchBALDQuery" in str(info.value)


def test_random_query_takes_regressors(diabetes, forest_learner):
    X, _ = diabetes
    idx, _ = RandomQuery(random_state=0)(forest_learner, X[30:], 3)
    assert len(set(idx.tolist())) == 3


def test_bad_regression_input(diabetes, forest_learner):
    X, y = diabetes
    with pytest.raises(ValueError, match="needs at least 2 posterior samples"):
        BatchBALDQuery(n_mc_samples=1)(forest_learner, X[30:], 2)
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="noise_variance must be"):
            BatchBALDQuery(noise_variance=bad)(forest_learner, X[30:], 2)
    with pytest.raises(TypeError, match="noise_variance must be"):
        BALDQuery(noise_variance="1.0")(forest_learner, X[30:], 2)
    point = ActiveLearner(LinearRegression(), X_training=X[:30], y_training=y[:30])
    with pytest.raises(ValueError, match="one prediction per row"):
        BatchBALDQuery()(point, X[30:], 2)
    unfitted = ActiveLearner(RandomForestRegressor())
    with pytest.raises(Exception, match="needs a fitted model"):
        BALDQuery()(unfitted, X[30:], 2)


def test_noise_variance_is_a_parameter():
    for cls in (BALDQuery, PowerBALDQuery, BatchBALDQuery):
        strategy = cls(noise_variance=0.5)
        assert clone(strategy).get_params()["noise_variance"] == 0.5
        assert "noise_variance=0.5" in repr(strategy)


def test_noise_variance_auto_is_the_models_own_estimate(diabetes, forest_learner):
    # "auto", as an MCDropoutRegressor's noise_variance says it, was a
    # TypeError in the strategies; it is the default's meaning
    X, y = diabetes
    pool = X[30:]
    gp = GaussianProcessRegressor(RBF(50.0) + WhiteKernel(0.5), optimizer=None)
    gp_learner = ActiveLearner(
        make_pipeline(StandardScaler(), gp), X_training=X[:30], y_training=y[:30]
    )
    for learner, cls in ((forest_learner, BatchBALDQuery), (gp_learner, BALDQuery)):
        auto = cls(noise_variance="auto", random_state=0)(learner, pool, 4)
        default = cls(random_state=0)(learner, pool, 4)
        np.testing.assert_array_equal(auto[0], default[0])
        np.testing.assert_allclose(auto[1], default[1])
    # the GP's noise, not the scale-free default, is what "auto" used
    own = BALDQuery(noise_variance=0.5 + gp.alpha, random_state=0)(gp_learner, pool, 4)
    auto = BALDQuery(noise_variance="auto", random_state=0)(gp_learner, pool, 4)
    np.testing.assert_allclose(auto[1], own[1])
    assert "noise_variance='auto'" in repr(BatchBALDQuery(noise_variance="auto"))


@pytest.mark.parametrize("shape", [(392, 1), (392, 20), (3,)])
def test_a_noise_array_says_where_arrays_go(diabetes, forest_learner, shape):
    # the user guide describes (N, 1) and (N, K) noise arrays; a strategy
    # refused them with a TypeError that printed the array and said nothing
    X, _ = diabetes
    strategy = BALDQuery(noise_variance=np.ones(shape))
    with pytest.raises(TypeError, match=r"noise_variance must be one number") as e:
        strategy(forest_learner, X[30:], 3)
    message = str(e.value)
    for phrase in (
        f"shape {shape}",
        "bald_regression and batchbald_regression",
        "pool changes every round",
        "predict_samples(model, X_pool)",
        "the model's own noise estimate",
        "mean sample variance",
    ):
        assert phrase in message
    assert "array([" not in message


def test_an_unknown_noise_string_names_auto(forest_learner, diabetes):
    X, _ = diabetes
    with pytest.raises(TypeError, match=r'None, "auto" or a finite number > 0'):
        BatchBALDQuery(noise_variance="fit")(forest_learner, X[30:], 2)
