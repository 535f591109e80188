#!/bin/bash
# Prometheus metrics: /metrics over HTTP (--metrics) and slopnctl metrics
# give text that a Prometheus parser reads, and its values move with
# traffic, logins and failures.
unset SLOPNCTL_PLAIN # slopnctl is under test: the sanitized one, if built so
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
# Debian's python3, which python3-prometheus-client installs into (a
# python3 earlier in PATH may be another).
PY=/usr/bin/python3
$PY -c 'import prometheus_client' 2>/dev/null || skip "needs python3-prometheus-client"
topo 2
start_hub --metrics 127.0.0.1:9342
connect_clients 2

# scrape: the samples, parsed by prometheus_client, as one JSON object
# {"name{label=value,...}": value}; from slopnctl with "ctl".
cat > "$TMP/parse.py" <<'PY'
import json, sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families
if sys.argv[1] == "http":
    text = urllib.request.urlopen("http://127.0.0.1:9342/metrics", timeout=5).read().decode()
else:
    text = sys.stdin.read()
out, types = {}, {}
for fam in text_string_to_metric_families(text):
    types[fam.name] = fam.type
    for s in fam.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        out["%s{%s}" % (s.name, labels)] = s.value
json.dump({"samples": out, "types": types}, sys.stdout)
PY
scrape() {
	if [ "$1" = http ]; then
		nsx hub $PY "$TMP/parse.py" http
	else
		ctl metrics | $PY "$TMP/parse.py" ctl
	fi || fail "the $1 metrics do not parse"
}
val() { jq -r ".samples[\"$2\"]" <<< "$1"; }

m=$(scrape http)
expect_eq "slopn_sessions" "$(val "$m" 'slopn_sessions{}')" 2
expect_eq "type of slopn_rx_packets" "$(jq -r '.types.slopn_rx_packets' <<< "$m")" counter
expect_eq "type of slopn_session_rtt_seconds" "$(jq -r '.types.slopn_session_rtt_seconds' <<< "$m")" gauge
for reason in spoofed not_ipv4 too_big no_route queue before_login tun; do
	[ "$(val "$m" "slopn_drops_total{reason=$reason}")" != null ] || fail "no drops for reason $reason"
done
[ "$(val "$m" 'slopn_session_rtt_seconds{id=1,token=shared,vip=10.100.0.2}')" != null ] || fail "no RTT for session 1"
expect_eq "shared's live sessions" "$(val "$m" 'slopn_token_live_sessions{token=shared}')" 2
ok "/metrics parses: sessions, drops by reason, RTT, tokens"

# Values move with traffic: 10 pings of 1000 bytes from c1.
rx=$(val "$m" 'slopn_session_rx_packets_total{id=1,token=shared,vip=10.100.0.2}')
trx=$(val "$m" 'slopn_token_rx_bytes_total{token=shared}')
nsx c1 ping -c 10 -i 0.05 -s 1000 -W 2 10.100.0.1 >/dev/null || fail "ping failed"
m=$(scrape http)
after=$(val "$m" 'slopn_session_rx_packets_total{id=1,token=shared,vip=10.100.0.2}')
expect_eq "session 1's rx packets grew by" "$(jq -n "$after - $rx")" 10
[ "$(jq -n "$(val "$m" 'slopn_token_rx_bytes_total{token=shared}') - $trx >= 10280")" = true ] ||
	fail "the token's bytes did not grow with the pings"
rtt=$(val "$m" 'slopn_session_rtt_seconds{id=1,token=shared,vip=10.100.0.2}')
[ "$(jq -n "$rtt > 0 and $rtt < 1")" = true ] || fail "RTT $rtt"
ok "values move with traffic"

# A wrong token counts as a failed login; slopnctl metrics says the same.
expect_eq "failed logins before" "$(val "$m" 'slopn_failed_logins_total{}')" 0
TOKEN=wrong start_client c1:bad --tun bad0
wait "$(pid_of c1:bad)"
m=$(scrape ctl)
expect_eq "failed logins after a wrong token (slopnctl metrics)" "$(val "$m" 'slopn_failed_logins_total{}')" 1
expect_eq "bans now" "$(val "$m" 'slopn_bans{}')" 0
expect_eq "logins refused for the token's limit" "$(val "$m" 'slopn_logins_refused_total{reason=token_limit}')" 0
expect_eq "logins refused for a full pool" "$(val "$m" 'slopn_logins_refused_total{reason=pool_full}')" 0
expect_eq "sessions (slopnctl metrics)" "$(val "$m" 'slopn_sessions{}')" 2
ok "slopnctl metrics: the same text"

