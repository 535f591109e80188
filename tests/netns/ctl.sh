#!/bin/bash
# slopnctl on the hub's control socket: status, sessions with live
# counters, kick (the client sees the reason and comes back), events,
# errors and exit codes.
unset SLOPNCTL_PLAIN # slopnctl is under test: the sanitized one, if built so
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 2
start_hub
connect_clients 2

# The client role has a control socket too, with server.status.
# (start gives each client one: $TMP/NAME.sock.)
start c1:ctl client --server 192.0.2.1:4242 --token s3cret --tun ctl0
wait_connected c1:ctl 10.100.0.4
"$SLOPNCTL" --socket "$TMP/c1-ctl.sock" status > "$TMP/c1-status.txt" || fail "client status failed"
grep -q "^connected: yes$" "$TMP/c1-status.txt" || fail "client status: $(cat "$TMP/c1-status.txt")"
grep -q "^vip:       10.100.0.4 (hub 10.100.0.1)$" "$TMP/c1-status.txt" || fail "client status: $(cat "$TMP/c1-status.txt")"
expect_eq "client status --json connected" "$(client_status c1:ctl connected)" true
"$SLOPNCTL" --socket "$TMP/c1-ctl.sock" sessions list 2> "$TMP/err.txt"
expect_eq "sessions list on a client exits" "$?" 1
expect_eq "sessions list on a client" "$(cat "$TMP/err.txt")" \
	"slopnctl: sessions list: $TMP/c1-ctl.sock is a client's control socket, which answers only 'slopnctl status'"
kill "$(pid_of c1:ctl)"
wait "$(pid_of c1:ctl)" 2>/dev/null
[ -e "$TMP/c1-ctl.sock" ] && fail "client left its control socket behind"
wait_until 5 "the hub ends session 3 (10.100.0.4)" no_hub_session 10.100.0.4
ok "client role: status over its own control socket"

ctl status | grep -q "^sessions:  2$" || fail "status does not show 2 sessions"
ok "status: 2 sessions"
expect_eq "status --json role" "$(ctl --json status | jq -r .role)" server
ctl sessions list > "$TMP/list.txt"
grep -Eq "^ID +TOKEN +VIP +VIP6 +REMOTE" "$TMP/list.txt" || fail "no table header"
grep -Eq "^1 +shared +10\.100\.0\.2 +- +192\.0\.2\.11:" "$TMP/list.txt" || fail "no row for c1: $(cat "$TMP/list.txt")"
ok "sessions list shows both clients"

