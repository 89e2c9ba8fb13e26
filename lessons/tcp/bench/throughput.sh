#!/usr/bin/env bash
# Loopback throughput of `tcp bulk` next to iperf3's, measured in one run, for a few buffer
# sizes; prints the table with ratios and writes it to lessons/tcp/bench/results.md, which the
# TCP chapter includes. Installs iperf3 from Debian's packages if it is missing.
#
#   lessons/tcp/bench/throughput.sh [SECONDS [ROUNDS]]   (defaults: 2 s per measurement, 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/../../.."
secs="${1:-2}"
rounds="${2:-3}"
buffers=(4K 16K 64K 128K 1M)

if ! type -P iperf3 >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3 >/dev/null
fi
cargo build -q --release -p tcp
ours=target/release/tcp

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# One iperf3 measurement (a one-off server, then a client on loopback), in bits per second.
iperf() {
  local port log server
  port=$(free_port)
  log=$(mktemp)
  iperf3 --server --bind 127.0.0.1 --port "$port" --one-off >"$log" 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q "Server listening" "$log" && break; sleep 0.05; done
  iperf3 --client 127.0.0.1 --port "$port" --time "$secs" --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])'
  wait "$server" || true
  rm -f "$log"
}

# One measurement of ours, in bits per second.
bulk() {
  "$ours" bulk --seconds "$secs" --buffer "$1" | awk '{ print $(NF-1) * 1e9 }'
}

# Rounds of: iperf3, then ours with each buffer size. Interleaving spreads any change in the
# machine's load over every configuration; the table reports each one's median.
declare -A runs
for _ in $(seq "$rounds"); do
  runs[iperf3]+="$(iperf) "
  for b in "${buffers[@]}"; do runs[$b]+="$(bulk "$b") "; done
done
args=("iperf3=${runs[iperf3]}")
for b in "${buffers[@]}"; do args+=("$b=${runs[$b]}"); done

python3 - "$secs" "$rounds" "${args[@]}" >lessons/tcp/bench/results.md <<'PY'
import datetime, platform, statistics, subprocess, sys

secs, rounds = sys.argv[1], sys.argv[2]
runs = {name: [float(x) for x in values.split()] for name, values in (a.split("=") for a in sys.argv[3:])}
iperf = statistics.median(runs.pop("iperf3"))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
version = subprocess.run(["iperf3", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
print(f"Measured on {datetime.date.today()}: {cpu}, {cores} cores, Linux {platform.release()}, {version}.")
print(f"`tcp bulk` (release build) and `iperf3` on loopback, {secs} s per measurement, {rounds} interleaved")
print("rounds, medians; one run of `lessons/tcp/bench/throughput.sh`.")
print()
print("| buffer (bytes per read and write) | ours, Gbit/s | iperf3, Gbit/s | ours / iperf3 |")
print("|---|---|---|---|")
for size, values in runs.items():
    ours = statistics.median(values)
    print(f"| {size} | {ours / 1e9:.1f} | {iperf / 1e9:.1f} | {ours / iperf:.2f}x |")
PY
cat lessons/tcp/bench/results.md
