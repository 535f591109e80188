#!/bin/bash
# Someone else handles slopnd's TUN device.
#
# Sets it down (ip link set down): the kernel drops the routes through it,
# --full-tunnel's too, and its IPv6 address, without a word. The client
# shows it (tun_up false, full_tunnel false), leaves it down, and puts all
# of it back once it is up again; so does the hub with its IPv6 address.
# Flushes its addresses (ip addr flush): both roles put them back at once.
#
# Deletes it (ip link del): every read of the fd then fails at once. The
# daemon must not spin on it, but say so and exit with a failure, for the
# service manager to start it again (Restart=on-failure), telling its peer
# first. A client's session ends on the hub at once, and a new client
# process gets its VIP back; the hub's clients are told and return as soon
# as a new hub answers.
. "$(dirname "$0")/lib.sh"
topo 2
ns_ipv6 hub c1 c2
start_hub --subnet6 fd00:5:6:7::/64
start_client c1 --full-tunnel
wait_connected c1 10.100.0.2
start_client c2
wait_connected c2 10.100.0.3

# The way c1 would send to an address beyond the VPN (none is sent).
way_out() { nsx c1 ip -4 route get 203.0.113.7 2>&1; }
through_tun() { [[ "$(way_out)" == *" dev slopn0 "* ]]; }
has_addr6() { nsx c1 ip -6 addr show dev slopn0 | grep -q "inet6 fd00:5:6:7::2/64"; }
through_tun || fail "c1's full tunnel: 203.0.113.7 goes $(way_out)"
ok "c1's full tunnel routes beyond the VPN through slopn0"

nsx c1 ip link set slopn0 down
wait_until 3 "c1's status telling its TUN is down" client_is c1 tun_up false
expect_eq "c1's full_tunnel with its TUN down" "$(client_status c1 full_tunnel)" false
through_tun && fail "c1's TUN is down, yet 203.0.113.7 goes $(way_out)"
ok "with its TUN down, c1's routes through it are gone, and its status says so"
sleep 0.5
expect_eq "c1's TUN, left down by c1" "$(nsx c1 cat /sys/class/net/slopn0/operstate)" down
# A new login (c1 kicked: it comes back by itself) leaves it down too.
since0=$(client_status c1 since)
ctl sessions kick 10.100.0.2 --reason tundev > /dev/null || fail "cannot kick c1"
wait_until 15 "c1 logged in again" client_relogged c1 "$since0"
expect_eq "c1's TUN after a new login" "$(nsx c1 cat /sys/class/net/slopn0/operstate) $(client_status c1 tun_up)" \
	"down false"
ok "c1 logged in again with its TUN down: left down"

nsx c1 ip link set slopn0 up
wait_until 3 "c1's full tunnel back once its TUN is up" client_is c1 full_tunnel true
expect_eq "c1's status: tun_up" "$(client_status c1 tun_up)" true
through_tun || fail "c1's TUN is up again, but 203.0.113.7 goes $(way_out)"
has_addr6 || fail "c1's TUN is up again, without its IPv6 address"
wait_ping c1 10.100.0.3 5
wait_ping c1 fd00:5:6:7::3 5
ok "c1's TUN up again: full tunnel routes and IPv6 address back, traffic to c2 over IPv4 and IPv6"

# Its addresses flushed by someone (ip addr flush): the kernel then drops
# what comes through the tunnel, and with the last IPv4 address every
# route through the TUN, the full tunnel's too. c1 puts both addresses
# and its routes back at once, without a new login.
since0=$(client_status c1 since)
nsx c1 ip addr flush dev slopn0
c1_addrs() {
	echo $(nsx c1 ip -o addr show dev slopn0 scope global | awk '{print $4}')
}
addrs_back() { [ "$(c1_addrs)" = "10.100.0.2/24 fd00:5:6:7::2/64" ]; }
wait_until 3 "c1's addresses back after a flush" addrs_back
wait_until 3 "c1's full tunnel back after a flush" through_tun
expect_eq "c1's status after the flush: connected since, full tunnel" \
	"$(client_status c1 since) $(client_status c1 full_tunnel)" "$since0 true"
