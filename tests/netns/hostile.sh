#!/bin/bash
# What single hostile connections get (issue 10; split from flood.sh, whose
# floods load the machine and run alone): a closed or kicked connection
# answers no one else and is gone at once; a TLS KeyUpdate either way ends
# nothing but that connection; handshakes without ALPN, oversized and
# malformed logins are refused, counted and logged within a budget, and
# ban their address; peers that give no flow control credit, or ask for a
# 1 ms idle timeout, cannot keep the hub busy.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
command -v python3 >/dev/null || skip "needs python3"
: "${SLOPN_FLOOD:?set SLOPN_FLOOD to the slopn-flood test tool}"
topo 3   # c1 attacks, c2 sends from elsewhere, c3 stays up throughout
start_hub
start_client c3 --tun keep0
session_within 192.0.2.13 10000 > /dev/null || fail "c3 did not log in"
for i in 100 101 102 150 151 152 153; do
	ip -n "$RUN-c1" addr add "192.0.2.$i/24" dev eth0
done

# answers_from_c2 CID [SIZE]: how many of 8 short-header packets bearing
# connection ID CID (9 bytes, or SIZE), sent from c2 5 ms apart, get an
# answer within 0.3 s of the last. Quick: the kicked session below closes
# within 3 s, and this must be over before.
answers_from_c2() {
	nsx c2 /usr/bin/python3 - "$1" "${2:-9}" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
got = 0
pkt = b"\x40" + bytes.fromhex(sys.argv[1])
pkt += bytes(int(sys.argv[2]) - len(pkt))
for _ in range(8):
    s.sendto(pkt, ("192.0.2.1", 4242))
    time.sleep(0.005)
end = time.monotonic() + 0.3
while (left := end - time.monotonic()) > 0:
    s.settimeout(left)
    try:
        s.recv(2048)
        got += 1
    except socket.timeout:
        break
print(got)
PY
}
# That counts answers: 64 bytes for a made-up connection ID get none (a
# stateless reset goes only to an ID of the hub's own, which carries its
# tag: below), nor do 9 bytes (too few for a reset).
expect_eq "answers to 8 packets of 64 bytes to a made-up connection ID" \
	"$(answers_from_c2 0123456789abcdef 64)" 0
expect_eq "answers to 8 packets of 9 bytes to a made-up connection ID" "$(answers_from_c2 0123456789abcdef)" 0
# A connection the hub closed for want of a login, its peer announcing a
# max_ack_delay of 16 s: it stayed about 50 s, answering with its close
# every packet that bore its connection ID, from any address (a reflector
# for whoever saw the ID). It goes at once now, and nothing answers.
closed=$(adm closed_no_login)
flood c1 --from 192.0.2.150 --total 1 --duration 15 --max-ack-delay 16000 --print-cid \
	> "$TMP/nologin.json" 2> "$TMP/nologin.err" &
PIDS+=($!)
fpid=$!
wait_until 10 "the hub closing it for no login" adm_is closed_no_login $((closed + 1))
cid=$(awk '$1 == "hub-cid" {print $2}' "$TMP/nologin.err")
[ -n "$cid" ] || fail "no connection ID from slopn-flood: $(cat "$TMP/nologin.err")"
answers=$(answers_from_c2 "$cid")
expect_eq "connections kept after their close" "$(adm closing)" 0
expect_eq "answers to 8 packets with its connection ID from another address" "$answers" 0
# Its ID is the hub's own: 64 bytes with it get a stateless reset each.
expect_eq "stateless resets for 8 packets of 64 bytes with its connection ID" \
	"$(answers_from_c2 "$cid" 64)" 8
kill "$fpid" 2>/dev/null
wait "$fpid" 2>/dev/null
ok "a connection closed before its login is gone at once: no close for anyone, a reset for its ID"
# A logged-in session kicked stays closing (at most 3 s), and sends its
# close again only to its own address.
flood c1 --from 192.0.2.151 --total 1 --duration 15 --max-ack-delay 16000 --print-cid \
	--login '{"type":"login_request","token":"s3cret","client_version":"flood","os":"linux"}' \
	> "$TMP/kicked.json" 2> "$TMP/kicked.err" &
