#!/bin/bash
# The token store, end to end: slopnctl token add -> a client logs in with
# the token and with the invite -> sessions list shows it under its name
# with counters that grow -> kick -> token remove --kick -> that token is
# refused. Plus fixed VIPs, expiry, a full disk, a corrupt file at start,
# a hand edit picked up by SIGHUP, and a token's limit of live sessions.
unset SLOPNCTL_PLAIN # slopnctl is under test: the sanitized one, if built so
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 3
# No shared --token: only the store lets clients in.
start hub server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --control "$TMP/hub.sock"
wait_hub
expect_eq "tokens at the start" "$(ctl --json token list | jq '.tokens | length')" 0
start_monitor

"$SLOPNCTL" --socket "$TMP/hub.sock" token add alice > "$TMP/add.txt" &
addpid=$!
wait $addpid || fail "token add failed"
secret=$(sed -n 's/^  token: *//p' "$TMP/add.txt")
invite=$(sed -n 's/^  invite: *//p' "$TMP/add.txt")
pin=$(ip netns exec "$RUN-hub" "$SLOPND" pin --state-dir "$TMP/hub-state")
[[ $secret =~ ^[0-9a-f]{40}$ ]] || fail "token is not 40 hex digits: '$secret'"
expect_eq "invite" "$invite" "slopn://$secret@192.0.2.1:4242?pin=$pin"
grep -q "$secret" "$TMP/hub-state/tokens.json" && fail "tokens.json holds the secret itself"
expect_eq "tokens.json mode" "$(stat -c %a "$TMP/hub-state/tokens.json")" 600
expect_eq "tokens.json hash" "$(jq -r '.tokens[0].sha256' "$TMP/hub-state/tokens.json")" \
	"$(printf %s "$secret" | sha256sum | cut -d' ' -f1)"
ok "token add: 160-bit secret shown once, stored as its SHA-256 only"
# Who changed something is logged with the caller's credentials
# (SO_PEERCRED): the log is the only place that keeps it.
grep -q "control: token.add by uid 0 pid $addpid: done\$" "$TMP/hub.log" ||
	fail "no 'control: token.add by uid 0 pid $addpid: done' in the hub's log"
ok "token add logged with uid, pid and outcome"

TOKEN=$secret start_client c1
wait_connected c1 10.100.0.2
start c2 client "$invite"
wait_connected c2 10.100.0.3
ok "clients log in with the token, and with the invite alone"
grep -q "pin .* (not checked" "$TMP/c2.log" && fail "the invite's pin was not checked"
grep -q "pin .* (not checked" "$TMP/c1.log" || fail "c1 (no pin) did not log the hub's pin"
start c3:badpin client "${invite%?pin=*}?pin=sha256:$(printf '0%.0s' {1..64})" --tun bad0
badpin() { [[ "$(client_status c3:badpin last_error)" == "hub key does not match --pin: the hub at 192.0.2.1:4242 has $pin" ]]; }
wait_until 10 "c3 refusing the hub's key" badpin
expect_eq "c3 connected" "$(client_status c3:badpin connected)" false
expect_eq "sessions with c3 about" "$(ctl --json status | jq .sessions)" 2
stop c3:badpin
ok "the invite pins the hub: a wrong pin is refused"

expect_eq "sessions' token names" "$(ctl --json sessions list | jq -c '[.sessions[].token]')" '["alice","alice"]'
ctl sessions list | grep -Eq "^1 +alice +10\.100\.0\.2 " || fail "no row for alice: $(ctl sessions list)"
before=$(ctl --json sessions list | jq '.sessions[] | select(.vip == "10.100.0.2") | .rx_pkts')
nsx c1 ping -c 5 -i 0.1 -W 2 10.100.0.3 >/dev/null || fail "c1 cannot reach c2"
after=$(ctl --json sessions list | jq '.sessions[] | select(.vip == "10.100.0.2") | .rx_pkts')
expect_eq "c1's rx_pkts grew by" "$((after - before))" 5
expect_eq "token list: alice's live sessions" "$(ctl --json token list | jq '.tokens[] | select(.name == "alice") | .live')" 2
[ "$(ctl --json token list | jq '.tokens[0].last_used')" -ge "$(jq '.tokens[0].created' "$TMP/hub-state/tokens.json")" ] ||
	fail "last_used not set"
# alice was added without --max-sessions: the hub's default limit, 8.
ctl token list | grep -Eq "^alice +[0-9-]+ [0-9:]+ +never +- +- +now +2/8 +2 +[0-9.]+ K?i?B +[0-9.]+ K?i?B$" || fail "token list: $(ctl token list)"
ctl --json token list | jq -e '.tokens[] | has("token") or has("sha256") | not' >/dev/null || fail "token list leaks secrets"
ok "sessions list and token list show alice"

# Kick by token name: both sessions go at once, the clients see the reason.
ctl sessions kick --token alice --reason "rotate" | grep -q "kicked 2 session" || fail "kick --token"
expect_eq "sessions after the kick" "$(ctl --json sessions list | jq '.sessions | length')" 0
wait_until 1 "c1's status to give the kick" client_down c1 "kicked: rotate \\(code 4\\)$" 4
ok "kick --token ends both sessions; the client logs the reason within 1 s"
# They come back: the token is still valid.
two_sessions() { [ "$(ctl --json sessions list | jq '.sessions | length')" = 2 ]; }
wait_until 10 "the clients back after the kick" two_sessions