# Counters grow while traffic flows: 10 pings of 1000 bytes from c1.
before=$(ctl --json sessions list | jq '.sessions[] | select(.vip == "10.100.0.2") | .rx_pkts')
nsx c1 ping -c 10 -i 0.1 -s 1000 -W 2 10.100.0.1 >/dev/null || fail "ping failed"
after=$(ctl --json sessions list | jq '.sessions[] | select(.vip == "10.100.0.2") | .rx_pkts')
expect_eq "rx_pkts grew by" "$((after - before))" 10
# QUIC's view of the path: RTTs from those pings, the smallest no more than
# the smoothed one, a window, and a count of the bytes in it.
cc=$(ctl --json sessions list | jq -r '.sessions[] | select(.vip == "10.100.0.2") |
	"\(.min_rtt_ms > 0 and .min_rtt_ms <= .rtt_ms) \(.cwnd > 0) \(.in_flight | type)"')
expect_eq "min_rtt_ms, rtt_ms, cwnd, in_flight" "$cc" "true true number"

# Shell completion, driven through a real bash with the shipped script:
# commands, subcommands, and live session ids and VIPs from this hub.
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# bash_complete FUNCTION COMMAND WORDS...: what the shipped script offers
# for COMMAND WORDS (the last being completed). SLOPNCTL_SOCKET is this
# hub's unless the caller sets another.
bash_complete() {
	SLOPNCTL_SOCKET="${SLOPNCTL_SOCKET:-$TMP/hub.sock}" \
	PATH="$(dirname "$SLOPNCTL"):$(dirname "$SLOPND"):$PATH" bash -c '
		source "$0"
		fn=$1 cmd=$2
		shift 2
		COMP_WORDS=("$cmd" "$@"); COMP_CWORD=$#
		COMP_LINE="$cmd $*"; COMP_POINT=${#COMP_LINE}
		[ -n "${BREAKS+set}" ] && COMP_WORDBREAKS=$BREAKS
		"$fn"
		printf "%s\n" "${COMPREPLY[@]}"' "$SRC/completions/slopnctl.bash" "$@" | sort | tr '\n' ' '
}
complete_line() { bash_complete _slopnctl slopnctl "$@"; }
# Through a real interactive bash: with a ':' on the line (an IPv6
# address, here a --socket path), which bash splits COMP_WORDS at, the
# live values still come.
ln -s "$TMP/hub.sock" "$TMP/a:b.sock"
cat > "$TMP/bashterm.py" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from term import Term
t = Term(["bash", "--norc", "--noprofile", "-i"])
t.send("source %s; PS1='ready> '\r" % sys.argv[2])
t.expect(r"ready> ")
t.send("slopnctl --socket %s sessions kick 10.100.0.\t\t" % sys.argv[3])
t.expect(r"10\.100\.0\.2\s+10\.100\.0\.3")
# bash replaces the word after the '=', one of its breaks, with the value alone.
t.send("\x15slopnctl --socket=%s sessions kick --token=sh\t" % sys.argv[3])
t.expect(r"--token=shared ")
t.send("\x15exit\r")
t.wait()
PY
mkdir -p "$TMP/bash-home"
HOME="$TMP/bash-home" TERM=dumb PATH="$(dirname "$SLOPNCTL"):$PATH" \
	timeout 30 python3 "$TMP/bashterm.py" "$SRC/tests/netns" "$SRC/completions/slopnctl.bash" "$TMP/a:b.sock" > "$TMP/bashterm.out" 2>&1 ||
	fail "bash's completion in a terminal: $(cat "$TMP/bashterm.out")"
ok "bash completes live values with a ':' on the line, and after --token="
expect_eq "complete 'slopnctl '" "$(complete_line "")" "bans metrics monitor sessions status token "
expect_eq "complete 'slopnctl sessions k'" "$(complete_line sessions k)" "kick "
expect_eq "complete 'slopnctl sessions kick '" "$(complete_line sessions kick "")" "1 10.100.0.2 10.100.0.3 2 "
expect_eq "complete 'slopnctl sessions kick 10.'" "$(complete_line sessions kick 10.)" "10.100.0.2 10.100.0.3 "
expect_eq "complete with --socket on the line" \
	"$(SLOPNCTL_SOCKET=/nonexistent complete_line --socket "$TMP/hub.sock" sessions kick 1)" "1 10.100.0.2 10.100.0.3 "
# The shell expands a tilde before slopnctl sees the path: so must completion.
expect_eq "complete with --socket ~/PATH on the line" \
	"$(HOME=$TMP SLOPNCTL_SOCKET=/nonexistent complete_line --socket '~/hub.sock' sessions kick 1)" \
	"1 10.100.0.2 10.100.0.3 "
expect_eq "complete with --socket=PATH on the line" \
	"$(SLOPNCTL_SOCKET=/nonexistent complete_line --socket="$TMP/hub.sock" sessions kick 1)" "1 10.100.0.2 10.100.0.3 "
expect_eq "complete 'slopnctl sessions kick --token=sh'" "$(complete_line sessions kick --token=sh)" "shared "
# Where ':' and '=' are no word breaks (taken out for scp), the word is whole.
expect_eq "complete 'slopnctl sessions kick --token=sh', no ':' or '=' breaks" \
	"$(BREAKS=$' \t\n"\'@><;|&(' complete_line sessions kick --token=sh)" "--token=shared "
expect_eq "complete 'slopnctl --socket=PATH'" "$(complete_line --socket="$TMP/hub.so")" "$TMP/hub.sock "
# slopnd's flags come from slopnd itself.
complete_slopnd() { bash_complete _slopnd slopnd "$@"; }
expect_eq "complete 'slopnd '" "$(complete_slopnd "")" "--help --version client pin server "
expect_eq "complete 'slopnd --v'" "$(complete_slopnd --v)" "--version "
expect_eq "complete 'slopnd server --na'" "$(complete_slopnd server --na)" "--nat --nat-backend "
expect_eq "complete 'slopnd client --full'" "$(complete_slopnd client --mtu 1280 --full)" "--full-tunnel "
# After a flag: its fixed values, or nothing for a free one.
expect_eq "complete 'slopnd server --nat-backend '" "$(complete_slopnd server --nat-backend "")" \
	"auto iptables nftables "
expect_eq "complete 'slopnd server --subnet6 '" "$(complete_slopnd server --subnet6 "")" "none "
expect_eq "complete 'slopnd server --mtu '" "$(complete_slopnd server --mtu "" | tr -d ' ')" ""
if command -v zsh >/dev/null; then
	zsh -n "$SRC/completions/_slopnd" || fail "zsh rejects _slopnd"
	zsh_slopnd() {
		PATH="$(dirname "$SLOPND"):$PATH" zsh -f -c '
			compadd() { if [[ $1 == -a ]]; then print -rl -- ${(P)2}; else print -rl -- "$@"; fi }
			words=(slopnd "${(@)argv[2,-1]}"); CURRENT=${#words}
			source "$1"' zsh "$SRC/completions/_slopnd" "$@" | grep -- "${!#}" | sort | tr '\n' ' '
	}
	expect_eq "zsh: complete 'slopnd '" "$(zsh_slopnd "")" "--help --version client pin server "
	expect_eq "zsh: complete 'slopnd client --acc'" "$(zsh_slopnd client --acc)" "--accept-dns "
	expect_eq "zsh: complete 'slopnd server --nat-backend '" "$(zsh_slopnd server --nat-backend "")" \
		"auto iptables nftables "
fi
if command -v fish >/dev/null; then
	fish -n "$SRC/completions/slopnd.fish" || fail "fish rejects slopnd.fish"
	fish_slopnd() {
		PATH="$(dirname "$SLOPND"):$PATH" \
			fish -c "source $SRC/completions/slopnd.fish; complete -C '$1'" | cut -f1 | sort | tr '\n' ' '
	}
	expect_eq "fish: complete 'slopnd '" "$(fish_slopnd "slopnd ")" "client pin server "
	expect_eq "fish: complete 'slopnd --'" "$(fish_slopnd "slopnd --")" "--help --version "
	expect_eq "fish: complete 'slopnd server --all'" "$(fish_slopnd "slopnd server --all")" "--allow-lan "
	expect_eq "fish: complete 'slopnd server --nat-backend '" "$(fish_slopnd "slopnd server --nat-backend ")" \
		"auto iptables nftables "
	expect_eq "fish: complete 'slopnd server --state-dir DIR'" \
		"$(fish_slopnd "slopnd server --state-dir $TMP/hub-st")" "$TMP/hub-state/ "
fi
if command -v zsh >/dev/null; then
	zsh -n "$SRC/completions/_slopnctl" || fail "zsh rejects _slopnctl"
	ok "zsh -n"
	# Driven in a real zsh: the completion function runs with words and
	# CURRENT set as compsys sets them; compadd, compsys's output, prints.
	zsh_complete() {
		SLOPNCTL_SOCKET="${SLOPNCTL_SOCKET:-$TMP/hub.sock}" PATH="$(dirname "$SLOPNCTL"):$PATH" zsh -f -c '
			compadd() { [[ $1 == -a ]] && print -rl -- ${(P)2} }
			_files() { print FILES }
			compset() { [[ $1 == -P && ${words[CURRENT]} == "$2"* ]] }
			words=(slopnctl "${(@)argv[2,-1]}"); CURRENT=${#words}
			source "$1"' zsh "$SRC/completions/_slopnctl" "$@" | sort | tr '\n' ' '
	}
	expect_eq "zsh: complete 'slopnctl '" "$(zsh_complete "")" "bans metrics monitor sessions status token "
	expect_eq "zsh: complete 'slopnctl sessions kick '" "$(zsh_complete sessions kick "")" \
		"1 10.100.0.2 10.100.0.3 2 "
	expect_eq "zsh: complete 'slopnctl --socket '" "$(zsh_complete --socket "")" "FILES "
	expect_eq "zsh: complete 'slopnctl --socket=/r'" "$(zsh_complete --socket=/r)" "FILES "
	expect_eq "zsh: complete 'slopnctl sessions kick --token=sh'" "$(zsh_complete sessions kick --token=sh)" \
		"--token=shared "
	expect_eq "zsh: complete with --socket ~/PATH on the line" \
		"$(HOME=$TMP SLOPNCTL_SOCKET=/nonexistent zsh_complete --socket '~/hub.sock' sessions kick 1)" \
		"1 10.100.0.2 10.100.0.3 "
fi
if command -v fish >/dev/null; then
	fish -n "$SRC/completions/slopnctl.fish" || fail "fish rejects slopnctl.fish"
	fish_complete() {
		SLOPNCTL_SOCKET="${SLOPNCTL_SOCKET:-$TMP/hub.sock}" PATH="$(dirname "$SLOPNCTL"):$PATH" \
			fish -c "source $SRC/completions/slopnctl.fish; complete -C '$1'" | sort | tr '\n' ' '
	}
	expect_eq "fish: complete 'slopnctl '" "$(fish_complete "slopnctl ")" "bans metrics monitor sessions status token "
	expect_eq "fish: complete 'slopnctl sessions kick '" "$(fish_complete "slopnctl sessions kick ")" \
		"1 10.100.0.2 10.100.0.3 2 "
	expect_eq "fish: complete 'slopnctl --socket PATH'" \
		"$(fish_complete "slopnctl --socket $TMP/hub.so" | cut -f1)" "$TMP/hub.sock "
	expect_eq "fish: complete 'slopnctl --socket=PATH'" \
		"$(fish_complete "slopnctl --socket=$TMP/hub.so" | cut -f1)" "--socket=$TMP/hub.sock "
	expect_eq "fish: complete 'slopnctl sessions kick --token=sh'" \
		"$(fish_complete "slopnctl sessions kick --token=sh" | cut -f1)" "--token=shared "
	expect_eq "fish: complete with --socket ~/PATH on the line" \
		"$(HOME=$TMP SLOPNCTL_SOCKET=/nonexistent fish_complete "slopnctl --socket ~/hub.sock sessions kick 1")" \
		"1 10.100.0.2 10.100.0.3 "
fi

# Events, then a kick by VIP with a reason: the client has it at once.
t0=$(date +%s)
start_monitor
k0=$(now_ms)
ctl sessions kick 10.100.0.3 --reason "maintenance" | grep -q "kicked 1 session" || fail "kick did not report 1 session"
expect_eq "sessions right after the kick" "$(ctl --json sessions list | jq -c '[.sessions[].vip]')" '["10.100.0.2"]'
wait_until 1 "c2's status to give the kick and its reason" \
	client_down c2 "^hub closed the connection: kicked: maintenance \\(code 4\\)$" 4
ok "c2 saw the kick reason within 1 s"
wait_until 10 "c2 back after the kick" hub_session 10.100.0.3
# Kicked, a client waits its backoff (1 s at least) before it logs in
# again; only a lost connection (the hub restarted) is retried at once.
back=$(( $(now_ms) - k0 ))
[ "$back" -ge 1000 ] || fail "c2 was back ${back} ms after its kick: a kicked client came back at once, not after its backoff"
ok "c2 came back after the kick, after its backoff ($back ms)"
wait_event session.down '.params.vip == "10.100.0.3"'
wait_event session.up '.params.vip == "10.100.0.3"'
ok "monitor saw session.down and session.up"
# Each with the daemon's time of it, which the pretty monitor shows.
t1=$(date +%s)
wait_event session.down ".params.time >= $t0 and .params.time <= $t1"
timeout 60 "$SLOPNCTL" --socket "$TMP/hub.sock" monitor > "$TMP/pretty.txt" 2> "$TMP/pretty.err" &
PIDS+=($!)
wait_until 5 "slopnctl monitor subscribed" grep -q "watching events" "$TMP/pretty.err"
# A reason with a line break and an escape: one line in the log, and in
# the event, nothing a terminal acts on.
ctl sessions kick 10.100.0.3 --reason $'line\nbreak \e[2J' > /dev/null
wait_until 5 "the pretty monitor showing the kick" grep -q "session.down" "$TMP/pretty.txt"
wait_event session.down '.params.vip == "10.100.0.3" and (.params.reason | startswith("kicked: line?break ?"))'
line=$(grep -m1 "session.down" "$TMP/pretty.txt")
[[ $line =~ ^[0-9]{2}:[0-9]{2}:[0-9]{2}\ session.down\ \{ ]] && [[ $line != *'"time"'* ]] ||
	fail "the pretty monitor's line: $line"
ok "events carry the daemon's time ($t0..$t1), shown once by the pretty monitor"
wait_until 10 "c2 back after the kick" hub_session 10.100.0.3
# A long reason in another script is cut on a character: the client and
# the event get it, the event with its session. slopnctl refuses one the
# hub would cut (over 119 bytes: usage error), so the request goes raw.
long=$(printf 'é%.0s' $(seq 100))
ctl sessions kick 10.100.0.3 --reason "$long" 2> "$TMP/err.txt"
expect_eq "slopnctl sessions kick with a 200-byte reason exits" "$?" 2
grep -q "^slopnctl: sessions kick: --reason: 200 bytes, more than the 119 a client is told" "$TMP/err.txt" ||
	fail "a reason over 119 bytes: $(cat "$TMP/err.txt")"
expect_eq "sessions after the refused kick" "$(ctl --json sessions list | jq -c '[.sessions[].vip] | sort')" \
	'["10.100.0.2","10.100.0.3"]'
python3 - "$TMP/hub.sock" "$long" > "$TMP/kick.txt" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "sessions.kick",
                      "params": {"vip": "10.100.0.3", "reason": sys.argv[2]}}).encode() + b"\n")
print(json.loads(s.makefile("rb").readline())["result"]["kicked"])
PY
expect_eq "raw kick with a long reason kicked" "$(cat "$TMP/kick.txt")" 1
wait_event session.down '.params.vip == "10.100.0.3" and (.params.reason | startswith("kicked: éééé"))'
wait_until 2 "c2's status to give the long reason" client_down c2 "^hub closed the connection: kicked: éééé" 4
wait_until 10 "c2 back after the second kick" hub_session 10.100.0.3
ok "a reason cut to fit stays UTF-8: the event carries it with its session"

# Errors: the daemon's message, exit 1; usage, exit 2; no daemon, exit 3.
ctl sessions kick 42 2> "$TMP/err.txt"; rc=$?
expect_eq "kick of an unknown id exits" "$rc" 1
# What matched nothing, named: the id, the VIP or the token (and whether
# there is such a token); the code stays 1000.
expect_eq "kick of an unknown id" "$(cat "$TMP/err.txt")" \
	"slopnctl: no session matches id 42 (see 'slopnctl sessions list')"
expect_eq "kick of an unknown id, --json code" "$(ctl --json sessions kick 42 2>/dev/null | jq .error.code)" 1000
ctl sessions kick 10.100.0.99 2> "$TMP/err.txt"
expect_eq "kick of an unknown VIP" "$(cat "$TMP/err.txt")" \
	"slopnctl: no session matches VIP 10.100.0.99 (see 'slopnctl sessions list')"
ctl sessions kick --token nobody 2> "$TMP/err.txt"; rc=$?
expect_eq "kick of an unknown token exits" "$rc" 1
expect_eq "kick of an unknown token" "$(cat "$TMP/err.txt")" \
	"slopnctl: no session matches token 'nobody': there is no token of that name (see 'slopnctl token list')"
ctl token add idle > /dev/null || fail "token add idle"
ctl sessions kick --token idle 2> "$TMP/err.txt"
expect_eq "kick of a token without sessions" "$(cat "$TMP/err.txt")" \
	"slopnctl: no session matches token 'idle': it has none live (see 'slopnctl sessions list')"
ctl token remove idle > /dev/null || fail "token remove idle"
ctl sessions bogus 2>/dev/null; expect_eq "unknown command exits" "$?" 2
# Usage errors: one line and where help is, exit 2; flags after the command.
expect_eq "status --json (flag after the command)" "$(ctl status --json | jq -r .role)" server
expect_eq "--json between the noun and its verb" "$(ctl token --json list | jq -r '.tokens[0].name')" shared
expect_eq "--socket after the command" \
	"$("$SLOPNCTL" --socket /nonexistent sessions list --socket "$TMP/hub.sock" --json | jq '.sessions | length')" 2
for bad in "status extra" "status --bogus" "monitor extra" "sessions kick abc" "sessions kick" \
	"sessions kick 99999999999999999999999" \
	"sessions kick 1 --token shared" "token add" "token add a b" "token add bad/name" "token add shared" \
	"sessions kick 1 --reason $(printf 'x%.0s' $(seq 120))" "--socket= status" "token --bogus list" \
	"token add x --expires" "sessions kick --reason --token shared" "token remove x --kick=yes" \
	"--bogus status" "sessions" "bogus"; do
	# shellcheck disable=SC2086
	ctl $bad > "$TMP/out.txt" 2> "$TMP/err.txt"; rc=$?
	[ $rc = 2 ] || fail "'slopnctl $bad' exits $rc, not 2"
	[ -s "$TMP/out.txt" ] && fail "'slopnctl $bad' printed on stdout: $(cat "$TMP/out.txt")"
	[ "$(wc -l < "$TMP/err.txt")" = 2 ] || fail "'slopnctl $bad' said: $(cat "$TMP/err.txt")"
	grep -q "^slopnctl: " "$TMP/err.txt" || fail "'slopnctl $bad' without the prefix: $(cat "$TMP/err.txt")"
	grep -Eq "^Try 'slopnctl ([a-z]+ )*--help'\.$" "$TMP/err.txt" || fail "'slopnctl $bad': no pointer to help"
done
ok "usage errors: one line, a pointer to --help, exit 2"
ctl sessions kick abc 2>&1 | grep -q "^slopnctl: sessions kick: 'abc' is neither a session id nor an address$" ||
	fail "kick abc: $(ctl sessions kick abc 2>&1)"
ok "kick abc: said in the words of the command line"
"$SLOPNCTL" --socket "$TMP/nothing.sock" status 2> "$TMP/err.txt"; rc=$?
expect_eq "missing daemon exits" "$rc" 3
grep -q "is slopnd running" "$TMP/err.txt" || fail "no hint when the daemon is missing"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$SLOPNCTL" --socket "$TMP/hub.sock" status 2> "$TMP/err.txt"
expect_eq "a caller without permission exits" "$?" 3
if getent group slopn > /dev/null; then
	hint="not in group slopn, or not root"
else
	hint="only root may use it: there is no group slopn here"
fi
grep -qF "Permission denied ($hint)" "$TMP/err.txt" || fail "no hint for EACCES: $(cat "$TMP/err.txt")"
# A path that is no socket (a file, a directory) is said to be none.
for what in file dir; do
	[ $what = file ] && : > "$TMP/not-a-socket" || mkdir "$TMP/not-a-socket"
	"$SLOPNCTL" --socket "$TMP/not-a-socket" status 2> "$TMP/err.txt"
	expect_eq "a $what as the socket exits" "$?" 3
	expect_eq "a $what as the socket" "$(cat "$TMP/err.txt")" \
		"slopnctl: $TMP/not-a-socket: not a socket (give the control socket's path with --socket)"
	rm -rf "$TMP/not-a-socket"
done
"$SLOPNCTL" --socket "$TMP/nothing.sock" token add x --expires soon 2>/dev/null; rc=$?
expect_eq "a usage error without a daemon exits" "$rc" 2
"$SLOPNCTL" --socket "$TMP/nothing.sock" token add shared 2>/dev/null; rc=$?
expect_eq "token add shared without a daemon exits" "$rc" 2
# A request over the hub's 64 KiB is not sent (it answered an error and
# hung up, and slopnctl exited 3, saying nothing or a stale errno).
ctl sessions kick --token "$(head -c 100000 /dev/zero | tr '\0' x)" 2> "$TMP/err.txt"; rc=$?
expect_eq "a request over 64 KiB exits" "$rc" 2
grep -q "^slopnctl: sessions kick: the request would be 1000[0-9]* bytes, more than the 65536 slopnd takes" \
	"$TMP/err.txt" || fail "a request over 64 KiB: $(cat "$TMP/err.txt")"
# The daemon's longest expiry, checked before asking, in the command's words:
# token add takes no never (nor the request's 0 or none), token set does.
"$SLOPNCTL" --socket "$TMP/nothing.sock" token add x --expires 5300w 2> "$TMP/err.txt"; rc=$?
expect_eq "token add --expires over 100 years, without a daemon, exits" "$rc" 2
expect_eq "its message" "$(head -1 "$TMP/err.txt")" \
	"slopnctl: token add: --expires '5300w': expected a duration such as 30d, 12h, 90m or 1w2d, up to 100 years (36500d)"
"$SLOPNCTL" --socket "$TMP/nothing.sock" token set x --expires 0 2> "$TMP/err.txt"
grep -q "up to 100 years (36500d), or never$" "$TMP/err.txt" || fail "token set --expires 0: $(cat "$TMP/err.txt")"
ok "--expires: the 100 years checked by slopnctl, said as the command takes it"
# An answer that does not reach stdout (a full disk) is an error, exit 1:
# a 'metrics > file.tmp && mv' would take a cut file; token add's secret
# would be lost without a word.
ctl token list > /dev/full 2> "$TMP/err.txt"; rc=$?
expect_eq "token list > /dev/full exits" "$rc" 1
expect_eq "and says" "$(cat "$TMP/err.txt")" "slopnctl: writing the answer to standard output: No space left on device"
ctl token add lost > /dev/full 2> "$TMP/err.txt"; rc=$?
expect_eq "token add > /dev/full exits" "$rc" 1
grep -q "^slopnctl: writing the answer to standard output: No space left on device; token 'lost' was added, but its secret is lost: remove it ('slopnctl token remove lost') and add it again$" "$TMP/err.txt" ||
	fail "token add > /dev/full: $(cat "$TMP/err.txt")"
ctl token remove lost > /dev/null || fail "token remove lost"
ok "an answer lost on the way to stdout: said, exit 1"
"$SLOPNCTL" token --help | grep -q "slopnctl token remove NAME" || fail "'token --help' lists no subcommands"
ok "slopnctl token --help lists the subcommands"

# A caller that sends half a request and stalls does not block another.
python3 - "$TMP/hub.sock" "$TMP/stalled" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.send(b'{"jsonrpc":"2.0","id":1,"meth')
open(sys.argv[2], "w").close()
time.sleep(5)
PY
PIDS+=($!)
wait_until 5 "a stalled caller" test -e "$TMP/stalled"
SECONDS=0
ctl status >/dev/null || fail "status failed while another caller stalls"
[ $SECONDS -le 1 ] || fail "status took ${SECONDS}s next to a stalled caller"
ok "a stalled caller does not block others"

# The framing: two requests in one write, one in three pieces, and one of
# exactly 64 KiB (padded with spaces) are each answered, in order.
python3 - "$TMP/hub.sock" > "$TMP/frames.txt" <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rb")
req = lambda i: b'{"jsonrpc":"2.0","id":%d,"method":"server.status"}' % i
s.sendall(req(1) + b"\n" + req(2) + b"\n")
for piece in (req(3)[:5], req(3)[5:20], req(3)[20:] + b"\n"):
    s.sendall(piece)
    time.sleep(0.05)
big = req(4)[:-1] + b" " * (65536 - len(req(4))) + b"}"
s.sendall(big + b"\n")
print(" ".join(str(json.loads(f.readline())["id"]) for _ in range(4)))
PY
expect_eq "requests answered: two in one write, one in pieces, one of 64 KiB" "$(cat "$TMP/frames.txt")" "1 2 3 4"

# A request over 64 KiB gets an error and a closed connection; garbage
# gets a parse error; the daemon lives on.
python3 - "$TMP/hub.sock" > "$TMP/big.txt" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'\x00\xff not json\n')
print(s.recv(4096).decode(errors="replace").strip())
try:
    s.sendall(b'x' * 70000)  # the daemon hangs up part way: that is the point
