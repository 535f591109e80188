#!/bin/bash
# Clients that come and go leave nothing behind: a client started and
# stopped again and again (a clean stop, then kill -9 and a restart that
# takes over its stale session), and a client kicked and coming back,
# each time logged in with its own address and reaching the other client.
# After it all the hub holds exactly the file descriptors it held before,
# one session, no handshake, nothing closing; the token's session count
# is one per login; a client that came back holds its own descriptors as
# before. A descriptor or a session kept per connection would add up over
# the weeks a hub runs.
. "$(dirname "$0")/lib.sh"
command -v jq > /dev/null || skip "needs jq"
ROUNDS=12

topo 2
start_hub
connect_clients 2
wait_ping c1 10.100.0.3 5

logins() { ctl --json token list | jq '.tokens[] | select(.name == "shared") | .sessions'; }
sessions() { ctl --json status | jq -c '[.sessions, .admission.handshakes, .admission.awaiting_login, .admission.closing]'; }
one_session() { [ "$(sessions)" = "[1,0,0,0]" ]; }
c2_session() { hub_session 10.100.0.3; }
no_c2_session() { no_hub_session 10.100.0.3; }
# One round of c2 first, so that what the hub opens once (a timer, the
# leases' save) is open before the count starts.
stop c2
wait_until 10 "c2's session gone" no_c2_session
start_client c2
wait_connected c2 10.100.0.3
# The hub's descriptors, the fewest of ten looks 50 ms apart: the save of
# traffic.json a second after a session ends holds one for a moment (once
# seen in the count before the churn, under the sanitizers).
settled_fds() {
	local n m=
	for _ in $(seq 10); do
		n=$(fds hub)
		{ [ -z "$m" ] || [ "$n" -lt "$m" ]; } && m=$n
		nap 0.05
	done
	echo "$m"
}
hub_fds=$(settled_fds) hub_rss=$(rss_kb hub) logins0=$(logins)
ok "before: hub holds $hub_fds descriptors, RSS $hub_rss kB; $logins0 logins so far"

# c2 again and again, a clean stop and a kill -9 in turn: each time back
# with its address (its lease), its session the only one for it, and a
# packet across to c1.
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then
		stop c2
		wait_until 10 "c2's session gone after a stop (round $r)" no_c2_session
	else
		kill9 c2
	fi
	start_client c2
	wait_connected c2 10.100.0.3
	wait_until 10 "c2's session on the hub (round $r)" c2_session
	wait_ping c2 10.100.0.2 5
done
ok "c2 stopped and started $ROUNDS times (half of them kill -9): back each time as 10.100.0.3"

# c1 kicked twice: it comes back by itself (backoff 1 s, then 2 s).
c1_fds=$(fds c1)
for k in 1 2; do
	ctl sessions kick 10.100.0.2 --reason churn > /dev/null || fail "kick $k of c1"
	wait_until 15 "c1 back after kick $k" hub_session 10.100.0.2
	wait_connected c1 10.100.0.2
done
wait_ping c1 10.100.0.3 5
expect_eq "c1's descriptors after two kicks" "$(fds c1)" "$c1_fds"

expect_eq "logins counted for the shared token" "$(logins)" "$((logins0 + ROUNDS + 2))"

# c2 away for good: one session left. A closed connection lingers up to
# 3 s (RFC 9000's draining); then the descriptors are as before.
stop c2
wait_until 15 "one session, no handshake, nothing closing" one_session
hub_back() { [ "$(fds hub)" -le "$hub_fds" ]; }
wait_until 10 "the hub's descriptors back to $hub_fds" hub_back
expect_eq "the hub's descriptors after the churn" "$(settled_fds)" "$hub_fds"
# Memory: 14 logins grew it by some 70 kB here; something kept per
# connection of 75 kB or more (a queue, a table that never shrinks) fails.
# Under the sanitizers the RSS says nothing (lib.sh's sanitized), and
# LeakSanitizer checks the hub at its exit instead.
if ! sanitized; then
	r=$(rss_kb hub)
	[ "$r" -le $((hub_rss + 1024)) ] || fail "the hub's RSS grew from $hub_rss to $r kB over the churn"
	ok "the hub's RSS: $hub_rss kB before, $r kB after"
fi
ok "churn leaves nothing behind"
