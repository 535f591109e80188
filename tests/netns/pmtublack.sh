#!/bin/bash
# A way to the hub that narrows under a live full-size connection, silently
# (a black hole, RFC 8899): c1's router's link to it drops to MTU 1300, and
# the router's ICMP errors are dropped (a firewall on LTE, PPPoE, hotel
# Wi-Fi), so neither kernel learns of it. Every full-size packet is lost
# both ways, small ones pass. The losses start a check of the way (probes
# of the connection's size and a small one): the full-size ones go
# unanswered, the small one is answered, and c1 connects again; that
# attempt's probes find the size, and full-size packets pass again. c2's
# way is blocked entirely for 6 s while it is idle (lost packets, not a
# narrower way; idle, so that its silence detection does not end the
# connection first): its checks, made every half second, hear nothing,
# and it keeps its connection.
#
#   c2 192.0.2.12 ------------+
#   hub 192.0.2.1 ------------+-- br0
#   rt  192.0.2.50 -----------+
#    +-- 198.51.100.1 (MTU 1500, then 1300) --- c1 198.51.100.2
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || skip "needs nft"

topo 0
attach c2 192.0.2.12
attach rt 192.0.2.50
nsx rt sysctl -qw net.ipv4.ip_forward=1
leg c1 198.51.100.1 198.51.100.2
ip -n "$RUN-hub" route add 198.51.100.0/24 via 192.0.2.50
# The router's "fragmentation needed" (and any other unreachable) never
# leaves it.
nsx rt nft -f - <<'NFT' || fail "nft refused the router's ICMP filter"
table ip quiet {
	counter unsaid {}
	chain out {
		type filter hook output priority 0;
		icmp type destination-unreachable counter name unsaid drop
	}
}
NFT
start_hub
start_client c1
wait_connected c1 10.100.0.2 15
# c2 checks its way every half second (a test-only knob; 2 minutes otherwise).
SLOPND_TEST_PATH_CHECK_MS=500 start_client c2
wait_connected c2 10.100.0.3
expect_eq "c1's UDP payload and largest packet on its wide way" \
	"$(client_status c1 udp_payload) $(client_status c1 max_packet)" "1452 1420"
nsx c1 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1280-byte ping c1 -> hub failed"
ok "1280-byte packets c1 -> hub on the wide way"

# c2's way blocked entirely for 6 s, on the bridge: nothing of its gets
# through, the probes of its checks neither, whatever their size.
since2=$(client_status c2 since)
# Heard from just now: its keep-alive (after 10 s of silence) is not due
# within the block, which would end the connection (conn.c, peer_dead).
nsx c2 ping -c 1 -W 2 10.100.0.1 >/dev/null || fail "ping c2 -> hub failed"
nsx lan nft -f - <<'NFT' || fail "nft refused the block"
table bridge blocked {
	chain forward {
		type filter hook forward priority 0;
		ip saddr 192.0.2.12 drop
		ip daddr 192.0.2.12 drop
	}
}
NFT
nap 6
nsx lan nft delete table bridge blocked
client_down c2 "path MTU shrank" && fail "c2 took its lost packets for a narrower way"
expect_eq "c2's login after the block (the same connection)" "$(client_status c2 since)" "$since2"
nsx c2 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1280-byte ping c2 -> hub failed after the block"
expect_eq "c2's UDP payload after the block" "$(client_status c2 udp_payload)" 1452
ok "c2 blocked for 6 s: not taken for a narrower way"

# The router's link to c1 narrows, silently.
since=$(client_status c1 since)
ip -n "$RUN-rt" link set to-c1 mtu 1300
nsx c1 ping -M do -s 1252 -c 1 -W 1 10.100.0.1 >/dev/null 2>&1 &&
	fail "a 1280-byte ping c1 -> hub passed the 1300-byte link"
nsx hub ping -M do -s 1252 -c 1 -W 1 10.100.0.2 >/dev/null 2>&1 &&
	fail "a 1280-byte ping hub -> c1 passed the 1300-byte link"
nsx c1 ping -M do -s 1200 -c 1 -W 2 10.100.0.1 >/dev/null || fail "a small ping c1 -> hub failed"
ok "the way narrowed: full-size packets lost, small ones pass"
# Full-size traffic both ways (TCP in the tunnel, say): every packet of
# it lost.
nsx c1 ping -M do -s 1252 -c 40 -i 0.25 -W 1 10.100.0.1 >/dev/null 2>&1 &
PIDS+=($!)
nsx hub ping -M do -s 1252 -c 40 -i 0.25 -W 1 10.100.0.2 >/dev/null 2>&1 &
PIDS+=($!)
wait_until 15 "c1 connected again over the narrowed way" client_relogged c1 "$since"
wait_connected c1 10.100.0.2
client_down c1 "^connection lost: path MTU shrank$" - || fail "c1's last disconnect: not 'path MTU shrank'"
# The probes find 1232 of the 1272 bytes the link leaves (IPv4 and UDP take
# 28 of 1300): what QUIC leaves of those is the largest packet.
expect_eq "c1's UDP payload over the narrowed way" "$(client_status c1 udp_payload)" 1232
max=$(client_status c1 max_packet)
expect_eq "the largest packet c1's connection carries, as the hub sees it" "$(hub_stat 10.100.0.2 max_packet)" "$max"
nsx c1 ping -M do -s $((max - 28)) -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "a $max-byte ping c1 -> hub failed"
nsx hub ping -M do -s $((max - 28)) -c 3 -i 0.2 -W 2 10.100.0.2 >/dev/null || fail "a $max-byte ping hub -> c1 failed"
ok "c1 connected again with $max-byte packets, which pass both ways"
[ "$(nsx rt nft -j list counter ip quiet unsaid | jq '.nftables[] | select(.counter) | .counter.packets')" -gt 0 ] ||
	fail "the router dropped no ICMP error: the hub's full-size packets were not what it dropped"
ok "the router's ICMP errors about the hub's full-size packets were all dropped"
echo "PASS"
