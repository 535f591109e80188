#!/bin/bash
# Full 1280-byte packets pass from the first second, both ways and across;
# a narrower way to the hub gets QUIC packets that fit it.
. "$(dirname "$0")/lib.sh"
topo 3
# The hub's QUIC packets carry DF over IPv4 (RFC 9000 14: no router may
# fragment them), its GSO bursts' too: each from its port is counted on
# the bridge, with DF or without, from the first handshake to the end.
nsx lan nft -f - <<'NFT' || fail "nft refused the DF counters"
table bridge df {
	counter with_df {}
	counter without_df {}
	chain seen {
		type filter hook forward priority 0;
		ip saddr 192.0.2.1 udp sport 4242 ip frag-off & 0x4000 != 0 counter name with_df
		ip saddr 192.0.2.1 udp sport 4242 ip frag-off & 0x4000 == 0 counter name without_df
	}
}
NFT
hub_pkts() { nsx lan nft -j list counter bridge df "$1" | jq '.nftables[] | select(.counter) | .counter.packets'; }
# hub_df: none of the hub's packets left without DF, and some with it.
hub_df() {
	local with without
	with=$(hub_pkts with_df) without=$(hub_pkts without_df)
	expect_eq "the hub's QUIC packets without DF" "$without" 0
	[ "${with:-0}" -gt 0 ] || fail "no QUIC packet from the hub counted with DF"
	ok "$with QUIC packets from the hub, all with DF"
}
start_hub
connect_clients 2
nsx c1 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1280-byte ping to the hub failed"
ok "1280-byte packets c1 -> hub"
nsx c1 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.3 >/dev/null || fail "1280-byte ping to c2 failed"
ok "1280-byte packets c1 -> c2"
hub_df
nsx c1 ping -M do -s 1253 -c 1 -W 1 10.100.0.1 >/dev/null 2>&1 && fail "1281-byte packet passed a 1280 MTU"
ok "1281 bytes refused by the 1280 MTU"
expect_eq "too_big drops" "$(hub_stat 10.100.0.2 drop_too_big)" 0
# What is around a packet: on a 1500-byte link 1452 bytes of UDP payload,
# of which QUIC takes at most 32 with 8-byte connection IDs (flags, ID,
# packet number, tag, DATAGRAM frame header), both ways.
expect_eq "the largest packet c1's connection carries, at c1 and at the hub" \
	"$(client_status c1 max_packet) $(hub_stat 10.100.0.2 max_packet)" "1420 1420"

# A narrow way to the hub. c3's own link has MTU 1400: the client knows it
# from the route, sends 1372-byte QUIC packets from the first and asks the
# hub for no bigger ones; a 1280-byte packet still fits.
ip -n "$RUN-c3" link set eth0 mtu 1400
start_client c3
wait_connected c3 10.100.0.4
expect_eq "c3's UDP payload on a 1400-byte link" "$(client_status c3 udp_payload)" 1372
expect_eq "the largest packet c3's connection carries, as the hub sees it" \
	"$(hub_stat 10.100.0.4 max_packet)" "$(client_status c3 max_packet)"
[ "$(client_status c3 max_packet)" -ge 1280 ] || fail "c3 carries $(client_status c3 max_packet) bytes, less than 1280"
nsx c3 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1280-byte ping c3 -> hub failed"
nsx c1 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.4 >/dev/null || fail "1280-byte ping c1 -> c3 failed"
ok "1280-byte packets both ways over a 1400-byte link"
# The link narrows under the live session (a new MTU on the interface):
# the client sees the link change and connects again with packets that fit,
# with the same VIP, though it sends nothing itself: the hub's packets to it
# would no longer get in.
ip -n "$RUN-c3" link set eth0 mtu 1300
wait_until 10 "c3 connected again with 1272-byte UDP payloads" client_is c3 udp_payload 1272
wait_connected c3 10.100.0.4
nsx hub ping -M do -s 1204 -c 3 -i 0.2 -W 2 10.100.0.4 >/dev/null || fail "1232-byte ping hub -> c3 failed after the link narrowed"
nsx c3 ping -M do -s 1204 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1232-byte ping c3 -> hub failed after the link narrowed"
ok "c3 back on a 1300-byte link, 1232-byte packets pass both ways"

