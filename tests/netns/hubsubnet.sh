#!/bin/bash
# A hub's VPN subnet may not take a network beside the client: a hub that
# gives a subnet inside the client's LAN would get, through the subnet's
# more specific route, the LAN's router and DNS server. The client refuses
# such a subnet (IPv6: such a prefix, carrying IPv4 only), leaves the
# tunnel when it moves into such a network, and comes back when it is gone.
# Nor does it take an address in such a network from a wider subnet.
# --no-route takes any subnet (no route, no capture), but not its router's
# address.
#
#   hub 192.0.2.1 --subnet 198.51.100.0/29, --subnet6 2001:db8:5::/64
#        |
#   br0 -+- c1 192.0.2.11, lan1 198.51.100.10/24 -- rtr 198.51.100.1
#        +- c2 192.0.2.12 (--no-route)
#        +- c3 192.0.2.13, home0 2001:db8:5::50/64; later 198.51.100.50/24,
#           then 71 addresses, and the hub back with another subnet
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 3
ns_ipv6 hub c2 c3
ns_create rtr
ip link add lan1 netns "$RUN-c1" type veth peer name eth0 netns "$RUN-rtr"
ip -n "$RUN-c1" addr add 198.51.100.10/24 dev lan1
ip -n "$RUN-c1" link set lan1 up
ip -n "$RUN-rtr" addr add 198.51.100.1/24 dev eth0
ip -n "$RUN-rtr" link set eth0 up
# A network of c3's own (no dummy driver on every kernel: a veth pair).
ip -n "$RUN-c3" link add home0 type veth peer name home1 || fail "cannot make c3's home0"
ip -n "$RUN-c3" addr add 2001:db8:5::50/64 dev home0
ip -n "$RUN-c3" link set home1 up
ip -n "$RUN-c3" link set home0 up

start_hub --subnet 198.51.100.0/29 --subnet6 2001:db8:5::/64
in_lan='lies in a network of this machine'
last_error_is() { [[ "$(client_status "$1" last_error)" == *"$2"* ]]; }
# refused_in_lan NAME TUN WHY: the client NAME (in c1) says WHY, its TUN
# has no address, and c1 reaches its LAN's router on the LAN.
refused_in_lan() {
	local route
	wait_until 10 "$1 refusing what the hub gives" last_error_is "$1" "$3"
	expect_eq "$1's VIP" "$(client_status "$1" vip)" null
	nsx c1 ip -4 addr show dev "$2" | grep -q inet && fail "$1's TUN has an address: $(nsx c1 ip -4 addr show dev "$2")"
	route=$(nsx c1 ip route get 198.51.100.1)
	[[ "$route" == *" dev lan1 "* ]] || fail "c1 reaches its LAN's router by: $route"
	nsx c1 ping -c 2 -i 0.2 -W 2 198.51.100.1 > /dev/null || fail "c1 cannot reach its LAN's router"
}

# c1: its LAN holds the subnet. Refused, the TUN without the address, the
# LAN's router still the LAN's.
start_client c1
refused_in_lan c1 slopn0 "$in_lan"
ok "c1 refuses a subnet inside its LAN; its router is reached on the LAN"
# --no-route is the way out it names: no subnet route, the overlap left to
# the administrator, an address in the LAN taken.
start_client c1:nr0 --tun slopn3 --no-route
wait_until 10 "c1:nr0 (--no-route) connected" client_connected c1:nr0
[[ "$(client_status c1:nr0 vip)" == 198.51.100.* ]] || fail "c1:nr0's VIP: $(client_status c1:nr0 vip)"
stop c1:nr0
ok "c1:nr0 with --no-route takes an address of a subnet inside its LAN"

# c2: --no-route takes it (no route to capture anything).
start_client c2 --no-route
wait_until 10 "c2 connected" client_connected c2
[[ "$(client_status c2 vip6)" == 2001:db8:5::* ]] || fail "c2 has no IPv6 VIP: $(client_status c2 vip6)"
ok "c2 with --no-route connects as $(client_status c2 vip), $(client_status c2 vip6)"

# c3: the IPv6 prefix lies in its home0's /64: IPv4 only.
start_client c3
wait_until 10 "c3 connected" client_connected c3
V3=$(client_status c3 vip)
expect_eq "c3's IPv6 VIP" "$(client_status c3 vip6)" null
route=$(nsx c3 ip -6 route get 2001:db8:5::1)
[[ "$route" == *" dev home0 "* ]] || fail "c3 reaches 2001:db8:5::1 by: $route"
nsx hub ping -c 2 -i 0.2 -W 2 "$V3" > /dev/null || fail "the hub cannot reach c3 at $V3"
ok "c3 carries IPv4 only ($V3): the IPv6 prefix lies in its own network"

# c3 moves into a network the subnet lies in: it leaves the tunnel.
ip -n "$RUN-c3" addr add 198.51.100.50/24 dev home0
wait_until 10 "c3 leaving the tunnel" last_error_is c3 "$in_lan"
wait_until 5 "c3 without its VIP" client_is c3 vip null
route=$(nsx c3 ip route get 198.51.100.1)
[[ "$route" == *" dev home0 "* ]] || fail "c3 reaches 198.51.100.1 by: $route"
ok "c3 leaves the tunnel when it joins 198.51.100.0/24"
ip -n "$RUN-c3" addr del 198.51.100.50/24 dev home0
wait_until 40 "c3 back" client_connected c3
nsx hub ping -c 2 -i 0.2 -W 2 "$(client_status c3 vip)" > /dev/null || fail "the hub cannot reach c3"
ok "c3 is back as $(client_status c3 vip) once that network is gone"

