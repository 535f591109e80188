#!/bin/bash
# What slopnd says when something is wrong: one prefix, one line and a
# pointer to help for usage errors, FILE:LINE for the config file, hints
# that fit the cause (a TUN name in use, a state directory it may not
# read), and warnings for input it takes but that may not be what was meant.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 1

# kept CMD...: CMD, its stderr (given on to the caller's) also appended to
# $TMP/slopnd-stderr.txt, where cleanup looks for sanitizer reports: the
# err.txt of the checks below is written over at each run.
kept() {
	local rc=0
	"$@" 2> "$TMP/last-stderr" || rc=$?
	cat "$TMP/last-stderr" >> "$TMP/slopnd-stderr.txt"
	cat "$TMP/last-stderr" >&2
	return $rc
}
# hubd ARGS...: slopnd ARGS in the hub's namespace, its stderr kept.
hubd() { kept nsx hub "$SLOPND" "$@"; }

# usage_error WHAT EXPECTED-FIRST-LINE ARGS...: exit 2, two lines on stderr.
usage_error() {
	local what=$1 want=$2
	shift 2
	hubd "$@" > "$TMP/out.txt" 2> "$TMP/err.txt"; local rc=$?
	[ $rc = 2 ] || fail "$what: exit $rc, not 2 ($(cat "$TMP/err.txt"))"
	expect_eq "$what: first line" "$(head -n 1 "$TMP/err.txt")" "$want"
	expect_eq "$what: second line" "$(sed -n 2p "$TMP/err.txt")" "Try 'slopnd ${1} --help'."
	expect_eq "$what: lines" "$(wc -l < "$TMP/err.txt")" 2
}
usage_error "unknown option" "slopnd: error: unknown option '--bogus'" server --bogus
usage_error "missing value" "slopnd: error: --mtu needs a value" server --mtu
usage_error "a value that is an option" \
	"slopnd: error: --control needs a value, not the option '--help' (write --control=VALUE to mean it)" \
	server --control --help
usage_error "host bits in --subnet" \
	"slopnd: error: --subnet '10.100.0.5/24': host bits are set (the network is 10.100.0.0/24)" \
	server --subnet 10.100.0.5/24
usage_error "a --subnet no client takes" \
	"slopnd: error: --subnet '127.1.0.0/16': not a unicast network (0/8, 127/8 and 224/3 cannot hold VPN addresses)" \
	server --subnet 127.1.0.0/16
usage_error "a --subnet6 no client takes" \
	"slopnd: error: --subnet6 'fe80::/64': not a unicast network for global or unique local addresses (such as fd00:1:2:3::/64)" \
	server --subnet6 fe80::/64
usage_error "a --dns clients cannot ask" \
	"slopnd: error: --dns '127.0.0.53': clients cannot ask a DNS server there (loopback would be their own; link-local, multicast and unspecified addresses do not do): give one they reach through the tunnel, such as the hub's VPN address" \
	server --dns 127.0.0.53
usage_error "a client without a hub" \
	"slopnd: error: no hub given: give an invite (slopnd client 'slopn://...') or --server HOST:PORT and --token TOKEN" client
usage_error "a client without a token" \
	"slopnd: error: no --token TOKEN for the hub 192.0.2.1:4242 (or give an invite: slopnd client 'slopn://...')" \
	client --server 192.0.2.1:4242
usage_error "a client without --server" \
	"slopnd: error: --token but no hub: give --server HOST:PORT (or an invite: slopnd client 'slopn://...')" \
	client --token s3cret
usage_error "a client's hub without --server" \
	"slopnd: error: unexpected argument 'vpn.example.com:4242' (the hub? give --server vpn.example.com:4242)" \
	client vpn.example.com:4242 --token s3cret
usage_error "a --server IPv6 address without brackets" \
	"slopnd: error: --server '2001:db8::1': an IPv6 address goes in brackets: [2001:db8::1]:PORT" \
	client --server 2001:db8::1 --token s3cret
usage_error "a --server IPv6 address and port without brackets" \
	"slopnd: error: --server '2001:db8::5:4242': an IPv6 address goes in brackets: [2001:db8::5]:4242 if 4242 is the port, else [2001:db8::5:4242]:PORT" \
	client --server 2001:db8::5:4242 --token s3cret
usage_error "a --server URL" "slopnd: error: --server 'http://hub:4242': expected HOST:PORT" \
	client --server http://hub:4242 --token s3cret
usage_error "a --public-address IPv6 address without brackets" \
	"slopnd: error: --public-address '2001:db8::7': an IPv6 address goes in brackets: [2001:db8::7]:PORT" \
	server --public-address 2001:db8::7
# A login carries the token as a JSON string: one that is not text could
# never log in, and is refused at the start.
usage_error "a --token not UTF-8" "slopnd: error: --token: byte 3 is a control character or not UTF-8 text" \
	client --server 192.0.2.1:4242 --token $'ab\xffc'
