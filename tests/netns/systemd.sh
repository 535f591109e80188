#!/bin/bash
# systemd integration: the units verify, socket activation works without
# PID 1 (systemd-socket-activate hands slopnd the control socket, the first
# slopnctl call starts it, a NOTIFY_SOCKET listener sees READY=1 and
# STATUS=; handed the QUIC socket, the hub says that socket's address in
# status and invites), and an install into a DESTDIR has every file in
# its place.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip "needs systemd-analyze"
command -v systemd-socket-activate >/dev/null || skip "needs systemd-socket-activate"
BUILD=$(dirname "$SLOPND")
SRC=$(cd "$(dirname "$0")/../.." && pwd)

# 1. The units, pointing at this build's binary.
mkdir -p "$TMP/units"
for u in slopnd.service slopnd-client@.service slopnd-killswitch@.service; do
	sed "s|ExecStart=[^ ]*/slopnd|ExecStart=$SLOPND|" "$BUILD/$u" > "$TMP/units/$u"
done
cp "$SRC/units/slopnd.socket" "$TMP/units/"
cp "$TMP/units/slopnd-client@.service" "$TMP/units/slopnd-client@test.service"
cp "$TMP/units/slopnd-killswitch@.service" "$TMP/units/slopnd-killswitch@test.service"
systemd-analyze verify --man=no "$TMP/units/slopnd.service" "$TMP/units/slopnd.socket" \
	"$TMP/units/slopnd-client@test.service" "$TMP/units/slopnd-killswitch@test.service" \
	> "$TMP/verify.log" 2>&1 || {
	cat "$TMP/verify.log"; fail "systemd-analyze verify failed"; }
# Warnings about this machine (no slopn group, no /etc/slopn) are not about the units.
grep -v "slopn\.sock\|client-test\|group\|Failed to resolve" "$TMP/verify.log" | grep -i "slopn" &&
	fail "systemd-analyze verify complained: $(cat "$TMP/verify.log")"
ok "systemd-analyze verify"

# 2. Socket activation in the hub's namespace.
topo 1
python3 - "$TMP/notify.sock" > "$TMP/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
try:
    while True:
        print(s.recv(4096).decode().replace("\n", " "), flush=True)
except socket.timeout:
    pass
PY
PIDS+=($!)
for i in $(seq 100); do [ -S "$TMP/notify.sock" ] && break; sleep 0.05; done
[ -S "$TMP/notify.sock" ] || fail "notify listener did not start"
ip netns exec "$RUN-hub" systemd-socket-activate -l "$TMP/act.sock" --fdname=control \
	-E NOTIFY_SOCKET="$TMP/notify.sock" \
	"$SLOPND" server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	> "$TMP/hub.log" 2>&1 &
PIDS+=($!)
eval "PID_hub=$!"
for i in $(seq 50); do [ -S "$TMP/act.sock" ] && break; sleep 0.1; done
grep -q "listening on" "$TMP/hub.log" && fail "slopnd started before the first call"
"$SLOPNCTL" --socket "$TMP/act.sock" status > "$TMP/status.txt" || fail "slopnctl through the activated socket failed"
grep -q "^role: *server" "$TMP/status.txt" || fail "unexpected status: $(cat "$TMP/status.txt")"
grep -q "control socket from systemd" "$TMP/hub.log" || fail "slopnd did not use the passed socket"
ok "first slopnctl call started slopnd on the passed socket"
start_client c1
wait_connected c1 10.100.0.2
for i in $(seq 50); do grep -q "STATUS=1 session" "$TMP/notify.log" && break; sleep 0.1; done
grep -q "READY=1" "$TMP/notify.log" || fail "no READY=1: $(cat "$TMP/notify.log")"
grep -q "STATUS=1 session, listening on 192.0.2.1:4242" "$TMP/notify.log" ||
	fail "no STATUS with the session count: $(cat "$TMP/notify.log")"
ok "READY=1 and STATUS= with the session count"

