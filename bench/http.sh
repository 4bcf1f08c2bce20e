#!/usr/bin/env bash
# Reproduces the "Service (HTTP)" section of docs/BENCHMARKS.md.
#
# Starts the release `snowdrift serve` on a free loopback port with a fresh state directory and
# measures, in one run:
#   1+2. ROUNDS rounds (default 3), each: the baseline, redis-benchmark -t incr -c 50 -n 200000
#      against a local redis-server (what many teams use as an ID service), then single-ID
#      requests/s with wrk, 50 keep-alive connections, GET /v1/id. Pairing them in time and
#      taking medians keeps a noisy neighbour from deciding the ratio; each round also runs
#      the same wrk against a second node whose HTTP listener speaks TLS (a certificate made
#      here with openssl), so the cost of TLS is measured in the same run, round by round;
#   3. p99 latency at half that load: oha at a fixed rate of half the requests/s of step 2
#      (plain wrk has no rate control; oha's -q does, with latency correction);
#   4. IDs/s with count=4096: wrk, 50 connections, GET /v1/ids?count=4096, counted from the
#      service's own snowdrift_ids_issued_total before and after;
#   5. the service's RSS while under load: the highest VmRSS sampled from /proc during the
#      runs, and VmHWM at the end.
# Everything runs on this machine (2 vCPUs here): the load tools share the cores with the
# server, as redis-benchmark does with redis-server.
#
# Needs wrk, redis-server and redis-benchmark (apt-get install -y wrk redis-server
# redis-tools), openssl, and oha (cargo install oha); it says what is missing. Environment:
#   DURATION=10      seconds per load step
#   ROUNDS=3         rounds of (Redis INCR, wrk /v1/id)
#   SNOWDRIFT_BIN=…  a prebuilt binary instead of `cargo build --release`
# Results go to bench/results/http.md and bench/results/http.json (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${DURATION:-10}"
rounds="${ROUNDS:-3}"
connections=50
out=bench/results
mkdir -p "$out"

missing=()
for tool in wrk redis-server redis-benchmark openssl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench/http.sh: missing ${missing[*]}; install with: apt-get install -y wrk redis-server redis-tools" >&2
  exit 1
fi
have_oha=1
command -v oha >/dev/null 2>&1 || { have_oha=0; echo "bench/http.sh: oha not found (cargo install oha); the half-load p99 is skipped" >&2; }

if [ -z "${SNOWDRIFT_BIN:-}" ]; then
  cargo build --release -q -p snowdrift-service
  SNOWDRIFT_BIN="${CARGO_TARGET_DIR:-target}/release/snowdrift"
fi
# Not passed on to the server: it refuses SNOWDRIFT_* variables that are not settings.
export -n SNOWDRIFT_BIN

work="$(mktemp -d)"
server_pid=""
tls_pid=""
redis_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "$tls_pid" ] && kill "$tls_pid" 2>/dev/null && wait "$tls_pid" 2>/dev/null
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  local port
  for port in $(seq 21000 21999); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "no free port in 21000-21999" >&2
  exit 1
}

echo "== machine"
{
  date -u +"date: %Y-%m-%dT%H:%M:%SZ"
  echo "nproc: $(nproc)"
  grep -m1 'model name' /proc/cpuinfo || true
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  wrk --version 2>&1 | head -1 || true
  redis-server --version
  if [ "$have_oha" = 1 ]; then oha --version; fi
} | tee "$out/http-machine.txt"

redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done

echo "== snowdrift serve"
"$SNOWDRIFT_BIN" serve --http 127.0.0.1:0 --data-dir "$work/state" >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
addr=""
for _ in $(seq 200); do
  addr="$(sed -n 's/^listening http=\([^ ]*\).*/\1/p' "$work/stdout")"
  [ -n "$addr" ] && break
  sleep 0.05
done
[ -n "$addr" ] || { echo "server did not start:"; cat "$work/stderr"; exit 1; }
echo "listening on $addr (pid $server_pid)"

echo "== snowdrift serve with TLS (self-signed P-256 certificate for localhost)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
  -keyout "$work/tls-key.pem" -out "$work/tls-cert.pem" 2>/dev/null