# Behind a router the way narrows to 1300 bytes: the router drops the
# hub's bigger packets silently and answers c4's with ICMP "too big", as
# routers do. c4's first packets are lost; the ICMP tells its kernel, and
# the client connects again with packets that fit. Packets over what they
# carry are answered with "too big" inside the tunnel, so TCP goes on.
#   hub 192.0.2.1 --- br0 --- rt 192.0.2.50 (MTU 1300)
#                              rt 198.51.100.1 --- c4 198.51.100.2
attach rt 192.0.2.50
ip -n "$RUN-rt" link set eth0 mtu 1300
nsx rt sysctl -qw net.ipv4.ip_forward=1
leg c4 198.51.100.1 198.51.100.2
ip -n "$RUN-hub" route add 198.51.100.0/24 via 192.0.2.50
start_client c4
wait_connected c4 10.100.0.5 15
expect_eq "c4's UDP payload behind a 1300-byte link" "$(client_status c4 udp_payload)" 1272
max=$(client_status c4 max_packet)
expect_eq "the largest packet c4's connection carries, as the hub sees it" "$(hub_stat 10.100.0.5 max_packet)" "$max"
nsx c4 ping -M do -s $((max - 28)) -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "a $max-byte ping c4 -> hub failed"
ok "$max-byte packets pass behind the narrow link"
nsx c4 ping -M do -s $((max - 27)) -c 1 -W 2 10.100.0.1 2>&1 | grep -q "mtu = $max" ||
	fail "a $((max + 1))-byte packet was not answered with 'too big, mtu $max'"
ok "a bigger one is answered with 'too big' naming $max"
nsx hub ping -M do -s $((max - 27)) -c 1 -W 2 10.100.0.5 2>&1 | grep -q "mtu = $max" ||
	fail "the hub's $((max + 1))-byte packet to c4 was not answered with 'too big, mtu $max'"
expect_eq "the hub's too_big drops for c4" "$(hub_stat 10.100.0.5 drop_too_big)" 1
# Spoke to spoke: c1's packet too big for c4's connection (not for c1's)
# is answered with what c4's carries.
nsx c1 ping -M do -s $((max - 27)) -c 1 -W 2 10.100.0.5 2>&1 | grep -q "mtu = $max" ||
	fail "c1's $((max + 1))-byte packet to c4 (spoke to spoke) was not answered with 'too big, mtu $max'"
ok "c1's bigger one to c4 (spoke to spoke) is answered with 'too big' naming $max"

# ICMP errors are rate-limited (RFC 1812 4.3.2.8, RFC 4443 2.4(f)): 500
# packets too big at once from a sender that "too big" does not slow
# (IP_PMTUDISC_PROBE) are each dropped and counted, and answered 100 times
# a second, either way: 90 to 200 times (the answers just before may have
# taken some of that second's, the burst may straddle two).
# count_too_big NS: counts the "fragmentation needed" that come in by its
# TUN; too_big_answers NS: how many did.
count_too_big() {
	nsx "$1" nft -f - <<-EOF || fail "cannot add a counter in $1"
	table inet tb {
		counter big {}
		chain in {
			type filter hook input priority 0;
			iifname "slopn0" icmp type destination-unreachable icmp code frag-needed counter name big
		}
	}
	EOF
}
too_big_answers() { nsx "$1" nft -j list counter inet tb big | jq '.nftables[1].counter.packets'; }
reads() { [ "$($1)" = "$2" ]; } # reads FUNC VALUE
# burst_too_big WHO FROM TO DROPS: 500 packets of max + 1 bytes FROM -> TO;
# DROPS reads the count they go to.
burst_too_big() {
	local who=$1 from=$2 to=$3 drops=$4 d0 n
	d0=$($drops)
	count_too_big "$from"
	nsx "$from" "$NETTOOL" udp-df "$to" 9 500 $((max - 27)) || fail "$from could not send its burst"
	wait_until 5 "the 500 packets $from -> $to counted too big" reads "$drops" $((d0 + 500))
	n=$(too_big_answers "$from")
	[ "$n" -ge 90 ] && [ "$n" -le 200 ] ||
		fail "$who: 500 packets too big at once answered $n times (expected 90 to 200)"
	ok "$who: 500 packets too big at once, each counted, answered $n times"
}
c4_too_big() { hub_stat 10.100.0.5 drop_too_big; }
burst_too_big "the hub about c4" hub 10.100.0.5 c4_too_big
burst_too_big "the hub about c4, to c1 (spoke to spoke)" c1 10.100.0.5 c4_too_big
c4_own_too_big() { client_status c4 totals.drops.too_big; }
burst_too_big "c4 about its connection" c4 10.100.0.1 c4_own_too_big
iperf_tcp "c4 -> hub behind the narrow link" c4 hub 10.100.0.1 1
iperf_tcp "hub -> c4 behind the narrow link" hub c4 10.100.0.5 1