PIDS+=($!)
fpid=$!
t=$(session_within 192.0.2.151 5000) || fail "the flood's login did not make a session"
cid=$(awk '$1 == "hub-cid" {print $2}' "$TMP/kicked.err")
[ -n "$cid" ] || fail "no connection ID from slopn-flood: $(cat "$TMP/kicked.err")"
# The probe timeout holds the peer's max_ack_delay once the handshake's
# last packets are done with, a moment after the login.
sleep 1
ctl sessions kick "$(ctl --json sessions list |
	jq -r '.sessions[] | select(.remote | startswith("192.0.2.151:")) | .id')" > /dev/null
wait_until 2 "the kicked session closing" adm_is closing 1
answers=$(answers_from_c2 "$cid")
expect_eq "the kicked session still closing" "$(adm closing)" 1
expect_eq "answers to 8 packets with its connection ID from another address" "$answers" 0
wait_until 4 "the kicked session gone within 3 s" adm_is closing 0
kill "$fpid" 2>/dev/null
wait "$fpid" 2>/dev/null
ok "a kicked session's close goes to no other address, and it is gone within 3 s"

# A TLS KeyUpdate after the handshake (RFC 9001 6: a connection error):
# GnuTLS took it and installed the 1-RTT keys again, and ngtcp2 0.12's
# assertion aborted the hub, for anyone who completes a handshake. It is
# refused with the error RFC 9001 names (0x10a: TLS alert 10), before and
# after a login, and the hub goes on.
hub_pid=$(pid_of hub)
flood c1 --from 192.0.2.152 --total 1 --duration 5 --key-update > "$TMP/ku.json"
kill -0 "$hub_pid" 2>/dev/null || fail "the hub died of a KeyUpdate: $(tail -n 5 "$TMP/hub.log")"
expect_eq "closed by the hub, with code" "$(jq -c '[.closed_by_hub, .last_code]' "$TMP/ku.json")" "[1,266]"
flood c1 --from 192.0.2.152 --total 1 --duration 5 --key-update \
	--login '{"type":"login_request","token":"s3cret","client_version":"flood","os":"linux"}' > "$TMP/ku2.json"
kill -0 "$hub_pid" 2>/dev/null || fail "the hub died of a KeyUpdate after a login: $(tail -n 5 "$TMP/hub.log")"
expect_eq "closed by the hub after a login, with code" "$(jq -c '[.closed_by_hub, .last_code]' "$TMP/ku2.json")" "[1,266]"
nsx c3 ping -c 1 -W 2 10.100.0.1 >/dev/null || fail "c3 lost its tunnel"
ok "a KeyUpdate is refused with 0x10a, before and after a login; the hub goes on"

# Handshakes without ALPN, which GnuTLS lets through: each refused with
# alert 120 (0x178), and the log says so at most 10 times a minute (one
# line each let anyone flood it; journald then drops the hub's own lines).
lines=$(wc -l < "$TMP/hub.log")
flood c1 --from 192.0.2.153 --count 8 --total 40 --duration 10 --no-alpn > "$TMP/noalpn.json"
expect_eq "handshakes without ALPN refused by the hub, code" \
	"$(jq -c '[.closed_by_hub, .last_code]' "$TMP/noalpn.json")" "[40,376]"
said=$(tail -n +$((lines + 1)) "$TMP/hub.log" | grep -c "refusing a peer without ALPN")
[ "$said" -eq 10 ] || fail "$said log lines for 40 peers without ALPN, not 10"
ok "40 peers without ALPN refused with 0x178; 10 log lines"