"$SNOWDRIFT_BIN" serve --http 127.0.0.1:0 --data-dir "$work/state-tls" \
  --tls-cert "$work/tls-cert.pem" --tls-key "$work/tls-key.pem" \
  >"$work/tls-stdout" 2>"$work/tls-stderr" &
tls_pid=$!
tls_addr=""
for _ in $(seq 200); do
  tls_addr="$(sed -n 's/^listening http=\([^ ]*\).*/\1/p' "$work/tls-stdout")"
  [ -n "$tls_addr" ] && break
  sleep 0.05
done
[ -n "$tls_addr" ] || { echo "TLS server did not start:"; cat "$work/tls-stderr"; exit 1; }
curl -sf --cacert "$work/tls-cert.pem" "https://localhost:${tls_addr##*:}/healthz" >/dev/null \
  || { echo "the TLS server does not answer over HTTPS"; exit 1; }
echo "listening on https://$tls_addr (pid $tls_pid)"

# Samples the server's VmRSS (kB) every 200 ms into $work/rss until stopped.
sample_rss() {
  while kill -0 "$server_pid" 2>/dev/null; do
    awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status" >>"$work/rss" 2>/dev/null || true
    sleep 0.2
  done
}
sample_rss &
sampler_pid=$!

ids_issued() {
  curl -s "http://$addr/metrics" | awk '$1 == "snowdrift_ids_issued_total" {printf "%d\n", $2}'
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
: >"$work/rounds"
for round in $(seq "$rounds"); do
  echo "== round $round/$rounds: redis-benchmark -t incr -c $connections -n 200000"
  redis_line="$(redis-benchmark -p "$redis_port" -t incr -c "$connections" -n 200000 -q 2>/dev/null | tr '\r' '\n' | grep 'requests per second' | tail -1)"
  echo "$redis_line"
  r_rps="$(echo "$redis_line" | sed -E 's/.*INCR: ([0-9.]+) requests per second.*/\1/')"
  echo "== round $round/$rounds: wrk -c $connections -d ${duration}s GET /v1/id"
  wrk -t2 -c"$connections" -d"${duration}s" --latency "http://$addr/v1/id" | tee "$work/wrk-single.txt"
  s_rps="$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk-single.txt")"
  s_p99="$(awk '/^ +99%/ {print $2}' "$work/wrk-single.txt")"
  grep -E 'Non-2xx|Socket errors' "$work/wrk-single.txt" >>"$work/errors" || true
  echo "== round $round/$rounds: wrk -c $connections -d ${duration}s GET https://…/v1/id (TLS)"
  wrk -t2 -c"$connections" -d"${duration}s" --latency "https://$tls_addr/v1/id" | tee "$work/wrk-tls.txt"
  t_rps="$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk-tls.txt")"
  grep -E 'Non-2xx|Socket errors' "$work/wrk-tls.txt" >>"$work/errors" || true
  echo "$r_rps $s_rps $s_p99 $t_rps" >>"$work/rounds"
done
redis_rps="$(awk '{print $1}' "$work/rounds" | median)"
single_rps="$(awk '{print $2}' "$work/rounds" | median)"
ratio="$(awk '{print $2 / $1}' "$work/rounds" | median | awk '{printf "%.2f", $1}')"
single_p99="$(awk '{print $3}' "$work/rounds" | tr '\n' ' ')"
per_round="$(awk '{printf "%s%.0f/%.0f (%.2f×)", (NR > 1 ? ", " : ""), $2, $1, $2 / $1}' "$work/rounds")"
single_errors="$(cat "$work/errors" 2>/dev/null || true)"
tls_rps="$(awk '{print $4}' "$work/rounds" | median)"
tls_ratio="$(awk '{print $4 / $2}' "$work/rounds" | median | awk '{printf "%.2f", $1}')"
tls_per_round="$(awk '{printf "%s%.0f/%.0f (%.2f×)", (NR > 1 ? ", " : ""), $4, $2, $4 / $2}' "$work/rounds")"

