"""annotation_round: fit on the answers, then ask for the next batch once."""

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression

from skbatchbald import (
    ActiveLearner,
    MarginQuery,
    RandomQuery,
    SkbatchbaldWarning,
    TypiClustQuery,
)
from skbatchbald.annotation import annotation_round

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class MemoryAnnotator:
    """The annotator protocol in memory, answering with ``y`` when told to."""

    def __init__(self, y):
        self.y, self.asked, self.scores, self.done = y, [], [], 0

    def request(self, pool_indices, scores):
        self.asked.append(np.asarray(pool_indices))
        self.scores.append(np.asarray(scores))

    def answer(self):
        self.done = len(self.asked)

    def pending(self):
        return np.concatenate([np.empty(0, int), *self.asked[self.done :]])

    def answers(self):
        indices = np.concatenate([np.empty(0, int), *self.asked[: self.done]])
        return indices, self.y[indices]


def test_fits_on_answers_in_request_order_and_maps_picks_to_pool(digits):
    X, y = digits
    annotator = MemoryAnnotator(y)
    learner = ActiveLearner(
        LogisticRegression(max_iter=50), query_strategy=RandomQuery(random_state=1)
    )
    first = annotation_round(learner, X, annotator, n_instances=4)
    assert not hasattr(learner.estimator, "coef_")  # cold start: nothing to fit
    annotator.answer()
    learner.query_strategy = MarginQuery()
    second = annotation_round(learner, X, annotator, n_instances=4)

    np.testing.assert_array_equal(learner.X_training, X[first.requested])
    np.testing.assert_array_equal(second.answered, first.requested)
    # The picks are pool rows never asked for, with the strategy's own scores.
    assert not set(second.requested) & set(first.requested)
    unasked = np.setdiff1d(np.arange(len(y)), first.requested)
    positions, _, scores = learner.query(X[unasked], n_instances=4, return_metrics=True)
    np.testing.assert_array_equal(second.requested, unasked[positions])
    np.testing.assert_allclose(annotator.scores[1], scores)
    assert np.all(annotator.scores[1] > 0)  # margins, not placeholders


class HalvesModel(ClassifierMixin, BaseEstimator):
    """A classifier of two inputs given as a dict, as a skorch net takes them."""

    def fit(self, X, y):
        self.model_ = LogisticRegression(max_iter=50).fit(self._join(X), y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(self._join(X))

    @staticmethod
    def _join(X):
        return np.concatenate([X["left"], X["right"]], axis=1)


def test_a_dict_pool_of_several_inputs(digits):
    X, y = digits
    pool = {"left": X[:, :32], "right": X[:, 32:]}
    annotator = MemoryAnnotator(y)
    learner = ActiveLearner(HalvesModel(), query_strategy=RandomQuery(random_state=1))
    first = annotation_round(learner, pool, annotator, n_instances=4)
    annotator.answer()
    learner.query_strategy = MarginQuery()
    second = annotation_round(learner, pool, annotator, n_instances=4)
    np.testing.assert_array_equal(learner.X_training["right"], X[first.requested, 32:])
    assert not set(second.requested) & set(first.requested)


def test_pending_batch_stops_the_round(digits):
    X, y = digits
    annotator = MemoryAnnotator(y)
    learner = ActiveLearner(LogisticRegression(), query_strategy=RandomQuery())
    first = annotation_round(learner, X, annotator, n_instances=3)
    second = annotation_round(learner, X, annotator, n_instances=3)
    assert len(annotator.asked) == 1
    np.testing.assert_array_equal(second.pending, first.requested)
    assert second.requested.size == 0


def test_cold_start_with_typiclust(digits):
    X, y = digits
    annotator = MemoryAnnotator(y)
    learner = ActiveLearner(
        LogisticRegression(), query_strategy=TypiClustQuery(random_state=0)
    )
    result = annotation_round(learner, X, annotator, n_instances=5)
    assert np.unique(result.requested).size == 5


def test_cold_start_with_a_posterior_strategy_names_the_fix(digits):
    X, y = digits
    annotator = MemoryAnnotator(y)
    learner = ActiveLearner(LogisticRegression(), query_strategy=MarginQuery())
    with pytest.raises(NotFittedError, match=r"RandomQuery\(\) or TypiClustQuery\(\)"):
        annotation_round(learner, X, annotator)
    assert annotator.asked == []


def test_bad_arguments(digits):
    X, y = digits
    learner = ActiveLearner(LogisticRegression(), query_strategy=RandomQuery())
    with pytest.raises(ValueError, match="n_instances must be a positive int, got 0"):
        annotation_round(learner, X, MemoryAnnotator(y), n_instances=0)
    with pytest.raises(TypeError, match="X_pool must be array-like"):
        annotation_round(learner, "pool", MemoryAnnotator(y))


def test_a_torch_dataset_pool_is_fitted_on_the_answered_items(digits):
    torch = pytest.importorskip("torch")
    from torch.utils.data import Subset, TensorDataset

    from skbatchbald import MCDropoutClassifier
    from skbatchbald.nn import BayesianMLP

    X, y = digits
    X = (X[:300] / 16).astype(np.float32)
    pool = TensorDataset(torch.from_numpy(X), torch.zeros(len(X)))  # no labels
    annotator = MemoryAnnotator(y[:300])
    net = MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        classes=np.arange(10),
        max_epochs=2,
        verbose=0,
        n_mc_samples=3,
        random_state=0,
    )
    learner = ActiveLearner(net, query_strategy=RandomQuery(random_state=0))
    first = annotation_round(learner, pool, annotator, n_instances=12)
    annotator.answer()
    second = annotation_round(learner, pool, annotator, n_instances=5)
    assert isinstance(learner.X_training, Subset)
    assert learner.X_training.indices == first.requested.tolist()
    np.testing.assert_array_equal(learner.y_training, y[first.requested])
    assert second.requested.size == 5 and not set(second.requested) & set(
        first.requested
    )


