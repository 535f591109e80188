#!/bin/bash
# The hub's budget for its sessions' queues of packets waiting to be sent
# (--queue-memory): a queue that would take more than the budget is
# refused and the packets that found no room are counted as queue_memory;
# a session that has its queue keeps it. Here the budget holds one queue:
# three clients stop (SIGSTOP) and acknowledge nothing while the hub sends
# to each, one of them gets the queue, the other two are refused, the
# memory never goes over the budget, and once they wake up traffic passes
# again and the memory comes back.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 3

# A value out of range, or not an amount: refused at start (exit 2),
# naming the setting and what it takes; from the config file with its
# place in it.
for v in 100K 65G 1.5M lots; do
	nsx hub "$SLOPND" server --queue-memory "$v" --state-dir "$TMP/bad-state" \
		--control "$TMP/bad.sock" > "$TMP/bad-$v.txt" 2>&1 && fail "--queue-memory $v accepted"
	rc=$?
	expect_eq "exit status for --queue-memory $v" "$rc" 2
	grep -q -- "--queue-memory '$v'.*384K\.\.64G" "$TMP/bad-$v.txt" ||
		fail "--queue-memory $v: not the error expected: $(cat "$TMP/bad-$v.txt")"
done
printf 'queue_memory = 1K\n' > "$TMP/bad.conf"
nsx hub "$SLOPND" server --config "$TMP/bad.conf" --state-dir "$TMP/bad-state" \
	--control "$TMP/bad.sock" > "$TMP/bad-conf.txt" 2>&1 && fail "queue_memory = 1K accepted"
grep -q -- "$TMP/bad.conf:1: queue_memory '1K': must be 384K\.\.64G" "$TMP/bad-conf.txt" ||
	fail "queue_memory = 1K: not the error expected: $(cat "$TMP/bad-conf.txt")"
ok "--queue-memory and queue_memory out of range or not an amount: refused, with the range"

# Room for one queue (384000 bytes), from the config file. An unused queue
# goes back after 1 s (10 by default), for the end of the test.
printf 'queue_memory = 384K\n' > "$TMP/slopnd.conf"
export SLOPND_QUEUE_KEEP_SECONDS=1
start_hub --config "$TMP/slopnd.conf"
unset SLOPND_QUEUE_KEEP_SECONDS
connect_clients 3
VIPS=(10.100.0.2 10.100.0.3 10.100.0.4)
budget=$(ctl --json status | jf queue_budget)
expect_eq "queue_budget in status" "$budget" 393216
expect_eq "slopn_queue_budget_bytes" "$(metric slopn_queue_budget_bytes)" 393216
for v in "${VIPS[@]}"; do wait_ping hub "$v" 10; done
queue_bytes_is() { [ "$(ctl --json status | jf queue_bytes)" = "$1" ]; }
wait_until 10 "no queue before the clients stop" queue_bytes_is 0

for c in c1 c2 c3; do kill -STOP "$(pid_of "$c")"; done
# flood_round: 100 datagrams of 1200 bytes from the hub to each stopped
# client (far more than a congestion window); the queue memory then must
# be within the budget. Holds once two sessions were refused a queue.
max_used=0
refused_sessions() {
	ctl --json sessions list | jq '[.sessions[] | select(.drops.queue_memory > 0)] | length'
}
flood_round() {
	local v j used
	for v in "${VIPS[@]}"; do
		nsx hub "$NETTOOL" udp-df "$v" 9 100 1200 || fail "the hub could not send to $v"
	done
	j=$(ctl --json status) || fail "the hub does not answer"
	used=$(jf queue_bytes <<< "$j")
	[ "$used" -le "$budget" ] || fail "queue memory $used bytes, over the budget of $budget"
	[ "$used" -gt "$max_used" ] && max_used=$used
	[ "$(refused_sessions)" -ge 2 ]
}
wait_until 20 "two sessions refused a queue" flood_round
expect_eq "the most queue memory seen while they were stopped" "$max_used" 384000

# Who holds the queue: the first to need one, never refused; the two
# others have none and counted what found no room.
rows=$(ctl --json sessions list | jq -r '.sessions[] | "\(.queue_bytes) \(.drops.queue_memory)"' | sort)
expect_eq "sessions' queue_bytes and queue_memory drops" "$(awk '{print $1, ($2 > 0)}' <<< "$rows" | tr '\n' ' ')" \
	"0 1 0 1 384000 0 "
j=$(ctl --json status)
expect_eq "queue_bytes in status" "$(jf queue_bytes <<< "$j")" 384000
[ "$(jf totals.drops.queue_memory <<< "$j")" -gt 0 ] || fail "no queue_memory drops in the hub's totals"
expect_eq "slopn_queue_bytes" "$(metric slopn_queue_bytes)" 384000
[ "$(metric 'slopn_drops_total{reason="queue_memory"}')" -gt 0 ] ||
	fail "no queue_memory drops in slopn_drops_total"
ok "one queue within the budget; two sessions refused one: $(awk '{print $2}' <<< "$rows" | tr '\n' ' ')drops"

for c in c1 c2 c3; do kill -CONT "$(pid_of "$c")"; done
for v in "${VIPS[@]}"; do wait_ping hub "$v" 20; done
ok "each client reached from the hub again once woken"
# The queue drained and unused gives its memory back, to the budget too.
wait_until 10 "the queue's memory back" queue_bytes_is 0
expect_eq "slopn_queue_bytes once the queue went" "$(metric slopn_queue_bytes)" 0
ok "the queue's memory back once it drained"

# SIGHUP: a new value from the file holds from then on.
printf 'queue_memory = 1M\n' > "$TMP/slopnd.conf"
kill -HUP "$(pid_of hub)"
budget_is() { [ "$(ctl --json status | jf queue_budget)" = "$1" ]; }
wait_until 10 "queue_budget 1M after SIGHUP" budget_is 1048576
ok "queue_memory = 1M applied by SIGHUP"
echo "PASS"