# Nor one longer than a login carries (3736 bytes of plain text), either
# role's: never cut short.
long=$(printf 'a%.0s' {1..3737})
usage_error "a --token longer than a login carries" \
	"slopnd: error: --token: 3737 bytes, more than a login carries: at most 3736 (each \" or \\ counts twice)" \
	client --server 192.0.2.1:4242 --token "$long"
usage_error "a hub's --token longer than a login carries" \
	"slopnd: error: --token: 3737 bytes, more than a login carries: at most 3736 (each \" or \\ counts twice)" \
	server --token "$long"
usage_error "an invite's token longer than a login carries" \
	"slopnd: error: --invite: 3737 bytes, more than a login carries: at most 3736 (each \" or \\ counts twice)" \
	client --invite "slopn://$long@192.0.2.1"
usage_error "an invite with an empty pin" "slopnd: error: --invite: pin: expected sha256: and 64 hex digits" \
	client --invite 'slopn://t@192.0.2.1?pin='
usage_error "an empty --state-dir" "slopnd: error: --state-dir: needs a directory" server --state-dir=
usage_error "a link-local --public-address" \
	"slopnd: error: --public-address '[fe80::1]': not usable in an invite: host: 'fe80::1' is link-local, which needs an interface an invite cannot carry: give the hub's global address" \
	server --public-address '[fe80::1]'
[ -e "$TMP/--help" ] && fail "a socket named --help was made"
# A --tun name the kernel refuses is said at the start, not taken at
# TUNSETIFF for a name in use by an interface of another kind.
usage_error "a --tun name with a colon" \
	"slopnd: error: --tun 'a:b': interface names cannot hold '/', ':' or spaces" server --tun a:b
usage_error "a --tun name with a space" \
	"slopnd: error: --tun 'a b': interface names cannot hold '/', ':' or spaces" client --tun 'a b'
usage_error "a --tun name with two %d" \
	"slopnd: error: --tun 'x%d%d': '%' only as one %d, for the number the kernel picks (such as slopn%d)" \
	server --tun 'x%d%d'
usage_error "a --tun name of .." "slopnd: error: --tun '..': not an interface name (. and .. are not)" server --tun ..

# Config errors: FILE:LINE: the setting and the problem.
printf 'listen = 192.0.2.1:4242\nmtu = 9000\n' > "$TMP/bad.conf"
hubd server --config "$TMP/bad.conf" 2> "$TMP/err.txt"; expect_eq "bad config exits" "$?" 2
expect_eq "config error" "$(cat "$TMP/err.txt")" "slopnd: error: $TMP/bad.conf:2: mtu '9000': must be 576..1400"
printf '# a comment\nlisten 192.0.2.1\n' > "$TMP/bad.conf"
hubd server --config "$TMP/bad.conf" 2> "$TMP/err.txt"
expect_eq "config syntax error" "$(cat "$TMP/err.txt")" "slopnd: error: $TMP/bad.conf:2: expected 'key = value'"
# The file is found as getopt finds --config (an abbreviation too), a
# directory is not read as an empty file, and --help is not hidden by a
# broken file.
printf 'listen = 192.0.2.1:4242\nmtu = 9000\n' > "$TMP/bad.conf"
hubd server --conf "$TMP/bad.conf" 2> "$TMP/err.txt"; expect_eq "--conf FILE exits" "$?" 2
expect_eq "--conf FILE is read" "$(cat "$TMP/err.txt")" "slopnd: error: $TMP/bad.conf:2: mtu '9000': must be 576..1400"
hubd server --config "$TMP" 2> "$TMP/err.txt"; expect_eq "a directory as config exits" "$?" 2
expect_eq "a directory as config" "$(cat "$TMP/err.txt")" \
	"slopnd: error: config $TMP is not a file (a directory): give the file of settings"
# A FIFO: refused at once, not waited on for a writer (its open blocked).
mkfifo "$TMP/fifo.conf"
SECONDS=0
kept nsx hub timeout 10 "$SLOPND" server --config "$TMP/fifo.conf" 2> "$TMP/err.txt"
expect_eq "a FIFO as config exits" "$?" 2
[ $SECONDS -le 3 ] || fail "a FIFO as config took ${SECONDS}s to be refused"
expect_eq "a FIFO as config" "$(cat "$TMP/err.txt")" \
	"slopnd: error: config $TMP/fifo.conf is not a file (a device, pipe or socket): give the file of settings"
