#!/usr/bin/env bash
# Readiness under full-rate load (issue 8 §1, "readiness flaps under load"): starts
# `snowdrift serve` on a fresh state directory, loads it with wrk (2 threads, 8 keep-alive
# connections, GET /v1/ids?count=10000) and meanwhile probes GET /readyz PROBES times (default
# 200), 50 ms apart. Prints how many probes got each status and the body of one 503, if any.
# A measurement, not a test: the machine's other load changes the rate.
#
#   bench/readyz.sh [BINARY]    default: target/release/snowdrift (built if missing)
#   PORT=18640 PROBES=200       environment
#
# Needs wrk and curl (apt-get install -y wrk curl).
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${1:-target/release/snowdrift}"
port="${PORT:-18640}"
probes="${PROBES:-200}"
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install -y $tool" >&2; exit 1; }
done
[ -x "$bin" ] || cargo build --release -p snowdrift-service

dir=$(mktemp -d)
"$bin" serve --data-dir "$dir/data" --http "127.0.0.1:$port" >"$dir/log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.1
done

seconds=$(( probes / 20 + 4 ))
wrk -t2 -c8 -d"${seconds}s" "http://127.0.0.1:$port/v1/ids?count=10000" >"$dir/wrk" 2>&1 &
load=$!
sleep 1
for _ in $(seq "$probes"); do
  code=$(curl -s -o "$dir/body" -w '%{http_code}' "http://127.0.0.1:$port/readyz")
  echo "$code" >>"$dir/codes"
  [ "$code" = 503 ] && cp "$dir/body" "$dir/body503"
  sleep 0.05
done
wait "$load"
echo "probes of /readyz under load: $(sort "$dir/codes" | uniq -c | tr -s ' \n' ' ')"
[ -f "$dir/body503" ] && echo "one 503: $(cat "$dir/body503")"
grep -E "Requests/sec" "$dir/wrk" || true