# A way that drops bigger packets without any ICMP answer: c5's first
# packets vanish, but the path probes beside them tell which sizes arrive
# (the hub answers those of 1352 bytes and less, not 1392 or 1452), and the
# client connects again with the largest of them, 1280-byte packets still
# passing. c6 tries a port that the hub's firewall drops without an ICMP
# answer (refused.sh has those answered): not even a probe is answered,
# and the client says what to check.
attach c5 192.0.2.15
ip -n "$RUN-lan" link set p-c5 mtu 1400
attach c6 192.0.2.16
nsx hub nft add table inet silent
nsx hub nft add chain inet silent in '{ type filter hook input priority 0; }'
nsx hub nft add rule inet silent in udp dport 4243 drop
start_client c5
start c6 client --server 192.0.2.1:4243 --token s3cret
wait_connected c5 10.100.0.6 15
expect_eq "c5's UDP payload behind a silent 1400-byte link" "$(client_status c5 udp_payload)" 1352
nsx c5 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1280-byte ping c5 -> hub failed"
nsx hub ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.6 >/dev/null || fail "1280-byte ping hub -> c5 failed"
ok "1280-byte packets both ways behind the silent narrow link"
# The silent narrow point takes full-size packets again: nothing tells
# either end, but a full-size probe of c5's (10 s after its login, then
# less and less often) is answered, and c5 connects again at full size.
ip -n "$RUN-lan" link set p-c5 mtu 1500
wait_until 15 "c5 connected again with 1452-byte UDP payloads" client_is c5 udp_payload 1452
wait_connected c5 10.100.0.6
nsx c5 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1280-byte ping c5 -> hub failed at full size"
ok "the silent narrow point wide again: c5 back at full size, same VIP"
wait_until 15 "c6 told what to check" client_said c6 \
	"no answer from the hub, not even to path probes: is it running, and its UDP port reachable from here\?"
ok "a port that drops everything: the client says what to check"

# Roaming onto a narrower way that sends no ICMP: c7 moves from a wide
# link to one whose bridge port drops what is over 1400 bytes (as c5's).
# The connection follows it (QUIC migration), and its full-size packets
# would vanish for the connection's life; probes after the move find what
# the new way carries, and the client connects again with packets that fit
# (same VIP). The hub sees c7's close: no wait for its idle timeout.
attach c7 192.0.2.17
start_client c7
wait_connected c7 10.100.0.7
expect_eq "c7's UDP payload on its wide link" "$(client_status c7 udp_payload)" 1452
ip link add eth1 netns "$RUN-c7" type veth peer name p-c7b netns "$RUN-lan"
ip -n "$RUN-lan" link set p-c7b mtu 1400 master br0 up
ip -n "$RUN-c7" link set eth1 up
ip -n "$RUN-c7" addr add 192.0.2.37/24 dev eth1
ip -n "$RUN-c7" link set eth0 down
c7_remote() { [[ $(hub_stat 10.100.0.7 remote) == $1 ]]; }
wait_until 10 "c7's session from its new address" c7_remote 192.0.2.37:*
wait_until 10 "c7 connected again with 1352-byte UDP payloads" client_is c7 udp_payload 1352
wait_connected c7 10.100.0.7
nsx c7 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1280-byte ping c7 -> hub failed after the move"
nsx hub ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.7 >/dev/null || fail "1280-byte ping hub -> c7 failed after the move"
expect_eq "the hub's sessions with c7's VIP" "$(ctl --json sessions list | jq '[.sessions[] | select(.vip == "10.100.0.7")] | length')" 1
ok "c7 moved onto a silent 1400-byte way: connected again with 1352-byte payloads, 1280-byte packets pass both ways"
stop c7

# A way back from the hub narrower than the way there (asymmetric routes),
# silent: what is over 1400 bytes from the hub to c8 is lost, as its
# router would drop the hub's packets with DF. c8's probes find it: the
# hub answers each as large as it came, so the answers to the probes of
# 1452 and 1392 bytes are lost, and c8 connects with 1352-byte packets,
# which the hub then keeps to. (Answered short, every probe came back:
# c8 took the way for a full-size one, and no handshake ever completed.)
attach c8 192.0.2.18
nsx c8 nft add table ip asym
nsx c8 nft add chain ip asym in '{ type filter hook input priority 0; }'
nsx c8 nft add rule ip asym in ip saddr 192.0.2.1 udp sport 4242 ip length gt 1400 counter drop
start_client c8
wait_until 15 "c8 connected behind its narrow way back" client_connected c8
expect_eq "c8's UDP payload with the way back narrower" "$(client_status c8 udp_payload)" 1352
c8_vip=$(client_status c8 vip)
nsx c8 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1280-byte ping c8 -> hub failed"
nsx hub ping -M do -s 1252 -c 3 -i 0.2 -W 2 "$c8_vip" >/dev/null || fail "1280-byte ping hub -> c8 failed"
[ "$(nsx c8 nft -j list table ip asym | jq '[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) | .counter.packets] | add')" -ge 1 ] ||
	fail "nothing from the hub was over 1400 bytes: the narrow way back was not tried"
ok "a narrower way back from the hub: found by the probes, c8 connected with 1352-byte payloads"
stop c8

