#!/bin/bash
# The interactive slopnctl shell, driven through a real pseudo-terminal:
# Tab completes commands, subcommands, live session ids and VIPs, and token
# names from the running hub; commands run; Ctrl-C stops monitor and
# returns to the prompt, and at the prompt drops the line typed; history is
# kept in $HOME.
unset SLOPNCTL_PLAIN # slopnctl is under test: the sanitized one, if built so
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "needs python3"
topo 2
start_hub
connect_clients 2
ctl token add alice-laptop >/dev/null || fail "token add"
ctl token add bob@laptop >/dev/null || fail "token add"
ctl token add bob@phone >/dev/null || fail "token add"

# A terminal session (term.py): send keys, wait for the screen to show a pattern.
cat > "$TMP/shell.py" <<'PY'
import os, re, socket, sys, time
sys.path.insert(0, sys.argv[1])
from term import Term
# A daemon that never answers: the socket listens, no one accepts.
silent = socket.socket(socket.AF_UNIX)
silent.bind(os.environ["TMP"] + "/silent.sock")
silent.listen(4)
t = Term(sys.argv[2:])
t.expect(r"slopn> ")
t.send("sess\t")                       # a command
t.expect(r"sessions ")
t.send("k\t")                          # its subcommand
t.expect(r"kick ")
t.send("\t\t")                         # live values, listed on a double Tab
t.expect(r"10\.100\.0\.2\s+10\.100\.0\.3|1\s+10\.100\.0\.2")
listing = t.screen
for v in (b"1", b"2", b"10.100.0.2", b"10.100.0.3"):
    if not re.search(rb"(^|\s)" + re.escape(v) + rb"(\s|$)", listing):
        sys.exit("FAIL: %s not offered: %r" % (v, listing))
print("ok: sessions kick <Tab><Tab> offers ids 1 2 and VIPs 10.100.0.2 10.100.0.3")
t.send("\x15")                         # Ctrl-U: clear the line
t.send("sessions kick 10.100.0.3 --reason from-the-shell\r")
t.expect(r"kicked 1 session")
print("ok: a command runs from the shell")
t.send("token remove bob@phone")       # typed, then thought better of
t.expect(r"bob@phone")
t.send("\x03")                         # Ctrl-C drops the line, as in bash
t.expect(r"slopn> ")
t.send("\r")                           # and the next Enter runs nothing
t.expect(r"slopn> ")
dropped = t.screen
t.send("token list\r")
t.expect(r"bob@phone[\s\S]*slopn> ")
if b"removed" in dropped + t.screen:
    sys.exit("FAIL: the line dropped by Ctrl-C ran: %r" % (dropped + t.screen))
print("ok: Ctrl-C at the prompt drops the line: Enter then runs nothing")
t.send("token remove al\t")            # a token name from the daemon
t.expect(r"alice-laptop ")
t.send("\r")
t.expect(r"token 'alice-laptop' removed")
print("ok: token remove <Tab> completed alice-laptop")
t.send("token remove bob@l\t")         # past an '@', which readline would break at
t.expect(r"bob@laptop ")
t.send("\r")
t.expect(r"token 'bob@laptop' removed")
print("ok: token remove bob@l<Tab> completed bob@laptop")
t.send("bogus\r")
t.expect(r"unknown command 'bogus'")
t.send("token add 'unclosed\r")
t.expect(r"unclosed quote[\s\S]*slopn> ")
t.send("monitor\r")
t.expect(r"watching events")
t.send("\x03")                         # Ctrl-C stops the watch, not the shell
t.expect(r"slopn> ")
t.drain(0.3)
if b"closed the connection" in t.screen:
    sys.exit("FAIL: Ctrl-C in monitor said the daemon closed: %r" % t.screen)
if t.screen.count(b"slopn> ") != 1:                # the Ctrl-C was the watch's, not the prompt's
    sys.exit("FAIL: Ctrl-C in monitor left %d prompts: %r" % (t.screen.count(b"slopn> "), t.screen))
