#!/bin/bash
# Per-token traffic totals: they move with traffic, reach traffic.json
# while the session lives and soon after it ends, and survive a kill -9
# and a clean restart of the hub.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 1
STATE="$TMP/hub-state"
# A save every second instead of every minute: the live counters reach the
# file while the test waits.
export SLOPND_TRAFFIC_SAVE_SECONDS=1
hub() {
	start hub server --listen 192.0.2.1:4242 --state-dir "$STATE" --control "$TMP/hub.sock"
	wait_hub
}
hub
secret=$(ctl --json token add alice | jq -r .token)
ctl --json token list | jq -e '.tokens[0] | .sessions == 0 and .live == 0 and .rx_bytes == 0 and .last_seen == null' \
	>/dev/null || fail "a new token has totals: $(ctl --json token list)"
TOKEN=$secret start_client c1
wait_connected c1 10.100.0.2

alice() { ctl --json token list | jq ".tokens[] | select(.name == \"alice\") | .$1"; }
# file_alice FIELD: from traffic.json, 0 while it has no entry.
file_alice() { jq ".tokens[] | select(.name == \"alice\") | .$1" "$STATE/traffic.json" 2>/dev/null || echo 0; }
file_at_least() { [ "$(file_alice "$1")" -ge "$2" ] 2>/dev/null; }

