"""The model inside wrappers, and the messages for dict inputs it cannot take."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skbatchbald._models import (
    final_model,
    inner_model,
    is_skorch_net,
    skorch_inputs_message,
)

skorch = pytest.importorskip("skorch")
torch = pytest.importorskip("torch")


def _net():
    return skorch.NeuralNetClassifier(torch.nn.Linear, module__in_features=2)


def test_final_model_unwraps_every_level():
    model = LogisticRegression()
    search = GridSearchCV(
        make_pipeline(StandardScaler(), model), {"logisticregression__C": [1]}
    )
    assert final_model(search) is model
    assert final_model([search]) is model
    assert inner_model(model) is None
    assert final_model(model) is model


def test_a_skorch_net_is_found_behind_a_search_and_a_pipeline():
    net = _net()
    assert is_skorch_net(GridSearchCV(make_pipeline(StandardScaler(), net), {}))
    assert not is_skorch_net(make_pipeline(StandardScaler(), LogisticRegression()))


def test_no_message_when_the_dict_is_not_to_blame():
    X = {"a": np.zeros((3, 1)), "b": np.zeros((3, 1))}
    error = ValueError("boom")
    assert skorch_inputs_message(LogisticRegression(), np.zeros((3, 2)), error) is None
    # the net takes a dict: its failure is its own
    assert skorch_inputs_message(make_pipeline(_net()), X, error) is None
    sliced = skorch.helper.SliceDict(**X)
    assert skorch_inputs_message(GridSearchCV(_net(), {}), sliced, error) is None


def test_a_model_that_is_no_net_is_told_to_stack_the_inputs():
    X = {"a": np.zeros((3, 1)), "b": np.zeros((3, 1))}
    message = skorch_inputs_message(RandomForestClassifier(), X, ValueError("boom"))
    assert "('a', 'b')" in message and "RandomForestClassifier is none" in message
    assert "np.hstack" in message and "boom" in message


def test_a_search_over_a_net_is_told_to_use_slicedict():
    X = {"a": np.zeros((3, 1)), "b": np.zeros((3, 1))}
    message = skorch_inputs_message(GridSearchCV(_net(), {}), X, ValueError("boom"))
    assert "SliceDict(**X)" in message and "NeuralNetClassifier" in message
