#!/bin/bash
# A hub's VPN subnet beyond the client's LAN may still take what the client
# sent elsewhere: a DNS server of its resolv.conf (one reached through its
# router, say), whose queries the hub then answers without --accept-dns,
# or part of a wider network the client routes through a gateway or
# another interface (a site behind its router, another VPN's). The client
# says so at its login, naming the server or the route. Not for a server at
# the hub's own address (a resolv.conf pointed at the hub on purpose), one
# outside the subnets, a default route, or with --no-route (no route).
#
#   hub 192.0.2.1 --subnet 198.51.100.0/24, --subnet6 2001:db8:5::/64
#   c1  192.0.2.11, resolv.conf: 198.51.100.53, 2001:db8:5::53, 192.0.2.99,
#       198.51.100.1 (the hub's VIP); 198.51.0.0/16 and 2001:db8::/32 via
#       its router 192.0.2.254 (fe80::254), a default route too
. "$(dirname "$0")/lib.sh"
topo 1
ns_ipv6 hub c1
printf 'search example.com\nnameserver 198.51.100.53\nnameserver 2001:db8:5::53\nnameserver 192.0.2.99\nnameserver 198.51.100.1\n' \
	> "$TMP/resolv.conf"
cp "$TMP/resolv.conf" "$TMP/resolv.orig"
ip -n "$RUN-c1" route add 198.51.0.0/16 via 192.0.2.254
ip -n "$RUN-c1" route add default via 192.0.2.254
ip -n "$RUN-c1" -6 route add 2001:db8::/32 via fe80::254 dev eth0
start_hub --subnet 198.51.100.0/24 --subnet6 2001:db8:5::/64
start_client c1 --resolv-conf "$TMP/resolv.conf"
wait_connected c1 198.51.100.2
said='names %s as a DNS server, and the VPN subnet the hub gives \(%s\) holds it'
wait_log c1 "warning: dns: .*$(printf "$said" 198.51.100.53 198.51.100.0/24)" 2
wait_log c1 "warning: dns: .*$(printf "$said" 2001:db8:5::53 2001:db8:5::/64)" 2
expect_eq "warnings of DNS servers in the VPN subnets" "$(grep -c 'as a DNS server, and the VPN subnet' "$TMP/c1.log")" 2
cmp -s "$TMP/resolv.conf" "$TMP/resolv.orig" || fail "resolv.conf changed without --accept-dns"
ok "c1 names the DNS servers its resolv.conf has in the VPN subnets (not the hub's VIP, not 192.0.2.99)"
cut='this machine routes %s out of eth0 via %s, and the VPN subnet the hub gives, %s, takes that part of it into slopn0'
wait_log c1 "warning: $(printf "$cut" 198.51.0.0/16 192.0.2.254 198.51.100.0/24)" 2
wait_log c1 "warning: $(printf "$cut" 2001:db8::/32 fe80::254 2001:db8:5::/64)" 2
expect_eq "warnings of wider routes the VPN subnets take part of (not the default route)" \
	"$(grep -c 'takes that part of it into' "$TMP/c1.log")" 2
ok "c1 names its routes through its router that the VPN subnets take part of"

# Nor does a packet from the hub come from such a network: c1 reaches
# 198.51.0.0/16 through its router, so one from 198.51.7.7 through the
# tunnel is spoofed (dropped and counted), as one from its LAN is; one from
# 203.0.113.7, the internet beyond its default route, is taken as before.
ip -n "$RUN-hub" addr add 198.51.7.7/32 dev lo
ip -n "$RUN-hub" addr add 203.0.113.7/32 dev lo
nsx c1 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.2", 7777))
s.settimeout(3)
while True:
    try:
        d, a = s.recvfrom(100)
    except socket.timeout:
        break
    print(a[0], flush=True)' > "$TMP/got" &
PIDS+=($!)
lpid=$!
spoofed=$(client_status c1 totals.drops.spoofed)
nap 0.5
for src in 198.51.7.7 203.0.113.7; do
	nsx hub python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.sendto(b"x", ("198.51.100.2", 7777))' "$src"
done
wait "$lpid"
expect_eq "what c1 took from the hub" "$(tr '\n' ' ' < "$TMP/got")" "203.0.113.7 "
expect_eq "c1's spoofed drops" "$(client_status c1 totals.drops.spoofed)" "$((spoofed + 1))"
ok "c1 drops a packet from the hub as from a network behind its router, and takes one from the internet"

# An ICMP "fragmentation needed" from the hub about a packet of c1's VIP
# to a host it never sends through the tunnel (one behind its router, one
# beyond its default route) is dropped: the kernel, with a socket of that
# port (a UDP listener on any address, as avahi's), would take 552 bytes
# for the path to that host, out of c1's own interface, for 10 minutes.
# One about a packet to the hub's VIP, in the tunnel, is taken.
nsx c1 python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5000))
time.sleep(20)' &
PIDS+=($!)
lpid=$!
nap 0.5
no_route=$(client_status c1 totals.drops.no_route)
for dst in 198.51.7.9 203.0.113.9 198.51.100.1; do
	nsx hub python3 -c 'import socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
q = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0x4000, 64, 17, 0,
                socket.inet_aton("198.51.100.2"), socket.inet_aton(sys.argv[1]))
q = q[:10] + struct.pack("!H", csum(q)) + q[12:] + struct.pack("!HHHH", 5000, 53, 8, 0)
m = struct.pack("!BBHHH", 3, 4, 0, 0, 552) + q
m = m[:2] + struct.pack("!H", csum(m)) + m[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.sendto(m, ("198.51.100.2", 0))' "$dst"
done
# mtu_of DST: the path MTU c1's kernel keeps for DST, "-" when none.
mtu_of() { nsx c1 ip -4 route get "$1" | grep -o "mtu [0-9]*" || echo -; }
mtu_of_is() { [ "$(mtu_of "$1")" = "$2" ]; }
wait_until 3 "c1's path MTU to the hub's VIP from its error" mtu_of_is 198.51.100.1 "mtu 552"
expect_eq "c1's path MTUs to 198.51.7.9 and 203.0.113.9" "$(mtu_of 198.51.7.9) $(mtu_of 203.0.113.9)" "- -"
expect_eq "c1's no_route drops" "$(client_status c1 totals.drops.no_route)" "$((no_route + 2))"
kill "$lpid"
ok "c1 drops the hub's 'too big' about hosts it reaches another way, and takes one about the hub's VIP"

start_client c1:nr --tun slopn1 --no-route --resolv-conf "$TMP/resolv.conf"
wait_connected c1:nr 198.51.100.3
grep -Eq "as a DNS server|takes that part of it" "$TMP/c1-nr.log" && fail "c1:nr (--no-route) warned: $(grep 'as a DNS server' "$TMP/c1-nr.log")"
ok "c1:nr (--no-route, no route to the subnet) says nothing of them"
