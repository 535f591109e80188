#!/bin/bash
# The main job, on one machine: a hub and two clients in network namespaces,
# ping (IPv4 and IPv6) and TCP across the tunnel, then `slopnctl sessions
# list` on the hub.
# Run from the source tree after building, as root (or it asks sudo).
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null || { echo "demo.sh: run it as root" >&2; exit 1; }
	exec sudo "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
SLOPND=${SLOPND:-$here/../build/slopnd}
. "$here/netns/lib.sh"

echo "== network: hub 192.0.2.1, clients 192.0.2.11 and .12 on a bridge (namespaces $RUN-*)"
topo 2
ns_ipv6 hub c1 c2
start_hub
echo "== hub up: $(grep -m1 'pin ' "$TMP/hub.log" | sed 's/^slopnd: //')"
connect_clients 2
sed -n 's/^slopnd: \(connected: .*\)/c1 \1/p' "$TMP/c1.log"
sed -n 's/^slopnd: \(connected: .*\)/c2 \1/p' "$TMP/c2.log"

# demo_ping ARGS...: ping from c1; its summary, or the demo fails.
demo_ping() {
	local out
	out=$(nsx c1 ping -c 3 -i 0.2 "$@") || { echo "$out"; fail "c1: ping $* got no answer"; }
	tail -n 2 <<< "$out"
}

echo "== c1 -> hub (10.100.0.1), c1 -> c2 (10.100.0.3, spoke to spoke)"
demo_ping 10.100.0.1
demo_ping 10.100.0.3

c2v6=$("$SLOPNCTL" --socket "$TMP/c2.sock" --json status | jq -r .vip6)
echo "== IPv6 inside the tunnel: c1 -> c2 ($c2v6, spoke to spoke)"
[ -n "$c2v6" ] && [ "$c2v6" != null ] || fail "c2 has no IPv6 address in its status"
demo_ping -6 "$c2v6"

echo "== iperf3 c1 -> c2 through the hub, 3 s"
nsx c2 timeout 20 iperf3 -s -1 -B 10.100.0.3 > "$TMP/iperf-server.log" 2>&1 &
PIDS+=($!)
wait_listening c2 5201
nsx c1 timeout 20 iperf3 -c 10.100.0.3 -t 3 > "$TMP/iperf.log" 2>&1 ||
	{ cat "$TMP/iperf.log"; fail "iperf3 c1 -> c2 failed"; }
tail -n 4 "$TMP/iperf.log"

echo "== slopnctl status"
ctl status || fail "slopnctl status failed"
echo "== slopnctl sessions list"
ctl sessions list || fail "slopnctl sessions list failed"
echo "== done; namespaces and processes are removed on exit"