# Oversized logins: refused (code 1), counted, and each a line in the log
# that says why; a flood of them at most 10 lines a minute.
start_monitor
lines=$(wc -l < "$TMP/hub.log")
for b in 4097 5000 8000; do
	flood c1 --from 192.0.2.11 --total 1 --duration 5 --login-bytes "$b" > "$TMP/big.json"
	expect_eq "close code for a $b-byte login" "$(jq .last_code "$TMP/big.json")" 1
done
expect_eq "admission.oversize_logins" "$(adm oversize_logins)" 3
new=$(tail -n +$((lines + 1)) "$TMP/hub.log")
expect_eq "log lines for 3 oversized logins" "$(grep -c "from 192.0.2.11:[0-9]*: bad login (.*larger than 4096 bytes" <<< "$new")" 3
# Four each from three other addresses (none banned: that takes five).
for a in 100 101 102; do
	flood c1 --from "192.0.2.$a" --total 4 --duration 10 --login-bytes 5000 > "$TMP/big.json"
done
expect_eq "admission.oversize_logins" "$(adm oversize_logins)" 15
new=$(tail -n +$((lines + 1)) "$TMP/hub.log")
expect_eq "log lines for 15 oversized logins in a minute" "$(grep -c "bad login" <<< "$new")" 10
grep -q "more this minute are counted, not logged" <<< "$new" || fail "the tenth line does not say the rest are counted: $new"
ok "oversized logins refused, counted and logged, at most 10 lines a minute"

# Malformed logins count towards a ban as wrong tokens do: two more from
# 192.0.2.11 are its fourth and fifth failures and ban it. Of the ten
# after them, the first is let through to its login, to be told (once a
# minute); the other nine are refused in their first packet, without a
# handshake.
flood c1 --from 192.0.2.11 --total 12 --duration 10 --login-bytes 5000 > "$TMP/big.json"
expect_eq "slopn_failed_logins_total after 17 oversized logins" "$(metric slopn_failed_logins_total)" 17
expect_eq "bans and their refusals" "$(ctl --json bans list | jq -c '[.bans[] | [.address, .refused]]')" \
	'[["192.0.2.11",10]]'
expect_eq "admission.refused_banned" "$(adm refused_banned)" 9
ctl status | grep -Eq "^limits: +([^,]*, )*9 refused for a ban" || fail "slopnctl status: $(ctl status | grep '^limits:')"
expect_eq "admission.oversize_logins: 2 before the ban and the one let through" "$(adm oversize_logins)" 18
expect_eq "slopn_admission_total{what=\"refused_banned\"}" "$(metric 'slopn_admission_total{what="refused_banned"}')" 9
ok "oversized logins: 5 failures ban the address; of 10 after, 1 handshake, 9 refused at once"
# So do short ones: five from 192.0.2.200 ban it; a well-formed login
# from there is then refused for the ban (code 3).
ip -n "$RUN-c1" addr add 192.0.2.200/24 dev eth0
for l in 'hello' '[1,2]' '{"type":"login_request"}' '{"type":"login_request","token":""}' \
	'{"type":"login_request","token":7}'; do
	flood c1 --from 192.0.2.200 --total 1 --duration 5 --login "$l" > "$TMP/bad.json"
	expect_eq "close code for the login '$l'" "$(jq .last_code "$TMP/bad.json")" 1
done
banned 192.0.2.200 || fail "5 malformed logins did not ban 192.0.2.200: $(ctl --json bans list)"
flood c1 --from 192.0.2.200 --total 1 --duration 5 --login '{"type":"login_request","token":"t"}' > "$TMP/bad.json"
expect_eq "close code for a login from the banned address" "$(jq .last_code "$TMP/bad.json")" 3
flood c1 --from 192.0.2.200 --total 1 --duration 5 --login '{"type":"login_request","token":"t"}' > "$TMP/bad.json"
expect_eq "a second attempt within the minute: handshakes, close code, reason" \
	"$(jq -r '"\(.handshakes) \(.last_code) \(.last_reason)"' "$TMP/bad.json")" \
	"0 2 banned after too many failed logins: 60 more minutes"
expect_eq "admission.refused_banned after a second attempt within the minute" "$(adm refused_banned)" 10
# Made-up connection IDs from c2 (3000 short packets in 3 s, each asking
# for a stateless reset) get none (they lack the hub's tag; one in 65536
# may pass), and leave the refusals' budget alone: a third attempt from
# the banned address is still told why.
nsx c2 python3 - > "$TMP/resets.txt" <<'PY' &
import os, socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
got = 0
end = time.monotonic() + 3
while time.monotonic() < end:
    for _ in range(10):
        s.sendto(b"\x40" + os.urandom(8) + bytes(55), ("192.0.2.1", 4242))
    time.sleep(0.01)
    try:
        while True:
            s.recv(2048)
            got += 1
    except BlockingIOError:
        pass
print(got)
PY
resets=$!
PIDS+=($resets)
sleep 0.5
flood c1 --from 192.0.2.200 --total 1 --duration 5 --login '{"type":"login_request","token":"t"}' > "$TMP/bad.json"
wait $resets
expect_eq "a third attempt beside a flood of resets: handshakes, close code" \
	"$(jq -r '"\(.handshakes) \(.last_code)"' "$TMP/bad.json")" "0 2"
[ "$(cat "$TMP/resets.txt")" -le 3 ] || fail "$(cat "$TMP/resets.txt") resets in 3 s for made-up connection IDs"
ok "a flood of made-up connection IDs (the hub sent $(cat "$TMP/resets.txt") resets in 3 s) leaves the refusals' budget alone"
expect_eq "admission.refused_banned after a third" "$(adm refused_banned)" 11
expect_eq "slopn_failed_logins_total" "$(metric slopn_failed_logins_total)" 22
expect_eq "slopn_bans_total" "$(metric slopn_bans_total)" 2
wait_until 5 "the second ban event" has_event ban '.params.address == "192.0.2.200"'
expect_eq "events" "$(jq -c 'select(.method == "auth.fail" or .method == "ban") |
	[.method, (.params.remote | sub(":[0-9]+$"; "")), .params.reason]' "$TMP/events.txt" | sort | uniq -c |
	sed 's/^ *//' | tr '\n' ' ')" \
	'4 ["auth.fail","192.0.2.100","malformed login"] 4 ["auth.fail","192.0.2.101","malformed login"] 4 ["auth.fail","192.0.2.102","malformed login"] 5 ["auth.fail","192.0.2.11","malformed login"] 5 ["auth.fail","192.0.2.200","malformed login"] 1 ["ban","192.0.2.11",null] 1 ["ban","192.0.2.200",null] '