except OSError:
    pass
data = b''
while True:
    try:
        chunk = s.recv(4096)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
print(data.decode(errors="replace").strip())
PY
grep -q '"code":-32700' "$TMP/big.txt" || fail "garbage did not get a parse error: $(cat "$TMP/big.txt")"
grep -q '"code":-32600.*larger than 64 KiB' "$TMP/big.txt" || fail "no error for an oversized request: $(cat "$TMP/big.txt")"
ctl status >/dev/null || fail "daemon gone after bad requests"
ok "bad and oversized requests: errors, daemon fine"

# Many callers at once while traffic flows.
nsx c1 ping -c 50 -i 0.02 -W 2 10.100.0.1 >/dev/null &
PIDS+=($!)
par=()
for i in $(seq 50); do
	ctl --json sessions list > "$TMP/par.$i" &
	par+=($!)
done
# Until the 50 have ended (10 s at most): polled by their PIDs (jobs -r
# counted the test's other background processes too, and always waited
# the 10 s).
par_running() { local p; for p in "${par[@]}"; do kill -0 "$p" 2> /dev/null && return 0; done; return 1; }
wait_deadline=$(($(now_ms) + 10000))
while par_running && before $wait_deadline; do nap 0.05; done
# -s: jq -e (1.6) exits 0 on an empty file, a caller that printed nothing.
n=$(for i in $(seq 50); do [ -s "$TMP/par.$i" ] && jq -e '.sessions | length >= 1' "$TMP/par.$i" >/dev/null 2>&1 && echo ok; done | wc -l)
expect_eq "answers to 50 concurrent callers" "$n" 50

