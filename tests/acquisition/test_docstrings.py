"""The Examples sections of the acquisition layer run as doctests."""

import doctest
import importlib

import pytest

MODULES = ["bald", "baselines", "entropy", "power_bald"]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    module = importlib.import_module(f"skbatchbald.acquisition.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