# Remove with --kick: sessions end, and the token is refused from then on.
ctl token remove alice --kick | grep -q "token 'alice' removed; 2 sessions kicked" || fail "token remove --kick"
expect_eq "sessions after remove --kick" "$(ctl --json sessions list | jq '.sessions | length')" 0
wait "$(pid_of c1)"; rc=$?
expect_eq "c1's exit status once its token is gone" "$rc" 3
grep -q "Invalid authentication token" "$TMP/c1.log" || fail "c1 did not log the refusal"
wait "$(pid_of c2)"; expect_eq "c2's exit status" "$?" 3
expect_eq "tokens.json after remove" "$(jq '.tokens | length' "$TMP/hub-state/tokens.json")" 0
ok "token remove --kick: sessions end, the token is refused"
for ev in token.added session.down auth.fail; do
	wait_event "$ev"
done
# The event counts the sessions the removal ended, as the answer did.
wait_event token.removed '.params.name == "alice" and .params.kicked == 2'
ok "events: token.added, token.removed (2 kicked), session.down, auth.fail"

# Errors name the problem.
ctl token add 'bad name' 2> "$TMP/err.txt"; expect_eq "bad name exits" "$?" 2
grep -q "^slopnctl: token add: NAME 'bad name': expected 1-64 characters" "$TMP/err.txt" || fail "bad name: $(cat "$TMP/err.txt")"
# Past the daemon's limit (100 years): a usage error, in command-line words.
ctl token add x --expires 36600d 2> "$TMP/err.txt"; expect_eq "--expires past 100 years exits" "$?" 2
grep -q "^slopnctl: token add: --expires '36600d': expected a duration such as 30d, 12h, 90m or 1w2d, up to 100 years (36500d)" "$TMP/err.txt" ||
	fail "daemon-refused --expires: $(cat "$TMP/err.txt")"
expect_eq "lines for that usage error" "$(wc -l < "$TMP/err.txt")" 2
ctl token add bob --vip 10.100.0.77 >/dev/null || fail "token add --vip"
ctl token add bob 2> "$TMP/err.txt"; expect_eq "duplicate name exits" "$?" 1
grep -q "a token named 'bob' exists already" "$TMP/err.txt" || fail "duplicate: $(cat "$TMP/err.txt")"
ctl token add carl --vip 10.100.0.77 2> "$TMP/err.txt"; expect_eq "taken VIP exits" "$?" 1
expect_eq "taken VIP: what to do" "$(cat "$TMP/err.txt")" \
	"slopnctl: VIP 10.100.0.77 is the fixed VIP of token 'bob' (remove that token first, or pick another)"
ctl token add carl --vip 10.100.1.5 2> "$TMP/err.txt"; expect_eq "VIP outside exits" "$?" 1
grep -q "VIP 10.100.1.5 is not a client address: it is outside the subnet 10.100.0.0/24; clients take 10.100.0.2 to 10.100.0.254" \
	"$TMP/err.txt" || fail "outside VIP: $(cat "$TMP/err.txt")"
ctl token add carl --vip 10.100.0.1 2> "$TMP/err.txt"; expect_eq "the hub's VIP exits" "$?" 1
grep -q "VIP 10.100.0.1 is not a client address: it is the hub's own address in the subnet 10.100.0.0/24; clients take 10.100.0.2 to 10.100.0.254" \
	"$TMP/err.txt" || fail "the hub's VIP: $(cat "$TMP/err.txt")"
ctl token add carl --vip 10.100.0.255 2> "$TMP/err.txt"; expect_eq "the broadcast VIP exits" "$?" 1
grep -q "VIP 10.100.0.255 is not a client address: it is the broadcast address of the subnet 10.100.0.0/24" \
	"$TMP/err.txt" || fail "the broadcast VIP: $(cat "$TMP/err.txt")"
ctl token remove nobody 2> "$TMP/err.txt"; expect_eq "unknown token exits" "$?" 1
grep -q "no token named 'nobody'" "$TMP/err.txt" || fail "unknown token: $(cat "$TMP/err.txt")"
# A name longer than any token's (64 characters) is no token's, though
# its first 64 are one's: it is not cut to that name.
long=$(printf 'l%.0s' {1..64})
ctl token add "$long" > /dev/null || fail "token add with a 64-character name"
# Straight to the socket: slopnctl refuses such a name itself.
python3 - "$TMP/hub.sock" "${long}x" > "$TMP/raw.txt" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "token.remove", "params": {"name": sys.argv[2]}}) + "\n")
f.flush()
r = json.loads(f.readline())
print(r["error"]["code"] if "error" in r else "removed")
PY
expect_eq "token.remove of a 65-character name" "$(cat "$TMP/raw.txt")" 1002
ctl --json token list | jq -e --arg n "$long" 'any(.tokens[]; .name == $n)' > /dev/null ||
	fail "token remove ${long}x removed $long"