print("ok: Ctrl-C stops monitor: back at one prompt, nothing said")
t.send("sessions list\r")              # the next command reads its own answer
t.expect(r"ID +TOKEN[\s\S]*slopn> ")
t.send("token remove bob@phone --socket %s/silent.sock\r" % os.environ["TMP"])
time.sleep(0.3)
t.send("\x03")                         # Ctrl-C before the answer came
t.expect(r"\nslopnctl: interrupted; the daemon may have made the change: 'token list' shows whether\r?\nslopn> ")
print("ok: Ctrl-C before a change's answer: back at the prompt, told how to check")
t.send("token remove --socket %s/silent.sock b\t" % os.environ["TMP"])
time.sleep(0.1)                        # the completion waits on the daemon (1 s at most)
t.send("\x03")                         # Ctrl-C stops it at once, and drops the line
t.expect(r"slopn> ", timeout=0.5)      # well before the completion's own 1 s
t.send("\r")
t.expect(r"slopn> ")
if b"slopnctl:" in t.screen:
    sys.exit("FAIL: the line of a completion stopped by Ctrl-C ran: %r" % t.screen)
print("ok: Ctrl-C stops a completion that waits on the daemon, and drops the line")
t.send("help\r")
t.expect(r"token remove NAME[\s\S]*quit, exit, Ctrl-D[\s\S]*slopn> ")  # the prompt is back: Ctrl-D now reaches readline
if b"Usage: slopnctl" in t.screen:
    sys.exit("FAIL: the shell's help is the one-shot usage: %r" % t.screen)
t.send("\x04")                         # Ctrl-D leaves
sys.exit(0 if t.wait() else "FAIL: shell did not exit")
PY
mkdir "$TMP/home"
HOME="$TMP/home" TMP="$TMP" TERM=dumb SLOPNCTL_SOCKET="$TMP/hub.sock" timeout 30 python3 "$TMP/shell.py" "$(cd "$(dirname "$0")" && pwd)" "$SLOPNCTL" ||
	fail "the shell session failed"
wait_until 2 "c2's status to give the shell's kick" client_down c2 "kicked: from-the-shell \\(code 4\\)$" 4
grep -qx "token remove alice-laptop *" "$TMP/home/.slopnctl_history" || fail "history: $(cat "$TMP/home/.slopnctl_history")"
grep -qx "sessions kick 10.100.0.3 --reason from-the-shell" "$TMP/home/.slopnctl_history" || fail "history lacks the kick"
ctl --json token list | jq -e 'any(.tokens[]; .name == "bob@phone")' > /dev/null ||
	fail "the token remove dropped by Ctrl-C removed bob@phone"
grep -qx "token add 'unclosed" "$TMP/home/.slopnctl_history" || fail "history lacks the line with an unclosed quote"
ok "history kept in ~/.slopnctl_history, a line with an unclosed quote too"

# Ctrl-C after the prompt saw a key and before readline read it: the
# terminal throws the typed keys away as it sends SIGINT, and readline's
# own reader then waited for the next key, the line neither dropped nor a
# prompt shown (a loaded CI machine, once in a few runs). A slopnctl that
# waits 300 ms before each read of a key (the test knob) makes that window,
# at the prompt and in a history search (where readline's own handling of
# the Ctrl-C freed the search it was in: a crash).
cat > "$TMP/slowkeys.py" <<'PY'
import sys, time
sys.path.insert(0, sys.argv[1])
from term import Term
t = Term(sys.argv[2:])
t.expect(r"slopn> ")
t.send("token remove bob@phone")       # the first key seen, then
time.sleep(0.1)
t.send("\x03")                         # Ctrl-C while it is read
t.expect(r"\^C[\s\S]*\n[\s\S]*slopn> ")
t.send("\r")                           # Enter runs nothing: the line went
t.expect(r"slopn> ")
if b"slopnctl" in t.screen or b"removed" in t.screen:
    sys.exit("FAIL: the line dropped by Ctrl-C ran: %r" % t.screen)
