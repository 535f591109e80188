#!/bin/bash
# --no-spoke-to-spoke: clients reach the hub but not each other.
. "$(dirname "$0")/lib.sh"
topo 2
start_hub --no-spoke-to-spoke
connect_clients 2
nsx c1 ping -c 2 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "c1 cannot reach the hub"
ok "c1 -> hub"
nsx c1 ping -c 3 -i 0.2 -W 1 10.100.0.3 >/dev/null && fail "c1 reached c2 with spoke-to-spoke off"
ok "c1 -> c2 blocked"
expect_eq "c1 drops (no_route)" "$(hub_stat 10.100.0.2 drop_no_route)" 3
