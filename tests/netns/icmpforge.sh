#!/bin/bash
# A forged ICMP error cannot cut a client off. A "fragmentation needed" that
# claims less than any QUIC path carries (RFC 9000 14.2.1: ignore it) is
# believed by the kernel for ten minutes, so the client must not take it
# for a narrower way and stop; and one sent through the tunnel (by another
# client) about the client's own QUIC packets is dropped before the kernel
# sees it. A "port unreachable" (which ends an attempt that has heard
# nothing yet, refused.sh, if it quotes the attempt's packet, icmpquote.sh)
# leaves a connection as it is.
#
#   hub 192.0.2.1 -- br0 -- c1 192.0.2.11, c2 192.0.2.12 (the forger)
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
command -v python3 >/dev/null || skip "needs python3"
topo 2
start_hub
connect_clients 2
V1=$(client_status c1 vip) V2=$(client_status c2 vip)
session_of() { ctl --json sessions list | jq -r --arg v "$1" '.sessions[] | select(.vip == $v) | .id'; }
S1=$(session_of "$V1")
port=$(nsx c1 ss -Hun state connected dst 192.0.2.1:4242 | awk '{print $4}' | sed 's/.*://' | head -1)
[ -n "$port" ] || fail "c1's QUIC socket not found"

# forge NS SRC DST [CODE [MTU [to-c1]]]: an ICMP "destination unreachable"
# from SRC to DST (raw, IP header included) about a packet 192.0.2.11:$port
# -> 192.0.2.1:4242 (with to-c1, the other way); CODE 4 (the default) is
# "fragmentation needed, MTU 552" (or MTU), 3 "port unreachable", 1 "host
# unreachable".
forge() {
	nsx "$1" python3 - "$2" "$3" "$port" "${4:-4}" "${5:-552}" "${6:-}" "${7:-}" "${8:-}" <<'PY'
import socket, struct, sys, time
src, dst, port, code, mtu = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
a, b, pa, pb = '192.0.2.11', '192.0.2.1', port, 4242
if sys.argv[6] == 'to-c1':
    a, b, pa, pb = b, a, pb, pa
def csum(b):
    b += b'\0' * (len(b) % 2)
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
inner = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 1400, 0, 0x4000, 64, 17, 0,
                    socket.inet_aton(a), socket.inet_aton(b))
inner = inner[:10] + struct.pack('!H', csum(inner)) + inner[12:]
inner += struct.pack('!HHHH', pa, pb, 1380, 0)
icmp = struct.pack('!BBHHH', 3, code, 0, 0, mtu if code == 4 else 0) + inner
icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
n, gap = int(sys.argv[7] or 1), float(sys.argv[8] or 0)
for _ in range(n):
    s.sendto(ip + icmp, (dst, 0))
    time.sleep(gap)
PY
}
no_route() { client_status c1 totals.drops.no_route; }
# in_unreach [NS]: the "destination unreachable" errors c1's (NS's) kernel
# took in, so that a forged one is known to have arrived before c1 is judged
# on it.
in_unreach() {
	nsx "${1:-c1}" awk '/^Icmp:/ { if (!f) { for (i = 1; i <= NF; i++) if ($i == "InDestUnreachs") f = i }
		else print $f }' /proc/net/snmp
}
unreach_above() { [ "$(in_unreach "${2:-c1}")" -gt "$1" ]; }
pmtu() { nsx c1 ip route get 192.0.2.1 | grep -o 'mtu [0-9]*' || true; }
still_up() {
	client_connected c1 || fail "c1 lost its connection: $(client_status c1 last_error)"
	expect_eq "c1's session at the hub" "$(session_of "$V1")" "$S1"
	nsx c1 ping -c 3 -i 0.2 -W 2 -M do -s 1252 10.100.0.1 > /dev/null ||
		fail "full-size pings from c1 do not pass"
}

# Through the tunnel: c2 as its own VIP to c1's, about c1's QUIC packets.
before=$(no_route)
forge c2 "$V2" "$V1"
wait_until 5 "c1 counting the forged error (no_route $before)" \
	sh -c "[ \"\$(\"$SLOPNCTL\" --socket '$TMP/c1.sock' --json status | jq .totals.drops.no_route)\" -gt $before ]"
