"""Threads sharing one generator: every ID unique, each thread's IDs increasing, and a call that
waits for the clock lets the other threads run (the GIL is released while it waits)."""

import sys
import threading

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


def _main_thread_ran_during_a_wait():
    """Whether the main thread ran Python code while the other thread was inside a
    generate_id that had to wait for the next tick.

    No timing is measured, so a loaded machine cannot fail it. The interpreter's switch
    interval is raised to 30 s, so neither thread loses the GIL by being preempted: the GIL
    changes hands only when a thread gives it up. The waiter takes the tick's one ID, wakes the
    main thread (which then needs the GIL), and calls generate_id again, which must wait about
    a second for the next tick. If that wait releases the GIL, the main thread runs while the
    call is still going on and sees it unfinished. If it held the GIL, the main thread could run
    only after the call returned, and would see it finished.
    """
    # One ID per 1 s tick: the second call in a tick waits for the next one.
    layout = snowdrift.Layout(sequence_bits=0, datacenter_bits=5, machine_bits=5, unit_ms=1000)
    g = IDGenerator(0, 0, layout=layout)
    ready = threading.Event()
    finished = threading.Event()

    def waiter():
        g.generate_id()
        ready.set()
        g.generate_id()
        finished.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    assert ready.wait(timeout=30), "the waiting thread never took its first ID"
    ran_during_the_wait = not finished.is_set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return ran_during_the_wait


def test_a_call_waiting_for_the_next_tick_releases_the_gil():
    interval = sys.getswitchinterval()
    sys.setswitchinterval(30)
    try:
        # Three tries: a try can only miss if the tick ends between the waiter's two calls
        # (then the second does not wait), which happens in about 1 of 10^5 tries.
        outcomes = [_main_thread_ran_during_a_wait() for _ in range(3)]
    finally:
        sys.setswitchinterval(interval)
    assert any(outcomes), f"the main thread never ran while a call waited: {outcomes}"
