#!/bin/bash
# --nat for IPv6: the clients' IPv6 leaves masqueraded as the hub's address
# toward an "internet" host behind a router, the hub's own IPv6 networks
# stay closed unless --allow-lan opens one, --full-tunnel routes ::/1 and
# 8000::/1 into the tunnel and puts everything back exactly (also after
# kill -9), --dns offers an IPv6 server too, IPv6 whose default route comes
# after the hub started is taken on (and a client already connected told;
# until then its IPv6 is unreachable, not out beside the tunnel), the
# iptables form uses ip6tables, and a default route the hub learnt from a
# router advertisement stays when it turns IPv6 forwarding on.
#
#   c1 192.0.2.11 --br0-- 192.0.2.1 hub 2001:db8:1::1/64 -- 2001:db8:1::2 rtr 2001:db8:2::1/64 -- 2001:db8:2::2 inet
#                                    hub 2001:db8:3::1/64 -- 2001:db8:3::2 lanhost
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || skip "needs nft (nftables)"
command -v ip6tables-legacy >/dev/null || skip "needs ip6tables-legacy (iptables)"
command -v jq >/dev/null || skip "needs jq"

topo 1
veth() { # NS1 IF1 ADDR1 NS2 IF2 ADDR2
	ip link add "$2" netns "$RUN-$1" type veth peer name "$5" netns "$RUN-$4"
	ip -n "$RUN-$1" addr add "$3" dev "$2" nodad
	ip -n "$RUN-$4" addr add "$6" dev "$5" nodad
	ip -n "$RUN-$1" link set "$2" up
	ip -n "$RUN-$4" link set "$5" up
}
ns_create rtr
ns_create inet
ns_create lanhost
ns_ipv6 hub c1 rtr inet lanhost
veth hub wan 2001:db8:1::1/64 rtr eth0 2001:db8:1::2/64
veth rtr eth1 2001:db8:2::1/64 inet eth0 2001:db8:2::2/64
veth hub lan6 2001:db8:3::1/64 lanhost eth0 2001:db8:3::2/64
ip -n "$RUN-hub" -6 route add default via 2001:db8:1::2
ip -n "$RUN-inet" -6 route add default via 2001:db8:2::1
ip -n "$RUN-lanhost" -6 route add default via 2001:db8:3::1
nsx rtr sysctl -qw net.ipv6.conf.all.forwarding=1
nsx hub sysctl -qw net.ipv6.conf.all.forwarding=0

# What the internet and LAN hosts receive, by source.
for h in inet lanhost; do
	nsx "$h" nft -f - <<-EOF2
	table ip6 seen {
		chain in {
			type filter hook prerouting priority 0;
			ip6 saddr fd00::/8 counter
			ip6 saddr 2001:db8:1::1 icmpv6 type echo-request counter
		}
	}
	EOF2
done
seen() { # HOST 1|2: packets from VPN addresses (1), echo requests from the hub's address (2)
	nsx "$1" nft -j list table ip6 seen | jq "[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) | .counter.packets][$(($2 - 1))]"
}
routing() { nsx c1 ip -6 route show table all; nsx c1 ip -6 rule; nsx c1 ip route show table all; }
# resolv.conf as Debian's resolvconf has it: a link to a file that its
# updates replace by a rename.
mkdir "$TMP/run"
printf 'nameserver 192.0.2.53\n' > "$TMP/run/resolv.conf"
ln -s "$TMP/run/resolv.conf" "$TMP/resolv.conf"
RESOLV0=$(cat "$TMP/resolv.conf")
full6() { nsx c1 ip -6 route | grep -q '^8000::/1 dev slopn0 proto 83'; }
ROUTES0=$(routing)
RULES0=$(nsx hub nft list ruleset)
HUB=(server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret
	--control "$TMP/hub.sock" --subnet6 fd00:9::/64 --nat --egress wan)
CLIENT=(client --server 192.0.2.1:4242 --token s3cret --full-tunnel --state-dir "$TMP/c1-state")

start hub "${HUB[@]}" --dns 10.100.0.1 --dns fd00:9::1
wait_until 10 "the hub masquerading IPv4 and IPv6 out of wan" hub_nat_is "nftables out of wan, IPv6 out of wan, *"
# Up once its control socket answers: a signal before that would
# find the hub without its handlers, and end it without clean-up.
wait_hub
expect_eq "IPv6 forwarding while the hub runs" "$(nsx hub sysctl -n net.ipv6.conf.all.forwarding)" 1
start c1 "${CLIENT[@]}" --accept-dns --resolv-conf "$TMP/resolv.conf"
wait_until 10 "c1's full tunnel" full6
wait_until 5 "the hub's DNS servers in resolv.conf" grep -q "^nameserver fd00:9::1" "$TMP/resolv.conf"
expect_eq "nameservers while connected" "$(grep ^nameserver "$TMP/resolv.conf" | tr '\n' ' ')" \
	"nameserver 10.100.0.1 nameserver fd00:9::1 "
