"""The type stubs (python/snowdrift/_snowdrift.pyi) match the compiled module: mypy's stubtest
compares every class, signature and default with the runtime. scripts/test-python installs
mypy; without it the test is skipped and says so."""

import subprocess
import sys

import pytest


def test_the_stubs_match_the_compiled_module():
    pytest.importorskip("mypy", reason="mypy is not installed (scripts/test-python installs it)")
    done = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "snowdrift"],  # the package and its compiled module
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