def test_cold_start_strategy_picks_the_first_batch_only(digits):
    X, y = digits
    annotator = MemoryAnnotator(y)
    learner = ActiveLearner(LogisticRegression(max_iter=50), MarginQuery())
    cold = TypiClustQuery(random_state=0)
    first = annotation_round(learner, X, annotator, n_instances=5, cold_start=cold)
    expected, scores = TypiClustQuery(random_state=0)(learner, X, n_instances=5)
    np.testing.assert_array_equal(first.requested, expected)
    np.testing.assert_allclose(first.scores, scores)

    annotator.answer()
    second = annotation_round(learner, X, annotator, n_instances=5, cold_start=cold)
    # the learner's own strategy once there are answers
    unasked = np.setdiff1d(np.arange(len(y)), first.requested)
    positions, _ = learner.query(X[unasked], n_instances=5)
    np.testing.assert_array_equal(second.requested, unasked[positions])


def test_cold_start_must_be_a_strategy(digits):
    X, y = digits
    annotator = MemoryAnnotator(y)
    learner = ActiveLearner(LogisticRegression(), MarginQuery())
    with pytest.raises(TypeError, match=r"cold_start must be a query strategy.*'typi"):
        annotation_round(learner, X, annotator, cold_start="typiclust")
    assert annotator.asked == []


class StateAnnotator(MemoryAnnotator):
    """The protocol with ``state()``: the three reads counted."""

    def __init__(self, y):
        super().__init__(y)
        self.reads = []

    def state(self):
        self.reads.append("state")
        answered, labels = super().answers()
        return {
            "answered": answered,
            "labels": labels,
            "pending": super().pending(),
            "skipped": np.empty(0, int),
        }

    def answers(self):
        self.reads.append("answers")
        return super().answers()

    def pending(self):
        self.reads.append("pending")
        return super().pending()


def test_an_annotator_state_is_read_once_a_round(digits):
    X, y = digits
    annotator = StateAnnotator(y)
    learner = ActiveLearner(LogisticRegression(max_iter=50), MarginQuery())
    annotation_round(learner, X, annotator, n_instances=4, cold_start=RandomQuery())
    annotator.answer()
    result = annotation_round(learner, X, annotator, n_instances=4)
    assert annotator.reads == ["state", "state"]
    np.testing.assert_array_equal(result.answered, annotator.asked[0])


def test_a_state_lacking_a_key_is_named(digits):
    X, y = digits

    class Partial(MemoryAnnotator):
        def state(self):
            return {"answered": [], "labels": []}

    learner = ActiveLearner(LogisticRegression(), RandomQuery())
    with pytest.raises(TypeError, match=r"Partial.state\(\) must return.*\['pending'"):
        annotation_round(learner, X, Partial(y))


