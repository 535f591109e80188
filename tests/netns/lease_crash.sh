#!/bin/bash
# A hub killed with -9 a second after a client's first login still knows
# that client's address when it is back (a new lease reaches leases.json
# within a tenth of a second; a second leaves room for a loaded machine,
# and is far from the minute of a later save): a newcomer that logs in before
# the client returns gets another address, and the client gets its own.
# And it still knows where that client is (peers.json, as soon): the
# restarted hub's reset brings the idle client back at once.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 3
start_hub
start_client c1
wait_connected c1 10.100.0.2
sleep 1 # the crash's moment after the login, not a wait for a state
kill -STOP "$(pid_of c1)" # away while the hub restarts
kill9 hub
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
ok "a crash a second after a first login: the client's address kept for it"

# The same crash with the clients running: c3 logs in and the hub dies a
# second later. Its reset at the next start reaches c3 only if peers.json
# named c3 by then; otherwise the idle c3 finds out at its next keep-alive,
# 10 s after it last heard from the hub.
start_client c3
wait_connected c3 10.100.0.4
sleep 1 # the crash's moment after the login, not a wait for a state
kill9 hub:again
T0=$(now_ms)
start hub:third server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock"
wait_hub
all_back() { [ "$(ctl --json sessions list | jq '.sessions | length')" = 3 ]; }
wait_until 4 "all three clients logged in to the restarted hub" all_back
ms=$(( $(now_ms) - T0 ))
expect_eq "sessions: VIP by client address" \
	"$(ctl --json sessions list | jq -r '[.sessions[] | "\(.remote | split(":")[0])=\(.vip)"] | sort | join(" ")')" \
	"192.0.2.11=10.100.0.2 192.0.2.12=10.100.0.3 192.0.2.13=10.100.0.4"
ok "a crash a second after a login: every client back after $ms ms"
