#!/bin/bash
# The read table of docs/benchmarks.md (issue 15): wrk against a running `salus serve`
# on a generated hospital, every row in one run, each a ratio to /health/live.
#
#   salus generate --size 100k                      # in an empty folder
#   scripts/wrk-reads.sh target/release/salus <that folder> [postgres://…]
#
# wrk (Debian: apt-get install wrk) shares the machine's cores with the server, as the
# issue's figures did. DUR sets seconds per row (default 8).
set -uo pipefail
BIN=$(realpath "$1"); DIR=$2; DBURL=${3:-}; PORT=9300; D=${DUR:-8}
cd $DIR
export SALUS_LIMITS__API_PER_ADDRESS_PER_MINUTE=100000000 SALUS_LIMITS__API_PER_ADDRESS_BURST=100000000 SALUS_LIMITS__LOGIN_PER_ADDRESS_PER_MINUTE=100000 SALUS_LIMITS__LOGIN_PER_ADDRESS_BURST=100000 SALUS_SECURITY__TWO_FACTOR_ROLES='[]' SALUS_LOG__LEVEL=warn
ARGS=""; [ -n "$DBURL" ] && ARGS="--database-url $DBURL"
$BIN $ARGS serve --port $PORT > /tmp/serve.log 2>&1 &
SPID=$!
for i in $(seq 100); do curl -sf http://127.0.0.1:$PORT/health/live >/dev/null && break; sleep 0.3; done
J=/tmp/cj.txt; rm -f $J
TOK=$(curl -s -c $J -b $J http://127.0.0.1:$PORT/login | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//;s/"//')
curl -s -c $J -b $J -o /dev/null -d "username=bench.doctor001&password=salus-bench-password&csrf_token=$TOK" http://127.0.0.1:$PORT/login
SES=$(grep salus_session $J | awk '{print $7}')
H="Cookie: salus_session=$SES"
PJSON=$(curl -s -H "$H" "http://127.0.0.1:$PORT/api/v1/patients?q=sharma&limit=5")
PID=$(echo "$PJSON" | python3 -c 'import sys,json; d=json.load(sys.stdin); print([i["patient"]["id"] for i in d["items"] if not i["patient"].get("restricted")][0])')
MRN=$(echo "$PJSON" | python3 -c 'import sys,json; d=json.load(sys.stdin); print([i["patient"]["mrn"] for i in d["items"] if not i["patient"].get("restricted")][0])')
run() { # name conns path
  out=$(wrk -t2 -c$2 -d${D}s --latency -H "$H" "http://127.0.0.1:$PORT$3" 2>&1)
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  non=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  echo "| $1 | $2 | $rps | $p50 | $p99 | ${non:-0} |"
}
echo "| request | conns | req/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
run "GET /health/live" 4 /health/live
run "GET /health/live" 16 /health/live
run "GET /api/v1/me" 4 /api/v1/me
run "GET /api/v1/me" 16 /api/v1/me
run "GET /api/v1/patients/{id}" 4 /api/v1/patients/$PID
run "GET /api/v1/patients/{id}" 16 /api/v1/patients/$PID
run "GET /api/v1/patients?q=MRN" 4 "/api/v1/patients?q=$MRN"
run "GET /api/v1/patients?q=sharma" 4 "/api/v1/patients?q=sharma"
run "GET /services" 16 /services
run "GET /patients/{id} (chart)" 4 /patients/$PID
run "GET /patients/{id} (chart)" 16 /patients/$PID
kill $SPID; wait $SPID 2>/dev/null
