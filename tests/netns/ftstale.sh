#!/bin/bash
# A full-tunnel client killed with -9 leaves its host route to the hub
# (the /1 routes go with its TUN). If the machine then moves (eth0 loses
# its carrier but stays up, the default route now through eth1), that
# route takes the next run's packets into the dead link: the next run
# removes it at its start, before it first tries the hub, and connects
# through eth1. A host route of another client (another metric) stays.
# Its unreachable IPv6 routes (the tunnel carries no IPv6 here) stay
# behind too, until the next start removes them.
#
#   hub 192.0.2.1 -- br0 -- rta 192.0.2.50 -- 198.51.100.1 --- eth0 198.51.100.2 c1
#                       \-- rtb 192.0.2.51 -- 203.0.113.1 ---- eth1 203.0.113.2 c1
. "$(dirname "$0")/lib.sh"
uplinks
ns_ipv6 c1 # for a leftover IPv6 host route
ip -n "$RUN-c1" link set eth1 up
start_hub
start_client c1 --full-tunnel
wait_connected c1 10.100.0.2
expect_eq "c1's full tunnel" "$(client_status c1 full_tunnel)" true

kill9 c1
own_routes() { ip -n "$RUN-c1" "$@" route show proto 83 | sed 's/ *$//'; }
HOST=$(own_routes)
[[ $HOST =~ ^"192.0.2.1 via 198.51.100.1 dev eth0 metric "(83[0-9]{5})$ ]] ||
	fail "c1's routes after kill -9: expected its host route to the hub alone, got '$HOST'"
M=${BASH_REMATCH[1]}
ok "kill -9 left c1's host route to the hub: $HOST"
# The tunnel carried no IPv6 (the hub has none): that run made ::/1 and
# 8000::/1 unreachable instead, and nothing took them with its TUN. One
# more of its, had it made one: the next start removes them by the metric.
expect_eq "c1's unreachable IPv6 routes after kill -9" "$(own_routes -6)" \
	"unreachable ::/1 dev lo metric $M pref medium
unreachable 8000::/1 dev lo metric $M pref medium"
ip -n "$RUN-c1" -6 route add unreachable 2001:db8:77::/48 proto 83 metric "$M"
# That run's IPv6 one, had the hub been reached over IPv6, and another
# client's (another TUN, another metric), which is not c1's to remove.
ip -n "$RUN-c1" -6 route add 2001:db8::1/128 dev eth1 proto 83 metric "$M"
OTHER=$(( M == 8300000 ? 8300001 : 8300000 ))
ip -n "$RUN-c1" route add 192.0.2.99/32 via 203.0.113.1 dev eth1 proto 83 metric "$OTHER"

# The move: eth0's carrier goes (its far end down), eth0 stays up.
ip -n "$RUN-rta" link set leg down
ip -n "$RUN-c1" route replace default via 203.0.113.1
wait_until 5 "eth0 without carrier" sh -c "ip -n '$RUN-c1' link show eth0 | grep -q NO-CARRIER"
expect_eq "the way to the hub, the leftover route's" \
	"$(nsx c1 ip -o route get 192.0.2.1 | awk '{print $3, $5}')" "198.51.100.1 eth0"

mv "$TMP/c1.log" "$TMP/c1-first.log"
start_client c1 --full-tunnel
wait_connected c1 10.100.0.2 10
expect_eq "c1's full tunnel after the restart" "$(client_status c1 full_tunnel)" true
expect_eq "c1's IPv4 routes of proto 83" "$(own_routes)" \
	"0.0.0.0/1 dev slopn0 scope link
128.0.0.0/1 dev slopn0 scope link
192.0.2.1 via 203.0.113.1 dev eth1 metric $M
192.0.2.99 via 203.0.113.1 dev eth1 metric $OTHER"
expect_eq "c1's IPv6 routes of proto 83" "$(own_routes -6)" \
	"unreachable ::/1 dev lo metric $M pref medium
unreachable 8000::/1 dev lo metric $M pref medium"
expect_eq "c1's IPv6 blocked (status)" "$(client_status c1 ipv6_blocked)" true
expect_eq "lines in c1's log on the removal" \
	"$(grep -c 'removed a host route to the hub left by a run that did not stop cleanly' "$TMP/c1.log")" 1
wait_ping c1 10.100.0.1 5
ok "the next run removed the host route through the dead eth0 and connected through eth1"
stop c1
expect_eq "c1's IPv6 routes of proto 83 after a clean stop" "$(own_routes -6)" ""
ok "its unreachable IPv6 routes went at the clean stop"
