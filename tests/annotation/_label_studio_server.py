"""A throwaway local Label Studio server: start, wait until ready, stop.

Used by the ``label_studio_server`` fixture (tests/annotation/conftest.py) and
by docs/_scripts/label_studio_screenshots.py, so both run the server the same
way. The server lives in its own virtual environment (``make
.venv-label-studio/.installed``); its executable is named by the environment
variable ``SKBATCHBALD_LABEL_STUDIO``, which ``make test`` exports.

Each server gets a fresh SQLite database in a temporary directory, listens on
127.0.0.1 only, and starts with one user whose legacy API token is random. Its
environment is built from scratch, so that variables such as ``HOST``,
``PORT``, ``USERNAME`` or ``DEBUG`` in the caller's shell (Label Studio reads
them all) cannot change it, and its telemetry is off.

Run this file to get a server for manual work; it prints the URL, the login
and the token, and stops on Ctrl-C::

    python tests/annotation/_label_studio_server.py
"""

import dataclasses
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ENV_VAR = "SKBATCHBALD_LABEL_STUDIO"
_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_EXECUTABLE = _ROOT / ".venv-label-studio" / "bin" / "label-studio"
HOST = "127.0.0.1"

# Label Studio reads each setting from LABEL_STUDIO_<NAME>, then <NAME>. Off:
# the backend's Sentry (on by default in the community build) and the
# frontend's, the PyPI version check at import, and the usage telemetry.
_QUIET_SETTINGS = {
    "LABEL_STUDIO_SENTRY_DSN": "",
    "LABEL_STUDIO_FRONTEND_SENTRY_DSN": "",
    "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
    "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
    "LABEL_STUDIO_FEATURE_FLAGS_OFFLINE": "true",
}


class LabelStudioError(RuntimeError):
    """The server could not be found, or did not start in time."""


@dataclasses.dataclass
class LabelStudioServer:
    """A running server: where it is and how to log in.

    Attributes
    ----------
    url : str
        Base URL, ``http://127.0.0.1:<port>``.
    api_key : str
        The user's legacy API token (``Authorization: Token <api_key>``); the
        SDK's ``LabelStudio(base_url=url, api_key=api_key)`` accepts it.
    username, password : str
        The user's login for the web interface.
    process : subprocess.Popen
        The server process (the leader of its own process group).
    log : pathlib.Path
        The server's stdout and stderr.
    startup_s : float
        Seconds from launch to the first healthy answer.
    """

    url: str
    api_key: str
    username: str
    password: str
    process: subprocess.Popen
    log: Path
    startup_s: float


def find_executable():
    """The ``label-studio`` executable: $SKBATCHBALD_LABEL_STUDIO or the repo's.

    Raises
    ------
    LabelStudioError
        If neither names an existing file; the message says how to make one.
    """
    named = os.environ.get(ENV_VAR)
    path = Path(named) if named else DEFAULT_EXECUTABLE
    if not path.is_file():
        source = f"${ENV_VAR}={named!r}" if named else f"{DEFAULT_EXECUTABLE}"
        raise LabelStudioError(
            f"Label Studio server not found at {source}. Build its environment "
            f"with `make .venv-label-studio/.installed` (or run `make test`, which "
            f"does), or set {ENV_VAR} to a label-studio 1.23 executable."
        )
    return path


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _environment(data_dir):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(_QUIET_SETTINGS)
    return env


def log_tail(log, n_lines=40):
    """The last ``n_lines`` of the server's log, for error messages."""
    try:
        lines = Path(log).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n_lines:]) or "(empty log)"


def _healthy(url):
    try:
        with urllib.request.urlopen(f"{url}/health/", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(workdir, *, timeout=300.0, executable=None, attempts=3):
    """Start a server with a fresh database in ``workdir`` and wait until ready.

    Parameters
    ----------
    workdir : path-like
        An empty directory for the database, media and log.
    timeout : float, default=300
        Seconds to wait for ``/health/`` to answer, per attempt. A fresh
        database is migrated first, which takes most of the start-up time.
    executable : path-like, optional
        The ``label-studio`` executable; default :func:`find_executable`.
    attempts : int, default=3
        Free ports to try: the port is chosen before the migrations and bound
        after them, so another process may take it meanwhile.

    Returns
    -------
    LabelStudioServer

    Raises
    ------
    LabelStudioError
        If the executable is missing, or the server exits or is not healthy
        within ``timeout``; the message ends with the log's tail.
    """
    executable = Path(executable) if executable else find_executable()
    workdir = Path(workdir)
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    username = "skbatchbald@localhost"
    password = secrets.token_urlsafe(12)
    api_key = secrets.token_hex(20)  # Label Studio's token column holds 40
    for attempt in range(1, attempts + 1):
        port = _free_port()
        url = f"http://{HOST}:{port}"
        log = workdir / f"label-studio-{attempt}.log"
        command = [
            str(executable),
            "start",
            "--no-browser",
            "--internal-host",
            HOST,
            "--host",
            url,
            "--port",
            str(port),
            # Fail if the port was taken meanwhile, instead of quietly moving
            # to the next free one (the only thing this flag changes at start).
            "--debug",
            "--data-dir",
            str(data_dir),
            "--database",
            str(data_dir / "label_studio.sqlite3"),
            "--username",
            username,
            # One token: a random password may start with "-", which
            # argparse would read as the next option (seen: exit code 2).
            f"--password={password}",
            "--user-token",
            api_key,
            # The token the SDK and our tests send as `Authorization: Token
            # ...`; 1.23 turns these off for new organizations unless asked.
            "--enable-legacy-api-token",
        ]
        started = time.monotonic()
        with open(log, "wb") as out:
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_environment(data_dir),
                cwd=workdir,
                start_new_session=True,
            )
        server = LabelStudioServer(url, api_key, username, password, process, log, 0.0)
        try:
            exited = _wait_healthy(server, started, timeout)
        except BaseException:
            stop(server)
            raise
        if not exited:
            server.startup_s = time.monotonic() - started
            return server
        stop(server)  # the group, should the leader have left children
        if attempt == attempts or _PORT_TAKEN not in log_tail(log):
            raise LabelStudioError(
                f"Label Studio exited with code {process.returncode} before "
                f"answering on {url}. Log tail ({log}):\n{log_tail(log)}"
            )


# Django's runserver, when the port was bound by someone else meanwhile.
_PORT_TAKEN = "That port is already in use"


def _wait_healthy(server, started, timeout):
    """Wait for /health/; True if the process exited first."""
    while not _healthy(server.url):
        if server.process.poll() is not None:
            return True
        if time.monotonic() - started > timeout:
            raise LabelStudioError(
                f"Label Studio did not answer {server.url}/health/ within "
                f"{timeout:.0f} s. Log tail ({server.log}):\n{log_tail(server.log)}"
            )
        time.sleep(0.5)
    return False


def stop(server, *, timeout=15.0):
    """Stop the server and everything it started (its whole process group)."""
    # The group too when the leader has already exited: a child may be left.
    process = server.process
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    process.wait()


if __name__ == "__main__":
    # SIGTERM (and SIGINT, which a background job ignores) end the wait below,
    # so that the finally clause stops the server.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="label-studio-") as tmp:
        server = start(tmp)
        print(f"Label Studio {server.url} (started in {server.startup_s:.1f} s)")
        print(f"login {server.username} / {server.password}")
        print(f"API token {server.api_key}")
        try:
            server.process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop(server)