# The connection limits' counters: a datagram that is not QUIC moves one.
bad=$(val "$m" 'slopn_admission_total{what=bad_datagrams}')
nsx c1 bash -c 'printf "not quic" > /dev/udp/192.0.2.1/4242'
for _ in $(seq 50); do
	m=$(scrape ctl)
	[ "$(val "$m" 'slopn_admission_total{what=bad_datagrams}')" = $((bad + 1)) ] && break
	sleep 0.1
done
expect_eq "admission bad_datagrams after one" "$(val "$m" 'slopn_admission_total{what=bad_datagrams}')" $((bad + 1))
expect_eq "awaiting login" "$(val "$m" 'slopn_awaiting_login{}')" 0

# Only GET /metrics.
code() { nsx hub $PY -c '
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(urllib.request.Request(sys.argv[1], method=sys.argv[2]), timeout=5)
    print(200)
except urllib.error.HTTPError as e:
    print(e.code)' "$@"; }
expect_eq "GET /" "$(code http://127.0.0.1:9342/ GET)" 404
expect_eq "POST /metrics" "$(code http://127.0.0.1:9342/metrics POST)" 405

# One host's idle connections (40, past the 16 the hub serves at once)
# keep no scraper out: 4 an address. The 36 it refuses are not 36 lines
# in its log (a journal flooded by anyone who reaches the port): 5 a
# minute, the last of them saying so.
scraped=$(nsx hub $PY -c '
import socket, time
idle = []
for i in range(40):
    s = socket.socket()
    s.connect(("127.0.0.1", 9342))
    idle.append(s)
time.sleep(0.3)
s = socket.socket()
s.settimeout(5)
s.bind(("127.0.0.2", 0))
s.connect(("127.0.0.1", 9342))
s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
print(s.recv(12).decode(errors="replace")[-3:])')
expect_eq "a scrape beside 40 idle connections of another address" "$scraped" 200
expect_eq "log lines of the HTTP server for 36 refused connections" "$(grep -c '^slopnd: warning: metrics: ' "$TMP/hub.log")" 5
grep -q '^slopnd: warning: metrics: .*(more this minute are counted, not logged)$' "$TMP/hub.log" ||
	fail "the 5th line does not say that more are not logged: $(grep 'metrics: ' "$TMP/hub.log" | tail -2)"

# The start time stays put (computed from the uptime, it once moved by a
# second from read to read: a restart to an alert on its changes).
starts=$(for i in 1 2 3 4 5 6; do metric slopn_start_time_seconds; nap 0.3; done | sort -u | wc -l)
expect_eq "values of slopn_start_time_seconds in 6 reads over 2 s" "$starts" 1

# Packets the kernel drops in front of the hub's TUN (its queue full while
# the hub reads nothing; its tx_dropped): status and the metric give the
# kernel's own count.
kernel_q() { nsx hub ip -j -s link show slopn0 | jq '.[0].stats64.tx.dropped'; }
q0=$(kernel_q)
qlen=$(nsx hub ip -j link show slopn0 | jq '.[0].txqlen')
nsx hub ip link set slopn0 txqueuelen 8
kill -STOP "$(pid_of hub)"
nsx hub $PY -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(400):
    s.sendto(b"q" * 100, ("10.100.0.2", 9))'
kill -CONT "$(pid_of hub)"
q=$(kernel_q)
[ "$q" -gt "$q0" ] || fail "the kernel dropped nothing in front of the hub's TUN ($q0, then $q)"
expect_eq "drops in the TUN's queue in status" "$(ctl --json status | jq .totals.drops.tun_queue)" "$q"
expect_eq "slopn_drops_total{reason=tun_queue}" "$(val "$(scrape ctl)" 'slopn_drops_total{reason=tun_queue}')" "$q"
nsx hub ip link set slopn0 txqueuelen "$qlen"

# A port in use: the hub says so and does not start.
kill "$(pid_of hub)"
wait "$(pid_of hub)" 2>/dev/null
nsx hub $PY -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1",9342)); s.listen(); time.sleep(20)' &
PIDS+=($!)
listening() { nsx hub $PY -c 'import socket; socket.create_connection(("127.0.0.1",9342))' 2>/dev/null; }
wait_until 5 "a listener on 9342" listening
start hub:busy server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token x \
	--control "$TMP/busy.sock" --metrics 127.0.0.1:9342
wait "$(pid_of hub:busy)"; rc=$?
[ $rc -ne 0 ] || fail "a hub whose metrics port is taken started"
grep -q "cannot serve metrics on 127.0.0.1:9342: Address already in use" "$TMP/hub-busy.log" ||
	fail "no clear error: $(cat "$TMP/hub-busy.log")"
grep -q "port 0" "$TMP/hub-busy.log" && fail "the HTTP server's line names port 0: $(cat "$TMP/hub-busy.log")"
ok "a taken metrics port: a clear error, exit $rc"
