#!/bin/bash
# Login and TLS checks: wrong token, pins, ALPN, and the ban after repeated failures.
unset SLOPNCTL_PLAIN # slopnctl is under test: the sanitized one, if built so
. "$(dirname "$0")/lib.sh"
topo 2
start_hub
PIN=$("$SLOPND" pin --state-dir "$TMP/hub-state")
expect_eq "the hub's pin in slopnctl status" "$(ctl --json status | jq -r .pin)" "$PIN"
ok "slopnd pin matches the hub's log ($PIN)"

# Three slopnd pin at once on an empty state directory: one makes the key
# (under hub.lock, as the hub), the others wait for it and read it; each
# prints the pin of the key left on disk, computed here by openssl. Without
# the lock each made a key of its own, and one's save failed ("cannot
# replace .../hub.key") or printed the pin of a key another replaced.
spki_pin() { echo "sha256:$(openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -d' ' -f1)"; }
for i in $(seq 20); do
	d="$TMP/pinrace-$i"
	for j in 1 2 3; do
		"$SLOPND" pin --state-dir "$d" > "$TMP/pinrace.$j" 2> "$TMP/pinrace.$j.err" &
		pids[j]=$!
	done
	for j in 1 2 3; do
		wait "${pids[j]}" || fail "pin race $i: slopnd pin $j failed: $(cat "$TMP/pinrace.$j.err")"
	done
	want=$(spki_pin "$d/hub.key")
	for j in 1 2 3; do
		[ "$(cat "$TMP/pinrace.$j")" = "$want" ] ||
			fail "pin race $i: slopnd pin $j printed $(cat "$TMP/pinrace.$j"), the key on disk has $want"
	done
done
ok "three slopnd pin at once on an empty state directory, 20 times: each printed the pin of the key on disk"

# hub.lock held by another process (a python3 in the background, flock(2)):
# slopnd pin reads a key and certificate that are there at once (the
# holder is a running hub: no use waiting); with none it waits 10 s for
# the holder to make them, then says it does not (exit 1) and makes none
# itself. A hub waits up to 2 s for the lock (a pin making the key holds it
# for milliseconds), and starts once it is free. The pin's 10 s pass while
# the checks below go on (they do not touch that directory); its end is
# checked after them.
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(120)' "$TMP/pinrace-1/hub.lock" > "$TMP/lockholder.txt" {NAP_FD}<&- &
PIDS+=($!)
lock_holder=$!
lock_held() { grep -q held "$TMP/lockholder.txt"; }
wait_until 5 "hub.lock held" lock_held
SECONDS=0
expect_eq "pin with hub.lock held and the key there" \
	"$("$SLOPND" pin --state-dir "$TMP/pinrace-1")" "$(spki_pin "$TMP/pinrace-1/hub.key")"
[ $SECONDS -le 1 ] || fail "pin waited ${SECONDS}s on a lock held beside a key and certificate"
rm "$TMP/pinrace-1/hub.key" "$TMP/pinrace-1/hub.crt"
(
	t0=$(now_ms)
	"$SLOPND" pin --state-dir "$TMP/pinrace-1" > /dev/null 2> "$TMP/pinheld.err"
	echo "$? $(($(now_ms) - t0))" > "$TMP/pinheld.rc"
) &
PIDS+=($!)
pin_held=$!

# A wrong token: the client gives up at once with the hub's message.
SECONDS=0
TOKEN=wrong start_client c1 --tun bad0
wait "$(pid_of c1)"; rc=$?
expect_eq "exit status of the client with a wrong token" "$rc" 3
[ $SECONDS -le 10 ] || fail "client with a wrong token took ${SECONDS}s to give up"
grep -q "login refused by hub: Invalid authentication token (error code 1, unauthorized); not retrying (exit status 3): check the token" "$TMP/c1.log" ||
	fail "no refusal message that says what to do: $(grep 'refused' "$TMP/c1.log")"
ok "wrong token: exit $rc with the hub's message"

# The right pin connects.
start_client c2 --pin "$PIN"
wait_connected c2 10.100.0.2
ok "right pin connects"

# No ALPN at all: GnuTLS would let it through; the hub refuses it itself.
start c1:noalpn client --server 192.0.2.1:4242 --token s3cret --tun alpn0 --alpn ""
wait_log hub "refusing a peer without ALPN" 10
wait_until 5 "c1:noalpn refused by the hub (alert 120)" client_said c1:noalpn "^hub refused the TLS handshake: alert 120"
expect_eq "the client without ALPN connected" "$(client_status c1:noalpn connected)" false
expect_eq "sessions with a client without ALPN about" "$(ctl --json status | jq .sessions)" 1
kill "$(pid_of c1:noalpn)"
ok "no ALPN: refused"
start c1:badalpn client --server 192.0.2.1:4242 --token s3cret --tun alpn1 --alpn h3
wait_until 10 "c1:badalpn refused by the hub (alert 120)" client_said c1:badalpn \
	"^hub refused the TLS handshake: alert 120 \\(No supported application protocol could be negotiated\\)"
