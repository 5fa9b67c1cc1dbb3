"""Every classifier: K = 1 scores take any predict_proba, the others need samples."""

import numpy as np
import pytest
from modAL.models import Committee
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_iris
from sklearn.ensemble import (
    AdaBoostClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
    VotingClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skbatchbald import (
    ActiveLearner,
    BALDQuery,
    BatchBALDQuery,
    BatchEPIGQuery,
    EPIGQuery,
    MarginQuery,
    MaxEntropyQuery,
    MCDropoutClassifier,
    MeanSTDQuery,
    PowerBALDQuery,
    VarRatiosQuery,
    acquisition,
)
from skbatchbald.nn import BayesianMLP

pytestmark = pytest.mark.filterwarnings(
    "ignore::skbatchbald.acquisition.SaturationWarning"
)

PREDICTIVE_STRATEGIES = [MarginQuery, MaxEntropyQuery, VarRatiosQuery]
Tied = acquisition.TiedScoresWarning
SAMPLE_STRATEGIES = [
    BatchBALDQuery,
    BALDQuery,
    PowerBALDQuery,
    MeanSTDQuery,
    EPIGQuery,
    BatchEPIGQuery,
]


def _margin(proba):
    top2 = np.sort(proba, axis=1)[:, -2:]
    return 1 - (top2[:, 1] - top2[:, 0])


def _entropy(proba):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.nansum(proba * np.log(proba), axis=1)


def _least_confidence(proba):
    return 1 - proba.max(axis=1)


# Each K = 1 score, computed here from predict_proba without the package.
SCORES = {
    MarginQuery: _margin,
    MaxEntropyQuery: _entropy,
    VarRatiosQuery: _least_confidence,
}

CLASSIFIERS = {
    "logreg": lambda: LogisticRegression(max_iter=1000),
    "kneighbors": lambda: KNeighborsClassifier(n_neighbors=7),
    "calibrated_svc": lambda: CalibratedClassifierCV(SVC(), ensemble=False, cv=2),
    "pipeline": lambda: make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=1000)
    ),
    "grid_search": lambda: GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        {"logisticregression__C": [0.1, 1.0]},
        cv=2,
    ),
    "soft_voting": lambda: VotingClassifier(
        [
            ("lr", LogisticRegression(max_iter=1000)),
            ("knn", KNeighborsClassifier(n_neighbors=7)),
        ],
        voting="soft",
        weights=[2, 1],  # not an equally weighted set of posterior samples
    ),
}


@pytest.fixture(scope="module")
def pool(digits_split):
    return digits_split["X_pool"][:300] / 16


@pytest.fixture(scope="module")
def fitted(digits_split):
    """Each classifier fitted once on 60 labels, given as strings."""
    d = digits_split
    letters = np.array(list("abcdefghij"))
    X = np.concatenate([d["X_init"], d["X_pool"][-40:]]) / 16
    y = letters[np.concatenate([d["y_init"], d["y_pool"][-40:]])]
    return {name: make().fit(X, y) for name, make in CLASSIFIERS.items()}


@pytest.mark.parametrize("strategy_cls", PREDICTIVE_STRATEGIES)
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_k1_scores_take_any_classifier_with_predict_proba(
    strategy_cls, name, fitted, pool
):
    learner = ActiveLearner(fitted[name], query_strategy=strategy_cls(random_state=0))
    idx, rows, scores = learner.query(pool, n_instances=6, return_metrics=True)
    expected = SCORES[strategy_cls](learner.predict_proba(pool))
    np.testing.assert_allclose(scores, expected[idx], atol=1e-5)
    # the top 6 of the score, up to float32 ties
    assert scores.min() >= np.sort(expected)[-6] - 1e-5
    assert len(set(idx)) == 6
    np.testing.assert_array_equal(rows, pool[idx])


@pytest.mark.parametrize("strategy_cls", PREDICTIVE_STRATEGIES)
def test_k1_scores_with_stochastic_draws(strategy_cls, fitted, pool):
    learner = ActiveLearner(fitted["logreg"])
    a = strategy_cls(stochastic="softrank", random_state=1)(learner, pool, 5)
    b = strategy_cls(stochastic="softrank", random_state=1)(learner, pool, 5)
    np.testing.assert_array_equal(a[0], b[0])
    expected = SCORES[strategy_cls](learner.predict_proba(pool))
    np.testing.assert_allclose(a[1], expected[a[0]], atol=1e-5)