ctl token remove "$long" > /dev/null || fail "token remove $long"
ctl token add x --expires soon 2>/dev/null; expect_eq "bad --expires exits" "$?" 2
ok "errors: bad name, duplicate, taken and outside VIPs, unknown token, bad duration"

# A fixed VIP (a reconnect of the same client takes it over at once).
bob=$(ctl --json token add bob2 --vip 10.100.0.50 | jq -r .token)
TOKEN=$bob start_client c3
wait_connected c3 10.100.0.50
ok "a fixed VIP"
# A second machine with that token (its own client id) while the first is
# alive, idle for more than 3 s: the first keeps the VIP and its session,
# the second gets an address of the pool. They took the VIP from each
# other every few seconds, for ever.
sid=$(ctl --json sessions list | jq '.sessions[] | select(.vip == "10.100.0.50") | .id')
nap 4
TOKEN=$bob start_client c2:fx --tun fx0
wait_until 10 "c2:fx connected" client_connected c2:fx
fxvip=$(client_status c2:fx vip)
[[ $fxvip =~ ^10\.100\.0\.[0-9]+$ && $fxvip != 10.100.0.50 ]] || fail "c2:fx's VIP: '$fxvip'"
# bob2's sessions: [how many, the id on .50, the id on c2:fx's VIP].
bob2_ids() {
	ctl --json sessions list | jq -c --arg v "$fxvip" '[.sessions[] | select(.token == "bob2")] |
		[length, (.[] | select(.vip == "10.100.0.50") | .id), (.[] | select(.vip == $v) | .id)]'
}
fxid=$(ctl --json sessions list | jq --arg v "$fxvip" '.sessions[] | select(.vip == $v) | .id')
since3=$(client_status c3 since) sincefx=$(client_status c2:fx since)
for ((i = 0; i < 16; i++)); do
	nap 0.5
	expect_eq "bob2's sessions" "$(bob2_ids)" "[2,$sid,$fxid]"
	client_has_vip c3 10.100.0.50 && client_connected c3 || fail "c3 lost its fixed VIP: $(client_status c3 vip)"
	client_has_vip c2:fx "$fxvip" && client_connected c2:fx || fail "c2:fx lost $fxvip: $(client_status c2:fx vip)"
done
expect_eq "c3's login" "$(client_status c3 since)" "$since3"
expect_eq "c2:fx's login" "$(client_status c2:fx since)" "$sincefx"
stop c2:fx
ok "a second client of a fixed-VIP token gets a pool address; neither replaces the other"
# A token removed and added again under its name is another: its totals
# start from zero at once, and the removed one's session left up (c3's)
# counts towards neither. The old totals came back until the next save
# (a second later), and for as long as c3's session lived.
ctl token remove bob2 > /dev/null || fail "token remove bob2"
bob=$(ctl --json token add bob2 --max-sessions 1 | jq -r .token) || fail "token add bob2 again"
bob2_totals() { ctl --json token list | jq -c '.tokens[] | select(.name == "bob2") | [.live, .sessions, .rx_pkts, .tx_pkts]'; }
expect_eq "bob2 added again: live, sessions, rx, tx" "$(bob2_totals)" "[0,0,0,0]"
c3_rx() { ctl --json sessions list | jq '.sessions[] | select(.vip == "10.100.0.50") | .rx_pkts'; }
before=$(c3_rx)
nsx c3 ping -c 3 -i 0.1 -W 2 10.100.0.1 > /dev/null || fail "c3 cannot reach the hub once its token is gone"
expect_eq "c3's rx_pkts grew by" "$(($(c3_rx) - before))" 3
no_bob2_saved() { jq -e 'all(.tokens[]; .name != "bob2")' "$TMP/hub-state/traffic.json" > /dev/null; }
wait_until 3 "bob2's totals gone from traffic.json" no_bob2_saved
expect_eq "bob2 after the save: live, sessions, rx, tx" "$(bob2_totals)" "[0,0,0,0]"
# Nor does that session let its client past the new token's limit (1,
# taken by c2:fy): c3 back with the new secret (the same client id, its
# old session still up) is refused, not taken for its own reconnect.
TOKEN=$bob start_client c2:fy --tun fy0 --state-dir "$TMP/fy-state"
wait_until 10 "c2:fy connected" client_connected c2:fy
limited=$(ctl --json status | jq .logins_refused.token_limit)
kill9 c3
TOKEN=$bob start_client c3
refused_more() { [ "$(ctl --json status | jq .logins_refused.token_limit)" -gt "$limited" ]; }
wait_until 10 "c3 refused for bob2's limit" refused_more
expect_eq "bob2's live sessions" "$(ctl --json token list | jq '.tokens[] | select(.name == "bob2") | .live')" 1
stop c3
stop c2:fy
ok "a token added again under a removed one's name starts from zero; the old session counts on in sessions list only, and lets none past the new limit"
# Expiry: a token that expires in 8 s works; at its expiry its session
# ends (as a removed token's does), and the next login is refused. (Whole
# seconds: it lives 7 to 8 s, time for a client under the sanitizers to
# log in; the monitor sees the login however short the session.)
# A token that expires later, added first: the hub's one timer is set for
# the expiry that comes first, not for the last one.
ctl token add later --expires 1h > /dev/null || fail "token add later --expires 1h"
carol=$(ctl --json token add carol --expires 8s | jq -r .token)
dead=()
for i in 1 2 3 4; do dead+=("$(ctl --json token add "dead$i" --expires 8s | jq -r .token)"); done
expect_eq "carol expires" "$(ctl --json token list | jq '.tokens[] | select(.name=="carol") | .expires - .created')" 8
TOKEN=$carol start_client c1:late --tun late0
wait_until 7 "carol's session" has_event session.up '.params.token == "carol"'
ok "a token about to expire logs in"
wait_until 10 "carol's session ended at her token's expiry" has_event session.down '.params.reason == "token expired"'
expect_eq "carol's sessions after her token expired" \
	"$(ctl --json sessions list | jq '[.sessions[] | select(.token == "carol")] | length')" 0
