#!/bin/bash
# The interactive slopnctl shell, driven through a real pseudo-terminal:
# Tab completes commands, subcommands, live session ids and VIPs, and token
# names from the running hub; commands run; history is kept in $HOME.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "needs python3"
topo 2
start_hub
connect_clients 2
ctl token add alice-laptop >/dev/null || fail "token add"
ctl token add bob@laptop >/dev/null || fail "token add"
ctl token add bob@phone >/dev/null || fail "token add"

# A terminal session: send keys, wait for the screen to show a pattern.
cat > "$TMP/term.py" <<'PY'
import os, pty, re, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
screen = b""
def expect(pattern, timeout=5):
    global screen
    deadline = time.time() + timeout
    while time.time() < deadline:
        if re.search(pattern.encode(), screen):
            return
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                screen += os.read(fd, 4096)
            except OSError:
                break
    sys.stdout.write(screen.decode(errors="replace"))
    sys.exit("FAIL: the terminal never showed /%s/" % pattern)
def send(keys):
    global screen
    screen = b""
    os.write(fd, keys.encode())
expect(r"slopn> ")
send("sess\t")                         # a command
expect(r"sessions ")
send("k\t")                            # its subcommand
expect(r"kick ")
send("\t\t")                           # live values, listed on a double Tab
expect(r"10\.100\.0\.2\s+10\.100\.0\.3|1\s+10\.100\.0\.2")
listing = screen
for v in (b"1", b"2", b"10.100.0.2", b"10.100.0.3"):
    if not re.search(rb"(^|\s)" + re.escape(v) + rb"(\s|$)", listing):
        sys.exit("FAIL: %s not offered: %r" % (v, listing))
print("ok: sessions kick <Tab><Tab> offers ids 1 2 and VIPs 10.100.0.2 10.100.0.3")
send("\x15")                           # Ctrl-U: clear the line
send("sessions kick 10.100.0.3 --reason from-the-shell\r")
expect(r"kicked 1 session")
print("ok: a command runs from the shell")
send("token remove al\t")              # a token name from the daemon
expect(r"alice-laptop ")
send("\r")
expect(r"token 'alice-laptop' removed")
print("ok: token remove <Tab> completed alice-laptop")
send("token remove bob@l\t")           # past an '@', which readline would break at
expect(r"bob@laptop ")
send("\r")
expect(r"token 'bob@laptop' removed")
print("ok: token remove bob@l<Tab> completed bob@laptop")
send("bogus\r")
expect(r"unknown command 'bogus'")
send("help\r")
expect(r"token remove NAME[\s\S]*slopn> ")    # the prompt is back: Ctrl-D now reaches readline
send("\x04")                           # Ctrl-D leaves
_, status = os.waitpid(pid, 0)
sys.exit(0 if os.WIFEXITED(status) else "FAIL: shell did not exit")
PY
mkdir "$TMP/home"
HOME="$TMP/home" TERM=dumb SLOPNCTL_SOCKET="$TMP/hub.sock" timeout 30 python3 "$TMP/term.py" "$SLOPNCTL" ||
	fail "the shell session failed"
wait_log c2 "kicked: from-the-shell" 2
grep -qx "token remove alice-laptop *" "$TMP/home/.slopnctl_history" || fail "history: $(cat "$TMP/home/.slopnctl_history")"
grep -qx "sessions kick 10.100.0.3 --reason from-the-shell" "$TMP/home/.slopnctl_history" || fail "history lacks the kick"
ok "history kept in ~/.slopnctl_history"

# Piped into the shell: one command per line; --json ahead of a command is
# for that line only.
out=$(printf 'sessions list\n--json sessions list\nstatus\n' | "$SLOPNCTL" --socket "$TMP/hub.sock")
echo "$out" | grep -q '^{' || fail "--json on a shell line printed no JSON: $out"
echo "$out" | sed -n '/^{/,/^}/p' | jq -e '.sessions | length == 1' > /dev/null || fail "the JSON line is not the session list"
echo "$out" | grep -q "^ID " || fail "the plain line printed no table"
[ "$(echo "$out" | grep -c '^{')" = 1 ] || fail "--json leaked to the next line"
ok "piped shell input, --json for one line"
echo "PASS"
