#!/bin/bash
# No one without a token can fill the hub (issue 10): a connection that
# never logs in is closed at the deadline; a flood of them from one address
# holds at most 16, from many at most 1024 (Retry and eviction at work);
# a real client gets in within 2 s during either flood; handshakes closed
# as soon as made do not linger; memory comes back after it. Single
# hostile connections (refused logins, bans...) are hostile.sh's.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
: "${SLOPN_FLOOD:?set SLOPN_FLOOD to the slopn-flood test tool}"
topo 4   # c1 attacks, c2 and c4 log in during floods, c3 stays up throughout
start_hub

# max_adm FIELD SECONDS: the largest admission.FIELD seen in that time,
# in ADM_MAX (not printed: it runs in the test's shell, so that its fail
# ends the test). A read the hub did not answer is no sample: fewer than
# half of them answered (or none) fails, rather than a maximum of 0.
max_adm() {
	local v end=$(($(now_ms) + $2 * 1000)) n=0 got=0
	ADM_MAX=0
	while [ "$(now_ms)" -lt $end ]; do
		n=$((n + 1))
		v=$(adm "$1")
		if [[ $v =~ ^[0-9]+$ ]]; then
			got=$((got + 1))
			[ "$v" -gt "$ADM_MAX" ] && ADM_MAX=$v
		fi
		nap 0.2
	done
	[ $got -gt 0 ] && [ $((2 * got)) -ge $n ] ||
		fail "admission.$1: the hub answered $got of $n reads in $2 s"
}
max_awaiting() { max_adm awaiting_login "$1"; }

# A real client gets in within 2 s during a flood; a hub under the
# sanitizers works two to three times slower, and gets 5 s.
login_ms=2000
sanitized && login_ms=5000

start_client c3 --tun keep0
t=$(session_within 192.0.2.13 10000) || fail "c3 did not log in"
rss_before=$(rss_kb hub)
ok "c3 up; hub RSS before any flood: $rss_before kB"

# Counters start at zero.
for f in handshakes awaiting_login retry_sent refused closed_no_login closed_by_limit \
	oversize_logins bad_datagrams; do
	expect_eq "admission.$f at start" "$(adm "$f")" 0
done

# Datagrams that are not QUIC for us: counted.
nsx c1 bash -c 'printf "garbage" > /dev/udp/192.0.2.1/4242'
nsx c1 bash -c 'printf "\xc0\x00\x00\x00\x01\x08abcdefgh\x00short" > /dev/udp/192.0.2.1/4242'
wait_until 5 "bad_datagrams at 2" adm_is bad_datagrams 2
ok "two garbage datagrams counted in bad_datagrams"
# Initials with a token (which ngtcp2 leaves to us) and a destination
# connection ID shorter than the 8 bytes RFC 9000 asks of a client: 0 bytes
# (no key to route by) and 4, each sent twice, as a client repeats it.
for dcil in 0 4 0 4; do
	nsx c1 python3 -c 'import socket, sys
