"""Side-by-side benchmark of the Python bindings (docs/BENCHMARKS.md, "Python").

Every case runs in this one process, in interleaved rounds (case A, B, C, ... then again), so a
change in the machine's load hits all of them alike; each round's ratios are taken within the
round and the report gives medians. A case runs for `--seconds` and counts the IDs it got;
with `--threads 4` four threads share one generator and the count is their total.

Cases, in the design's 41/5/5/12 layout (ceiling 4,096,000 IDs/s per worker):
  snowdrift IDGenerator.generate_id, ClaimedGenerator.generate_id, next_ids(4096) (a list of
  int), next_block(4096) (lazy, no int made), the design's algorithm in pure Python, and the
  PyPI peers snowflake-id (SnowflakeGenerator, retrying on None, a lock around it when shared)
  and sonyflake-py (SonyFlake, its only layout: 256 IDs per 10 ms).
And in a layout whose sequence does not bind (41/0/0/22, 4.2e9 IDs/s):
  generate_id, next_ids(4096), next_block(4096), and the pure-Python algorithm in that layout.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time

import snowdrift

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from design import DesignGenerator  # noqa: E402

EPOCH = snowdrift.DEFAULT_EPOCH
CHUNK = 256  # calls between two reads of the clock that ends a run


def single_calls(generate):
    """A run of `generate()` calls: returns how many IDs it made before `deadline`."""

    def run(deadline):
        made = 0
        while time.perf_counter() < deadline:
            for _ in range(CHUNK):
                generate()
            made += CHUNK
        return made

    return run


def block_calls(reserve, size):
    """A run of `reserve(size)` calls, each worth `size` IDs."""

    def run(deadline):
        made = 0
        while time.perf_counter() < deadline:
            reserve(size)
            made += size
        return made

    return run


def measure(run, seconds, threads):
    """(IDs per wall-clock second, IDs per CPU second of this process) of `run` on `threads`
    threads sharing the generator. The CPU figure is robust to other load on the machine; the
    wall-clock one is what a caller sees, and the only one a ceiling applies to."""
    cpu_start = time.process_time()
    if threads == 1:
        start = time.perf_counter()
        made = run(start + seconds)
    else:
        counts = [0] * threads
        barrier = threading.Barrier(threads + 1)
        deadline = [0.0]

        def worker(i):
            barrier.wait()
            counts[i] = run(deadline[0])

        pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for t in pool:
            t.start()
        start = time.perf_counter()
        deadline[0] = start + seconds
        barrier.wait()
        for t in pool:
            t.join()
        made = sum(counts)
    wall = time.perf_counter() - start
    cpu = max(time.process_time() - cpu_start, 1e-9)
    return made / wall, made / cpu


def machine_busy():
    """CPU ticks the whole machine spent busy so far (user + nice + system + irq + softirq)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return sum(int(fields[i]) for i in (1, 2, 3, 6, 7))