# A state directory another user owns, or may write, is refused: they
# could put a key of theirs in hub.key, or tokens in tokens.json. The hub
# and a client exit 2 (a unit restarts on 1, for ever), naming it and
# saying what to do; slopnd pin, which only reads it, takes any owner but
# not a mode that lets others write; the same directory made root's and
# 0700 is used.
mkdir "$TMP/open-state"
chown 12345 "$TMP/open-state"
chmod 0777 "$TMP/open-state"
want="state directory $TMP/open-state is owned by uid 12345, not this user's or root's, and writable by its group or others (mode 0777): another user could replace the files kept there (the hub's key, its tokens); chown 0 $TMP/open-state and chmod go-w $TMP/open-state, or give another --state-dir"
kept nsx hub timeout 10 "$SLOPND" server --listen 192.0.2.1:4999 --token x --tun open0 \
	--state-dir "$TMP/open-state" --control "$TMP/open.sock" 2> "$TMP/err.txt"
expect_eq "a hub on another user's world-writable state directory exits" "$?" 2
grep -qF "slopnd: error: $want" "$TMP/err.txt" || fail "hub on an open state directory: $(cat "$TMP/err.txt")"
[ -e "$TMP/open-state/hub.key" ] && fail "the hub made a key in another user's state directory"
kept "$SLOPND" pin --state-dir "$TMP/open-state" 2> "$TMP/err.txt"
expect_eq "slopnd pin on that directory exits" "$?" 1
grep -qF "slopnd: error: state directory $TMP/open-state is writable by its group or others (mode 0777): another user could replace the files kept there (the hub's key, its tokens); chmod go-w $TMP/open-state, or give another --state-dir" "$TMP/err.txt" ||
	fail "pin on an open state directory: $(cat "$TMP/err.txt")"
kept nsx c1 timeout 10 "$SLOPND" client --server 192.0.2.1:4999 --token x --tun open1 \
	--state-dir "$TMP/open-state" 2> "$TMP/err.txt"
expect_eq "a client on that directory exits" "$?" 2
# In its own words: what it keeps there is not the hub's.
want="state directory $TMP/open-state is owned by uid 12345, not this user's or root's, and writable by its group or others (mode 0777): another user could replace the client's files kept there (its id, the hub's addresses, the original resolv.conf); chown 0 $TMP/open-state and chmod go-w $TMP/open-state, or give another --state-dir"
grep -qF "slopnd: error: $want" "$TMP/err.txt" || fail "client on an open state directory: $(cat "$TMP/err.txt")"
chmod 0755 "$TMP/open-state"
kept "$SLOPND" pin --state-dir "$TMP/open-state" > "$TMP/out.txt" 2> "$TMP/err.txt" ||
	fail "pin on another user's 0755 state directory: $(cat "$TMP/err.txt")"
grep -q "^sha256:" "$TMP/out.txt" || fail "pin on another user's 0755 state directory printed: $(cat "$TMP/out.txt")"
rm -f "$TMP/open-state/hub.key" "$TMP/open-state/hub.crt" "$TMP/open-state/hub.lock"
chown 0 "$TMP/open-state"
chmod 0775 "$TMP/open-state"
kept nsx hub timeout 10 "$SLOPND" server --listen 192.0.2.1:4999 --token x --tun open0 \
	--state-dir "$TMP/open-state" --control "$TMP/open.sock" 2> "$TMP/err.txt"
grep -qF "state directory $TMP/open-state is writable by its group or others (mode 0775): another user could replace the files kept there (the hub's key, its tokens); chmod go-w $TMP/open-state, or give another --state-dir" "$TMP/err.txt" ||
	fail "hub on a group-writable state directory: $(cat "$TMP/err.txt")"
chmod 0700 "$TMP/open-state"
kept nsx hub timeout 3 "$SLOPND" server --listen 192.0.2.1:4999 --token x --tun open0 \
	--state-dir "$TMP/open-state" --control "$TMP/open.sock" 2> "$TMP/err.txt"
grep -q "pin sha256:" "$TMP/err.txt" || fail "no hub on root's 0700 state directory: $(cat "$TMP/err.txt")"
ok "a state directory of another user, or writable by others, is refused by the hub and a client (exit 2), pin if others may write it; root's 0700 is used"
# The control socket's directory likewise: another user who owns it or
# may write it could put a socket of theirs where slopnctl looks for the
# hub's. The hub and a client exit 2 before they listen, naming it and
# saying what to do, and leave no socket there; root's 0755 (/run/slopn as
# the unit's RuntimeDirectory= makes it) is used, and so is a socket
# systemd hands over, whatever --control's directory is: nothing is made.
# Both refuse it before they set up a TUN device (the hub's NAT).
mkdir "$TMP/open-ctl"
chown 12345 "$TMP/open-ctl"
chmod 0777 "$TMP/open-ctl"
want="control socket's directory $TMP/open-ctl is owned by uid 12345, not this user's or root's, and writable by its group or others (mode 0777): another user could replace the control socket in it; chown 0 $TMP/open-ctl and chmod go-w $TMP/open-ctl, or give another --control"
kept nsx hub timeout 10 "$SLOPND" server --listen 192.0.2.1:4999 --token x --tun open0 \
	--state-dir "$TMP/ctl-state" --control "$TMP/open-ctl/hub.sock" 2> "$TMP/err.txt"