expect_eq "the client with ALPN h3 connected" "$(client_status c1:badalpn connected)" false
# The refusal comes in the hub's first packet: the hub answered, and the
# client waits its backoff (1, 2, 4 s: three attempts in 8 s) without
# watching for the hub (taken for silence, the watch's probe found the
# hub up and retried at once: every 2 s for good).
a0=$(client_status c1:badalpn attempts)
SECONDS=0 watched=0
while [ $SECONDS -lt 8 ]; do
	[ "$(client_status c1:badalpn watch_every_ms)" = null ] || watched=$((watched + 1))
	sleep 0.25
done
tries=$(($(client_status c1:badalpn attempts) - a0))
[ "$tries" -le 4 ] || fail "$tries attempts in ${SECONDS} s with an ALPN the hub refuses: no backoff"
[ "$tries" -ge 1 ] || fail "no attempt in ${SECONDS} s after the hub refused the ALPN: the client gave up"
expect_eq "times seen watching a hub that refused the ALPN" "$watched" 0
kill "$(pid_of c1:badalpn)"
ok "other ALPN: refused, $tries attempts in 8 s"

# The pin on a held hub.lock without a key, started above.
wait "$pin_held"
forget "$pin_held"
read -r rc ms < "$TMP/pinheld.rc"
expect_eq "pin with hub.lock held and no key: exit status" "$rc" 1
[ "$ms" -ge 9000 ] && [ "$ms" -lt 13000 ] || fail "pin gave up after ${ms} ms, not 10 s"
grep -qF "slopnd: error: $TMP/pinrace-1 has no key and certificate, and $TMP/pinrace-1/hub.lock is held by another process that does not make them" \
	"$TMP/pinheld.err" || fail "pin with hub.lock held: $(cat "$TMP/pinheld.err")"
[ -e "$TMP/pinrace-1/hub.key" ] && fail "pin made a key under another's lock"
start hub:lockwait server --listen 192.0.2.1:4344 --state-dir "$TMP/pinrace-1" --token s3cret \
	--control "$TMP/lockwait.sock" --tun lw0 --subnet 10.103.0.0/24
nap 0.5
kill "$lock_holder"
wait "$lock_holder" 2> /dev/null
forget "$lock_holder"
wait_hub "$TMP/lockwait.sock"
stop hub:lockwait
ok "hub.lock held: pin reads a key that is there at once, waits 10 s for a missing one then exits 1; a hub waits for the lock to be free"

# A server that settles on no ALPN (a hub made so for tests, as a QUIC
# server of another protocol might be): our client refuses it with alert
# 120 before its login, so its token never goes. The wrong token shows it:
# a login sent would be refused with code 1, and the client exit (3).
SLOPND_TEST_NO_ALPN=1 start hub:noalpn server --listen 192.0.2.1:4343 --state-dir "$TMP/noalpn-state" \
	--token s3cret --control "$TMP/noalpn.sock" --tun noalpn0 --subnet 10.101.0.0/24
wait_hub "$TMP/noalpn.sock"
start c1:toalpn client --server 192.0.2.1:4343 --token wrong --tun alpn2
wait_until 10 "c1:toalpn refusing a hub without ALPN" client_said c1:toalpn \
	"^connection failed: the hub settled on no ALPN 'slopn-protocol', refused with TLS alert 120 before the login: no token sent$"
tried_twice() { [ "$(client_status c1:toalpn attempts)" -ge 2 ]; }
wait_until 10 "c1:toalpn trying again" tried_twice
kill -0 "$(pid_of c1:toalpn)" 2>/dev/null || fail "the client exited: $(tail -n 3 "$TMP/c1-toalpn.log")"
said=$(client_status c1:toalpn last_error)
[[ $said == *"settled on no ALPN"* ]] || fail "c1:toalpn's last error: $said"
expect_eq "failed logins at the hub without ALPN" \
	"$(run_slopnctl --socket "$TMP/noalpn.sock" metrics | awk '$1 == "slopn_failed_logins_total" {print $2}')" 0
stop c1:toalpn
stop hub:noalpn
ok "a hub without ALPN: our client refused it before its login ($said)"

