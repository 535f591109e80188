#!/bin/bash
# A /29 holds 5 clients (.2-.6): the 6th is refused with error code 2.
. "$(dirname "$0")/lib.sh"
topo 6
start_hub --subnet 10.100.0.0/29
for i in 1 2 3 4 5; do
	start_client "c$i"
	wait_until 10 "c$i connected" client_connected "c$i"
done
vips=$(for i in 1 2 3 4 5; do client_status "c$i" vip; done | sort | tr '\n' ' ')
expect_eq "VIPs given" "$vips" "10.100.0.2 10.100.0.3 10.100.0.4 10.100.0.5 10.100.0.6 "
expect_eq "the hub's sessions" "$(ctl --json status | jq .sessions)" 5
start_client c6
wait_until 10 "c6 refused for a full pool" client_said c6 "login refused by hub: Address pool exhausted.*error code 2, pool exhausted"
expect_eq "the 6th client connected" "$(client_status c6 connected)" false
expect_eq "the hub's sessions with the 6th refused" "$(ctl --json status | jq .sessions)" 5
[ "$(ctl --json status | jq .logins_refused.pool_full)" -ge 1 ] || fail "refusal not counted: $(ctl --json status | jq -c .logins_refused)"
expect_eq "token-limit refusals" "$(ctl --json status | jq .logins_refused.token_limit)" 0
ok "6th client refused with code 2"
# A client leaving frees its VIP: the 6th gets in on its next attempt.
freed=$(client_status c3 vip)
kill "$(pid_of c3)"
wait_connected c6 "$freed" 15
ok "freed VIP handed to the waiting client"
