"""pytest plugin: skorch's tests with MCDropoutClassifier as ``net_cls``."""

import pytest
from skorch import NeuralNetClassifier

from skbatchbald import MCDropoutClassifier


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    result = yield
    if fixturedef.argname == "net_cls" and result is NeuralNetClassifier:
        result = MCDropoutClassifier
        fixturedef.cached_result = (result, fixturedef.cache_key(request), None)
    return result
