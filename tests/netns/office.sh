#!/bin/bash
# An office behind one NAT address: its clients all come back at once when
# the hub restarts, more of them than the hub lets wait for their login
# from one address (16; 1 here, SLOPND_TEST_PER_ADDR, so that 12 clients
# make the burst). Those refused ("hub busy") try again within a second and
# a quarter, not with the backoff (1, 2, 4, 8 s...): all are back within a
# few seconds.
#
#   hub 192.0.2.1 -- br0 -- rt 192.0.2.50 (NAT) -- office 198.51.100.0/24
#                                                   o1 .11 ... o12 .22
. "$(dirname "$0")/lib.sh"
command -v nft > /dev/null || skip "needs nft"
N=12
export SLOPND_TEST_PER_ADDR=1
topo 0
attach rt 192.0.2.50
nsx rt sysctl -qw net.ipv4.ip_forward=1
ip -n "$RUN-rt" link add office type bridge
ip -n "$RUN-rt" addr add 198.51.100.1/24 dev office
ip -n "$RUN-rt" link set office up
nsx rt nft add table ip nat
nsx rt nft add chain ip nat post '{ type nat hook postrouting priority 100; }'
nsx rt nft add rule ip nat post oifname eth0 masquerade
for i in $(seq $N); do
	ns_create "o$i"
	ip link add eth0 netns "$RUN-o$i" type veth peer name "o$i" netns "$RUN-rt"
	ip -n "$RUN-rt" link set "o$i" master office up
	ip -n "$RUN-o$i" addr add "198.51.100.$((i + 10))/24" dev eth0
	ip -n "$RUN-o$i" link set eth0 up
	ip -n "$RUN-o$i" route add default via 198.51.100.1
done

sessions() { ctl --json sessions list | jq '.sessions | length'; }
from_office() { ctl --json sessions list | jq '[.sessions[] | select(.remote | startswith("192.0.2.50:"))] | length'; }
all_in() { [ "$(sessions)" = "$N" ]; }
connecting() { [ "$(client_status "$1" state)" = connecting ]; }

# All twelve at once: the hub is stopped (SIGSTOP) while they start, so
# that their first packets wait in its socket, and go on together.
start_hub
kill -STOP "$(pid_of hub)"
for i in $(seq $N); do start_client "o$i"; done
for i in $(seq $N); do wait_until 10 "o$i connecting" connecting "o$i"; done
# Twelve handshakes one at a time, each retried within 0.25-1.25 s: 5 s,
# or 8 under the sanitizers beside other tests; a backoff (1, 2, 4, 8 s)
# would take longer than either.
limit=5000
sanitized && limit=8000
kill -CONT "$(pid_of hub)"
t0=$(now_ms)
wait_until 20 "all $N in" all_in
ms=$(($(now_ms) - t0))
expect_eq "sessions from the office's one address" "$(from_office)" "$N"
busy=$(ctl --json status | jq '.admission.refused + .admission.closed_by_limit')
[ "$busy" -gt 0 ] || fail "the hub's limit never turned one away: no burst to test"
[ "$ms" -le $limit ] || fail "all $N in only $ms ms after the burst ($busy turned away)"
told=$(grep -l "hub busy: " "$TMP"/o*.log | wc -l)
[ "$told" -gt 0 ] || fail "no client was told the hub was busy"
grep -h "hub busy: hub busy" "$TMP"/o*.log | head -n 1 | grep . && fail "said twice: hub busy: hub busy"
ok "all $N in $ms ms after their burst; $busy attempts turned away by the per-address limit, $told clients told the hub was busy"

# The hub dies and comes back: the new run's resets (peers.json) send all
# twelve back at once (each within a fifth of a second).
kill9 hub
mv "$TMP/hub.log" "$TMP/hub-first.log"
start_hub
t0=$(now_ms)
wait_until 20 "all $N back" all_in
ms=$(($(now_ms) - t0))
[ "$ms" -le $limit ] || fail "all $N back only $ms ms after the hub's start"
ok "all $N back $ms ms after the hub's start ($(ctl --json status | jq '.admission.refused + .admission.closed_by_limit') turned away)"
