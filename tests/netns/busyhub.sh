#!/bin/bash
# A hub slower than the flood it gets (issue 10): while handshakes from 72
# addresses keep its queue of handshakes full, a real client's Initial is
# answered with a Retry, not dropped; proven, and from an address with no
# other connection, its handshake is made before the queue's, and the
# client logs in at once rather than after its Initial's timeouts (1 s,
# 2 s, 4 s: flood.sh's client once took 7.3 s in a sanitized CI run) or
# the queue's length. The hub is made slow
# by SLOPND_TEST_HANDSHAKE_MS, as it is under the sanitizers on a busy
# machine.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
: "${SLOPN_FLOOD:?set SLOPN_FLOOD to the slopn-flood test tool}"
topo 2   # c1 floods, c2 logs in
SLOPND_TEST_HANDSHAKE_MS=20 start_hub

# Full: 63 queued or more (a status answer comes between two handshakes).
queue_full() { [ "$(adm handshakes_queued)" -ge 63 ]; }

flood_from 100 171
# Handshakes completed and never logged in, 400 a second (the hub makes
# some 50), from 72 addresses, for 12 s.
nsx c1 "$SLOPN_FLOOD" --server 192.0.2.1:4242 "${from[@]}" --count 2000 --rate 400 \
	--duration 12 > "$TMP/flood.json" &
PIDS+=($!)
fpid=$!
wait_until 5 "the hub's queue of handshakes full" queue_full
ok "queue full: $(adm handshakes_queued) handshakes queued, $(adm initials_dropped) Initials dropped"

# c2 logs in within a second (2 s under the sanitizers): a dropped
# Initial alone costs its client a second, and the queue's length (64
# handshakes of 20 ms) more than one.
login_ms=1000
sanitized && login_ms=2000
d0=$(adm initials_dropped)
start_client c2
t0=$(now_ms)
until client_has_vip c2 10.100.0.2; do
	[ $(($(now_ms) - t0)) -le $login_ms ] || fail "c2 not logged in within $login_ms ms while the queue is full"
	nap 0.05
done
ok "c2 logged in within $(($(now_ms) - t0)) ms"
# Initials of the flood turned away meanwhile: the queue stayed full.
d1=$(adm initials_dropped)
[ "$d1" -gt "$d0" ] || fail "no Initial dropped while c2 got in: the queue was not full"
ok "$((d1 - d0)) Initials of the flood dropped while c2 got in"
wait_ping c2 10.100.0.1 5

wait "$fpid"
jq -c . "$TMP/flood.json"
# The flood follows Retry too (the daemon's own connection code).
[ "$(adm retry_sent)" -gt 0 ] || fail "no Retry sent while the queue was full"
[ "$(jq .handshakes "$TMP/flood.json")" -gt 0 ] || fail "the flood made no handshake"
ok "$(adm retry_sent) Retry sent, $(jq .handshakes "$TMP/flood.json") handshakes made for the flood"
