#!/bin/bash
# Noise from the network (under the sanitizers in CI): for 5 s, a host on
# the LAN sends the hub's port random datagrams of every kind a QUIC
# endpoint meets (random bytes; long headers of any type and version with
# connection IDs of any length; Initials with forged Retry tokens; short
# headers for the live sessions' connection IDs, from peers.json, with
# random contents), and sends c1 the same with the hub's address forged.
# Meanwhile and after it, c1 pings c2 through the hub: nothing lost, the
# same sessions throughout, and the hub counted what it could not parse.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
command -v python3 >/dev/null || skip "needs python3"
NOISE=$(dirname "$0")/noise.py
topo 3 # c3 makes the noise
start_hub
connect_clients 2

sessions() { ctl --json sessions list | jq -c '[.sessions[] | {id, vip, remote}] | sort_by(.id)'; }
before=$(sessions)
c1port=$(ctl --json sessions list | jq -r '.sessions[] | select(.vip == "10.100.0.2") | .remote' | cut -d: -f2)
peers_saved() { [ "$(jq '.peers | length' "$TMP/hub-state/peers.json" 2>/dev/null)" = 2 ]; }
wait_until 2 "peers.json with both sessions" peers_saved
cids=()
for c in $(jq -r '.peers[].cids[]' "$TMP/hub-state/peers.json"); do cids+=(--cid "$c"); done
[ ${#cids[@]} -ge 4 ] || fail "no connection IDs in peers.json"
bad0=$(ctl --json status | jq .admission.bad_datagrams)
refused0=$(ctl --json status | jq .admission.refused)
# udp_in NS: UDP datagrams the kernel handed to a socket in NS; udp_lost
# NS: those it dropped for a full socket buffer.
udp_in() { nsx "$1" awk '/^Udp:/ && ++n == 2 {print $2}' /proc/net/snmp; }
udp_lost() { nsx "$1" awk '/^Udp:/ && ++n == 2 {print $6}' /proc/net/snmp; }
in0=$(udp_in c1)
lost0=$(udp_lost hub)

nsx c3 python3 "$NOISE" --to 192.0.2.1:4242 --seconds 5 --rate 2000 "${cids[@]}" \
	> "$TMP/noise-hub.json" 2> "$TMP/noise-hub.err" &
n1=$!
PIDS+=($n1)
nsx c3 python3 "$NOISE" --to "192.0.2.11:$c1port" --from 192.0.2.1:4242 --seconds 5 --rate 2000 \
	> "$TMP/noise-c1.json" 2> "$TMP/noise-c1.err" &
n2=$!
PIDS+=($n2)
got=$(nsx c1 ping -c 40 -i 0.1 -W 1 -w 15 10.100.0.3 | sed -n 's/.* \([0-9]*\) received.*/\1/p')
wait $n1 || fail "noise at the hub: $(cat "$TMP/noise-hub.err")"
wait $n2 || fail "noise at c1: $(cat "$TMP/noise-c1.err")"
echo "noise at the hub: $(cat "$TMP/noise-hub.json"); at c1: $(cat "$TMP/noise-c1.json")"
for n in hub c1 c2; do
	kill -0 "$(pid_of $n)" 2>/dev/null || fail "$n died in the noise"
done
ok "hub, c1 and c2 running"
# The forged noise reached c1's socket, not only its interface.
sent=$(jq 'add' "$TMP/noise-c1.json")
[ $(( $(udp_in c1) - in0 )) -ge "$sent" ] || fail "c1's sockets took $(( $(udp_in c1) - in0 )) datagrams, $sent were sent"
ok "the forged noise reached c1's socket ($sent datagrams)"
expect_eq "c1 -> c2 pings answered during the noise" "$got" 40
nsx c1 ping -c 5 -i 0.2 -W 1 10.100.0.3 > /dev/null || fail "c1 cannot reach c2 after the noise"
expect_eq "sessions (id, vip, address) after the noise" "$(sessions)" "$before"
for n in c1 c2; do
	expect_eq "$n connected" "$(client_status $n connected)" true
done
bad=$(( $(ctl --json status | jq .admission.bad_datagrams) - bad0 ))
[ "$bad" -gt 100 ] || fail "bad_datagrams rose by $bad only"
ok "the hub counted $bad datagrams it could not parse"
# Each Initial with a forged Retry token refused (none counted as bad: a
# late Initial of a connection closed in its handshake looks the same).
tokens=$(jq .initial_token "$TMP/noise-hub.json")
refused=$(( $(ctl --json status | jq .admission.refused) - refused0 ))
lost=$(( $(udp_lost hub) - lost0 ))
[ "$refused" -ge $(( tokens - lost )) ] ||
	fail "$refused refused of $tokens Initials with forged Retry tokens ($lost datagrams lost at the hub's socket)"
ok "$refused refused of $tokens Initials with forged Retry tokens ($lost lost at the socket)"

# Short headers for random connection IDs of the hub's length from c3:
# the hub's own IDs carry its tag (daemon/cidtag.h), these do not, so none
# is answered with a stateless reset (one in 65536 might be), and each is
# counted as bad. Meanwhile the hub dies (kill -9) and comes back without
# its peers.json: c1, pinging c2, hears of the restart at its next packet,
# for an ID of the hub's that still has its tag; the flood did not use up
# the resets it may send.
nsx c3 python3 "$NOISE" --to 192.0.2.1:4242 --seconds 6 --rate 2000 --kind short_random \
	> "$TMP/random-ids.json" 2> "$TMP/random-ids.err" &
n3=$!
PIDS+=($n3)
nsx c1 ping -q -i 0.05 -w 8 10.100.0.3 > /dev/null 2>&1 &
PIDS+=($!)
nap 1
since=$(client_status c1 since)
kill9 hub
rm -f "$TMP/hub-state/peers.json"
mv "$TMP/hub.log" "$TMP/hub-first.log"
t0=$(now_ms)
start_hub
wait_until 10 "c1 back on the restarted hub" client_relogged c1 "$since"
took=$(($(now_ms) - t0))
limit=1500
sanitized && limit=3000
[ "$took" -le $limit ] || fail "c1 back $took ms after the restart, during a flood of random IDs (limit $limit)"
ok "c1 back $took ms after the restart, during a flood of random IDs"
wait $n3 || fail "the flood of random IDs: $(cat "$TMP/random-ids.err")"
flooded=$(jq .short_random "$TMP/random-ids.json") answers=$(jq .answers "$TMP/random-ids.json")
echo "random IDs: $flooded sent, $answers answered"
[ "$flooded" -ge 4000 ] || fail "only $flooded random IDs sent in 6 s"
[ "$answers" -le 3 ] || fail "$answers of $flooded short headers for random IDs were answered (resets)"
ok "$answers of $flooded short headers for random IDs answered"
# The flood ran 6 s, the hub was back within 3 or so: a second's worth at
# the least came after, even from a slow sender.
bad=$(adm bad_datagrams)
[ "$bad" -ge 2000 ] || fail "the restarted hub counted $bad bad datagrams, for a flood of 2000 a second"
ok "the restarted hub counted $bad bad datagrams"
