#!/bin/bash
# An ICMP "unreachable" ends an attempt that has heard nothing yet
# (refused.sh) only when it quotes a packet of the attempt's: its Initial's
# version and destination connection ID, which only someone who saw it
# knows. c2, on the LAN but off c1's way to the hub, learns c1's address
# and port (here from ss, as a forger would by guessing or from a NAT's
# habits) and sends c1 errors as from the hub and from a router, quoting
# an Initial of another connection ID, random bytes, and nothing past the
# UDP header: c1's attempt goes on, and it connects once the hub hears
# it. Meanwhile c3 tries a port on the hub where nothing listens, whose
# kernel quotes its whole packet: that attempt ends at once, as before.
#
#   hub 192.0.2.1 -- br0 -- c1 .11, c2 .12 (the forger), c3 .13
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "needs python3"
command -v nft >/dev/null || skip "needs nft"
topo 3
start_hub
# The hub drops c1's packets until the errors are in: its attempt waits,
# retransmitting its Initial (1 s, then 2 s later, ...).
nsx hub nft add table inet fw
nsx hub nft add chain inet fw in '{ type filter hook input priority 0; }'
nsx hub nft add rule inet fw in ip saddr 192.0.2.11 udp dport 4242 drop
t0=$(now_ms)
start_client c1
start c3 client --server 192.0.2.1:4243 --token s3cret
c1_port() { nsx c1 ss -Hun state connected dst 192.0.2.1:4242 | awk '{print $4}' | sed 's/.*://' | head -1; }
has_port() { [ -n "$(c1_port)" ]; }
wait_until 5 "c1's QUIC socket" has_port
port=$(c1_port)

# c3: the hub's kernel's answer, which quotes its Initial whole.
wait_until 3 "c3 told of the closed port" client_said c3 "192.0.2.1:4243 answered with ICMP port unreachable"
ok "c3's attempt at a closed port ended within $(($(now_ms) - t0)) ms of its start: $(client_status c3 last_error)"

# forge SRC/CODE/QUOTE...: from c2, ICMP "destination unreachable" errors,
# each of CODE from SRC (forged) to c1 about a UDP packet 192.0.2.11:$port
# -> 192.0.2.1:4242 whose payload began with QUOTE: "initial" (a QUIC v1
# Initial's header with a random 18-byte connection ID), "random" (64
# random bytes) or "none" (the UDP header alone, as an RFC 792 router
# quotes).
forge() {
	nsx c2 python3 - "$port" "$@" <<'PY'
import os, socket, struct, sys
port = int(sys.argv[1])
def csum(b):
    b += b'\0' * (len(b) % 2)
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for spec in sys.argv[2:]:
    src, code, quote = spec.split('/')
    payload = {'initial': b'\xc3\0\0\0\x01\x12' + os.urandom(18) + b'\x08' + os.urandom(8) + b'\0' * 32,
               'random': os.urandom(64), 'none': b''}[quote]
    inner = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + 8 + 1232, 0, 0x4000, 64, 17, 0,
                        socket.inet_aton('192.0.2.11'), socket.inet_aton('192.0.2.1'))
    inner = inner[:10] + struct.pack('!H', csum(inner)) + inner[12:]
    inner += struct.pack('!HHHH', port, 4242, 8 + 1232, 0) + payload
    icmp = struct.pack('!BBHI', 3, int(code), 0, 0) + inner
    icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 1, 0, 64, 1, 0,
                     socket.inet_aton(src), socket.inet_aton('192.0.2.11'))
    s.sendto(ip + icmp, ('192.0.2.11', 0))
PY
}
# The "destination unreachable" errors c1's kernel took in.
in_unreach() {
	nsx c1 awk '/^Icmp:/ { if (!f) { for (i = 1; i <= NF; i++) if ($i == "InDestUnreachs") f = i }
		else print $f }' /proc/net/snmp
}
unreach_above() { [ "$(in_unreach)" -ge "$1" ]; }
n=$(in_unreach)
# As from the hub: port unreachable (3), prohibited (13); as from a router
# on the way, 192.0.2.12: host unreachable (1).
forge 192.0.2.1/3/initial 192.0.2.1/3/random 192.0.2.1/3/none 192.0.2.1/13/initial \
	192.0.2.12/1/initial
wait_until 5 "c1's kernel taking the five forged errors" unreach_above $((n + 5))
nap 0.3
expect_eq "c1's last error after the forged errors" "$(client_status c1 last_error)" null
expect_eq "c1's state after the forged errors" "$(client_status c1 state)" connecting
expect_eq "c1's attempts" "$(client_status c1 attempts)" 1
expect_eq "c1's QUIC socket (the same attempt)" "$(c1_port)" "$port"
ok "c1's attempt outlived five forged unreachables quoting another ID, garbage and nothing"

nsx hub nft delete table inet fw
wait_until 10 "c1 connected" client_connected c1
expect_eq "c1's attempts, as its log tells" "$(grep -c 'connecting to 192.0.2.1:4242' "$TMP/c1.log")" 1
ok "c1 connected in its first attempt, $(($(now_ms) - t0)) ms after its start"
