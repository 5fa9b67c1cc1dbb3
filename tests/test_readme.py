"""The README's quickstart runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_a_quickstart():
    assert len(python_blocks()) >= 1


def test_quickstart_runs(capsys):
    namespace = {}
    for block in python_blocks():
        exec(compile(block, str(README), "exec"), namespace)
    # The loop taught 5 batches of 10 on top of 20 labels.
    assert len(namespace["learner"].y_training) == 70
    assert "70 labels, accuracy on the rest:" in capsys.readouterr().out