# Answers slopnctl cannot read (another program on the socket, another
# version): exit 4, the field named, nothing printed; --json prints the
# result as it came. A fake daemon answers each connection's request with
# the next reply given ({id} is the request's id).
python3 - "$TMP/fake.sock" \
	'{"jsonrpc":"2.0","id":{id},"result":{"sessions":[{"id":"seven"}]}}' \
	'{"jsonrpc":"2.0","id":{id},"result":{"sessions":[{"id":"seven"}]}}' \
	'hello' \
	'{"jsonrpc":"2.0","id":999,"result":{"kicked":1}}' \
	'{"jsonrpc":"2.0","id":{id},"error":{"code":0,"message":"refused for no reason\u001b[2J"}}' \
	'{"jsonrpc":"2.0","id":{id},"result":{"kicked":2}}' \
	'{"jsonrpc":"2.0","id":{id},"result":{"tokens":[{"name":"ok"},{"name":"two\nlines"},{"name":"a b"},{"name":"esc\u001b"}]}}' \
	'{"jsonrpc":"2.0","id":{id},"result":{}}' <<'PY' &
import json, os, socket, sys
srv = socket.socket(socket.AF_UNIX)
srv.bind(sys.argv[1] + ".tmp")
srv.listen(8)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
for reply in sys.argv[2:]:
    c, _ = srv.accept()
    req = json.loads(c.makefile("rb").readline())
    c.sendall(reply.replace("{id}", str(req["id"])).encode() + b"\n")
    c.close()
