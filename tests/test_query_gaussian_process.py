"""A Gaussian process is scored exactly, from its posterior covariance."""

import itertools
import warnings

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import make_friedman1
from sklearn.ensemble import RandomForestRegressor
from sklearn.exceptions import NotFittedError
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, DotProduct, Matern, WhiteKernel
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald import ActiveLearner, BALDQuery, BatchBALDQuery, PowerBALDQuery
from skbatchbald.acquisition import SaturationWarning
from skbatchbald.sampling import (
    gaussian_process_covariance,
    is_gaussian_process,
    model_noise_variance,
    predict_samples,
)
from skbatchbald.stopping import ExpectedInformation


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=330, noise=1.0, random_state=0)
    return X, y


def _gp():
    return GaussianProcessRegressor(
        RBF(np.full(10, 1.5)) + WhiteKernel(0.3), normalize_y=True, optimizer=None
    )


def _latent(gp, pool):
    """The latent covariance from scikit-learn's own predict: minus white noise."""
    _, cov = gp.predict(pool, return_cov=True)
    white = gp.kernel_.k2.noise_level * gp._y_train_std**2
    return cov - white * np.eye(len(pool))


def _information(cov, noise, batch):
    block = cov[np.ix_(batch, batch)]
    return 0.5 * np.linalg.slogdet(np.eye(len(batch)) + block / noise)[1]


def test_the_covariance_is_scikit_learns_without_the_white_noise(friedman):
    X, y = friedman
    gp = _gp().fit(X[:30], y[:30])
    pool = X[30:90]
    expected = _latent(gp, pool)
    np.testing.assert_allclose(
        gaussian_process_covariance(gp, pool), expected, rtol=1e-8, atol=1e-10
    )
    np.testing.assert_allclose(
        gaussian_process_covariance(gp, pool, diagonal=True, max_memory=4096),
        np.diag(expected),
        rtol=1e-8,
    )


def test_bald_is_the_closed_form_with_no_sampling_noise(friedman):
    X, y = friedman
    learner = ActiveLearner(_gp(), X_training=X[:30], y_training=y[:30])
    pool = X[30:]
    noise = model_noise_variance(learner)
    closed = 0.5 * np.log1p(np.diag(_latent(learner.estimator, pool)) / noise)
    idx, scores = BALDQuery(random_state=0)(learner, pool, 10)
    np.testing.assert_array_equal(idx, np.argsort(-closed, kind="stable")[:10])
    np.testing.assert_allclose(scores, closed[idx], rtol=1e-8)
    # K draws rank by an estimate: at K = 100 the top 10 differs
    drawn, _ = BALDQuery(n_mc_samples=100, random_state=0)(learner, pool, 10)
    assert set(drawn) != set(idx)


def test_batchbald_is_the_exact_greedy(friedman):
    X, y = friedman
    learner = ActiveLearner(_gp(), X_training=X[:30], y_training=y[:30])
    pool = X[30:60]
    noise = model_noise_variance(learner)
    cov = _latent(learner.estimator, pool)
    idx, scores = BatchBALDQuery(random_state=0)(learner, pool, 4)
    batch = []
    for pick, score in zip(idx, scores, strict=True):
        values = [
            _information(cov, noise, [*batch, x]) if x not in batch else -np.inf
            for x in range(len(pool))
        ]
        assert pick == int(np.argmax(values))
        batch.append(pick)
        assert score == pytest.approx(_information(cov, noise, batch), rel=1e-8)
    # first pick = BALD's top; the batch beats BALD's top 4 in information
    top, _ = BALDQuery()(learner, pool, 4)
    assert idx[0] == top[0]
    assert scores[-1] >= _information(cov, noise, list(top))


def test_the_greedy_batch_is_near_the_best_batch(friedman):
    X, y = friedman
    gp = _gp().fit(X[:30], y[:30])
    pool = X[30:42]
    noise = model_noise_variance(gp)
    cov = _latent(gp, pool)
    best = max(
        _information(cov, noise, list(b)) for b in itertools.combinations(range(12), 3)
    )
    _, scores = BatchBALDQuery()(gp, pool, 3)
    assert (1 - 1 / np.e) * best <= scores[-1] <= best + 1e-9


