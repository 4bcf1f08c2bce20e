#!/usr/bin/env bash
# Instructions the server executes per single-ID request, counted by callgrind: a figure that
# repeats from run to run on a shared, noisy machine, where requests per second do not.
#
# For each protocol, runs `snowdrift serve` under `valgrind --tool=callgrind` twice, once
# answering N1 requests and once N2, from one client connection asking one ID at a time
# (HTTP: GET /v1/id on one keep-alive connection; RESP: redis-benchmark -c 1 NEXTID; resp16:
# the same 16 commands deep, `-P 16`; grpc: unary NextId on one HTTP/2 connection, one call at
# a time, from the bench-only example grpc_unary_load; redis and redis16: redis-server itself
# answering INCR to the same redis-benchmark loads, the baseline), and
# prints (Ir(N2) - Ir(N1)) / (N2 - N1): the cost of one more request, with start-up and
# shutdown cancelled out. The clock's ticker thread is left out: it wakes every millisecond
# whatever the load, so it costs by wall time, not by request. The window is a minute long, so
# the window keeper (whose work is also by time, and slowed down by callgrind) neither lets
# the window run out nor persists often.
#
# Usage: bench/instructions.sh [BIN...]   (default: the release build of this tree)
# Several binaries are measured one after the other, for a before/after comparison.
# Environment: N1=2000, N2=12000, PROTOCOLS="http resp resp16 grpc redis redis16", ROUNDS=1
# (runs of each pair).
# Needs valgrind, redis-benchmark and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

n1="${N1:-2000}"
n2="${N2:-12000}"
protocols="${PROTOCOLS:-http resp resp16 grpc redis redis16}"
rounds="${ROUNDS:-1}"
for tool in valgrind redis-benchmark python3; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "bench/instructions.sh: $tool missing (apt-get install -y valgrind redis-tools python3)" >&2
    exit 1
  }
done
if [ $# -eq 0 ]; then
  cargo build --release -q -p snowdrift-service
  set -- "${CARGO_TARGET_DIR:-target}/release/snowdrift"
fi
# The gRPC load tool (bench-only example).
# The same package set as bench/resp.sh and bench/grpc.sh, so one build serves them all.
case " $protocols " in *" grpc "*) cargo build --release -q -p snowdrift-service -p snowdrift-client --examples --bins ;; esac
examples="${CARGO_TARGET_DIR:-target}/release/examples"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  local port
  for port in $(seq 23000 23999); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "no free port in 23000-23999" >&2; exit 1
}

# run BIN PROTOCOL N: serves N requests under callgrind; prints the instructions counted.
# For the redis protocols BIN is ignored: redis-server runs instead, answering INCR.
run() {
  local bin=$1 protocol=$2 n=$3 dir addr
  dir="$(mktemp -d "$work/run.XXXX")"
  case "$protocol" in
    redis*)
      local port
      port="$(free_port)"
      valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$dir/cg.out" \
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        >"$dir/stdout" 2>"$dir/stderr" &
      server_pid=$!
      for _ in $(seq 1 1200); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.1
      done
      addr="127.0.0.1:$port"
      ;;
    *)
      valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$dir/cg.out" \
        "$bin" serve --http 127.0.0.1:0 --resp 127.0.0.1:0 --grpc 127.0.0.1:0 \
        --data-dir "$dir/state" --window 60s >"$dir/stdout" 2>"$dir/stderr" &
      server_pid=$!
      local line=""
      for _ in $(seq 1 1200); do
        line="$(grep -m1 '^listening' "$dir/stdout" 2>/dev/null || true)"
        [ -n "$line" ] && break
        sleep 0.1
      done
      [ -n "$line" ] || { echo "server did not start:" >&2; cat "$dir/stderr" >&2; exit 1; }
      addr="$(echo "$line" | grep -o "${protocol%16}=[0-9.:]*" | cut -d= -f2)"
      ;;
  esac
  case "$protocol" in
    redis)
      redis-benchmark -h "${addr%:*}" -p "${addr##*:}" -c 1 -n "$n" -q -t incr >/dev/null
      ;;
    redis16)
      redis-benchmark -h "${addr%:*}" -p "${addr##*:}" -c 1 -P 16 -n "$n" -q -t incr >/dev/null
      ;;
    grpc)
      "$examples/grpc_unary_load" "$addr" next_id 0 1 "$n" >/dev/null
      ;;
    http)
      python3 - "$addr" "$n" <<'EOF'
import http.client, sys
host, port = sys.argv[1].rsplit(":", 1)
connection = http.client.HTTPConnection(host, int(port), timeout=60)
for _ in range(int(sys.argv[2])):
    connection.request("GET", "/v1/id")
    response = connection.getresponse()
    response.read()
    assert response.status == 200, response.status
EOF
      ;;
    resp)
      redis-benchmark -h "${addr%:*}" -p "${addr##*:}" -c 1 -n "$n" -q NEXTID >/dev/null
      ;;
    resp16)
      redis-benchmark -h "${addr%:*}" -p "${addr##*:}" -c 1 -P 16 -n "$n" -q NEXTID >/dev/null
      ;;
  esac
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
  # Every thread's total, except the clock ticker's: the one thread that sleeps in
  # clock_nanosleep (tokio's threads park in epoll_wait or on a futex).
  local total=0 file ir
  for file in "$dir"/cg.out*; do
    grep -q 'clock_nanosleep' "$file" && continue
    ir="$(awk '/^totals:/ {print $2}' "$file")"
    total=$((total + ${ir:-0}))
  done
  echo "$total"
}

echo "| binary | protocol | Ir with $n1 requests | Ir with $n2 requests | instructions per request |"
echo "|---|---|---|---|---|"
for round in $(seq 1 "$rounds"); do
  for protocol in $protocols; do
    servers=("$@")
    case "$protocol" in redis*) servers=(redis-server) ;; esac
    for bin in "${servers[@]}"; do
      small="$(run "$bin" "$protocol" "$n1")"
      large="$(run "$bin" "$protocol" "$n2")"
      per=$(( (large - small) / (n2 - n1) ))
      echo "| $bin | $protocol | $small | $large | $per |"
    done
  done
done