# 2a. The QUIC socket from systemd (a ListenDatagram= socket): bound where
# systemd put it, whatever --listen says (here nothing: 0.0.0.0:4242), so
# status and invites give that address. c1's first packet starts the hub.
ip netns exec "$RUN-hub" systemd-socket-activate --datagram -l 192.0.2.1:4250 --fdname=quic \
	"$SLOPND" server --state-dir "$TMP/sd-state" --token s3cret --control "$TMP/sd.sock" \
	--tun slopnq0 --subnet 10.102.0.0/24 > "$TMP/hub-sd.log" 2>&1 &
PIDS+=($!)
udp_bound() { nsx hub ss -Hlun "sport = :$1" | grep -q .; }
wait_until 5 "systemd-socket-activate on UDP 4250" udp_bound 4250
start c1:sd client --server 192.0.2.1:4250 --token s3cret --tun slopnq1
wait_connected c1:sd 10.102.0.2
expect_eq "what the hub with systemd's socket listens on" \
	"$("$SLOPNCTL" --socket "$TMP/sd.sock" --json status | jq -r .listen)" 192.0.2.1:4250
expect_eq "the host of its invite" "$("$SLOPNCTL" --socket "$TMP/sd.sock" --json token add t |
	jq -r .invite | sed 's|.*@||; s|?.*||')" 192.0.2.1:4250
ok "a QUIC socket from systemd: status and invites give its address, not --listen's"

# 2b. Started as the units start them, but with no systemd in between
# (the hub without slopnd.socket, a plain systemctl start): with no more
# than the unit's capabilities and with its supplementary groups (setpriv
# applies both), the hub and a client run and give their control sockets
# to group slopn, 0660. The group is this test's: a copy of /etc/group with
# slopn in it, bound over /etc/group in a mount namespace of the daemon's
# own (unshare and setpriv: util-linux).
gid=64999
while getent group "$gid" >/dev/null; do gid=$((gid - 1)); done
{ grep -v '^slopn:' /etc/group; echo "slopn:x:$gid:"; } > "$TMP/group"
# as_unit UNIT NAME NS ARGS...: slopnd ARGS in NS as UNIT would run it.
as_unit() {
	local unit=$TMP/units/$1 n=$2 where=$3 caps groups
	shift 3
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
	groups=$(sed -n 's/^SupplementaryGroups=//p' "$unit")
	unshare -m --propagation private sh -c 'mount --bind "$1" /etc/group && shift && exec "$@"' sh \
		"$TMP/group" ip netns exec "$RUN-$where" setpriv --bounding-set "-all,$caps" \
		${groups:+--groups "$groups"} "$SLOPND" "$@" > "$TMP/$n.log" 2>&1 &
	PIDS+=($!)
	eval "PID_${n//-/_}=$!"
}
as_unit slopnd.service hub-unit hub server --listen 192.0.2.1:4243 --tun slopnu0 --subnet 10.101.0.0/24 \
	--state-dir "$TMP/hub-unit-state" --token s3cret --control "$TMP/hub-unit.sock"
wait_hub "$TMP/hub-unit.sock"
as_unit slopnd-client@.service cu c1 client --server 192.0.2.1:4243 --token s3cret --tun slopnu1 \
	--state-dir "$TMP/cu-state" --control "$TMP/cu.sock"
wait_connected cu 10.101.0.2
expect_eq "control sockets of the hub and a client as their units run them (gid mode)" \
	"$(stat -c '%g %a' "$TMP/hub-unit.sock" "$TMP/cu.sock" | tr '\n' ' ')" "$gid 660 $gid 660 "
stop cu
stop hub:unit
# Logging to the journal: tests/netns/journal.sh.

# 3. Install into a DESTDIR.
meson install -C "$BUILD" --destdir "$TMP/dest" --no-rebuild --quiet > "$TMP/install.log" 2>&1 ||
	fail "meson install failed: $(tail -5 "$TMP/install.log")"
