#!/usr/bin/env bash
# Loopback throughput of `tcp bulk` next to iperf3's, measured in one run, for a few buffer
# sizes (iperf3 writing as many bytes at a time as ours, with --length); prints the table with
# ratios and their spread across rounds, and writes it to lessons/tcp/bench/results.md, which the
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

# One iperf3 measurement (a one-off server, then a client on loopback) writing $1 bytes at a
# time, in bits per second.
iperf() {
  local port log server
  port=$(free_port)
  log=$(mktemp)
  iperf3 --server --bind 127.0.0.1 --port "$port" --one-off >"$log" 2>&1 &
  server=$!
  for _ in $(seq 100); do grep -q "Server listening" "$log" && break; sleep 0.05; done
  iperf3 --client 127.0.0.1 --port "$port" --time "$secs" --length "$1" --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])'
  wait "$server" || true
  rm -f "$log"
}

# One measurement of ours, in bits per second.
bulk() {
  "$ours" bulk --seconds "$secs" --buffer "$1" | awk '{ print $(NF-1) * 1e9 }'
}

# Rounds of: for each buffer size, iperf3 then ours, both writing that many bytes at a time.
# Interleaving spreads any change in the machine's load over every configuration; the table
# reports each one's median and its range (min-max) across rounds, so one lucky round cannot
# carry a claim.
declare -A ours theirs
for _ in $(seq "$rounds"); do
  for b in "${buffers[@]}"; do
    theirs[$b]+="$(iperf "$b") "
    ours[$b]+="$(bulk "$b") "
  done
done
args=()
for b in "${buffers[@]}"; do args+=("$b=${ours[$b]}=${theirs[$b]}"); done

python3 - "$secs" "$rounds" "${args[@]}" >lessons/tcp/bench/results.md <<'PY'
import datetime, platform, statistics, subprocess, sys

secs, rounds = sys.argv[1], sys.argv[2]
rows = [arg.split("=") for arg in sys.argv[3:]]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
version = subprocess.run(["iperf3", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
print(f"Measured on {datetime.date.today()}: {cpu}, {cores} cores, Linux {platform.release()}, {version}.")
print(f"`tcp bulk` (release build) and `iperf3` on loopback, {secs} s per measurement, {rounds} interleaved")
print("rounds: the median, and in brackets the lowest and highest round; the ratio is taken round by")
print("round. One run of `lessons/tcp/bench/throughput.sh`.")
print()
print("| bytes per write | ours, Gbit/s | iperf3 `--length`, Gbit/s | ours / iperf3 |")
print("|---|---|---|---|")

def cell(values, unit=1e9, fmt="{:.1f}", suffix=""):
    values = [v / unit for v in values]
    m, lo, hi = statistics.median(values), min(values), max(values)
    return f"{fmt.format(m)}{suffix} ({fmt.format(lo)}–{fmt.format(hi)})"

for size, ours, theirs in rows:
    ours = [float(x) for x in ours.split()]
    theirs = [float(x) for x in theirs.split()]
    ratios = [o / t for o, t in zip(ours, theirs)]
    print(f"| {size} | {cell(ours)} | {cell(theirs)} | {cell(ratios, 1, '{:.2f}', 'x')} |")
PY
cat lessons/tcp/bench/results.md