# A client that retries its wrong token guesses nothing: however often it
# comes back, its token counts once towards a ban (the original counts
# each), so that it bans no one behind its address. c1's wrong token above
# was the first failure; four more of it are refused and counted, not banned.
command -v jq >/dev/null || skip "needs jq"
start_monitor
for i in 1 2 3 4; do
	TOKEN=wrong start_client "c1:r$i" --tun "r$i"
	timeout 15 tail --pid="$(pid_of "c1:r$i")" -f /dev/null || fail "client r$i did not give up"
	grep -q "error code 1" "$TMP/c1-r$i.log" || fail "retry $i of the wrong token was not refused"
done
expect_eq "failed logins after the wrong token 5 times" "$(metric slopn_failed_logins_total)" 5
expect_eq "bans after the wrong token 5 times" "$(ctl --json bans list | jq -c '.bans')" '[]'
ok "one wrong token 5 times: refused each time, no ban"

# Five different wrong tokens from one address within 5 minutes ban it
# (code 3), even for the right token, as the original hub does: c1's
# "wrong" and four others (one of them twice, counted once). A good login
# among them forgets none: else anyone with a token (or behind one NAT
# with its holder) could guess four others between two of its logins.
n=0
for t in wrong1 wrong2 wrong3 wrong3 good wrong4; do
	if [ $t = good ]; then
		start_client c1:good --tun good0
		wait_until 10 "c1's good login among the wrong ones" client_connected c1:good
		stop c1:good
		continue
	fi
	n=$((n + 1))
	TOKEN=$t start_client "c1:f$n" --tun "f$n"
	timeout 15 tail --pid="$(pid_of "c1:f$n")" -f /dev/null || fail "client f$n ($t) did not give up"
	[ $n = 5 ] || not_banned 192.0.2.11 ||
		fail "banned before the fifth different token, or the hub did not answer (try $n, $t): $(ctl --json bans list)"
done
grep -q "error code 1" "$TMP/c1-f5.log" || fail "5th failure was not an auth failure"
wait_until 5 "a ban on 192.0.2.11" banned 192.0.2.11
start_client c1:banned --tun ban0
wait_until 10 "c1:banned refused with code 3" client_said c1:banned "Too many failed logins.*error code 3, banned"
ok "banned after 5 failures: code 3"
# Others are not affected.
nsx c2 ping -c 1 -W 2 10.100.0.1 >/dev/null || fail "c2 lost its tunnel"
ok "c2 unaffected"

# The ban is listed, and says what lifts it; the client says so once
# however often it retries.
expect_eq "bans list" "$(ctl --json bans list | jq -c '[.bans[] | .address]')" '["192.0.2.11"]'
left=$(ctl --json bans list | jq '.bans[0].remaining')
[ "$left" -gt 3500 ] && [ "$left" -le 3600 ] || fail "ban remaining: $left"
ctl bans list | grep -Eq "^192\.0\.2\.11 +59m[0-9]{2}s +[0-9]+$" || fail "bans list: $(ctl bans list)"
grep -q "'slopnctl bans remove 192.0.2.11'" "$TMP/c1-banned.log" || fail "the banned client is not told what lifts it"
retried() { [ "$(ctl --json bans list | jq '.bans[0].refused')" -ge 3 ]; }
wait_until 10 "the banned client retries" retried
# Told once; the retries within the minute cost the hub no handshake.
[ "$(ctl --json status | jq .admission.refused_banned)" -ge 2 ] ||
	fail "the banned client's retries were not refused at once: $(ctl --json status | jq -c .admission)"
expect_eq "refusals the banned client logged over its retries" "$(grep -c "login refused" "$TMP/c1-banned.log")" 1
grep -q "reconnecting in" "$TMP/c1-banned.log" && fail "the banned client logs each retry"
ok "the banned client says it once"
# Lifted from slopnctl, with Tab completion of the banned address: the
# client gets in at its next retry.
expect_eq "complete 'bans remove '" "$(SLOPNCTL_SOCKET="$TMP/hub.sock" "$SLOPNCTL" __complete bans remove "")" 192.0.2.11
ctl bans remove 192.0.2.11 | grep -qx "ban on 192.0.2.11 lifted" || fail "bans remove"
expect_eq "bans after the lift" "$(ctl --json bans list | jq '.bans | length')" 0
wait_until 20 "the banned client connects" client_connected c1:banned
ok "bans remove: the banned client connects"
ctl bans remove 192.0.2.11 2> "$TMP/err.txt"; expect_eq "lifting it twice exits" "$?" 1
grep -q "192.0.2.11 is not banned" "$TMP/err.txt" || fail "second lift: $(cat "$TMP/err.txt")"
ctl bans remove 192.0.2 2> /dev/null; expect_eq "bans remove of a non-address exits" "$?" 2
# One failure, no ban: bans remove forgets it, and says so (not an error).
TOKEN=wrong-again start_client c1:f6 --tun f6
timeout 15 tail --pid="$(pid_of c1:f6)" -f /dev/null || fail "client f6 did not give up"
expect_eq "bans remove of an address with a failure, no ban" \
	"$(ctl --json bans remove 192.0.2.11 | jq -c '[.removed, .failures_forgotten]')" '[false,true]'
