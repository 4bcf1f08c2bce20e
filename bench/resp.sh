#!/usr/bin/env bash
# Reproduces the "Redis protocol, gRPC stream and client buffer" section of docs/BENCHMARKS.md.
#
# In one run, on this machine (the load tools share the cores with the servers):
#   1. redis-benchmark against a local redis-server doing INCR, and against snowdrift's RESP
#      listener doing NEXTID, with the same client settings: 50 clients, no pipelining; then
#      50 clients with -P 16. Three rounds, alternating, so a noisy moment hits both. Each
#      round also runs NEXTID against a second node whose listeners speak TLS (a certificate
#      made here with openssl), so the cost of TLS is measured in the same run. The verdicts:
#      median ratio ≥ 1.1× without pipelining, ≥ 1.5× with -P 16; the node's RSS (sampled
#      through this step, and VmHWM) ≤ 30 MB.
#   2. one gRPC StreamIds consumer (batches of 4,096) for 10 s: IDs per second received;
#      once with the default settings and once with --max-lead-ticks 2.
#   3. Client::next_id() at ~100k IDs/s with the background refill running: per-call time
#      percentiles over rounds of 100 calls, and how many calls had to wait.
#
# Needs redis-server and redis-benchmark (apt-get install -y redis-server redis-tools), and
# openssl for the test certificate.
# Environment: ROUNDS=3, REQUESTS=200000 (x10 with -P 16), SNOWDRIFT_BIN=… (prebuilt binary).
# Results go to stdout and bench/results/resp.md.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${ROUNDS:-3}"
requests="${REQUESTS:-200000}"
out=bench/results
mkdir -p "$out"
for tool in redis-server redis-benchmark; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "bench/resp.sh: $tool missing; apt-get install -y redis-server redis-tools" >&2
    exit 1
  }
done

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

free_port() {
  local port
  for port in $(seq "$1" $(($1 + 999))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "no free port from $1" >&2; exit 1
}

# start_node NAME EXTRA_FLAGS… : starts snowdrift, waits for its listening line.
start_node() {
  local name=$1; shift
  "$bin" serve --http 127.0.0.1:0 --grpc 127.0.0.1:0 --resp 127.0.0.1:0 \
    --data-dir "$work/$name" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 1 200); do
    grep -q '^listening' "$work/$name.out" 2>/dev/null && return
    sleep 0.05
  done
  echo "snowdrift did not start:"; cat "$work/$name.err"; exit 1
}
addr_of() { grep -o "$2=[0-9.:]*" "$work/$1.out" | cut -d= -f2; }

redis_port=$(free_port 22000)
redis-server --port "$redis_port" --save '' --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done

start_node main
node_pid=${pids[-1]}
resp_port=$(addr_of main resp | cut -d: -f2)
grpc_addr=$(addr_of main grpc)
# The node's VmRSS every 200 ms, through the RESP load.
(while kill -0 "$node_pid" 2>/dev/null; do
  awk '/^VmRSS:/ {print $2}' "/proc/$node_pid/status" >>"$work/rss" 2>/dev/null || true
  sleep 0.2
done) &
pids+=($!)

# A self-signed P-256 certificate for localhost, valid for a day: what the TLS node serves.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
  -keyout "$work/tls-key.pem" -out "$work/tls-cert.pem" 2>/dev/null
start_node tls --tls-cert "$work/tls-cert.pem" --tls-key "$work/tls-key.pem"
tls_port=$(addr_of tls resp | cut -d: -f2)

rps() { # port pipeline requests command… → requests per second (redis-benchmark --csv)
  local port=$1 pipeline=$2 n=$3; shift 3
  redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -n "$n" -P "$pipeline" --csv "$@" 2>/dev/null \
    | tail -1 | cut -d, -f2 | tr -d '"'
}

{
  echo "## run $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) vCPU, $(redis-server --version | cut -d' ' -f3)"
  echo
  echo "| clients | pipeline | round | redis INCR req/s | snowdrift NEXTID req/s | ratio | NEXTID over TLS req/s | TLS/plain |"
  echo "|---|---|---|---|---|---|---|---|"
} | tee "$out/resp.md"
for pipeline in 1 16; do
  n=$requests
  [ "$pipeline" -gt 1 ] && n=$((requests * 10))
  for round in $(seq 1 "$rounds"); do
    redis=$(rps "$redis_port" "$pipeline" "$n" -t incr)
    ours=$(rps "$resp_port" "$pipeline" "$n" NEXTID)
    tls=$(rps "$tls_port" "$pipeline" "$n" --tls --cacert "$work/tls-cert.pem" --sni localhost NEXTID)
    ratio=$(awk -v a="$ours" -v b="$redis" 'BEGIN { printf "%.2f", a / b }')
    tls_ratio=$(awk -v a="$tls" -v b="$ours" 'BEGIN { printf "%.2f", a / b }')
    echo "| 50 | $pipeline | $round | $redis | $ours | $ratio | $tls | $tls_ratio |" | tee -a "$out/resp.md"
    echo "$ratio" >>"$work/ratios-$pipeline"
  done
done
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN {print (r >= t) ? "met" : "NOT met"}'; }
single=$(median <"$work/ratios-1")
piped=$(median <"$work/ratios-16")
{
  echo
  echo "| measure | result | target |"
  echo "|---|---|---|"
  echo "| RESP NEXTID vs Redis INCR, 50 clients, no pipelining (median of $rounds ratios) | ${single}× | ≥ 1.1×: $(verdict "$single" 1.1) |"
  echo "| RESP NEXTID vs Redis INCR, 50 clients, -P 16 (median of $rounds ratios) | ${piped}× | ≥ 1.5×: $(verdict "$piped" 1.5) |"
  echo "| node RSS through the RESP load | max VmRSS $(( $(sort -n "$work/rss" | tail -1) / 1024 )) MB sampled, VmHWM $(( $(awk '/^VmHWM:/ {print $2}' "/proc/$node_pid/status") / 1024 )) MB | ≤ 30 MB: $( [ "$(awk '/^VmHWM:/ {print $2}' "/proc/$node_pid/status")" -le $((30 * 1024)) ] && echo met || echo 'NOT met') |"
  echo
} | tee -a "$out/resp.md"

echo | tee -a "$out/resp.md"
echo "gRPC StreamIds, one consumer, batch 4096, default settings:" | tee -a "$out/resp.md"
"$examples/stream_ids" "$grpc_addr" 10 4096 | tee -a "$out/resp.md"
start_node lead --max-lead-ticks 2
echo "gRPC StreamIds, one consumer, batch 4096, --max-lead-ticks 2:" | tee -a "$out/resp.md"
"$examples/stream_ids" "$(addr_of lead grpc)" 10 4096 | tee -a "$out/resp.md"

echo "Client::next_id() at ~100k IDs/s, default client settings:" | tee -a "$out/resp.md"
"$examples/next_id_latency" "grpc://$grpc_addr" 5 | tee -a "$out/resp.md"
