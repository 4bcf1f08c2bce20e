"""Fork safety of claim(): a forked child never issues from its parent's slot.

A child made by fork() inherits the parent's claim object, its generator and its slot's flock.
The at-fork handler makes the child claim a slot of its own before its first ID; these tests
check that for multiprocessing's fork and spawn start methods and for a pre-fork server (the
gunicorn pattern), and that the child's clock keeps following the wall clock."""

import atexit
import multiprocessing
import os
import signal
import time
from array import array

import pytest

import snowdrift

import forkwork
from conftest import python, spawn_python


def _wait(pid, timeout=60):
    """Waits for a child; fails (after killing it) if it takes longer than `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    pytest.fail(f"child {pid} did not finish within {timeout} s")


def test_a_pre_fork_server_parent_and_four_workers_never_share_an_id(data_dir, tmp_path):
    parent = snowdrift.claim(data_dir)
    before = [parent.generate_id() for _ in range(10_000)]
    workers = []
    for n in range(4):
        out = tmp_path / f"worker-{n}.ids"
        pid = os.fork()
        if pid == 0:
            # A worker: 100,000 IDs from the inherited claim object, then exit without cleanup
            # (as multiprocessing and gunicorn workers do).
            code = 1
            try:
                ids = array("Q", (parent.generate_id() for _ in range(100_000)))
                ids.append(parent.machine_id)
                with open(out, "wb") as f:
                    ids.tofile(f)
                code = 0
            finally:
                os._exit(code)
        workers.append((pid, out))
    after = [parent.generate_id() for _ in range(10_000)]
    all_ids = before + after
    machines = {parent.machine_id}
    for pid, out in workers:
        assert _wait(pid) == 0, f"worker {pid} failed"
        ids = array("Q")
        ids.frombytes(out.read_bytes())
        machines.add(ids.pop())
        assert len(ids) == 100_000
        all_ids.extend(ids)
    parent.close()
    assert len(all_ids) == 420_000
    assert len(set(all_ids)) == len(all_ids), "an ID was issued twice"
    assert len(machines) == 5, f"workers shared slots: {machines}"
    # Each ID's machine field is one of the processes' slots.
    layout = parent.layout
    assert {(i >> layout.machine_shift) & layout.max_machine_id for i in all_ids} == machines


def test_multiprocessing_fork_workers_claim_their_own_slots(data_dir):
    forkwork.INHERITED = snowdrift.claim(data_dir)
    try:
        mine = [forkwork.INHERITED.generate_id() for _ in range(5_000)]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(3) as pool:
            results = pool.map(forkwork.ids_from_inherited_claim, [20_000] * 6, chunksize=1)
        mine += [forkwork.INHERITED.generate_id() for _ in range(5_000)]
        all_ids = mine + [i for _, ids in results for i in ids]
        assert len(set(all_ids)) == len(all_ids) == 10_000 + 6 * 20_000
        worker_slots = {machine for machine, _ in results}
        assert forkwork.INHERITED.machine_id not in worker_slots
        assert 1 <= len(worker_slots) <= 3
    finally:
        forkwork.INHERITED.close()
        forkwork.INHERITED = None


def test_multiprocessing_spawn_workers_claim_their_own_slots(data_dir):
    with snowdrift.claim(data_dir) as g:
        mine = [g.generate_id() for _ in range(5_000)]
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(2) as pool:
            results = pool.map(forkwork.ids_from_own_claim, [(str(data_dir), 20_000)] * 2)
        mine += [g.generate_id() for _ in range(5_000)]
        all_ids = mine + [i for _, ids in results for i in ids]
        assert len(set(all_ids)) == len(all_ids) == 10_000 + 2 * 20_000
        assert g.machine_id not in {machine for machine, _ in results}


def test_a_child_of_a_fixed_slot_takes_a_free_one_and_leaves_the_parents_lock(data_dir, tmp_path):
    parent = snowdrift.claim(data_dir, machine_id=3)
    first = parent.generate_id()
    out = tmp_path / "child"
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            out.write_text(f"{parent.machine_id} {parent.generate_id()}")
            code = 0
        finally:
            # The exit handlers of a normal exit run in the child (pytest's own exit must not
            # run here), and must not release the parent's lock: an unlock through the
            # inherited descriptor would.
            atexit._run_exitfuncs()
            os._exit(code)
    assert _wait(pid) == 0
    child_machine, child_id = map(int, out.read_text().split())
    assert child_machine != 3 and snowdrift.decode(child_id).machine_id == child_machine
    # The parent still holds slot 3: another process is refused it.
    other = python(
        f"""
        import snowdrift
        try:
            snowdrift.claim({str(data_dir)!r}, machine_id=3)
        except snowdrift.Error as e:
            print(e.code)
        """
    )
    assert other.stdout.strip() == "slot_held", other.stderr
    assert parent.generate_id() > first
    parent.close()


def test_a_child_does_not_keep_its_dead_parents_slot_locked(data_dir):
    # The child inherits the descriptor on which its parent holds the slot's flock. Unless the
    # child closes it, the slot stays locked after the parent is killed, for as long as the
    # child lives, and a restarted parent cannot take its slot back.
    family = spawn_python(
        f"""
        import os, time, snowdrift
        g = snowdrift.claim({str(data_dir)!r}, machine_id=3, window=0.2)
        g.generate_id()
        pid = os.fork()
        if pid == 0:
            g.generate_id()
            print("child", os.getpid(), g.machine_id, flush=True)
            time.sleep(60)
            os._exit(0)
        time.sleep(60)
        """
    )
    child_pid = None
    try:
        word, child_pid, child_machine = family.stdout.readline().split()
        assert word == "child" and int(child_machine) != 3
        child_pid = int(child_pid)
        family.kill()
        family.wait(timeout=30)
        os.kill(child_pid, 0)  # the child lives on
        with snowdrift.claim(data_dir, machine_id=3, window=0.2) as g:
            assert g.machine_id == 3
    finally:
        family.kill()
        family.wait(timeout=30)
        if child_pid is not None:
            try:
                os.kill(child_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_a_forked_childs_clock_follows_the_wall_clock(data_dir, tmp_path):
    # Threads do not survive fork(): without restarting the clock's ticker in the child, the
    # child's time stood still at the fork and moved only when a call had to wait.
    parent = snowdrift.claim(data_dir)
    parent.generate_id()
    plain = snowdrift.IDGenerator(0, 0, snowdrift.DEFAULT_EPOCH)
    plain.generate_id()
    out = tmp_path / "child"
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            a, p = parent.generate_id(), plain.generate_id()
            time.sleep(0.2)
            b, q = parent.generate_id(), plain.generate_id()
            out.write_text(" ".join(str(snowdrift.decode(i).unix_ms) for i in (a, b, p, q)))
            code = 0
        finally:
            os._exit(code)
    assert _wait(pid) == 0
    a, b, p, q = map(int, out.read_text().split())
    assert b - a >= 150, f"the claimed generator's clock moved {b - a} ms in 200 ms"
    assert q - p >= 150, f"the plain generator's clock moved {q - p} ms in 200 ms"
    parent.close()


def test_a_forked_child_of_a_closed_claim_cannot_issue(data_dir, tmp_path):
    g = snowdrift.claim(data_dir)
    g.close()
    out = tmp_path / "child"
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            try:
                g.generate_id()
                out.write_text("issued")
            except snowdrift.Error as e:
                out.write_text(e.code)
            code = 0
        finally:
            os._exit(code)
    assert _wait(pid) == 0
    assert out.read_text() == "closed"