half_rps="$(awk -v r="$single_rps" 'BEGIN {printf "%d", r / 2}')"
half_p99="not measured (oha missing)"
half_p50=""
half_achieved=""
if [ "$have_oha" = 1 ]; then
  echo "== half load: oha -c $connections -q $half_rps -z ${duration}s GET /v1/id"
  oha --no-tui --output-format json -c "$connections" -q "$half_rps" -z "${duration}s" \
    --latency-correction "http://$addr/v1/id" >"$work/oha.json" 2>"$work/oha.err" || true
  if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/oha.json" 2>/dev/null; then
    read -r half_p50 half_p99 half_achieved < <(python3 - "$work/oha.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["latencyPercentiles"]
print(f'{p["p50"]*1000:.3f}ms {p["p99"]*1000:.3f}ms {d["summary"]["requestsPerSec"]:.0f}')
EOF
)
  else
    half_p99="oha failed: $(head -c 300 "$work/oha.err")"
  fi
fi

echo "== blocks: wrk -c $connections -d ${duration}s GET /v1/ids?count=4096"
before="$(ids_issued)"
start_ns="$(date +%s%N)"
wrk -t2 -c"$connections" -d"${duration}s" --latency "http://$addr/v1/ids?count=4096" | tee "$work/wrk-batch.txt"
end_ns="$(date +%s%N)"
after="$(ids_issued)"
batch_rps="$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk-batch.txt")"
ids_per_sec="$(awk -v a="$after" -v b="$before" -v s="$start_ns" -v e="$end_ns" 'BEGIN {printf "%d", (a - b) / ((e - s) / 1e9)}')"
wrk_ids_per_sec="$(awk -v r="$batch_rps" 'BEGIN {printf "%d", r * 4096}')"

kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
max_rss_kb="$(sort -n "$work/rss" | tail -1)"
hwm_kb="$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")"
ceiling_share="$(awk -v a="$ids_per_sec" 'BEGIN {printf "%.1f", 100 * a / 4096000}')"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

{
  echo "| measure | result | target |"
  echo "|---|---|---|"
  echo "| Redis INCR, redis-benchmark -c $connections -n 200000 (baseline, same run; median of $rounds) | $redis_rps req/s | |"
  echo "| single-ID requests/s, wrk, $connections keep-alive connections, ${duration} s (median of $rounds) | $single_rps req/s: **${ratio}×** Redis INCR (median of per-round ratios; per round snowdrift/redis: $per_round); p99 at full load per round: $single_p99 | ≥ 1.1× Redis INCR: $(awk -v r="$ratio" 'BEGIN {print (r >= 1.1) ? "met" : "NOT met"}') |"
  echo "| single-ID requests/s over TLS (keep-alive), same wrk, same rounds (median of $rounds) | $tls_rps req/s: **${tls_ratio}×** plaintext (median of per-round ratios; per round TLS/plain: $tls_per_round) | reported |"
  echo "| p99 latency at half that load (oha -q $half_rps, latency-corrected) | p99 $half_p99, p50 $half_p50, achieved ${half_achieved} req/s | reported |"
  echo "| IDs/s with count=4096, wrk, $connections connections | $ids_per_sec IDs/s (**${ceiling_share}%** of one worker's 4,096,000), wrk: $batch_rps req/s = $wrk_ids_per_sec IDs/s | ≥ 3,900,000 |"
  echo "| RSS while under load | max VmRSS $((max_rss_kb / 1024)) MB sampled, VmHWM $((hwm_kb / 1024)) MB | ≤ 30 MB: $( [ "$hwm_kb" -le $((30 * 1024)) ] && echo met || echo 'NOT met') |"
  echo
  echo "load average (1/5/15 min) before:$(grep 'load before' "$out/http-machine.txt" | cut -d: -f2), after: $load_after"
  if [ -n "$single_errors" ]; then echo "wrk (single) reported: $single_errors"; fi
} | tee "$out/http.md"

cat >"$out/http.json" <<EOF
{"redis_incr_rps": $redis_rps, "single_rps": $single_rps, "single_vs_redis": $ratio,
 "tls_single_rps": $tls_rps, "tls_vs_plain": $tls_ratio,
 "half_load_rate": $half_rps, "half_load_p99": "$half_p99", "half_load_p50": "$half_p50",
 "batch_rps": $batch_rps, "ids_per_sec": $ids_per_sec, "max_rss_kb": $max_rss_kb, "hwm_kb": $hwm_kb}
EOF
echo "wrote $out/http.md and $out/http.json"
