#!/bin/bash
# The hub dies (kill -9) while half of its 20 clients push TCP through it
# and comes back at once: every client, busy or idle, passes traffic again
# within 3 s (stateless resets tell the clients that the hub restarted: the
# new process sends one to each client of the old at start, and answers a
# busy client's probes with one). Then the hub dies for good: a busy client
# notices within a few seconds, not at the 30 s idle timeout.
. "$(dirname "$0")/lib.sh"
command -v iperf3 >/dev/null || skip "needs iperf3"
N=20
topo $N
start_hub
connect_clients $N
# c1..c10 push to c11..c20, spoke to spoke, for longer than the test runs.
for i in $(seq 10); do
	nsx "c$((i + 10))" iperf3 -s -D -B "10.100.0.$((i + 11))" -p 5201 >/dev/null 2>&1
done
for i in $(seq 10); do wait_listening "c$((i + 10))" 5201; done
for i in $(seq 10); do
	nsx "c$i" timeout 60 iperf3 -c "10.100.0.$((i + 11))" -t 45 > "$TMP/iperf-c$i.log" 2>&1 &
	PIDS+=($!)
done
# slowest_of_ten: the least any of c1..c10 sent through the hub in 2 s
# (rx_bytes of its session), so that "busy" is checked, not assumed.
slowest_of_ten() {
	ctl --json sessions list > "$TMP/before.json"
	sleep 2
	ctl --json sessions list > "$TMP/after.json"
	jq -n --slurpfile a "$TMP/before.json" --slurpfile b "$TMP/after.json" '
		[$b[0].sessions[] | select(.vip | test("^10\\.100\\.0\\.([2-9]|1[01])$")) | . as $s
		 | $s.rx_bytes - ([$a[0].sessions[] | select(.vip == $s.vip) | .rx_bytes] | first // 0)] | min'
}
sleep 1
slowest=$(slowest_of_ten)
[ "$slowest" -gt 1000000 ] || fail "c1..c10 are not all busy before the crash: the slowest moved $slowest bytes in 2 s"
# Each client's lease on disk before the crash, as a hub up for a while has
# them: under load the saves are paced (a slow fsync, 16 times its cost),
# and a lease lost would give its client another address, and the pings
# below and the second part's counts to another client.
leases_saved() { [ "$(jq '.leases | length' "$TMP/hub-state/leases.json" 2>/dev/null)" = $N ]; }
wait_until 10 "the $N clients' leases in leases.json" leases_saved
kill9 hub
mv "$TMP/hub.log" "$TMP/hub-first.log"
start_hub
T0=$(date +%s%N)

# The hub pings each client's address (it keeps it: leases) until it
# answers; the time goes to a file. An idle client sends nothing of its
# own: only the new hub's reset, sent at start to the clients of the run
# that crashed (peers.json), brings it back this soon.
for i in $(seq $N); do
	(
		until nsx hub ping -c 1 -W 0.2 "10.100.0.$((i + 1))" >/dev/null 2>&1; do
			[ $(( ($(date +%s%N) - T0) / 1000000 )) -lt 15000 ] || exit 1
		done
		echo $(( ($(date +%s%N) - T0) / 1000000 )) > "$TMP/back-c$i"
	) &
	PIDS+=($!)
done
wait_file() { # until every client has its time or 16 s pass
	local deadline=$((SECONDS + 16))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(ls "$TMP"/back-c* 2>/dev/null | wc -l)" -eq $N ] && return 0
		sleep 0.1
	done
	return 1
}
wait_file || fail "$(( N - $(ls "$TMP"/back-c* 2>/dev/null | wc -l) )) client(s) got no answer within 15 s"
worst=0
for i in $(seq $N); do
	ms=$(cat "$TMP/back-c$i")
	echo "c$i ($([ "$i" -le 10 ] && echo busy || echo idle)): traffic again after $ms ms"
	[ "$ms" -gt "$worst" ] && worst=$ms
done
[ "$worst" -le 3000 ] || fail "slowest client took $worst ms (limit 3000)"
ok "all $N clients pass traffic again within 3 s of the restart (slowest $worst ms)"
n=$(ctl --json sessions list | jq '.sessions | length')
expect_eq "sessions on the restarted hub" "$n" "$N"

# The hub dies for good while c1..c10 push TCP to it: they notice without
# waiting for the idle timeout.
for i in $(seq 10); do
	nsx hub iperf3 -s -D -B 10.100.0.1 -p $((5300 + i)) >/dev/null 2>&1
done
for i in $(seq 10); do wait_listening hub $((5300 + i)); done
for i in $(seq 10); do
	nsx "c$i" timeout 60 iperf3 -c 10.100.0.1 -p $((5300 + i)) -t 45 > "$TMP/iperf2-c$i.log" 2>&1 &
	PIDS+=($!)
done
# Busy means data in flight: every one of them moves at least 1 MB in 2 s.
slowest=$(slowest_of_ten)
[ "$slowest" -gt 1000000 ] || fail "c1..c10 are not all busy: the slowest moved $slowest bytes in 2 s"
kill9 hub
SECONDS=0
# All ten within 8 s together (a dead hub is 4 unanswered probes and 2 s of
# silence), each from its own status, and why.
all_lost() { for i in $(seq 10); do client_is "c$i" connected false || return 1; done; }
wait_until 8 "c1..c10 to see the hub gone" all_lost
t=$SECONDS
for i in $(seq 10); do client_down "c$i" "^connection lost: no answer to" - ||
	fail "c$i does not say it lost the hub: $(client_status "c$i" last_disconnect)"; done
ok "busy clients noticed the dead hub within $t s"