expect_eq "a hub with its control socket in another user's world-writable directory exits" "$?" 2
grep -qF "slopnd: error: $want" "$TMP/err.txt" || fail "hub on an open control directory: $(cat "$TMP/err.txt")"
grep -q "listening on" "$TMP/err.txt" && fail "the hub started on an open control directory: $(cat "$TMP/err.txt")"
grep -q "^slopnd: open0: " "$TMP/err.txt" &&
	fail "the hub set up its TUN before it refused the control directory: $(cat "$TMP/err.txt")"
[ -e "$TMP/open-ctl/hub.sock" ] && fail "the hub made its socket in another user's directory"
kept nsx c1 timeout 10 "$SLOPND" client --server 192.0.2.1:4999 --token x --tun open1 \
	--state-dir "$TMP/ctl-cstate" --control "$TMP/open-ctl/c1.sock" 2> "$TMP/err.txt"
expect_eq "a client with its control socket there exits" "$?" 2
grep -qF "slopnd: error: $want" "$TMP/err.txt" || fail "client on an open control directory: $(cat "$TMP/err.txt")"
grep -q "^slopnd: open1: " "$TMP/err.txt" &&
	fail "the client set up its TUN before it refused the control directory: $(cat "$TMP/err.txt")"
[ -e "$TMP/open-ctl/c1.sock" ] && fail "the client made its socket in another user's directory"
chown 0 "$TMP/open-ctl"
chmod 0775 "$TMP/open-ctl"
kept nsx hub timeout 10 "$SLOPND" server --listen 192.0.2.1:4999 --token x --tun open0 \
	--state-dir "$TMP/ctl-state" --control "$TMP/open-ctl/hub.sock" 2> "$TMP/err.txt"
expect_eq "a hub with its control socket in a group-writable directory exits" "$?" 2
grep -qF "slopnd: error: control socket's directory $TMP/open-ctl is writable by its group or others (mode 0775): another user could replace the control socket in it; chmod go-w $TMP/open-ctl, or give another --control" "$TMP/err.txt" ||
	fail "hub on a group-writable control directory: $(cat "$TMP/err.txt")"
if command -v systemd-socket-activate > /dev/null; then
	# The first call starts it, on the socket systemd-socket-activate made.
	ip netns exec "$RUN-hub" systemd-socket-activate -l "$TMP/act.sock" --fdname=control \
		"$SLOPND" server --listen 192.0.2.1:4999 --token x --tun open0 --state-dir "$TMP/ctl-state" \
		--control "$TMP/open-ctl/hub.sock" > "$TMP/act.log" 2>&1 &
	PIDS+=($!)
	PID_act=$!
	wait_until 10 "systemd-socket-activate's socket" test -S "$TMP/act.sock"
	wait_hub "$TMP/act.sock"
	grep -q "control socket from systemd" "$TMP/act.log" || fail "no socket from systemd: $(cat "$TMP/act.log")"
	stop act
else
	[ "${CI:-}" = true ] && fail "needs systemd-socket-activate"
fi
chmod 0755 "$TMP/open-ctl"
kept nsx hub timeout 3 "$SLOPND" server --listen 192.0.2.1:4999 --token x --tun open0 \
	--state-dir "$TMP/ctl-state" --control "$TMP/open-ctl/hub.sock" 2> "$TMP/err.txt"
grep -q "control socket $TMP/open-ctl/hub.sock$" "$TMP/err.txt" ||
	fail "no hub on root's 0755 control directory: $(cat "$TMP/err.txt")"
ok "a control socket's directory of another user, or writable by others, is refused by the hub and a client (exit 2); root's 0755 is used, and a socket from systemd"
# One to make, two levels deep (both are made, 0755), under a directory
# that others may write (not sticky): they could put theirs in its place.
# Refused before the TUN is made, as one that is there.
mkdir -m 0777 "$TMP/open-above"
kept nsx hub timeout 10 "$SLOPND" server --listen 192.0.2.1:4999 --token x --tun open0 \
	--state-dir "$TMP/ctl-state" --control "$TMP/open-above/new/deeper/hub.sock" 2> "$TMP/err.txt"
expect_eq "a hub with its control socket to be made under a world-writable directory exits" "$?" 2
grep -qF "slopnd: error: control socket's directory $TMP/open-above/new/deeper: the directory above it, $TMP/open-above, is writable by its group or others (mode 0777)" "$TMP/err.txt" ||
	fail "hub under an open directory: $(cat "$TMP/err.txt")"
expect_eq "the modes of the directories made for the control socket" \
	"$(stat -c %a "$TMP/open-above/new" "$TMP/open-above/new/deeper" | tr '\n' ' ')" "755 755 "
grep -q "^slopnd: open0: " "$TMP/err.txt" &&
	fail "the hub set up its TUN before it refused the directory above its control socket's"
