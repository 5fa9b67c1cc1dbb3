"""ActiveLearner on a torch Dataset pool, the form a skorch user's images take."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.ensemble import RandomForestClassifier
from torch.utils.data import ConcatDataset, IterableDataset, Subset, TensorDataset

from skbatchbald import ActiveLearner, BatchBALDQuery, MCDropoutClassifier
from skbatchbald.nn import BayesianMLP

NAMES = np.array([f"digit {c}" for c in range(10)])


class Unlabelled(torch.utils.data.Dataset):
    """A pool as a skorch user has it: (x, placeholder) pairs, no labels yet."""

    def __init__(self, X):
        self.X = (X / 16).astype(np.float32)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return torch.from_numpy(self.X[i]), -1


def net():
    return MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        classes=NAMES,
        max_epochs=5,
        lr=1e-2,
        train_split=None,
        verbose=0,
        n_mc_samples=5,
        random_state=0,
    )


@pytest.fixture(scope="module")
def pool(digits_split):
    d = digits_split
    X = np.concatenate([d["X_init"], d["X_pool"][:200]])
    y = np.concatenate([d["y_init"], d["y_pool"][:200]])
    return Unlabelled(X), NAMES[y]


def test_a_loop_on_a_dataset_trains_on_the_labels_taught(pool):
    dataset, labels = pool
    strategy = BatchBALDQuery(random_state=0, pool_subsample=100)  # a Subset too
    on_items = ActiveLearner(
        net(),
        query_strategy=strategy,
        X_training=Subset(dataset, range(20)),
        y_training=labels[:20],
    )
    on_arrays = ActiveLearner(
        net(),
        query_strategy=strategy,
        X_training=dataset.X[:20],
        y_training=labels[:20],
    )
    for _ in range(2):
        idx, rows = on_items.query(dataset, n_instances=4)
        assert isinstance(rows, Subset) and list(rows.indices) == idx.tolist()
        on_items.teach(rows, labels[idx])
        on_arrays.teach(dataset.X[idx], labels[idx])
    # The placeholder -1 is no class: a fit on the Dataset's own labels fails.
    assert len(on_items.X_training) == 28
    assert isinstance(on_items.X_training, ConcatDataset)
    assert len(on_items.X_training.datasets) == 3  # flat, one part per batch
    np.testing.assert_allclose(
        on_items.predict_proba(dataset.X), on_arrays.predict_proba(dataset.X)
    )
    assert on_items.predict(dataset.X[:3]).dtype.kind == "U"


def test_bootstrap_and_a_tensor_dataset(pool):
    dataset, labels = pool
    X = torch.from_numpy(dataset.X[:20])
    learner = ActiveLearner(
        net(),
        X_training=TensorDataset(X, torch.zeros(20)),  # (x, placeholder) pairs
        y_training=labels[:20],
        bootstrap_init=True,
        random_state=0,
    )
    assert len(learner.X_training) == 20
    assert set(learner.estimator.classes_) == set(NAMES)
    # skorch predicts only on (x, y) pairs, so the learner trains only on them
    with pytest.raises(ValueError, match=r"is a tuple of length 1.*TensorDataset\(X"):
        ActiveLearner(net(), X_training=TensorDataset(X), y_training=labels[:20])


def test_teaching_the_taught_items_again_is_refused(pool):
    dataset, labels = pool
    learner = ActiveLearner(
        net(), X_training=Subset(dataset, range(20)), y_training=labels[:20]
    )
    again = ConcatDataset([Subset(dataset, range(20)), Subset(dataset, [40, 41])])
    with pytest.raises(ValueError, match="the first 20 rows of X and y"):
        learner.teach(again, labels[[*range(20), 40, 41]])
    # other items of the same dataset are new rows
    learner.teach(Subset(dataset, range(20, 42)), labels[20:42])
    assert len(learner.X_training) == 42


def test_bad_datasets_are_refused_with_the_fix(pool):
    dataset, labels = pool
    with pytest.raises(ValueError, match="20 items and y holds 19 labels"):
        ActiveLearner(
            net(), X_training=Subset(dataset, range(20)), y_training=labels[:19]
        )

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(dataset.X)

    with pytest.raises(TypeError, match=r"iterable-style.*map-style"):
        ActiveLearner(net(), X_training=Stream(), y_training=labels[:20])
    learner = ActiveLearner(
        net(), X_training=Subset(dataset, range(20)), y_training=labels[:20]
    )
    with pytest.raises(ValueError, match="a torch Dataset stacks only with another"):
        learner.teach(dataset.X[20:22], labels[20:22])
    assert len(learner.X_training) == 20

    triples = TensorDataset(*(torch.from_numpy(dataset.X[:20]),) * 3)
    with pytest.raises(ValueError, match=r"tuple of length 3.*\(x, placeholder\)"):
        ActiveLearner(net(), X_training=triples, y_training=labels[:20])


def test_a_dataset_for_a_model_that_is_no_skorch_net(pool):
    dataset, labels = pool
    with pytest.raises(ValueError, match="only a skorch net reads") as info:
        ActiveLearner(
            RandomForestClassifier(n_estimators=3),
            X_training=Subset(dataset, range(20)),
            y_training=labels[:20],
        )
    assert "RandomForestClassifier is none" in str(info.value)


def test_typiclust_on_a_dataset_pool_needs_an_embedding(pool):
    from skbatchbald import TypiClustQuery

    dataset, _ = pool
    with pytest.raises(ValueError, match=r"torch Dataset.*pass embedding="):
        TypiClustQuery()(None, dataset, 3)

    def embed(items):  # the user's encoder over the items
        return np.stack([items[i][0].numpy() for i in range(len(items))])

    idx, _ = TypiClustQuery(embedding=embed, random_state=0)(None, dataset, 3)
    assert len(set(idx.tolist())) == 3


def test_a_multilabel_net_on_a_dataset_and_a_regressor_refused(pool):
    from skbatchbald import MCDropoutMultiLabelClassifier, MCDropoutRegressor

    dataset, _ = pool
    Y = (dataset.X[:, :4] > 0.3).astype(int)  # four yes/no labels per image
    params = {"module__n_features": 64, "max_epochs": 3, "verbose": 0}
    params.update(random_state=0, n_mc_samples=3)
    on_items = ActiveLearner(
        MCDropoutMultiLabelClassifier(BayesianMLP, module__n_classes=4, **params),
        X_training=Subset(dataset, range(20)),
        y_training=Y[:20],
    )
    on_arrays = ActiveLearner(
        MCDropoutMultiLabelClassifier(BayesianMLP, module__n_classes=4, **params),
        X_training=dataset.X[:20],
        y_training=Y[:20],
    )
    np.testing.assert_allclose(
        on_items.predict_proba(dataset.X), on_arrays.predict_proba(dataset.X)
    )
    # the regressor fits its noise on rows of one array: it says so
    regressor = MCDropoutRegressor(BayesianMLP, module__n_classes=1, **params)
    with pytest.raises(ValueError, match=r"takes arrays, not a torch Dataset"):
        ActiveLearner(
            regressor, X_training=Subset(dataset, range(20)), y_training=Y[:20, 0] * 1.0
        )


def test_a_search_over_a_net_fits_on_a_dataset(pool):
    from sklearn.model_selection import GridSearchCV

    dataset, labels = pool
    search = GridSearchCV(net(), {"lr": [1e-2, 1e-3]}, cv=2)
    learner = ActiveLearner(
        search,
        query_strategy=BatchBALDQuery(random_state=0),
        X_training=Subset(dataset, range(40)),
        y_training=labels[:40],
    )
    idx, rows = learner.query(dataset, n_instances=3)
    learner.teach(rows, labels[idx])
    assert learner.estimator.best_params_["lr"] in (1e-2, 1e-3)
    # each fold trained on the labels taught: the placeholders would fail
    assert set(learner.estimator.best_estimator_.classes_) == set(NAMES)


def test_a_pipeline_transforming_a_dataset_names_the_fix(pool):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    dataset, labels = pool
    with pytest.raises(ValueError, match=r"steps \['standardscaler'\].*__getitem__"):
        ActiveLearner(
            make_pipeline(StandardScaler(), net()),
            X_training=Subset(dataset, range(20)),
            y_training=labels[:20],
        )
    # a Pipeline of the net alone takes it
    learner = ActiveLearner(
        make_pipeline(net()),
        X_training=Subset(dataset, range(20)),
        y_training=labels[:20],
    )
    assert learner.predict(dataset.X[:2]).shape == (2,)


def test_a_sparse_indicator_with_a_dataset(pool):
    import scipy.sparse as sp

    from skbatchbald import MCDropoutMultiLabelClassifier

    dataset, _ = pool
    Y = (dataset.X[:20, :3] > 0.3).astype(int)
    params = {"module__n_features": 64, "module__n_classes": 3, "max_epochs": 2}
    learners = [
        ActiveLearner(
            MCDropoutMultiLabelClassifier(
                BayesianMLP, verbose=0, random_state=0, **params
            ),
            X_training=X,
            y_training=sp.csr_matrix(Y),
        )
        for X in (Subset(dataset, range(20)), dataset.X[:20])
    ]
    np.testing.assert_allclose(
        *(learner.predict_proba(dataset.X) for learner in learners)
    )


def test_row_keys_of_a_batch_cost_the_batch_not_the_pool():
    from skbatchbald._arrays import dataset_row_keys

    class Huge(torch.utils.data.Dataset):
        def __len__(self):
            return 10**7

        def __getitem__(self, i):
            raise AssertionError("an item was loaded")

    huge = Huge()
    taught = ConcatDataset([Subset(huge, [5, 9_999_999]), Subset(huge, [7])])
    assert dataset_row_keys(taught) == [
        (id(huge), 5),
        (id(huge), 9_999_999),
        (id(huge), 7),
    ]
    assert dataset_row_keys(taught, [2]) == [(id(huge), 7)]


def test_taught_items_are_never_offered_or_taught_again(pool):
    from skbatchbald import MaxEntropyQuery

    dataset, labels = pool
    small = Subset(dataset, range(30))  # a pool of 30 items
    learner = ActiveLearner(
        net(),
        query_strategy=MaxEntropyQuery(),
        X_training=Subset(small, range(10)),
        y_training=labels[:10],
    )
    picked = []
    for _ in range(4):
        idx, rows = learner.query(small, n_instances=5)  # the whole pool each round
        assert list(rows.indices) == idx.tolist()  # positions in the pool given
        picked += idx.tolist()
        learner.teach(rows, labels[idx])
    assert sorted(picked) == list(range(10, 30))  # each untaught item once
    with pytest.raises(ValueError, match="every item of the Subset pool"):
        learner.query(small, n_instances=1)
    with pytest.raises(ValueError, match=r"1 items taught before \(positions \[1\]"):
        learner.teach(Subset(dataset, [40, 3]), labels[[40, 3]])
    with pytest.raises(ValueError, match="an item twice"):
        learner.teach(Subset(dataset, [41, 41]), labels[[41, 41]])
    assert len(learner.X_training) == 30


class NonePlaceholders(Unlabelled):
    def __getitem__(self, i):
        return torch.from_numpy(self.X[i]), None


def test_a_none_placeholder_names_the_fix(pool):
    from skbatchbald.embeddings import cached_embeddings

    dataset, labels = pool
    items = NonePlaceholders(dataset.X[:40] * 16)
    learner = ActiveLearner(
        net(), X_training=Subset(items, range(20)), y_training=labels[:20]
    )
    with pytest.raises(
        ValueError, match=r"hold None.*tuple of Tensor, NoneType.*\(x, -1\)"
    ):
        learner.query(items, n_instances=2)  # fit took it: the labels were taught
    encoder = torch.nn.Linear(64, 3).eval()
    with pytest.raises(ValueError, match="NonePlaceholders's items hold None"):
        cached_embeddings(encoder, items, "unused-folder", key="linear")


def test_a_net_fitted_on_a_pool_subset_names_its_placeholder_labels(pool):
    dataset, labels = pool
    with pytest.raises(ValueError, match=r"items carry labels \[-1\].*ActiveLearner"):
        net().fit(Subset(dataset, range(20)), labels[:20])


def test_the_learners_own_fits_keep_the_labels_messages(pool):
    dataset, _ = pool
    items = NonePlaceholders(dataset.X[:40] * 16)  # also (x, None) items
    y = np.arange(40) % 5
    learner = ActiveLearner(
        net().set_params(classes=np.arange(5)),
        X_training=Subset(items, range(20)),
        y_training=y[:20],
    )
    with pytest.raises(
        ValueError, match=r"labels \[9\] that are not in classes="
    ) as info:
        learner.teach(Subset(items, [30]), [9])  # the label is the user's, in y
    assert "hold None" not in str(info.value) and "Dataset's items" not in str(
        info.value
    )
    warm = ActiveLearner(
        net().set_params(classes=None, warm_start=True),
        X_training=Subset(dataset, range(20)),
        y_training=y[:20],
    )
    with pytest.raises(ValueError, match="warm_start=True"):
        warm.teach(Subset(dataset, [30]), [9])


def test_odd_pools_after_dataset_teaching(pool):
    dataset, labels = pool
    small = Subset(dataset, range(25))
    learner = ActiveLearner(
        net(), X_training=Subset(small, range(20)), y_training=labels[:20]
    )

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(dataset)

    with pytest.raises(TypeError, match="iterable-style"):
        learner.query(Stream(), n_instances=2)
    with pytest.raises(ValueError, match=r"only 5 of the pool's 25 items are untaught"):
        learner.query(small, n_instances=8)
    twice = ConcatDataset([small, small])  # every item twice
    idx, rows = learner.query(twice, n_instances=5)
    assert sorted(set(idx.tolist())) == list(range(20, 25))
    learner.teach(rows, labels[idx % 25])
    assert len(learner.X_training) == 25


def _taught_learner(dataset, labels, n_taught=10):
    from skbatchbald import MaxEntropyQuery

    return ActiveLearner(
        net(),
        query_strategy=MaxEntropyQuery(),
        X_training=Subset(dataset, range(n_taught)),
        y_training=labels[:n_taught],
    )


def test_a_restored_learner_knows_its_items_in_a_rebuilt_pool(pool):
    import pickle

    dataset, labels = pool
    small = Unlabelled(dataset.X[:30] * 16)  # built from the same numbers
    learner = _taught_learner(small, labels)
    idx, rows = learner.query(small, n_instances=5)
    learner.teach(rows, labels[idx])
    # The next day: the learner restored alone, the pool built again.
    restored = pickle.loads(pickle.dumps(learner))
    rebuilt = Unlabelled(dataset.X[:30] * 16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        idx2, rows2 = restored.query(rebuilt, n_instances=15)
    assert sorted(idx2.tolist()) == sorted(set(range(10, 30)) - set(idx.tolist()))
    with pytest.raises(ValueError, match=r"1 items taught before \(positions \[1\]"):
        restored.teach(Subset(rebuilt, [idx2[0], idx[0]]), labels[[idx2[0], idx[0]]])
    restored.teach(rows2, labels[idx2])
    assert len(restored.X_training) == 30
    with pytest.raises(ValueError, match="every item of the Unlabelled pool"):
        restored.query(rebuilt, n_instances=1)


class Augmented(Unlabelled):
    def __getitem__(self, i):
        x = torch.from_numpy(self.X[i])
        return x + 0.1 * torch.randn_like(x), -1


def test_a_pool_rebuilt_in_another_order_or_augmented_is_named(pool):
    dataset, labels = pool
    shuffled = (Unlabelled(dataset.X[:30] * 16), Unlabelled(dataset.X[29::-1] * 16))
    augmented = (Augmented(dataset.X[:30] * 16), Augmented(dataset.X[:30] * 16))
    for taught, other in (shuffled, augmented):
        learner = _taught_learner(taught, labels)
        with pytest.warns(
            UserWarning, match="other items at all 10 positions"
        ) as record:
            idx, _ = learner.query(other, n_instances=30)  # every item offered
        message = str(record[0].message)
        assert f"a {type(other).__name__} of 30 items" in message
        assert "sort the file list" in message and "random augmentation" in message
        assert "must keep their positions" in message
        assert record[0].filename == __file__
        assert sorted(idx.tolist()) == list(range(30))
    # The same augmented object is known by its first reads, round after round.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            idx, _ = learner.query(augmented[0], n_instances=20)
            assert sorted(idx.tolist()) == list(range(10, 30))
    # Another dataset of another length is no lookalike: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        learner.query(Unlabelled(dataset.X[:31] * 16), n_instances=1)


def test_a_restored_learner_knows_its_items_in_a_grown_pool(pool):
    import pickle

    dataset, labels = pool
    learner = _taught_learner(Unlabelled(dataset.X[:30] * 16), labels)
    restored = pickle.loads(pickle.dumps(learner))
    # The next day, new images were added at the end of the folder.
    grown = Unlabelled(dataset.X[:36] * 16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        idx, _ = restored.query(grown, n_instances=26)
    assert sorted(idx.tolist()) == list(range(10, 36))
    with pytest.raises(ValueError, match="1 items taught before"):
        restored.teach(Subset(grown, [33, 4]), labels[[33, 4]])
