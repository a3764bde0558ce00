#!/usr/bin/env bash
# Sign-in latency with the chosen argon2id parameters (19 MiB, 2 passes): 30 sequential
# successful logins through the real form, median and worst, with the release binary.
#
#   bench/login.sh [--database-url postgres://…]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x target/release/salus ] || cargo build --release -p salus
bin=target/release/salus
dir=$(mktemp -d)
port=${PORT:-18183}
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
echo "a long enough bench password" | "$bin" --data-dir "$dir" "$@" user create bench.login --name Bench --role doctor --password-stdin >/dev/null 2>&1 || true
"$bin" --data-dir "$dir" "$@" serve --port "$port" 2>/dev/null &
until curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; do sleep 0.01; done
times=()
for _ in $(seq 1 30); do
  jar="$dir/jar"; rm -f "$jar"
  csrf=$(curl -s -c "$jar" "http://127.0.0.1:$port/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
  t=$(curl -s -b "$jar" -o /dev/null -w '%{http_code} %{time_total}' --data-urlencode "username=bench.login" \
    --data-urlencode "password=a long enough bench password" --data-urlencode "csrf_token=$csrf" "http://127.0.0.1:$port/login")
  [ "${t%% *}" = 303 ] || { echo "login failed: $t" >&2; exit 1; }
  times+=("${t#* }")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "login (POST /login, 303): median %.1f ms, worst %.1f ms over %d\n", a[int((NR+1)/2)]*1000, a[NR]*1000, NR}'