ok "a control socket's directory to be made under a directory others may write is refused (exit 2)"
hubd server --config "$TMP/bad.conf" --help > "$TMP/out.txt" 2> "$TMP/err.txt"
expect_eq "--help beside a broken config exits" "$?" 0
expect_eq "--help beside a broken config" "$(head -n 1 "$TMP/out.txt")$(cat "$TMP/err.txt")" \
	"Usage: slopnd server [OPTIONS]"
usage_error "a --metrics host name" \
	"slopnd: error: --metrics 'localhost:9342': expected an IP address and a port, such as 127.0.0.1:9342 or [::1]:9342 (not a host name)" \
	server --metrics localhost:9342
usage_error "a --metrics without a port" "slopnd: error: --metrics '[::1]': give the port too, such as [::1]:9342" \
	server --metrics '[::1]'
# A port is digits: strtol's sign or space would have reached getaddrinfo.
usage_error "a --listen port with a sign" \
	"slopnd: error: --listen '192.0.2.1:+80': the port must be a number from 1 to 65535, digits only" \
	server --listen 192.0.2.1:+80
usage_error "a --server address that is IPv4 written as IPv6" \
	"slopnd: error: --server '[::ffff:192.0.2.1]:4242': an IPv4 address written as IPv6; give it as IPv4 (192.0.2.1)" \
	client --server '[::ffff:192.0.2.1]:4242' --token s3cret
usage_error "a --listen address that is IPv4 written as IPv6" \
	"slopnd: error: --listen '[::ffff:192.0.2.1]:4242': an IPv4 address written as IPv6; give it as IPv4 (192.0.2.1)" \
	server --listen '[::ffff:192.0.2.1]:4242'
usage_error "a --public-address that is IPv4 written as IPv6" \
	"slopnd: error: --public-address '[::ffff:192.0.2.1]': an IPv4 address written as IPv6; give it as IPv4 (192.0.2.1)" \
	server --public-address '[::ffff:192.0.2.1]'
usage_error "a --server port with a space" \
	"slopnd: error: --server 'hub.example: 80': the port must be a number from 1 to 65535, digits only" \
	client --server 'hub.example: 80' --token s3cret
# Settings that do not go together, one from a file: the file is named.
printf 'server = 192.0.2.1:4242\ntoken = s3cret\nkill_switch = yes\n' > "$TMP/ks.conf"
chmod 600 "$TMP/ks.conf"
hubd client --config "$TMP/ks.conf" 2> "$TMP/err.txt"; expect_eq "kill_switch without full_tunnel exits" "$?" 2
expect_eq "the file named with settings that do not go together" "$(sed -n 2p "$TMP/err.txt")" \
	"Settings come from $TMP/ks.conf and the command line; try 'slopnd client --help'."
# A token in a file others may read: a warning that says how to fix it.
printf 'token = s3cret\n' > "$TMP/tok.conf"
for m in 644 640 600; do
	chmod $m "$TMP/tok.conf"
	hubd server --config "$TMP/tok.conf" --bogus 2> "$TMP/err.txt"
	warned=$(grep -c "^slopnd: warning: $TMP/tok.conf holds a token and .* may read it (mode 0$m): chmod 600 $TMP/tok.conf$" "$TMP/err.txt")
	expect_eq "mode $m: warned" "$warned" "$([ $m = 600 ] && echo 0 || echo 1)"
done
# A '#' after a value is the value's, not a comment: said with the line,
# a token's value not shown (it would have been taken, and no client has it).
printf 'token = s3cret # the shared one\nmtu = 1300\n' > "$TMP/hash.conf"
chmod 600 "$TMP/hash.conf"
hubd server --config "$TMP/hash.conf" --bogus 2> "$TMP/err.txt"
expect_eq "a '#' after a token: warned" "$(grep warning "$TMP/err.txt")" \
	"slopnd: warning: $TMP/hash.conf:1: token '...': the '#' and what follows are part of the value, not a comment (a comment goes on a line of its own)"
# slopnd pin reads the hub's state directory from its config file.
printf 'state_dir = %s\ntoken = s3cret\n' "$TMP/pin-state" > "$TMP/pin.conf"
pin=$(hubd pin --config "$TMP/pin.conf" 2> "$TMP/err.txt") || fail "pin --config: $(cat "$TMP/err.txt")"
[ -f "$TMP/pin-state/hub.key" ] || fail "pin --config did not use the file's state_dir"
expect_eq "pin from the config's state_dir" "$pin" "$(hubd pin --state-dir "$TMP/pin-state")"
# A key without its certificate (a crash between the two writes): a new
# certificate for the same key, so the same pin.
rm "$TMP/pin-state/hub.crt"
expect_eq "pin after hub.crt was lost" "$(hubd pin --state-dir "$TMP/pin-state" 2> "$TMP/err.txt")" "$pin"
expect_eq "hub.crt made again, said" "$(cat "$TMP/err.txt")" \
	"slopnd: warning: $TMP/pin-state/hub.crt was missing: made a new certificate for the key in $TMP/pin-state/hub.key (the pin stays)"