ok "malformed logins: 5 ban the address, then a well-formed one is refused for the ban"

# A peer that gives the hub no flow control credit for stream data cannot
# keep open a connection the hub closes: the error line before the close
# cannot be sent, and the close goes without it. Thirty wrong logins so
# (one token, so no ban): each closed by the hub, none left open; their log
# lines within the budget of refusals (10 a minute; this may span two).
ip -n "$RUN-c1" addr add 192.0.2.210/24 dev eth0
lines=$(wc -l < "$TMP/hub.log")
flood c1 --from 192.0.2.210 --no-credit --count 10 --total 30 --duration 15 \
	--login '{"type":"login_request","token":"wrong"}' > "$TMP/nocredit.json"
jq -c . "$TMP/nocredit.json"
expect_eq "refused without credit: closed by the hub, open at the end, close code" \
	"$(jq -r '"\(.closed_by_hub) \(.held_end) \(.last_code)"' "$TMP/nocredit.json")" "30 0 1"
[ "$(jq .close_after_ms_max "$TMP/nocredit.json")" -le 3000 ] ||
	fail "a refusal without credit took $(jq .close_after_ms_max "$TMP/nocredit.json") ms"
not_banned 192.0.2.210 ||
	fail "one wrong token, thirty times, banned 192.0.2.210, or the hub did not answer: $(ctl --json bans list)"