def test_wrappers_give_the_same_exact_picks(friedman):
    X, y = friedman
    Xs = StandardScaler().fit_transform(X)
    plain = ActiveLearner(_gp(), X_training=Xs[:30], y_training=y[:30])
    piped = ActiveLearner(
        make_pipeline(StandardScaler(), _gp()), X_training=X[:30], y_training=y[:30]
    )
    search = GridSearchCV(_gp(), {"alpha": [1e-10]}, cv=2).fit(Xs[:30], y[:30])
    assert all(is_gaussian_process(m) for m in (plain, piped, search))
    for strategy in (BALDQuery(), BatchBALDQuery()):
        expected = strategy(plain, Xs[30:], 5)
        scaler = StandardScaler().fit(X[:30])
        # the Pipeline's scaler is fitted on the 30 labels, as scaler here
        ours = strategy(
            ActiveLearner(
                _gp(), X_training=scaler.transform(X[:30]), y_training=y[:30]
            ),
            scaler.transform(X[30:]),
            5,
        )
        np.testing.assert_array_equal(strategy(piped, X[30:], 5)[0], ours[0])
        np.testing.assert_array_equal(strategy(search, Xs[30:], 5)[0], expected[0])


def test_a_transformed_target_is_scored_in_its_own_units(friedman):
    X, y = friedman
    y = np.exp(y / 10)
    ttr = TransformedTargetRegressor(_gp(), func=np.log, inverse_func=np.exp)
    ttr.fit(X[:30], y[:30])
    inner = ttr.regressor_
    np.testing.assert_array_equal(
        BatchBALDQuery()(ttr, X[30:], 5)[0], BatchBALDQuery()(inner, X[30:], 5)[0]
    )


def test_a_list_of_gaussian_processes_is_sampled_not_exact(friedman):
    X, y = friedman
    gps = [_gp().fit(X[:30], y[:30]), _gp().fit(X[30:60], y[30:60])]
    assert not is_gaussian_process(gps)
    samples = predict_samples(gps, X[60:])
    assert samples.shape == (270, 2)


def test_n_mc_samples_draws_instead(friedman):
    X, y = friedman
    gp = _gp().fit(X[:30], y[:30])
    exact = BALDQuery()(gp, X[30:], 5)
    drawn = BALDQuery(n_mc_samples=50, random_state=0)(gp, X[30:], 5)
    assert not np.allclose(exact[1], drawn[1])


def test_power_bald_draws_from_the_exact_scores(friedman):
    X, y = friedman
    gp = _gp().fit(X[:30], y[:30])
    first = PowerBALDQuery(random_state=0)(gp, X[30:], 5)
    again = PowerBALDQuery(random_state=0)(gp, X[30:], 5)
    np.testing.assert_array_equal(first[0], again[0])
    noise = model_noise_variance(gp)
    closed = 0.5 * np.log1p(np.diag(_latent(gp, X[30:])) / noise)
    np.testing.assert_allclose(first[1], closed[first[0]], rtol=1e-8)


def test_bald_scores_pools_too_large_for_the_joint_posterior(friedman):
    X, y = friedman
    gp = _gp().fit(X[:30], y[:30])
    pool = np.tile(X[30:], (20, 1))  # 6,000 points: 275 MiB for the covariance
    with pytest.raises(ValueError, match="posterior covariance of a Gaussian process"):
        BatchBALDQuery(max_memory="64MB")(gp, pool, 3)
    idx, _ = BALDQuery()(gp, pool, 3)
    variance = gaussian_process_covariance(gp, pool, diagonal=True, max_memory=2**16)
    assert variance[idx].min() >= np.sort(variance)[-3] - 1e-12


def test_a_noiseless_pool_is_a_uniform_draw(friedman):
    # a linear kernel through the origin: the latent function is 0 at x = 0
    # exactly, so a pool of zeros carries no information
    X, y = friedman
    gp = GaussianProcessRegressor(
        DotProduct(sigma_0=0.0, sigma_0_bounds="fixed"), alpha=0.1, optimizer=None
    ).fit(X[:30], y[:30])
    pool = np.zeros((20, 10))
    with pytest.warns(SaturationWarning, match="posterior variance is 0"):
        idx, scores = BatchBALDQuery(random_state=3)(gp, pool, 4)
    assert len(set(idx)) == 4 and (scores == 0).all()
    with pytest.warns(SaturationWarning):
        again, _ = BatchBALDQuery(random_state=4)(gp, pool, 4)
    assert set(again) != set(idx)  # drawn, not the first rows


