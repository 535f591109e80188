#!/bin/bash
# Where an idle ping's time goes through the tunnel, hop by hop: a hub and
# a client in network namespaces (as the tests build them), tcpdump on the
# client's TUN and underlay and on the hub's, and per ping the time between
# a packet's appearance at one point and the next (medians over the pings):
#
#   client TUN -> client UDP out   the client wakes, reads, encrypts, sends
#   client UDP -> hub UDP          the veth pairs and the bridge
#   hub UDP    -> hub TUN          the hub wakes, decrypts, writes
#   hub TUN    -> hub TUN          the kernel's echo
#   hub TUN    -> hub UDP out      the hub reads the answer, encrypts, sends
#   hub UDP    -> client UDP       the way back
#   client UDP -> client TUN       the client wakes, decrypts, writes
#
# Run as root after building: tests/bench/rtt-hops.sh [PINGS] [INTERVAL]
# (default 100 pings 0.2 s apart, as vpnbench's idle RTT). tcpdump adds a
# little to each hop; the sum is near ping's own figure.
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
SLOPND=${SLOPND:-$here/../../build/slopnd}
# (a SLOPND from elsewhere still needs this build's slopnctl)
export SLOPNCTL=${SLOPNCTL:-$here/../../build/slopnctl}
[ -x "$SLOPND" ] || { echo "build first: meson setup build && meson compile -C build" >&2; exit 2; }
command -v tcpdump > /dev/null && command -v python3 > /dev/null ||
	{ echo "needs tcpdump and python3" >&2; exit 2; }
pings=${1:-100} interval=${2:-0.2}
. "$here/../netns/lib.sh"

topo 1
start_hub
connect_clients 1
nsx c1 ping -c 5 -i 0.05 -q 10.100.0.1 > /dev/null
dumps=()
for spec in "c1 slopn0 ctun" "c1 eth0 ceth" "hub eth0 heth" "hub slopn0 htun"; do
	set -- $spec
	# ip execs tcpdump: $! is tcpdump's own, which must get the TERM to
	# write out what it holds.
	ip netns exec "$RUN-$1" tcpdump -i "$2" -n -s 96 -w "$TMP/$3.pcap" 2> "$TMP/$3.err" &
	dumps+=($!)
done
for f in ctun ceth heth htun; do
	wait_until 5 "tcpdump on $f" grep -q listening "$TMP/$f.err"
done
nsx c1 ping -c "$pings" -i "$interval" -q 10.100.0.1 | tail -1
# tcpdump takes packets from the kernel a block at a time, a block at the
# latest a second old: without immediate mode, which would add its own
# wake-ups to every hop, the last ones come after a wait.
sleep 2
kill -TERM "${dumps[@]}"
wait "${dumps[@]}" 2> /dev/null || true
for f in ctun ceth heth htun; do
	tcpdump -r "$TMP/$f.pcap" -n -tt 2> /dev/null > "$TMP/$f.txt" || true
done
python3 - "$TMP" <<'PY'
import re, statistics, sys
d = sys.argv[1]
def tun(f):  # (time, 'request'|'reply', seq)
    out = []
    for l in open(f"{d}/{f}.txt"):
        m = re.search(r"echo (request|reply), id \d+, seq (\d+)", l)
        if m:
            out.append((float(l.split()[0]), m.group(1), int(m.group(2))))
    return out
def udp(f):  # (time, to hub?) of datagrams (the pings, not ACKs)
    out = []
    for l in open(f"{d}/{f}.txt"):
        m = re.search(r"UDP, length (\d+)", l)
        if m and int(m.group(1)) >= 100:
            out.append((float(l.split()[0]), " > 192.0.2.1." in l))
    return out
ct, ht, ce, he = tun("ctun"), tun("htun"), udp("ceth"), udp("heth")
def first(lst, t, up):
    return next((x[0] for x in lst if x[0] >= t and x[1] == up), None)
hops = ["client TUN -> client UDP out", "client UDP -> hub UDP", "hub UDP -> hub TUN",
        "hub TUN -> hub TUN (echo)", "hub TUN -> hub UDP out", "hub UDP -> client UDP",
        "client UDP -> client TUN"]
got = [[] for _ in hops]
total = []
for t0, kind, seq in ct:
    if kind != "request":
        continue
    t3 = next((x[0] for x in ht if x[1] == "request" and x[2] == seq), None)
    t4 = next((x[0] for x in ht if x[1] == "reply" and x[2] == seq), None)
    t7 = next((x[0] for x in ct if x[1] == "reply" and x[2] == seq), None)
    if None in (t3, t4, t7):
        continue
    t1, t2 = first(ce, t0, True), first(he, t0, True)
    t5, t6 = first(he, t4, False), first(ce, t4, False)
    ts = [t0, t1, t2, t3, t4, t5, t6, t7]
    if None in ts or any(b < a or b - a > 0.01 for a, b in zip(ts, ts[1:])):
        continue
    for i in range(7):
        got[i].append((ts[i + 1] - ts[i]) * 1e6)
    total.append((t7 - t0) * 1e6)
if not total:
    sys.exit("no ping could be followed through all four captures")
print(f"{len(total)} pings followed; median microseconds per hop:")
for h, v in zip(hops, got):
    print(f"  {h:30s} {statistics.median(v):7.1f}")
print(f"  {'total (TUN to TUN at the client)':30s} {statistics.median(total):7.1f}")
PY