# An update renames a new file over the link's target, another removes it
# and writes a new one a moment later: the hub's servers are back in it
# each time, and the link stays a link.
printf 'nameserver 192.0.2.54\n' > "$TMP/run/resolv.conf.new"
mv "$TMP/run/resolv.conf.new" "$TMP/run/resolv.conf"
wait_until 5 "the hub's DNS servers back after a resolvconf update" grep -q "^nameserver fd00:9::1" "$TMP/resolv.conf"
[ -L "$TMP/resolv.conf" ] || fail "resolv.conf is no longer a link"
rm "$TMP/run/resolv.conf"
sleep 0.5
printf 'nameserver 192.0.2.53\n' > "$TMP/run/resolv.conf"
wait_until 5 "the hub's DNS servers back after a removal and a new file" grep -q "^nameserver fd00:9::1" "$TMP/resolv.conf"
ok "a resolvconf-style update through the link: the hub's servers back in the file it points to"
nsx c1 ip -6 route | grep -q '^::/1 dev slopn0 proto 83' || fail "no ::/1 route via the TUN"
nsx c1 ip -6 route | grep -q '^8000::/1 dev slopn0 proto 83' || fail "no 8000::/1 route via the TUN"
ok "full tunnel: ::/1 and 8000::/1 through the TUN"
wait_ping c1 2001:db8:2::2 5
nsx c1 ping -6 -c 5 -i 0.2 -W 1 2001:db8:2::2 >/dev/null || fail "c1 cannot ping6 the internet host"
expect_eq "the internet host saw no VPN address" "$(seen inet 1)" 0
[ "$(seen inet 2)" -ge 5 ] || fail "the internet host saw $(seen inet 2) pings from the hub's address"
ok "c1 reaches the internet host over IPv6, masqueraded as the hub ($(seen inet 2) echo requests)"
iperf_tcp "over IPv6 NAT to the internet host" c1 inet 2001:db8:2::2 1
nsx c1 ping -6 -c 2 -i 0.2 -W 1 2001:db8:3::2 >/dev/null && fail "c1 reached the hub's IPv6 LAN host"
expect_eq "the LAN host saw nothing from the VPN" "$(seen lanhost 1)" 0
nsx c1 ping -6 -c 2 -i 0.2 -W 1 2001:db8:3::1 >/dev/null && fail "c1 reached the hub's own IPv6 LAN address"
ok "the hub's own IPv6 network, and its address there, are closed to clients"
# NAT64 (64:ff9b::/96 holds the IPv4 internet): a private IPv4 network
# (10.9.0.5) and the hub's own (192.0.2.0/24) are closed in that form as
# they are as IPv4, and RFC 8215's local-use prefix whole; a public IPv4
# address (203.0.113.5) in that form goes out as any IPv6 does. The router
# counts what reaches it (no NAT64 there: nothing answers).
nsx rtr nft -f - <<-EOF2
	table ip6 nat64 {
		chain in {
			type filter hook prerouting priority 0;
			ip6 daddr 64:ff9b::a09:5 counter
			ip6 daddr 64:ff9b::c000:205 counter
			ip6 daddr 64:ff9b:1::a09:5 counter
			ip6 daddr 64:ff9b::cb00:7105 counter
		}
	}
	EOF2
nat64_seen() { nsx rtr nft -j list table ip6 nat64 | jq -c '[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) | .counter.packets]'; }
for a in 64:ff9b::a09:5 64:ff9b::c000:205 64:ff9b:1::a09:5 64:ff9b::cb00:7105; do
	nsx c1 ping -6 -c 2 -i 0.2 -W 1 "$a" > /dev/null 2>&1
done
expect_eq "what reached the router of 10.9.0.5, 192.0.2.5 (NAT64), RFC 8215's, and 203.0.113.5 (NAT64)" \
	"$(nat64_seen)" "[0,0,0,2]"

