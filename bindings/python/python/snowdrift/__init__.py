"""Snowdrift: time-ordered 64-bit unique IDs on a lock-free Rust core.

The user's design, under its own names::

    from snowdrift import IDSystem
    system = IDSystem(datacenters=3, workers_per_datacenter=5, epoch=1609459200000)
    id_generator = system.get_generator(datacenter_id=1, machine_id=2)
    unique_id = id_generator.generate_id()

``IDGenerator``, ``Datacenter`` and ``IDSystem`` are in-process only: two processes that take the
same slot repeat each other's IDs. ``claim(data_dir)`` gives each process (each forked worker
too) its own slot in a state directory shared with ``snowdrift serve``.
"""

from ._snowdrift import (
    DEFAULT_EPOCH,
    ClaimedGenerator,
    ClockBehind,
    Datacenter,
    Error,
    IDBlock,
    IDGenerator,
    IDParts,
    IDSystem,
    Layout,
    LayoutExhausted,
    SlotsExhausted,
    __version__,
    claim,
    decode,
    encode,
)

__all__ = [
    "DEFAULT_EPOCH",
    "ClaimedGenerator",
    "ClockBehind",
    "Datacenter",
    "Error",
    "IDBlock",
    "IDGenerator",
    "IDParts",
    "IDSystem",
    "Layout",
    "LayoutExhausted",
    "SlotsExhausted",
    "__version__",
    "claim",
    "decode",
    "encode",
]
