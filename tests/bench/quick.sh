#!/bin/bash
# A quick benchmark from a clone: a hub and a client in network namespaces
# (as the tests build them), then through the tunnel: idle RTT, iperf3 TCP
# with 1 and 4 streams, and the same TCP over the bare veth pair for
# comparison. Run as root after building: tests/bench/quick.sh [SECONDS]
[ "$(id -u)" = 0 ] || exec sudo "$0" "$@"
here=$(cd "$(dirname "$0")" && pwd)
SLOPND=${SLOPND:-$here/../../build/slopnd}
[ -x "$SLOPND" ] || { echo "build first: meson setup build && meson compile -C build" >&2; exit 2; }
secs=${1:-5}
. "$here/../netns/lib.sh"

topo 1
start_hub
connect_clients 1
# mbits FROM-NS SERVER-NS ADDR STREAMS: iperf3's received rate in Mbit/s.
mbits() {
	nsx "$2" timeout $((secs + 20)) iperf3 -s -1 -B "$3" > /dev/null 2>&1 &
	PIDS+=($!)
	sleep 0.5
	nsx "$1" timeout $((secs + 15)) iperf3 -c "$3" -t "$secs" -P "$4" -J |
		jq '.end.sum_received.bits_per_second / 1e6 | floor'
}
rtt=$(nsx c1 ping -c 20 -i 0.05 -q 10.100.0.1 | sed -n 's|.* = [0-9.]*/\([0-9.]*\)/.*|\1|p')
echo "idle RTT through the tunnel: $rtt ms"
echo "TCP, 1 stream:  $(mbits c1 hub 10.100.0.1 1) Mbit/s"
echo "TCP, 4 streams: $(mbits c1 hub 10.100.0.1 4) Mbit/s"
echo "TCP over the bare veth pair, 1 stream: $(mbits c1 hub 192.0.2.1 1) Mbit/s"
