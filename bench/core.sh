#!/usr/bin/env bash
# Reproduces the "Core library" section of docs/BENCHMARKS.md.
#
# Runs the criterion benchmarks of the core (next_id, two threads, next_ids, clock reads: each
# against a baseline measured in the same run), then the sustained-rate program (default
# layout vs the 4,096,000 IDs/s ceiling, CPU time per ID), then the interleaved program (1, 2
# and 4 threads sharing one generator, ferroid at each of its wait settings, and IDs taken one
# at a time from a refilled batch; ratios taken within each round, robust to drift on a
# shared VM), the idle program (the clock's cost while nobody asks for IDs), instruction counts
# by callgrind when valgrind is installed, then prints every ratio and verdict and writes a
# machine-readable summary to bench/results/core.json (bench/results/ is git-ignored).
#
# Takes about six minutes on a 2-vCPU VM. Run it on an otherwise idle machine: on two cores
# any other work (a compile, a test run) shows up in the numbers. Arguments are passed to
# criterion, e.g. `bench/core.sh core_next_id` runs only that group (the report then says
# which cases were not run).
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
out=bench/results
mkdir -p "$out"

echo "== machine"
{
  date -u +"date: %Y-%m-%dT%H:%M:%SZ"
  echo "nproc: $(nproc)"
  lscpu | head -20
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  rustc --version
} | tee "$out/core-machine.txt"

# CPU time of the whole machine and of this script's children (cargo and the benchmarks),
# in clock ticks: their difference over the run is what other processes took, the noise.
machine_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
own_busy() { awk '{print $16+$17}' "/proc/$$/stat"; }
busy_start=$(machine_busy); own_start=$(own_busy); wall_start=$(date +%s.%N)

# Old results of these groups would otherwise be read as this run's.
rm -rf "$target"/criterion/core_*

echo "== criterion: cargo bench -p snowdrift-benches"
cargo bench -p snowdrift-benches -- "$@" 2>&1 | tee "$out/core-criterion.log"

echo "== sustained rate (default layout, 1 thread)"
cargo run --quiet --release -p snowdrift-benches --bin sustained -- \
  --json "$out/core-sustained.json" | tee "$out/core-sustained.txt"

echo "== interleaved: 1, 2 and 4 threads sharing one generator, and IDs one at a time from a batch"
cargo run --quiet --release -p snowdrift-benches --bin interleaved -- \
  --json "$out/core-interleaved.json" | tee "$out/core-interleaved.md"

echo "== idle: the clock ticker while nobody asks for IDs (10 s)"
cargo run --quiet --release -p snowdrift-benches --bin idle -- \
  --seconds 10 --json "$out/core-idle.json" | tee "$out/core-idle.txt"

# Instructions per ID, counted by callgrind: the figure that repeats on a noisy machine.
if command -v valgrind >/dev/null; then
  echo "== instructions per ID (callgrind, 1 thread, wide layouts, 1000000 IDs a case)"
  cargo build --quiet --release -p snowdrift-benches --bin instructions
  cg="$(mktemp)"
  for case in next_id local fetch_add ferroid next_ids block_next next_ids_into \
              snowflake_me_next_ids_into; do
    valgrind --tool=callgrind --toggle-collect='*measured_*' --callgrind-out-file="$cg" \
      "$target/release/instructions" "$case" 1000000 >/dev/null 2>&1
    awk -v c="$case" '/^totals/ { printf "| `%s` | %.3f |\n", c, $2 / 1000000 }' "$cg"
  done | { echo "| case | instructions per ID |"; echo "|---|---:|"; cat; } \
    | tee "$out/core-instructions.md"
  rm -f "$cg"
else
  echo "== instructions per ID: skipped (valgrind is not installed)"
fi

{
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  awk -v b0="$busy_start" -v b1="$(machine_busy)" -v o0="$own_start" -v o1="$(own_busy)" \
      -v w0="$wall_start" -v w1="$(date +%s.%N)" -v hz="$(getconf CLK_TCK)" -v n="$(nproc)" \
      'BEGIN { printf "other processes used %.0f%% of the machine (%d CPUs) during the run\n",
               100 * ((b1 - b0) - (o1 - o0)) / hz / ((w1 - w0) * n), n }'
} | tee -a "$out/core-machine.txt"

echo "== ratios"
cargo run --quiet --release -p snowdrift-benches --bin report -- \
  --criterion "$target/criterion" \
  --sustained "$out/core-sustained.json" \
  --interleaved "$out/core-interleaved.json" \
  --json "$out/core.json" | tee "$out/core-report.md"
