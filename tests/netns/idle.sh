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
# exchanges_begun N: N groups at least (the last may not be whole).
exchanges_begun() { [ "$(exchanges | wc -l)" -ge "$1" ]; }
# wakeups NAME: how many times the daemon slept and was woken (each
# epoll_wait that blocked: voluntary context switches, all its threads).
wakeups() { cat /proc/"$(pid_of "$1")"/task/*/status | awk '/^voluntary_ctxt_switches/ {n += $2} END {print n}'; }
# Nothing else asks the client anything meanwhile (a slopnctl call wakes
# it): its wakeups from the second exchange's start to the fifth's.
wait_until 25 "two keep-alive exchanges on the idle session" exchanges_begun 2
w0=$(wakeups c1)
wait_until 35 "five keep-alive exchanges on the idle session" exchanges_begun 5
w1=$(wakeups c1)
exchanges | head -n 4 > "$TMP/ex.txt"
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
# Per keep-alive the client wakes twice: to send it, and to read the
# answer (and acknowledge it when it asks for that, every third or so).
# It woke besides every 5 s to look at ngtcp2's losses with nothing sent
# (client_path.c, keep_tick), and 30 ms after each PING for the probe
# timeout armed for it (conn.c, conn_update_timer): 4 to 5 a keep-alive.
# 6, and one for the edges of the window (the poll's lag).
echo "c1 woke $((w1 - w0)) times in 3 keep-alive periods"
[ $((w1 - w0)) -le 7 ] || fail "the idle client woke $((w1 - w0)) times in 3 keep-alive periods (at most 7)"
ok "the idle client wakes for its keep-alives only"
client_connected c1 || fail "c1 is not connected after the idle minute"
expect_eq "sessions on the hub" "$(hub_sessions)" 1