# The hub down, c3 waits with its TUN's addresses kept for the next login;
# meanwhile it joins 198.51.100.0/24: they go, or that network's hosts
# would be sent into a tunnel that is down.
stop hub
wait_until 10 "c3 waiting for the hub" client_is c3 connected false
tun_v4() { nsx c3 ip -4 -o addr show dev slopn0 | awk '{print $4}'; }
[[ "$(tun_v4)" == 198.51.100.*/29 ]] || fail "c3's TUN did not keep its address while waiting: $(tun_v4)"
ip -n "$RUN-c3" addr add 198.51.100.50/24 dev home0
tun_without_v4() { [ -z "$(tun_v4)" ]; }
wait_until 10 "c3's TUN without its address while waiting" tun_without_v4
route=$(nsx c3 ip route get 198.51.100.1)
[[ "$route" == *" dev home0 "* ]] || fail "c3 reaches 198.51.100.1 by: $route"
ok "c3, waiting, lets its VIP go when it joins 198.51.100.0/24"
ip -n "$RUN-c3" addr del 198.51.100.50/24 dev home0

# A hub that comes back with another subnet: c3's old addresses go from its
# TUN, though the machine has more addresses than a first page of the
# kernel's list (the TUN's came after 64 others, and stayed).
for i in $(seq 10 80); do ip -n "$RUN-c3" addr add "203.0.113.$i/32" dev eth0; done
start_hub --subnet 10.200.0.0/24 --subnet6 2001:db8:7::/64
in_new_subnet() { [[ "$(client_status c3 vip)" == 10.200.0.* ]]; }
wait_until 40 "c3 in the new subnet" in_new_subnet
expect_eq "c3's IPv4 addresses on its TUN" "$(nsx c3 ip -4 -o addr show dev slopn0 | awk '{print $4}')" "$(client_status c3 vip)/24"
ok "c3's TUN holds only its new address, among 71 others of the machine"
expect_eq "c3's IPv6 addresses on its TUN" "$(nsx c3 ip -6 -o addr show dev slopn0 scope global | awk '{print $4}')" "$(client_status c3 vip6)/64"

# A hub whose subnet holds c1's LAN (198.51.0.0/16 around 198.51.100.0/24):
# the subnet's route leaves the LAN's hosts on the LAN, so c1 takes an
# address from the pool, outside the LAN; but a token fixed to the LAN's
# router's address, 198.51.100.1, would make that address c1's own: that
# client refuses it, and c1 still reaches its router on the LAN.
stop hub
start_hub --subnet 198.51.0.0/16 --subnet6 2001:db8:7::/64
in_wide_subnet() { [[ "$(client_status c1 vip)" == 198.51.0.* ]]; }
wait_until 40 "c1 in the subnet around its LAN" in_wide_subnet
ok "c1 takes $(client_status c1 vip) from a subnet around its LAN"
router_token=$(ctl --json token add router --vip 198.51.100.1 | jq -r .token)
TOKEN=$router_token start_client c1:vip --tun slopn1
refused_in_lan c1:vip slopn1 "VPN address for this client $in_lan"
ok "c1:vip refuses 198.51.100.1, its LAN's router's address; the router is reached on the LAN"
# --no-route takes no subnet route, but the address is this machine's all
# the same: its router's (a gateway of one of its routes) is refused there
# too.
stop c1:vip
ip -n "$RUN-c1" route add 203.0.113.128/25 via 198.51.100.1
TOKEN=$router_token start_client c1:nr --tun slopn2 --no-route
refused_in_lan c1:nr slopn2 "VPN address for this client $in_lan"
ok "c1:nr (--no-route) refuses 198.51.100.1, its router's address; the router is reached on the LAN"

# Another interface of the hub's with an address in the VPN subnet (and in
# its IPv6 /64): its route takes packets to clients there out that way.
# The hub says so at its start, naming the route and the interface; a
# start without such a route said nothing of the kind.
grep -q "this machine routes" "$TMP/hub.log" && fail "a warning of a route in the subnet: $(grep "this machine routes" "$TMP/hub.log")"
stop hub
ip -n "$RUN-hub" link add sh0 type veth peer name sh1
ip -n "$RUN-hub" addr add 10.104.0.200/24 dev sh0
ip -n "$RUN-hub" addr add 2001:db8:9::200/64 dev sh0 nodad
ip -n "$RUN-hub" link set sh1 up
ip -n "$RUN-hub" link set sh0 up
mv "$TMP/hub.log" "$TMP/hub-wide.log"
start_hub --subnet 10.104.0.0/24 --subnet6 2001:db8:9::/64
wait_log hub "warning: this machine routes 10.104.0.0/24, in the VPN subnet 10.104.0.0/24, out of sh0, not into slopn0: .* Give the hub another --subnet, or take that address or route away" 2
wait_log hub "warning: this machine routes 2001:db8:9::/64, in the VPN subnet 2001:db8:9::/64, out of sh0, not into slopn0: .* Give the hub another --subnet6" 2
ok "a hub whose subnets another interface's addresses take: said at its start"
