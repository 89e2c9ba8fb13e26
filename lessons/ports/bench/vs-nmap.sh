#!/usr/bin/env bash
# `ports scan 127.0.0.1` (all 65,535 TCP ports, release build, default options) next to
# `nmap -sT -p- -n -Pn 127.0.0.1` at nmap's default timing (-T3) and at -T4 and -T5, measured in
# one run: interleaved rounds, each scanner's wall-clock time (process start to exit), the ratio
# ours / nmap round by round, and a check that both found the same open ports, among them the
# listeners this script opens. Prints the table and writes it to lessons/ports/bench/results.md,
# which the Ports chapter includes. Installs nmap from Debian's packages if it is missing.
#
#   lessons/ports/bench/vs-nmap.sh [ROUNDS]   (default: 5)
#
# Loopback only: every scan targets 127.0.0.1, and nmap runs with -n (no reverse DNS lookup, which
# would ask the system's resolver) and -Pn (no host discovery: loopback is up).
set -euo pipefail
cd "$(dirname "$0")/../../.."
rounds="${1:-5}"
listeners=5

if ! type -P nmap >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nmap >/dev/null
fi
cargo build -q --release -p ports
ours=target/release/ports

# Hold $listeners listeners open on 127.0.0.1 for the whole run, accepting and closing every
# connection; their ports, comma-separated, go to $held.
held=$(mktemp)
python3 -c '
import selectors, socket, sys
sel = selectors.DefaultSelector()
ports = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    sel.register(s, selectors.EVENT_READ)
    ports.append(s.getsockname()[1])
print(",".join(map(str, ports)), flush=True)
while True:
    for key, _ in sel.select():
        key.fileobj.accept()[0].close()
' "$listeners" >"$held" &
holder=$!
trap 'kill "$holder" 2>/dev/null || true; rm -f "$held"' EXIT
for _ in $(seq 100); do [ -s "$held" ] && break; sleep 0.05; done
[ -s "$held" ] || { echo "error: the listeners did not start" >&2; exit 1; }

now() { date +%s.%N; }

# Each scanner's open ports as a sorted, comma-separated list.
ours_open() { awk '$2 == "open" { split($1, p, "/"); print p[1] }' | sort -n | paste -sd, -; }
nmap_open() {
  grep -o 'Ports: .*' | tr ',' '\n' | awk -F/ '$2 == "open" { gsub(/[^0-9]/, "", $1); print $1 }' |
    sort -n | paste -sd, -
}

# One timed scan: "SECONDS OPEN_PORTS".
run_ours() {
  local t0 out
  t0=$(now)
  out=$("$ours" scan 127.0.0.1)
  echo "$(awk -v a="$(now)" -v b="$t0" 'BEGIN { print a - b }') $(ours_open <<<"$out")"
}
run_nmap() {
  local t0 out
  t0=$(now)
  out=$(nmap -sT -p- -n -Pn "$@" -oG - 127.0.0.1)
  echo "$(awk -v a="$(now)" -v b="$t0" 'BEGIN { print a - b }') $(nmap_open <<<"$out")"
}

# Rounds of: ours, nmap -T3, ours, nmap -T4, ours, nmap -T5, each "ours" timed next to the nmap
# run that follows it, so that a change in the machine's load hits both sides of a ratio. The
# first of each pair alternates from round to round.
lines=()
for r in $(seq "$rounds"); do
  for t in T3 T4 T5; do
    if (( r % 2 )); then
      a=$(run_ours); b=$(run_nmap "-$t")
    else
      b=$(run_nmap "-$t"); a=$(run_ours)
    fi
    lines+=("$t $a $b")
  done
done

python3 - "$rounds" "$(cat "$held")" "${lines[@]}" >lessons/ports/bench/results.md <<'PY'
import datetime, platform, statistics, subprocess, sys, textwrap

rounds, held = sys.argv[1], sys.argv[2]
rows = [line.split(" ") for line in sys.argv[3:]]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
nmap = subprocess.run(["nmap", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
def para(text):
    print(textwrap.fill(text, width=96, break_on_hyphens=False))

para(f"Measured on {datetime.date.today()}: {cpu}, {cores} cores, Linux {platform.release()}, "
     f"{nmap}. All 65,535 TCP ports of 127.0.0.1, {rounds} interleaved rounds, wall-clock time "
     "of each process: the median, and in brackets the lowest and highest round; the ratio is "
     "taken round by round. Ours: `target/release/ports scan 127.0.0.1` (512 at a time, 1000 ms "
     "timeout). nmap: `nmap -sT -p- -n -Pn -T<n> -oG - 127.0.0.1` (-T3 is nmap's default). One "
     "run of `lessons/ports/bench/vs-nmap.sh`.")
print()
print("| nmap timing | ours, s | nmap, s | ours / nmap |")
print("|---|---|---|---|")

def cell(values, fmt="{:.2f}", suffix=""):
    m, lo, hi = statistics.median(values), min(values), max(values)
    return f"{fmt.format(m)}{suffix} ({fmt.format(lo)}–{fmt.format(hi)})"

held = set(held.split(","))
same, differ, missed = 0, [], 0
for timing in ["T3", "T4", "T5"]:
    mine = [r for r in rows if r[0] == timing]
    ours = [float(r[1]) for r in mine]
    theirs = [float(r[3]) for r in mine]
    ratios = [o / t for o, t in zip(ours, theirs)]
    print(f"| -{timing} | {cell(ours)} | {cell(theirs)} | {cell(ratios, suffix='x')} |")
    for r in mine:
        a, b = set(r[2].split(",")) - {""}, set(r[4].split(",")) - {""}
        if not held <= a or not held <= b:
            missed += 1
        if a == b:
            same += 1
        else:
            differ.append(sorted(a ^ b, key=int))
print()
total = len(rows)
text = (f"Open ports: the {len(held)} listeners the script held open were found by both scanners "
        f"in {total - missed} of {total} pairs of runs; both found exactly the same open ports "
        f"in {same} of {total}.")
if differ:
    ports = sorted({p for d in differ for p in d}, key=int)
    text += (f" The other pairs differed on ports {', '.join(ports)}, listeners of other "
             "programs on this machine that one run of a pair saw and the other did not.")
para(text)
PY
cat lessons/ports/bench/results.md
