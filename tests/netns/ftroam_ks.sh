#!/bin/bash
# ftroam.sh through the client's kill switch: the move to another network
# and the while without one go the same, with the switch in place all along.
FTROAM_ARGS=--kill-switch
. "$(dirname "$0")/ftroam.sh"
[ "$(client_status c1 kill_switch.dns)" = false ] || fail "c1's kill switch is not in place"
[ "$(nsx c1 nft list tables | grep -c slopnks_slopn0)" = 1 ] || fail "c1's kill switch table is gone"
expect_eq "packets beside the tunnel as the network came back" "$BESIDE" 0
ok "... all of it through c1's kill switch ($(client_status c1 kill_switch.dropped_pkts) packets dropped)"
# The count can see a leak: with c1 stopped (its table gone) the same
# packets take eth0 to rta.
stop c1
send_beside 0.5
[ "$(beside)" -gt 0 ] || fail "rta counted none of c1's packets with the kill switch gone"
ok "without c1, the same packets reach rta ($(beside) counted)"