# kill -9 of the client: the next one over its remains puts back exactly.
kill9 c1
mv "$TMP/c1.log" "$TMP/c1-crash.log"
start c1 "${CLIENT[@]}" --accept-dns --resolv-conf "$TMP/resolv.conf"
wait_until 10 "c1's full tunnel after a kill -9" full6
wait_ping c1 2001:db8:2::2 5
stop c1
cmp_state "c1's routes after kill -9, start, stop" "$ROUTES0" "$(routing)"
cmp_state "resolv.conf after kill -9, start, stop" "$RESOLV0" "$(cat "$TMP/resolv.conf")"
stop hub
cmp_state "nft ruleset after the hub stops" "$RULES0" "$(nsx hub nft list ruleset)"
expect_eq "IPv6 forwarding after the hub stops" "$(nsx hub sysctl -n net.ipv6.conf.all.forwarding)" 0

# --allow-lan for an IPv6 network; kill -9 of the hub; its next start
# cleans up and the one after puts forwarding back as it was.
start hub:lan "${HUB[@]}" --allow-lan 2001:db8:3::/64
wait_until 10 "the hub masquerading, one network allowed" hub_nat_is "nftables out of wan, IPv6 out of wan, 1 allowed, *"
wait_hub
start c1:lan "${CLIENT[@]}"
wait_ping c1 2001:db8:3::2 10
[ "$(seen lanhost 1)" -ge 1 ] || fail "the LAN host saw no packet from the VPN"
ok "--allow-lan opens the hub's IPv6 network (its hosts see the clients' addresses)"
stop c1:lan
kill9 hub:lan
start hub:again "${HUB[@]}"
wait_until 10 "the hub masquerading" hub_nat_is "nftables out of wan, *"
wait_hub
stop hub:again
cmp_state "nft ruleset after kill -9, start, stop" "$RULES0" "$(nsx hub nft list ruleset)"
expect_eq "IPv6 forwarding after kill -9, start, stop" "$(nsx hub sysctl -n net.ipv6.conf.all.forwarding)" 0

# IPv6 that finds its way out after the start (a router advertisement
# later than the hub): forwarding goes on, the rules take it, and a client
# connected before, with a full tunnel, is told and takes its IPv6 in.
#
# Until then c1's IPv6 must not leave beside the tunnel: c1 is dual-stack
# here, its LAN 2001:db8:4::/64 with an IPv6 default route via the hub's
# address there, and its full tunnel makes ::/1 and 8000::/1 unreachable
# instead (the LAN stays reachable); a kill -9 leaves them, the next start
# takes them over, and they go once IPv6 goes through the tunnel.
ip -n "$RUN-hub" -6 route del default
ip -n "$RUN-hub" addr add 2001:db8:4::1/64 dev eth0 nodad
ip -n "$RUN-c1" addr add 2001:db8:4::11/64 dev eth0 nodad
ip -n "$RUN-c1" -6 route add default via 2001:db8:4::1
# way6 ADDR: the interface c1's kernel sends to ADDR by, or "unreachable".
way6() {
	nsx c1 ip -6 -o route get "$1" 2>&1 | awk '/^unreachable|nreachable|No route to host/ {print "unreachable"; exit}
		{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}'
}
# blocks6: c1's unreachable IPv6 routes of proto 83, "PREFIX metric N" each.
blocks6() {
	nsx c1 ip -6 route show proto 83 type unreachable |
		awk '{m = ""; for (i = 1; i < NF; i++) if ($i == "metric") m = $(i + 1); print $2, "metric", m}'
}
expect_eq "c1's way to the internet host before its client starts" "$(way6 2001:db8:2::2)" eth0
start hub:late "${HUB[@]}"
wait_until 10 "the hub masquerading IPv4, its IPv6 inside" hub_nat_is "nftables out of wan, 0 allowed, 1 installs"
wait_hub
expect_eq "IPv6 forwarding without an IPv6 way out" "$(nsx hub sysctl -n net.ipv6.conf.all.forwarding)" 0
start c1:late "${CLIENT[@]}"
wait_until 10 "c1's IPv4 full tunnel" client_is c1:late full_tunnel true
expect_eq "c1's IPv6 full tunnel while the hub has no IPv6 way out" "$(client_status c1:late full_tunnel6)" false
full6 && fail "8000::/1 through the TUN while the hub has no IPv6 way out"
expect_eq "c1's IPv6 blocked (status)" "$(client_status c1:late ipv6_blocked)" true
expect_eq "c1's way to the internet host with its full tunnel" "$(way6 2001:db8:2::2)" unreachable
expect_eq "c1's way to its LAN's router" "$(way6 2001:db8:4::1)" eth0
expect_eq "c1's way to a VPN address" "$(way6 fd00:9::1)" slopn0
ok "no IPv6 way out at the hub: c1's IPv6 beyond its LAN and the VPN is unreachable, not out of eth0"
kill9 c1:late
mv "$TMP/c1-late.log" "$TMP/c1-late-crash.log"
M=$(blocks6 | awk 'NR == 1 {print $3}')
expect_eq "what kill -9 left of c1's unreachable IPv6 routes" "$(blocks6)" "::/1 metric $M
8000::/1 metric $M"
# A start that fails (here at its control socket: a file that is not one
# is in its place) once its TUN is its own takes them away all the same:
# they would cut the machine's IPv6 off until a start got further.
: > "$TMP/not-a-socket"
timeout 20 ip netns exec "$RUN-c1" "$SLOPND" "${CLIENT[@]}" --control "$TMP/not-a-socket" \
	> "$TMP/c1-nosock.log" 2>&1