print("ok: at the prompt")
t.send("\x12")                         # Ctrl-R: a history search
t.expect(r"reverse-i-search")
t.send("t")
time.sleep(0.1)
t.send("\x03")
t.expect(r"\^C[\s\S]*\n[\s\S]*slopn> ")
print("ok: in a history search")
t.send("\x04")
sys.exit(0 if t.wait() else "FAIL: shell did not exit")
PY
HOME="$TMP/home" TERM=xterm SLOPNCTL_SOCKET="$TMP/hub.sock" SLOPNCTL_TEST_KEY_DELAY_MS=300 timeout 60 \
	python3 "$TMP/slowkeys.py" "$(cd "$(dirname "$0")" && pwd)" "$SLOPNCTL" || fail "Ctrl-C while a key is read"
ctl --json token list | jq -e 'any(.tokens[]; .name == "bob@phone")' > /dev/null ||
	fail "the token remove dropped by Ctrl-C while a key was read removed bob@phone"
ok "Ctrl-C while the shell reads a key it saw (at the prompt, in a search): the line dropped, a new prompt"

# Ctrl-C in a paste (readline reads one to its end marker in one go): an
# end of input there made readline read past its buffer, and Ctrl-Cs as
# keys made it read on for ever. Then the terminal goes (a window closed):
# the shell keeps its history, as at Ctrl-D, and dies of the SIGHUP; the
# line half typed is not run.
cat > "$TMP/hangup.py" <<'PY'
import os, signal, sys, time
sys.path.insert(0, sys.argv[1])
from term import Term
t = Term(sys.argv[2:])
def cpu():
    s = open("/proc/%d/stat" % t.pid).read().rsplit(")", 1)[1].split()
    return int(s[11]) + int(s[12])
t.expect(r"slopn> ")
t.send("\x1b[200~token remove bob@phone")   # a paste under way
time.sleep(0.5)
t.send("\x03")
t.expect(r"\^C[\s\S]*\n[\s\S]*slopn> ")
c0 = cpu()
time.sleep(0.5)
if cpu() - c0 > 10:
    sys.exit("FAIL: busy after a Ctrl-C in a paste: %d ticks in 0.5 s" % (cpu() - c0))
t.send("\r")
t.expect(r"slopn> ")
if b"slopnctl" in t.screen or b"removed" in t.screen:
    sys.exit("FAIL: the pasted line dropped by Ctrl-C ran: %r" % t.screen)
print("ok: Ctrl-C in a paste")
t.send("token list --json\r")
t.expect(r"slopn> ")
t.send("token remove bob@phone")
t.expect(r"bob@phone")
os.close(t.fd)
_, st = os.waitpid(t.pid, 0)
if not os.WIFSIGNALED(st) or os.WTERMSIG(st) != signal.SIGHUP:
    sys.exit("FAIL: the shell ended with status %#x, not by SIGHUP" % st)
PY
HOME="$TMP/home" TERM=xterm SLOPNCTL_SOCKET="$TMP/hub.sock" timeout 30 \
	python3 "$TMP/hangup.py" "$(cd "$(dirname "$0")" && pwd)" "$SLOPNCTL" || fail "a paste, then the terminal hung up"
ok "Ctrl-C in a paste drops the line; the shell does not spin"
[ "$(tail -1 "$TMP/home/.slopnctl_history")" = "token list --json" ] ||
	fail "history after a hangup: $(tail -3 "$TMP/home/.slopnctl_history")"
ctl --json token list | jq -e 'any(.tokens[]; .name == "bob@phone")' > /dev/null ||
	fail "the line half typed when the terminal went was run"
