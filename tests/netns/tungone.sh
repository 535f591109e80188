#!/bin/bash
# Someone deletes slopnd's TUN device under it (ip link del). Every read
# of the fd then fails at once: the daemon must not spin on it, but say so
# and exit with a failure, for the service manager to start it again
# (Restart=on-failure), telling its peer first. A client's session ends on
# the hub at once, and a new client process gets its VIP back; the hub's
# clients are told and return as soon as a new hub answers.
. "$(dirname "$0")/lib.sh"
topo 2
start_hub
connect_clients 2

# exit_code NAME: wait for the daemon to exit (it must), then its status.
gone() { ! kill -0 "$(pid_of "$1")" 2>/dev/null; }
exit_code() {
	wait_until 5 "$1 exiting once its TUN device is deleted" gone "$1"
	local rc=0
	wait "$(pid_of "$1")" || rc=$?
	echo "$rc"
}
no_session() { ! hub_session "$1"; }
not_connected() { ! client_connected "$1"; }

nsx c1 ip link del slopn0
expect_eq "c1's exit status once its TUN is deleted" "$(exit_code c1)" 1
wait_until 3 "the hub dropping c1's session (c1 told it)" no_session 10.100.0.2
ok "the hub dropped c1's session"
mv "$TMP/c1.log" "$TMP/c1-first.log"
start_client c1
wait_connected c1 10.100.0.2
wait_ping c1 10.100.0.3 5
ok "c1 started again: the same VIP, traffic to c2"

nsx hub ip link del slopn0
expect_eq "the hub's exit status once its TUN is deleted" "$(exit_code hub)" 1
wait_until 3 "c1 told that the hub went" not_connected c1
wait_until 3 "c2 told that the hub went" not_connected c2
ok "c1 and c2 were told"
mv "$TMP/hub.log" "$TMP/hub-first.log"
start_hub
wait_connected c1 10.100.0.2
wait_connected c2 10.100.0.3
wait_ping c1 10.100.0.3 5
ok "a new hub: c1 and c2 back with their VIPs, traffic across"
