"""The README's quickstart runs as written, and the docs show the same code."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS_QUICKSTART = ROOT / "docs" / "quickstart.rst"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_a_quickstart():
    assert len(python_blocks()) >= 1


@pytest.mark.slow
def test_quickstart_runs(capsys):
    namespace = {}
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
    # The loop taught 5 batches of 10 on top of 20 labels.
    assert len(namespace["learner"].y_training) == 70
    assert "70 labels, accuracy on the rest:" in capsys.readouterr().out
    # 0.820 with skorch's 10 epochs raised to max_epochs=100 by hand, before the
    # classifier's own defaults trained well; 0.904 with them
    assert namespace["accuracy"] >= 0.87


def test_docs_quickstart_is_the_readme_quickstart():
    text = DOCS_QUICKSTART.read_text()
    block = text.split(".. code-block:: python\n\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith("   "):
            break  # the first unindented line ends the directive
        lines.append(line[3:])
    assert "\n".join(lines).strip() == python_blocks()[0].strip()


def _declared_extras():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["optional-dependencies"]


def test_the_install_extras_are_those_of_pyproject():
    extras = _declared_extras()
    text = README.read_text()
    listed = re.findall(r"^  - `([a-z-]+)`: ", text.split("- Extras", 1)[1], re.M)
    assert listed == list(extras)  # every extra, in pyproject's order, once
    install = (ROOT / "docs" / "install.rst").read_text()
    table = install.split("Extras\n------", 1)[1].split("\n\n", 2)[1]
    assert sorted(re.findall(r"^``([a-z-]+)``", table, re.M)) == sorted(extras)


def test_each_extra_names_what_it_installs():
    text = README.read_text().split("- Extras", 1)[1]
    for name, requirements in _declared_extras().items():
        line = re.search(rf"^  - `{name}`: (.*?)(?=^  - |^- |\Z)", text, re.M | re.S)
        described = " ".join(line.group(1).split()).lower()
        for requirement in requirements:
            package = re.split(r"[\[<>=]", requirement, maxsplit=1)[0].lower()
            assert package in described, (name, package)