expect_eq "the kernel's path MTU to the hub on c1" "$(pmtu)" ""
sleep 1
still_up
ok "an error about c1's QUIC packets, from c2 through the tunnel, is dropped and counted"

# On the underlay, from an address of the LAN: the kernel believes it.
ip -n "$RUN-hub" addr add 192.0.2.99/24 dev eth0
forge hub 192.0.2.99 192.0.2.11
wait_until 5 "the kernel taking the forged MTU" sh -c "nsx() { ip netns exec $RUN-c1 \"\$@\"; }; nsx ip route get 192.0.2.1 | grep -q 'mtu 552'"
sleep 3
still_up
ok "c1 stays connected (session $S1) under a kernel path MTU of 552 from a forged error"

# A "port unreachable" as from the hub itself: the kernel hands it to c1's
# socket (ECONNREFUSED), and c1, which has heard its hub, keeps to it.
n=$(in_unreach)
forge hub 192.0.2.1 192.0.2.11 3
wait_until 5 "c1's kernel taking the forged port unreachable" unreach_above "$n"
sleep 1
still_up
ok "c1 stays connected (session $S1) after a forged port unreachable from its hub's address"
# A router's "host unreachable" (which ends an attempt too): the same.
n=$(in_unreach)
forge hub 192.0.2.99 192.0.2.11 1
wait_until 5 "c1's kernel taking the forged host unreachable" unreach_above "$n"
sleep 1
still_up
ok "c1 stays connected (session $S1) after a forged host unreachable from a router"

# A flood of them: each leaves its error pending on c1's socket, which the
# next send or receive takes instead of doing its work. c1's sends carry on
# past it: 1000 pings through the tunnel among 2000 forged errors, none lost.
drops=$(client_status c1 totals.drops.udp_send)
n=$(in_unreach)
nsx c1 ping -q -c 1000 -i 0.002 -s 1000 -W 2 10.100.0.1 > "$TMP/flood-ping" 2>&1 &
ping_pid=$!
forge hub 192.0.2.1 192.0.2.11 3 0 "" 2000 0.001
wait "$ping_pid" || :
cat "$TMP/flood-ping"
unreach_above $((n + 1999)) || fail "c1's kernel took $(($(in_unreach) - n)) of 2000 forged errors"
expect_eq "c1's QUIC packets its socket refused (udp_send)" "$(client_status c1 totals.drops.udp_send)" "$drops"
grep -q ' 0% packet loss' "$TMP/flood-ping" || fail "pings lost among forged errors: $(grep loss "$TMP/flood-ping")"
still_up
ok "2000 forged port unreachables cost c1 no packet"

# To the hub, from an address of the LAN (as a router's), a "fragmentation
# needed, MTU 1300" about its packets to c1. Its socket is bound, not
# connected, so its kernel takes one about any address (it notes the path
# MTU: the socket sets DF, IP_PMTUDISC_PROBE): anyone who knows a client's
# address could make the hub's packets to it smaller, for ten minutes at a
# time. The hub takes no path MTU from ICMP (a way to a client narrower
# than its link is the client's to tell): c1, connected again, carries
# full-size packets both ways.
full=$(hub_stat "$V1" max_packet)
hub_pmtu() { nsx hub ip route get 192.0.2.11 | grep -o 'mtu [0-9]*' || true; }
hub_pmtu_is() { [ "$(hub_pmtu)" = "$1" ]; }
forge c2 192.0.2.12 192.0.2.1 4 1300 to-c1
wait_until 5 "the hub's kernel taking the forged MTU" hub_pmtu_is "mtu 1300"
ctl sessions kick "$S1" > /dev/null
S1_gone() { [ "$(session_of "$V1")" != "$S1" ] && [ -n "$(session_of "$V1")" ]; }
wait_until 15 "c1 connected again" S1_gone
wait_connected c1 "$V1"
expect_eq "the largest packet c1's new connection carries, at the hub" "$(hub_stat "$V1" max_packet)" "$full"
nsx hub ping -c 3 -i 0.2 -W 2 -M do -s 1252 "$V1" > /dev/null || fail "full-size pings from the hub to c1 do not pass"
ok "a forged 'fragmentation needed' to the hub leaves its packets to c1 full size ($full bytes)"
