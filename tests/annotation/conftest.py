"""The live Label Studio server for the tests marked ``label_studio``.

One server per session (start-up migrates a fresh database, about a minute);
tests/conftest.py marks every test that uses the fixture, so that `make
test-fast` leaves them out.
"""

import pytest

from ._label_studio_server import LabelStudioError, log_tail, start, stop


@pytest.fixture(scope="session")
def label_studio_server(tmp_path_factory):
    """A local Label Studio: ``.url``, ``.api_key`` (legacy token), login.

    Fails, never skips, when the server is not installed: the message names
    `make .venv-label-studio/.installed` and $SKBATCHBALD_LABEL_STUDIO.
    """
    try:
        server = start(tmp_path_factory.mktemp("label-studio"))
    except LabelStudioError as error:
        message = str(error)
    else:
        message = None
    if message:  # outside the except: the message alone, no chained traceback
        pytest.fail(message, pytrace=False)
    try:
        yield server
    finally:
        stop(server)
        if server.process.returncode not in (0, -15):
            print(f"Label Studio log tail:\n{log_tail(server.log)}")


@pytest.fixture
def server(label_studio_server):
    """(the server, an SDK client on its own HTTP client, closed at the end)."""
    sdk = pytest.importorskip(
        "label_studio_sdk", reason="pip install skbatchbald[label-studio]"
    )
    httpx = pytest.importorskip("httpx")
    # the test's own HTTP client, closed at the end: no socket left to the GC
    with httpx.Client(timeout=60) as http:
        client = sdk.LabelStudio(
            base_url=label_studio_server.url,
            api_key=label_studio_server.api_key,
            httpx_client=http,
        )
        yield label_studio_server, client