prefix=$(meson introspect "$BUILD" --buildoptions | jq -r '.[] | select(.name == "prefix") | .value')
for f in sbin/slopnd bin/slopnctl share/man/man8/slopnd.8 share/man/man8/slopnctl.8 \
	share/man/man5/slopnd.conf.5 share/doc/slopn/slopnd.conf.example share/doc/slopn/control-api.md; do
	[ -f "$TMP/dest$prefix/$f" ] || fail "not installed: $prefix/$f"
done
# Under the prefix, where systemd looks too (for /usr/local: not in the
# directories Debian's packages own).
for f in slopnd.service slopnd.socket slopnd-client@.service slopnd-killswitch@.service; do
	[ -f "$TMP/dest$prefix/lib/systemd/system/$f" ] || fail "unit $f not installed in $prefix/lib/systemd/system"
done
systemd-analyze unit-paths | grep -qx "$prefix/lib/systemd/system" ||
	fail "systemd does not look for units in $prefix/lib/systemd/system"
[ -f "$TMP/dest$prefix/lib/sysusers.d/slopn.conf" ] || fail "sysusers.d entry not installed in $prefix/lib"
tmpf=$TMP/dest$prefix/lib/tmpfiles.d/slopn.conf
[ -f "$tmpf" ] || fail "tmpfiles.d entry not installed in $prefix/lib"
# fish's completions too (it reads them under /usr/local when
# XDG_DATA_DIRS names /usr/local/share; -Dfishcompletiondir otherwise).
outside=$(find "$TMP/dest" -type f | grep -v "^$TMP/dest$prefix/" || true)
[ -z "$outside" ] || fail "installed outside $prefix: $outside"
ok "units, sysusers.d and tmpfiles.d entries under $prefix/lib, nothing outside $prefix"
# What it makes, in a root of its own: /etc/slopn holds tokens, and the
# lock legacy iptables takes exists before the sandboxed hub needs it.
mkdir -p "$TMP/root"
systemd-tmpfiles --create --root="$TMP/root" "$tmpf" > "$TMP/tmpfiles.log" 2>&1 ||
	fail "systemd-tmpfiles --create failed: $(cat "$TMP/tmpfiles.log")"
expect_eq "tmpfiles: /etc/slopn, /var/lib/slopn, /run/xtables.lock" \
	"$(stat -c '%a %F' "$TMP/root/etc/slopn" "$TMP/root/var/lib/slopn" "$TMP/root/run/xtables.lock" | paste -sd, -)" \
	"750 directory,700 directory,600 regular empty file"
# Completions where each shell looks for them.
[ "$prefix" = /usr ] && zdir=/usr/share/zsh/vendor-completions || zdir=$prefix/share/zsh/site-functions
for f in "$prefix/share/bash-completion/completions/slopnctl" "$prefix/share/bash-completion/completions/slopnd" \
	"$zdir/_slopnctl" "$zdir/_slopnd" \
	"$prefix/share/fish/vendor_completions.d/slopnctl.fish" "$prefix/share/fish/vendor_completions.d/slopnd.fish"; do
	[ -f "$TMP/dest$f" ] || fail "completion not installed: $f"
done
if command -v zsh >/dev/null; then
	zsh -fc 'print -l $fpath' | grep -qx "$zdir" || fail "$zdir is not in zsh's fpath"
fi
if command -v fish >/dev/null; then
	XDG_DATA_DIRS=$prefix/share:/usr/share fish -c 'string join \n $fish_complete_path' |
		grep -qx "$prefix/share/fish/vendor_completions.d" ||
		fail "fish does not look in $prefix/share/fish/vendor_completions.d"
fi
ok "completions installed where bash, zsh ($zdir) and fish look"
grep -q "ExecStart=$prefix/sbin/slopnd server" "$(find "$TMP/dest" -name slopnd.service)" ||
	fail "installed unit does not point at $prefix/sbin/slopnd"
for page in man8/slopnd.8 man8/slopnctl.8; do
	grep -q "$prefix/share/doc/slopn" "$TMP/dest$prefix/share/man/$page" ||
		fail "$page does not name $prefix/share/doc/slopn, where control-api.md is"
done
ok "DESTDIR install complete"
