#!/bin/bash
# A ClientHello split over two Initials, the second sent late, is made
# within the handshake budget too. The first Initial makes the connection
# (cheap: half a ClientHello is only kept); the hub made the handshake's
# public-key work when the second came, read at once with the established
# sessions' packets, past the queue that holds handshakes back. 40 such
# connections from c1, their second halves sent together 200 ms after the
# last was opened, on a hub whose every ClientHello takes 100 ms
# (SLOPND_TEST_HANDSHAKE_MS, as a slow hub's would): c2's pings to the hub
# meanwhile wait for a handshake or two at most, not for all of them (some
# 3 s: those opened first may have sent theirs again before, at their
# first PTO, as the flood makes a DH key of 8192 bits for each). Nor does the hub take the costly
# finite-field key share the split ClientHellos offer first. Nor do junk
# Initials of such a connection take the queue from others. Then 60
# whole ClientHellos at once, each client's answer to the hub's handshake
# read at once, not behind that queue: all 60 log in.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
: "${SLOPN_FLOOD:?set SLOPN_FLOOD to the slopn-flood test tool}"
topo 2   # c1 floods, c2 pings
SLOPND_TEST_HANDSHAKE_MS=100 start_hub
start_client c2
wait_connected c2 10.100.0.2
wait_ping c2 10.100.0.1 5

flood_from 100 139
# c2 pings for 8 s, 50 a second, from before the flood to after it.
nsx c2 ping -q -i 0.02 -c 400 -W 3 10.100.0.1 > "$TMP/ping.txt" 2>&1 &
ppid=$!
PIDS+=($ppid)
nap 0.2
nsx c1 "$SLOPN_FLOOD" --server 192.0.2.1:4242 "${from[@]}" --count 40 --total 40 --rate 200 \
	--split-hello 200 --duration 10 > "$TMP/flood.json"
wait "$ppid" || true
jq -c . "$TMP/flood.json"
split=$(jq .split "$TMP/flood.json")
[ "$split" -ge 30 ] || fail "only $split of 40 ClientHellos went over two Initials"
hs=$(jq .handshakes "$TMP/flood.json")
[ "$hs" -ge 30 ] || fail "only $hs of the $split split handshakes were made"
ok "$split ClientHellos split, their second Initials held back: $hs handshakes made"
# Their first key share is an 8192-bit DH one, which would cost the hub a
# key of that size each time: it takes the X25519 one beside it.
expect_eq "the key exchange the hub chose" "$(jq -r .group "$TMP/flood.json")" X25519
cat "$TMP/ping.txt"
max=$(sed -n 's|^rtt .* = [0-9.]*/[0-9.]*/\([0-9]*\)\..*|\1|p' "$TMP/ping.txt")
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMP/ping.txt")
[ "${got:-0}" -ge 390 ] || fail "c2's pings: ${got:-0} of 400 answered"
# A handshake of 100 ms at a time, or two; under the sanitizers the hub is
# slower at everything else too.
limit=300
sanitized && limit=500
[ -n "$max" ] && [ "$max" -lt $limit ] ||
	fail "c2's pings waited up to ${max:-?} ms while the split handshakes were made (limit $limit)"
ok "c2's pings waited $max ms at most while the split handshakes were made"

# Junk Initials of a connection whose ClientHello waits for its other
# half (its connection IDs, garbage after): 200 of 100 bytes each, which
# QUIC forbids and the hub drops as bad, and 200 of full size, of which the
# handshake queue takes 4 at a time from one connection. Its 64 places
# stay free for everyone's handshakes: none dropped for want of room; and
# the five ClientHellos are made when their other halves come.
flood_from 200 204
before_bad=$(adm bad_datagrams) before_dropped=$(adm initials_dropped)
nsx c1 "$SLOPN_FLOOD" --server 192.0.2.1:4242 "${from[@]}" --count 5 --total 5 \
	--split-hello 300 --split-junk 400 --close --duration 10 > "$TMP/junk.json"
jq -c . "$TMP/junk.json"
expect_eq "split handshakes made behind the junk" "$(jq .handshakes "$TMP/junk.json")" 5
expect_eq "Initials dropped for a full handshake queue" "$(($(adm initials_dropped) - before_dropped))" 0
bad=$(($(adm bad_datagrams) - before_bad)) excess=$(adm initials_excess)
[ "$bad" -ge 1000 ] || fail "only $bad bad datagrams counted for the 1000 junk Initials of 100 bytes"
[ "$excess" -ge 1 ] || fail "no junk Initial counted over its connection's share of the queue"
ok "junk Initials: $bad counted bad, $excess over a connection's share"

# 60 whole ClientHellos at once that log in, on the same hub: 6 s of
# handshakes queued. A client's answer to the hub's handshake (its
# Initial's ack, its Finished and its login, in one datagram) is no new
# handshake's work: had it waited behind the queue, as all Initials of a
# connection in its handshake once did, the first of these would miss
# their 5 s to log in (from their handshake's start, for those the hub
# sent a Retry first, most of them).
flood_from 140 199
login='{"type":"login_request","token":"s3cret","client_version":"splithello/1","os":"linux"}'
flood_bg "$TMP/flood2.json" "${from[@]}" --count 60 --total 60 --duration 30 --login "$login"
t0=$(now_ms)
# Not fatal yet: the flood's summary says why.
all=0
(wait_until 20 "" hub_sessions_are 61) > /dev/null && all=1
took=$(($(now_ms) - t0))
flood_end
summary=$(jq -c '[.handshakes, .closed_by_hub, .failed]' "$TMP/flood2.json")
[ "$summary" = "[60,0,0]" ] || fail "the flood: handshakes, closed by the hub, timed out:" \
	"expected [60,0,0], got '$summary' (the flood: $(cat "$TMP/flood2.json");" \
	"the hub: $(ctl --json status | jq -c .admission))"
ok "the flood: handshakes, closed by the hub, timed out = $summary"
[ $all = 1 ] || fail "61 sessions, c2's and the flood's: not within 20 s"
ok "61 sessions within $took ms"
echo PASS