def test_cold_start_goes_on_while_the_answers_hold_one_class(digits):
    # an imbalanced pool: the first random batch found only one class
    X, y = digits
    y = (y == 9).astype(int)
    zeros = np.flatnonzero(y == 0)
    annotator = MemoryAnnotator(y)
    annotator.asked, annotator.done = [zeros[:5]], 1
    learner = ActiveLearner(LogisticRegression(max_iter=50), MarginQuery())
    with pytest.warns(UserWarning, match="one class"):  # the learner keeps them
        result = annotation_round(
            learner, X, annotator, n_instances=4, cold_start=RandomQuery(random_state=3)
        )
    unasked = np.setdiff1d(np.arange(len(y)), zeros[:5])
    expected, _ = RandomQuery(random_state=3)(learner, X[unasked], n_instances=4)
    np.testing.assert_array_equal(result.requested, unasked[expected])
    np.testing.assert_array_equal(learner.X_training, X[zeros[:5]])

    # both classes answered (the batch asked for replaced by two nines):
    # the learner's own strategy
    annotator.asked[1] = np.flatnonzero(y == 1)[:2]
    annotator.done = 2
    result = annotation_round(
        learner, X, annotator, n_instances=4, cold_start=RandomQuery(random_state=3)
    )
    assert learner.estimator.classes_.tolist() == [0, 1]
    unasked = np.setdiff1d(unasked, annotator.asked[1])
    positions, _ = learner.query(X[unasked], n_instances=4)
    np.testing.assert_array_equal(result.requested, unasked[positions])


@pytest.mark.parametrize("offset", [0.5, 0.0])  # 30.0 is a number, not a class
def test_cold_start_ends_with_the_first_number_for_regression(digits, offset):
    X, y = digits
    annotator = MemoryAnnotator(y.astype(float) + offset)
    annotator.asked, annotator.done = [np.array([0, 10])], 1  # equal numbers
    learner = ActiveLearner(LinearRegression(), MarginQuery())
    # float answers: the learner's strategy, even on one value
    with pytest.raises(ValueError, match="MarginQuery scores the class prob"):
        annotation_round(learner, X, annotator, cold_start=RandomQuery())
    # a regressor given whole numbers as ints too
    annotator = MemoryAnnotator(y + 30)
    annotator.asked, annotator.done = [np.array([0, 10])], 1
    result = annotation_round(
        ActiveLearner(LinearRegression(), RandomQuery(random_state=1)),
        X,
        annotator,
        n_instances=3,
        cold_start=TypiClustQuery(random_state=0),
    )
    assert not result.cold_start


def test_repeated_index_labels_are_no_warning_in_a_round(digits):
    import warnings

    import pandas as pd

    X, y = digits
    frame = pd.DataFrame(X[:100])
    pool = pd.concat([frame, frame + 1])  # every index label twice
    annotator = MemoryAnnotator(np.concatenate([y[:100], y[:100]]))
    learner = ActiveLearner(LogisticRegression(max_iter=50), MarginQuery())
    annotation_round(learner, pool, annotator, n_instances=10, cold_start=RandomQuery())
    annotator.answer()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkbatchbaldWarning)
        annotation_round(learner, pool, annotator, n_instances=10)
    assert len(annotator.asked) == 2


def test_a_picked_copy_of_a_labelled_row_is_named_by_its_pool_row(digits):
    from sklearn.ensemble import RandomForestClassifier

    X, y = digits
    pool = X[:8].copy()
    pool[7] = pool[0]  # row 7 is a copy of row 0, which gets labelled
    annotator = MemoryAnnotator(np.concatenate([y[:7], y[:1]]))
    annotator.asked, annotator.done = [np.array([0, 1])], 1
    learner = ActiveLearner(
        RandomForestClassifier(5, random_state=0), RandomQuery(random_state=0)
    )
    with pytest.warns(SkbatchbaldWarning, match=r"pool rows \[7\]\) equal rows"):
        annotation_round(learner, pool, annotator, n_instances=6)


def test_labels_held_before_the_loop_are_said_to_be_replaced(digits):
    # "we already have labelled data": the round's fit on the answers drops it
    from skbatchbald import SkbatchbaldWarning

    X, y = digits
    annotator = MemoryAnnotator(y)
    learner = ActiveLearner(
        LogisticRegression(max_iter=50),
        query_strategy=RandomQuery(random_state=0),
        X_training=X[200:250],
        y_training=y[200:250],
    )
    annotation_round(learner, X[:200], annotator, n_instances=5)
    annotator.answer()
    with pytest.warns(SkbatchbaldWarning, match="5 answers, which replace the 50"):
        annotation_round(learner, X[:200], annotator, n_instances=5)
    assert len(learner.y_training) == 5
    # later rounds hold the last round's answers only: nothing more to say
    annotator.answer()
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkbatchbaldWarning)
        annotation_round(learner, X[:200], annotator, n_instances=5)
