"""Threads sharing one generator: every ID unique, each thread's IDs increasing, and a call that
waits for the clock lets the other threads run (the GIL is released while it waits)."""

import threading
import time

import snowdrift
from snowdrift import IDGenerator

EPOCH = 1609459200000


def _run_threads(target, count):
    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a generating thread did not finish"


def test_threads_sharing_a_generator_never_repeat_an_id():
    g = IDGenerator(2, 5, EPOCH)
    per_thread = 50_000
    results = [None] * 4

    def work(i):
        ids = []
        for n in range(per_thread):
            # Mix single IDs and blocks, so both paths race each other.
            if n % 1000 == 0:
                ids.extend(g.next_ids(100))
            else:
                ids.append(g.generate_id())
        results[i] = ids

    _run_threads(work, 4)
    all_ids = [i for ids in results for i in ids]
    assert len(all_ids) == 4 * (per_thread + per_thread // 1000 * 99)
    assert len(set(all_ids)) == len(all_ids), "an ID was issued twice"
    for ids in results:
        assert ids == sorted(ids), "a thread saw its IDs go backwards"
    assert {snowdrift.decode(i).machine_id for i in all_ids[::997]} == {5}


def test_a_call_waiting_for_the_next_tick_releases_the_gil():
    # One ID per 200 ms tick: each generate_id after the first in a tick waits up to 200 ms.
    layout = snowdrift.Layout(sequence_bits=0, datacenter_bits=5, machine_bits=5, unit_ms=200)
    g = IDGenerator(0, 0, layout=layout)
    done = threading.Event()

    def waiter(_):
        for _ in range(4):
            g.generate_id()
        done.set()

    thread = threading.Thread(target=waiter, args=(0,))
    largest_gap = 0.0
    last = time.monotonic()
    thread.start()
    # The main thread keeps running Python meanwhile. If the waiting call held the GIL, this
    # loop would stall for a whole tick (~200 ms) at a time; released, it never stalls for
    # much more than the interpreter's 5 ms switch interval.
    while not done.is_set():
        now = time.monotonic()
        largest_gap = max(largest_gap, now - last)
        last = now
        assert now < last + 30
    thread.join(timeout=10)
    assert largest_gap < 0.1, f"the main thread stalled {largest_gap * 1000:.0f} ms"
