# Sourced by nat.sh and nat_ipt.sh, after lib.sh: the network of the
# hub's --nat tests and what they read off it.
#
#   c1 192.0.2.11 --br0-- 192.0.2.1 hub 203.0.113.1/30 -- 203.0.113.2 rtr 203.0.113.129/25 -- 203.0.113.130 inet
#                                    hub 198.51.100.1/24 -- 198.51.100.2 lanhost
#
# The hub's default route goes to rtr: the "internet" is two hops away,
# the LAN host one hop on a network of the hub's own. nat_more_networks
# adds, at once, what nat.sh adds one by one while its hub runs.
# no_replies NS ADDR MESSAGE [ADDR MESSAGE]...: two pings from NS to each
# ADDR (-i 0.2, -W 1: as 'ping ... && fail' one after the other), all of
# them at once; fails with the MESSAGE of the first address that answered.
no_replies() {
	local ns=$1 p=() m=() i
	shift
	while [ $# -ge 2 ]; do
		ip netns exec "$RUN-$ns" ping -c 2 -i 0.2 -W 1 "$1" > /dev/null 2>&1 &
		p+=($!)
		m+=("$2")
		shift 2
	done
	for i in "${!p[@]}"; do wait "${p[i]}" && fail "${m[i]}"; done
	return 0
}
topo 2
veth() { # NS1 IF1 ADDR1 NS2 IF2 ADDR2
	ip link add "$2" netns "$RUN-$1" type veth peer name "$5" netns "$RUN-$4"
	ip -n "$RUN-$1" addr add "$3" dev "$2"
	ip -n "$RUN-$4" addr add "$6" dev "$5"
	ip -n "$RUN-$1" link set "$2" up
	ip -n "$RUN-$4" link set "$5" up
}
ns_create rtr
ns_create inet
ns_create lanhost
veth hub wan 203.0.113.1/30 rtr eth0 203.0.113.2/30
veth rtr eth1 203.0.113.129/25 inet eth0 203.0.113.130/25
veth hub lan0 198.51.100.1/24 lanhost eth0 198.51.100.2/24
ip -n "$RUN-hub" route add default via 203.0.113.2
ip -n "$RUN-inet" route add default via 203.0.113.129
ip -n "$RUN-lanhost" route add default via 198.51.100.1
ip -n "$RUN-c1" route add default via 192.0.2.1
ip -n "$RUN-c2" route add default via 192.0.2.1
nsx rtr sysctl -qw net.ipv4.ip_forward=1
nsx hub sysctl -qw net.ipv4.ip_forward=0
# A hardened machine takes no ICMP redirects; every write of ip_forward
# that changes it sets this to the opposite, so --nat must put it back.
nsx hub sysctl -qw net.ipv4.conf.all.accept_redirects=0
fwd_state() { echo "$(nsx hub sysctl -n net.ipv4.ip_forward) $(nsx hub sysctl -n net.ipv4.conf.all.accept_redirects)"; }

# What the internet and LAN hosts receive, by source.
for h in inet lanhost; do
	nsx "$h" nft -f - <<-EOF
	table ip seen {
		chain in {
			type filter hook prerouting priority 0;
			ip saddr 10.100.0.0/24 counter
			ip saddr 203.0.113.1 icmp type echo-request counter
		}
	}
	EOF
done
# invalid_tcp_from NAME: 10 TCP segments with SYN, FIN and RST at once from
# client NAME to the internet host: invalid to connection tracking, so
# never masqueraded.
invalid_tcp_from() {
	nsx "$1" python3 -c 'import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
for _ in range(10):
    s.sendto(struct.pack("!HHIIBBHHH", 40000, 8000, 1, 0, 5 << 4, 0x07, 1024, 0, 0), ("203.0.113.130", 0))'
}
seen() { # HOST 1|2: packets from VPN addresses (1), echo requests from the hub's address (2)
	nsx "$1" nft -j list table ip seen | jq "[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) | .counter.packets][$(($2 - 1))]"
}
# A UDP service on every address of the hub, at port 53 (as a resolver)
# and 5300, that answers each datagram; udp_answered ADDR PORT: whether
# one from c1 got its answer within 1 s.
nsx hub python3 -c 'import selectors, socket
sel = selectors.DefaultSelector()
for port in (53, 5300):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        data, peer = key.fileobj.recvfrom(512)
        key.fileobj.sendto(data, peer)' &
PIDS+=($!)
udp_answered() {
	nsx c1 python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
try:
    s.sendto(b"q", (sys.argv[1], int(sys.argv[2])))
    s.recvfrom(512)
    print(1)
except OSError:
    print(0)' "$1" "$2"
}
# Every routing table and rule of c1; a reconnect may bring another VIP.
routing() { { nsx c1 ip route show table all; nsx c1 ip rule; } | sed 's/10\.100\.0\.[0-9]*/VIP/g'; }

# The networks nat.sh adds while its hub runs (all but the second way out):
# the hub's second address on wan, instance metadata and a private network
# at the internet host behind rtr, a LAN on wan by an on-link route, and
# routes of the hub's own to the private and the internet host's networks.
nat_more_networks() {
	ip -n "$RUN-hub" addr add 203.0.113.9/30 dev wan
	ip -n "$RUN-rtr" addr add 203.0.113.10/30 dev eth0
	ip -n "$RUN-inet" addr add 169.254.169.254/32 dev eth0
	ip -n "$RUN-rtr" route add 169.254.169.254/32 via 203.0.113.130
	ip -n "$RUN-inet" addr add 10.200.0.1/32 dev eth0
	ip -n "$RUN-rtr" route add 10.200.0.0/16 via 203.0.113.130
	ip -n "$RUN-rtr" addr add 203.0.113.66/27 dev eth0
	ip -n "$RUN-hub" route add 203.0.113.64/27 dev wan
	ip -n "$RUN-hub" route add 10.200.0.0/16 via 203.0.113.2
	ip -n "$RUN-hub" route add 203.0.113.128/25 via 203.0.113.2
}
# How many times the hub found its rules gone and put them back.
restored() { ctl --json status | jf nat.restored; }
restored_since() { [ "$(restored)" -gt "$1" ]; }
RULES0=$(nsx hub nft list ruleset)
