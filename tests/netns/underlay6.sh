#!/bin/bash
# The hub over IPv6, and over IPv4 on the same socket: it listens on
# [::]:4242. c1 and c2 reach it at [2001:db8::1] (the documentation
# prefix, inside our namespaces), c3 at 192.0.2.1, which the hub's socket
# gets as ::ffff:192.0.2.13 and shows as 192.0.2.13. Traffic crosses both
# ways. c2's link has MTU 1400: its QUIC packets fit it (1400 less 40
# bytes of IPv6 and 8 of UDP), and 1280-byte packets still pass.
#
#   hub 2001:db8::1, 192.0.2.1 --+
#   c1  2001:db8::11 ------------+-- br0
#   c2  2001:db8::12 (MTU 1400) -+
#   c3  192.0.2.13 --------------+
. "$(dirname "$0")/lib.sh"
command -v iperf3 >/dev/null || skip "needs iperf3"
topo 3
ns_ipv6 hub c1 c2
for n in hub:1 c1:11 c2:12; do
	ip -n "$(ns "${n%%:*}")" addr add "2001:db8::${n#*:}/64" dev eth0 nodad
done
ip -n "$(ns c2)" link set eth0 mtu 1400
start hub server --listen "[::]:4242" --state-dir "$TMP/hub-state" --token s3cret --control "$TMP/hub.sock"
wait_hub
expect_eq "the hub listens on" "$(ctl --json status | jq -r .listen)" "[::]:4242"
for i in 1 2; do
	start "c$i" client --server "[2001:db8::1]:4242" --token s3cret
	wait_connected "c$i" "10.100.0.$((i + 1))"
done
start c3 client --server 192.0.2.1:4242 --token s3cret
wait_connected c3 10.100.0.4
expect_eq "the clients' addresses as the hub sees them" \
	"$(ctl --json sessions list | jq -r '[.sessions[].remote | sub(":[0-9]+$"; "")] | sort | join(" ")')" \
	"192.0.2.13 [2001:db8::11] [2001:db8::12]"
expect_eq "c1's UDP payload on a 1500-byte link" "$(client_status c1 udp_payload)" 1452
expect_eq "c2's UDP payload on a 1400-byte link" "$(client_status c2 udp_payload)" 1352
[ "$(client_status c2 max_packet)" -ge 1280 ] || fail "c2 carries $(client_status c2 max_packet) bytes, less than 1280"
expect_eq "the largest packet c2's connection carries, as the hub sees it" \
	"$(hub_stat 10.100.0.3 max_packet)" "$(client_status c2 max_packet)"

nsx c1 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1280-byte ping c1 -> hub"
nsx c1 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.3 >/dev/null || fail "1280-byte ping c1 -> c2"
nsx hub ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.3 >/dev/null || fail "1280-byte ping hub -> c2"
nsx c3 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.2 >/dev/null || fail "1280-byte ping c3 -> c1"
ok "1280-byte packets to the hub, across (IPv4 client to IPv6 client), and to the client on the narrow link"
iperf_tcp "c2 -> hub over an IPv6 underlay" c2 hub 10.100.0.1 2
iperf_tcp "hub -> c2 over an IPv6 underlay" hub c2 10.100.0.3 2
iperf_tcp "c3 -> hub over IPv4 to [::]" c3 hub 10.100.0.1 2
expect_eq "drops at the hub for c2 and c3" "$(ctl --json sessions list |
	jq '[.sessions[] | select(.vip == "10.100.0.3" or .vip == "10.100.0.4") | .drops[]] | add')" 0
