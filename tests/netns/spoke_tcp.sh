#!/bin/bash
# TCP from client to client through the hub: no packet dropped by the hub.
# The hub is the bottleneck of such a flow; while the receiver's queue is
# congested it leaves the sender's QUIC packets unread, so that the sender
# slows down before the hub would have to drop (hub_spoke.c). A receiver
# slower than the sender must not hold up the sender's other traffic,
# though: then the sender's excess to it is dropped and counted instead.
. "$(dirname "$0")/lib.sh"
command -v iperf3 >/dev/null || skip "needs iperf3"
command -v tc >/dev/null || skip "needs tc (iproute2)"
topo 3
start_hub
connect_clients 3

# iperf FROM TO_NS TO_ADDR SECONDS [IPERF3 ARGS]: one iperf3 TCP stream (or
# what the arguments say); sets RATE (kbit/s) and RETR (the sender's
# retransmissions). Not lib.sh's iperf_tcp: that wants more than 1 MB
# through, which a stream to the stalled c3 below does not get.
iperf() {
	local from=$1 to=$2 addr=$3 secs=$4 j=$TMP/$1-$2.json
	shift 4
	nsx "$to" timeout $((secs + 20)) iperf3 -s -1 > /dev/null 2>&1 &
	PIDS+=($!)
	wait_listening "$to" 5201
	nsx "$from" timeout $((secs + 15)) iperf3 -c "$addr" -t "$secs" -J "$@" > "$j" 2>/dev/null
	RATE=$(jq '.end.sum_received.bits_per_second / 1000 | floor' "$j")
	RETR=$(jq '.end.sum_sent.retransmits' "$j")
	[ "${RATE:-0}" -gt 0 ] 2>/dev/null || fail "iperf3 $from -> $to: $(jq -c '.error // .end' "$j")"
}

# 1. c2 -> c1 at full speed: the hub drops nothing, on either session.
iperf c2 c1 10.100.0.2 5
ok "c2 -> c1: $((RATE / 1000)) Mbit/s, $RETR retransmissions"
expect_eq "hub drops for c1 (queue)" "$(hub_stat 10.100.0.2 drop_queue)" 0
expect_eq "hub drops for c2 (queue)" "$(hub_stat 10.100.0.3 drop_queue)" 0
expect_eq "c2's TCP retransmissions" "$RETR" 0

# upload_beside WHAT: c2's upload to the hub while c2 -> c3 runs: at
# least half its pace alone.
upload_beside() {
	iperf c2 hub 10.100.0.1 3
	ok "c2 -> hub beside c2 -> c3 ($1): $((RATE / 1000)) Mbit/s"
	[ $((RATE * 2)) -ge "$alone" ] ||
		fail "c2's upload fell from $((alone / 1000)) to $((RATE / 1000)) Mbit/s beside its stream to $1"
	ok "c2's upload kept at least half its pace"
}
# udp_to_c3 SECONDS: c2 sends UDP at 50 Mbit/s to c3, in the background
# (UDP_PID); its rate goes to $TMP/c3.rate.
udp_to_c3() {
	c3_sent=$(hub_stat 10.100.0.4 tx_bytes)
	(iperf c2 c3 10.100.0.4 "$1" -u -b 50M -l 1200 && echo "$RATE" > "$TMP/c3.rate") &
	UDP_PID=$!
	wait_until 5 "c2's stream to c3 under way" c3_busy
}
c3_busy() { [ "$(hub_stat 10.100.0.4 tx_bytes)" -gt $((c3_sent + 100000)) ]; }
c3_dropped() { hub_stat 10.100.0.4 drop_queue; }

iperf c2 hub 10.100.0.1 3
alone=$RATE
ok "c2 -> hub alone: $((alone / 1000)) Mbit/s"

# 2. c3's link shaped to 2 Mbit/s, and c2 sends UDP at 50 Mbit/s to it: c2
# waits for c3 at each packet for it, but c3 drains (slowly), and c2's
# other packets go on between those.
ip netns exec "$(ns lan)" tc qdisc add dev p-c3 root tbf rate 2mbit burst 8kb latency 100ms ||
	skip "no tbf qdisc in this kernel"
udp_to_c3 5
upload_beside "the shaped c3"
wait $UDP_PID || fail "iperf3 c2 -> c3 failed"
ok "c2 -> c3: $(cat "$TMP/c3.rate") kbit/s, $(c3_dropped) dropped at c3's queue"
ip netns exec "$(ns lan)" tc qdisc del dev p-c3 root

# 3. c3 stalls (its slopnd stopped): its queue does not drain at all. c2
# waits for it no more than a few milliseconds at a time; its packets to c3
# are dropped at c3's queue (counted), and its upload goes on. c3 comes
# back when it runs again.
before=$(c3_dropped)
udp_to_c3 6
kill -STOP "$(pid_of c3)"
upload_beside "the stalled c3"
kill -CONT "$(pid_of c3)"
dropped=$(($(c3_dropped) - before))
[ "$dropped" -gt 0 ] || fail "nothing dropped at the stalled c3's queue"
ok "c2's packets to the stalled c3 dropped and counted at c3's queue: $dropped"
wait $UDP_PID || fail "iperf3 c2 -> c3 failed"
wait_ping c3 10.100.0.1 10
ok "c3 back"
# c2 was held: once nothing is, the stash memory is the hub's again (it
# stayed with the sender, and a thousand such would have used it all).
stash_empty() { [ "$(ctl --json status | jq .spoke_stash_bytes)" = 0 ]; }
wait_until 5 "the hub's stash memory back" stash_empty
ok "the stash memory back to the hub once no sender is held"
echo "PASS"
