"""Ctrl-C while the learner trains a skorch net: raised, never swallowed.

skorch's ``partial_fit`` catches KeyboardInterrupt and returns a net trained for
fewer epochs; a learner that went on would query that net and write its batch.
"""

import os
import signal

import numpy as np
import pytest
from skorch.callbacks import Callback

from skbatchbald import (
    ActiveLearner,
    BatchBALDQuery,
    Committee,
    MCDropoutClassifier,
    RandomQuery,
)
from skbatchbald.annotation import FileAnnotator, annotation_round
from skbatchbald.nn import BayesianMLP


class CtrlCAtEpoch2(Callback):
    """Sends SIGINT at the end of the 2nd epoch once armed."""

    def __init__(self, armed=False):
        self.armed = armed

    def on_epoch_end(self, net, **kwargs):
        if self.armed and len(net.history) == 2:
            os.kill(os.getpid(), signal.SIGINT)


def _net(callback):
    return MCDropoutClassifier(
        BayesianMLP,
        module__n_features=64,
        classes=list(range(10)),
        max_epochs=6,
        random_state=0,
        verbose=0,
        callbacks=[("ctrl_c", callback)],
    )


@pytest.fixture
def data(digits):
    X, y = digits
    return (X / 16).astype(np.float32), y


def test_teach_raises_and_keeps_the_labelled_set(data):
    X, y = data
    callback = CtrlCAtEpoch2()
    learner = ActiveLearner(
        _net(callback), BatchBALDQuery(), X_training=X[:20], y_training=y[:20]
    )
    handler = signal.getsignal(signal.SIGINT)
    callback.armed = True
    with pytest.raises(KeyboardInterrupt) as info:
        learner.teach(X[20:30], y[20:30])
    assert len(learner.estimator.history) == 2  # cut short, as skorch leaves it
    assert len(learner.y_training) == 20  # the taught rows undone
    assert "refit it" in "".join(info.value.__notes__)
    assert signal.getsignal(signal.SIGINT) is handler


def test_annotation_round_writes_no_batch(data, tmp_path, fill_labels):
    X, y = data
    callback = CtrlCAtEpoch2()
    annotator = FileAnnotator(tmp_path, classes=range(10))
    learner = ActiveLearner(_net(callback), BatchBALDQuery(random_state=0))
    annotation_round(
        learner, X, annotator, n_instances=10, cold_start=RandomQuery(random_state=0)
    )
    fill_labels(tmp_path / "batch-001.csv", lambda i: str(y[i]))
    callback.armed = True
    with pytest.raises(KeyboardInterrupt):
        annotation_round(learner, X, annotator, n_instances=10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch-001.csv"]
    assert annotator.pending().size == 0


def test_a_programs_own_sigint_handling_stays(data):
    # a nightly job that finishes its round on Ctrl-C, and one started in the
    # background with SIGINT ignored: the learner leaves both alone
    X, y = data
    seen = []
    for handler in (lambda signum, frame: seen.append(signum), signal.SIG_IGN):
        previous = signal.signal(signal.SIGINT, handler)
        try:
            callback = CtrlCAtEpoch2(armed=True)
            learner = ActiveLearner(_net(callback), BatchBALDQuery())
            learner.fit(X[:20], y[:20])  # trained to the end
            assert len(learner.estimator.history) == 6
            assert signal.getsignal(signal.SIGINT) is handler
        finally:
            signal.signal(signal.SIGINT, previous)
    assert seen == [signal.SIGINT]


def test_committee_teach_is_undone_for_every_member(data):
    # Ctrl-C while the second member trains: modAL had added the rows to both
    # members, and a retry taught them twice
    X, y = data
    callbacks = [CtrlCAtEpoch2(), CtrlCAtEpoch2()]
    members = [
        ActiveLearner(_net(c), X_training=X[:20], y_training=y[:20]) for c in callbacks
    ]
    committee = Committee(members)
    callbacks[1].armed = True
    with pytest.raises(KeyboardInterrupt) as info:
        committee.teach(X[20:30], y[20:30])
    assert [len(m.y_training) for m in members] == [20, 20]
    notes = "".join(info.value.__notes__)
    assert notes.count("Committee.teach() was undone") == 1
    callbacks[1].armed = False
    committee.teach(X[20:30], y[20:30])  # the retry
    assert [len(m.y_training) for m in members] == [30, 30]
