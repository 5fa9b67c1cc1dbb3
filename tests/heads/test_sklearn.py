"""The heads as scikit-learn classifiers: clone, Pipeline, strategies, labels."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald import (
    ActiveLearner,
    BALDQuery,
    BatchBALDQuery,
    DeepEnsembleClassifier,
    LaplaceHeadClassifier,
)
from skbatchbald.sampling import predict_log_proba_samples

pytestmark = pytest.mark.filterwarnings(
    "ignore::skbatchbald.acquisition.SaturationWarning"
)

HEADS = {
    "ensemble": lambda: DeepEnsembleClassifier(n_members=4, hidden=8, random_state=0),
    "laplace": lambda: LaplaceHeadClassifier(prior_precision="marglik", random_state=0),
}


@pytest.fixture(params=sorted(HEADS))
def make(request):
    return HEADS[request.param]


def test_init_only_stores_and_clone_keeps_the_parameters(make):
    head = make()
    assert is_classifier(head)
    params = head.get_params()
    copy = clone(head)
    assert type(copy) is type(head)
    for name in ("random_state", "max_epochs", "hidden", "lr", "max_memory"):
        assert copy.get_params()[name] == params[name]
    assert not hasattr(copy, "n_features_in_")
    assert not copy.initialized_


def test_fitting_adds_no_parameter(make, blobs):
    X, y = blobs
    head = make()
    before = set(head.get_params(deep=False))
    head.fit(X, y)
    assert set(head.get_params(deep=False)) == before  # clone copies no state


def test_string_labels(make, blobs, pool):
    X, y = blobs
    labels = np.array(["cat", "dog", "eel"])[y]
    head = make().fit(X, labels)
    np.testing.assert_array_equal(head.classes_, ["cat", "dog", "eel"])
    assert set(head.predict(pool)) <= {"cat", "dog", "eel"}
    assert (head.predict(X) == labels).mean() > 0.9
    # the same model as with integer labels: only the names differ
    ints = make().fit(X, y)
    np.testing.assert_array_equal(
        head.predict_log_proba_samples(pool, random_state=0),
        ints.predict_log_proba_samples(pool, random_state=0),
    )


def test_classes_parameter_covers_missing_labels(make, blobs):
    X, y = blobs
    head = make().set_params(classes=[0, 1, 2, 3]).fit(X, y)
    assert head.predict_log_proba_samples(X[:3]).shape[2] == 4
    with pytest.raises(ValueError, match=r"labels \[7\] that are not in classes"):
        make().set_params(classes=[0, 1, 2]).fit(X, np.where(y == 2, 7, y))


def test_classes_given_twice_are_refused_before_fitting(make, blobs):
    # one logit per entry would give one class two columns; or, deduplicated
    # silently, a typo such as classes=[0, 1, 1] (meant [0, 1, 2]) goes unseen
    X, y = blobs
    head = make().set_params(classes=[0, 1, 1, 2])
    with pytest.raises(
        ValueError,
        match=r"classes=\[0, 1, 1, 2\] holds \[1\] more than once.*"
        r"appear once.*np\.unique",
    ):
        head.fit(X, y)
    assert not head.initialized_ and not hasattr(head, "classes_inferred_")
    with pytest.raises(ValueError, match=r"holds \['b'\] more than once"):
        make().set_params(classes=["a", "b", "b", "c"]).fit(X, np.array(list("abc"))[y])


def test_pipeline_samples_through_its_last_step(make, blobs, pool):
    X, y = blobs
    pipe = make_pipeline(StandardScaler(), make()).fit(X * 10 + 3, y)
    direct = pipe[-1].predict_log_proba_samples(
        pipe[0].transform(pool * 10 + 3), random_state=0
    )
    through = predict_log_proba_samples(pipe, pool * 10 + 3, random_state=0)
    np.testing.assert_array_equal(through, direct)


def test_sampling_entry_point_passes_k_and_memory(make, blobs, pool):
    X, y = blobs
    head = make().fit(X, y)
    lp = predict_log_proba_samples(
        head, pool, n_mc_samples=3, random_state=0, max_memory=1_000
    )
    np.testing.assert_allclose(
        lp,
        head.predict_log_proba_samples(pool, n_mc_samples=3, random_state=0),
        atol=1e-5,
    )


@pytest.mark.parametrize("strategy", [BatchBALDQuery, BALDQuery])
def test_active_learner_queries_with_the_heads(make, blobs, pool, strategy):
    X, y = blobs
    learner = ActiveLearner(
        estimator=make(),
        query_strategy=strategy(random_state=0),
        X_training=X[::3],
        y_training=y[::3],
    )
    idx, _ = learner.query(pool, n_instances=5)
    assert len(set(idx.tolist())) == 5
    again, _ = learner.query(pool, n_instances=5)
    np.testing.assert_array_equal(idx, again)  # seeded: the same batch
    learner.teach(pool[idx], np.zeros(5, dtype=int))
    assert learner.estimator.predict(pool).shape == (len(pool),)


def test_memmapped_pool(make, blobs, pool, tmp_path):
    X, y = blobs
    head = make().fit(X, y)
    path = tmp_path / "pool.npy"
    np.save(path, pool)
    mapped = np.load(path, mmap_mode="r")
    np.testing.assert_allclose(
        head.predict_log_proba_samples(mapped, random_state=0, max_memory=2_000),
        head.predict_log_proba_samples(pool, random_state=0),
        atol=1e-5,
    )


def test_pickle_round_trip_predicts_the_same(make, blobs, pool):
    X, y = blobs
    head = make().fit(X, y)
    copy = pickle.loads(pickle.dumps(head))
    np.testing.assert_array_equal(copy.predict_proba(pool), head.predict_proba(pool))
