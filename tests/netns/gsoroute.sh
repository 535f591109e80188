#!/bin/bash
# One peer whose route refuses UDP GSO does not cost the others theirs.
# The kernel refuses GSO sends (EIO) on a route through IPsec; the kernels
# tests run on have no xfrm (and take GSO without checksum offload), so the
# hub is told to take its GSO sends to c1 as refused (a test knob). c1 is
# then sent one packet at a time and loses nothing; c2's traffic still
# leaves in GSO batches.
. "$(dirname "$0")/lib.sh"
command -v iperf3 >/dev/null || skip "needs iperf3"
topo 2
SLOPND_TEST_GSO_REFUSE=192.0.2.11 start_hub
connect_clients 2

offload() { ctl --json status | jq ".offload.$1"; }
if [ "${SLOPN_OFFLOADS:-}" = off ]; then
	iperf_tcp "hub -> c1" hub c1 10.100.0.2 1
	iperf_tcp "hub -> c2" hub c2 10.100.0.3 1
	expect_eq "GSO sends and refused peers, offloads off" "$(offload udp_gso_sends) $(offload udp_gso_refused)" "0 0"
	echo "PASS"
	exit 0
fi

# UDP, which nothing sends again: what the single sends after the
# refusal (at c1's login) lose is lost for good. At 20 Mbit/s, 2000
# datagrams a second, the hub's TUN queue (4096) and iperf3's socket
# buffer (as large as net.core.rmem_max lets it) hold a second and more:
# a test beside this one that takes the CPU a while costs nothing.
nsx c1 timeout 20 iperf3 -s -1 -B 10.100.0.2 > /dev/null 2>&1 &
PIDS+=($!)
wait_listening c1 5201
nsx hub timeout 15 iperf3 -c 10.100.0.2 -u -b 20M -l 1200 -w 4M -t 3 -J > "$TMP/udp1.json" ||
	fail "iperf3 UDP hub -> c1: $(jq -r .error "$TMP/udp1.json")"
expect_eq "datagrams to c1 sent, lost" \
	"$(jq '.end.sum.packets > 5000, .end.sum.lost_packets' "$TMP/udp1.json" | paste -sd' ')" "true 0"
expect_eq "peers refusing GSO" "$(offload udp_gso_refused)" 1
expect_eq "GSO still on" "$(offload udp_gso)" true
expect_eq "c1's send drops" "$(ctl --json sessions list | jq '.sessions[] | select(.vip == "10.100.0.2") | .drops.udp_send')" 0
iperf_tcp "hub -> c1" hub c1 10.100.0.2 1
ok "c1's route refuses GSO: c1 is sent one packet at a time, nothing lost"

sends=$(offload udp_gso_sends)
iperf_tcp "hub -> c2" hub c2 10.100.0.3 1
[ "$(offload udp_gso_sends)" -gt $((sends + 100)) ] ||
	fail "c2 was not sent GSO batches: udp_gso_sends $sends -> $(offload udp_gso_sends)"
iperf_tcp "hub -> c1 again" hub c1 10.100.0.2 1
expect_eq "peers refusing GSO, after more traffic" "$(offload udp_gso_refused)" 1
ok "c2 keeps GSO: $sends -> $(offload udp_gso_sends) batches"
echo "PASS"
