#!/bin/bash
# A hub and two clients: each client reaches the hub and the other client,
# and the hub's per-session counters count exactly the packets sent.
. "$(dirname "$0")/lib.sh"
topo 2
start_hub
connect_clients 2
expect_eq "c1's hub" "$(client_status c1 hub_vip)" 10.100.0.1

# The client's TUN is up with its VIP, MTU 1280 and the VPN route.
ip -n "$RUN-c1" -4 addr show dev slopn0 | grep -q "inet 10.100.0.2/24" || fail "c1 has no VIP on slopn0"
expect_eq "c1's slopn0 MTU" "$(nsx c1 cat /sys/class/net/slopn0/mtu)" 1280
ip -n "$RUN-c1" route show 10.100.0.0/24 | grep -q "dev slopn0" || fail "c1 has no route for 10.100.0.0/24"
ok "c1 TUN configured"
# A plain start warns about nothing (a warning is something to act on)
# but that IPv6 is off in these namespaces, as it is, and that the
# suite's shared token (s3cret) is short (trust.sh).
for n in hub c1 c2; do
	w=$(grep "warning:" "$TMP/$n.log" | grep -v -e "IPv6 inside the tunnel is off: IPv6 is disabled" \
		-e "the shared --token has 6 characters only") &&
		fail "$n warns at a plain start: $w"
done
ok "no warnings at a plain start"

# Which build runs (git describe's commit, or "unknown" outside a git
# checkout): --version, and both roles' status, say the same.
build=$("$SLOPND" --version | sed -n 's/^slopnd [^ ]* (build \(.*\))$/\1/p')
[ -n "$build" ] || fail "slopnd --version names no build: $("$SLOPND" --version)"
expect_eq "the hub's build in its status" "$(ctl --json status | jf build)" "$build"
expect_eq "c1's build in its status" "$(client_status c1 build)" "$build"
ctl status | grep -qx "version:   [^ ]* (build $build)" || fail "slopnctl status: $(ctl status | grep version)"
ok "the build, $build, in --version and both roles' status"

nsx c1 ping -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "c1 cannot ping the hub VIP"
ok "c1 -> hub"
nsx c2 ping -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "c2 cannot ping the hub VIP"
ok "c2 -> hub"

rx1=$(hub_stat 10.100.0.2 rx_pkts)
tx2=$(hub_stat 10.100.0.3 tx_pkts)
nsx c1 ping -c 5 -i 0.2 -W 2 10.100.0.3 >/dev/null || fail "c1 cannot ping c2"
ok "c1 -> c2 (spoke to spoke)"
expect_eq "packets from c1 during 5 pings" "$(( $(hub_stat 10.100.0.2 rx_pkts) - rx1 ))" 5
expect_eq "packets to c2 during 5 pings" "$(( $(hub_stat 10.100.0.3 tx_pkts) - tx2 ))" 5
expect_eq "c1 drops (spoofed)" "$(hub_stat 10.100.0.2 drop_spoofed)" 0

# One way only: 5 datagrams of 128 bytes (100 of UDP payload) from c1 to
# an address of the subnet that no client holds. The hub takes each from
# c1 (its rx_pkts and rx_bytes, and a no_route drop) and sends it nothing
# (its tx_pkts and tx_bytes): each counter is its direction.
rx1=$(hub_stat 10.100.0.2 rx_pkts) tx1=$(hub_stat 10.100.0.2 tx_pkts)
rxb1=$(hub_stat 10.100.0.2 rx_bytes) txb1=$(hub_stat 10.100.0.2 tx_bytes)
nr1=$(hub_stat 10.100.0.2 drop_no_route)
nsx c1 "$NETTOOL" udp-df 10.100.0.99 9 5 100 || fail "c1 could not send to 10.100.0.99"
c1_dropped() { [ "$(hub_stat 10.100.0.2 drop_no_route)" -ge $((nr1 + 5)) ]; }
wait_until 5 "c1's 5 datagrams to 10.100.0.99 dropped at the hub" c1_dropped
expect_eq "packets from c1, one way" "$(( $(hub_stat 10.100.0.2 rx_pkts) - rx1 ))" 5
expect_eq "packets to c1, one way" "$(( $(hub_stat 10.100.0.2 tx_pkts) - tx1 ))" 0
expect_eq "bytes from c1, one way" "$(( $(hub_stat 10.100.0.2 rx_bytes) - rxb1 ))" 640
expect_eq "bytes to c1, one way" "$(( $(hub_stat 10.100.0.2 tx_bytes) - txb1 ))" 0
expect_eq "c1's no_route drops, one way" "$(( $(hub_stat 10.100.0.2 drop_no_route) - nr1 ))" 5

# From the hub's side to an address of the subnet that no client holds:
# each packet dropped and counted, none sent anywhere.
no_route() { ctl --json status | jq '.totals.drops.no_route'; }
d0=$(no_route)
nsx hub ping -c 3 -i 0.2 -W 0.5 10.100.0.99 >/dev/null && fail "10.100.0.99 answered"
expect_eq "hub drops to 10.100.0.99 (no_route)" "$(( $(no_route) - d0 ))" 3

# SIGTERM: the hub closes every connection and exits 0; clients notice at once.
kill -TERM "$(pid_of hub)"
wait "$(pid_of hub)"; rc=$?
expect_eq "hub exit status on SIGTERM" "$rc" 0
# What c1 tells its user (and that it is no longer connected).
wait_until 5 "c1's status to say the hub shut down" \
	client_down c1 "^hub closed the connection: hub shutting down \\(code 0\\)$" 0
expect_eq "c1 connected once the hub is gone" "$(client_status c1 connected)" false
ip -n "$RUN-hub" link show slopn0 >/dev/null 2>&1 && fail "hub TUN still exists after exit"
ok "hub TUN removed"