timeout 10 tail --pid="$(pid_of c1:late)" -f /dev/null || fail "the client of an expired token still runs"
wait "$(pid_of c1:late)"; expect_eq "expired token: exit status" "$?" 3
grep -q "Authentication token expired" "$TMP/c1-late.log" || fail "no expiry message: $(cat "$TMP/c1-late.log")"
ok "an expired token ends its session and is refused with its reason"
# Expired tokens ban no one (real tokens, no guesses; a hub's clock set a
# year ahead expires many at once): carol's refusal and four more from
# c1's address, five tokens, where five unknown ones would ban it.
# The four start together, then are waited for together.
for i in 1 2 3 4; do
	TOKEN=${dead[$((i - 1))]} start_client "c1:dead$i" --tun "dead$i"
done
for i in 1 2 3 4; do
	timeout 10 tail --pid="$(pid_of "c1:dead$i")" -f /dev/null || fail "the client of expired token dead$i still runs"
done
expect_eq "auth.fail events for expired tokens" \
	"$(jq -s '[.[] | select(.method == "auth.fail" and .params.reason == "token expired")] | length' "$TMP/events.txt")" 5
not_banned 192.0.2.11 || fail "five expired tokens banned c1's address: $(ctl --json bans list)"
ok "expired tokens count towards no ban"

# A full disk: token add fails with a clear error, nothing changes, the
# file on disk is intact. The state directory moves onto a tiny tmpfs.
sum_before=$(sha256sum < "$TMP/hub-state/tokens.json")
mkdir "$TMP/full"
mount -t tmpfs -o size=16k,mode=0700 tmpfs "$TMP/full" || fail "cannot mount a tmpfs"
MOUNTS+=("$TMP/full")
cp -a "$TMP/hub-state/"{hub.key,hub.crt,tokens.json} "$TMP/full/" # not the other state: it would fill the disk first
dd if=/dev/zero of="$TMP/full/filler" bs=1k count=64 2>/dev/null
kill "$(pid_of hub)"; wait "$(pid_of hub)" 2>/dev/null
start hub:full server --listen 192.0.2.1:4242 --state-dir "$TMP/full" --control "$TMP/hub.sock"
wait_hub
n_before=$(ctl --json token list | jq '.tokens | length')
ctl token add dave 2> "$TMP/err.txt"; expect_eq "token add on a full disk exits" "$?" 1
grep -q "the token store could not be written (cannot write .*No space left on device): nothing changed" "$TMP/err.txt" || fail "full disk: $(cat "$TMP/err.txt")"
expect_eq "tokens after the failed add" "$(ctl --json token list | jq '.tokens | length')" "$n_before"
expect_eq "tokens.json after the failed add" "$(sha256sum < "$TMP/full/tokens.json")" "$sum_before"
ls "$TMP/full" | grep -q 'tokens.json.' && fail "a temporary file was left behind"
ok "full disk: clear error, store and file unchanged"
kill "$(pid_of hub:full)"; wait "$(pid_of hub:full)" 2>/dev/null

# bad_store NAME TEXT WHAT PATTERN: a hub started on a tokens.json of TEXT
# (WHAT it is) exits non-zero, its log matching PATTERN.
bad_store() {
	local rc
	printf '%s' "$2" > "$TMP/hub-state/tokens.json"
	start "hub:$1" server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --control "$TMP/bad.sock"
	wait "$(pid_of "hub:$1")"; rc=$?
	[ $rc -ne 0 ] || fail "hub started with $3"
	grep -q "$4" "$TMP/hub-$1.log" || fail "$3: $(cat "$TMP/hub-$1.log")"
}
# A corrupt file stops the hub at start, naming the file and the problem.
bad_store bad '{"version":1,"tokens":[{"name":"x"' "a corrupt tokens.json" \
	"token store $TMP/hub-state/tokens.json is damaged: line 1 column [0-9]*: .* (repair it, or restore a backup; moved away, the hub starts with no tokens and refuses every client with a token of its own for good (exit 3) until each is given a new token)$"
ok "a corrupt tokens.json stops the hub with file and position"
# One of a newer slopnd (a rollback) is not damaged: said so, with what to do.
bad_store newer '{"version":2,"tokens":[]}' "a tokens.json of a newer format" \
	"token store $TMP/hub-state/tokens.json was written by a newer slopnd: version 2: expected 1 (a file of a newer slopnd?). Start that slopnd again, or put back a backup from before it"
