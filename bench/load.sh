#!/usr/bin/env bash
# Load test: 1,000 concurrent keep-alive connections for 30 s on loopback
# against a release build, across the content routes. Passes with 0 socket
# errors and 0 answers other than 2xx/3xx. Not part of `cargo test`.
#
#   bench/load.sh            (LOAD_CONNECTIONS=1000 LOAD_SECONDS=30 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${LOAD_CONNECTIONS:-1000}
seconds=${LOAD_SECONDS:-30}
port=18095

if ! command -v wrk >/dev/null; then
  { apt-get update -qq && apt-get install -y -qq wrk; } >/dev/null 2>&1 || { echo "install wrk first" >&2; exit 1; }
fi
# Each connection is a file descriptor, on both ends.
ulimit -n "$(( connections * 2 + 1024 ))" 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cargo build --release --locked --bin relief-api
RUST_LOG=warn target/release/relief-api --bind "127.0.0.1:$port" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  target/release/relief-api healthcheck --bind "127.0.0.1:$port" 2>/dev/null && break
  sleep 0.1
done

out=$(timeout $(( seconds + 60 )) wrk -t2 -c"$connections" -d"${seconds}s" --timeout 10s --latency \
  -s bench/routes.lua "http://127.0.0.1:$port")
echo "$out"
if grep -qE "Socket errors|Non-2xx or 3xx" <<<"$out"; then
  echo "FAIL: errors under load" >&2
  exit 1
fi
echo "PASS: $connections connections for ${seconds}s, no errors, every answer 2xx/3xx"
