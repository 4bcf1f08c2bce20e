"""Shared helpers: running Python snippets in their own processes, and finding libfaketime."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: Every child process a test starts is killed if it runs longer than this.
CHILD_TIMEOUT = 60

#: Where Debian's faketime package puts the multi-threaded preload library.
LIBFAKETIME = [
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/faketime/libfaketimeMT.so.1",
]


def python(code, *, env=None, timeout=CHILD_TIMEOUT):
    """Runs `code` in a fresh interpreter; returns the completed process (text output)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def spawn_python(code, *, env=None):
    """Starts `code` in a fresh interpreter; stdout is a pipe of text lines."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-u", "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
    )


def libfaketime():
    """The preload library, or a failure saying what to install."""
    for path in LIBFAKETIME:
        if Path(path).exists():
            return path
    pytest.fail("libfaketime is missing: apt-get install faketime (scripts/test installs it)")


@pytest.fixture
def data_dir(tmp_path):
    """A fresh state directory."""
    return tmp_path / "state"