wait_ping c1 10.100.0.3 5
wait_ping c1 fd00:5:6:7::3 5
ok "c1's addresses flushed: put back with its full tunnel's routes, in the same connection, traffic to c2"

# A route by hand into part of the VPN subnet, out of another interface:
# what goes to clients there leaves that way. c2 says so at its login.
ip -n "$RUN-c2" route add 10.100.0.128/25 via 192.0.2.1
since0=$(client_status c2 since)
ctl sessions kick 10.100.0.3 --reason tundev > /dev/null || fail "cannot kick c2"
wait_until 15 "c2 logged in again" client_relogged c2 "$since0"
wait_log c2 "warning: this machine routes 10.100.0.128/25, in the VPN subnet 10.100.0.0/24, out of eth0, not into slopn0: .* Take that route away, or give the hub another --subnet$" 2
ip -n "$RUN-c2" route del 10.100.0.128/25 via 192.0.2.1
ok "a route out of eth0 into part of the VPN subnet: c2 names it at its login"

# The hub's TUN: its IPv6 address goes with a down, and comes back with the up.
hub_is() { [ "$(ctl --json status | jq -r ".$1")" = "$2" ]; }
nsx hub ip link set slopn0 down
wait_until 3 "the hub's status telling its TUN is down" hub_is tun_up false
expect_eq "the hub's IPv6 address while its TUN is down" \
	"$(nsx hub ip -6 addr show dev slopn0 | grep -c "inet6 fd00:5:6:7::1/64")" 0
nsx hub ip link set slopn0 up
wait_until 3 "the hub's status telling its TUN is up" hub_is tun_up true
wait_ping c1 fd00:5:6:7::1 5
wait_ping c1 10.100.0.1 5
ok "the hub's TUN up again: its IPv6 address back, c1 reaches it over IPv4 and IPv6"

# The hub's TUN changed under it: an MTU of 1200 (the kernel then takes its
# IPv6 away, and what it sent bigger than the clients carry would be lost),
# then its addresses flushed. The hub puts its MTU and both addresses back,
# and c1 reaches it with 1280-byte packets over IPv4 and IPv6.
hub_mtu_is() { [ "$(nsx hub cat /sys/class/net/slopn0/mtu)" = "$1" ]; }
hub_has() { nsx hub ip addr show dev slopn0 | grep -q "inet6\? $1 "; }
nsx hub ip link set slopn0 mtu 1200
wait_until 3 "the hub's TUN back at MTU 1280" hub_mtu_is 1280
wait_until 3 "the hub's IPv6 address back after the MTU" hub_has fd00:5:6:7::1/64
nsx c1 ping -6 -M do -s 1232 -c 2 -i 0.2 -W 2 fd00:5:6:7::1 > /dev/null || fail "1280-byte IPv6 ping c1 -> hub after the MTU change"
nsx hub ip addr flush dev slopn0
wait_until 3 "the hub's IPv4 address back after a flush" hub_has 10.100.0.1/24
wait_until 3 "the hub's IPv6 address back after a flush" hub_has fd00:5:6:7::1/64
wait_ping c1 10.100.0.1 5
nsx c1 ping -M do -s 1252 -c 2 -i 0.2 -W 2 10.100.0.1 > /dev/null || fail "1280-byte ping c1 -> hub after the flush"
nsx c1 ping -6 -M do -s 1232 -c 2 -i 0.2 -W 2 fd00:5:6:7::1 > /dev/null || fail "1280-byte IPv6 ping c1 -> hub after the flush"
ok "the hub's TUN at another MTU, then flushed: its MTU and addresses put back, 1280-byte packets pass"

