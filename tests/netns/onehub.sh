#!/bin/bash
# One hub per address (issue 10): a second slopnd server on the UDP address
# of a running one refuses to start, before it touches a TUN device, and the
# first hub keeps its clients. A hub whose --listen address is not on the
# machine yet (DHCP late at boot) starts all the same, says so, and takes
# clients once the address is there.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 2
start_hub
connect_clients 1

# refused TAG LISTEN TUN: a second hub on LISTEN, with its own state,
# control socket and TUN name, exits non-zero saying the address is in
# use, and leaves no TUN behind.
refused() {
	local log=$TMP/hub-$1.log p rc
	start "hub:$1" server --listen "$2" --state-dir "$TMP/second-state" \
		--token other --control "$TMP/second.sock" --tun "$3"
	p=$(pid_of "hub:$1")
	timeout 10 tail --pid="$p" -f /dev/null || fail "the hub on $2 is still running"
	wait "$p"
	rc=$?
	[ $rc -ne 0 ] || fail "the hub on $2 exited 0"
	grep -qi "address already in use" "$log" || fail "no 'address already in use': $(cat "$log")"
	ip -n "$RUN-hub" link show "$3" >/dev/null 2>&1 && fail "the hub on $2 left TUN $3"
	ok "second hub on $2: exit $rc, $(grep -i "address already in use" "$log")"
}
refused second 192.0.2.1:4242 second0
refused wild 0.0.0.0:4242 second1

# One hub per state directory: a second hub on another port, TUN and
# subnet but the first's --state-dir exits non-zero before it touches a TUN,
# and leaves the first's files as they were (it would have written its
# leases over them, and reset the first's clients from peers.json).
leases_before=$(cat "$TMP/hub-state/leases.json")
start hub:shared server --listen 192.0.2.1:4343 --state-dir "$TMP/hub-state" --token other \
	--control "$TMP/shared.sock" --tun shared0 --subnet 10.102.0.0/24
p=$(pid_of hub:shared)
timeout 10 tail --pid="$p" -f /dev/null || fail "a second hub on the first's state directory is still running"
wait "$p"
rc=$?
forget "$p"
[ $rc -ne 0 ] || fail "a second hub on the first's state directory exited 0"
ip -n "$RUN-hub" link show shared0 >/dev/null 2>&1 && fail "the second hub left TUN shared0"
cmp_state "the first hub's leases.json after the second hub's try" "$leases_before" "$(cat "$TMP/hub-state/leases.json")"
ok "second hub on the first's state directory: exit $rc, $(grep -o "state directory .* in use by another hub.*" "$TMP/hub-shared.log")"

# The first hub still has its client, which still passes traffic.
nsx c1 ping -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "c1 lost its tunnel"
expect_eq "first hub's sessions" "$(ctl --json status | jq .sessions)" 1
ok "the first hub kept its client"

# An address that comes after the start.
start hub:late server --listen 192.0.2.2:4242 --state-dir "$TMP/late-state" --token late \
	--control "$TMP/late.sock" --tun late0 --subnet 10.101.0.0/24
wait_hub "$TMP/late.sock"
grep -q "^slopnd: warning: --listen 192.0.2.2:4242: no such address on this machine yet" "$TMP/hub-late.log" ||
	fail "the hub did not say its address is not here: $(cat "$TMP/hub-late.log")"
ok "a hub on an address not here yet runs, and says so"
ip -n "$RUN-hub" addr add 192.0.2.2/24 dev eth0
start c2 client --server 192.0.2.2:4242 --token late
wait_connected c2 10.101.0.2
nsx c2 ping -c 3 -i 0.2 -W 2 10.101.0.1 >/dev/null || fail "c2 cannot reach the late hub"
expect_eq "the late hub's sessions" "$("$SLOPNCTL" --socket "$TMP/late.sock" --json status | jq .sessions)" 1
ok "clients get in once the address is there"
