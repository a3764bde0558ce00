#!/usr/bin/env bash
# Audit chain figures: seals and verifies N synthetic events (default one million) with
# the release binary, on SQLite (a temp data folder, filled by Python's sqlite3) and, when
# given, PostgreSQL (filled by generate_series).
#
#   bench/audit.sh [N] [postgres://…/an_empty_database]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
pg=${2:-}
[ -x target/release/salus ] || cargo build --release -p salus
bin=target/release/salus
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

report() { # label, salus args…
  local label=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  "$bin" "$@" audit verify 2>/dev/null | sed "s/^/  $label first run (seal + verify): /"
  t1=$(date +%s%N)
  echo "  $label seal + verify wall time: $(( (t1 - t0) / 1000000 )) ms for $n events"
  "$bin" "$@" audit verify 2>/dev/null | grep -E 'verified|intact|BROKEN' | sed "s/^/  $label verify only: /"
}

echo "machine: $(nproc) cores; events: $n"
"$bin" --data-dir "$dir" migrate >/dev/null 2>&1
python3 - "$dir/salus.db" "$n" <<'PY'
import sqlite3, sys, uuid, datetime
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
at = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f+00:00')
rows = ((uuid.uuid4().bytes, at, 'bench', '', 'bench.event', 'success', 'user', str(i), '127.0.0.1') for i in range(n))
c.execute('BEGIN')
c.executemany("INSERT INTO audit_events (id, at, actor_name, actor_roles, action, outcome, resource_type, resource_id, client_ip) VALUES (?,?,?,?,?,?,?,?,?)", rows)
c.execute('INSERT INTO audit_pending SELECT id FROM audit_events')
c.commit()
PY
report sqlite --data-dir "$dir"

if [ -n "$pg" ]; then
  "$bin" --database-url "$pg" migrate >/dev/null 2>&1
  psql -q "$pg" -c "INSERT INTO audit_events (id, at, actor_name, actor_roles, action, outcome, resource_type, resource_id, client_ip)
    SELECT gen_random_uuid(), date_trunc('milliseconds', now()), 'bench', '', 'bench.event', 'success', 'user', g::text, '127.0.0.1'
    FROM generate_series(1, $n) g" -c "INSERT INTO audit_pending SELECT id FROM audit_events"
  report postgres --database-url "$pg"
fi
