#!/usr/bin/env bash
# The platform's ceiling, measured: start-to-ready time, binary size, idle memory, and
# requests/s with latency percentiles for /health/live and the login page under wrk on
# loopback. Every later endpoint is compared with these figures.
#
#   bench/http.sh [--database-url postgres://…]     (default: SQLite in a temp folder)
#
# Needs wrk (apt-get install wrk). Builds the release binary if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x target/release/salus ] || cargo build --release -p salus
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
bin=target/release/salus
dir=$(mktemp -d)
port=${PORT:-18181}
threads=${THREADS:-2}
conns=${CONNECTIONS:-64}
secs=${DURATION:-10}
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "binary:  $(stat -c %s "$bin" | awk '{printf "%.1f MiB", $1/1048576}') ($bin)"
"$bin" --data-dir "$dir" "$@" migrate >/dev/null 2>&1

# Start to ready: from exec to the first 200 of /health/ready, best of 5.
best=999999
for _ in 1 2 3 4 5; do
  t0=$(date +%s%N)
  "$bin" --data-dir "$dir" "$@" serve --port "$port" 2>/dev/null &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; do sleep 0.002; done
  t1=$(date +%s%N)
  ms=$(( (t1 - t0) / 1000000 ))
  [ "$ms" -lt "$best" ] && best=$ms
  kill -TERM $pid; wait $pid 2>/dev/null || true
done
echo "start to ready: ${best} ms (best of 5, exec to first 200 of /health/ready)"

"$bin" --data-dir "$dir" "$@" serve --port "$port" 2>/dev/null &
pid=$!
until curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; do sleep 0.01; done
sleep 1
echo "idle RSS: $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' /proc/$pid/status)"
for path in /health/live /login; do
  echo "--- wrk -t$threads -c$conns -d${secs}s --latency http://127.0.0.1:$port$path"
  wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$port$path" |
    grep -E 'Requests/sec|^ +(50|90|99)%|Non-2xx|Socket errors'
done
# A signed-in page: the session lookup (session row, user, roles) on every request.
echo "a long enough bench password" | "$bin" --data-dir "$dir" "$@" user create bench.user --name Bench --role doctor --password-stdin >/dev/null 2>&1 || true
jar="$dir/cookies"
csrf=$(curl -s -c "$jar" "http://127.0.0.1:$port/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "username=bench.user" \
  --data-urlencode "password=a long enough bench password" --data-urlencode "csrf_token=$csrf" "http://127.0.0.1:$port/login"
session=$(awk '$6 == "salus_session" {print $7}' "$jar")
echo "--- wrk -t$threads -c$conns -d${secs}s --latency -H 'Cookie: salus_session=…' http://127.0.0.1:$port/ (signed-in home page)"
wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -H "Cookie: salus_session=$session" "http://127.0.0.1:$port/" |
  grep -E 'Requests/sec|^ +(50|90|99)%|Non-2xx|Socket errors'
echo "RSS after load: $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' /proc/$pid/status)"