expect_eq "exit status of a start that cannot make its control socket" "$?" 1
expect_eq "c1's unreachable IPv6 routes after a start that failed" "$(blocks6)" ""
ip -n "$RUN-c1" -6 route add unreachable ::/1 proto 83 metric "$M"
ip -n "$RUN-c1" -6 route add unreachable 8000::/1 proto 83 metric "$M"
# Another of that run's, had it made one for another prefix: the next
# start removes what is left by the metric.
ip -n "$RUN-c1" -6 route add unreachable 2001:db8:77::/48 proto 83 metric "$M"
start c1:late "${CLIENT[@]}"
wait_until 10 "c1's IPv4 full tunnel after a kill -9" client_is c1:late full_tunnel true
expect_eq "c1's unreachable IPv6 routes after kill -9 and a start" "$(blocks6)" "::/1 metric $M
8000::/1 metric $M"
expect_eq "c1's IPv6 blocked after kill -9 and a start (status)" "$(client_status c1:late ipv6_blocked)" true
ok "kill -9 leaves IPv6 unreachable; the next start takes it over and removes the rest"
before=$(seen inet 2)
ip -n "$RUN-hub" -6 route add default via 2001:db8:1::2
wait_until 10 "the hub masquerading IPv6 out of wan too" hub_nat_is "nftables out of wan, IPv6 out of wan, 0 allowed, 2 installs"
expect_eq "IPv6 forwarding once IPv6 has a way out" "$(nsx hub sysctl -n net.ipv6.conf.all.forwarding)" 1
wait_until 5 "c1 told: its IPv6 full tunnel" client_is c1:late full_tunnel6 true
full6 || fail "no 8000::/1 through the TUN after the hub was told"
expect_eq "c1's IPv6 blocked once it goes through the tunnel (status)" "$(client_status c1:late ipv6_blocked)" false
expect_eq "c1's unreachable IPv6 routes once it goes through the tunnel" "$(blocks6)" ""
expect_eq "c1's way to the internet host, IPv6 through the tunnel" "$(way6 2001:db8:2::2)" slopn0
wait_ping c1 2001:db8:2::2 5
expect_eq "the internet host saw no VPN address (late IPv6)" "$(seen inet 1)" 0
[ "$(seen inet 2)" -gt "$before" ] || fail "the internet host saw no ping from the hub's address"
ok "c1 reaches the internet host over IPv6 that found its way out after the hub started"
stop c1:late
expect_eq "c1's way to the internet host after its client stopped" "$(way6 2001:db8:2::2)" eth0
expect_eq "c1's routes of proto 83 after its client stopped" "$(nsx c1 ip -6 route show proto 83)" ""
stop hub:late
ip -n "$RUN-c1" -6 route del default via 2001:db8:4::1
ip -n "$RUN-c1" addr del 2001:db8:4::11/64 dev eth0
ip -n "$RUN-hub" addr del 2001:db8:4::1/64 dev eth0
cmp_state "nft ruleset after the late IPv6 run" "$RULES0" "$(nsx hub nft list ruleset)"
expect_eq "IPv6 forwarding after the late IPv6 run" "$(nsx hub sysctl -n net.ipv6.conf.all.forwarding)" 0
[ -e "$TMP/hub-state/nat-slopn0.forward" ] && fail "the forwarding state file is left behind"

# The iptables form: ip6tables chains of our own, the same way out.
mkdir -p "$TMP/bin"
ln -s "$(command -v iptables-legacy)" "$TMP/bin/iptables"
ln -s "$(command -v ip6tables-legacy)" "$TMP/bin/ip6tables"
ipt6_rules() { nsx hub ip6tables-legacy-save | grep -E '^-A|^:SLOPN'; }
IPT0=$(ipt6_rules)
old=$PATH
export PATH="$TMP/bin:$PATH"
start hub:ipt "${HUB[@]}" --nat-backend iptables
export PATH=$old
wait_until 10 "the hub masquerading with iptables, IPv6 too" hub_nat_is "iptables out of wan, IPv6 out of wan, *"
wait_hub
ipt6_rules | grep -q -- "-A SLOPN-slopn0-NAT -s fd00:9::/64 -o wan -j MASQUERADE" ||
	fail "no ip6tables masquerade: $(ipt6_rules)"
