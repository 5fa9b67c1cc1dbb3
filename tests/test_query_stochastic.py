"""stochastic= and beta on the single-point query strategies; MarginQuery."""

import numpy as np
import pytest
from sklearn.base import clone

from skbatchbald import (
    BALDQuery,
    MarginQuery,
    MaxEntropyQuery,
    MeanSTDQuery,
    PowerBALDQuery,
    VarRatiosQuery,
    acquisition,
)
from skbatchbald._validation import (
    call_context,
    call_generator,
    check_random_state,
    draw_seed,
)
from skbatchbald.sampling import predict_log_proba_samples

SINGLE_POINT = {
    BALDQuery: acquisition.bald,
    MaxEntropyQuery: acquisition.max_entropy,
    VarRatiosQuery: acquisition.variation_ratios,
    MeanSTDQuery: acquisition.mean_std,
    MarginQuery: acquisition.margin,
}


def seeds(random_state, learner, X_pool):
    """The two seeds a strategy draws: the samples' and the acquisition's."""
    context = call_context(learner, len(X_pool))
    rng = call_generator(random_state, check_random_state(random_state), context)
    return draw_seed(rng), draw_seed(rng)


@pytest.mark.parametrize("strategy_cls", SINGLE_POINT)
@pytest.mark.parametrize("stochastic", ["power", "softmax", "softrank"])
def test_strategy_draws_as_its_function(
    strategy_cls, stochastic, forest_learner, digits_split
):
    X_pool = digits_split["X_pool"][:200]
    strategy = strategy_cls(stochastic=stochastic, beta=2.0, random_state=4)
    indices, scores = strategy(forest_learner, X_pool, 6)
    sample_seed, draw_seed = seeds(4, forest_learner, X_pool)
    log_probs = predict_log_proba_samples(
        forest_learner, X_pool, random_state=sample_seed
    )
    expected = SINGLE_POINT[strategy_cls](
        log_probs, 6, stochastic=stochastic, beta=2.0, random_state=draw_seed
    )
    np.testing.assert_array_equal(indices, expected[0])
    np.testing.assert_allclose(scores, expected[1], rtol=1e-12)
    # a stochastic draw, not the top-k
    draws = {tuple(strategy_cls(stochastic=stochastic, beta=2.0, random_state=s)(
        forest_learner, X_pool, 6)[0]) for s in range(4)}  # fmt: skip
    assert len(draws) > 1


@pytest.mark.parametrize("beta", [0.5, 1.0, 8.0])
def test_power_bald_query_is_bald_with_power(beta, forest_learner, digits_split):
    X_pool = digits_split["X_pool"][:300]
    for seed in range(3):
        power = PowerBALDQuery(beta=beta, random_state=seed)(forest_learner, X_pool, 8)
        bald = BALDQuery(stochastic="power", beta=beta, random_state=seed)(
            forest_learner, X_pool, 8
        )
        np.testing.assert_array_equal(power[0], bald[0])
        # and the picks of acquisition.power_bald on the same samples
        sample_seed, draw_seed = seeds(seed, forest_learner, X_pool)
        log_probs = predict_log_proba_samples(
            forest_learner, X_pool, random_state=sample_seed
        )
        expected = acquisition.power_bald(
            log_probs, 8, beta=beta, random_state=draw_seed
        )
        np.testing.assert_array_equal(power[0], expected[0])


def test_margin_query_works_with_one_posterior_sample(forest_learner, digits_split):
    X_pool = digits_split["X_pool"][:100]
    indices, scores = MarginQuery(n_mc_samples=1, random_state=0)(
        forest_learner, X_pool, 5
    )
    assert len(set(indices.tolist())) == 5
    assert np.all((scores >= 0) & (scores <= 1))


@pytest.mark.parametrize("strategy_cls", SINGLE_POINT)
def test_parameters_are_cloned(strategy_cls):
    strategy = strategy_cls(stochastic="softmax", beta=3.0)
    params = clone(strategy).get_params()
    assert params["stochastic"] == "softmax" and params["beta"] == 3.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stochastic": "gumbel"}, "stochastic"),
        ({"stochastic": "power", "beta": 0.0}, "beta"),
        ({"beta": 2.0}, "only used by stochastic acquisition"),
    ],
)
def test_bad_parameters_are_named(kwargs, message, forest_learner):
    with pytest.raises(ValueError, match=message):
        MarginQuery(**kwargs)(forest_learner, np.zeros((10, 64)), 1)