ok "a tokens.json of a newer slopnd stops the hub, said as such"

# A hand-written file, then SIGHUP: the new token is honoured, sessions stay.
hash=$(printf %s "hand-made-secret" | sha256sum | cut -d' ' -f1)
echo '{"version":1,"tokens":[]}' > "$TMP/hub-state/tokens.json"
SLOPND_TOKENS_SAVE_SECONDS=1 start hub:hup server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --control "$TMP/hub.sock" --tun hup0
wait_hub
cat > "$TMP/hub-state/tokens.json" <<JSON
{"version": 1, "tokens": [{"name": "erin", "sha256": "$hash", "created": 1700000000}]}
JSON
kill -HUP "$(pid_of hub:hup)"
has_erin() { ctl --json token list | jq -e 'any(.tokens[]; .name == "erin")' > /dev/null; }
wait_until 5 "erin in the hub's tokens after SIGHUP" has_erin
TOKEN=hand-made-secret start_client c2:erin --tun erin0
wait_connected c2:erin 10.100.0.2
ok "SIGHUP picks up a token written into tokens.json by hand"

# An edit by hand not loaded yet is not written over: token add refuses,
# saying what to do, and a first login (whose time the hub records) leaves
# the file as edited. After SIGHUP the edit is in and changes go on.
hank=$(ctl --json token add hank | jq -r .token)
fred=$(printf %s "fred-secret" | sha256sum | cut -d' ' -f1)
jq --arg h "$fred" '.tokens += [{"name": "fred", "sha256": $h, "created": 1700000000}]' \
	"$TMP/hub-state/tokens.json" > "$TMP/edit.json"
mv "$TMP/edit.json" "$TMP/hub-state/tokens.json"   # as an editor saves
cp "$TMP/hub-state/tokens.json" "$TMP/edited.json"
ctl token add gina 2> "$TMP/err.txt"; expect_eq "token add over an edit not loaded exits" "$?" 1
grep -q "tokens.json changed on disk since the hub read it: not written over; reload the hub" "$TMP/err.txt" ||
	fail "token add over an edit: $(cat "$TMP/err.txt")"
grep -q "control: token.add by uid 0 pid [0-9]*: refused: .*tokens.json changed on disk since the hub read it" \
	"$TMP/hub-hup.log" || fail "the refused token add is not logged with its outcome"
# Not a failed write: no advice about space or permissions.
grep -q "free some space" "$TMP/err.txt" && fail "token add over an edit, a failed write's advice: $(cat "$TMP/err.txt")"
TOKEN=$hank start_client c3:hank --tun hank0
wait_until 10 "hank connected" client_connected c3:hank
tokens_unsaved() { ctl --json status | jq -e '.save_errors["tokens.json"] | test("changed on disk")' > /dev/null; }
wait_until 3 "hank's last use named unsaved: the file changed on disk" tokens_unsaved
cmp -s "$TMP/edited.json" "$TMP/hub-state/tokens.json" || fail "the hand edit was written over"
kill -HUP "$(pid_of hub:hup)"
has_fred() { ctl --json token list | jq -e 'any(.tokens[]; .name == "fred")' > /dev/null; }
wait_until 5 "fred in the hub's tokens after SIGHUP" has_fred
ctl token add gina > /dev/null || fail "token add after the reload"
expect_eq "tokens.json after the reload and an add" \
	"$(jq -c '[.tokens[].name] | sort' "$TMP/hub-state/tokens.json")" '["erin","fred","gina","hank"]'
ok "an edit by hand is not written over before SIGHUP loads it"

# tokens.json moved aside (an editor's way, or a mount not up) at a SIGHUP:
# read as empty, it took every token and, with them, their leases. The
# tokens in memory stay, status says what the reload kept back, and the
# file back and reloaded applies as usual.
reloads() { ctl --json status | jq .reload.count; }
reloaded_since() { [ "$(reloads)" -gt "$1" ]; }
names() { ctl --json token list | jq -c '[.tokens[].name] | sort'; }
n=$(reloads)
mv "$TMP/hub-state/tokens.json" "$TMP/away.json"
kill -HUP "$(pid_of hub:hup)"
wait_until 5 "the reload with tokens.json gone" reloaded_since "$n"
expect_eq "tokens after a reload with tokens.json gone" "$(names)" '["erin","fred","gina","hank"]'
ctl --json status | jq -r .reload.error | grep -q "tokens.json is not there any more: keeping the 4 tokens in memory" ||
	fail "status does not say what the reload kept back: $(ctl --json status | jq -c .reload)"
ctl status | grep -q "^reload:    failed: .*tokens.json is not there any more" || fail "slopnctl status: $(ctl status)"
wait_until 5 "erin's session still up" client_connected c2:erin
mv "$TMP/away.json" "$TMP/hub-state/tokens.json"
n=$(reloads)
kill -HUP "$(pid_of hub:hup)"
wait_until 5 "the reload with tokens.json back" reloaded_since "$n"
expect_eq "the reload's error with tokens.json back" "$(ctl --json status | jq .reload.error)" null
expect_eq "tokens after it" "$(names)" '["erin","fred","gina","hank"]'
ok "tokens.json gone at a SIGHUP: the tokens stay, status says why; back, it reloads"

