#!/bin/bash
# IPv6 inside the tunnel: addresses from the hub's /64 mirroring the IPv4
# ones, ping6 to the hub and spoke to spoke, full 1280-byte packets, iperf3
# both ways, TCP with hop-by-hop and destination options headers (split
# from super-packets), a spoofed source dropped and counted, a forged
# "packet too big" behind many options headers dropped, idle sessions without
# drops (no router solicitations), "packet too big" for a connection that
# carries less than the MTU (also spoke to spoke), a hub with
# --subnet6 none (no link-local address on its TUN either), and clients
# that say why they do not ask for IPv6.
. "$(dirname "$0")/lib.sh"
command -v iperf3 >/dev/null || skip "needs iperf3"
command -v jq >/dev/null || skip "needs jq"
topo 2
ns_ipv6 hub c1 c2
start_hub --subnet6 fd00:5:6:7::/64
start_monitor
connect_clients 2
expect_eq "c1's IPv6 addresses" "$(client_status c1 vip6) $(client_status c1 hub_vip6)" \
	"fd00:5:6:7::2 fd00:5:6:7::1"
expect_eq "c2's IPv6 address" "$(client_status c2 vip6)" "fd00:5:6:7::3"
expect_eq "sessions' IPv6 addresses" "$(ctl --json sessions list | jq -r '[.sessions[].vip6] | sort | join(" ")')" \
	"fd00:5:6:7::2 fd00:5:6:7::3"
expect_eq "status: subnet6" "$(ctl --json status | jq -r '.subnet6 + " " + .hub_vip6')" "fd00:5:6:7::/64 fd00:5:6:7::1"
nsx c1 ip -6 addr show dev slopn0 | grep -q "inet6 fd00:5:6:7::2/64 scope global" || fail "no IPv6 address on c1's TUN"
nsx c1 ip -6 route show dev slopn0 | grep -q "^fd00:5:6:7::/64" || fail "no route to the /64 on c1"
nsx c1 ip -6 addr show dev slopn0 | grep -q "scope link" && fail "c1's TUN has a link-local address"
ok "clients carry the IPv6 address that mirrors their IPv4 one, the /64 routed, no link-local"
wait_event session.up '.params.vip == "10.100.0.3" and .params.vip6 == "fd00:5:6:7::3"'
ok "the session.up event carries both addresses"

drops() { ctl --json sessions list | jq "[.sessions[] | select(.vip6 == \"$1\") | .drops[]] | add"; }
wait_ping c1 fd00:5:6:7::1 5
nsx c1 ping -6 -c 5 -i 0.2 -W 2 fd00:5:6:7::1 >/dev/null || fail "ping6 c1 -> hub"
nsx hub ping -6 -c 3 -i 0.2 -W 2 fd00:5:6:7::3 >/dev/null || fail "ping6 hub -> c2"
ok "ping6 between the hub and clients"
nsx c1 ping -6 -c 5 -i 0.2 -W 2 fd00:5:6:7::3 >/dev/null || fail "ping6 c1 -> c2"
ok "ping6 spoke to spoke"
nsx c1 ping -6 -M do -s 1232 -c 3 -i 0.2 -W 2 fd00:5:6:7::1 >/dev/null || fail "1280-byte IPv6 packet to the hub"
nsx c1 ping -6 -M do -s 1232 -c 3 -i 0.2 -W 2 fd00:5:6:7::3 >/dev/null || fail "1280-byte IPv6 packet to c2"
ok "1280-byte IPv6 packets with DF, to the hub and across"
iperf_tcp "over IPv6, c1 -> hub" c1 hub fd00:5:6:7::1 1
iperf_tcp "over IPv6, hub -> c1" hub c1 fd00:5:6:7::2 1
iperf_tcp "over IPv6, c2 -> c1 (spoke to spoke)" c2 c1 fd00:5:6:7::2 1

