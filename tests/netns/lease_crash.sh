#!/bin/bash
# A hub killed with -9 a second after a client's first login still knows
# that client's address when it is back (a new lease reaches leases.json
# within a tenth of a second; a second leaves room for a loaded machine,
# and is far from the minute of a later save): a newcomer that logs in before
# the client returns gets another address, and the client gets its own.
# And it still knows where that client is (peers.json, as soon): the
# restarted hub's reset brings the idle client back at once. And a hub
# back after a crash with a full pool gives a newcomer the address of the
# client away longest, not that of one connected until the crash, however
# long ago that one logged in.
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

# A full /29 as a crash left it (leases.json written here): A, C, D and E
# connected until the crash ("held"), A since long before anyone; B away
# for 30 s. c1 comes as a newcomer (a new hub: its id is unknown here) and
# gets B's address, whether it comes within the grace (2 s here: A's,
# C's, D's and E's kept) or after it (B's lease the one seen longest ago;
# the others' were seen until the crash).
kill "$(pid_of c2)" "$(pid_of c3)"
kill9 hub:third
now=$(date +%s)
mkdir "$TMP/full-state"
jq -n --argjson now "$now" '{version: 1, leases: [
	{id: "A", at: 2, ago: 1000, held: true}, {id: "B", at: 3, ago: 30}, {id: "C", at: 4, ago: 900, held: true},
	{id: "D", at: 5, ago: 800, held: true}, {id: "E", at: 6, ago: 700, held: true}]
	| map({token: "shared", client_id: .id, vip: "10.100.0.\(.at)", vip6: null, last_seen: ($now - .ago)}
		+ if .held then {held: true} else {} end)}' > "$TMP/full-state/leases.json"
START_WITH=(env SLOPND_RETURN_GRACE_SECONDS=2)
start hub:full server --listen 192.0.2.1:4242 --state-dir "$TMP/full-state" --token s3cret \
	--control "$TMP/hub.sock" --subnet 10.100.0.0/29
START_WITH=()
wait_hub
wait_connected c1 10.100.0.3 15
# A's lease now says it was seen at the start, not held.
a_seen_at_start() {
	jq -e --argjson now "$now" '.leases[] | select(.client_id == "A") | .last_seen >= $now and .held == null' \
		"$TMP/full-state/leases.json" > /dev/null
}
wait_until 5 "leases.json with A seen at the start" a_seen_at_start
ok "after a crash with a full pool: the newcomer gets the address of the client away, not of one connected until the crash"