# A token for at most 2 live sessions: a third client is refused with the
# reason and retries; the same client back after a crash replaces its own
# session; once one ends, the third gets in.
out=$(ctl --json token add duo --max-sessions 2) || fail "token add --max-sessions"
duo=$(jq -r .token <<< "$out")
expect_eq "token add: max_sessions" "$(jq .max_sessions <<< "$out")" 2
grep -q "token 'duo' added, at most 2 sessions at once" "$TMP/hub-hup.log" || fail "the hub's log of duo's limit"
expect_eq "tokens.json: duo's max_sessions" \
	"$(jq '.tokens[] | select(.name == "duo") | .max_sessions' "$TMP/hub-state/tokens.json")" 2
expect_eq "tokens.json: erin has no limit" \
	"$(jq '.tokens[] | select(.name == "erin") | has("max_sessions")' "$TMP/hub-state/tokens.json")" false
TOKEN=$duo start_client c1:d1 --tun d1
TOKEN=$duo start_client c3:d2 --tun d2
wait_until 10 "d1 connected" client_connected c1:d1
wait_until 10 "d2 connected" client_connected c3:d2
duo_ids() { ctl --json sessions list | jq -c '[.sessions[] | select(.token == "duo") | .id] | sort'; }
ids=$(duo_ids)
TOKEN=$duo start_client c2:d3 --tun d3
d3_refused() { [[ $(client_status c2:d3 last_error) == *"Token 'duo' is in use by 2 sessions, its limit"*"(error code 5, token's session limit); retrying in"* ]]; }
wait_until 5 "d3 refused for duo's limit" d3_refused
expect_eq "d3: connected" "$(client_status c2:d3 connected)" false
[ "$(ctl --json status | jq .logins_refused.token_limit)" -ge 1 ] || fail "refusal not counted: $(ctl --json status | jq -c .logins_refused)"
expect_eq "duo's sessions with d3 refused" "$(duo_ids)" "$ids"
expect_eq "token list: duo's live sessions and limit" \
	"$(ctl --json token list | jq -c '.tokens[] | select(.name == "duo") | [.live, .max_sessions]')" "[2,2]"
ctl token list | grep -Eq "^duo .* now +2/2 +" || fail "token list row: $(ctl token list)"
ok "a token at its limit of 2 sessions refuses a third client, which says why"

kill9 c1:d1
TOKEN=$duo start_client c1:d1 --tun d1
wait_until 10 "d1 back after kill -9" client_connected c1:d1
[ "$(duo_ids)" != "$ids" ] || fail "d1's stale session was not replaced: $(duo_ids)"
expect_eq "duo's sessions after d1 came back" "$(duo_ids | jq length)" 2
expect_eq "d3 still out" "$(client_status c2:d3 connected)" false
ok "the same client back after a crash replaces its session at the limit"

stop c3:d2
wait_until 10 "d3 in once d2 left" client_connected c2:d3
expect_eq "duo's sessions" "$(duo_ids | jq length)" 2
ctl token add trio --max-sessions 0 2> "$TMP/err.txt"; expect_eq "--max-sessions 0 exits" "$?" 2
grep -q "^slopnctl: token add: --max-sessions '0': expected a number of sessions, 1-65535" "$TMP/err.txt" ||
	fail "--max-sessions 0: $(cat "$TMP/err.txt")"
ok "a session ending lets the refused client in; a limit of 0 is a usage error"

# token set: the limit and the expiry change without a new secret.
ctl token set duo --max-sessions 3 | grep -qx "token 'duo': expires never, at most 3 live sessions" ||
	fail "token set --max-sessions 3"
TOKEN=$duo start_client c3:d2 --tun d2
wait_until 10 "d2 in under the raised limit" client_connected c3:d2
ctl token set duo --max-sessions 1 > /dev/null || fail "token set --max-sessions 1"
expect_eq "token list after lowering the limit under the live sessions" \
	"$(ctl --json token list | jq -c '.tokens[] | select(.name == "duo") | [.live, .max_sessions]')" "[3,1]"