# The certificate without its key (hub.key lost): no new key, which would
# change the pin; an error that says what to do, exit 1.
mv "$TMP/pin-state/hub.key" "$TMP/pin-state/hub.key.lost"
rc=0
hubd pin --state-dir "$TMP/pin-state" > /dev/null 2> "$TMP/err.txt" || rc=$?
expect_eq "pin without hub.key: exit status" "$rc" 1
[ -e "$TMP/pin-state/hub.key" ] && fail "a new hub.key made beside the old hub.crt"
expect_eq "pin without hub.key: said" "$(cat "$TMP/err.txt")" \
	"slopnd: error: $TMP/pin-state/hub.key is missing, but $TMP/pin-state/hub.crt is there: the hub's key is lost, and a new one would change its pin (clients with --pin would be refused). Put $TMP/pin-state/hub.key back, or move $TMP/pin-state/hub.crt away to make a new key and pin"
mv "$TMP/pin-state/hub.key.lost" "$TMP/pin-state/hub.key"
expect_eq "pin with hub.key back" "$(hubd pin --state-dir "$TMP/pin-state")" "$pin"
# A damaged key without its certificate: the same advice as a damaged key
# beside one (no new key: the pin is the key's).
cp "$TMP/pin-state/hub.key" "$TMP/pin-key.good"
mv "$TMP/pin-state/hub.crt" "$TMP/pin-crt.good"
head -c 100 "$TMP/pin-key.good" > "$TMP/pin-state/hub.key"
hubd pin --state-dir "$TMP/pin-state" > /dev/null 2> "$TMP/err.txt"
expect_eq "pin with hub.key damaged and no hub.crt: exit status" "$?" 1
grep -q "^slopnd: error: $TMP/pin-state/hub.key is not a valid PEM private key: .*(the pin is the key's: put the hub's key back from a backup; " \
	"$TMP/err.txt" || fail "damaged hub.key without hub.crt: $(cat "$TMP/err.txt")"
# A key and a certificate of two hubs: which to keep, said.
hubd pin --state-dir "$TMP/pin-other" > /dev/null 2>&1
cp "$TMP/pin-other/hub.crt" "$TMP/pin-state/hub.crt"
cp "$TMP/pin-key.good" "$TMP/pin-state/hub.key"
hubd pin --state-dir "$TMP/pin-state" > /dev/null 2> "$TMP/err.txt"
expect_eq "pin with a key and certificate that do not match: exit status" "$?" 1
grep -q "^slopnd: error: $TMP/pin-state/hub.key does not match $TMP/pin-state/hub.crt: .*(if $TMP/pin-state/hub.key is the hub's key, move $TMP/pin-state/hub.crt away: the next start makes a certificate for it and the pin stays; else put the hub's key back from a backup)$" \
	"$TMP/err.txt" || fail "key and certificate of two hubs: $(cat "$TMP/err.txt")"
mv "$TMP/pin-crt.good" "$TMP/pin-state/hub.crt"
expect_eq "pin with hub.key and hub.crt back" "$(hubd pin --state-dir "$TMP/pin-state")" "$pin"
# A certificate cut short beside a whole key (a crash, a full disk): set
# aside and made again for the same key, so the same pin; no exit 1 to
# loop on under Restart=, and no advice to make a new key.
head -c 100 "$TMP/pin-state/hub.crt" > "$TMP/cut" && mv "$TMP/cut" "$TMP/pin-state/hub.crt"
expect_eq "pin after hub.crt was cut short" "$(hubd pin --state-dir "$TMP/pin-state" 2> "$TMP/err.txt")" "$pin"
expect_eq "hub.crt cut short, made again, said" "$(cat "$TMP/err.txt")" \
	"slopnd: warning: $TMP/pin-state/hub.crt was not a valid PEM certificate (Base64 unexpected header error.), now $TMP/pin-state/hub.crt.bad: made a new certificate for the key in $TMP/pin-state/hub.key (the pin stays)"
expect_eq "the cut hub.crt set aside" "$(wc -c < "$TMP/pin-state/hub.crt.bad")" 100
# A state directory that is a file, or whose parent is missing.
: > "$TMP/a-file"
hubd pin --state-dir "$TMP/a-file" > /dev/null 2> "$TMP/err.txt"
expect_eq "a state directory that is a file: exit status" "$?" 1
expect_eq "a state directory that is a file" "$(cat "$TMP/err.txt")" \
	"slopnd: error: --state-dir $TMP/a-file: not a directory (give a directory with --state-dir)"
hubd pin --state-dir "$TMP/none/state" > /dev/null 2> "$TMP/err.txt"
expect_eq "a state directory whose parent is missing" "$(cat "$TMP/err.txt")" \
	"slopnd: error: cannot create the state directory $TMP/none/state: $TMP/none does not exist (create it, or give another --state-dir)"