d = int(sys.argv[1])
pkt = (bytes([0xc3, 0, 0, 0, 1, d]) + b"D" * d + bytes([8]) + b"S" * 8
       + bytes([1]) + b"x" + bytes([0x44, 0xb0]) + bytes(1200))
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(pkt, ("192.0.2.1", 4242))' "$dcil"
done
wait_until 5 "bad_datagrams at 6" adm_is bad_datagrams 6
expect_eq "handshakes after Initials with short connection IDs" "$(adm handshakes) $(adm handshakes_queued)" "0 0"
ok "Initials with a destination connection ID under 8 bytes are refused, no connection made"
# Versions ngtcp2 knows besides v1 (QUIC v2's draft, whose Initial is type
# 1, and draft 29) are answered with a Version Negotiation that offers v1,
# as an unknown one is: no connection is made.
for v in 709a50c4 ff00001d; do
	got=$(nsx c1 python3 -c 'import socket, sys
v = bytes.fromhex(sys.argv[1])
first = 0xd0 if v == bytes.fromhex("709a50c4") else 0xc0  # an Initial in that version
pkt = bytes([first]) + v + bytes([8]) + b"D" * 8 + bytes([8]) + b"S" * 8
pkt += bytes([0, 0x44, 0xb0]) + bytes(1200 - len(pkt) - 3)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(pkt, ("192.0.2.1", 4242))
a = s.recv(2048)
# A Version Negotiation: long header, version 0, our CIDs back, versions.
assert a[0] & 0x80 and a[1:5] == bytes(4), a[:8].hex()
assert a[5:14] == bytes([8]) + b"S" * 8 and a[14:23] == bytes([8]) + b"D" * 8, a[:24].hex()
vs = [a[i:i + 4].hex() for i in range(23, len(a) - 3, 4)]
print(" ".join(x for x in vs if x[1] != "a" or x[3] != "a" or x[5] != "a" or x[7] != "a"))' "$v") ||
		fail "no Version Negotiation for a version $v Initial"
	expect_eq "versions offered to a version $v Initial (the reserved ones left out)" "$got" 00000001
done
expect_eq "handshakes after them" "$(adm handshakes) $(adm handshakes_queued) $(adm bad_datagrams)" "0 0 6"

# One connection that completes its handshake and never logs in; it sends
# three IP packets first, which the hub drops and counts. The limits the hub
# gave it on stream data are those that bound what a peer can make it keep.
before_login() { ctl --json status | jq .totals.drops.before_login; }
bl=$(before_login)
flood c1 --from 192.0.2.11 --total 1 --duration 10 --datagrams 3 > "$TMP/one.json" &
PIDS+=($!)
fpid=$!
wait_until 4 "the connection shown awaiting its login" adm_is awaiting_login 1
ok "status shows 1 connection awaiting its login"
expect_eq "slopnctl status: waiting" "$(ctl status | grep '^waiting:')" \
	"waiting:   0 handshakes, 1 awaiting login"
expect_eq "slopnctl status: limits" "$(ctl status | grep '^limits:')" "limits:    6 bad datagrams"
wait "$fpid"
jq -c . "$TMP/one.json"
expect_eq "connections closed by the hub" "$(jq .closed_by_hub "$TMP/one.json")" 1
# Before a login a client can make the hub keep what it sends out of order
# (ngtcp2 keeps 8 KiB chunks until the gap is filled): one stream of 8 KiB.
expect_eq "the hub's limits on a client's stream data" "$(jq -c .hub_limits "$TMP/one.json")" \
	'{"streams_bidi":1,"stream_window":8192,"max_data":32768}'
expect_eq "close reason" "$(jq -r .last_reason "$TMP/one.json")" "no login within 5 s"
ms=$(jq .close_after_ms_min "$TMP/one.json")
[ "$ms" -ge 4500 ] && [ "$ms" -le 6500 ] || fail "closed $ms ms after the handshake, not about 5 s"
ok "closed $ms ms after its handshake"
expect_eq "admission.closed_no_login" "$(adm closed_no_login)" 1
expect_eq "admission.awaiting_login after" "$(adm awaiting_login)" 0
expect_eq "packets before a login, in the hub's totals" "$(($(before_login) - bl))" 3

# A flood from one address: at most 16 wait at once; c2 gets in meanwhile.
flood c1 --from 192.0.2.11 --count 2000 --duration 6 > "$TMP/one-addr.json" &
PIDS+=($!)
fpid=$!
max_awaiting 2
m=$ADM_MAX
start_client c2 --tun legit0
t=$(session_within 192.0.2.12 "$login_ms") || fail "c2 logged in after $t ms during the flood from one address"
ok "c2 logged in within $t ms during the flood from one address"
max_awaiting 2
[ "$ADM_MAX" -gt "$m" ] && m=$ADM_MAX
[ "$m" -le 16 ] || fail "$m connections from one address awaited their login at once (limit 16)"
wait "$fpid"
jq -c . "$TMP/one-addr.json"
held=$(jq .held_end "$TMP/one-addr.json")
[ "$held" -le 16 ] || fail "the attacker held $held connections at the end"
[ "$(adm refused)" -gt 0 ] || fail "nothing refused"
ok "one address: at most $m awaiting at once, the attacker held $held at the end; $(adm refused) refused"

# A flood from 72 addresses: Retry once handshakes pile up, at most 1024
# awaiting (one more closes the oldest); c4 gets in meanwhile.
flood_from 100 171
flood c1 "${from[@]}" --count 3000 --duration 8 > "$TMP/many.json" &
PIDS+=($!)
fpid=$!
# Meanwhile c3's tunnel carries on: the hub makes handshakes after the
# packets of established sessions (30 pings, 4 s).
nsx c3 ping -c 30 -i 0.14 -W 2 -w 15 10.100.0.1 > "$TMP/c3-ping.txt" &
PIDS+=($!)
ppid=$!
max_awaiting 3
m=$ADM_MAX
rss_during=$(rss_kb hub)
start_client c4 --tun legit1
t=$(session_within 192.0.2.14 "$login_ms") || fail "c4 logged in after $t ms during the flood from 72 addresses"
ok "c4 logged in within $t ms during the flood from 72 addresses"
max_awaiting 3
[ "$ADM_MAX" -gt "$m" ] && m=$ADM_MAX
r=$(rss_kb hub)
[ "$r" -gt "$rss_during" ] && rss_during=$r
[ "$m" -le 1024 ] || fail "$m connections awaited their login at once (limit 1024)"
[ "$m" -gt 16 ] || fail "only $m awaited their login: the flood from many addresses did not take"
wait "$fpid"
jq -c . "$TMP/many.json"
ctl --json status | jq -c .admission
wait "$ppid" || true
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMP/c3-ping.txt")
rtt=$(sed -n 's|^rtt .* = [0-9.]*/\([0-9.]*\)/\([0-9.]*\)/.*|avg \1 ms, max \2 ms|p' "$TMP/c3-ping.txt")
expect_eq "c3's pings to the hub through the tunnel answered during the flood ($rtt)" "$got" 30
max=$(sed -n 's|^rtt .* = [0-9.]*/[0-9.]*/\([0-9]*\).*|\1|p' "$TMP/c3-ping.txt")
[ "$max" -lt 1000 ] || fail "c3's pings took up to $max ms during the flood"
[ "$(adm retry_sent)" -gt 0 ] || fail "no Retry sent while handshakes piled up"
[ "$(adm closed_by_limit)" -gt 0 ] || fail "nothing closed by a limit"
ok "72 addresses: at most $m awaiting at once, $(adm retry_sent) Retry sent, $(adm closed_by_limit) closed by limits"
ctl status | grep -Eq "^limits:    [0-9]+ refused, [0-9]+ closed for no login, [0-9]+ closed by limits, [0-9]+ Retry sent, 6 bad datagrams(, [0-9]+ Initials dropped while busy)?$" ||
	fail "slopnctl status: $(ctl status | grep '^limits:')"

# Handshakes closed as soon as made, announcing a max_ack_delay of 16 s:
# each used to stay three probe timeouts (about 50 s) and count towards
# the 4096, so that 200 a second filled the hub in 25 s. None stays now.
flood c1 "${from[@]}" --close --max-ack-delay 16000 --count 64 --rate 300 --duration 8 \
	> "$TMP/close.json" &
PIDS+=($!)
fpid=$!
max_adm closing 7
m=$ADM_MAX
wait "$fpid"
jq -c . "$TMP/close.json"
hs=$(jq .handshakes "$TMP/close.json")
[ "$hs" -ge 300 ] || fail "only $hs handshakes in the flood of closes"
[ "$m" -le 16 ] || fail "$m ended connections kept at once during $hs handshakes closed at once"
ok "$hs handshakes closed at once: at most $m kept at once"

# Once the flood is over its connections go, and so does their memory;
# except under the sanitizers (lib.sh's sanitized), which keep freed memory.
rss_limit=$((rss_before * 3 / 2))
sanitized && rss_limit=
deadline=$((SECONDS + 30))
until [ "$(adm awaiting_login)" = 0 ] && [ "$(adm handshakes)" = 0 ] &&
	{ [ -z "$rss_limit" ] || [ "$(rss_kb hub)" -le "$rss_limit" ]; }; do
	[ $SECONDS -lt $deadline ] ||
		fail "30 s after the flood: RSS $(rss_kb hub) kB (before: $rss_before kB), $(ctl --json status | jq -c .admission)"
	sleep 0.5
done
ok "RSS before $rss_before kB, during $rss_during kB, after $(rss_kb hub) kB$([ -n "$rss_limit" ] &&
	echo " (limit $rss_limit kB)" || echo ": not checked under ASan")"
expect_eq "sessions after the floods" "$(ctl --json status | jq .sessions)" 3
nsx c3 ping -c 1 -W 2 10.100.0.1 >/dev/null || fail "c3 lost its tunnel"
ok "c3 kept its tunnel"
