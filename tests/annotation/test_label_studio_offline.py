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


@pytest.mark.parametrize(
    ("url", "api_key", "message"),
    [
        ("127.0.0.1:8080", "token", r"url must be the server's address with its "
         r"scheme, e\.g\. 'http://127\.0\.0\.1:8080', got '127\.0\.0\.1:8080'"),
        ("localhost", "token", r"add 'http://' \(or 'https://'\)"),
        (None, "token", r"got None"),
        ("http://127.0.0.1:1", "", r"api_key must be a Label Studio access token, "
         r"got ''; .*LABEL_STUDIO_API_KEY"),
        ("http://127.0.0.1:1", None, r"api_key must be .*, got None"),
        ("http://127.0.0.1:1", "  ", r"api_key must be .*, got '  '"),
    ],
)  # fmt: skip
def test_malformed_url_or_key_is_named_before_connecting(url, api_key, message):
    annotator = LabelStudioAnnotator(url, api_key, 1, classes=range(3))
    for method in (annotator.pending, annotator.answers):
        with pytest.raises(ValueError, match=message):
            method()


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


class TestRowFingerprint:
    """The check that a task still shows its row, on tasks as the server sends them."""

    @staticmethod
    def _annotator(task_data, **kwargs):
        return LabelStudioAnnotator(
            "http://127.0.0.1:1", "token", 1, task_data=task_data, **kwargs
        )

    @staticmethod
    def _tasks(annotator, rows):
        # the server sends the data back as JSON
        return [
            {"id": 100 + i, "data": json.loads(json.dumps(annotator._task(i)))}
            for i in rows
        ]

    def test_the_same_rows_stored_otherwise_pass(self):
        np = pytest.importorskip("numpy")
        pixels = np.linspace(0, 1, 12, dtype=np.float32).reshape(4, 3)
        made = self._annotator(
            lambda i: {"image": f"img-{i}", "px": pixels[i], 0: 1, "b": [2.5]}
        )
        tasks = self._tasks(made, range(4))
        # float64 copies of the float32 pixels, keys in another order
        again = self._annotator(
            lambda i: {
                "b": [2.5],
                0: 1,
                "px": pixels[i].astype(float).tolist(),
                "image": f"img-{i}",
            }
        )
        again._check_rows_unchanged(tasks)
        # hand-imported tasks carry no fingerprint: not checked
        again._check_rows_unchanged([{"id": 1, "data": {"pool_index": 0, "x": 9}}])

    def test_a_reordered_pool_is_refused(self):
        names = [f"img-{i}" for i in range(5)]
        tasks = self._tasks(self._annotator(lambda i: {"image": names[i]}), range(5))
        shuffled = self._annotator(lambda i: {"image": names[::-1][i]})
        with pytest.raises(ValueError, match=r"4 task\(s\) .*\(rows \[0, 1, 3, 4\]\)"):
            shuffled._check_rows_unchanged(tasks)

    def test_new_data_on_every_call_needs_a_row_key(self):
        calls = iter(range(10**6))
        signed = self._annotator(lambda i: {"image": f"img-{i}?sig={next(calls)}"})
        with pytest.raises(ValueError, match=r"pass row_key"):
            signed._check_rows_unchanged(self._tasks(signed, range(3)))
        keyed = self._annotator(signed.task_data, row_key=lambda i: f"img-{i}")
        tasks = self._tasks(keyed, range(3))
        keyed._check_rows_unchanged(tasks)
        moved = self._annotator(signed.task_data, row_key=lambda i: f"img-{2 - i}")
        with pytest.raises(ValueError, match="reordered or changed"):
            moved._check_rows_unchanged(tasks)

    def test_tasks_of_other_fields_are_not_checked(self):
        # made by another task_data (images in Python, read by skbatchbald
        # label, whose task_data is a table of the features): not comparable
        images = self._tasks(self._annotator(lambda i: {"image": f"i{i}"}), range(3))
        table = self._annotator(lambda i: {"table": {"x0": float(i)}})
        table._check_rows_unchanged(images)
        columns = self._tasks(self._annotator(lambda i: {"table": {"a": i}}), [0, 1])
        table._check_rows_unchanged(columns)
        # the same fields in another order are compared
        moved = self._annotator(lambda i: {"table": {"x0": float(2 - i)}})
        with pytest.raises(ValueError, match=r"row 0 now gives \{\"table\""):
            moved._check_rows_unchanged(self._tasks(table, range(3)))