nsx c1 ping -c 20 -i 0.05 -s 1000 -W 2 10.100.0.1 >/dev/null || fail "ping failed"
expect_eq "live sessions" "$(alice live)" 1
expect_eq "sessions" "$(alice sessions)" 1
[ "$(alice rx_pkts)" -ge 20 ] && [ "$(alice tx_pkts)" -ge 20 ] || fail "packets not counted: $(ctl --json token list)"
[ "$(alice rx_bytes)" -ge $((20 * 1028)) ] || fail "bytes not counted: $(alice rx_bytes)"
[[ $(alice last_remote) =~ ^\"192\.0\.2\.11:[0-9]+\"$ ]] || fail "last_remote: $(alice last_remote)"
[ "$(alice last_seen)" -ge "$(($(date +%s) - 2))" ] || fail "last_seen: $(alice last_seen)"
# LIVE is live/limit: alice has token add's default limit, 8.
ctl token list | grep -Eq "^alice +[0-9-]+ [0-9:]+ +never +- +- +now +1/8 +1 +[0-9.]+ KiB +[0-9.]+ KiB$" ||
	fail "token list: $(ctl token list)"
ok "token list: live totals of alice"

# The live session's counters reach the file without the session ending.
wait_until 5 "alice's live packets in traffic.json" file_at_least rx_pkts 20
ok "traffic.json has the live session's packets"
rx_before=$(file_alice rx_pkts)
kill9 hub
kill "$(pid_of c1)"
wait "$(pid_of c1)" 2>/dev/null
# From here on the minute's period: what reaches the file next is the
# write that follows a session's end.
unset SLOPND_TRAFFIC_SAVE_SECONDS
hub
[ "$(alice rx_pkts)" -ge "$rx_before" ] || fail "after kill -9: rx_pkts $(alice rx_pkts) < $rx_before"
[ "$(alice sessions)" -ge 1 ] || fail "after kill -9: sessions $(alice sessions)"
ok "totals survive kill -9 ($(alice rx_pkts) packets in)"

# Values move with traffic on the new session, and an ended session
# reaches the file within a second or two.
TOKEN=$secret start_client c1
alice_live() { [ "$(alice live)" = "$1" ]; }
wait_until 10 "c1 logged in to the new hub" alice_live 1
before=$(alice rx_pkts) sessions=$(alice sessions)
nsx c1 ping -c 10 -i 0.05 -W 2 10.100.0.1 >/dev/null || fail "ping failed"
[ "$(alice rx_pkts)" -ge $((before + 10)) ] || fail "rx_pkts did not move: $before -> $(alice rx_pkts)"
kill "$(pid_of c1)"
wait "$(pid_of c1)" 2>/dev/null
wait_until 5 "c1's session ends" alice_live 0
total_rx=$(alice rx_pkts) total_bytes=$(alice tx_bytes)
expect_eq "sessions once c1 is gone" "$(alice sessions)" "$sessions"
wait_until 5 "alice's packets in traffic.json after the end" file_at_least rx_pkts "$total_rx"
expect_eq "traffic.json sessions after the end" "$(file_alice sessions)" "$sessions"
ok "an ended session reaches traffic.json within seconds"

# A clean restart keeps them exactly.
kill "$(pid_of hub)"
wait "$(pid_of hub)" 2>/dev/null
hub
expect_eq "rx_pkts after a restart" "$(alice rx_pkts)" "$total_rx"
expect_eq "tx_bytes after a restart" "$(alice tx_bytes)" "$total_bytes"
expect_eq "sessions after a restart" "$(alice sessions)" "$sessions"
expect_eq "traffic.json mode" "$(stat -c %a "$STATE/traffic.json")" 600
ls "$STATE" | grep -q 'traffic.json.' && fail "a temporary file was left behind"

# A removed token's totals go with it.
ctl token remove alice >/dev/null || fail "token remove"
kill "$(pid_of hub)"
wait "$(pid_of hub)" 2>/dev/null
expect_eq "entries in traffic.json once alice is gone" "$(jq '.tokens | length' "$STATE/traffic.json")" 0

# A corrupt file does not stop the hub: it is kept aside.
echo '{"version":1,"tokens":[{' > "$STATE/traffic.json"
hub
grep -q "per-token totals $STATE/traffic.json: line 2 .*the file is now $STATE/traffic.json.bad" "$TMP/hub.log" ||
	fail "no word about the corrupt file"
[ -f "$STATE/traffic.json.bad" ] || fail "the corrupt file was not kept"
ok "totals: kill -9, restart, removal, a corrupt file"

# The hub stopped, its log kept as NAME.log for a look after.
hub_stop_keep_log() {
	kill "$(pid_of hub)"
	wait "$(pid_of hub)" 2>/dev/null
	mv "$TMP/hub.log" "$TMP/$1.log"
}
# A new token NAME's client on TUN sends, its traffic is counted, and two
# saves' time passes (one a second here).
traffic_saved_as() {
	local name=$1 tun=$2
	TOKEN=$(ctl --json token add "$name" | jq -r .token) start_client "c1:$name" --tun "$tun"
	wait_until 10 "$name connected" client_connected "c1:$name"
	nsx c1 ping -c 5 -i 0.05 -W 2 10.100.0.1 >/dev/null || fail "ping as $name failed"
	counted() { [ "$(ctl --json token list | jq --arg n "$name" '.tokens[] | select(.name == $n) | .rx_bytes')" -gt 0 ]; }
	wait_until 5 "$name's traffic counted" counted
	sleep 2.5
}

# A second corrupt file goes beside the first, as traffic.json.bad.2: the
# first .bad is not written over (it was, by a plain rename).
hub_stop_keep_log hub-corrupt1
first_bad=$(stat -c %i "$STATE/traffic.json.bad")
echo '{"version":1,"tokens":[{' > "$STATE/traffic.json"
hub
grep -q "per-token totals $STATE/traffic.json: line 2 .*the file is now $STATE/traffic.json.bad.2" "$TMP/hub.log" ||
	fail "no word about the second corrupt file set aside as .bad.2: $(grep totals "$TMP/hub.log")"
expect_eq "the first traffic.json.bad (its inode) after a second corrupt file" \
	"$(stat -c %i "$STATE/traffic.json.bad")" "$first_bad"
[ -f "$STATE/traffic.json.bad.2" ] || fail "the second corrupt file was not kept"
ok "a second corrupt traffic.json goes to .bad.2, the first .bad kept"

# A traffic.json that cannot be read (here a FIFO) is not damaged: it may
# hold whole totals. The hub counts on, says so, and neither sets it aside
# (it was renamed to .bad as if damaged) nor saves over it. Its stop, with
# the totals of sessions that ended, says they are lost, as an error that
# names the file and what to do, and exits 1 (it said nothing, and 0).
hub_stop_keep_log hub-corrupt2
rm -f "$STATE/traffic.json" # none, unless a save after the second corrupt one made it
mkfifo "$STATE/traffic.json"
export SLOPND_TRAFFIC_SAVE_SECONDS=1 # saves that would write over it, a second apart
hub
grep -q "per-token totals $STATE/traffic.json: cannot read: not a regular file: the totals are counted but not saved over the file" \
	"$TMP/hub.log" || fail "no word about the unreadable file held: $(grep totals "$TMP/hub.log")"
traffic_saved_as bob bob0
[ -p "$STATE/traffic.json" ] || fail "the unreadable traffic.json was replaced or moved: $(ls -l "$STATE")"
[ -e "$STATE/traffic.json.bad.3" ] && fail "the unreadable traffic.json was set aside as damaged"
stop c1:bob
stop hub 1
grep -q "error: per-token totals not saved at exit: $STATE/traffic.json is kept as it was at the start, when it could not be used (cannot read: not a regular file); the totals counted in this run are lost (make it readable, or move it away, before the next start)$" \
	"$TMP/hub.log" || fail "no word at exit of the totals not saved: $(tail -n 3 "$TMP/hub.log")"
[ -p "$STATE/traffic.json" ] || fail "the unreadable traffic.json was replaced or moved at exit: $(ls -l "$STATE")"
mv "$TMP/hub.log" "$TMP/hub-fifo.log"
ok "an unreadable traffic.json is held: counted, not set aside, not written over; the stop says the totals are lost, exit 1"

# A corrupt file that cannot be set aside (every .bad name taken): the
# totals are counted, the file never written over (it was, at the next
# save, its totals lost for good, the log saying it was kept); a stop
# with a session live says those totals are lost, and exits 1.
rm "$STATE/traffic.json"
echo '{"version":1,"tokens":[{' > "$STATE/traffic.json"
cp "$STATE/traffic.json" "$TMP/corrupt.json"
for i in $(seq 3 99); do mkdir "$STATE/traffic.json.bad.$i"; done
hub
grep -q "per-token totals $STATE/traffic.json: line 2 .*cannot be set aside as $STATE/traffic.json.bad.99" \
	"$TMP/hub.log" || fail "no word about the file held: $(grep totals "$TMP/hub.log")"
traffic_saved_as bob2 bob1
cmp -s "$TMP/corrupt.json" "$STATE/traffic.json" || fail "the unreadable traffic.json was written over"
stop hub 1
grep -q "error: per-token totals not saved at exit: $STATE/traffic.json is kept as it was at the start, when it could not be used (line 2 .*cannot be set aside as $STATE/traffic.json.bad.99 .*); the totals counted in this run are lost" \
	"$TMP/hub.log" || fail "no word at exit of the totals not saved: $(tail -n 3 "$TMP/hub.log")"
cmp -s "$TMP/corrupt.json" "$STATE/traffic.json" || fail "the unreadable traffic.json was written over at exit"
ok "a corrupt traffic.json that cannot be set aside is not written over; the stop says the totals are lost, exit 1"
