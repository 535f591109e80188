#!/bin/bash
# Without --nat the hub carries what is for the VPN (its clients, its VIP)
# and nothing beyond, unless --allow-lan names a network. Its host takes a
# packet from the TUN as from any interface: to every address it has (a
# service bound to its site address, as --metrics may be) and, where it
# forwards (Docker, libvirt, an administrator), onto its networks. Here
# it forwards, and c1 routes the site into its tunnel: its pings to the
# hub's site address and to a host there are dropped at the hub and
# counted (no_route); its IPv6 ones beyond the /64 too; the hub's VIP
# answers, and so does the --dns server at its port 53 (not at others).
# With --allow-lan for the site (still no --nat), the host there answers,
# and the hub's site address too.
#
#   hub 192.0.2.1 -- br0 -- c1 192.0.2.11
#   hub site0 198.51.100.1, 2001:db8:5::1 -- site 198.51.100.7, 2001:db8:5::7
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 1
ns_create site
ns_ipv6 hub c1 site
ip link add site0 netns "$RUN-hub" type veth peer name eth0 netns "$RUN-site"
ip -n "$RUN-hub" addr add 198.51.100.1/24 dev site0
ip -n "$RUN-hub" addr add 2001:db8:5::1/64 dev site0 nodad
ip -n "$RUN-hub" link set site0 up
ip -n "$RUN-site" addr add 198.51.100.7/24 dev eth0
ip -n "$RUN-site" addr add 2001:db8:5::7/64 dev eth0 nodad
ip -n "$RUN-site" link set eth0 up
# Its way back to the VPN is the hub (no masquerade here).
ip -n "$RUN-site" route add 10.100.0.0/24 via 198.51.100.1
ip -n "$RUN-site" -6 route add fd00:5:6:7::/64 via 2001:db8:5::1
nsx hub sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

# in_echos NS: the echo requests NS's kernel took in, "IPv4 IPv6".
in_echos() {
	nsx "$1" awk '/^Icmp:/ { if (!c) for (i = 1; i <= NF; i++) { if ($i == "InEchos") c = i } else v4 = $c }
		/^Icmp6InEchos/ { v6 = $2 } END { print v4 + 0, v6 + 0 }' /proc/net/snmp /proc/net/snmp6
}
pings() { nsx c1 ping "$@" 2> /dev/null | sed -n 's/.* \([0-9]*\) received.*/\1/p'; }

# udp_heard PORT...: c1 sends a datagram to the site's host at each PORT;
# the ports whose datagram arrived there.
udp_heard() {
	nsx site timeout 3 python3 -c '
import select, socket, sys
socks = []
for p in sys.argv[1:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.51.100.7", int(p)))
    socks.append(s)
print("ready", flush=True)
heard = set()
while True:
    r, _, _ = select.select(socks, [], [], 1.5)
    if not r:
        break
    for s in r:
        s.recv(100)
        heard.add(s.getsockname()[1])
print(" ".join(str(p) for p in sorted(heard)))
' "$@" > "$TMP/heard.txt" &
	local l=$!
	wait_until 3 "the site's listener" grep -q ready "$TMP/heard.txt"
	for p in "$@"; do
		nsx c1 python3 -c 'import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"q", ("198.51.100.7", int(sys.argv[1])))' "$p"
	done
	wait $l
	tail -n 1 "$TMP/heard.txt"
}

start_hub --subnet6 fd00:5:6:7::/64 --dns 198.51.100.7
start_client c1
wait_connected c1 10.100.0.2
nsx c1 ip route add 198.51.100.0/24 dev slopn0
nsx c1 ip -6 route add 2001:db8:5::/64 dev slopn0
nsx c1 ip route add 203.0.113.0/24 dev slopn0
expect_eq "pings to the hub's VIP" "$(pings -c 2 -i 0.2 -W 1 10.100.0.1)" 2
expect_eq "IPv6 pings to the hub's VIP" "$(pings -c 2 -i 0.2 -W 1 fd00:5:6:7::1)" 2
read -r site_hub4 site_hub6 <<< "$(in_echos hub)"
read -r site4 site6 <<< "$(in_echos site)"
dropped=$(hub_stat 10.100.0.2 drop_no_route)
expect_eq "pings to the hub's site address" "$(pings -c 2 -i 0.2 -W 1 198.51.100.1)" 0
expect_eq "pings to the site's host" "$(pings -c 2 -i 0.2 -W 1 198.51.100.7)" 0
expect_eq "IPv6 pings to the site's host" "$(pings -c 2 -i 0.2 -W 1 2001:db8:5::7)" 0
expect_eq "echo requests the site's host took in (IPv4 IPv6)" "$(in_echos site)" "$site4 $site6"
expect_eq "echo requests the hub's host took in (IPv4 IPv6)" "$(in_echos hub)" "$site_hub4 $site_hub6"
expect_eq "c1's packets beyond the VPN dropped at the hub (no_route)" \
	"$(($(hub_stat 10.100.0.2 drop_no_route) - dropped))" 6
wait_log hub "warning: a client sent a packet to 198.51.100.1, beyond the VPN: without --nat" 1
# The --dns server's port 53, which clients are told to ask, and no other.
expect_eq "datagrams to the --dns server's ports 53 and 54 that reached it" "$(udp_heard 53 54)" 53
ok "without --nat nothing beyond the VPN: the hub's other addresses and its site closed, counted"

stop hub
mv "$TMP/hub.log" "$TMP/hub-first.log"
start_hub --subnet6 fd00:5:6:7::/64 --allow-lan 198.51.100.0/24 --allow-lan 2001:db8:5::/64
wait_connected c1 10.100.0.2
expect_eq "pings to the site's host with --allow-lan" "$(pings -c 2 -i 0.2 -W 1 198.51.100.7)" 2
expect_eq "pings to the hub's site address with --allow-lan" "$(pings -c 2 -i 0.2 -W 1 198.51.100.1)" 2
expect_eq "IPv6 pings to the site's host with --allow-lan" "$(pings -c 2 -i 0.2 -W 1 2001:db8:5::7)" 2
expect_eq "pings to another network still" "$(pings -c 1 -W 1 203.0.113.9)" 0
expect_eq "c1's packets beyond the VPN dropped at the hub (no_route)" "$(hub_stat 10.100.0.2 drop_no_route)" 1
ok "--allow-lan without --nat opens its networks (routed, not masqueraded), and no others"
echo "PASS"
