#!/bin/bash
# The hub's --nat takes its egress interface from the default route, a
# multipath one too when its next hops leave by one interface. One whose
# next hops leave by several is refused without --egress (clients' traffic
# is masqueraded out of one interface: out of the others it would go
# unmasqueraded, or not at all), and --egress then says which.
#
#   hub eth0 192.0.2.1/24 (gateways .2, .3), wan2 203.0.113.1/24 (gateway .2;
#   a veth whose peer wan2p, in the hub's namespace too, has no address)
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || skip "needs nft (nftables)"
command -v jq >/dev/null || skip "needs jq"
topo 0
ip -n "$RUN-hub" link add wan2 type veth peer name wan2p
ip -n "$RUN-hub" addr add 203.0.113.1/24 dev wan2
ip -n "$RUN-hub" link set wan2p up
ip -n "$RUN-hub" link set wan2 up
nsx hub sysctl -qw net.ipv4.ip_forward=0

# 1. Two next hops, both out of eth0: eth0.
ip -n "$RUN-hub" route add default nexthop via 192.0.2.2 dev eth0 nexthop via 192.0.2.3 dev eth0 ||
	fail "cannot add a multipath default route"
start_hub --nat
wait_until 10 "the hub masquerading out of eth0" hub_nat_is "* out of eth0, *"
ok "multipath default route out of one interface: $(hub_nat)"
stop hub

# 2. One next hop out of eth0, one out of wan2: refused, naming --egress,
# before it touched anything.
ip -n "$RUN-hub" route replace default nexthop via 192.0.2.2 dev eth0 nexthop via 203.0.113.2 dev wan2
start hub:multi server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/multi.sock" --nat
p=$(pid_of hub:multi)
timeout 10 tail --pid="$p" -f /dev/null || fail "the hub is still running on a default route out of two interfaces"
rc=0
wait "$p" || rc=$?
forget "$p"
[ "$rc" = 1 ] || fail "the hub exited $rc, not 1: $(cat "$TMP/hub-multi.log")"
msg=$(grep -- "--nat:" "$TMP/hub-multi.log")
[[ $msg == *"several interfaces"*"--egress"* ]] || fail "no word of the route's interfaces and --egress: $(cat "$TMP/hub-multi.log")"
expect_eq "forwarding after the refused start" "$(nsx hub sysctl -n net.ipv4.ip_forward)" 0
ok "multipath default route out of two interfaces, no --egress: exit 1, $msg"

# 3. The same route with --egress wan2: out of wan2.
start_hub --nat --egress wan2
wait_until 10 "the hub masquerading out of wan2" hub_nat_is "* out of wan2, *"
ok "with --egress: $(hub_nat)"
stop hub
echo "PASS"