ok "usage and config errors: one line each, with where"

# --listen without a port: a warning that names the port, which is used.
start hub server --listen 192.0.2.1 --state-dir "$TMP/hub-state" --token s3cret --control "$TMP/hub.sock" \
	--tun msg0
wait_hub
grep -q "^slopnd: warning: --listen '192.0.2.1' has no port: listening on port 4242$" "$TMP/hub.log" ||
	fail "no warning about the port: $(head -n 3 "$TMP/hub.log")"
expect_eq "listen address in status" "$(ctl --json status | jq -r .listen)" 192.0.2.1:4242

# A TUN name in use says so.
start hub:two server --listen 192.0.2.1:4243 --state-dir "$TMP/two" --token s3cret --control "$TMP/two.sock" \
	--tun msg0
wait "$(pid_of hub:two)"; expect_eq "a second hub on the same TUN exits" "$?" 1
grep -q "cannot create TUN device msg0: Device or resource busy (the name is in use by another TUN device" \
	"$TMP/hub-two.log" || fail "TUN in use: $(cat "$TMP/hub-two.log")"
ok "a TUN name in use is said to be in use"
# A /dev/net/tun that is not the TUN device (/dev/null bound over it) is
# said to be so, not a missing CAP_NET_ADMIN, which is not the matter.
kept nsx hub unshare -m sh -c 'mount --bind /dev/null /dev/net/tun && exec "$@"' sh "$SLOPND" server \
	--listen 192.0.2.1:4244 --state-dir "$TMP/four" --token s3cret --control "$TMP/four.sock" \
	--tun msg6 2> "$TMP/err.txt"
expect_eq "a hub whose /dev/net/tun is /dev/null exits" "$?" 1
expect_eq "a hub whose /dev/net/tun is /dev/null says" "$(grep "cannot create TUN" "$TMP/err.txt")" \
	"slopnd: error: cannot create TUN device msg6: Inappropriate ioctl for device (/dev/net/tun is not the TUN device: 'ls -l /dev/net/tun' should show a character device 10, 200)"
# A UDP port in use says which port, and how to find who holds it.
start hub:three server --listen 192.0.2.1:4242 --state-dir "$TMP/three" --token s3cret \
	--control "$TMP/three.sock" --tun msg5
wait "$(pid_of hub:three)"; expect_eq "a second hub on the same UDP port exits" "$?" 1
grep -q "cannot listen on UDP 192.0.2.1:4242: Address already in use (another program holds UDP port 4242, another slopnd? 'ss -ulpn sport = :4242' names it: stop it, or give --listen another port)" \
	"$TMP/hub-three.log" || fail "UDP port in use: $(cat "$TMP/hub-three.log")"
ok "a UDP port in use is said to be in use"
# A --listen host that does not resolve, and an --egress that is not
# there: exit 1, the flag and what to give instead.
hubd server --listen nosuch.invalid:4245 --state-dir "$TMP/five" --token s3cret --control "$TMP/five.sock" \
	--tun msg7 2> "$TMP/err.txt"
expect_eq "a --listen that does not resolve exits" "$?" 1
[[ $(grep "error" "$TMP/err.txt") == "slopnd: error: --listen nosuch.invalid:4245: "*" (give one of this machine's addresses, or 0.0.0.0:4245 for all)" ]] ||
	fail "a --listen that does not resolve: $(cat "$TMP/err.txt")"
hubd server --listen 192.0.2.1:4245 --nat --egress nosuch0 --state-dir "$TMP/five" --token s3cret \
	--control "$TMP/five.sock" --tun msg7 2> "$TMP/err.txt"
expect_eq "an --egress that is not there exits" "$?" 1
expect_eq "an --egress that is not there" "$(grep "error" "$TMP/err.txt")" \
	"slopnd: error: --egress nosuch0: no such interface ('ip link' lists this machine's; without --egress, that of the default route is taken)"
ok "a --listen that does not resolve and an --egress not there say what to give"

# A client's clean exit is no warning.
start_client c1
one_session() { [ "$(ctl --json status | jq .sessions)" = 1 ]; }
wait_until 10 "c1 logs in" one_session
kill "$(pid_of c1)"
wait "$(pid_of c1)"; expect_eq "a client stopped by SIGTERM exits" "$?" 0
grep -q "warning" "$TMP/c1.log" && fail "a clean exit warns: $(cat "$TMP/c1.log")"
grep -q "^slopnd: disconnected: client exit$" "$TMP/c1.log" || fail "no word of the exit: $(cat "$TMP/c1.log")"
ok "a clean client exit is logged at info"

