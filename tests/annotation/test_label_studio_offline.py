"""LabelStudioAnnotator and label_config without a server."""

import json
import socket
import sys

import pytest

from skbatchbald.annotation import LabelStudioAnnotator, label_config


@pytest.mark.slow  # a fresh interpreter
def test_import_needs_no_sdk(run_python):
    result = run_python(
        """
        import json, sys
        import skbatchbald.annotation
        print(json.dumps(sorted(
            {"label_studio_sdk", "httpx", "torch", "modAL"} & set(sys.modules)
        )))
        """
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_missing_sdk_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "label_studio_sdk", None)
    annotator = LabelStudioAnnotator("http://127.0.0.1:1", "token", 1)
    with pytest.raises(ImportError, match=r'pip install "skbatchbald\[label-studio\]"'):
        annotator.pending()


@pytest.mark.slow  # imports the SDK, whose client retries before giving up
def test_unreachable_server_names_the_fix():
    pytest.importorskip("label_studio_sdk")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    annotator = LabelStudioAnnotator(f"http://127.0.0.1:{port}", "token", 1)
    with pytest.raises(ConnectionError, match=r"is unreachable .*; start it"):
        annotator.answers()


def test_label_config():
    image = label_config([0, 1, 2])
    assert '<Image name="image" value="$image"/>' in image
    assert '<Choices name="label" toName="image"' in image
    assert [line.strip() for line in image.splitlines() if "<Choice " in line] == [
        '<Choice value="0"/>',
        '<Choice value="1"/>',
        '<Choice value="2"/>',
    ]
    table = label_config(['a "quoted" <b>', "c&d"], data="table")
    assert '<Table name="table" value="$table"/>' in table
    assert "<Choice value='a \"quoted\" &lt;b&gt;'/>" in table
    assert '<Choice value="c&amp;d"/>' in table
    with pytest.raises(ValueError, match=r"data must be one of \['image', 'table'\]"):
        label_config([0, 1], data="text")
    with pytest.raises(ValueError, match="two labels with the same text"):
        label_config([1, "1"])
