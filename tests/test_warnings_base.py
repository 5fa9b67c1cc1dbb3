"""Every warning the package issues derives from SkbatchbaldWarning."""

import ast
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier

import skbatchbald
from skbatchbald import ActiveLearner, BALDQuery, SkbatchbaldWarning
from skbatchbald.acquisition import SaturationWarning, TiedScoresWarning

PACKAGE = Path(skbatchbald.__file__).parent
OURS = {
    "SkbatchbaldWarning",
    "SkbatchbaldRuntimeWarning",
    "SaturationWarning",
    "TiedScoresWarning",
}


def _warn_calls():
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "warn"
                and getattr(node.func.value, "id", None) == "warnings"
            ):
                yield path.relative_to(PACKAGE), node


def test_every_warn_call_names_a_class_of_ours():
    calls = list(_warn_calls())
    assert len(calls) > 20  # the walk finds them
    foreign = []
    for path, node in calls:
        category = node.args[1] if len(node.args) > 1 else None
        for keyword in node.keywords:
            if keyword.arg == "category":
                category = keyword.value
        name = getattr(category, "id", getattr(category, "attr", None))
        if name in OURS:
            continue
        foreign.append(f"{path}:{node.lineno}: {ast.unparse(category or node)}")
    assert foreign == []


def test_the_warning_classes_derive_from_the_base():
    for cls in (SaturationWarning, TiedScoresWarning):
        assert issubclass(cls, SkbatchbaldWarning)
    assert issubclass(SkbatchbaldWarning, UserWarning)


def test_one_filter_silences_a_loops_warnings():
    # a forest of leaves so large that every tree predicts alike: the
    # strategy warns (ties among the top scores), and one filter takes it
    X, y = load_digits(return_X_y=True)
    learner = ActiveLearner(
        RandomForestClassifier(10, min_samples_leaf=100, random_state=0),
        query_strategy=BALDQuery(random_state=0),
        X_training=X[:30],
        y_training=y[:30],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        learner.query(X[30:], n_instances=5)
    assert caught and all(issubclass(w.category, SkbatchbaldWarning) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", SkbatchbaldWarning)
        idx, _ = learner.query(X[30:], n_instances=5)
    assert np.unique(idx).size == 5


@pytest.mark.parametrize("name", ["SkbatchbaldWarning"])
def test_the_base_is_public(name):
    assert name in skbatchbald.__all__


def test_no_warning_counts_its_stack_by_hand():
    # a fixed stacklevel points into the package when the caller is the
    # package itself (annotation_round reading a FileAnnotator's files)
    fixed = [
        f"{path}:{node.lineno}"
        for path, node in _warn_calls()
        for keyword in node.keywords
        if keyword.arg == "stacklevel" and isinstance(keyword.value, ast.Constant)
    ]
    assert fixed == []
