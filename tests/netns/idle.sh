#!/bin/bash
# The cost of doing nothing: what an idle session sends on the underlay,
# and who sends it. A client of ours keeps the session (and its NAT
# mapping) open with a PING every 10 s, a third of the 30 s idle timeout;
# the hub answers it and sends none of its own (its keep-alive is for
# clients that send none, like the original's: daemon/conn.c,
# keep_alive_for). So an idle session costs 2 packets per 10 s.
. "$(dirname "$0")/lib.sh"
WATCH=$(dirname "$0")/udpwatch.py
command -v python3 > /dev/null || skip "needs python3"
topo 1
start_hub
connect_clients 1

# Every packet through the hub's underlay interface, timed.
ip netns exec "$RUN-hub" python3 "$WATCH" eth0 > "$TMP/wire.txt" 2> "$TMP/watch.err" &
PIDS+=($!)
wait_until 5 "the underlay watched" grep -q watching "$TMP/watch.err"

# exchanges: the packets in groups (a gap of over a second between
# groups), one line a group: "START FIRST_SENDER PACKETS FROM_HUB".
exchanges() {
	awk '{ if (NR == 1 || $1 - last > 1) { if (n) print start, from, n, hub; start = $1; split($2, a, ":"); from = a[1]; n = hub = 0 }
	       n++; if ($2 ~ /^192\.0\.2\.1:/) hub++; last = $1 } END { if (n) print start, from, n, hub }' "$TMP/wire.txt"
}
# Four groups: three whole ones, and a fourth begun (the last may not be whole).
four_exchanges() { [ "$(exchanges | wc -l)" -ge 4 ]; }
wait_until 50 "four keep-alive exchanges on the idle session" four_exchanges
exchanges | head -n 3 > "$TMP/ex.txt"
echo "exchanges (start, first sender, packets, from the hub):"
cat "$TMP/ex.txt"
by_hub=$(awk '$2 == "192.0.2.1"' "$TMP/ex.txt" | wc -l)
expect_eq "exchanges the hub began (a PING of its own)" "$by_hub" 0
# The client's PING and the hub's answer; every third answer or so also
# asks for an ACK (ngtcp2 does after 3 packets with only ACKs), which the
# client sends: a third packet.
expect_eq "the hub's packets in each exchange" "$(awk '{print $4}' "$TMP/ex.txt" | sort -u | tr '\n' ' ')" "1 "
awk '$3 > 3 {exit 1}' "$TMP/ex.txt" || fail "more than 3 packets in an exchange"
# Neither more often than needed nor too seldom for the idle timeout.
gaps=$(awk 'NR > 1 {printf "%d ", ($1 - prev) * 1000} {prev = $1}' "$TMP/ex.txt")
for g in $gaps; do
	[ "$g" -ge 9000 ] && [ "$g" -le 11000 ] || fail "keep-alives $gaps ms apart, not 10 s"
done
ok "keep-alives every 10 s ($gaps ms)"
client_connected c1 || fail "c1 is not connected after the idle minute"
expect_eq "sessions on the hub" "$(hub_sessions)" 1
