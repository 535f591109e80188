#!/bin/bash
# One hub per address (issue 10): a second slopnd server on the UDP address
# of a running one refuses to start, before it touches a TUN device, and the
# first hub keeps its clients.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 1
start_hub
connect_clients 1

# Same address, its own state, control socket and TUN name.
start hub:second server --listen 192.0.2.1:4242 --state-dir "$TMP/second-state" \
	--token other --control "$TMP/second.sock" --tun second0
second=$(pid_of hub:second)
timeout 10 tail --pid="$second" -f /dev/null || fail "the second hub is still running"
wait "$second"
rc=$?
[ $rc -ne 0 ] || fail "the second hub exited 0"
grep -qi "address already in use" "$TMP/hub-second.log" ||
	fail "no 'address already in use': $(cat "$TMP/hub-second.log")"
ip -n "$(ns hub)" link show second0 >/dev/null 2>&1 && fail "the second hub left TUN second0"
ok "second hub on 192.0.2.1:4242: exit $rc, $(grep -i "address already in use" "$TMP/hub-second.log")"

# On the wildcard address too.
start hub:wild server --listen 0.0.0.0:4242 --state-dir "$TMP/second-state" \
	--token other --control "$TMP/second.sock" --tun second1
wild=$(pid_of hub:wild)
timeout 10 tail --pid="$wild" -f /dev/null || fail "the hub on 0.0.0.0 is still running"
wait "$wild"
rc=$?
[ $rc -ne 0 ] || fail "the hub on 0.0.0.0:4242 exited 0"
grep -qi "address already in use" "$TMP/hub-wild.log" ||
	fail "no 'address already in use': $(cat "$TMP/hub-wild.log")"
ok "second hub on 0.0.0.0:4242: exit $rc"

# The first hub still has its client, which still passes traffic.
nsx c1 ping -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "c1 lost its tunnel"
expect_eq "first hub's sessions" "$(ctl --json status | jq .sessions)" 1
ok "the first hub kept its client"