PY
PIDS+=($!)
wait_until 5 "the fake daemon" test -S "$TMP/fake.sock"
fake() { "$SLOPNCTL" --socket "$TMP/fake.sock" "$@" > "$TMP/out.txt" 2> "$TMP/err.txt"; }
fake sessions list; expect_eq "a session id that is a string: exit" "$?" 4
[ -s "$TMP/out.txt" ] && fail "printed from an answer it cannot read: $(cat "$TMP/out.txt")"
grep -q "sessions\[0\].id: expected an integer, got a string" "$TMP/err.txt" ||
	fail "the field is not named: $(cat "$TMP/err.txt")"
fake --json sessions list; expect_eq "--json on the same answer: exit" "$?" 0
expect_eq "--json prints it as it came" "$(jq -r '.sessions[0].id' "$TMP/out.txt")" seven
fake status; expect_eq "an answer that is not JSON: exit" "$?" 4
grep -q "not JSON-RPC from slopnd: not JSON" "$TMP/err.txt" || fail "not said: $(cat "$TMP/err.txt")"
fake sessions kick 1; expect_eq "an answer to another request: exit" "$?" 4
grep -q "another request than id" "$TMP/err.txt" || fail "not said: $(cat "$TMP/err.txt")"
fake sessions kick 1; expect_eq "an error with code 0: exit" "$?" 1
expect_eq "its message, control characters replaced" "$(cat "$TMP/err.txt")" "slopnctl: refused for no reason?[2J"
fake sessions kick 1; expect_eq "then a good answer: exit" "$?" 0
expect_eq "and its text" "$(cat "$TMP/out.txt")" "kicked 2 session(s)"
ok "answers slopnctl cannot read: exit 4 with the field, nothing printed"
expect_eq "completion offers only plain words from the daemon" \
	"$(SLOPNCTL_SOCKET="$TMP/fake.sock" "$SLOPNCTL" __complete token remove "")" ok
