#!/bin/bash
# Full 1280-byte packets pass from the first second, both ways and across.
. "$(dirname "$0")/lib.sh"
topo 3
start_hub
connect_clients 2
nsx c1 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1280-byte ping to the hub failed"
ok "1280-byte packets c1 -> hub"
nsx c1 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.3 >/dev/null || fail "1280-byte ping to c2 failed"
ok "1280-byte packets c1 -> c2"
nsx c1 ping -M do -s 1253 -c 1 -W 1 10.100.0.1 >/dev/null 2>&1 && fail "1281-byte packet passed a 1280 MTU"
ok "1281 bytes refused by the 1280 MTU"
expect_eq "too_big drops" "$(hub_stat 10.100.0.2 drop_too_big)" 0

# A path that cannot carry 1480-byte UDP packets (SloPN sends full-size
# ones from the first): the client says what to check, not just "timed out".
ip -n "$(ns c3)" link set eth0 mtu 1400
start_client c3
wait_log c3 "connection failed: no answer: is the hub's UDP port reachable, and does the path carry UDP packets of 1480 bytes\?" 15
ok "a path under 1480 bytes: the client says what to check"
