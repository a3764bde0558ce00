#!/usr/bin/env bash
# Audit viewer response times over a large PostgreSQL audit table (default ten million
# events spread over a year, eight actions, a thousand actors), with the release binary:
# median of 10 for the first page, an action filter, a one-day range and a user filter.
#
#   bench/audit_viewer.sh postgres://…/an_empty_database [N]
set -euo pipefail
cd "$(dirname "$0")/.."
pg=$1
n=${2:-10000000}
[ -x target/release/salus ] || cargo build --release -p salus
bin=target/release/salus
port=${PORT:-18185}
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin" --database-url "$pg" migrate >/dev/null 2>&1
echo "a long enough bench password" | "$bin" --database-url "$pg" user create bench.admin --name Bench --role admin --password-stdin >/dev/null 2>&1 || true
t0=$(date +%s)
psql -q "$pg" -c "INSERT INTO audit_events (id, at, actor_id, actor_name, actor_roles, action, outcome, resource_type, resource_id, client_ip)
  SELECT gen_random_uuid(), now() - (g % 31536000) * interval '1 second',
         ('00000000-0000-7000-8000-' || lpad((g % 1000)::text, 12, '0'))::uuid, 'actor' || (g % 1000), 'doctor',
         'bench.event-' || (g % 8), 'success', 'patient', g::text, '10.0.0.1'
  FROM generate_series(1, $n) g" -c "ANALYZE audit_events"
echo "filled $n events in $(( $(date +%s) - t0 )) s"
# The bench signs in as an administrator with a password only.
SALUS_SECURITY__TWO_FACTOR_ROLES="[]" "$bin" --database-url "$pg" serve --port "$port" 2>/dev/null &
until curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; do sleep 0.05; done
jar="$dir/jar"
csrf=$(curl -s -c "$jar" "http://127.0.0.1:$port/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "username=bench.admin" \
  --data-urlencode "password=a long enough bench password" --data-urlencode "csrf_token=$csrf" "http://127.0.0.1:$port/login"
day=$(date -u -d '100 days ago' +%F)
for q in "" "?action=bench.event-3" "?from=$day&to=$day" "?action=bench.event-5&from=$day&to=$day" "?user=bench.admin"; do
  times=()
  for _ in $(seq 1 10); do
    times+=("$(curl -s -b "$jar" -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$port/admin/audit$q")")
  done
  printf '%s\n' "${times[@]}" | sort -k2 -n | awk -v q="/admin/audit$q" '{c=$1; a[NR]=$2} END {printf "%-55s HTTP %s  median %.1f ms  worst %.1f ms\n", q, c, a[int((NR+1)/2)]*1000, a[NR]*1000}'
done
