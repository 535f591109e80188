#!/bin/bash
# A hub on the default address (0.0.0.0:4242) of a machine with two: each
# client is answered from the address it used (the kernel alone would pick
# one source for all, and a client drops what comes from another address).
# So are the stateless resets a restarted hub sends the clients of its last
# run: an idle client of the second address is back at once, not at its
# next keep-alive 10 s later.
#
#   hub 192.0.2.1 + 192.0.2.2 -- br0 -- c1 192.0.2.11 (to .2), c2 192.0.2.12 (to .1)
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 2
ip -n "$RUN-hub" addr add 192.0.2.2/24 dev eth0
HUB=(server --state-dir "$TMP/hub-state" --token s3cret --control "$TMP/hub.sock")
start hub "${HUB[@]}"
wait_hub
expect_eq "the hub listens on" "$(ctl --json status | jq -r .listen)" "0.0.0.0:4242"
start c1 client --server 192.0.2.2:4242 --token s3cret
start c2 client --server 192.0.2.1:4242 --token s3cret
wait_until 10 "c1 connected through 192.0.2.2" client_is c1 connected true
wait_until 10 "c2 connected through 192.0.2.1" client_is c2 connected true
V1=$(client_status c1 vip)
V2=$(client_status c2 vip)
nsx c1 ping -c 3 -i 0.2 -W 2 "$V2" >/dev/null || fail "c1 cannot reach c2"
nsx hub ping -c 3 -i 0.2 -W 2 "$V1" >/dev/null || fail "the hub cannot reach c1"
ok "c1 (through the second address) and c2 (the first) reach the hub and each other"
iperf_tcp "c1 -> c2 through both addresses" c1 c2 "$V2" 1

# The hub dies and comes back; both clients idle.
wait_until 5 "peers.json with both clients" \
	sh -c "[ \"\$(jq '.peers | length' '$TMP/hub-state/peers.json' 2>/dev/null)\" = 2 ]"
expect_eq "the address c1 uses, in peers.json" \
	"$(jq -r '.peers[] | select(.remote | startswith("192.0.2.11:")) | .local' "$TMP/hub-state/peers.json")" \
	"192.0.2.2:4242"
kill9 hub
start hub:again "${HUB[@]}"
wait_hub
t0=$(date +%s%N)
wait_until 5 "c1 back on the new hub" hub_session "$V1"
wait_until 5 "c2 back on the new hub" hub_session "$V2"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -le 3000 ] || fail "the clients were back only after $ms ms"
nsx c1 ping -c 3 -i 0.2 -W 2 "$V2" >/dev/null || fail "c1 cannot reach c2 after the restart"
ok "both clients back within $ms ms of the restart (told by stateless resets from the address each used)"
# A reset carries no code: said so, not as a code 0.
expect_eq "c1's last disconnect: reason, code" \
	"$(run_slopnctl --socket "$TMP/c1.sock" --json status | jq -c '[.last_disconnect.reason, .last_disconnect.code]')" \
	'["hub closed the connection: stateless reset (the peer no longer knows the connection: it restarted, or dropped it while we were away)",null]'
