"""What importing skbatchbald and its light layers pulls in."""

import pytest

import skbatchbald


def imported_after(run_python, statement):
    """The heavy packages in sys.modules after ``statement`` in a fresh Python."""
    result = run_python(
        f"""
        import sys
        {statement}
        heavy = {{"modAL", "matplotlib", "pandas", "torch", "skorch"}}
        print(sorted(heavy & set(sys.modules)))
        """
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_import_is_light(run_python):
    assert imported_after(run_python, "import skbatchbald") == "[]"


@pytest.mark.parametrize(
    "statement",
    [
        "from skbatchbald import BatchBALDQuery",
        "from skbatchbald.sampling import predict_log_proba_samples",
        "from skbatchbald.datasets import load_repeated_digits",
    ],
)
def test_no_torch_without_a_network(run_python, statement):
    """A RandomForest user never pays for torch or skorch."""
    # scikit-learn >= 1.9 imports pandas itself; torch and skorch are ours to avoid.
    out = imported_after(run_python, statement)
    assert "torch" not in out and "skorch" not in out


def test_acquisition_imports_numpy_only(run_python):
    out = imported_after(run_python, "import skbatchbald.acquisition")
    assert out == "[]"
    result = run_python(
        """
        import sys
        import skbatchbald.acquisition
        print("sklearn" in sys.modules, "scipy" in sys.modules)
        """
    )
    assert result.stdout.split() == ["False", "False"]


def test_public_names_resolve_lazily():
    assert set(skbatchbald.__all__) <= set(dir(skbatchbald))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        skbatchbald.nope  # noqa: B018
