"""Seeded results never depend on threads, and never touch the global generators."""

import threading

import numpy as np
import pytest
import torch
from sklearn.datasets import make_blobs

from skbatchbald import ActiveLearner, BatchBALDQuery, MCDropoutClassifier
from skbatchbald.nn import BayesianMLP


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=120, centers=3, n_features=4, random_state=0)
    return X.astype(np.float32), y


def learner(X, y, seed):
    clf = MCDropoutClassifier(
        BayesianMLP,
        module__n_features=4,
        module__hidden_sizes=(16,),
        max_epochs=4,
        batch_size=8,
        iterator_train__shuffle=True,
        lr=1e-2,
        n_mc_samples=8,
        verbose=0,
        random_state=seed,
    )
    return ActiveLearner(clf, BatchBALDQuery(random_state=seed), X[:9], y[:9])


def loop(blobs, seed, n_rounds=2):
    X, y = blobs
    active = learner(X, y, seed)
    pool = np.arange(9, len(X))
    picks = []
    for _ in range(n_rounds):
        idx, _ = active.query(X[pool], n_instances=3)
        picks.append(pool[idx].tolist())
        active.teach(X[pool[idx]], y[pool[idx]])
        pool = np.delete(pool, idx)
    return picks


def in_threads(*calls):
    """Run the calls at once, one thread each; return their results in order."""
    results = [None] * len(calls)
    errors = []
    start = threading.Barrier(len(calls))

    def run(i):
        try:
            start.wait()
            results[i] = calls[i]()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def test_two_seeded_loops_in_threads_pick_as_sequential_loops(blobs):
    sequential = [loop(blobs, 0), loop(blobs, 1)]
    state = torch.get_rng_state()
    threaded = in_threads(lambda: loop(blobs, 0), lambda: loop(blobs, 1))
    assert threaded == sequential
    assert sequential[0] != sequential[1]  # the seeds matter
    assert torch.equal(torch.get_rng_state(), state)


def test_one_fitted_learner_queried_from_two_threads_at_once(blobs):
    X, y = blobs
    active = learner(X, y, 0)
    pool = X[9:]
    expected = active.query(pool, n_instances=3)[0].tolist()
    for _ in range(3):
        picks = in_threads(
            lambda: active.query(pool, n_instances=3)[0].tolist(),
            lambda: active.query(pool, n_instances=3)[0].tolist(),
        )
        assert picks == [expected, expected]


def test_predicting_while_another_thread_samples(blobs):
    X, y = blobs
    clf = learner(X, y, 0).estimator
    samples = clf.predict_log_proba_samples(X, random_state=1)
    deterministic = clf.set_params(mc_predict=False).predict_proba(X)
    for _ in range(3):
        got = in_threads(
            lambda: clf.predict_log_proba_samples(X, random_state=1),
            lambda: clf.predict_proba(X),
        )
        np.testing.assert_array_equal(got[0], samples)
        np.testing.assert_array_equal(got[1], deterministic)


@pytest.mark.parametrize(
    "make_state",
    [lambda: 0, lambda: np.random.default_rng(0), lambda: np.random.RandomState(0)],
    ids=["int", "Generator", "RandomState"],
)
def test_seeded_calls_leave_the_global_generators_alone(blobs, make_state):
    X, y = blobs
    torch.manual_seed(123)
    np.random.seed(123)  # noqa: NPY002 (the global generator is under test)
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    clf = MCDropoutClassifier(
        BayesianMLP,
        module__n_features=4,
        max_epochs=2,
        iterator_train__shuffle=True,
        verbose=0,
        random_state=make_state(),
    )
    active = ActiveLearner(clf, BatchBALDQuery(random_state=make_state()), X[:9], y[:9])
    idx, _ = active.query(X[9:], n_instances=2)
    active.teach(X[9:][idx], y[9:][idx])
    clf.predict(X)
    clf.partial_fit(X[:9], y[:9])
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()  # noqa: NPY002
    assert after[0] == numpy_state[0]
    np.testing.assert_array_equal(after[1], numpy_state[1])
    assert after[2:] == numpy_state[2:]


def test_unseeded_training_draws_from_the_global_generator_like_skorch(blobs):
    X, y = blobs

    def fit():
        clf = MCDropoutClassifier(
            BayesianMLP, module__n_features=4, max_epochs=1, verbose=0
        )
        return clf.fit(X, y).module_.layers[0].weight.detach().clone()

    torch.manual_seed(5)
    first = fit()
    torch.manual_seed(5)
    assert torch.equal(fit(), first)