def test_a_noise_far_above_the_posterior_warns_with_the_units(friedman):
    X, y = friedman
    forest = TransformedTargetRegressor(
        RandomForestRegressor(20, random_state=0), func=np.log, inverse_func=np.exp
    ).fit(X[:60], np.exp(y[:60] / 10))
    with pytest.warns(UserWarning, match="TransformedTargetRegressor.*transformed"):
        BatchBALDQuery(noise_variance=400.0)(forest, X[60:], 3)
    gp = _gp().fit(X[:30], y[:30])
    with pytest.warns(UserWarning, match="over 100 times the largest posterior"):
        BALDQuery(noise_variance=1e6)(gp, X[30:], 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BatchBALDQuery()(forest, X[60:], 3)  # its own default: no warning
        BALDQuery(noise_variance=1.0)(gp, X[30:], 3)


def test_one_tree_names_the_regression_sources(friedman):
    X, y = friedman
    tree = RandomForestRegressor(1, random_state=0).fit(X[:30], y[:30])
    with pytest.raises(ValueError, match="at least 2 posterior samples") as info:
        BatchBALDQuery()(tree, X[30:], 2)
    message = str(info.value)
    assert "MCDropoutRegressor" in message and "RandomQuery" in message
    assert "MarginQuery" not in message and "MCDropoutClassifier" not in message


def test_the_stopping_rule_scores_the_exact_variances(friedman):
    X, y = friedman
    gp = _gp().fit(X[:30], y[:30])
    stop = X[200:260]
    rule = ExpectedInformation(threshold=0.01)
    rule.update(gp, stop, n_labels=30)
    noise = model_noise_variance(gp)
    closed = 0.5 * np.log1p(np.diag(_latent(gp, stop)) / noise)
    record = rule.records_[0]
    assert record["mean_bald"] == pytest.approx(closed.mean(), rel=1e-8)
    assert record["ceiling"] == np.inf and not record["saturated"]
    # replayed from the variances, with the noise as a parameter
    replay = ExpectedInformation(threshold=0.01, noise_variance=noise)
    replay.update_from(np.diag(_latent(gp, stop)))
    assert replay.records_[0]["mean_bald"] == pytest.approx(closed.mean(), rel=1e-8)
    with pytest.raises(ValueError, match="posterior variances, one per stop-set"):
        ExpectedInformation().update_from(np.ones(5))


def test_a_tiny_noise_on_samples_is_named_at_the_ceiling(friedman, caplog):
    X, y = friedman
    gp = GaussianProcessRegressor(RBF(np.full(10, 1.5)), optimizer=None)
    gp.fit(X[:30], y[:30])
    rule = ExpectedInformation(n_mc_samples=50, random_state=0)
    with caplog.at_level("WARNING", logger="skbatchbald.stopping"):
        rule.update(gp, X[200:260], n_labels=30)
    assert "alpha=1e-10" in caplog.text and "noise variance" in caplog.text


@pytest.mark.parametrize(
    "kernel",
    [RBF(np.full(10, 1.5)) + WhiteKernel(0.3), Matern(1.5) + WhiteKernel(0.3)],
    ids=["rbf", "matern"],
)
def test_the_exact_batch_stays_within_its_memory_budget(friedman, kernel):
    # the covariance was checked at 8 N (N + n_train) bytes while the query's
    # peak was three times that (the kernel's N x N temporaries)
    import tracemalloc

    X, y = friedman
    gp = GaussianProcessRegressor(kernel, normalize_y=True, optimizer=None)
    gp.fit(X[:30], y[:30])
    pool = np.tile(X[30:], (4, 1))  # 1,200 points
    n, n_train = len(pool), 30
    budget = 8 * (n * n + 2 * n * n_train + 8 * 512 * n)
    tracemalloc.start()
    try:
        BatchBALDQuery(max_memory=budget)(gp, pool, 5)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 8 * n * n < peak <= budget
    with pytest.raises(ValueError, match="posterior covariance"):
        BatchBALDQuery(max_memory=budget - 1)(gp, pool, 5)


def test_an_unfitted_search_says_to_start_without_a_model(friedman):
    X, _ = friedman
    search = GridSearchCV(_gp(), {"alpha": [1e-10, 1e-2]})
    assert is_gaussian_process(search)
    for strategy in (BALDQuery(), BatchBALDQuery()):
        with pytest.raises(NotFittedError, match="RandomQuery"):
            strategy(search, X[30:], 3)


def test_one_sample_names_the_sources_of_the_models_kind(friedman):
    X, y = friedman
    forest = RandomForestRegressor(5, random_state=0).fit(X[:30], y[:30])
    with pytest.raises(ValueError, match=r"for a regressor.*MCDropoutRegressor"):
        BatchBALDQuery(n_mc_samples=1)(forest, X[30:], 2)


def test_other_models_keep_their_errors():
    # a NotFittedError for an unfitted forest replaced the documented TypeError
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    with pytest.raises(TypeError, match="is not a GaussianProcessRegressor"):
        gaussian_process_covariance(RandomForestRegressor(), X)
    with pytest.raises(TypeError, match="is not a GaussianProcessRegressor"):
        gaussian_process_covariance(GridSearchCV(RandomForestRegressor(), {}), X)
    with pytest.raises(NotFittedError):
        gaussian_process_covariance(GridSearchCV(_gp(), {"alpha": [0.1]}), X)


def test_a_gp_that_tells_no_point_apart_draws_the_batch_as_bald_does(friedman):
    # a length scale far below the pool's spacing: every posterior variance
    # is the prior's and no two points are correlated, so every batch holds
    # the same information; the greedy's batch was the pool's first rows
    from skbatchbald.acquisition import TiedScoresWarning

    X, y = friedman
    gp = GaussianProcessRegressor(
        RBF(np.full(10, 1e-3)) + WhiteKernel(0.3), normalize_y=True, optimizer=None
    ).fit(X[:5], y[:5])
    learner = ActiveLearner(gp)
    pool = X[30:130]
    with pytest.warns(TiedScoresWarning, match="same posterior variance"):
        idx, scores = BatchBALDQuery(random_state=3)(learner, pool, 4)
    with pytest.warns(TiedScoresWarning):
        top, _ = BALDQuery(random_state=3)(learner, pool, 4)
    np.testing.assert_array_equal(idx, top)
    assert idx.tolist() != [0, 1, 2, 3]
    # the scores are the batch's exact joint information, pick by pick
    noise, cov = model_noise_variance(learner), _latent(gp, pool)
    for i in range(4):
        assert scores[i] == pytest.approx(
            _information(cov, noise, list(idx[: i + 1])), rel=1e-8
        )
    # correlated points are still scored by the greedy: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BatchBALDQuery(random_state=3)(
            ActiveLearner(_gp().fit(X[:30], y[:30])), pool, 4
        )


