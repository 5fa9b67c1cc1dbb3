"""Query strategies as modAL strategies and scikit-learn estimators."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from modAL.models import Committee, DeepActiveLearner
from sklearn.base import clone
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
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
    MCDropoutClassifier,
    MeanSTDQuery,
    PowerBALDQuery,
    RandomQuery,
    VarRatiosQuery,
    acquisition,
)
from skbatchbald._validation import call_context
from skbatchbald.acquisition import SaturationWarning, TiedScoresWarning
from skbatchbald.nn import BayesianMLP
from skbatchbald.sampling import predict_log_proba_samples

# A 20-tree forest is a sharp posterior: BatchBALD saturates at log 20 nats
# within a few picks. test_saturation_is_reported checks the warning itself.
pytestmark = pytest.mark.filterwarnings(
    "ignore::skbatchbald.acquisition.SaturationWarning"
)

POSTERIOR_STRATEGIES = [
    BatchBALDQuery,
    BALDQuery,
    PowerBALDQuery,
    MaxEntropyQuery,
    VarRatiosQuery,
    MeanSTDQuery,
    MarginQuery,
]
# EPIGQuery's and BatchEPIGQuery's delegation is checked in test_query_epig.py
ALL_STRATEGIES = [*POSTERIOR_STRATEGIES, EPIGQuery, BatchEPIGQuery, RandomQuery]


def forest(seed=0):
    return RandomForestClassifier(n_estimators=20, random_state=seed)


class TestContract:
    @pytest.mark.parametrize("strategy_cls", ALL_STRATEGIES)
    def test_returns_a_pair_of_int64_indices_and_float64_scores(
        self, strategy_cls, forest_learner, digits_split
    ):
        X_pool = digits_split["X_pool"][:300]
        indices, scores = strategy_cls(random_state=0)(forest_learner, X_pool, 7)
        assert indices.dtype == np.int64 and scores.dtype == np.float64
        assert indices.shape == scores.shape == (7,)
        assert len(np.unique(indices)) == 7
        assert indices.min() >= 0 and indices.max() < len(X_pool)

    @pytest.mark.parametrize("strategy_cls", POSTERIOR_STRATEGIES)
    def test_delegates_to_the_acquisition_function(
        self, strategy_cls, forest_learner, digits_split
    ):
        """The strategy's picks are the math layer's picks on the same samples."""
        X_pool = digits_split["X_pool"][:200]
        strategy = strategy_cls(random_state=0)
        indices, scores = strategy(forest_learner, X_pool, 5)
        log_probs = predict_log_proba_samples(forest_learner, X_pool)
        function = {
            BatchBALDQuery: acquisition.batchbald,
            BALDQuery: acquisition.bald,
            MaxEntropyQuery: acquisition.max_entropy,
            VarRatiosQuery: acquisition.variation_ratios,
            MeanSTDQuery: acquisition.mean_std,
            MarginQuery: acquisition.margin,
            PowerBALDQuery: None,
        }[strategy_cls]
        if function is None:  # stochastic: compare its score, BALD of the picks
            bald_all = acquisition.mutual_information(log_probs)
            np.testing.assert_allclose(scores, bald_all[indices], rtol=1e-6)
            return
        expected_idx, expected_scores = function(log_probs, 5)
        np.testing.assert_array_equal(indices, expected_idx)
        np.testing.assert_allclose(scores, expected_scores, rtol=1e-6)

    @pytest.mark.parametrize("strategy_cls", ALL_STRATEGIES)
    def test_runs_once_per_modal_query(
        self, strategy_cls, digits_split, count_acquisitions
    ):
        calls = count_acquisitions(strategy_cls)
        d = digits_split
        learner = ActiveLearner(
            forest(),
            query_strategy=strategy_cls(random_state=0),
            X_training=d["X_init"],
            y_training=d["y_init"],
        )
        idx, rows, metrics = learner.query(
            d["X_pool"][:100], n_instances=4, return_metrics=True
        )
        assert calls == [1]
        assert metrics.shape == (4,)
        np.testing.assert_array_equal(rows, digits_split["X_pool"][:100][idx])

    @pytest.mark.parametrize("strategy_cls", ALL_STRATEGIES)
    def test_same_seed_same_picks(self, strategy_cls, forest_learner, digits_split):
        X_pool = digits_split["X_pool"][:300]
        first = strategy_cls(random_state=3)(forest_learner, X_pool, 6)
        second = strategy_cls(random_state=3)(forest_learner, X_pool, 6)
        np.testing.assert_array_equal(first[0], second[0])
        np.testing.assert_array_equal(first[1], second[1])

    @pytest.mark.parametrize("strategy_cls", ALL_STRATEGIES)
    def test_every_random_state_form(self, strategy_cls, forest_learner, digits_split):
        """A Generator, a RandomState and a SeedSequence are accepted, as ints are."""
        X_pool = digits_split["X_pool"][:300]
        by_int = strategy_cls(random_state=3)(forest_learner, X_pool, 4)[0]
        # An int seeds the call together with the pool's size and the
        # labelled set's.
        entropy = [3, *call_context(forest_learner, len(X_pool))]
        for same in (np.random.default_rng(entropy), np.random.SeedSequence(entropy)):
            again = strategy_cls(random_state=same)(forest_learner, X_pool, 4)[0]
            np.testing.assert_array_equal(again, by_int)
        legacy = strategy_cls(random_state=np.random.RandomState(3))
        assert len(set(legacy(forest_learner, X_pool, 4)[0].tolist())) == 4

    def test_random_query_differs_between_seeds(self, forest_learner, digits_split):
        X_pool = digits_split["X_pool"]
        picks = {
            tuple(RandomQuery(random_state=s)(forest_learner, X_pool, 5)[0])
            for s in range(5)
        }
        assert len(picks) == 5


@pytest.mark.filterwarnings("error::skbatchbald.acquisition.SaturationWarning")
def test_saturation_is_reported(forest_learner, digits_split):
    with pytest.warns(
        SaturationWarning,
        match=r"raise the number of posterior.*on_saturation=.greedy.",
    ):
        BatchBALDQuery(random_state=0)(forest_learner, digits_split["X_pool"], 8)


def test_lazy_is_passed_to_the_acquisition(forest_learner, digits_split, monkeypatch):
    seen = {}
    original = acquisition.batchbald

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(acquisition, "batchbald", spy)
    BatchBALDQuery(lazy=True)(forest_learner, digits_split["X_pool"][:100], 3)
    assert seen["lazy"] is True
    assert seen["on_saturation"] == "bald"
    BatchBALDQuery(on_saturation="greedy")(
        forest_learner, digits_split["X_pool"][:100], 3
    )
    assert seen["on_saturation"] == "greedy"


class TestPoolSubsample:
    def test_indices_refer_to_the_full_pool(self, forest_learner, digits_split):
        X_pool = digits_split["X_pool"]
        strategy = BALDQuery(pool_subsample=100, random_state=0)
        indices, scores = strategy(forest_learner, X_pool, 5)
        assert indices.max() < len(X_pool)
        # The subset is drawn first from the same generator: rebuild it.
        # what the seed 0 gives this call
        rng = np.random.default_rng([0, *call_context(forest_learner, len(X_pool))])
        subset = np.sort(rng.choice(len(X_pool), size=100, replace=False))
        assert set(indices) <= set(subset)
        log_probs = predict_log_proba_samples(forest_learner, X_pool[subset])
        bald_subset = acquisition.mutual_information(log_probs)
        np.testing.assert_allclose(scores, np.sort(bald_subset)[::-1][:5], rtol=1e-6)

    def test_subsample_larger_than_pool_scores_everything(
        self, forest_learner, digits_split
    ):
        X_pool = digits_split["X_pool"][:50]
        full = BALDQuery(random_state=0)(forest_learner, X_pool, 5)
        big = BALDQuery(pool_subsample=500, random_state=0)(forest_learner, X_pool, 5)
        np.testing.assert_array_equal(full[0], big[0])

    def test_subsample_smaller_than_batch(self, forest_learner, digits_split):
        with pytest.raises(ValueError, match="pool_subsample=3 is smaller"):
            BALDQuery(pool_subsample=3)(forest_learner, digits_split["X_pool"], 5)


class TwoInputSampler:
    """Posterior samples of rows given as one array or as skorch's dict of two
    inputs (the array's halves): the same samples for the same rows."""

    def predict_log_proba_samples(self, X, n_mc_samples=None, random_state=None):
        if isinstance(X, dict):
            X = np.concatenate([X["left"], X["right"]], axis=1)
        weights = np.random.default_rng(0).normal(size=(4, 64, 3))  # (K, D, C)
        logits = np.einsum("nd,kdc->nkc", X / 16, weights)
        return logits - np.logaddexp.reduce(logits, axis=2, keepdims=True)


def _halves(X):
    return {"left": X[:, :32], "right": X[:, 32:]}


class TestEstimatorsAndLearners:
    def test_bare_fitted_estimator(self, digits_split):
        d = digits_split
        model = forest().fit(d["X_init"], d["y_init"])
        indices, _ = BatchBALDQuery(random_state=0)(model, d["X_pool"][:200], 5)
        assert len(set(indices)) == 5

    @pytest.mark.parametrize(
        "strategy",
        [
            BALDQuery(pool_subsample=50, random_state=0),
            BatchBALDQuery(random_state=0),
            MarginQuery(pool_subsample=50, random_state=0),
            EPIGQuery(target_subsample=20, random_state=0),
            RandomQuery(random_state=0),
        ],
        ids=lambda strategy: type(strategy).__name__,
    )
    def test_a_dict_pool_of_several_inputs_as_its_array(self, strategy, digits_split):
        X_pool = digits_split["X_pool"][:200]
        sampler = TwoInputSampler()
        from_dict = strategy(sampler, _halves(X_pool), 4)
        np.testing.assert_array_equal(from_dict, strategy(sampler, X_pool, 4))

    def test_epig_targets_given_as_a_dict(self, digits_split):
        X_pool, X_target = digits_split["X_pool"][:200], digits_split["X_pool"][200:260]
        sampler = TwoInputSampler()
        strategy = EPIGQuery(X_target=_halves(X_target), random_state=0)
        picks = strategy(sampler, _halves(X_pool), 4)
        strategy.set_params(X_target=X_target)
        np.testing.assert_array_equal(picks, strategy(sampler, X_pool, 4))

    def test_pipeline_ending_in_an_ensemble(self, digits_split):
        d = digits_split
        pipe = make_pipeline(StandardScaler(), forest())
        learner = ActiveLearner(pipe, X_training=d["X_init"], y_training=d["y_init"])
        X_pool = d["X_pool"][:200]
        indices, _ = BALDQuery()(learner, X_pool, 5)
        direct = acquisition.bald(
            predict_log_proba_samples(pipe[-1], pipe[:-1].transform(X_pool)), 5
        )[0]
        np.testing.assert_array_equal(indices, direct)

    def test_modal_committee(self, digits_split):
        d = digits_split
        members = [
            ActiveLearner(
                LogisticRegression(C=c, max_iter=300),
                X_training=d["X_init"],
                y_training=d["y_init"],
            )
            for c in (0.01, 0.1, 1.0)
        ]
        committee = Committee(members, query_strategy=BatchBALDQuery(random_state=0))
        idx, rows = committee.query(d["X_pool"][:200], n_instances=4)
        assert len(set(idx)) == 4
        np.testing.assert_array_equal(rows, d["X_pool"][:200][idx])

    def test_modal_deep_active_learner(self, digits_split):
        d = digits_split
        net = MCDropoutClassifier(
            BayesianMLP, module__n_features=64, max_epochs=30, random_state=0, verbose=0
        )
        learner = DeepActiveLearner(net, query_strategy=BatchBALDQuery(random_state=0))
        learner.fit(d["X_init"] / 16, d["y_init"])
        idx, rows = learner.query(d["X_pool"] / 16, n_instances=5)
        assert len(set(idx)) == 5
        learner.teach(rows, d["y_pool"][idx])  # warm start: one more partial_fit
        log_probs = predict_log_proba_samples(learner, d["X_pool"][:7] / 16)
        assert log_probs.shape == (7, 20, 10)

    @pytest.mark.parametrize(
        "make_pool",
        [
            lambda X: pd.DataFrame(X),
            lambda X: torch.as_tensor(X),
            lambda X: X.tolist(),
        ],
        ids=["dataframe", "tensor", "list"],
    )
    def test_pool_containers(self, make_pool, digits_split):
        d = digits_split
        model = ExtraTreesClassifier(n_estimators=10, random_state=0)
        model.fit(pd.DataFrame(d["X_init"]), d["y_init"])
        X_pool = d["X_pool"][:150]
        expected = BALDQuery()(model, pd.DataFrame(X_pool), 4)[0]
        indices, _ = BALDQuery()(model, make_pool(X_pool), 4)
        np.testing.assert_array_equal(indices, expected)


class TestBadInput:
    @pytest.mark.parametrize("strategy_cls", ALL_STRATEGIES)
    @pytest.mark.parametrize("n_instances", [0, -1, 11])
    def test_batch_size_out_of_range(
        self, strategy_cls, n_instances, forest_learner, digits_split
    ):
        with pytest.raises(
            ValueError, match=r"n_instances must be an int in \[1, 10\].*partial batch"
        ):
            strategy_cls()(forest_learner, digits_split["X_pool"][:10], n_instances)

    @pytest.mark.parametrize("n_instances", [2.0, "3", True])
    def test_batch_size_not_an_integer(self, n_instances, forest_learner, digits_split):
        with pytest.raises(TypeError, match="n_instances must be an int"):
            BALDQuery()(forest_learner, digits_split["X_pool"], n_instances)

    @pytest.mark.parametrize("strategy_cls", ALL_STRATEGIES)
    def test_empty_pool(self, strategy_cls, forest_learner):
        with pytest.raises(ValueError, match="X_pool is empty"):
            strategy_cls()(forest_learner, np.empty((0, 64)), 1)

    @pytest.mark.parametrize("strategy_cls", POSTERIOR_STRATEGIES)
    def test_unfitted_learner(self, strategy_cls, digits_split):
        learner = ActiveLearner(forest())
        with pytest.raises(NotFittedError):
            strategy_cls()(learner, digits_split["X_pool"], 3)

    @pytest.mark.parametrize(
        "strategy_cls", [*POSTERIOR_STRATEGIES, EPIGQuery, BatchEPIGQuery]
    )
    def test_a_learner_with_one_class_names_what_to_do(
        self, strategy_cls, digits_split
    ):
        d = digits_split
        one_class = d["y_init"] == d["y_init"][0]
        learner = ActiveLearner(
            forest(),
            X_training=d["X_init"][one_class],
            y_training=d["y_init"][one_class],
        )
        with pytest.raises(
            ValueError, match=r"one class only.*RandomQuery\(\) or .*TypiClustQuery"
        ):
            strategy_cls()(learner, d["X_pool"], 3)
        idx, _ = RandomQuery(random_state=0)(learner, d["X_pool"], 3)
        assert len(set(idx)) == 3

    def test_estimator_without_posterior_samples(self, digits_split):
        d = digits_split
        model = LogisticRegression(max_iter=300).fit(d["X_init"], d["y_init"])
        with pytest.raises(ValueError, match="RandomForest"):
            BatchBALDQuery()(model, d["X_pool"], 3)

    @pytest.mark.parametrize(
        ("strategy", "error", "message"),
        [
            (BatchBALDQuery(n_joint_samples=0), ValueError, "n_joint_samples"),
            (BatchBALDQuery(n_joint_samples=1.5), TypeError, "n_joint_samples"),
            (BatchBALDQuery(n_mc_samples=0), ValueError, "n_mc_samples"),
            (BALDQuery(n_mc_samples="20"), TypeError, "n_mc_samples"),
            (BALDQuery(pool_subsample=0), ValueError, "pool_subsample"),
            (PowerBALDQuery(beta=0.0), ValueError, "beta"),
            (PowerBALDQuery(beta="high"), TypeError, "beta"),
            (BatchBALDQuery(max_memory="lots"), ValueError, "max_memory"),
            (BatchBALDQuery(random_state="seed"), TypeError, "random_state"),
            (RandomQuery(random_state=-1), ValueError, "random_state"),
            (BatchBALDQuery(lazy="yes"), TypeError, "lazy"),
            (BatchBALDQuery(on_saturation="noise"), ValueError, "on_saturation"),
        ],
    )
    def test_bad_parameters_are_named(self, strategy, error, message, forest_learner):
        with pytest.raises(error, match=message):
            strategy(forest_learner, np.zeros((10, 64)), 1)

    @pytest.mark.parametrize(
        ("argument", "fix"),
        [
            ("num_cycles", r"BALDQuery\(n_mc_samples=100\)"),
            ("T", r"BALDQuery\(n_mc_samples=100\)"),
            ("dropout_layer_indexes", "samples every dropout layer"),
            ("sample_per_forward_pass", "max_memory"),
            ("logits_adaptor", "log-probabilities itself"),
            ("random_tie_break", "stochastic='softrank'"),
            ("metric", "MarginQuery"),
            ("n_jobs", r"n_jobs on the MCDropoutClassifier.*heads.*take no n_jobs"),
            ("n_mc_samples", r"query_strategy__n_mc_samples"),
            (
                "colour",
                "constructor parameters: beta, n_mc_samples, noise_variance, "
                "pool_subsample",
            ),
        ],
    )
    def test_modal_query_arguments_say_what_replaces_them(
        self, argument, fix, forest_learner, digits_split
    ):
        learner = ActiveLearner(
            forest_learner.estimator, query_strategy=BALDQuery(random_state=0)
        )
        with pytest.raises(TypeError, match=fix) as info:
            learner.query(digits_split["X_pool"], n_instances=3, **{argument: 1})
        message = str(info.value)
        assert message.startswith("BALDQuery takes the pool and n_instances only")
        assert f"{argument}=1" in message and "__call__" not in message

    def test_modal_mc_dropout_query_names_every_argument(
        self, forest_learner, digits_split
    ):
        # modAL's examples/pytorch_mc_dropout.py, with a skbatchbald strategy
        strategy = BatchBALDQuery()
        with pytest.raises(TypeError) as info:
            strategy(
                forest_learner,
                digits_split["X_pool"],
                n_instances=100,
                dropout_layer_indexes=[7, 16],
                num_cycles=100,
            )
        message = str(info.value)
        assert "not dropout_layer_indexes, num_cycles" in message
        assert "dropout_layer_indexes=[7, 16]: not needed" in message
        assert "num_cycles=100: the number of posterior samples" in message
        with pytest.raises(TypeError, match="RandomQuery takes the pool"):
            RandomQuery()(forest_learner, digits_split["X_pool"], 2, T=10)

    def test_pool_that_is_not_array_like(self, forest_learner):
        with pytest.raises(TypeError, match="X_pool must be array-like"):
            RandomQuery()(forest_learner, 5, 1)


class TestEstimatorAPI:
    @pytest.mark.parametrize("strategy_cls", ALL_STRATEGIES)
    def test_clone_and_params(self, strategy_cls):
        strategy = strategy_cls(random_state=5)
        copy = clone(strategy)
        assert copy is not strategy
        assert copy.get_params() == strategy.get_params()
        assert copy.get_params()["random_state"] == 5

    def test_repr_shows_changed_parameters(self):
        text = repr(BatchBALDQuery(n_joint_samples=2_000, random_state=0))
        assert text == "BatchBALDQuery(n_joint_samples=2000, random_state=0)"

    def test_set_params(self):
        strategy = PowerBALDQuery().set_params(beta=2.0, n_mc_samples=7)
        assert strategy.beta == 2.0 and strategy.n_mc_samples == 7

    def test_learner_with_a_strategy_clones(self, digits_split):
        learner = ActiveLearner(
            forest(), query_strategy=BatchBALDQuery(n_joint_samples=500)
        )
        copy = clone(learner)
        assert copy.query_strategy is not learner.query_strategy
        assert copy.query_strategy.get_params() == learner.query_strategy.get_params()


class _BudgetSpy:
    """An estimator with posterior samples that records the budget it is given."""

    def __init__(self):
        self.budgets = []

    def predict_log_proba_samples(self, X, n_mc_samples=None, random_state=None, **kw):
        self.budgets.append(kw.get("max_memory"))
        rng = np.random.default_rng(0)
        logits = rng.normal(size=(len(X), 4, 3))
        return logits - np.log(np.exp(logits).sum(-1, keepdims=True))


@pytest.mark.parametrize(
    "strategy", [BatchBALDQuery, EPIGQuery, BatchEPIGQuery], ids=lambda s: s.__name__
)
def test_max_memory_bounds_the_sampling_too(strategy):
    # One meaning end to end: the strategy's budget reaches the sampler, and
    # None leaves the estimator's own.
    spy = _BudgetSpy()
    X = np.zeros((30, 2))
    strategy(max_memory="64MB", random_state=0)(spy, X, 2)
    strategy(random_state=0)(spy, X, 2)
    assert spy.budgets == ["64MB", None]


def test_a_model_that_scores_other_rows_than_the_pool_is_refused():
    # a one-column DataFrame of texts: TfidfVectorizer reads its column names,
    # one "document", and the strategies silently picked the first row
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [f"word{i % 4} common thing {i}" for i in range(60)]
    y = np.arange(60) % 4
    learner = ActiveLearner(
        make_pipeline(TfidfVectorizer(), LogisticRegression()),
        query_strategy=MarginQuery(),
        X_training=texts[:20],
        y_training=y[:20],
    )
    frame = pd.DataFrame({"text": texts[20:]})
    for n_instances in (1, 3):
        with pytest.raises(
            ValueError, match=r"1 outputs for a pool of 40.*df\['text'\]"
        ):
            MarginQuery()(learner, frame, n_instances)
    idx, _ = learner.query(frame["text"], n_instances=3)
    assert len(set(idx)) == 3


def test_a_model_predicting_one_class_for_the_whole_pool_warns(digits):
    # nets trained too briefly on a few labels predicted one class and the
    # strategies' picks sat at chance for ten rounds, without a word
    from sklearn.dummy import DummyClassifier

    X, y = digits
    collapsed = ActiveLearner(
        DummyClassifier(strategy="prior"), X_training=X[:30], y_training=y[:30]
    )
    with pytest.warns(UserWarning, match="one class for all 200 pool points.*10 cl"):
        MarginQuery()(collapsed, X[30:230], 5)
    fine = ActiveLearner(
        RandomForestClassifier(10, random_state=0), X_training=X[:30], y_training=y[:30]
    )
    binary = ActiveLearner(
        DummyClassifier(strategy="prior"),
        X_training=X[:30],
        y_training=(y[:30] == 8).astype(int),  # two classes: may be imbalance
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=TiedScoresWarning)
        warnings.filterwarnings("error", message=".*predicts one class")
        MarginQuery()(fine, X[30:230], 5)
        MarginQuery()(binary, X[30:230], 5)
        MarginQuery()(collapsed, X[30:40], 5)  # a pool of ten: may be one class
        # an accurate model on a pool that holds one class (late in a loop)
        ones = np.flatnonzero(y[30:] == 1)[:30] + 30
        MarginQuery()(fine, X[ones], 5)


def test_the_one_class_warning_counts_pool_points_only(digits):
    from sklearn.dummy import DummyClassifier

    X, y = digits
    collapsed = ActiveLearner(
        DummyClassifier(strategy="prior"), X_training=X[:30], y_training=y[:30]
    )
    with pytest.warns(UserWarning, match="for all 50 scored pool points"):
        MarginQuery(pool_subsample=50, random_state=0)(collapsed, X[30:230], 5)
    from sklearn.ensemble import BaggingClassifier

    # K = 3 samples that all predict the prior
    members = BaggingClassifier(
        DummyClassifier(strategy="prior"), n_estimators=3, bootstrap=False
    )
    learner = ActiveLearner(members, X_training=X[:30], y_training=y[:30])
    with pytest.warns(UserWarning, match="for all 200 pool points"):
        EPIGQuery(X_target=X[300:400], random_state=0)(learner, X[30:230], 5)
