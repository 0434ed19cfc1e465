#!/usr/bin/env bash
# The benchmark: builds release, then measures relief-api against a bare
# actix-web baseline and nginx in the same run, on the source article and on a
# generated corpus of 10,000 articles. See bench/README.md.
#
#   bench/run.sh            full run (about 15 minutes)
#   bench/run.sh --check    also exit 1 if a target is missed
#   BENCH_DURATION=2 BENCH_ROUNDS=1 bench/run.sh   a quick look
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  { apt-get update -qq && apt-get install -y -qq wrk; } >/dev/null 2>&1 ||
    { echo "cannot install wrk; install it, or oha (cargo install oha --locked), and retry" >&2; exit 1; }
fi

if ! command -v nginx >/dev/null; then
  echo "installing nginx (Debian package), the second peer" >&2
  { apt-get update -qq && apt-get install -y -qq nginx; } >/dev/null 2>&1 ||
    { echo "cannot install nginx; install it and retry" >&2; exit 1; }
fi

cargo build --release --locked --bin relief-api --example baseline
exec python3 bench/bench.py "$@"
