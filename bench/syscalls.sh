#!/usr/bin/env bash
# System calls per request, counted by `strace -f -c` on the server, for snowdrift and for
# redis-server under the same load: 50 connections, no pipelining (and RESP with -P 16).
#
# For each case the server runs under strace while the load tool sends its requests; the
# table gives, per request, the calls that make up nearly all of them (recv*, send*/write*,
# epoll_wait, futex) and their total. strace slows the server down, so the counts are the
# figure here, not the time. Loads: redis-benchmark -c 50 -n N (NEXTID on our RESP listener,
# INCR on redis-server; and both with -P 16 for N x 10); wrk -c 50 for DURATION seconds on
# GET /v1/id (the request count is wrk's); grpc_unary_load, 50 connections, N calls of NextId.
#
# Usage: bench/syscalls.sh [BIN]   (default: the release build of this tree)
# Environment: N=50000, DURATION=5, CASES="resp resp16 http grpc redis redis16".
# Needs strace, redis-server, redis-benchmark and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."

n="${N:-50000}"
duration="${DURATION:-5}"
cases="${CASES:-resp resp16 http grpc redis redis16}"
for tool in strace redis-server redis-benchmark wrk; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/syscalls.sh: $tool missing" >&2; exit 1; }
done
# The same package set as bench/resp.sh and bench/grpc.sh, so one build serves them all.
cargo build --release -q -p snowdrift-service -p snowdrift-client --examples --bins
bin="${1:-${CARGO_TARGET_DIR:-target}/release/snowdrift}"
examples="${CARGO_TARGET_DIR:-target}/release/examples"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    pkill -TERM -P "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  local port
  for port in $(seq 24000 24999); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "no free port in 24000-24999" >&2; exit 1
}

# measure CASE: prints one table row.
measure() {
  local case=$1 dir addr requests
  dir="$(mktemp -d "$work/run.XXXX")"
  case "$case" in
    redis*)
      local port
      port="$(free_port)"
      strace -f -c -o "$dir/strace" redis-server --port "$port" --bind 127.0.0.1 --save '' \
        --appendonly no >"$dir/stdout" 2>"$dir/stderr" &
      server_pid=$!
      for _ in $(seq 1 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
      addr="127.0.0.1:$port"
      ;;
    *)
      strace -f -c -o "$dir/strace" "$bin" serve --http 127.0.0.1:0 --resp 127.0.0.1:0 \
        --grpc 127.0.0.1:0 --data-dir "$dir/state" >"$dir/stdout" 2>"$dir/stderr" &
      server_pid=$!
      local line=""
      for _ in $(seq 1 400); do
        line="$(grep -m1 '^listening' "$dir/stdout" 2>/dev/null || true)"
        [ -n "$line" ] && break
        sleep 0.05
      done
      [ -n "$line" ] || { echo "server did not start:" >&2; cat "$dir/stderr" >&2; exit 1; }
      addr="$(echo "$line" | grep -o "${case%16}=[0-9.:]*" | cut -d= -f2)"
      ;;
  esac
  local host=${addr%:*} port=${addr##*:}
  case "$case" in
    resp) redis-benchmark -h "$host" -p "$port" -c 50 -n "$n" -q NEXTID >/dev/null; requests=$n ;;
    resp16) redis-benchmark -h "$host" -p "$port" -c 50 -P 16 -n $((n * 10)) -q NEXTID >/dev/null; requests=$((n * 10)) ;;
    redis) redis-benchmark -h "$host" -p "$port" -c 50 -n "$n" -q -t incr >/dev/null; requests=$n ;;
    redis16) redis-benchmark -h "$host" -p "$port" -c 50 -P 16 -n $((n * 10)) -q -t incr >/dev/null; requests=$((n * 10)) ;;
    http)
      requests=$(wrk -t2 -c50 -d"${duration}s" "http://$addr/v1/id" | awk '/requests in/ {print $1}')
      ;;
    grpc) "$examples/grpc_unary_load" "$addr" next_id 0 50 "$n" >/dev/null; requests=$n ;;
  esac
  # $server_pid is strace's: stop the traced server itself, and strace ends with it.
  local traced
  traced="$(pgrep -P "$server_pid" | head -1)"
  kill -TERM "${traced:-$server_pid}"
  wait "$server_pid" || true
  server_pid=""
  # strace -c: "% time seconds usecs/call calls errors syscall"; the total line has no name.
  python3 - "$dir/strace" "$case" "$requests" <<'PY'
import sys
path, case, requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
calls = {}
for line in open(path):
    parts = line.split()
    if len(parts) >= 5 and parts[0][0].isdigit() and not line.lstrip().startswith("100.00"):
        name = parts[-1]
        count = int(parts[3])
        calls[name] = count
total = sum(calls.values())
def per(*names):
    return sum(calls.get(n, 0) for n in names) / requests
print(f"| {case} | {requests} | {per('recvfrom', 'read', 'recvmsg'):.3f} | "
      f"{per('sendto', 'write', 'writev', 'sendmsg'):.3f} | {per('epoll_wait', 'epoll_pwait', 'epoll_pwait2'):.3f} | "
      f"{per('futex'):.3f} | {total / requests:.3f} |")
PY
}

echo "| case | requests | recv/read | send/write(v) | epoll_wait | futex | all syscalls |"
echo "|---|---|---|---|---|---|---|"
for c in $cases; do measure "$c"; done
