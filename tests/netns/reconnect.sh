#!/bin/bash
# The hub dies (SIGKILL) and comes back with the same state: clients find
# out (stateless reset), reconnect, and carry traffic again within 30 s.
# A client that was offline for a while is back as soon as its link is.
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

# Offline for a while (the link down: every attempt fails at once, and the
# wait between them grows, 1, 2, 4, 8 s): when the way to the hub is back,
# c1 connects again at once, not when its wait ends.
ip -n "$(ns c1)" link set eth0 down
wait_until 15 "c1 disconnected" client_is c1 connected false
sleep 8 # attempts at 0, 1, 3 and 7 s: the next waits 8 s more
ip -n "$(ns c1)" link set eth0 up
t0=$(date +%s%N)
wait_until 10 "c1 back online" client_is c1 connected true
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -le 3000 ] || fail "c1 connected again $ms ms after its link came back"
nsx c1 ping -c 1 -W 2 10.100.0.3 >/dev/null || fail "no c1 -> c2 after c1's link came back"
ok "c1 connected again $ms ms after its link came back (its wait was 8 s)"
