"""Committee: modAL's query by committee with text labels from pandas."""

import numpy as np
import pandas as pd
import pytest
from modAL.disagreement import (
    consensus_entropy_sampling,
    max_disagreement_sampling,
    vote_entropy_sampling,
)
from modAL.models import Committee as ModalCommittee
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from skbatchbald import ActiveLearner, BatchBALDQuery, Committee

NAMES = {0: "setosa", 1: "versicolor", 2: "virginica"}


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y


def _members(X, y, n=3):
    # members differ by seed and depth, not by modAL's unseeded bootstrap
    return [
        ActiveLearner(
            RandomForestClassifier(5, max_depth=2 + seed, random_state=seed),
            X_training=X.iloc[::8],
            y_training=y.iloc[::8],
        )
        for seed in range(n)
    ]


def test_modal_refuses_text_labels_from_pandas(iris):
    # the bug this class fixes: classes_ of object dtype break modAL's merge
    X, y = iris
    with pytest.raises(TypeError, match="axis argument to unique"):
        ModalCommittee(learner_list=_members(X, y.map(NAMES)))


@pytest.mark.parametrize(
    "strategy",
    [
        vote_entropy_sampling,
        max_disagreement_sampling,
        consensus_entropy_sampling,
        BatchBALDQuery(random_state=0),
    ],
    ids=["vote entropy", "max disagreement", "consensus entropy", "BatchBALD"],
)
def test_text_labels_query_as_their_integer_codes_do(iris, strategy):
    X, y = iris
    names = y.map(NAMES)
    assert names.dtype == object or str(names.dtype).startswith("str")
    by_name = Committee(learner_list=_members(X, names), query_strategy=strategy)
    by_code = ModalCommittee(learner_list=_members(X, y), query_strategy=strategy)
    assert by_name.classes_.tolist() == list(NAMES.values())
    assert by_name.n_classes_ == 3

    votes = by_name.vote(X)
    assert votes.shape == (len(X), 3)
    np.testing.assert_array_equal(
        votes, np.vectorize(NAMES.get)(by_code.vote(X).astype(int))
    )
    idx, rows = by_name.query(X, n_instances=4)
    expected, _ = by_code.query(X, n_instances=4)
    np.testing.assert_array_equal(idx, expected)
    by_name.teach(rows, names.iloc[idx])
    by_code.teach(X.iloc[expected], y.iloc[expected])
    np.testing.assert_array_equal(
        by_name.predict(X), np.vectorize(NAMES.get)(by_code.predict(X))
    )


def test_members_that_learnt_other_classes_are_merged_sorted(iris):
    X, y = iris
    names = y.map(NAMES)
    rows = [np.flatnonzero(y != 2)[::5], np.flatnonzero(y != 0)[::5]]
    members = [
        ActiveLearner(
            DecisionTreeClassifier(random_state=0),
            X_training=X.iloc[r],
            y_training=names.iloc[r],
        )
        for r in rows
    ]
    committee = Committee(learner_list=members)
    assert committee.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    proba = committee.vote_proba(X.iloc[:3])
    assert proba.shape == (3, 2, 3)
    # the first member never saw virginica: probability 0 there
    np.testing.assert_array_equal(proba[:, 0, 2], 0)


def test_unfitted_members_leave_no_classes(iris):
    members = [ActiveLearner(DecisionTreeClassifier()) for _ in range(2)]
    committee = Committee(learner_list=members)
    assert committee.classes_ is None and committee.n_classes_ == 0
    X, y = iris
    committee.teach(X.iloc[::10], pd.Series(y.iloc[::10].map(NAMES).to_numpy()))
    assert committee.classes_.tolist() == list(NAMES.values())


def test_vote_proba_is_modals_on_integer_labels(iris):
    X, y = iris
    rows = [np.flatnonzero(y != 2)[::5], np.flatnonzero(y != 0)[::5]]
    rows.append(np.arange(0, 150, 7))

    def members():
        return [
            ActiveLearner(
                DecisionTreeClassifier(max_depth=2, random_state=0),
                X_training=X.iloc[r],
                y_training=y.iloc[r],
            )
            for r in rows
        ]

    ours, modals = Committee(learner_list=members()), ModalCommittee(members())
    np.testing.assert_array_equal(ours.vote_proba(X), modals.vote_proba(X))
    np.testing.assert_array_equal(ours.predict(X), modals.predict(X))


@pytest.mark.parametrize(
    "container",
    [list, pd.Series, lambda t: np.asarray(t, dtype=object)],
    ids=["list", "series", "object-array"],
)
def test_a_text_pipeline_committee_takes_the_pools_its_members_take(container):
    # modAL's query refused a Series (retrieve_rows) and its predict a list
    # (X.shape), which the members read as they are
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    topics = ["refund invoice", "app crash", "parcel damaged"]
    texts = [f"{topics[i % 3]} case {i}" for i in range(30)]
    labels = np.array(["billing", "bug", "shipping"], dtype=object)[np.arange(30) % 3]
    X = container(texts)
    members = [
        ActiveLearner(
            make_pipeline(TfidfVectorizer(), LogisticRegression(C=C)),
            X_training=X[:9],
            y_training=labels[:9],
        )
        for C in (0.5, 1.0, 2.0)
    ]
    committee = Committee(members, query_strategy=BatchBALDQuery(random_state=0))
    idx, rows, scores = committee.query(X[9:], n_instances=3, return_metrics=True)
    assert type(rows) is type(X[9:]) and len(rows) == len(set(idx.tolist())) == 3
    assert scores.shape == (3,)
    committee.teach(rows, labels[9:][idx])
    assert committee.predict(X).tolist() == labels.tolist()
    assert committee.vote_proba(X).shape == (30, 3, 3)


def test_a_member_taught_outside_the_committee_is_named(iris):
    # its class 3 went into another class's column, in silence
    X, y = iris
    members = _members(X, y)
    committee = Committee(learner_list=members)
    members[0].teach(X.iloc[:2], np.array([3, 3]))
    with pytest.raises(ValueError, match=r"learner 0 knows the class\(es\) \[3\]"):
        committee.vote_proba(X.iloc[:5])
