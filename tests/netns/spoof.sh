#!/bin/bash
# A client sending with a source other than its VIP: dropped and counted.
. "$(dirname "$0")/lib.sh"
topo 1
start_hub
start_client c1
wait_connected c1 10.100.0.2
ip -n "$RUN-c1" addr add 10.100.0.77/32 dev slopn0
nsx c1 ping -I 10.100.0.77 -c 3 -i 0.2 -W 1 10.100.0.1 >/dev/null && fail "spoofed pings were answered"
expect_eq "drop_spoofed" "$(hub_stat 10.100.0.2 drop_spoofed)" 3
nsx c1 ping -c 1 -W 2 10.100.0.1 >/dev/null || fail "real VIP no longer works"
ok "real VIP still works"