# A subscriber's requests are all answered while events come: three
# token lists of 6000 tokens at once (the first answer alone is past the
# 256 KiB that holds the rest back), then a status, while another caller's
# token changes send events. An event's write that sent every answer
# waiting left the held requests unanswered for good. And a subscriber
# that half-closes its socket (nc -N) still gets its events.
cp "$TMP/hub-state/tokens.json" "$TMP/tokens-before.json"
many_tokens 6000 s
tokens_are() { [ "$(ctl --json token list | jq '[.tokens[] | select(.name != "shared")] | length')" -eq "$1" ]; }
wait_until 10 "token list with 6000 tokens" tokens_are 6000
python3 - "$TMP/hub.sock" "${HELD_TRIALS:-8}" > "$TMP/held.txt" 2> "$TMP/held.err" <<'PY' || fail "held: $(cat "$TMP/held.err")"
import json, socket, sys, threading, time
def caller():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    return s
def subscribe(s):
    s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"events.subscribe"}\n')
    line = b""
    while not line.endswith(b"\n"):
        line += s.recv(1)
    assert b'"subscribed"' in line
stop = False
def changes():
    s = caller()
    f = s.makefile("rb")
    i = 0
    while not stop:
        s.sendall(b'{"jsonrpc":"2.0","id":%d,"method":"token.add","params":{"name":"h%d"}}\n'
                  b'{"jsonrpc":"2.0","id":%d,"method":"token.remove","params":{"name":"h%d"}}\n'
                  % (2 * i, i, 2 * i + 1, i))
        f.readline(), f.readline()
        i += 1