def _partly_far_pool(friedman):
    """A GP whose length scale is far below the pool's spacing, and a pool
    whose first 3 points are next to its labels: the other 100 share the
    prior's variance."""
    X, y = friedman
    gp = GaussianProcessRegressor(
        RBF(np.full(10, 1e-3)) + WhiteKernel(0.3), normalize_y=True, optimizer=None
    ).fit(X[:5], y[:5])
    pool = np.vstack([X[:3] + 1e-4, X[30:130]])
    return gp, pool


@pytest.mark.parametrize("query", [BALDQuery, BatchBALDQuery])
def test_points_tied_at_the_top_are_drawn_at_random_not_by_row(friedman, query):
    # scores tied at the top used to give the lowest pool indices, 3, 4, 5, 6,
    # whatever the seed: the oldest rows of a pool sorted by date
    from skbatchbald.acquisition import TiedScoresWarning

    gp, pool = _partly_far_pool(friedman)
    variance = np.diag(_latent(gp, pool))
    assert np.all(variance[:3] < variance[3:].min())
    picks, tied = [], r"100 of the 103 points \(over half\)"
    for seed in range(8):
        with pytest.warns(TiedScoresWarning, match=tied):
            idx, scores = query(random_state=seed)(gp, pool, 4)
        assert np.all(idx >= 3)  # only tied top points, each worth the same
        noise, cov = model_noise_variance(gp), _latent(gp, pool)
        exact = [_information(cov, noise, [i]) for i in idx]
        if query is BatchBALDQuery:
            exact = [_information(cov, noise, list(idx[: i + 1])) for i in range(4)]
        np.testing.assert_allclose(scores, exact, rtol=1e-8)
        picks.append(idx.tolist())
    assert picks[0] != [3, 4, 5, 6]
    assert len({tuple(p) for p in picks}) == 8  # the seed draws the batch
    with pytest.warns(TiedScoresWarning):
        again, _ = query(random_state=0)(gp, pool, 4)
    assert again.tolist() == picks[0]


