#!/bin/bash
# An attempt that the hub's side refuses with ICMP ends at once, with the
# refusal in the client's status, instead of at the handshake timeout
# (10 s): c1 finds no slopnd on the hub's port (port unreachable), c2 a
# firewall that rejects it (prohibited). c3's packets are dropped without
# an answer: a silence, which only the timeout ends. With the hub there
# and the firewall open, each of them is in. c4 and c5 try the hub's IPv6
# address, where no slopnd listens at all (ICMPv6 port unreachable) and
# the firewall rejects c5 (administratively prohibited).
#
#   hub 192.0.2.1, 2001:db8::1 (no slopnd yet) -- br0 -- c1 .11, c2 .12,
#   c3 .13, c4 2001:db8::14, c5 2001:db8::15
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || skip "needs nft"
topo 5
ns_ipv6 hub c4 c5
ip -n "$(ns hub)" addr add 2001:db8::1/64 dev eth0 nodad
ip -n "$(ns c4)" addr add 2001:db8::14/64 dev eth0 nodad
ip -n "$(ns c5)" addr add 2001:db8::15/64 dev eth0 nodad
nsx hub nft add table inet fw
nsx hub nft add chain inet fw in '{ type filter hook input priority 0; }'
nsx hub nft add rule inet fw in ip saddr 192.0.2.12 udp dport 4242 reject with icmp type admin-prohibited
nsx hub nft add rule inet fw in ip saddr 192.0.2.13 udp dport 4242 drop
nsx hub nft add rule inet fw in ip6 saddr 2001:db8::15 udp dport 4242 reject with icmpv6 type admin-prohibited

t0=$(now_ms)
start_client c1
start_client c2
start_client c3
start c4 client --server "[2001:db8::1]:4242" --token s3cret
start c5 client --server "[2001:db8::1]:4242" --token s3cret
said() { client_status "$1" last_error | grep -q "$2"; }
wait_until 3 "c1 told of the refusal" said c1 "answered with ICMP port unreachable"
wait_until 3 "c2 told of the refusal" said c2 "answered with ICMP communication prohibited"
wait_until 3 "c4 told of the refusal" said c4 "answered with ICMP port unreachable"
wait_until 3 "c5 told of the refusal" said c5 "answered with ICMP communication prohibited"
t=$(($(now_ms) - t0))
for c in c1 c2 c4 c5; do
	expect_eq "$c's state after a refused attempt" "$(client_status $c state)" waiting
	[ -n "$(client_status $c retry_in_ms)" ] || fail "$c has no next attempt: $(client_status $c state)"
done
ok "c1, c2, c4 and c5 (IPv6) gave up their refused attempts within $t ms: $(client_status c1 last_error)"
# A second later c3 still waits for an answer: no ICMP, no giving up.
nap 1
expect_eq "c3's state with its packets dropped" "$(client_status c3 state)" connecting
expect_eq "c3's last error" "$(client_status c3 last_error)" null
ok "c3, dropped without an answer, still in its attempt after $(($(now_ms) - t0)) ms"

# c1 refused again (attempts 1, 2, 4 s apart): one warning, then news.
wait_until 5 "c1's second refusal" grep -q "port unreachable.*(again)" "$TMP/c1.log"
expect_eq "warnings about c1's refusals" "$(grep -c "warning: connection failed" "$TMP/c1.log")" 1

nsx hub nft delete table inet fw
start_hub
t0=$(now_ms)
wait_until 5 "c1 connected" client_connected c1
wait_until 12 "c2 connected" client_connected c2
wait_until 12 "c3 connected" client_connected c3
ok "all three in within $(($(now_ms) - t0)) ms of the hub's start (c1 first)"
nsx c1 ping -c 2 -i 0.2 -W 2 "$(client_status c3 vip)" > /dev/null || fail "no c1 -> c3"
ok "c1 -> c3 through the hub"
