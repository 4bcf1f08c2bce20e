"""Python processes and `snowdrift serve` on one state directory: one ID space, distinct slots.

The service binary is found at $SNOWDRIFT_BIN (scripts/test sets it) or in the workspace's
target/debug or target/release; with neither, the test is skipped and says how to build it."""

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

import snowdrift

from conftest import python

REPO = Path(__file__).resolve().parents[3]


def service_binary():
    explicit = os.environ.get("SNOWDRIFT_BIN")
    if explicit:
        if not Path(explicit).is_file():
            pytest.fail(f"SNOWDRIFT_BIN={explicit} does not exist")
        return explicit
    for profile in ("debug", "release"):
        candidate = REPO / "target" / profile / "snowdrift"
        if candidate.is_file():
            return str(candidate)
    pytest.skip("no snowdrift binary: cargo build -p snowdrift-service, or set SNOWDRIFT_BIN")


class Service:
    """`snowdrift serve --machine-id auto` on a state directory, on an ephemeral port."""

    def __init__(self, data_dir):
        self.process = subprocess.Popen(
            [service_binary(), "serve", "--http", "127.0.0.1:0", "--data-dir", str(data_dir), "--machine-id", "auto"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            # SNOWDRIFT_BIN tells this test where the binary is; it is no setting, and the
            # service refuses unknown SNOWDRIFT_* variables.
            env={name: value for name, value in os.environ.items() if name != "SNOWDRIFT_BIN"},
        )
        deadline = time.monotonic() + 30
        self.address = None
        while self.address is None:
            line = self.process.stdout.readline()
            if not line:
                self.stop()
                pytest.fail(f"snowdrift serve exited: {self.process.stderr.read()}")
            if line.startswith("listening "):
                self.address = next(p[len("http="):] for p in line.split() if p.startswith("http="))
            assert time.monotonic() < deadline, "snowdrift serve printed no listening line"

    def get(self, path):
        with urllib.request.urlopen(f"http://{self.address}{path}", timeout=10) as response:
            return json.load(response)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)


def test_the_service_and_python_processes_share_a_state_directory_with_distinct_slots(data_dir):
    first = snowdrift.claim(data_dir)
    service = Service(data_dir)
    try:
        served = [int(i) for i in service.get("/v1/ids?count=1000")["ids"]]
        service_machine = snowdrift.decode(served[0]).machine_id
        # Another Python process, started after the service, takes yet another slot.
        other = python(
            f"""
            import snowdrift
            with snowdrift.claim({str(data_dir)!r}) as g:
                print(g.machine_id, *g.next_ids(1000))
            """
        )
        assert other.returncode == 0, other.stderr
        other_machine, *other_ids = map(int, other.stdout.split())
        mine = first.next_ids(1000)
        machines = [first.machine_id, service_machine, other_machine]
        assert len(set(machines)) == 3, f"slots were shared: {machines}"
        every = served + other_ids + mine + [int(service.get("/v1/id")["id"])]
        assert len(set(every)) == len(every)
    finally:
        service.stop()
        first.close()