# A hub whose VPN subnet holds its own underlay address: the subnet's route
# would take the client's way to the hub into the tunnel. The client takes
# no address, says why in its status, and tries again later.
start hub:wide server --listen 192.0.2.1:4244 --state-dir "$TMP/wide" --token s3cret --tun msg1 \
	--subnet 192.0.0.0/16 --control "$TMP/wide.sock"
wait_hub "$TMP/wide.sock"
start c1:wide client --server 192.0.2.1:4244 --token s3cret --tun msg1
said_holds() { client_status c1:wide last_error | grep -q "the hub's VPN subnet holds its own address"; }
wait_until 10 "c1's refusal of a subnet holding the hub" said_holds
expect_eq "c1's VIP from that hub" "$(client_status c1:wide vip)" null
expect_eq "c1's routes through msg1" "$(ip -n "$RUN-c1" route show dev msg1)" ""
grep -q "the VPN subnet the hub gives (192.0.0.0/16) holds the hub's own address 192.0.2.1" \
	"$TMP/c1-wide.log" || fail "no reason in c1's log: $(cat "$TMP/c1-wide.log")"
ok "a VPN subnet holding the hub's own address is refused: $(client_status c1:wide last_error)"

# slopnd pin as a user who may not read the state directory says that,
# rather than trying to make a new key. As /var/lib/slopn: a directory
# of root's, mode 0700, in one that others may pass through.
chmod 711 "$TMP"
chmod 700 "$TMP/hub-state"
kept setpriv --reuid=nobody --regid=nogroup --clear-groups "$SLOPND" pin --state-dir "$TMP/hub-state" 2> "$TMP/err.txt"
expect_eq "slopnd pin without permission exits" "$?" 1
grep -q "^slopnd: error: cannot read $TMP/hub-state/hub.key: Permission denied (this user may not read the state directory" \
	"$TMP/err.txt" || fail "pin without permission: $(cat "$TMP/err.txt")"
ok "slopnd pin: the state directory cannot be read"

# The hub itself with a damaged hub.crt, cut short or empty: it starts,
# with the pin it had (the key's), and the old file set aside, the first
# kept beside the second. With a damaged hub.key it exits 1 naming the key
# and what a new one costs; no new key is made.
pin=$(ctl --json status | jq -r .pin)
for how in cut empty; do
	stop hub
	mv "$TMP/hub.log" "$TMP/hub-before-$how.log"
	if [ $how = cut ]; then
		head -c 100 "$TMP/hub-state/hub.crt" > "$TMP/cut" && mv "$TMP/cut" "$TMP/hub-state/hub.crt"
	else
		: > "$TMP/hub-state/hub.crt"
	fi
	start hub server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
		--control "$TMP/hub.sock" --tun msg0
	wait_hub
	expect_eq "the hub's pin after a start with hub.crt $how" "$(ctl --json status | jq -r .pin)" "$pin"
	expect_eq "slopnd pin after a start with hub.crt $how" "$(hubd pin --state-dir "$TMP/hub-state")" "$pin"
	grep -q "^slopnd: warning: $TMP/hub-state/hub.crt was not a valid PEM certificate (.*), now $TMP/hub-state/hub.crt.bad.*: made a new certificate for the key in $TMP/hub-state/hub.key (the pin stays)$" \
		"$TMP/hub.log" || fail "hub.crt $how: $(head -n 3 "$TMP/hub.log")"
done
expect_eq "the cut hub.crt set aside" "$(wc -c < "$TMP/hub-state/hub.crt.bad")" 100
expect_eq "the empty hub.crt set aside beside it" "$(wc -c < "$TMP/hub-state/hub.crt.bad.2")" 0
ok "a damaged hub.crt is made again for the same key: the pin stays, the old file set aside"
stop hub
mv "$TMP/hub.log" "$TMP/hub-before-key.log"
key=$(cat "$TMP/hub-state/hub.key")
head -c 100 "$TMP/hub-state/hub.key" > "$TMP/cut" && mv "$TMP/cut" "$TMP/hub-state/hub.key"
start hub server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock" --tun msg0
rc=0
wait "$(pid_of hub)" || rc=$?
forget "$(pid_of hub)"
expect_eq "a hub with hub.key cut short exits" "$rc" 1
grep -q "^slopnd: error: $TMP/hub-state/hub.key is not a valid PEM private key: .*(the pin is the key's: put the hub's key back from a backup; a new key, made once $TMP/hub-state/hub.key and $TMP/hub-state/hub.crt are moved away, has a new pin that every client with --pin and every invite then needs)$" \
	"$TMP/hub.log" || fail "hub.key cut short: $(cat "$TMP/hub.log")"
expect_eq "hub.key cut short, kept as it was" "$(wc -c < "$TMP/hub-state/hub.key")" 100
echo "$key" > "$TMP/hub-state/hub.key"
expect_eq "pin with hub.key back" "$(hubd pin --state-dir "$TMP/hub-state")" "$pin"
ok "a damaged hub.key: exit 1, the key named, no new key"