# TCP whose every packet carries a hop-by-hop, destination options or
# segment routing header: the kernel hands it over in super-packets with
# the header before TCP's, which must be split like any other, not dropped
# (with no segment left to visit, the receiver takes segment routing where
# it is turned on).
supers() { if [ "$1" = hub ]; then ctl --json status | jq .offload.super_reads; else client_status "$1" offload.super_reads; fi; }
exthdr() { # FROM TO ADDR hop|dst
	nsx "$2" python3 "$TESTS_DIR/netns/exthdr.py" sink "$3" 7001 > "$TMP/exthdr-sink.out" &
	local sink=$!
	wait_listening "$2" 7001
	nsx "$1" timeout 30 python3 "$TESTS_DIR/netns/exthdr.py" source "$3" 7001 20000000 "$4" \
		> "$TMP/exthdr-source.out" || fail "TCP with $4 options $1 -> $2 did not finish"
	wait "$sink" || fail "the sink of TCP with $4 options $1 -> $2 failed"
	expect_eq "bytes and sha256 of TCP with $4 options, $1 -> $2" \
		"$(tail -1 "$TMP/exthdr-sink.out")" "$(cat "$TMP/exthdr-source.out")"
}
reads0="$(supers hub) $(supers c1)"
for n in hub c1; do nsx $n sysctl -qw net.ipv6.conf.all.seg6_enabled=1 net.ipv6.conf.slopn0.seg6_enabled=1; done
for kind in dst hop srh; do
	exthdr c1 hub fd00:5:6:7::1 $kind
	exthdr hub c1 fd00:5:6:7::2 $kind
done
expect_eq "c1's drops" "$(client_status c1 'totals.drops | add')" 0
expect_eq "the hub's drops of c1" "$(drops fd00:5:6:7::2)" 0
if [ "${SLOPN_OFFLOADS:-}" != off ]; then
	read -r hub0 c10 <<< "$reads0"
	[ "$(supers hub)" -gt "$hub0" ] && [ "$(supers c1)" -gt "$c10" ] ||
		fail "no super-packets read: hub $hub0 -> $(supers hub), c1 $c10 -> $(supers c1)"
fi
ok "20 MB of TCP with hop-by-hop, destination options or routing headers each way, intact, nothing dropped"

# Idle: no router solicitations or other link-scoped IPv6 from either
# side's TUN, so no drops to puzzle over.
before=$(drops fd00:5:6:7::2)
sleep 3
expect_eq "drops of an idle IPv6 session" "$(drops fd00:5:6:7::2)" "$before"
expect_eq "drops of c2's session" "$(drops fd00:5:6:7::3)" 0

# A source other than the client's address: dropped as spoofed.
ip -n "$RUN-c1" addr add fd00:5:6:7::77/128 dev slopn0 nodad
nsx c1 ping -6 -I fd00:5:6:7::77 -c 3 -i 0.2 -W 1 fd00:5:6:7::1 >/dev/null && fail "spoofed ping6 answered"
expect_eq "spoofed IPv6 packets counted" \
	"$(ctl --json sessions list | jq '.sessions[] | select(.vip6 == "fd00:5:6:7::2") | .drops.spoofed')" 3
ip -n "$RUN-c1" addr del fd00:5:6:7::77/128 dev slopn0
nsx c1 ping -6 -c 1 -W 2 fd00:5:6:7::1 >/dev/null || fail "the real address no longer works"
ok "a spoofed IPv6 source is dropped and counted; the real one still works"

# A forged "packet too big" from c2 to c1 about packets c1 never sent
# through the tunnel (its QUIC packets to a hub reached over IPv6), behind
# 9 destination options headers, which the kernel walks however many there
# are: c1 drops it as it does one without them (icmpforge.sh), and its
# kernel never sees it.
ptbs() { nsx c1 awk '$1 == "Icmp6InPktTooBigs" {print $2}' /proc/net/snmp6; }
no_route() { client_status c1 totals.drops.no_route; }
nr0=$(no_route) ptb0=$(ptbs)
nsx c2 python3 - fd00:5:6:7::3 fd00:5:6:7::2 9 <<'PY' || fail "cannot send the forged packet too big"
import socket, struct, sys
src, dst, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
a = lambda s: socket.inet_pton(socket.AF_INET6, s)
def csum(b):
    b += b'\0' * (len(b) % 2)
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
# The quoted packet: UDP fd00:99::11 -> the hub fd00:99::1:4242, 1400 bytes.
quote = struct.pack('!IHBB16s16sHHHH', 0x60000000, 1360, 17, 64, a('fd00:99::11'), a('fd00:99::1'),
                    40000, 4242, 1360, 0)