def test_a_tie_at_the_edge_of_bald_s_top_k_is_broken_at_random(friedman):
    # the two largest variances, then three copies of one point tied for the
    # last two places: no warning, the two always in, the copies drawn
    X, y = friedman
    gp = GaussianProcessRegressor(
        RBF(np.full(10, 3.0)) + WhiteKernel(0.3), normalize_y=True, optimizer=None
    ).fit(X[:5], y[:5])
    candidates = X[30:330]
    ranked = candidates[np.argsort(-np.diag(_latent(gp, candidates)))]
    pool = np.vstack([X[:3] + 1e-4, np.repeat(ranked[9:10], 3, axis=0), ranked[:2]])
    seen = set()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in range(12):
            idx, _ = BALDQuery(random_state=seed)(gp, pool, 4)
            assert set(idx[:2]) == {6, 7} and set(idx[2:]) < {3, 4, 5}
            seen.add(tuple(sorted(idx[2:])))
    assert len(seen) == 3  # each pair of the tied three is drawn


def test_power_bald_keeps_its_draw_over_tied_points(friedman):
    gp, pool = _partly_far_pool(friedman)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first, _ = PowerBALDQuery(random_state=0)(gp, pool, 4)
    again, _ = PowerBALDQuery(random_state=0)(gp, pool, 4)
    np.testing.assert_array_equal(first, again)


def test_a_gp_without_noise_names_alpha_and_the_white_kernel(friedman):
    # the message named noise_variance, which the user never passed
    X, y = friedman
    gp = GaussianProcessRegressor(RBF(1.5), alpha=0.0, optimizer=None)
    learner = ActiveLearner(gp, X_training=X[:20], y_training=y[:20])
    fix = r"alpha=0 and no WhiteKernel.*WhiteKernel\(\) added to its kernel"
    for strategy in (BALDQuery(), BatchBALDQuery(), PowerBALDQuery()):
        given = rf"{type(strategy).__name__}\(noise_variance=\.\.\.\)"
        with pytest.raises(ValueError, match=rf"{fix}.*{given}"):
            strategy(learner, X[20:80], 3)
    with pytest.raises(ValueError, match=rf"{fix}.*ExpectedInformation\("):
        ExpectedInformation().update(learner, X[20:80])
    # the measurement's noise, given, is used
    idx, _ = BatchBALDQuery(noise_variance=1.0)(learner, X[20:80], 3)
    assert len(set(idx.tolist())) == 3


def test_a_pool_tied_throughout_but_correlated_is_drawn_not_taken_by_row():
    # every pool point at the prior's variance, in two clusters far from the
    # labels: the greedy's first pick was row 0 for every seed, no warning
    from skbatchbald.acquisition import TiedScoresWarning

    X = np.array([[0.0], [0.5], [1.0]])
    gp = GaussianProcessRegressor(RBF(1.0) + WhiteKernel(0.1), optimizer=None)
    gp.fit(X, [0.0, 0.3, 0.5])
    pool = np.r_[100:110:0.5, 200:210:0.5][:, None]
    firsts = set()
    for seed in range(6):
        with pytest.warns(TiedScoresWarning, match=r"40 of the 40 points"):
            idx, scores = BatchBALDQuery(random_state=seed)(gp, pool, 3)
        firsts.add(int(idx[0]))
        # still the greedy: each pick the best extension of the batch so far
        noise, cov = model_noise_variance(gp), _latent(gp, pool)
        for i in range(1, 3):
            best = max(
                _information(cov, noise, [*idx[:i], x])
                for x in range(40)
                if x not in idx[:i]
            )
            assert scores[i] == pytest.approx(best, rel=1e-9)
    assert len(firsts) > 1
