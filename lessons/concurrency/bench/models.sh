#!/usr/bin/env bash
# The five server models of the Concurrency lesson and axum (examples/reference_server.rs), side
# by side in one run: requests per second, p50 and p99 latency, errors, peak memory and threads
# at 1, 64 and 1,000 keep-alive connections, loaded by our generator and by wrk, in interleaved
# rounds (median and range, ratios to axum round by round); then ten thousand connections held
# open on the async model, the threads model and axum. Writes the table to
# lessons/concurrency/bench/results.md and the chart to book/src/concurrency/bench.svg, which
# the Concurrency chapter shows, and prints the tables.
# Installs wrk from Debian's packages if it is missing. Takes about 8 minutes on 2 cores.
#
#   lessons/concurrency/bench/models.sh [ROUNDS [SECONDS]]   (defaults: 3 rounds of 3 s)
#
# Loopback only: every server listens on 127.0.0.1, and every client connects there.
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds="${1:-3}"
secs="${2:-3}"

if ! type -P wrk >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
# The servers run as processes of their own: build them, and the benchmark, in release.
cargo build -q --release -p concurrency --bins --examples
exec target/release/examples/bench --rounds "$rounds" --seconds "$secs"