ok "the terminal hangs up: history kept, the half-typed line not run, the shell dies of SIGHUP"

# Three more ends, on a terminal of the test's own (the shell's modes read
# from its side after): Ctrl-\ kills the shell, which puts the terminal as
# it was first (readline's raw mode, without echo, was left); a terminal
# that hangs up without a SIGHUP (not the shell's controlling one) ends
# the shell (it read nothing for ever at full speed); a window resized at
# the prompt wraps the line at its new width (the width was the old one).
cat > "$TMP/ends.py" <<'PY'
import fcntl, os, resource, select, signal, struct, subprocess, sys, termios, time
def spawn(session, cols=80, ignore=None):
    m, s = os.openpty()
    fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    def pre():
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if ignore:
            signal.signal(ignore, signal.SIG_IGN)
        if session:                      # the terminal is its controlling one
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    p = subprocess.Popen(sys.argv[1:], stdin=s, stdout=s, stderr=s, preexec_fn=pre,
                         start_new_session=not session)
    return p, m, s
def read_until(m, pat, secs=5):
    out, end = b"", time.time() + secs
    while time.time() < end and pat not in out:
        if select.select([m], [], [], 0.05)[0]:
            try:
                out += os.read(m, 65536)
            except OSError:
                break
    if pat not in out:
        sys.exit("FAIL: the terminal never showed %r: %r" % (pat, out))
    return out
def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])
p, m, s = spawn(True)
read_until(m, b"slopn> ")
os.write(m, b"tok\x1c")                 # Ctrl-\\
try:
    p.wait(timeout=5)
except subprocess.TimeoutExpired:
    sys.exit("FAIL: Ctrl-\\ did not end the shell")
if p.returncode != -signal.SIGQUIT:
    sys.exit("FAIL: Ctrl-\\: the shell ended with %d, not by SIGQUIT" % p.returncode)
a = termios.tcgetattr(s)
if not (a[3] & termios.ICANON and a[3] & termios.ECHO) or a[6][termios.VMIN] != b"\x01":
    sys.exit("FAIL: the terminal after Ctrl-\\: lflag %#x, VMIN %r" % (a[3], a[6][termios.VMIN]))
print("ok: Ctrl-\\ ends the shell, the terminal as it was")
os.close(m), os.close(s)
p, m, s = spawn(False)
read_until(m, b"slopn> ")
os.write(m, b"token remove bob@phone")
read_until(m, b"phone")
os.close(m), os.close(s)
try:
    p.wait(timeout=5)
except subprocess.TimeoutExpired:
    c0 = cpu(p.pid); time.sleep(1); c1 = cpu(p.pid)
    p.kill(); p.wait()
    sys.exit("FAIL: the shell went on when its terminal went (%d ticks in 1 s)" % (c1 - c0))
print("ok: a terminal gone without a SIGHUP ends the shell (status %d)" % p.returncode)
p, m, s = spawn(True, ignore=signal.SIGHUP)   # nohup slopnctl
read_until(m, b"slopn> ")
os.close(m), os.close(s)
try:
    p.wait(timeout=5)
except subprocess.TimeoutExpired:
    p.kill(); p.wait()
    sys.exit("FAIL: the shell went on when its terminal went, SIGHUP ignored")
if p.returncode < 0:
    sys.exit("FAIL: SIGHUP ignored by the shell's caller, yet it died of signal %d" % -p.returncode)
print("ok: a SIGHUP ignored by the caller stays ignored: the shell ends as at Ctrl-D")
p, m, s = spawn(True)
read_until(m, b"slopn> ")
fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 20, 0, 0))
time.sleep(0.3)
os.write(m, b"abcdefghijklmnopqrstuvwxyz0123")
read_until(m, b"0123")
os.write(m, b"\x01")                    # Ctrl-A: to the start, a row up
read_until(m, b"\x1b[A")
os.write(m, b"\x05\x15\x04")            # the line cleared, Ctrl-D
p.wait(timeout=5)
print("ok: a window resized at the prompt: the line wraps at its new width")
PY
HOME="$TMP/home" TERM=xterm SLOPNCTL_SOCKET="$TMP/hub.sock" timeout 60 python3 "$TMP/ends.py" "$SLOPNCTL" ||
	fail "the shell's ends: Ctrl-\\, a terminal gone, a resized window"
