"""claim(): a slot of one's own in a state directory shared with `snowdrift serve`."""

import json

import pytest

import snowdrift
from snowdrift import Layout

from conftest import python


def test_a_claim_takes_the_lowest_free_slot_and_pins_the_layout(data_dir):
    with snowdrift.claim(data_dir) as first, snowdrift.claim(data_dir) as second:
        assert (first.machine_id, second.machine_id) == (0, 1)
        a, b = first.generate_id(), second.generate_id()
        assert snowdrift.decode(a).machine_id == 0 and snowdrift.decode(b).machine_id == 1
        status = first.status()
        assert status["ready"] and status["high_water_tick"] >= status["clock_tick"]
    pinned = json.loads((data_dir / "layout.json").read_text())
    assert (pinned["timestamp_bits"], pinned["sequence_bits"], pinned["epoch_ms"]) == (41, 12, snowdrift.DEFAULT_EPOCH)
    assert sorted(p.name for p in (data_dir / "slots").iterdir()) == [
        "dc-0-machine-0.hwm",
        "dc-0-machine-0.lock",
        "dc-0-machine-1.hwm",
        "dc-0-machine-1.lock",
    ]


def test_the_high_water_mark_is_persisted_ahead_of_every_issued_id(data_dir):
    with snowdrift.claim(data_dir, datacenter_id=3, machine_id=4) as g:
        ids = g.next_ids(10_000) + [g.generate_id() for _ in range(1000)]
        mark = json.loads((data_dir / "slots" / "dc-3-machine-4.hwm").read_text())["high_water_tick"]
        assert max(snowdrift.decode(i).timestamp for i in ids) <= mark


def test_close_releases_the_slot_and_stops_issuing(data_dir):
    g = snowdrift.claim(data_dir, machine_id=7, window=0.2)
    g.generate_id()
    with pytest.raises(snowdrift.Error) as held:
        snowdrift.claim(data_dir, machine_id=7)
    assert held.value.code == "slot_held"
    g.close()
    assert g.closed
    with pytest.raises(snowdrift.Error, match="closed") as closed:
        g.generate_id()
    assert closed.value.code == "closed"
    with pytest.raises(snowdrift.Error, match="closed"):
        g.next_ids(10)
    again = snowdrift.claim(data_dir, machine_id=7, window=0.2)
    assert again.machine_id == 7
    again.close()


def test_a_restart_never_repeats_an_id(data_dir):
    # A short window: the restart waits for the clock to pass the mark, up to a window ahead.
    with snowdrift.claim(data_dir, machine_id=0, window=0.2) as g:
        before = set(g.next_ids(50_000))
    with snowdrift.claim(data_dir, machine_id=0, window=0.2) as g:
        after = [g.generate_id() for _ in range(10_000)]
    assert min(after) > max(before)


def test_every_slot_taken_raises_slots_exhausted(data_dir):
    layout = Layout(timestamp_bits=41, datacenter_bits=5, machine_bits=1, sequence_bits=16)
    held = [snowdrift.claim(data_dir, layout=layout) for _ in range(2)]
    with pytest.raises(snowdrift.SlotsExhausted) as exhausted:
        snowdrift.claim(data_dir, layout=layout)
    assert isinstance(exhausted.value, snowdrift.Error) and isinstance(exhausted.value, Exception)
    assert exhausted.value.code == "slots_exhausted"
    for g in held:
        g.close()


def test_a_state_directory_refuses_another_layout(data_dir):
    snowdrift.claim(data_dir).close()
    with pytest.raises(snowdrift.Error, match="is pinned to layout") as mismatch:
        snowdrift.claim(data_dir, layout=Layout.preset("twitter"))
    assert mismatch.value.code == "layout_mismatch"


def test_arguments_are_validated_with_the_designs_messages(data_dir):
    with pytest.raises(ValueError, match=r"^Datacenter ID must be between 0 and 31$"):
        snowdrift.claim(data_dir, datacenter_id=32)
    with pytest.raises(ValueError, match=r"^Machine ID must be between 0 and 31$"):
        snowdrift.claim(data_dir, machine_id=-1)
    with pytest.raises(ValueError, match='"auto"'):
        snowdrift.claim(data_dir, machine_id="first")
    with pytest.raises(ValueError, match="window"):
        snowdrift.claim(data_dir, window=0.001)


def test_the_error_hierarchy():
    for cls in (snowdrift.ClockBehind, snowdrift.LayoutExhausted, snowdrift.SlotsExhausted):
        assert issubclass(cls, snowdrift.Error)
    assert issubclass(snowdrift.Error, Exception)
    assert snowdrift.Error.__module__ == "snowdrift"


def test_interpreter_exit_releases_the_slot(data_dir):
    # The child claims and exits without close(): the exit handler closes the claim (and the
    # kernel would drop the lock anyway); the slot must be free for a fixed claim at once.
    done = python(
        f"""
        import snowdrift
        g = snowdrift.claim({str(data_dir)!r}, machine_id=5, window=0.2)
        print(g.generate_id())
        """
    )
    assert done.returncode == 0, done.stderr
    issued = int(done.stdout)
    with snowdrift.claim(data_dir, machine_id=5, window=0.2) as g:
        assert g.generate_id() > issued
