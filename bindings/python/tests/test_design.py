"""The user's design, as written: its usage example, its classes, attributes and messages."""

import pytest

import snowdrift
from snowdrift import Datacenter, IDGenerator, IDSystem

from conftest import python

EPOCH = 1609459200000

USAGE_EXAMPLE = """\
from snowdrift import IDSystem
epoch = 1609459200000
system = IDSystem(datacenters=3, workers_per_datacenter=5, epoch=epoch)
id_generator = system.get_generator(datacenter_id=1, machine_id=2)
unique_id = id_generator.generate_id()
print(f"Generated ID: {unique_id}")
"""


def test_the_usage_example_runs_unchanged_and_prints_an_id_of_datacenter_1_machine_2():
    done = python(USAGE_EXAMPLE)
    assert done.returncode == 0, done.stderr
    prefix = "Generated ID: "
    assert done.stdout.startswith(prefix), done.stdout
    unique_id = int(done.stdout[len(prefix) :].strip())
    parts = snowdrift.decode(unique_id)
    assert (parts.datacenter_id, parts.machine_id) == (1, 2)


@pytest.mark.parametrize("value", [-1, 32, 1000, 2**70])
def test_generator_refuses_a_datacenter_out_of_range_with_the_designs_message(value):
    with pytest.raises(ValueError, match=r"^Datacenter ID must be between 0 and 31$"):
        IDGenerator(value, 0, EPOCH)


@pytest.mark.parametrize("value", [-1, 32, 2**64])
def test_generator_refuses_a_machine_out_of_range_with_the_designs_message(value):
    with pytest.raises(ValueError, match=r"^Machine ID must be between 0 and 31$"):
        IDGenerator(0, value, EPOCH)


def test_datacenter_refuses_an_unknown_worker_with_the_designs_message():
    dc = Datacenter(datacenter_id=4, workers=5, epoch=EPOCH)
    for machine in (-1, 5, 31):
        with pytest.raises(ValueError, match=r"^Invalid machine ID$"):
            dc.get_worker(machine)


def test_datacenter_checks_its_id_and_its_workers_like_the_design():
    with pytest.raises(ValueError, match=r"^Datacenter ID must be between 0 and 31$"):
        Datacenter(32, 5, EPOCH)
    # The design builds IDGenerator(dc, i) for i in range(workers): 33 fails on machine 32.
    with pytest.raises(ValueError, match=r"^Machine ID must be between 0 and 31$"):
        Datacenter(0, 33, EPOCH)
    # Stricter than the design, which made an empty list.
    with pytest.raises(ValueError, match=r"^workers must be at least 1$"):
        Datacenter(0, 0, EPOCH)


def test_system_refuses_unknown_datacenters_and_machines_with_the_designs_messages():
    system = IDSystem(datacenters=3, workers_per_datacenter=5, epoch=EPOCH)
    with pytest.raises(ValueError, match=r"^Invalid datacenter ID$"):
        system.get_generator(datacenter_id=3, machine_id=0)
    with pytest.raises(ValueError, match=r"^Invalid datacenter ID$"):
        system.get_generator(-1, 0)
    with pytest.raises(ValueError, match=r"^Invalid machine ID$"):
        system.get_generator(datacenter_id=2, machine_id=5)
    with pytest.raises(ValueError, match=r"^Datacenter ID must be between 0 and 31$"):
        IDSystem(33, 1, EPOCH)
    with pytest.raises(ValueError, match=r"^Machine ID must be between 0 and 31$"):
        IDSystem(1, 40, EPOCH)


def test_a_value_that_is_not_an_integer_is_a_type_error():
    with pytest.raises(TypeError):
        IDGenerator(1.5, 0, EPOCH)
    with pytest.raises(TypeError):
        IDGenerator("1", 0, EPOCH)


def test_an_epoch_in_the_future_is_refused_with_the_cores_message():
    with pytest.raises(ValueError, match="in the future"):
        IDGenerator(0, 0, 10**13)
    with pytest.raises(ValueError, match="epoch must be Unix milliseconds"):
        IDGenerator(0, 0, -1)


def test_generator_attributes_are_the_designs_and_read_only():
    g = IDGenerator(datacenter_id=3, machine_id=7, epoch=EPOCH)
    assert (g.datacenter_id, g.machine_id, g.epoch) == (3, 7, EPOCH)
    assert (g.timestamp_bits, g.datacenter_bits, g.machine_bits, g.sequence_bits) == (41, 5, 5, 12)
    assert (g.max_datacenter_id, g.max_machine_id, g.max_sequence) == (31, 31, 4095)
    assert (g.machine_shift, g.datacenter_shift, g.timestamp_shift) == (12, 17, 22)
    for name in ("datacenter_id", "machine_id", "epoch", "sequence_bits", "timestamp_shift"):
        with pytest.raises(AttributeError):
            setattr(g, name, 0)


def test_ids_carry_the_fields_and_increase():
    g = IDGenerator(3, 7, EPOCH)
    ids = [g.generate_id() for _ in range(20000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for i in (ids[0], ids[-1]):
        parts = snowdrift.decode(i)
        assert (parts.datacenter_id, parts.machine_id) == (3, 7)
        assert i == (parts.timestamp << 22) | (3 << 17) | (7 << 12) | parts.sequence
    # Positive i64: bit 63 is clear in the design's layout.
    assert all(0 < i < 2**63 for i in ids)


def test_the_object_model_hands_out_the_same_generator_objects():
    system = IDSystem(2, 3, EPOCH)
    assert len(system.datacenters) == 2
    assert [len(dc.workers) for dc in system.datacenters] == [3, 3]
    g = system.get_generator(1, 2)
    assert g is system.datacenters[1].get_worker(2)
    assert g is system.datacenters[1].workers[2]
    assert (g.datacenter_id, g.machine_id) == (1, 2)
    ids = {system.get_generator(dc, m).generate_id() for dc in range(2) for m in range(3)}
    assert len(ids) == 6


def test_blocks_are_lists_or_lazy_blocks_of_consecutive_ids():
    g = IDGenerator(1, 1, EPOCH)
    ids = g.next_ids(5000)
    assert len(ids) == 5000 and ids == sorted(set(ids)) and all(isinstance(i, int) for i in ids)
    block = g.next_block(4096)
    assert len(block) == 4096 and block.first > ids[-1]
    listed = list(block)
    assert listed == block.tolist() and listed[0] == block.first and listed[-1] == block.last
    assert g.generate_id() > block.last
    with pytest.raises(ValueError, match="batch size"):
        g.next_ids(0)
    with pytest.raises(ValueError, match="batch size"):
        g.next_block(-5)


def test_a_custom_layout_moves_the_limits_and_messages():
    layout = snowdrift.Layout(timestamp_bits=41, datacenter_bits=2, machine_bits=8, sequence_bits=12)
    g = IDGenerator(3, 255, layout=layout)
    assert (g.max_datacenter_id, g.max_machine_id) == (3, 255)
    with pytest.raises(ValueError, match=r"^Datacenter ID must be between 0 and 3$"):
        IDGenerator(4, 0, layout=layout)
    with pytest.raises(ValueError, match=r"^Machine ID must be between 0 and 255$"):
        IDGenerator(0, 256, layout=layout)
    # epoch= replaces the layout's epoch.
    assert IDGenerator(0, 0, 1288834974657, layout=layout).epoch == 1288834974657
