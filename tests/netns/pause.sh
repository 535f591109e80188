#!/bin/bash
# A hub paused twice (SIGSTOP: a virtual machine's snapshot, a host
# swapping): the client, pinging through the tunnel, gives the first pause
# up after 2 s and logs in again once the hub goes on, its handshake's
# RTT sample spanning the rest of the pause; a second pause a second
# later is noticed as soon, not after that sample's probe timeouts (7 s
# and more, 26 s in a reviewer's runs). The client tells the hub it gave
# up all the same: the hub, once on, ends that session by its word, not
# at its idle timeout 30 s later.
. "$(dirname "$0")/lib.sh"
command -v jq > /dev/null || skip "needs jq"
topo 1
start_hub
start_monitor
start_client c1
wait_connected c1 10.100.0.2
s1=$(ctl --json sessions list | jq '.sessions[0].id')
nsx c1 ping -i 0.2 -W 1 10.100.0.1 > /dev/null 2>&1 &
PIDS+=($!)
hub=$(pid_of hub)
kill -STOP "$hub"
wait_until 6 "c1 giving the paused hub up" client_is c1 connected false
# Its next handshake goes out now and again a second later (its probe
# timeout), answered when the hub goes on: a sample of a second or so.
nap 2 # the rest of the pause: time to pass, not a state to wait for
kill -CONT "$hub"
wait_connected c1 10.100.0.2 10
wait_event session.down ".params.id == $s1 and (.params.reason | startswith(\"gave up: no answer\"))"
ok "the hub, once on, ended c1's first session by its word: $(jq -rn "[inputs | select(.method == \"session.down\")][0].params.reason" "$TMP/events.txt")"
nap 1 # pings through the new connection; its RTT estimate still high
rtt=$(client_status c1 rtt_ms)
kill -STOP "$hub"
t0=$(now_ms)
wait_until 10 "c1 giving the hub paused again up" client_is c1 connected false
ms=$(($(now_ms) - t0))
kill -CONT "$hub"
[ "$ms" -le 4500 ] || fail "c1 gave the second pause up after $ms ms (its smoothed RTT before: $rtt ms)"
wait_connected c1 10.100.0.2 15
ok "a second pause given up after $ms ms (smoothed RTT before it: $rtt ms), and c1 back"