# IPv6 disabled on a TUN (net.ipv6.conf.slopn0.disable_ipv6): its address
# goes and cannot be put back. Said once, naming the setting (the hub said
# it 5 times a second: each try made a link event that brought the next);
# put back once IPv6 is enabled again (no event comes then).
# v6_disabled NAME PATTERN BACK...: IPv6 disabled on NAME's TUN for 1.5 s,
# its log has one line matching PATTERN (grep -E) that says what to do,
# and BACK... (a command) holds once IPv6 is enabled again.
v6_disabled() {
	local who=$1 lost=$2
	shift 2
	nsx "$who" sysctl -qw net.ipv6.conf.slopn0.disable_ipv6=1
	wait_log "$who" "$lost" 3
	nap 1.5
	expect_eq "lines about $who's IPv6 address in 1.5 s of IPv6 disabled" \
		"$(grep -Ec "$lost" "$TMP/$who.log")" 1
	grep -E "$lost" "$TMP/$who.log" | grep -q "sysctl -w net.ipv6.conf.slopn0.disable_ipv6=0" ||
		fail "$who's line does not say what to do: $(grep -E "$lost" "$TMP/$who.log")"
	nsx "$who" sysctl -qw net.ipv6.conf.slopn0.disable_ipv6=0
	wait_until 3 "$who's IPv6 address back once IPv6 is enabled" "$@"
}
v6_disabled hub 'lost its address fd00:5:6:7::1/64(:|, and it cannot)' hub_has fd00:5:6:7::1/64
wait_ping c1 fd00:5:6:7::1 5
ok "IPv6 disabled on the hub's TUN: said once, the address put back once it is enabled"
# The same on c1's TUN, in the same connection.
since0=$(client_status c1 since)
v6_disabled c1 'lost its VPN address fd00:5:6:7::2/64, and it cannot be put back' has_addr6
wait_ping c1 fd00:5:6:7::3 5
expect_eq "c1 in the same connection" "$(client_status c1 since)" "$since0"
ok "IPv6 disabled on c1's TUN: said once, the address put back once it is enabled"

# exited NAME: wait for the daemon to exit (it must), its status in
# $STATUS. In this shell: only the parent can wait for it.
gone() { ! kill -0 "$(pid_of "$1")" 2>/dev/null; }
exited() {
	wait_until 5 "$1 exiting once its TUN device is deleted" gone "$1"
	STATUS=0
	wait "$(pid_of "$1")" || STATUS=$?
}

nsx c1 ip link del slopn0
exited c1
expect_eq "c1's exit status once its TUN is deleted" "$STATUS" 1
expect_eq "routes of c1's left behind" "$(nsx c1 ip route show proto 83)" ""
wait_until 3 "the hub dropping c1's session (c1 told it)" no_hub_session 10.100.0.2
ok "the hub dropped c1's session"
mv "$TMP/c1.log" "$TMP/c1-first.log"
start_client c1
wait_connected c1 10.100.0.2
wait_ping c1 10.100.0.3 5
ok "c1 started again: the same VIP, traffic to c2"

nsx hub ip link del slopn0
exited hub
expect_eq "the hub's exit status once its TUN is deleted" "$STATUS" 1
wait_until 3 "c1 told that the hub went" client_is c1 connected false
wait_until 3 "c2 told that the hub went" client_is c2 connected false
ok "c1 and c2 were told"
mv "$TMP/hub.log" "$TMP/hub-first.log"
start_hub
wait_connected c1 10.100.0.2
wait_connected c2 10.100.0.3
wait_ping c1 10.100.0.3 5
ok "a new hub: c1 and c2 back with their VIPs, traffic across"

# A persistent TUN made beforehand (ip tuntap add), with an address of the
# administrator's: the hub and a client use it, say so, and at a stop take
# their own addresses off it; the device and the administrator's address
# stay.
stop hub
mv "$TMP/hub.log" "$TMP/hub-second.log"
stop c2
mv "$TMP/c2.log" "$TMP/c2-first.log"
for ns in hub c2; do
	nsx "$ns" ip tuntap add dev slopn0 mode tun
	nsx "$ns" ip addr add 10.99.0.1/24 dev slopn0
done
start_hub --subnet6 fd00:5:6:7::/64
start_client c2
persistent="warning: slopn0 was made beforehand and is persistent \\(ip tuntap add\\): slopnd uses it"
wait_log hub "$persistent" 2
wait_log c2 "$persistent" 2
wait_connected c2 10.100.0.3
wait_ping c2 10.100.0.2 5
wait_ping c2 fd00:5:6:7::1 5
stop c2
stop hub
for ns in hub c2; do
	expect_eq "$ns's persistent TUN after a stop: addresses" \
		"$(echo $(nsx "$ns" ip -o addr show dev slopn0 scope global | awk '{print $4}'))" 10.99.0.1/24
done
ok "persistent TUNs: used, said so, and left with the administrator's address only"