# A login refused under a lowered limit says the sessions there are, and
# the limit: not the limit as if it were their number.
TOKEN=$duo start_client c1:d4 --tun d4
d4_refused() { [[ $(client_status c1:d4 last_error) == *"Token 'duo' is in use by 3 sessions, over its limit of 1: "* ]]; }
wait_until 5 "d4 refused, the 3 sessions and the limit of 1 said" d4_refused
stop c1:d4
ok "token set: a raised limit lets one more in; a lowered one leaves live sessions be"
# A limit of 1: one session, not "1 sessions".
uno=$(ctl --json token add uno --max-sessions 1 | jq -r .token) || fail "token add uno"
TOKEN=$uno start_client c1:u1 --tun u1
wait_until 10 "u1 connected" client_connected c1:u1
TOKEN=$uno start_client c2:u2 --tun u2
u2_refused() { [[ $(client_status c2:u2 last_error) == *"Token 'uno' is in use by 1 session, its limit: "* ]]; }
wait_until 5 "u2 refused, its one session said" u2_refused
stop c2:u2
stop c1:u1
ctl token remove uno > /dev/null || fail "token remove uno"
ok "a token at its limit of 1 refuses a second client: 'in use by 1 session'"
# Each changed alone: --max-sessions keeps the expiry, --expires the limit.
ctl token add solo --expires 1h --max-sessions 4 > /dev/null || fail "token add solo"
solo() { ctl --json token list | jq -c '.tokens[] | select(.name == "solo") | [.expires, .max_sessions]'; }
solo_exp=$(solo | jq '.[0]')
[ "$solo_exp" -gt 0 ] || fail "solo's expiry: $(solo)"
ctl token set solo --max-sessions 5 > /dev/null || fail "token set solo --max-sessions 5"
expect_eq "solo after token set --max-sessions 5" "$(solo)" "[$solo_exp,5]"
ctl token set solo --expires 2h > /dev/null || fail "token set solo --expires 2h"
expect_eq "solo's limit after token set --expires 2h" "$(solo | jq '.[1]')" 5
ctl token remove solo > /dev/null || fail "token remove solo"
ok "token set: --max-sessions keeps the expiry, --expires keeps the limit"
# A VIP a live session holds (one of duo's, a token without a fixed VIP)
# is no token's to fix.
held=$(ctl --json sessions list | jq -r '[.sessions[] | select(.token == "duo")][0] | "\(.vip) \(.id)"')
ctl token add taken --vip "${held% *}" 2> "$TMP/err.txt"; expect_eq "token add --vip of a live session's VIP exits" "$?" 1
grep -q "VIP ${held% *} is in use by session ${held#* } " "$TMP/err.txt" || fail "held VIP: $(cat "$TMP/err.txt")"
ok "token add --vip of a VIP in use is refused, naming the session"
ctl token set duo --max-sessions none --expires 2s > /dev/null || fail "token set --expires 2s"
expect_eq "tokens.json: duo after set" \
	"$(jq -c '.tokens[] | select(.name == "duo") | [has("max_sessions"), ((.expires - now) | . > 0 and . <= 2)]' "$TMP/hub-state/tokens.json")" "[false,true]"
no_duo() { [ "$(duo_ids | jq length)" = 0 ]; }
wait_until 5 "duo's sessions ended at its new expiry" no_duo
ok "token set --expires: the sessions end at the new expiry"
ctl token set duo 2> "$TMP/err.txt"; expect_eq "token set without a change exits" "$?" 2
grep -q "nothing to change: give --expires, --max-sessions or both" "$TMP/err.txt" || fail "set: $(cat "$TMP/err.txt")"
ctl token set nobody --max-sessions 2 2> "$TMP/err.txt"; expect_eq "token set of an unknown token exits" "$?" 1
grep -q "no token named 'nobody'" "$TMP/err.txt" || fail "set unknown: $(cat "$TMP/err.txt")"
ok "token set: errors"
# What slopnctl would not send, straight to the socket: each refused with
# the parameter named, the token as it was.
duo_expires=$(ctl --json token list | jq '.tokens[] | select(.name == "duo") | .expires')
python3 - "$TMP/hub.sock" > "$TMP/raw.txt" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
for i, p in enumerate([{"name": "duo", "max_sessions": -1}, {"name": "duo", "max_sessions": 65536},
                       {"name": "duo", "expires_in": "soon"}, {"name": "duo"},
                       {"name": "duo", "expires_in": -1},
                       {"name": "duo", "expires_in": 36500 * 86400 + 1}]):
    f.write(json.dumps({"jsonrpc": "2.0", "id": i, "method": "token.set", "params": p}) + "\n")
    f.flush()
    r = json.loads(f.readline())
    print(r["error"]["code"], r["error"]["message"])
PY
expect_eq "raw token.set errors" "$(cat "$TMP/raw.txt")" "-32602 params.max_sessions: expected 1-65535 live sessions at once (0 or none: no limit)
-32602 params.max_sessions: expected 1-65535 live sessions at once (0 or none: no limit)
-32602 params.expires_in: expected an integer
-32602 give params.expires_in, params.max_sessions or both
-32602 params.expires_in: expected seconds from now, up to 100 years' worth (0 or none: never)
-32602 params.expires_in: expected seconds from now, up to 100 years' worth (0 or none: never)"
expect_eq "duo after them" "$(ctl --json token list | jq -c '.tokens[] | select(.name == "duo") | [.max_sessions, .expires]')" "[null,$duo_expires]"
ok "token.set: out-of-range and missing values refused, naming the parameter"

# A token added without --max-sessions has a limit of 8 live sessions: one
# holder of it took the whole pool before. Its 9th client (slopn-flood's
# logins, each a client of its own) is refused for the limit and counted.
# --max-sessions none asks for no limit, and a token stored without one
# (erin's, written by hand as an older hub wrote them) keeps none.
out=$(ctl --json token add octo) || fail "token add octo"
octo=$(jq -r .token <<< "$out")
expect_eq "token add without --max-sessions: max_sessions" "$(jq .max_sessions <<< "$out")" 8
expect_eq "token list: octo's limit" \
	"$(ctl --json token list | jq '.tokens[] | select(.name == "octo") | .max_sessions')" 8