icmp = struct.pack('!BBHI', 2, 0, 0, 1280) + quote
pseudo = a(src) + a(dst) + struct.pack('!IxxxB', len(icmp), 58)
icmp = icmp[:2] + struct.pack('!H', csum(pseudo + icmp)) + icmp[4:]
opts = b''.join(bytes([60 if i + 1 < k else 58, 0, 1, 4, 0, 0, 0, 0]) for i in range(k))
pkt = struct.pack('!IHBB16s16s', 0x60000000, len(opts) + len(icmp), 60, 64, a(src), a(dst)) + opts + icmp
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(pkt, (dst, 0))
PY
no_route_above() { [ "$(no_route)" -gt "$1" ]; }
wait_until 5 "c1 dropping the forged packet too big (no_route $nr0)" no_route_above "$nr0"
expect_eq "packets too big c1's kernel took" "$(ptbs)" "$ptb0"
ok "a forged packet too big behind 9 destination options headers, from c2, is dropped by c1"

# Kick by the IPv6 address.
expect_eq "kicked by IPv6 address" "$(ctl --json sessions kick fd00:5:6:7::3 --reason v6 | jq .kicked)" 1
wait_event session.down '.params.vip6 == "fd00:5:6:7::3" and .params.reason == "kicked: v6"'
ok "sessions kick takes an IPv6 address"

# A token's fixed address given as IPv6: the token gets both.
ctl --json token add fixed6 --vip fd00:5:6:7::50 > "$TMP/fixed6.json" || fail "token add --vip IPv6"
expect_eq "fixed VIPs of the token" "$(jq -r '.vip + " " + .vip6' "$TMP/fixed6.json")" "10.100.0.80 fd00:5:6:7::50"
st=0; ctl token add bad6 --vip fd00:5:6:8::50 > "$TMP/bad6.txt" 2>&1 || st=$?
expect_eq "exit status of token add with an IPv6 VIP outside the /64" "$st" 1
grep -q "VIP fd00:5:6:8::50 is not a client address: IPv6 addresses mirror the IPv4 ones" "$TMP/bad6.txt" ||
	fail "token add bad6: $(cat "$TMP/bad6.txt")"
expect_eq "tokens named bad6" "$(ctl --json token list | jq '[.tokens[] | select(.name == "bad6")] | length')" 0
TOKEN=$(jq -r .token "$TMP/fixed6.json") start_client c2:fixed --tun fix0
wait_connected c2:fixed 10.100.0.80
expect_eq "its IPv6 address" "$(client_status c2:fixed vip6)" fd00:5:6:7::50
# The table an admin reads shows both, under their headings.
ctl token list > "$TMP/tokens.txt"
head -1 "$TMP/tokens.txt" | grep -q " VIP  *VIP6 " || fail "token list has no VIP6 heading: $(cat "$TMP/tokens.txt")"
grep -q "^fixed6 .* 10\.100\.0\.80  *fd00:5:6:7::50 " "$TMP/tokens.txt" ||
	fail "token list does not show fixed6's two addresses: $(cat "$TMP/tokens.txt")"
ok "token add --vip takes an IPv6 address: its client gets both"

# Connections that carry less than the MTU: the hub and c3 take datagrams
# of at most 1353 bytes (1350 of IP packet), as a peer on an older QUIC
# stack would, with an MTU of 1400. Each answers a 1400-byte packet it
# cannot send with "packet too big", and the sender's kernel adapts.
attach c3 192.0.2.13
ns_ipv6 c3
stop hub
mv "$TMP/hub.log" "$TMP/hub-first.log"
SLOPND_MAX_DATAGRAM_FRAME=1353 start_hub --subnet6 fd00:5:6:7::/64 --mtu 1400
SLOPND_MAX_DATAGRAM_FRAME=1353 start_client c3 --mtu 1400
wait_until 10 "c3 connected" client_connected c3
vip6=$(client_status c3 vip6)
wait_ping hub "$vip6" 5
nsx hub ping -6 -M do -s 1352 -c 1 -W 2 "$vip6" > "$TMP/ptb.txt" 2>&1
grep -q "mtu=1350\|mtu = 1350" "$TMP/ptb.txt" || fail "no packet too big (mtu 1350): $(cat "$TMP/ptb.txt")"
nsx hub ping -6 -M do -s 1302 -c 2 -W 2 "$vip6" >/dev/null || fail "1350 bytes did not pass after the packet too big"
nsx c3 ping -6 -M do -s 1352 -c 1 -W 2 fd00:5:6:7::1 > "$TMP/ptb-c3.txt" 2>&1
grep -q "mtu=1350\|mtu = 1350" "$TMP/ptb-c3.txt" || fail "c3 sent no packet too big: $(cat "$TMP/ptb-c3.txt")"
nsx c3 ping -6 -M do -s 1302 -c 2 -W 2 fd00:5:6:7::1 >/dev/null || fail "1350 bytes from c3 did not pass"
ok "a packet too big for the connection is answered with ICMPv6 packet too big (mtu 1350), by the hub and by a client"