answered = 0
trials = int(sys.argv[2])
for trial in range(trials):
    s = caller()
    subscribe(s)
    stop = False
    t = threading.Thread(target=changes, daemon=True)
    t.start()
    time.sleep(0.05)
    s.sendall(b"".join(b'{"jsonrpc":"2.0","id":%d,"method":"token.list"}\n' % i for i in range(10, 13))
              + b'{"jsonrpc":"2.0","id":99,"method":"server.status"}\n')
    # Read as it comes (a file object's readline loses data at a timeout).
    s.settimeout(10)
    buf, last, end = b"", False, time.monotonic() + 10
    try:
        while (not last or not buf.endswith(b"\n")) and time.monotonic() < end:
            d = s.recv(1 << 20)
            if not d:
                break
            last = last or b'"id":99,' in buf[-20:] + d
            buf += d
    except socket.timeout:
        pass
    msgs = [json.loads(l) for l in buf.split(b"\n")[:-1]]
    ids = [m["id"] for m in msgs if "id" in m]
    if ids == [10, 11, 12, 99]:
        answered += 1
    else:
        print("trial", trial, "answers", ids, "events", len(msgs) - len(ids), file=sys.stderr)
    stop = True
    t.join()
    s.close()
print("answered", answered, "of", trials)
s = caller()
subscribe(s)
s.shutdown(socket.SHUT_WR)
c = caller()
c.sendall(b'{"jsonrpc":"2.0","id":1,"method":"token.add","params":{"name":"half"}}\n'
          b'{"jsonrpc":"2.0","id":2,"method":"token.remove","params":{"name":"half"}}\n')