expect_eq "tokens.json: octo's max_sessions" \
	"$(jq '.tokens[] | select(.name == "octo") | .max_sessions' "$TMP/hub-state/tokens.json")" 8
ctl token add uno | grep -qx "  limit:   8 live sessions" || fail "token add uno: the default limit not said"
out=$(ctl --json token add free --max-sessions none) || fail "token add --max-sessions none"
free=$(jq -r .token <<< "$out")
expect_eq "token add --max-sessions none: max_sessions" "$(jq .max_sessions <<< "$out")" null
grep -q "token 'free' added, no limit of sessions" "$TMP/hub-hup.log" || fail "the hub's log of free's (no) limit"
expect_eq "tokens.json: free has no limit" \
	"$(jq '.tokens[] | select(.name == "free") | has("max_sessions")' "$TMP/hub-state/tokens.json")" false
ctl token add free2 --max-sessions none | grep -qx "  limit:   none (any number of live sessions)" ||
	fail "token add --max-sessions none: 'limit: none' not said"
expect_eq "token list: erin's limit" \
	"$(ctl --json token list | jq '.tokens[] | select(.name == "erin") | .max_sessions')" null
ok "token add: a limit of 8 by default, none with --max-sessions none; erin's (stored without) none"

login_of() { printf '{"type":"login_request","token":"%s","client_version":"token.sh","os":"linux"}' "$1"; }
live_of() { ctl --json token list | jq --arg n "$1" '.tokens[] | select(.name == $n) | .live'; }
live_is() { [ "$(live_of "$1")" = "$2" ]; }
limit_refused() { ctl --json status | jq .logins_refused.token_limit; }
refused_past() { [ "$(limit_refused)" -gt "$1" ]; }
n=$(limit_refused)
flood_bg "$TMP/octo.json" --count 9 --total 9 --duration 60 --login "$(login_of "$octo")" --client-ids
wait_until 20 "octo's 9th client refused" refused_past "$n"
wait_until 10 "octo's 8 sessions" live_is octo 8
flood_end
expect_eq "token_limit refusals from octo's 9 clients" "$(limit_refused)" "$((n + 1))"
expect_eq "octo's clients: held, refused by the hub, its code and reason" \
	"$(jq -c '[.held_end, .closed_by_hub, .last_code, .last_reason]' "$TMP/octo.json")" \
	'[8,1,5,"token'"'"'s session limit"]'
ctl sessions kick --token octo > /dev/null || fail "kick octo's sessions"
ok "a token added without --max-sessions takes 8 clients; the 9th is refused for its limit, counted"

for t in free erin; do
	n=$(limit_refused)
	before=$(live_of $t)
	[ $t = free ] && secret=$free || secret=hand-made-secret
	flood_bg "$TMP/$t.json" --count 9 --total 9 --duration 60 --login "$(login_of "$secret")" --client-ids
	wait_until 20 "9 more sessions of $t" live_is $t "$((before + 9))"
	flood_end
	expect_eq "$t's 9 clients: held, refused by the hub" "$(jq -c '[.held_end, .closed_by_hub]' "$TMP/$t.json")" '[9,0]'
	expect_eq "token_limit refusals with $t's 9 clients" "$(limit_refused)" "$n"
	[ $t = erin ] || ctl sessions kick --token $t > /dev/null || fail "kick $t's sessions" # (erin's client stays)
done
ok "no limit for a token added with --max-sessions none, nor for one stored without a limit"

# The invite's address: --public-address, its port defaulting to the listen
# port's; the listen address itself unless it is a wildcard (then no invite).
# invite_of NAME ARGS...: a hub of its own with ARGS; the invite of a new token.
invite_of() {
	local n=$1
	shift
	start "hub:$n" server --tun "slopn$n" --state-dir "$TMP/$n-state" --control "$TMP/$n.sock" "$@"
	wait_hub "$TMP/$n.sock"
	"$SLOPNCTL" --socket "$TMP/$n.sock" --json token add t | jq -r '.invite // "none"' | sed 's|@| |; s|?| |' | cut -d' ' -f2
	stop "hub:$n"
}
expect_eq "invite for a public name, the listen port" \
	"$(invite_of pa --listen 0.0.0.0:4243 --public-address vpn.example.test)" vpn.example.test:4243
expect_eq "invite for a public IPv6 address and port" \
	"$(invite_of pb --listen 0.0.0.0:4244 --public-address '[2001:db8::1]:443')" "[2001:db8::1]:443"
expect_eq "invite of a hub on a wildcard address" "$(invite_of pc --listen 0.0.0.0:4245)" none
# A wildcard however written: the address, not its spelling.
expect_eq "invite of a hub on [::0]" "$(invite_of pd --listen '[::0]:4246')" none
expect_eq "invite of a hub on [0:0::0]" "$(invite_of pe --listen '[0:0::0]:4247')" none
expect_eq "invite of a hub on 0 (0.0.0.0)" "$(invite_of pf --listen 0:4248)" none
expect_eq "invite for a public address 0 (0.0.0.0)" \
	"$(invite_of pg --listen 192.0.2.1:4249 --public-address 0)" none
# (A link-local --public-address is refused at the start: messages.sh.)
ok "invites: the public address and port, none for a wildcard, however written"