start c1:ipt "${CLIENT[@]}"
wait_ping c1 2001:db8:2::2 10
ok "iptables form: c1 reaches the internet host over IPv6 through ip6tables"
stop c1:ipt
stop hub:ipt
cmp_state "ip6tables rules after the iptables form stops" "$IPT0" "$(ipt6_rules)"
expect_eq "IPv6 forwarding after the iptables form stops" "$(nsx hub sysctl -n net.ipv6.conf.all.forwarding)" 0
# A hub reached at its link-local address, IPv6 through the tunnel too:
# the ::/1 and 8000::/1 routes leave the link's fe80::/64 (more specific)
# to reach it, so no host route is made for it, and none is left.
ip -n "$RUN-hub" addr add fe80::1/64 dev eth0 nodad
start hub:ll server --listen '[::]:4242' --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock" --subnet6 fd00:9::/64 --nat --egress wan
wait_hub
start c1:ll client --server '[fe80::1%eth0]:4242' --token s3cret --full-tunnel --state-dir "$TMP/c1-state"
wait_until 10 "c1's full tunnel through the hub at [fe80::1%eth0]" full6
wait_ping c1 2001:db8:2::2 5
ok "full tunnel, IPv6 too, through a hub at its link-local address"
stop c1:ll
stop hub:ll
cmp_state "c1's routes at the end" "$ROUTES0" "$(routing)"
[ -L "$TMP/resolv.conf" ] || fail "resolv.conf is no longer a link at the end"

# The hub's IPv6 default route learnt from a router advertisement: turning
# IPv6 forwarding on makes the kernel drop such routes where accept_ra is
# not 2, so the hub sets 2 on its IPv6 egress first (and keeps the route),
# and puts 1 back at exit, also after a kill -9 (by its next start).
ip -n "$RUN-hub" -6 route del default
advertise() { # from rtr to the hub's link, router lifetime 1800 s
	nsx rtr python3 -c 'import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
i = socket.if_nametoindex("eth0")
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, i)
s.sendto(bytes([134, 0, 0, 0, 64, 0, 0x07, 0x08]) + bytes(8), ("ff02::1", 0, 0, i))'
}
ra_route() { nsx hub ip -6 route show default proto ra | awk '{print $1, $4, $5}'; }
ra_route_is() { [ "$(ra_route)" = "$1" ]; }
accept_ra() { nsx hub sysctl -n net.ipv6.conf.wan.accept_ra; }
advertise
wait_until 5 "the hub's default route from the advertisement" ra_route_is "default dev wan"
expect_eq "the hub's accept_ra on wan before it starts" "$(accept_ra)" 1
start hub:ra "${HUB[@]}"
wait_until 10 "the hub masquerading IPv6 out of wan" hub_nat_is "nftables out of wan, IPv6 out of wan, *"
wait_hub
expect_eq "IPv6 forwarding while the hub runs" "$(nsx hub sysctl -n net.ipv6.conf.all.forwarding)" 1
expect_eq "the hub's accept_ra on wan while it routes" "$(accept_ra)" 2
expect_eq "the hub's default route from the advertisement, forwarding on" "$(ra_route)" "default dev wan"
start c1:ra "${CLIENT[@]}"
wait_ping c1 2001:db8:2::2 10
ok "a default route from a router advertisement stays when the hub turns IPv6 forwarding on"
kill9 hub:ra
expect_eq "the hub's accept_ra on wan after a kill -9" "$(accept_ra)" 2
start hub:ra2 "${HUB[@]}"
wait_until 10 "the hub masquerading IPv6 out of wan again" hub_nat_is "nftables out of wan, IPv6 out of wan, *"
wait_hub
expect_eq "the hub's accept_ra on wan after kill -9 and a start" "$(accept_ra)" 2
expect_eq "the default route from the advertisement after kill -9 and a start" "$(ra_route)" "default dev wan"
stop c1:ra
stop hub:ra2
expect_eq "the hub's accept_ra on wan after it stops" "$(accept_ra)" 1
expect_eq "IPv6 forwarding after it stops" "$(nsx hub sysctl -n net.ipv6.conf.all.forwarding)" 0
[ -e "$TMP/hub-state/nat-slopn0.forward" ] && fail "the forwarding state file is left behind"
ok "accept_ra back to 1 at the hub's stop, also after a kill -9 and a start"
echo "PASS"
