#!/bin/bash
# TCP through the tunnel: iperf3 for 5 s moves data (a smoke test, not a benchmark).
. "$(dirname "$0")/lib.sh"
command -v iperf3 >/dev/null || skip "needs iperf3"
topo 1
start_hub
start_client c1
wait_connected c1 10.100.0.2
nsx hub timeout 30 iperf3 -s -1 -B 10.100.0.1 > "$TMP/iperf-server.log" 2>&1 &
PIDS+=($!)
wait_listening hub 5201
timeout 30 ip netns exec "$RUN-c1" iperf3 -c 10.100.0.1 -t 5 -J > "$TMP/iperf.json" || fail "iperf3 failed"
bytes=$(jq '.end.sum_received.bytes' "$TMP/iperf.json")
mbps=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$TMP/iperf.json")
echo "iperf3 c1 -> hub: $bytes bytes in 5 s, $mbps Mbit/s"
[ "$bytes" -gt 1000000 ] || fail "only $bytes bytes moved"
ok "iperf3 moved $bytes bytes"