ctl --json token list | jq -e 'any(.tokens[]; .name == "bob@phone")' > /dev/null ||
	fail "the line half typed when the terminal went (no SIGHUP) was run"
ok "the shell's ends: Ctrl-\\ (the terminal put back), a terminal gone without SIGHUP, a resized window"

# Piped into the shell: one command per line; --json ahead of a command is
# for that line only.
out=$(printf 'sessions list\n--json sessions list\nstatus\n' | "$SLOPNCTL" --socket "$TMP/hub.sock")
echo "$out" | grep -q '^{' || fail "--json on a shell line printed no JSON: $out"
echo "$out" | sed -n '/^{/,/^}/p' | jq -e '.sessions | type == "array"' > /dev/null || fail "the JSON line is not the session list"
echo "$out" | grep -q "^ID " || fail "the plain line printed no table"
[ "$(echo "$out" | grep -c '^{')" = 1 ] || fail "--json leaked to the next line"
ok "piped shell input, --json for one line"
# The first failure's status, though the lines after it ran; CRLF line
# ends (a file from Windows) read as LF.
rc=0
err=$(printf 'token remove nosuch!\r\nstatus\r\n' | "$SLOPNCTL" --socket "$TMP/hub.sock" 2>&1 > "$TMP/piped.out") || rc=$?
[ "$rc" = 2 ] || fail "piped shell with a usage error on its first line exited $rc, not 2: $err"
[[ $err == *"NAME 'nosuch!'"* && $err != *"unknown command"* ]] || fail "piped CRLF lines: $err"
grep -q "^uptime:" "$TMP/piped.out" || fail "status after the failed line did not run: $(cat "$TMP/piped.out")"
ok "piped shell: the first failure's status (2), CRLF lines read"
# A NUL byte in a piped line: the line is not run (it was cut at the NUL,
# and the shorter command ran: here a token add of 'nul').
rc=0
err=$(printf 'token add nul\0-with-more\nstatus\n' | "$SLOPNCTL" --socket "$TMP/hub.sock" 2>&1 > "$TMP/piped.out") || rc=$?
[ "$rc" = 2 ] || fail "piped line with a NUL byte: exit $rc, not 2: $err"
[[ $err == *"a NUL byte in the line; the line was not run"* ]] || fail "piped line with a NUL byte: $err"
ctl --json token list | jq -e 'any(.tokens[]; .name == "nul") | not' > /dev/null || fail "a piped line with a NUL byte ran"
grep -q "^uptime:" "$TMP/piped.out" || fail "the line after a NUL line did not run"
ok "piped shell: a line with a NUL byte is not run"
# Ctrl-C (SIGINT) on piped commands ends the batch, as it would a script:
# slopnctl dies of it while a watch runs, and the line after it is not
# run (a handler meant for the prompt stopped only the watch, and the
# batch went on, status 0).
python3 - "$SLOPNCTL" "$TMP/hub.sock" > "$TMP/piped-int.txt" 2>&1 <<'PY' || fail "piped Ctrl-C: $(cat "$TMP/piped-int.txt")"
import signal, subprocess, sys, time
p = subprocess.Popen([sys.argv[1], "--socket", sys.argv[2]], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
p.stdin.write(b"monitor\ntoken add after-ctrl-c\n")
p.stdin.flush()
time.sleep(0.5)                          # the watch under way
p.send_signal(signal.SIGINT)
try:
    out, err = p.communicate(timeout=5)
except subprocess.TimeoutExpired:
    p.kill()
    sys.exit("still running 5 s after SIGINT")
if b"watching events" not in err:
    sys.exit("the watch did not start: %r" % err)
if p.returncode != -signal.SIGINT:
    sys.exit("ended with %d, not by SIGINT: %r" % (p.returncode, out + err))
PY
ctl --json token list | jq -e 'any(.tokens[]; .name == "after-ctrl-c") | not' > /dev/null ||
	fail "the line after a piped Ctrl-C ran"
ok "piped shell: Ctrl-C ends the batch, killed by SIGINT; the next line is not run"
# A reader that goes ends the batch too: monitor, whose events' reader
# went, ends (it ignores SIGPIPE to say so), and the next command that
# writes dies of SIGPIPE as before the watch; the line after it is not run
# (SIGPIPE stayed ignored after a watch, and the batch went on).
python3 - "$SLOPNCTL" "$TMP/hub.sock" > "$TMP/piped-pipe.txt" 2>&1 <<'PY' || fail "piped, reader gone: $(cat "$TMP/piped-pipe.txt")"
import signal, subprocess, sys, time
ctl = [sys.argv[1], "--socket", sys.argv[2]]
p = subprocess.Popen(ctl, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     preexec_fn=lambda: signal.signal(signal.SIGPIPE, signal.SIG_DFL))
p.stdin.write(b"monitor\nstatus\ntoken add after-pipe\n")
p.stdin.close()
deadline = time.monotonic() + 5
while time.monotonic() < deadline:   # an event for the watch, until one comes
    subprocess.run(ctl + ["token", "add", "pipe-event"], capture_output=True)
    subprocess.run(ctl + ["token", "remove", "pipe-event"], capture_output=True)
    if p.stdout.readline():
        break
else:
    sys.exit("the watch printed no event")
p.stdout.close()                     # the reader goes
for _ in range(20):                  # events the watch cannot write
    subprocess.run(ctl + ["token", "add", "pipe-event"], capture_output=True)
    subprocess.run(ctl + ["token", "remove", "pipe-event"], capture_output=True)
    if p.poll() is not None:
        break
    time.sleep(0.1)
try:
    p.wait(timeout=5)
except subprocess.TimeoutExpired:
    p.kill()
    sys.exit("still running 5 s after its reader went")
if p.returncode != -signal.SIGPIPE:
    sys.exit("ended with %d, not by SIGPIPE: %r" % (p.returncode, p.stderr.read()))
PY
ctl --json token list | jq -e 'any(.tokens[]; .name == "after-pipe") | not' > /dev/null ||
	fail "the line after a write to a gone reader ran"
ok "piped shell: a gone reader ends the batch after monitor, killed by SIGPIPE; the next line is not run"
# A daemon that takes the connection and never answers: completion, as the
# shells' scripts ask for it, gives up within its second (it once waited a
# command's 10 s, three times over for ids and VIPs).
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
held = []
while True:
    held.append(s.accept()[0])
    print("accepted", flush=True)
' "$TMP/mute.sock" > "$TMP/mute.out" &
PIDS+=($!)
wait_until 5 "the mute daemon's socket" test -S "$TMP/mute.sock"
t0=$(now_ms)
out=$(timeout 60 "$SLOPNCTL" __complete --socket "$TMP/mute.sock" sessions kick '')
took=$(($(now_ms) - t0))
[ -z "$out" ] || fail "completion on a mute daemon offered: $out"
# It asked (and waited its second): a completion that never reached the
# socket would give up as fast.
grep -q accepted "$TMP/mute.out" || fail "completion never connected to the mute daemon"
[ "$took" -ge 900 ] && [ "$took" -lt 2000 ] ||
	fail "completion on a daemon that never answers took $took ms, not its second (0.9 to 2 s)"
ok "completion on a daemon that never answers gives up in $took ms"
echo "PASS"