@pytest.mark.parametrize("strategy_cls", PREDICTIVE_STRATEGIES)
def test_k1_scores_refuse_more_samples_than_a_point_estimate_has(
    strategy_cls, fitted, pool
):
    learner = ActiveLearner(fitted["logreg"])
    with pytest.raises(ValueError, match="n_mc_samples=4 asks for posterior samples"):
        strategy_cls(n_mc_samples=4)(learner, pool, 3)


@pytest.mark.parametrize("strategy_cls", SAMPLE_STRATEGIES)
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_sample_scores_refuse_a_point_estimate(strategy_cls, name, fitted, pool):
    learner = ActiveLearner(fitted[name], query_strategy=strategy_cls())
    with pytest.raises(ValueError, match="not posterior samples") as info:
        learner.query(pool, n_instances=3)
    for source in ("MCDropoutClassifier", "RandomForestClassifier", "Committee"):
        assert source in str(info.value)


@pytest.mark.parametrize("strategy_cls", SAMPLE_STRATEGIES)
def test_the_math_needs_two_samples(strategy_cls):
    """With K = 1 each of these scores is 0 everywhere: why they refuse one sample."""
    rng = np.random.default_rng(0)
    log_probs = np.log(rng.dirichlet(np.ones(4), size=(30, 1)))  # (N, K=1, C)
    if strategy_cls in (EPIGQuery, BatchEPIGQuery):
        function = {EPIGQuery: acquisition.epig, BatchEPIGQuery: acquisition.batch_epig}
        _, scores = function[strategy_cls](
            log_probs, 3, log_probs_target=log_probs[:10], random_state=0
        )
    else:
        function = {
            BatchBALDQuery: acquisition.batchbald,
            BALDQuery: acquisition.bald,
            PowerBALDQuery: acquisition.bald,
            MeanSTDQuery: acquisition.mean_std,
        }[strategy_cls]
        _, scores = function(log_probs, 3)
    np.testing.assert_allclose(scores, 0.0, atol=1e-6)


@pytest.mark.parametrize("strategy_cls", SAMPLE_STRATEGIES)
def test_sample_scores_refuse_one_sample_of_a_forest(
    strategy_cls, forest_learner, pool
):
    with pytest.raises(ValueError, match="needs at least 2 posterior samples") as info:
        strategy_cls(n_mc_samples=1)(forest_learner, pool * 16, 3)
    assert "n_mc_samples=1 gives 1" in str(info.value)
    one_tree = RandomForestClassifier(n_estimators=1, random_state=0)
    one_tree.fit(forest_learner.X_training, forest_learner.y_training)
    with pytest.raises(ValueError, match="RandomForestClassifier gives 1"):
        strategy_cls()(one_tree, pool * 16, 3)
    learner = ActiveLearner(
        make_pipeline(StandardScaler(), clone(one_tree)),
        X_training=forest_learner.X_training,
        y_training=forest_learner.y_training,
    )
    with pytest.raises(ValueError, match="RandomForestClassifier gives 1"):
        strategy_cls()(learner, pool * 16, 3)


def test_sample_scores_refuse_one_dropout_sample(digits_split, pool):
    d = digits_split
    net = MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        n_mc_samples=1,
        max_epochs=2,
        verbose=0,
        random_state=0,
    ).fit(d["X_init"] / 16, d["y_init"])
    with pytest.raises(ValueError, match="MCDropoutClassifier gives 1"):
        BALDQuery()(net, pool, 3)
    # margin of one dropout sample is a score of its own
    idx, _ = MarginQuery()(net, pool, 3)
    assert len(set(idx)) == 3


@pytest.mark.parametrize("strategy_cls", PREDICTIVE_STRATEGIES)
def test_k1_scores_of_one_forest_member(strategy_cls, forest_learner, pool):
    picks = strategy_cls(n_mc_samples=1, random_state=0)(forest_learner, pool * 16, 3)
    idx, scores = picks
    assert len(set(idx)) == 3 and np.all(np.isfinite(scores))


