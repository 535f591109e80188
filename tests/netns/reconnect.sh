#!/bin/bash
# The hub dies (SIGKILL) and comes back with the same state: clients find
# out (stateless reset), reconnect, and carry traffic again within 30 s.
. "$(dirname "$0")/lib.sh"
topo 2
start_hub
connect_clients 2
nsx c1 ping -c 1 -W 2 10.100.0.3 >/dev/null || fail "no c1 -> c2 before the restart"

kill -9 "$(pid_of hub)"
wait "$(pid_of hub)" 2>/dev/null
mv "$TMP/hub.log" "$TMP/hub-first.log"
SECONDS=0
start_hub
wait_ping c1 10.100.0.3 30
echo "c1 -> c2 works again $SECONDS s after the hub restarted"
# The new hub, which knew no one, has both clients logged in again.
expect_eq "sessions on the restarted hub" "$(ctl --json sessions list | jq -c '[.sessions[].vip] | sort')" \
	'["10.100.0.2","10.100.0.3"]'
ok "clients reconnected within 30 s"
