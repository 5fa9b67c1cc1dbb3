"""The user-guide pages whose snippets are doctests run as written.

The docs build renders these pages but does not execute them; this test does,
so a page cannot show an output the code no longer gives.
"""

import doctest
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# page -> the fewest examples it must hold (guards against a page whose
# snippets silently stopped being doctests, e.g. moved into a code-block)
PAGES = {
    "docs/user_guide/bayesian_heads.rst": 18,
    "docs/user_guide/consistent_dropout.rst": 11,
    "docs/user_guide/ensembles.rst": 8,
    "docs/user_guide/frozen_embeddings.rst": 30,
    "docs/user_guide/migrating.rst": 60,
    "docs/user_guide/multilabel.rst": 15,
    "docs/user_guide/pipelines.rst": 61,
    "docs/user_guide/regression.rst": 8,
    "docs/user_guide/stopping.rst": 15,
}


@pytest.mark.slow
@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_snippets_run(page, capsys):
    result = doctest.testfile(
        str(ROOT / page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        raise_on_error=False,
    )
    report = capsys.readouterr().out  # doctest prints each failure
    assert result.failed == 0, report
    assert result.attempted >= PAGES[page]
