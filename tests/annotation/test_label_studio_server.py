"""The label_studio_server fixture and the lifecycle helper behind it.

The first tests talk to the real server (marked label_studio through the
fixture); the rest run a stand-in executable, so they need no server.
"""

import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request

import pytest

from ._label_studio_server import (
    ENV_VAR,
    LabelStudioError,
    find_executable,
    start,
    stop,
)


def _get(url, token):
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def test_token_authenticates_the_user(label_studio_server):
    status, user = _get(
        f"{label_studio_server.url}/api/current-user/whoami",
        label_studio_server.api_key,
    )
    assert status == 200
    assert user["email"] == label_studio_server.username


def test_sdk_client_authenticates_with_the_token(server):
    label_studio_server, client = server  # an SDK client with the token
    assert client.users.whoami().email == label_studio_server.username


# The SDK's token refresh calls pydantic's deprecated parse_obj (sdk 2.1.2).
@pytest.mark.filterwarnings("ignore:The `parse_obj` method is deprecated")
def test_personal_access_token_works_with_the_sdk(label_studio_server):
    # What Account & Settings hands a user in 1.23 (docs/user_guide/annotation.rst
    # tells users to paste it as api_key): a JWT refresh token that the SDK
    # exchanges for access tokens.
    sdk = pytest.importorskip("label_studio_sdk")
    request = urllib.request.Request(
        f"{label_studio_server.url}/api/token/",
        data=b"{}",
        method="POST",
        headers={
            "Authorization": f"Token {label_studio_server.api_key}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        token = json.loads(response.read())["token"]
    assert token.count(".") == 2  # a JWT, not a legacy token
    with pytest.importorskip("httpx").Client(timeout=60) as http:
        client = sdk.LabelStudio(
            base_url=label_studio_server.url, api_key=token, httpx_client=http
        )
        assert client.users.whoami().email == label_studio_server.username


def test_wrong_token_is_refused(label_studio_server):
    with pytest.raises(urllib.error.HTTPError) as error:
        _get(f"{label_studio_server.url}/api/projects/", "0" * 40)
    assert error.value.code == 401
    error.value.close()  # the error holds the response and its socket


def test_listens_on_loopback_only(label_studio_server):
    port = int(label_studio_server.url.rsplit(":", 1)[1])
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    # Linux routes all of 127/8 to lo: a server bound to 0.0.0.0 would
    # accept here too, one bound to 127.0.0.1 refuses.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", port), timeout=5).close()


def _stand_in(tmp_path, body):
    """An executable Python script that ignores its arguments and runs body."""
    script = tmp_path / "label-studio"
    script.write_text(f"#!{sys.executable}\n{body}\n")
    script.chmod(0o755)
    return script


def _alive(pid, wait=5.0):
    """Whether pid still runs after up to wait s (a killed orphan is reaped
    by init, not at once)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)  # signal 0 only checks that the process exists
        except ProcessLookupError:
            return False
        time.sleep(0.1)
    return True


def test_missing_executable_names_the_make_target(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere" / "label-studio"))
    with pytest.raises(LabelStudioError, match=r"make \.venv-label-studio/\.installed"):
        find_executable()
    with pytest.raises(LabelStudioError, match=ENV_VAR):
        start(tmp_path / "work")


def test_early_exit_reports_the_log_tail(tmp_path):
    script = _stand_in(
        tmp_path, "import sys\nprint('no such table: auth')\nsys.exit(3)"
    )
    with pytest.raises(LabelStudioError, match=r"(?s)code 3.*no such table: auth"):
        start(tmp_path / "work", executable=script)


def test_timeout_reports_the_log_tail_and_stops_the_server(tmp_path):
    pid_file = tmp_path / "pid"
    script = _stand_in(
        tmp_path,
        "import os, time\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "print('migrating', flush=True)\n"
        "time.sleep(600)",
    )
    with pytest.raises(LabelStudioError, match=r"(?s)within 2 s.*migrating"):
        start(tmp_path / "work", executable=script, timeout=2)
    assert not _alive(int(pid_file.read_text()))


def test_environment_is_clean_and_quiet(tmp_path, monkeypatch):
    # Label Studio reads HOST, PORT, USERNAME...; a caller's must not leak in.
    monkeypatch.setenv("PORT", "9999")
    monkeypatch.setenv("LABEL_STUDIO_SENTRY_DSN", "https://example.invalid/1")
    script = _stand_in(
        tmp_path,
        "import json, os, sys\njson.dump(dict(os.environ), sys.stdout)\nsys.exit(1)",
    )
    with pytest.raises(LabelStudioError):
        start(tmp_path / "work", executable=script)
    env = json.loads((tmp_path / "work" / "label-studio-1.log").read_text())
    assert "PORT" not in env
    assert env["LABEL_STUDIO_SENTRY_DSN"] == ""
    assert env["LABEL_STUDIO_FRONTEND_SENTRY_DSN"] == ""
    assert env["LABEL_STUDIO_LATEST_VERSION_CHECK"] == "false"
    assert env["LABEL_STUDIO_COLLECT_ANALYTICS"] == "false"


def test_stop_ends_the_whole_process_group(tmp_path):
    child_pid = tmp_path / "child"
    script = _stand_in(
        tmp_path,
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; "
        "time.sleep(600)'])\n"
        f"open({str(child_pid)!r}, 'w').write(str(child.pid))\n"
        "sys.exit(0)",
    )
    with pytest.raises(LabelStudioError):
        start(tmp_path / "work", executable=script)
    # start() stopped the group on failure: the orphaned child is gone too.
    assert not _alive(int(child_pid.read_text()))


def test_port_taken_meanwhile_retries_on_another_port(tmp_path):
    # The first launch finds its port taken (Django's words), the second one
    # serves /health/ on the port it is given.
    script = _stand_in(
        tmp_path,
        "import http.server, os, sys\n"
        "if not os.path.exists('tried'):\n"
        "    open('tried', 'w').close()\n"
        "    print('Error: That port is already in use.')\n"
        "    sys.exit(1)\n"
        "port = int(sys.argv[sys.argv.index('--port') + 1])\n"
        "host = sys.argv[sys.argv.index('--internal-host') + 1]\n"
        "class Health(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200)\n"
        "        self.end_headers()\n"
        "server = http.server.HTTPServer((host, port), Health)\n"
        "server.serve_forever()",
    )
    server = start(tmp_path / "work", executable=script)
    try:
        assert (
            "already in use" in (tmp_path / "work" / "label-studio-1.log").read_text()
        )
        assert server.log.name == "label-studio-2.log"
        assert server.url.startswith("http://127.0.0.1:")
    finally:
        stop(server)
    assert server.process.returncode is not None
