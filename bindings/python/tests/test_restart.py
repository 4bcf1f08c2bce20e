"""kill -9 and restart of a claiming process with the clock set back (libfaketime): no ID is
ever repeated. A clock a little behind the persisted mark is waited for; one an hour behind is
refused with ClockBehind.

libfaketime is preloaded into the restarted child only, with FAKETIME_DONT_FAKE_MONOTONIC=1:
the generator's clock reads the (faked) wall time once and then advances by the monotonic
clock, which is the situation of a host whose wall clock was set back before the restart."""

import json
import signal
import time

import snowdrift

from conftest import libfaketime, python, spawn_python

ISSUER = """
import snowdrift
g = snowdrift.claim({data_dir!r}, machine_id=0, window=0.5)
print("ready", flush=True)
while True:
    print(" ".join(map(str, g.next_ids(500))), flush=True)
"""

RESTARTED = """
import snowdrift
try:
    g = snowdrift.claim({data_dir!r}, machine_id=0, window=0.5, startup_max_wait=5.0)
except snowdrift.ClockBehind as e:
    print("refused", e.code, e)
else:
    print(" ".join(map(str, g.next_ids(20_000))))
"""


def faked(offset):
    return {
        "LD_PRELOAD": libfaketime(),
        "FAKETIME": offset,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "FAKETIME_DONT_RESET": "1",
    }


def _issue_then_kill(data_dir):
    """Runs an issuing process for a moment, kills it with SIGKILL, returns the IDs it printed
    in whole lines and the high-water mark it left."""
    child = spawn_python(ISSUER.format(data_dir=str(data_dir)))
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        lines = []
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            lines.append(child.stdout.readline())
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    issued = [int(i) for line in lines if line.endswith("\n") for i in line.split()]
    assert len(issued) > 10_000
    mark = json.loads((data_dir / "slots" / "dc-0-machine-0.hwm").read_text())["high_water_tick"]
    return issued, mark


def test_kill_9_then_restart_with_the_clock_one_second_back_repeats_nothing(data_dir):
    issued, mark = _issue_then_kill(data_dir)
    assert max(snowdrift.decode(i).timestamp for i in issued) <= mark
    done = python(RESTARTED.format(data_dir=str(data_dir)), env=faked("-1s"))
    assert done.returncode == 0, done.stderr
    assert not done.stdout.startswith("refused"), done.stdout
    after = [int(i) for i in done.stdout.split()]
    assert len(after) == 20_000
    # Every new ID lies above the mark the killed process persisted, hence above every ID it
    # could have issued, printed or not.
    assert min(snowdrift.decode(i).timestamp for i in after) > mark
    assert not set(after) & set(issued)


def test_a_restart_with_the_clock_an_hour_back_is_refused_not_repeated(data_dir):
    issued, _ = _issue_then_kill(data_dir)
    done = python(RESTARTED.format(data_dir=str(data_dir)), env=faked("-1h"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused clock_behind"), done.stdout
    assert "behind the high-water mark" in done.stdout
    # And the real clock still goes on from above the mark.
    with snowdrift.claim(data_dir, machine_id=0, window=0.5) as g:
        assert g.generate_id() > max(issued)
