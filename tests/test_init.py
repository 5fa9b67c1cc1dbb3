"""What importing skbatchbald and its layers pulls in."""

import json

import pytest

import skbatchbald

HEAVY = ("modAL", "matplotlib", "pandas", "torch", "skorch", "sklearn", "scipy")


@pytest.mark.slow  # a fresh interpreter
def test_each_layer_imports_only_what_it_needs(run_python):
    """Imported heavy packages after each step, in one fresh interpreter."""
    result = run_python(
        f"""
        import json, sys
        loaded = {{}}
        def record(step):
            loaded[step] = sorted(set({HEAVY!r}) & set(sys.modules))
        import skbatchbald
        record("skbatchbald")
        import skbatchbald.acquisition
        record("acquisition")
        from skbatchbald import BatchBALDQuery
        from skbatchbald.sampling import predict_log_proba_samples
        from skbatchbald.datasets import load_repeated_digits
        record("forest user")
        print(json.dumps(loaded))
        """
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["skbatchbald"] == []
    # the math is numpy only
    assert loaded["acquisition"] == []
    # a RandomForest user pays for scikit-learn (which imports pandas and scipy
    # itself), never for torch or skorch
    assert "torch" not in loaded["forest user"]
    assert "skorch" not in loaded["forest user"]
    assert "sklearn" in loaded["forest user"]  # the check would see an import


def test_public_names_resolve_lazily():
    assert set(skbatchbald.__all__) <= set(dir(skbatchbald))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        skbatchbald.nope  # noqa: B018
