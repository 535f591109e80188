#!/bin/bash
# Under systemd, with stderr the stream JOURNAL_STREAM names, slopnd logs to
# the journal natively: a priority on every message, and the session's id,
# VIP and remote address as fields. A listener of ours takes journald's
# place at /run/systemd/journal/socket, in a private mount namespace with
# its own /run, so the machine's journal (if any) sees nothing.
. "$(dirname "$0")/lib.sh"
command -v unshare >/dev/null && command -v nsenter >/dev/null || skip "needs unshare and nsenter"
command -v python3 >/dev/null || skip "needs python3"
topo 1
ns_ipv6 hub c1

cat > "$TMP/listen.py" <<'PY'
import os, socket, sys
open(sys.argv[3], "w").write(str(os.getpid()))
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "ab") as out:
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        out.write(d + b"--\n")
        out.flush()
PY

# under_journal NAME LISTEN(yes|no) ARGS...: slopnd ARGS in namespace NAME,
# stderr to $TMP/NAME.log with JOURNAL_STREAM naming it; with LISTEN=yes a
# listener writes what reaches the journal socket to $TMP/NAME.journal.
under_journal() {
	local n=$1 listen=$2
	shift 2
	: > "$TMP/$n.log"
	unshare -m --propagation private bash -c '
		exec 9< "/run/netns/$1"
		mount -t tmpfs slopn-test /run
		mkdir -p /run/systemd/journal
		if [ "$2" = yes ]; then
			python3 "$3/listen.py" /run/systemd/journal/socket "$3/$4.journal" "$3/$4.lpid" \
				< /dev/null > /dev/null 2>&1 &
			for _ in $(seq 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
		fi
		log="$3/$4.log"
		shift 4
		JOURNAL_STREAM=$(stat -c %d:%i "$log") exec nsenter --net=/proc/self/fd/9 "$@" 2>> "$log"
	' under "$RUN-${n%%-*}" "$listen" "$TMP" "$n" "$SLOPND" "$@" &
	PIDS+=($!)
	eval "PID_${n//-/_}=$!"
	# The listener runs outside our network namespaces, a child of slopnd:
	# registered at once, so that cleanup stops it however the test ends.
	if [ "$listen" = yes ]; then
		wait_until 5 "$n's journal listener started" test -s "$TMP/$n.lpid"
		own "$(cat "$TMP/$n.lpid")"
	fi
}
wait_journal() { # NAME REGEX SECONDS
	wait_until "$3" "a journal entry matching '$2' from $1" journal_has "$1" "$2"
}
journal_has() { grep -Eq -- "$2" "$TMP/$1.journal" 2>/dev/null; }
# entry NAME REGEX: the journal entry (one field per line) whose MESSAGE matches.
entry() { awk -v re="$2" 'BEGIN{RS="--\n"} $0 ~ ("MESSAGE=" re) {print; exit}' "$TMP/$1.journal"; }

under_journal hub yes server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock" --subnet6 fd00:5::/64
wait_journal hub "MESSAGE=listening on 192.0.2.1:4242" 10
[ -s "$TMP/hub.log" ] && fail "with the journal there, stderr got lines: $(head -3 "$TMP/hub.log")"
ok "messages go to the journal socket, not stderr"
start_client c1
wait_connected c1 10.100.0.2
wait_journal hub "MESSAGE=session 1 up" 5
e=$(entry hub "session 1 up")
for f in "PRIORITY=6" "SYSLOG_IDENTIFIER=slopnd" "SLOPN_SESSION=1" "SLOPN_VIP=10.100.0.2" \
	"SLOPN_VIP6=fd00:5::2" "SLOPN_REMOTE=192.0.2.11:[0-9]+"; do
	echo "$e" | grep -Eqx "$f" || fail "session up entry lacks $f: $e"
done
ok "session up: PRIORITY=6, SLOPN_SESSION=1, SLOPN_VIP=10.100.0.2, SLOPN_VIP6=fd00:5::2, SLOPN_REMOTE=192.0.2.11:PORT"
entry hub "listening on" | grep -q "^SLOPN_SESSION=" && fail "a hub-wide line carries session fields"
ok "hub-wide lines carry no session fields"

# An error: priority 3. A --tun name the kernel refuses, refused at the
# start: a usage error, which goes to the journal as an error too.
under_journal c1-bad yes client --server 192.0.2.1:4242 --token t --tun bad/name
wait_journal c1-bad "MESSAGE=error: --tun 'bad/name': interface names cannot hold" 10
entry c1-bad "error: --tun 'bad/name'" | grep -qx "PRIORITY=3" || fail "the error is not PRIORITY=3"
ok "errors: PRIORITY=3"

# The stream is the journal's but its socket is missing: "<N>" lines.
under_journal c1-nosock no client --server 192.0.2.1:4242 --token t --tun bad/name
wait_log c1-nosock "^<3>error: --tun 'bad/name': interface names cannot hold" 10
ok "without the journal socket: <3> priority prefixes on stderr"

# stderr redirected elsewhere (JOURNAL_STREAM names another stream): plain lines.
JOURNAL_STREAM=1:1 nsx c1 "$SLOPND" client --server 192.0.2.1:4242 --token t --tun bad/name 2> "$TMP/plain.txt"
grep -q "^slopnd: error: --tun 'bad/name': interface names cannot hold" "$TMP/plain.txt" ||
	fail "not a plain line when stderr is not the journal: $(cat "$TMP/plain.txt")"
ok "stderr that is not the journal's stream gets plain lines"
echo "PASS"
