"""Layouts (presets, custom widths, validation with the core's messages) and decoding of
published IDs, in every text form."""

import datetime

import pytest

import snowdrift
from snowdrift import Layout

UTC = datetime.timezone.utc


def test_the_default_layout_is_the_designs():
    layout = Layout()
    assert (layout.timestamp_bits, layout.datacenter_bits, layout.machine_bits, layout.sequence_bits) == (41, 5, 5, 12)
    assert layout.epoch == snowdrift.DEFAULT_EPOCH == 1609459200000
    assert layout.ids_per_second_per_worker == 4_096_000
    assert layout.ends() == datetime.datetime(2090, 9, 7, 15, 47, 35, 551000, tzinfo=UTC)
    assert layout.lifetime() == datetime.timedelta(milliseconds=2**41 - 1)
    assert layout == Layout.preset("snowdrift") and hash(layout) == hash(Layout.preset("snowdrift"))


def test_presets_are_listed_and_unknown_names_refused():
    assert {"snowdrift", "twitter", "discord", "instagram"} <= set(Layout.presets())
    assert Layout.preset("Discord").timestamp_bits == 42
    with pytest.raises(ValueError, match="unknown layout preset"):
        Layout.preset("nope")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(timestamp_bits=45, sequence_bits=14), "reduce them to 64 bits or fewer"),
        (dict(timestamp_bits=20, sequence_bits=12), "it must be at least 32 bits"),
        (dict(unit_ms=0), "time unit of 0 ms is not supported"),
        (dict(epoch=10**13), "in the future"),
        (dict(sequence_bits=-1), "sequence_bits must be between 0 and 64"),
        (dict(machine_bits=300), "machine_bits must be between 0 and 64"),
        (dict(epoch=-5), "epoch must be Unix milliseconds"),
    ],
)
def test_custom_layouts_are_validated_with_the_cores_messages(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Layout(**kwargs)


def test_a_custom_unit_changes_the_ceiling_and_the_lifetime():
    sonyflake_like = Layout(timestamp_bits=39, datacenter_bits=0, machine_bits=16, sequence_bits=8, unit_ms=10)
    assert sonyflake_like.ids_per_second_per_worker == 25_600
    assert sonyflake_like.lifetime() == datetime.timedelta(milliseconds=(2**39 - 1) * 10)


def test_the_discord_documentation_example_decodes_to_its_documented_time():
    # Discord API reference, "Snowflakes": 2016-04-30 11:18:25.796 UTC, worker 1, process 0, increment 7.
    parts = snowdrift.decode(175928847299117063, layout="discord")
    assert parts.datetime == datetime.datetime(2016, 4, 30, 11, 18, 25, 796000, tzinfo=UTC)
    assert parts.datetime.tzinfo is not None
    assert (parts.datacenter_id, parts.machine_id, parts.sequence) == (1, 0, 7)
    assert parts.unix_ms == 1462015105796


def test_the_twitter_documentation_example_decodes_to_its_created_at():
    # Twitter API v1.1, Tweet object example: "created_at": "Wed Oct 10 20:19:24 +0000 2018".
    parts = snowdrift.decode("1050118621198921728", layout=Layout.preset("twitter"))
    assert parts.datetime.replace(microsecond=0) == datetime.datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)


def test_every_text_form_decodes_to_the_same_parts():
    g = snowdrift.IDGenerator(9, 17, snowdrift.DEFAULT_EPOCH)
    i = g.generate_id()
    forms = {name: snowdrift.encode(i, name) for name in ("decimal", "base32", "base62", "hex")}
    assert forms["decimal"] == str(i) and len(forms["base32"]) == 13 and len(forms["base62"]) == 11
    for name, text in forms.items():
        assert snowdrift.decode(text, encoding=name).id == i
        assert snowdrift.decode(text).id == i, f"{name} was not detected"
    assert snowdrift.decode("0x" + format(i, "x")).id == i
    parts = snowdrift.decode(i)
    assert (parts.datacenter_id, parts.machine_id) == (9, 17)


def test_ids_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="does not fit this layout"):
        snowdrift.decode(2**63 + 5)  # the default layout has 63 bits
    with pytest.raises(ValueError):
        snowdrift.decode(-1)
    with pytest.raises(ValueError, match="not Crockford base32"):
        snowdrift.decode("!!!!!!!!!!!!!")
