#!/bin/bash
# A hub's VPN subnet that holds a DNS server of the client's resolv.conf
# (one the client reached through its router before, say) takes the
# client's queries into the tunnel for the hub to answer, without
# --accept-dns: the client says so at its login, naming the server. Not
# for a server at the hub's own address (a resolv.conf pointed at the hub
# on purpose), one outside the subnets, or with --no-route (no route).
#
#   hub 192.0.2.1 --subnet 198.51.100.0/24, --subnet6 2001:db8:5::/64
#   c1  192.0.2.11, resolv.conf: 198.51.100.53, 2001:db8:5::53, 192.0.2.99,
#       198.51.100.1 (the hub's VIP)
. "$(dirname "$0")/lib.sh"
topo 1
ns_ipv6 hub c1
printf 'search example.com\nnameserver 198.51.100.53\nnameserver 2001:db8:5::53\nnameserver 192.0.2.99\nnameserver 198.51.100.1\n' \
	> "$TMP/resolv.conf"
cp "$TMP/resolv.conf" "$TMP/resolv.orig"
start_hub --subnet 198.51.100.0/24 --subnet6 2001:db8:5::/64
start_client c1 --resolv-conf "$TMP/resolv.conf"
wait_connected c1 198.51.100.2
said='names %s as a DNS server, and the VPN subnet the hub gives \(%s\) holds it'
wait_log c1 "warning: dns: .*$(printf "$said" 198.51.100.53 198.51.100.0/24)" 2
wait_log c1 "warning: dns: .*$(printf "$said" 2001:db8:5::53 2001:db8:5::/64)" 2
expect_eq "warnings of DNS servers in the VPN subnets" "$(grep -c 'as a DNS server, and the VPN subnet' "$TMP/c1.log")" 2
cmp -s "$TMP/resolv.conf" "$TMP/resolv.orig" || fail "resolv.conf changed without --accept-dns"
ok "c1 names the DNS servers its resolv.conf has in the VPN subnets (not the hub's VIP, not 192.0.2.99)"

start_client c1:nr --tun slopn1 --no-route --resolv-conf "$TMP/resolv.conf"
wait_connected c1:nr 198.51.100.3
grep -q "as a DNS server" "$TMP/c1-nr.log" && fail "c1:nr (--no-route) warned: $(grep 'as a DNS server' "$TMP/c1-nr.log")"
ok "c1:nr (--no-route, no route to the subnet) says nothing of them"