# Spoke to spoke: c4's connection carries 1400 bytes, c3's only 1350; the
# hub forwards c4's packets without its TUN, so it answers for c3's
# connection itself, "from" c3's address (c4's own client would answer
# from the hub's ::1).
stop hub
mv "$TMP/hub.log" "$TMP/hub-ptb.log"
start_hub --subnet6 fd00:5:6:7::/64 --mtu 1400
attach c4 192.0.2.14
ns_ipv6 c4
start_client c4 --mtu 1400
wait_until 10 "c4 connected" client_connected c4
wait_until 15 "c3 back" client_connected c3
vip6=$(client_status c3 vip6)
wait_ping c4 "$vip6" 5
nsx c4 ping -6 -M do -s 1352 -c 1 -W 2 "$vip6" > "$TMP/ptb-s2s.txt" 2>&1
grep -q "From $vip6 .*mtu *= *1350" "$TMP/ptb-s2s.txt" ||
	fail "no packet too big from the hub for c4 -> c3: $(cat "$TMP/ptb-s2s.txt")"
nsx c4 ping -6 -M do -s 1302 -c 2 -W 2 "$vip6" >/dev/null || fail "1350 bytes c4 -> c3 did not pass"
ok "spoke to spoke: a packet too big for the receiver's connection is answered with packet too big (mtu 1350)"

# --subnet6 none: IPv4 only, clients without IPv6.
stop hub
mv "$TMP/hub.log" "$TMP/hub-second.log"
start_hub --subnet6 none --mtu 1400
v4only() { client_connected c3 && [ "$(client_status c3 vip6)" = null ]; }
wait_until 15 "c3 logged in again, IPv4 only" v4only
expect_eq "status without IPv6" "$(ctl --json status | jq -c '[.subnet6, .hub_vip6]')" "[null,null]"
nsx c3 ip -6 addr show dev slopn0 | grep -q inet6 && fail "c3 kept an IPv6 address"
# IPv6 is still on for the hub's TUN, but with no link-local address its
# kernel sends nothing into it (router solicitations, listener reports)
# for the hub to read and count as drops.
nsx hub ip -6 addr show dev slopn0 | grep -q "scope link" && fail "the hub's TUN has a link-local address"
wait_ping c3 10.100.0.1 5
nsx c3 ping -c 3 -i 0.5 -W 2 10.100.0.1 > /dev/null || fail "c3 cannot ping the hub"
expect_eq "the hub's drops of packets that are not IPv4" "$(ctl --json status | jq .totals.drops.not_ipv4)" 0
ok "--subnet6 none: IPv4 only"
# A client that cannot carry IPv6 does not ask for it, and its status says
# why (c3 can: the hub gives none); an --mtu under the 1280 bytes IPv6
# needs, or IPv6 disabled for new interfaces where it runs.
attach c8 192.0.2.18
attach c9 192.0.2.19
ns_ipv6 c9
nsx c8 sysctl -qw net.ipv6.conf.default.disable_ipv6=1
start_client c8
start_client c9 --mtu 1200
wait_until 10 "c8 and c9 connected" eval "client_connected c8 && client_connected c9"
expect_eq "why c3, c8 (IPv6 disabled) and c9 (--mtu 1200) have no IPv6" \
	"$(client_status c3 ipv6_off) $(client_status c8 ipv6_off) $(client_status c9 ipv6_off)" "null disabled mtu"
echo "PASS"
