#!/bin/bash
# The tokens' last uses reach tokens.json from one timer, not one write per
# login: 200 clients with tokens of their own logging in at once cost at
# most two writes of the file (each a whole file and its fsyncs, in the
# hub's loop). slopnctl token list has every last use at once; the file has
# them within the save period, after a failed save once the file can be
# written again, and after a clean stop.
. "$(dirname "$0")/lib.sh"
command -v jq > /dev/null || skip "needs jq"
command -v python3 > /dev/null || skip "needs python3"
: "${SLOPN_FLOOD:?set SLOPN_FLOOD to the slopn-flood test tool}"
N=200
topo 2 # c1: the N clients (slopn-flood), c2: a real client pinging meanwhile
st=$TMP/hub-state
mkdir -p "$st"
# Tokens t1..tN with secrets k1..kN, and "edit" and "late" (secrets edit1,
# late1: the flood's only connection logs in with PREFIX1).
python3 - "$st/tokens.json" "$N" <<'PY'
import hashlib, json, sys, time
names = [("t%d" % i, "k%d" % i) for i in range(1, int(sys.argv[2]) + 1)]
names += [("edit", "edit1"), ("late", "late1")]
toks = [{"name": n, "sha256": hashlib.sha256(k.encode()).hexdigest(), "created": int(time.time()) - 3600}
        for n, k in names]
with open(sys.argv[1], "w") as f:
    json.dump({"version": 1, "tokens": toks}, f)
PY
chmod 600 "$st/tokens.json"
# Last uses saved 3 s after the first unsaved one (a minute outside tests).
export SLOPND_TOKENS_SAVE_SECONDS=3
start_hub
start_client c2
wait_connected c2 10.100.0.2
# 20 source addresses, 10 clients each: under the per-address limit of
# connections waiting to log in.
flood_from 100 119

# used_in_file PREFIX: how many tokens whose name starts with PREFIX have a
# last use in tokens.json; used_in_list the same from slopnctl token list.
used_in_file() { jq --arg p "$1" '[.tokens[] | select((.name | startswith($p)) and .last_used != null)] | length' "$st/tokens.json"; }
used_in_list() { ctl --json token list | jq --arg p "$1" '[.tokens[] | select((.name | startswith($p)) and .last_used != null)] | length'; }
file_has() { [ "$(used_in_file "$1")" = "$2" ]; }
list_has() { [ "$(used_in_list "$1")" = "$2" ]; }
logged_in() { [ "$(ctl --json sessions list | jq '[.sessions[] | select(.token | startswith("t"))] | length')" = "$N" ]; }
expect_eq "last uses of t* in tokens.json before any login" "$(used_in_file t)" 0

# The count of saves of tokens.json, from before the first login.
python3 "$TESTS_DIR/netns/renames.py" "$st" tokens.json > "$TMP/renames.out" &
WATCH=$!
PIDS+=("$WATCH")
watching() { grep -q watching "$TMP/renames.out"; }
wait_until 5 "the watch on $st" watching

# c2's ping runs until the logins are done and saved (stopped by SIGINT:
# ip netns exec execs, so $! is ping itself), however long they take.
ip netns exec "$RUN-c2" ping -i 0.05 10.100.0.1 > "$TMP/ping.out" 2>&1 &
PING=$!
PIDS+=("$PING")
nsx c1 "$SLOPN_FLOOD" --server 192.0.2.1:4242 "${from[@]}" --count "$N" --total "$N" \
	--token-prefix k --duration 20 > "$TMP/flood.json" &
PIDS+=($!)
wait_until 15 "$N flood clients logged in" logged_in
ok "$N clients with tokens of their own logged in"
wait_until 1 "every last use in token list" list_has t "$N"
ok "slopnctl token list shows the $N last uses at once"
wait_until 10 "every last use in tokens.json" file_has t "$N"
kill -INT "$PING"
wait "$PING"
forget "$PING"
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$TMP/ping.out")
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMP/ping.out")
[ -n "$sent" ] && [ -n "$got" ] || fail "no summary from c2's ping: $(tail -n 3 "$TMP/ping.out")"
[ "$sent" -ge 20 ] || fail "c2's ping sent only $sent packets during the logins"
# All answered but the one in flight, perhaps, when the ping was stopped.
[ "$got" -ge $((sent - 1)) ] ||
	fail "c2's ping through the tunnel lost $((sent - got)) of $sent packets during the logins: $(tail -n 3 "$TMP/ping.out")"
# No save left to come: nothing was used since the one that wrote them all.
nap 4
kill "$WATCH"
wait "$WATCH"
forget "$WATCH"
saves=$(tail -n 1 "$TMP/renames.out")
[ "$saves" -ge 1 ] && [ "$saves" -le 2 ] || fail "$N logins wrote tokens.json $saves times, not once or twice"
ok "$N logins: tokens.json written $saves times, every last use in it; c2's ping meanwhile: $got of $sent answered"

# tokens.json edited by hand: the hub does not write over it; it says so
# in its status and metrics, and saves once the file is read again.
unsaved_tokens() { ctl --json status | jq -e '.save_errors | has("tokens.json")' > /dev/null; }
saved_tokens() { ! unsaved_tokens; }
jq . "$st/tokens.json" > "$st/tokens.json.new" && mv "$st/tokens.json.new" "$st/tokens.json"
nsx c1 "$SLOPN_FLOOD" --server 192.0.2.1:4242 --from 192.0.2.100 --total 1 --token-prefix edit \
	--duration 20 > "$TMP/flood-edit.json" &
PIDS+=($!)
wait_until 5 "edit's last use in token list" list_has edit 1
wait_until 8 "tokens.json named unsaved" unsaved_tokens
expect_eq "the failing-save metric for tokens.json" \
	"$(metric 'slopn_state_save_failing{file="tokens.json"}')" 1
ctl status | grep -q '^unsaved:   tokens\.json: .' ||
	fail "slopnctl status does not name tokens.json unsaved: $(ctl status)"
expect_eq "edit's last use in the file edited by hand" "$(used_in_file edit)" 0
kill -HUP "$(pid_of hub)"
wait_until 8 "tokens.json saved after the reload" saved_tokens
expect_eq "edit's last use in tokens.json after the reload" "$(used_in_file edit)" 1
expect_eq "last uses of t* in tokens.json after the reload" "$(used_in_file t)" "$N"
ok "tokens.json edited by hand: not written over, named unsaved, saved after a reload"

# A last use not saved yet when the hub stops cleanly: written at exit.
nsx c1 "$SLOPN_FLOOD" --server 192.0.2.1:4242 --from 192.0.2.101 --total 1 --token-prefix late \
	--duration 20 > "$TMP/flood-late.json" &
PIDS+=($!)
wait_until 5 "late's last use in token list" list_has late 1
stop hub
expect_eq "late's last use in tokens.json after a clean stop" "$(used_in_file late)" 1
ok "a clean stop saves the last use it had not saved yet"