# An MTU the hub's administrator set on the route to c9 (a narrower way
# beyond, a tunnel): the hub's packets carry DF, so it keeps to it, as it
# does to its interface's MTU (but to no MTU an ICMP answer taught its
# kernel: icmpforge.sh).
attach c9 192.0.2.19
ip -n "$RUN-hub" route add 192.0.2.19/32 dev eth0 mtu 1400
start_client c9
wait_until 10 "c9 connected" client_connected c9
c9_vip=$(client_status c9 vip)
expect_eq "the largest packet c9's session carries, as the hub sees it (1400 - 28 - 32)" \
	"$(hub_stat "$c9_vip" max_packet)" 1340
nsx hub ping -M do -s 1252 -c 3 -i 0.2 -W 2 "$c9_vip" >/dev/null || fail "1280-byte ping hub -> c9 failed"
ok "the hub keeps to an MTU set on its route to a client"
stop c9

# The hub's own link narrows under live sessions. Its NIC drops what is
# over the new MTU: every bigger packet from a client is lost, and ngtcp2
# cannot shrink a live connection's packets. The hub sees the link change,
# tells each client that sent bigger packets the size it takes in now, and
# closes the connection; the client connects again at once with packets of
# that size (same VIP). A client that never sent more (c3, c4, on their own
# narrow ways) keeps its session. Bigger packets than the new size are
# answered with "too big" inside the tunnel, so TCP goes on both ways.
id1=$(hub_stat 10.100.0.2 id) id3=$(hub_stat 10.100.0.4 id) id4=$(hub_stat 10.100.0.5 id)
ip -n "$RUN-hub" link set eth0 mtu 1300
wait_until 10 "c1 connected again with 1272-byte UDP payloads" client_is c1 udp_payload 1272
wait_connected c1 10.100.0.2
[ "$(hub_stat 10.100.0.2 id)" != "$id1" ] || fail "c1's session is the one from before the hub's link narrowed"
expect_eq "c3's session, never over 1272 bytes, after the hub's link narrowed" "$(hub_stat 10.100.0.4 id)" "$id3"
expect_eq "c4's session, never over 1272 bytes, after the hub's link narrowed" "$(hub_stat 10.100.0.5 id)" "$id4"
nsx c1 ping -M do -s 1204 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1232-byte ping c1 -> hub failed after the hub's link narrowed"
nsx hub ping -M do -s 1204 -c 3 -i 0.2 -W 2 10.100.0.2 >/dev/null || fail "1232-byte ping hub -> c1 failed after the hub's link narrowed"
ok "1232-byte packets both ways after the hub's link narrowed"
iperf_tcp "c1 -> hub after the hub's link narrowed" c1 hub 10.100.0.1 1
iperf_tcp "hub -> c1 after the hub's link narrowed" hub c1 10.100.0.2 1
expect_eq "the largest packet c1's session carries after the hub's link narrowed" \
	"$(hub_stat 10.100.0.2 max_packet)" "$(hub_stat 10.100.0.5 max_packet)"
# The link wide again: the clients whose connections came back smaller than
# the TUN's MTU are asked to connect again, and carry 1280-byte packets
# again. (c4 is asked too: the hub's way to it, its own link, widened, and
# c4's connection carries less than the TUN's MTU; c4 comes back as it was.)
ip -n "$RUN-hub" link set eth0 mtu 1500
wait_until 10 "c1 connected again with 1452-byte UDP payloads" client_is c1 udp_payload 1452
wait_connected c1 10.100.0.2
wait_connected c4 10.100.0.5
expect_eq "c4's UDP payload behind its 1300-byte link, the hub's link wide again" \
	"$(client_status c4 udp_payload)" 1272
# What the kernels were told inside the tunnel ("too big") they keep for ten
# minutes: forgotten here at once.
ip -n "$RUN-c1" route flush cache
ip -n "$RUN-hub" route flush cache
nsx c1 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1280-byte ping c1 -> hub failed with the hub's link wide again"
nsx hub ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.2 >/dev/null || fail "1280-byte ping hub -> c1 failed with the hub's link wide again"
ok "1280-byte packets both ways with the hub's link wide again"
# c3's own link wide again: its connection (1232-byte packets) comes back
# with full-size ones, and 1280-byte packets pass again.
wait_connected c3 10.100.0.4
ip -n "$RUN-c3" link set eth0 mtu 1500
wait_until 5 "c3 connected again with 1452-byte UDP payloads" client_is c3 udp_payload 1452
wait_connected c3 10.100.0.4
ip -n "$RUN-c3" route flush cache
nsx c3 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1280-byte ping c3 -> hub failed with its link wide again"
ok "1280-byte packets from c3 with its link wide again"
# Through all of the above (narrow ways, a router, bulk TCP both ways):
hub_df
echo "PASS"