cf = c.makefile("rb")
cf.readline(), cf.readline()
s.settimeout(5)
buf = b""
try:
    while buf.count(b"\n") < 2:
        d = s.recv(4096)
        if not d:
            break
        buf += d
except socket.timeout:
    pass
print("half-closed got", *[json.loads(l)["method"] for l in buf.split(b"\n")[:-1]] or ["nothing"])
PY
[ "$(sed -n 1p "$TMP/held.txt")" = "answered ${HELD_TRIALS:-8} of ${HELD_TRIALS:-8}" ] ||
	fail "a subscriber's requests held behind its answers: $(cat "$TMP/held.txt" "$TMP/held.err")"
expect_eq "events to a subscriber that half-closed" "$(sed -n 2p "$TMP/held.txt")" \
	"half-closed got token.added token.removed"
ok "a subscriber's requests held behind its answers are all answered while events come; half-closed, it gets its events"
cp "$TMP/tokens-before.json" "$TMP/hub-state/tokens.json"
kill -HUP "$(pid_of hub)"
wait_until 10 "the token list as before" tokens_are "$(jq '.tokens | length' "$TMP/tokens-before.json")"

# A watch whose daemon closes the connection (it stopped, or dropped a
# watch that fell behind): not the exit 0 of a watch that ended well.
fake monitor; expect_eq "monitor when the daemon closes: exit" "$?" 3
grep -q "the daemon closed the connection" "$TMP/err.txt" || fail "not said: $(cat "$TMP/err.txt")"
ok "monitor says when the daemon closes the connection, exit 3"