n=$(tail -n +$((lines + 1)) "$TMP/hub.log" | grep -c "auth failure from 192.0.2.210")
[ "$n" -le 20 ] || fail "$n log lines for 30 wrong logins"
ok "refused connections that give no credit are closed all the same; $n log lines for 30"
# A logged-in one that gives no credit (it never reads its login
# response) is kicked: its session ends at once, and the close reaches it.
flood c1 --from 192.0.2.210 --no-credit --total 1 --duration 10 \
	--login '{"type":"login_request","token":"s3cret"}' > "$TMP/kick.json" &
PIDS+=($!)
fpid=$!
from210() {
	ctl --json sessions list | jq -e '.sessions[] | select(.remote | startswith("192.0.2.210:"))' > /dev/null
}
wait_until 5 "the session that gives no credit listed" from210
id=$(ctl --json sessions list | jq '.sessions[] | select(.remote | startswith("192.0.2.210:")) | .id')
ctl sessions kick "$id" > /dev/null || fail "slopnctl sessions kick $id"
not_from210() {
	ctl --json sessions list | jq -e '[.sessions[] | select(.remote | startswith("192.0.2.210:"))] | length == 0' > /dev/null
}
wait_until 3 "the kicked session gone" not_from210
wait "$fpid"
expect_eq "kicked without credit: closed by the hub, close code" \
	"$(jq -r '"\(.closed_by_hub) \(.last_code)"' "$TMP/kick.json")" "1 4"
ok "a session that gives no credit is kicked all the same"

# A peer that asks for an idle timeout of 1 ms (and a long ACK delay, so
# that its own end stays) gets the hub's keep-alive PINGs once a second,
# not a thousand a second: until the login deadline, a few packets.
udp_in() { nsx c1 awk '/^Udp:/ && $2 ~ /^[0-9]+$/ { print $2 }' /proc/net/snmp; }
ip -n "$RUN-c1" addr add 192.0.2.211/24 dev eth0
before=$(udp_in)
flood c1 --from 192.0.2.211 --idle-timeout 1 --max-ack-delay 16000 --total 1 --duration 8 \
	> "$TMP/idle.json"
jq -c . "$TMP/idle.json"
got=$(($(udp_in) - before))
expect_eq "closed by the hub (login deadline)" "$(jq .closed_by_hub "$TMP/idle.json")" 1
[ "$got" -le 40 ] || fail "$got packets from the hub to a peer with a 1 ms idle timeout in 5 s"
ok "a 1 ms idle timeout: $got packets from the hub in the 5 s before its login deadline"

# A hostile hub's KeyUpdate: the client (c3) drops what TLS sends after the
# handshake unread, where GnuTLS would have installed the 1-RTT keys again
# and ngtcp2's assertion aborted it. c3 logs in to such a hub and carries
# traffic.
c3_pid=$(pid_of c3)
since=$(client_status c3 since)
expect_eq "TLS bytes after the handshake from our hub" "$(client_status c3 tls_after_handshake)" 0
stop hub
SLOPND_TEST_KEY_UPDATE=1 start_hub
wait_until 15 "c3 logged in to the new hub" client_relogged c3 "$since"
# The KeyUpdate's 5 bytes: handshake type 24, length 1, update_not_requested.
wait_until 5 "c3 dropping the hub's KeyUpdate" client_is c3 tls_after_handshake 5
nsx c3 ping -c 3 -i 0.2 -W 2 10.100.0.1 > /dev/null || fail "c3's ping through the new hub failed"
kill -0 "$c3_pid" 2>/dev/null || fail "c3 died of the hub's KeyUpdate: $(tail -n 5 "$TMP/c3.log")"
nap 1
expect_eq "c3's state a second after its login" "$(client_status c3 connected)" true
ok "a hub's KeyUpdate: the client goes on"
