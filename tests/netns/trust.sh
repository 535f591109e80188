#!/bin/bash
# Secrets and trust: a hub key others may read is said; the token is not
# left in the processes' arguments (ps, /proc/PID/cmdline, the journal's
# _CMDLINE), and a hub's reload still has it; a client without --pin says
# so when the hub's key is not the one it heard before.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 4
# A hub key made beforehand, then readable by all (a copy put back from a
# backup with a umask of 022): said at the start.
nsx hub "$SLOPND" pin --state-dir "$TMP/hub-state" > /dev/null || fail "slopnd pin"
chmod 644 "$TMP/hub-state/hub.key"
# A config file, so that a reload reads the command line again (the
# shared --token on it wins over the file).
echo "queue-memory = 64M" > "$TMP/hub.conf"
start_hub --config "$TMP/hub.conf"
grep -q "warning: $TMP/hub-state/hub.key, the hub's private key, may be read by every user (mode 0644): .*chmod 600" \
	"$TMP/hub.log" || fail "no warning for a hub.key of mode 0644: $(grep -i warn "$TMP/hub.log")"
ok "a hub key that every user may read is warned of"
# The suite's shared token, s3cret (6 characters), is one a guesser with many
# addresses finds: said too.
grep -q "warning: the shared --token has 6 characters only: it can be guessed" "$TMP/hub.log" ||
	fail "no warning for a shared token of 6 characters"
ok "a short shared token is warned of"

# args PID: the process's arguments, as any user reads them.
args() { tr '\0' ' ' < "/proc/$1/cmdline"; }
PIN=$(nsx hub "$SLOPND" pin --state-dir "$TMP/hub-state")
out=$(ctl --json token add alice)
secret=$(jq -r .token <<< "$out") invite=$(jq -r .invite <<< "$out")
start c1 client "$invite"
TOKEN=$secret start_client c2
wait_until 10 "c1 connected" client_connected c1
wait_until 10 "c2 connected" client_connected c2
for n in hub c1 c2; do
	a=$(args "$(pid_of $n)")
	[[ $a == *s3cret* || $a == *"$secret"* ]] && fail "$n's arguments hold its token: $a"
done
[[ "$(args "$(pid_of c1)")" == *" slopn://$(printf 'x%.0s' {1..40})@192.0.2.1:4242?pin=$PIN "* ]] ||
	fail "c1's arguments: $(args "$(pid_of c1)")"
[[ "$(args "$(pid_of hub)")" == *" --token xxxxxx "* ]] || fail "the hub's arguments: $(args "$(pid_of hub)")"
# The hub reads its command line again at a reload: the shared token is
# still the one given, not the x's.
kill -HUP "$(pid_of hub)"
wait_log hub "reloaded $TMP/hub-state/tokens.json" 5
start_client c3
wait_until 10 "c3 connected after the reload" client_connected c3
ok "no token in the arguments of the hub or the clients; a reload keeps the shared one"

# An invite's pin misspelt connects unchecked, as before, but not in
# silence; one with two pins is refused (exit 2).
start c4 client "slopn://$secret@192.0.2.1:4242?pn=$PIN"
wait_until 10 "c4 connected" client_connected c4
grep -q "^slopnd: warning: invite parameter 'pn' is not one this slopnd knows, and is skipped (a misspelt pin? the hub's key is then not checked)$" \
	"$TMP/c4.log" || fail "no warning for the invite's 'pn': $(grep -i warn "$TMP/c4.log")"
stop c4
nsx c4 "$SLOPND" client "slopn://$secret@192.0.2.1:4242?pin=$PIN&pin=sha256:$(printf "a%.0s" {1..64})" > "$TMP/err.txt" 2>&1
expect_eq "exit status of a client given an invite with two pins" "$?" 2
grep -q "pin: given twice" "$TMP/err.txt" || fail "two pins: $(cat "$TMP/err.txt")"
ok "an invite's unknown parameter warned of, a second pin refused"

# c2 pins nothing: an impostor at the hub's address with a key of its own
# gets its login all the same (the original's clients do no better), but
# the key other than before is said.
stop c1
stop c3
stop hub
start hub:impostor server --listen 192.0.2.1:4242 --state-dir "$TMP/impostor-state" --control "$TMP/hub.sock"
wait_hub
IPIN=$(nsx hub "$SLOPND" pin --state-dir "$TMP/impostor-state")
wait_log c2 "warning: the hub at 192.0.2.1:4242 has a key other than the one heard before: $IPIN, was $PIN \\(not checked: without --pin" 15
ok "a client without --pin warns of a hub key other than before"