@pytest.mark.parametrize("strategy_cls", PREDICTIVE_STRATEGIES)
def test_scores_tied_everywhere_draw_at_random_not_in_pool_order(strategy_cls):
    # iris is sorted by class; one fully grown tree's probabilities are 0 or 1,
    # so every margin, entropy or variation ratio is 0 and ranks nothing
    X, y = load_iris(return_X_y=True)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    with pytest.warns(Tied, match="all 150 pool points have the same"):
        idx, scores = strategy_cls(n_mc_samples=1, random_state=0)(forest, X, 10)
    np.testing.assert_array_equal(scores, 0.0)
    assert len(np.unique(y[idx])) > 1  # not the first ten rows: all class 0
    with pytest.warns(Tied):
        again, _ = strategy_cls(n_mc_samples=1, random_state=0)(forest, X, 10)
    np.testing.assert_array_equal(again, idx)


def test_margins_that_coincide_everywhere_draw_at_random():
    # one stump: two probability rows, (p, 1 - p) and (1 - p, p), one margin
    X, y = load_iris(return_X_y=True)
    X, y = X[:100], y[:100]  # classes 0 and 1, sorted
    stump = AdaBoostClassifier(n_estimators=1, random_state=0).fit(X, y)
    with pytest.warns(Tied, match="AdaBoost whose probabilities coincide"):
        idx, _ = MarginQuery(random_state=0)(stump, X, 10)
    assert len(np.unique(y[idx])) == 2


def test_committee_of_point_estimates_is_a_posterior(digits_split, pool):
    d = digits_split
    members = [
        ActiveLearner(
            LogisticRegression(C=c, max_iter=1000),
            X_training=d["X_init"] / 16,
            y_training=d["y_init"],
        )
        for c in (0.01, 1.0)
    ]
    committee = Committee(members, query_strategy=BALDQuery())
    idx, _ = committee.query(pool, n_instances=3)
    assert len(set(idx)) == 3


@pytest.mark.parametrize("strategy_cls", SAMPLE_STRATEGIES)
def test_a_list_of_classifiers_is_a_posterior_as_its_committee_is(
    strategy_cls, digits_split, pool
):
    d = digits_split
    models = [
        LogisticRegression(C=c, max_iter=1000).fit(d["X_init"] / 16, d["y_init"])
        for c in (0.01, 1.0)
    ]
    committee = Committee([ActiveLearner(m) for m in models])
    strategy = strategy_cls(random_state=0)
    idx, scores = strategy(models, pool, n_instances=3)
    np.testing.assert_array_equal(idx, strategy(committee, pool, n_instances=3)[0])
    assert len(set(idx)) == 3 and np.all(np.isfinite(scores))


def test_regressor_learner_gets_regression_bald_or_a_precise_error(digits_split, pool):
    d = digits_split
    learner = ActiveLearner(
        RandomForestRegressor(n_estimators=3, random_state=0),
        X_training=d["X_init"],
        y_training=d["y_init"].astype(float),
    )
    idx, _ = BALDQuery()(learner, pool, 2)
    assert len(set(idx.tolist())) == 2
    with pytest.raises(ValueError, match="MarginQuery scores the class probabilities"):
        MarginQuery()(learner, pool, 2)


def test_multi_output_forest_says_what_is_supported(digits_split, pool):
    d = digits_split
    y = np.column_stack([d["y_init"], d["y_init"] % 2])
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=3, random_state=0),
        X_training=d["X_init"],
        y_training=y,
    )
    for strategy in (MarginQuery(), BatchBALDQuery()):
        with pytest.raises(
            ValueError,
            match=r"more than two classes are not supported.*one label per row",
        ):
            strategy(learner, pool, 2)


def test_a_plain_skorch_networks_softmax_is_one_sample(digits_split, pool):
    skorch = pytest.importorskip("skorch")
    torch = pytest.importorskip("torch")
    d = digits_split
    module = torch.nn.Sequential(
        torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)
    )
    net = skorch.NeuralNetClassifier(
        module,
        criterion=torch.nn.CrossEntropyLoss,  # logits out, softmax in predict_proba
        max_epochs=3,
        train_split=None,
        verbose=0,
    ).fit((d["X_init"] / 16).astype(np.float32), d["y_init"])
    X = pool.astype(np.float32)
    idx, scores = MarginQuery()(net, X, 4)
    np.testing.assert_allclose(scores, _margin(net.predict_proba(X))[idx], atol=1e-5)
    with pytest.raises(ValueError, match="NeuralNetClassifier gives one predictive"):
        BALDQuery()(net, X, 4)
    # skorch's default NLLLoss leaves logits as they are: not probabilities
    net.set_params(criterion=torch.nn.NLLLoss).initialize()
    with pytest.raises(ValueError, match=r"do not sum to 1.*CrossEntropyLoss"):
        MarginQuery()(net, X, 4)
