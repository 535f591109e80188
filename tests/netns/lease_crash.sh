#!/bin/bash
# A hub killed with -9 half a second after a client's first login still
# knows that client's address when it is back (a new lease reaches
# leases.json within a tenth of a second): a newcomer that logs in before
# the client returns gets another address, and the client gets its own.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 2
start_hub
start_client c1
wait_connected c1 10.100.0.2
sleep 0.5 # the crash's moment after the login, not a wait for a state
kill -STOP "$(pid_of c1)" # away while the hub restarts
kill -9 "$(pid_of hub)"
wait "$(pid_of hub)" 2>/dev/null
start hub:again server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock"
wait_hub
expect_eq "leases the restarted hub found" "$(jq '.leases | length' "$TMP/hub-state/leases.json")" 1
start_client c2
wait_connected c2 10.100.0.3
kill -CONT "$(pid_of c1)"
wait_connected c1 10.100.0.2 15
expect_eq "sessions: VIP by client address" \
	"$(ctl --json sessions list | jq -r '[.sessions[] | "\(.remote | split(":")[0])=\(.vip)"] | sort | join(" ")')" \
	"192.0.2.11=10.100.0.2 192.0.2.12=10.100.0.3"
ok "a crash half a second after a first login: the client's address kept for it"
