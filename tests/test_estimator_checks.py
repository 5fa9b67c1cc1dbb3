"""scikit-learn's estimator checks on MCDropoutClassifier and the strategies."""

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    parametrize_with_checks,
)
from torch import nn

from skbatchbald import (
    BALDQuery,
    BatchBALDQuery,
    MaxEntropyQuery,
    MCDropoutClassifier,
    MeanSTDQuery,
    PowerBALDQuery,
    RandomQuery,
    VarRatiosQuery,
)
from skbatchbald.nn import ConsistentMCDropout


class LazyMLP(nn.Module):
    """An MLP for any number of features (lazy first layer) and of classes."""

    def __init__(self, n_classes=2, hidden=16, p=0.2):
        super().__init__()
        self.layers = nn.Sequential(
            nn.LazyLinear(hidden),
            nn.ReLU(),
            ConsistentMCDropout(p),
            nn.Linear(hidden, n_classes),
        )

    def forward(self, x):
        return self.layers(x.flatten(1))


def classifier():
    return MCDropoutClassifier(
        LazyMLP, max_epochs=20, lr=0.02, n_mc_samples=5, verbose=0, random_state=0
    )


# At most five, each with the reason it is by design.
EXPECTED_FAILED_CHECKS = {
    "check_no_attributes_set_in_init": (
        "skorch's NeuralNet.__init__ sets history_, initialized_ and "
        "virtual_params_; the class builds on skorch's constructor as is."
    ),
    "check_set_params": (
        "skorch's set_params treats callbacks, optimizer and module parameters "
        "as components and rejects values such as -inf for them."
    ),
}


@parametrize_with_checks(
    [classifier()], expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS
)
def test_classifier_passes_scikit_learn_checks(estimator, check):
    check(estimator)


STRATEGIES = [
    BatchBALDQuery,
    BALDQuery,
    PowerBALDQuery,
    MaxEntropyQuery,
    VarRatiosQuery,
    MeanSTDQuery,
    RandomQuery,
]


@pytest.fixture(scope="module")
def forest():
    """A fitted ensemble: each tree is one posterior sample."""
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    X, y = load_iris(return_X_y=True)
    return RandomForestClassifier(8, random_state=0).fit(X, y), X


@pytest.mark.parametrize("strategy_cls", STRATEGIES, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    "check",
    [
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_get_params_invariance,
        check_set_params,
    ],
    ids=lambda c: c.__name__,
)
def test_strategies_pass_the_checks_that_need_no_fit(strategy_cls, check):
    check(strategy_cls.__name__, strategy_cls())


@pytest.mark.parametrize("strategy_cls", STRATEGIES, ids=lambda c: c.__name__)
def test_strategies_clone_repr_and_keep_their_parameters(strategy_cls, forest):
    learner, X = forest
    strategy = strategy_cls(random_state=0)
    twin = clone(strategy)
    assert repr(twin) == repr(strategy)
    assert twin.get_params().keys() == strategy.get_params().keys()
    before = joblib.hash(strategy.get_params())
    strategy(learner, X, n_instances=3)
    assert joblib.hash(strategy.get_params()) == before  # __call__ mutates nothing


@pytest.mark.parametrize("strategy_cls", STRATEGIES, ids=lambda c: c.__name__)
def test_strategies_accept_every_random_state_form(strategy_cls, forest):
    learner, X = forest
    picks = {}
    for name, state in [
        ("int", 3),
        ("Generator", np.random.default_rng(3)),
        ("RandomState", np.random.RandomState(3)),
    ]:
        indices, _ = strategy_cls(random_state=state)(learner, X, n_instances=4)
        picks[name] = indices
    again, _ = strategy_cls(random_state=np.random.default_rng(3))(
        learner, X, n_instances=4
    )
    np.testing.assert_array_equal(again, picks["Generator"])


@pytest.mark.parametrize("strategy_cls", STRATEGIES, ids=lambda c: c.__name__)
def test_strategies_validate_random_state_when_called(strategy_cls, forest):
    learner, X = forest
    with pytest.raises(TypeError, match="random_state"):
        strategy_cls(random_state="seed")(learner, X, n_instances=2)


def test_active_learner_bootstrap_accepts_a_generator(forest):
    from skbatchbald import ActiveLearner

    _, X = forest
    y = np.arange(len(X)) % 3

    def fitted(seed):
        from sklearn.tree import DecisionTreeClassifier

        return ActiveLearner(
            DecisionTreeClassifier(random_state=0),
            X_training=X,
            y_training=y,
            bootstrap_init=True,
            random_state=np.random.default_rng(seed),
        ).predict_proba(X)

    np.testing.assert_array_equal(fitted(0), fitted(0))
    assert not np.array_equal(fitted(0), fitted(1))