def cases(threads, data_dir):
    """(name, layout, run) for every case; generators are fresh per thread count."""
    from snowflake import SnowflakeGenerator
    from sonyflake import SonyFlake

    wide = snowdrift.Layout(timestamp_bits=41, datacenter_bits=0, machine_bits=0, sequence_bits=22)
    plain = snowdrift.IDGenerator(1, 2, EPOCH)
    claimed = snowdrift.claim(data_dir)
    wide_gen = snowdrift.IDGenerator(0, 0, layout=wide)
    design = DesignGenerator(1, 2, EPOCH)
    design_wide = DesignGenerator(0, 0, EPOCH, datacenter_bits=0, machine_bits=0, sequence_bits=22)

    snowflake_gen = SnowflakeGenerator(42, epoch=EPOCH)
    snowflake_lock = threading.Lock()

    def snowflake_next():
        # It returns None when a millisecond is used up; a caller must call again.
        if threads == 1:
            while next(snowflake_gen) is None:
                pass
        else:
            # Not thread-safe (a shared generator raises "generator already executing"):
            # its best shared use is behind a lock.
            with snowflake_lock:
                while next(snowflake_gen) is None:
                    pass

    sony = SonyFlake(machine_id=lambda: 1)
    return [
        ("snowdrift generate_id", "41/5/5/12", single_calls(plain.generate_id)),
        ("snowdrift claim().generate_id", "41/5/5/12", single_calls(claimed.generate_id)),
        ("snowdrift next_ids(4096)", "41/5/5/12", block_calls(plain.next_ids, 4096)),
        ("snowdrift next_block(4096)", "41/5/5/12", block_calls(plain.next_block, 4096)),
        ("pure-Python design", "41/5/5/12", single_calls(design.generate_id)),
        ("snowflake-id 1.0.2", "41/10/12 (fixed)", single_calls(snowflake_next)),
        ("sonyflake-py 1.3.0", "39/8/16, 10 ms (fixed)", single_calls(sony.next_id)),
        ("snowdrift generate_id", "41/0/0/22", single_calls(wide_gen.generate_id)),
        ("snowdrift next_ids(4096)", "41/0/0/22", block_calls(wide_gen.next_ids, 4096)),
        ("snowdrift next_block(4096)", "41/0/0/22", block_calls(wide_gen.next_block, 4096)),
        ("pure-Python design", "41/0/0/22", single_calls(design_wide.generate_id)),
    ], claimed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one case in one round")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    report = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "nproc": os.cpu_count(),
        "rounds": args.rounds,
        "seconds": args.seconds,
        "results": {},
    }
    busy_start, own_start, wall_start = machine_busy(), os.times(), time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for threads in args.threads:
            table, claimed = cases(threads, os.path.join(tmp, f"state-{threads}"))
            rates = {(name, layout): [] for name, layout, _ in table}
            cpu_rates = {(name, layout): [] for name, layout, _ in table}
            for _ in range(args.rounds):
                for name, layout, run in table:
                    wall, cpu = measure(run, args.seconds, threads)
                    rates[(name, layout)].append(wall)
                    cpu_rates[(name, layout)].append(cpu)
            claimed.close()
            print(f"\n== {threads} thread(s), {args.rounds} rounds of {args.seconds} s per case (medians)")
            print(
                f"{'case':32} {'layout':24} {'IDs/s':>14} {'min-max':>27} {'× pure Py':>10}"
                f" {'IDs/CPU-s':>14} {'× pure Py':>10}"
            )
            results = []
            for name, layout, _ in table:
                entry = {"case": name, "layout": layout}
                for key, series_of in (("wall", rates), ("cpu", cpu_rates)):
                    series = series_of[(name, layout)]
                    base = series_of.get(("pure-Python design", layout))
                    ratios = [r / b for r, b in zip(series, base)] if base else None
                    entry[key] = {
                        "median_ids_per_s": statistics.median(series),
                        "min": min(series),
                        "max": max(series),
                        "ratio_to_pure_python_median": statistics.median(ratios) if ratios else None,
                        "rounds": series,
                    }
                results.append(entry)

                def ratio(key):
                    value = entry[key]["ratio_to_pure_python_median"]
                    return f"{value:.1f}×" if value is not None else "-"

                wall, cpu = entry["wall"], entry["cpu"]
                print(
                    f"{name:32} {layout:24} {wall['median_ids_per_s']:>14,.0f} "
                    f"{wall['min']:>13,.0f}-{wall['max']:<13,.0f} {ratio('wall'):>10}"
                    f" {cpu['median_ids_per_s']:>14,.0f} {ratio('cpu'):>10}"
                )
            report["results"][str(threads)] = results
    # How much of the machine other processes used meanwhile: the noise of this run.
    elapsed = time.monotonic() - wall_start
    ticks = os.sysconf("SC_CLK_TCK")
    own = os.times()
    own_s = (own.user - own_start.user) + (own.system - own_start.system)
    machine_s = (machine_busy() - busy_start) / ticks
    others = max(machine_s - own_s, 0.0) / (elapsed * (os.cpu_count() or 1))
    report["others_share_of_machine"] = others
    print(f"\nother processes used {others:.0%} of the machine during the run ({elapsed:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
