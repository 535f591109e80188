#!/bin/bash
# A /29 holds 5 clients (.2-.6): the 6th is refused with error code 2.
. "$(dirname "$0")/lib.sh"
topo 6
start_hub --subnet 10.100.0.0/29
for i in 1 2 3 4 5; do
	start_client "c$i"
	wait_log "c$i" "connected: vip 10.100.0.[2-6]/29 hub 10.100.0.1" 10
done
vips=$(cat "$TMP"/c[1-5].log | sed -n 's/.*connected: vip \(10.100.0.[0-9]*\).*/\1/p' | sort | tr '\n' ' ')
expect_eq "VIPs given" "$vips" "10.100.0.2 10.100.0.3 10.100.0.4 10.100.0.5 10.100.0.6 "
start_client c6
wait_log c6 "login refused by hub: Address pool exhausted.*error code 2, pool exhausted" 10
grep -q "connected:" "$TMP/c6.log" && fail "6th client got an address"
ok "6th client refused with code 2"
# A client leaving frees its VIP: the 6th gets in on its next attempt.
kill "$(pid_of c3)"
wait_log c6 "connected: vip 10.100.0.4/29" 15
ok "freed VIP handed to the waiting client"