ctl bans remove 192.0.2.11 2> /dev/null; expect_eq "a second bans remove, nothing known of it, exits" "$?" 1
# The design's name for the parameter, addr, is read too: "not banned"
# (1006), not a missing parameter (-32602).
rpc() { # REQUEST: the answer's line (none within 5 s: nothing)
	timeout 5 python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline(), end="")' "$TMP/hub.sock" "$1"
}
expect_eq "bans.remove with addr" \
	"$(rpc '{"jsonrpc":"2.0","id":1,"method":"bans.remove","params":{"addr":"192.0.2.11"}}' | jq .error.code)" 1006
wait_event ban.removed
expect_eq "ban events" "$(jq -c 'select(.method | startswith("ban")) | [.method, .params.address, .params.reason]' "$TMP/events.txt" | tr '\n' ' ')" \
	'["ban","192.0.2.11",null] ["ban.removed","192.0.2.11","lifted"] '
ok "events: ban and ban.removed"
# Every request is answered: a refusal that quotes a name cut inside a
# character (150 two-byte characters) too. token.remove of a name longer
# than any is no token, not the one its first 64 bytes name.
long=$(printf '\xc3\xa9%.0s' $(seq 150))
expect_eq "token.set of an unknown long non-ASCII name: the error's code" \
	"$(rpc "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"token.set\",\"params\":{\"name\":\"$long\",\"max_sessions\":1}}" | jq .error.code)" 1002
a64=$(printf 'a%.0s' $(seq 64))
ctl token add "$a64" > /dev/null || fail "token add of a 64-byte name"
expect_eq "token.remove of a 65-byte name: the error's code" \
	"$(rpc "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"token.remove\",\"params\":{\"name\":\"${a64}b\"}}" | jq .error.code)" 1002
expect_eq "the 64-byte token after that" "$(ctl --json token list | jq --arg n "$a64" '[.tokens[] | select(.name == $n)] | length')" 1
ok "an answer to every request; a name too long removes nothing"

# c2's pin: a key other than --pin's is refused before any login, and not for good:
# anyone on the way to the hub can answer for it with a key of its own,
# and must not end the client (and its tunnel) by doing so. An impostor at
# the hub's address, with a key of its own: c2 refuses it, keeps trying,
# and is back when the hub is. (c1, which pins nothing, would log in there.)
stop c1:banned
stop hub
start hub:impostor server --listen 192.0.2.1:4242 --state-dir "$TMP/impostor-state" --token s3cret \
	--control "$TMP/hub.sock"
wait_hub
c2_refused() { [[ "$(client_status c2 last_error)" == "hub key does not match --pin: the hub at 192.0.2.1:4242 has sha256:"* ]]; }
wait_until 10 "c2 refusing the impostor's key" c2_refused
SECONDS=0
ipin=$(client_status c2 last_error); ipin=${ipin##* }
[ "$ipin" != "$PIN" ] || fail "the impostor has the hub's key"
expect_eq "the impostor's key, as c2 says it" "$ipin" "$("$SLOPND" pin --state-dir "$TMP/impostor-state")"
expect_eq "sessions at the impostor" "$(ctl --json status | jq .sessions)" 0
# More attempts, each refused, with the backoff (1, 2 s: two in 6 s; not
# one a second): c2 is still there.
a0=$(client_status c2 attempts)
sleep 6
tries=$(($(client_status c2 attempts) - a0))
[ "$tries" -le 3 ] || fail "$tries attempts in 6 s at a hub whose key is not the pin's: no backoff"
[ "$tries" -ge 1 ] || fail "no attempt in 6 s at a hub whose key is not the pin's: the client gave up"
ok "$tries attempts in 6 s at a hub whose key is not the pin's"
kill -0 "$(pid_of c2)" 2> /dev/null || { wait "$(pid_of c2)"; fail "c2 exited ($?) after a wrong key"; }
expect_eq "c2 connected, after ${SECONDS}s of a wrong key" "$(client_status c2 connected)" false
c2_refused || fail "c2's last error after ${SECONDS}s of a wrong key: $(client_status c2 last_error)"
expect_eq "sessions at the impostor" "$(ctl --json status | jq .sessions)" 0
stop hub:impostor
start_hub
wait_connected c2 10.100.0.2 30
expect_eq "c2's last error once back" "$(client_status c2 last_error)" null
ok "a wrong key is refused and the client keeps trying: back with the hub"
