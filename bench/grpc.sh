#!/usr/bin/env bash
# Reproduces the "Service (gRPC)" section of docs/BENCHMARKS.md.
#
# In one run, on this machine (the load tool shares the cores with the servers):
#   0. idle CPU of a freshly started node: utime + stime from /proc over IDLE seconds with no
#      requests, as a share of one core;
#   1. ROUNDS rounds, alternating, of unary calls from 50 HTTP/2 connections, one call in
#      flight on each (crates/service/examples/grpc_unary_load.rs): snowdrift `NextId` on the
#      node, then `grpc.health.v1.Health/Check` on a minimal tonic server (the bench-only
#      example grpc_hello: tonic and tonic-health, nothing else), then Health/Check on the
#      node itself (the same trivial handler behind the node's listener substrate);
#   2. NextIds(n) latency for n = 10, 1000, 4096, one call at a time on one connection
#      (crates/client/examples/next_ids_latency.rs);
#   3. `snowdrift fetch -n FETCH` to /dev/null over gRPC and over HTTP: IDs per second;
#   4. the node's RSS: VmRSS sampled every 200 ms through 1-3, and VmHWM at the end.
# Environment: ROUNDS=3, DURATION=10 (s per load step), IDLE=10, FETCH=3000000, CALLS=200
# (NextIds calls per size), SNOWDRIFT_BIN=… (prebuilt binary; examples are still built).
# Results go to stdout and bench/results/grpc.md.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${ROUNDS:-3}"
duration="${DURATION:-10}"
idle="${IDLE:-10}"
fetch_n="${FETCH:-3000000}"
calls="${CALLS:-200}"
out=bench/results
mkdir -p "$out"

cargo build --release -q -p snowdrift-service -p snowdrift-client --examples --bins
bin="${SNOWDRIFT_BIN:-${CARGO_TARGET_DIR:-target}/release/snowdrift}"
# Not passed on to the server: it refuses SNOWDRIFT_* variables that are not settings.
unset SNOWDRIFT_BIN
examples="${CARGO_TARGET_DIR:-target}/release/examples"

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" serve --http 127.0.0.1:0 --grpc 127.0.0.1:0 --data-dir "$work/state" \
  >"$work/node.out" 2>"$work/node.err" &
node_pid=$!
pids+=("$node_pid")
"$examples/grpc_hello" >"$work/hello.out" 2>"$work/hello.err" &
pids+=($!)
for _ in $(seq 1 200); do
  grep -q '^listening' "$work/node.out" 2>/dev/null && grep -q '^listening' "$work/hello.out" 2>/dev/null && break
  sleep 0.05
done
grpc=$(grep -o 'grpc=[0-9.:]*' "$work/node.out" | cut -d= -f2)
http=$(grep -o 'http=[0-9.:]*' "$work/node.out" | cut -d= -f2)
hello=$(grep -o 'grpc=[0-9.:]*' "$work/hello.out" | cut -d= -f2)
[ -n "$grpc" ] && [ -n "$hello" ] || { echo "a server did not start"; cat "$work"/*.err; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

{
  echo "## run $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) vCPU, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
} | tee "$out/grpc.md"

sleep 1
before=$(cpu_ticks "$node_pid")
sleep "$idle"
after=$(cpu_ticks "$node_pid")
idle_pct=$(awk -v a="$after" -v b="$before" -v hz="$hz" -v s="$idle" 'BEGIN {printf "%.2f", 100 * (a - b) / hz / s}')
echo "idle node: $((after - before)) ticks of CPU in ${idle}s = ${idle_pct}% of one core" | tee -a "$out/grpc.md"

sample_rss() {
  while kill -0 "$node_pid" 2>/dev/null; do
    awk '/^VmRSS:/ {print $2}' "/proc/$node_pid/status" >>"$work/rss" 2>/dev/null || true
    sleep 0.2
  done
}
sample_rss &
sampler=$!

field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
{
  echo
  echo "| round | snowdrift NextId calls/s | tonic hello (Health/Check) calls/s | ratio | node Health/Check calls/s |"
  echo "|---|---|---|---|---|"
} | tee -a "$out/grpc.md"
: >"$work/rounds"
for round in $(seq 1 "$rounds"); do
  ours=$("$examples/grpc_unary_load" "$grpc" next_id "$duration" 50 | field calls_per_sec)
  base=$("$examples/grpc_unary_load" "$hello" health "$duration" 50 | field calls_per_sec)
  node_health=$("$examples/grpc_unary_load" "$grpc" health "$duration" 50 | field calls_per_sec)
  ratio=$(awk -v a="$ours" -v b="$base" 'BEGIN {printf "%.2f", a / b}')
  echo "$ratio" >>"$work/rounds"
  echo "| $round | $ours | $base | $ratio | $node_health |" | tee -a "$out/grpc.md"
done
median=$(sort -g "$work/rounds" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')

echo | tee -a "$out/grpc.md"
echo "NextIds(n) latency, one connection, $calls calls each:" | tee -a "$out/grpc.md"
"$examples/next_ids_latency" "$grpc" "$calls" | tee -a "$out/grpc.md"

fetch_rate() { # URL → IDs/s of `snowdrift fetch -n $fetch_n`
  local start end
  start=$(date +%s%N)
  "$bin" fetch --endpoint "$1" -n "$fetch_n" >/dev/null
  end=$(date +%s%N)
  awk -v n="$fetch_n" -v s="$start" -v e="$end" 'BEGIN {printf "%d IDs/s (%.2f s)", n / ((e - s) / 1e9), (e - s) / 1e9}'
}
echo "snowdrift fetch -n $fetch_n over gRPC: $(fetch_rate "grpc://$grpc")" | tee -a "$out/grpc.md"
echo "snowdrift fetch -n $fetch_n over HTTP: $(fetch_rate "http://$http")" | tee -a "$out/grpc.md"

kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
max_rss_kb=$(sort -n "$work/rss" | tail -1)
hwm_kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$node_pid/status")
rss_verdict="met"
[ "$hwm_kb" -gt $((30 * 1024)) ] && rss_verdict="NOT met"
{
  echo
  echo "| measure | result | target |"
  echo "|---|---|---|"
  echo "| gRPC unary NextId vs minimal tonic server, 50 connections (median of $rounds ratios) | ${median}× | reported |"
  echo "| node RSS under gRPC load | max VmRSS $((max_rss_kb / 1024)) MB sampled, VmHWM $((hwm_kb / 1024)) MB | ≤ 30 MB: $rss_verdict |"
  echo "| idle node CPU | ${idle_pct}% of one core over ${idle} s | reported |"
} | tee -a "$out/grpc.md"
