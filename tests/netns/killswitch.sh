#!/bin/bash
# --kill-switch: a full-tunnel client lets nothing out but through the
# tunnel or to the hub, from its start to a clean stop: not while it
# reconnects (the hub down), not after a crash (until the next start takes
# the table over or removes it). IPv6 that the tunnel does not carry is
# unreachable while connected, with the kill switch or without.
# The hub's machine also routes (forwarding on), so that what leaves c1
# outside the tunnel reaches the internet host: a leak is counted there.
#
#   c1 192.0.2.11 2001:db8:1::11 --br0-- hub 192.0.2.1 2001:db8:1::1
#   hub wan 203.0.113.1/30 2001:db8:2::1 -- 203.0.113.2 2001:db8:2::2 rtr
#   rtr 203.0.113.129/25 2001:db8:3::1 -- 203.0.113.130 2001:db8:3::2 inet
#
# (the internet host two hops away: the hub closes its own networks to
# clients.)
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || skip "needs nft (nftables)"
command -v jq >/dev/null || skip "needs jq"

topo 1
ns_create rtr
ns_create inet
ns_ipv6 hub c1 rtr inet
veth() { # NS1 IF1 ADDR1 ADDR1_6 NS2 IF2 ADDR2 ADDR2_6
	ip link add "$2" netns "$RUN-$1" type veth peer name "$6" netns "$RUN-$5"
	ip -n "$RUN-$1" addr add "$3" dev "$2"
	ip -n "$RUN-$1" addr add "$4" dev "$2" nodad
	ip -n "$RUN-$5" addr add "$7" dev "$6"
	ip -n "$RUN-$5" addr add "$8" dev "$6" nodad
	ip -n "$RUN-$1" link set "$2" up
	ip -n "$RUN-$5" link set "$6" up
}
veth hub wan 203.0.113.1/30 2001:db8:2::1/64 rtr eth0 203.0.113.2/30 2001:db8:2::2/64
veth rtr eth1 203.0.113.129/25 2001:db8:3::1/64 inet eth0 203.0.113.130/25 2001:db8:3::2/64
ip -n "$RUN-hub" addr add 2001:db8:1::1/64 dev eth0 nodad
ip -n "$RUN-c1" addr add 2001:db8:1::11/64 dev eth0 nodad
ip -n "$RUN-hub" route add default via 203.0.113.2
ip -n "$RUN-hub" -6 route add 2001:db8:3::/64 via 2001:db8:2::2
ip -n "$RUN-rtr" route add 192.0.2.0/24 via 203.0.113.1
ip -n "$RUN-rtr" -6 route add 2001:db8:1::/64 via 2001:db8:2::1
ip -n "$RUN-inet" route add default via 203.0.113.129
ip -n "$RUN-inet" -6 route add default via 2001:db8:3::1
ip -n "$RUN-c1" route add default via 192.0.2.1
ip -n "$RUN-c1" -6 route add default via 2001:db8:1::1
nsx rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# The hub's machine is c1's router too; it has no IPv6 default route, so
# the hub offers no IPv6 way out and the full tunnel carries IPv4 only.
nsx hub sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

# What the internet host receives: from c1's own addresses (a leak), echo
# requests from the hub's (c1's pings through the tunnel, masqueraded), and
# DNS queries.
nsx inet nft -f - <<-EOF2
table inet seen {
	counter leak4 { }
	counter leak6 { }
	counter tunnel { }
	counter dns { }
	chain in {
		type filter hook prerouting priority 0;
		ip saddr 192.0.2.11 counter name leak4
		ip6 saddr 2001:db8:1::11 counter name leak6
		ip saddr 203.0.113.1 icmp type echo-request counter name tunnel
		udp dport 53 counter name dns
	}
}
EOF2
seen() { nsx inet nft -j list counter inet seen "$1" | jq '.nftables[] | select(.counter) | .counter.packets'; }
dropped() { client_status "${1:-c1}" kill_switch.dropped_pkts; }
ks_table() { nsx c1 nft list tables | grep -c 'slopnks_slopn0'; }
# ping4/ping6 N ADDR: how many of N pings from c1 were answered.
pings() { nsx c1 ping "$1" -c "$2" -i 0.2 -W 1 "$3" 2>/dev/null | grep -c 'bytes from'; }

# Without --full-tunnel it would cut the machine off: a usage error. In
# c1's namespace, should a check regress (a kill switch, a connection), and
# to $TMP/*.txt, where cleanup looks for sanitizer reports.
nsx c1 "$SLOPND" client --server 192.0.2.1:4242 --token s3cret --kill-switch > "$TMP/usage1.txt" 2>&1; rc=$?
out=$(cat "$TMP/usage1.txt")
expect_eq "exit status of --kill-switch without --full-tunnel" "$rc" 2
[[ $out == *"--kill-switch needs --full-tunnel"* ]] || fail "no reason given: $out"
nsx c1 "$SLOPND" client --server 192.0.2.1:4242 --token s3cret --full-tunnel --allow-lan 192.0.2.0/24 > "$TMP/usage2.txt" 2>&1; rc=$?
out=$(cat "$TMP/usage2.txt")
expect_eq "exit status of a client's --allow-lan without --kill-switch" "$rc" 2
[[ $out == *"only means something with --kill-switch"* ]] || fail "no reason given: $out"
nsx c1 "$SLOPND" client --server 192.0.2.1:4242 --token s3cret --full-tunnel --kill-switch-only > "$TMP/usage3.txt" 2>&1; rc=$?
out=$(cat "$TMP/usage3.txt")
expect_eq "exit status of --kill-switch-only without --kill-switch" "$rc" 2
[[ $out == *"this one has none"* ]] || fail "no reason given: $out"
printf 'server = 192.0.2.1:4242\ntoken = s3cret\nkill_switch_only = yes\n' > "$TMP/only.conf"
nsx c1 "$SLOPND" client --config "$TMP/only.conf" > "$TMP/usage4.txt" 2>&1; rc=$?
out=$(cat "$TMP/usage4.txt")
expect_eq "exit status of kill_switch_only in a configuration file" "$rc" 2
[[ $out == *"only.conf:3: kill_switch_only: a flag only"* ]] || fail "no reason given: $out"

start_hub --nat
wait_until 5 "the hub's NAT" hub_nat_is "nftables out of wan*"

# --- Without the kill switch the leaks are there: this network shows them.
start_client c1 --full-tunnel
wait_connected c1 10.100.0.2
wait_until 5 "c1's full tunnel" client_is c1 full_tunnel true
# The hub offers no IPv6 way out: the full tunnel makes IPv6 beyond c1's
# networks unreachable, kill switch or not.
expect_eq "c1's IPv6 blocked (status)" "$(client_status c1 ipv6_blocked)" true
expect_eq "IPv6 outside the tunnel while connected (the hub offers no IPv6 way out)" "$(pings -6 2 2001:db8:3::2)" 0
expect_eq "the internet host saw c1's own IPv6 address" "$(seen leak6)" 0
stop hub
wait_until 5 "c1 reconnecting" client_is c1 full_tunnel false
expect_eq "IPv4 outside the tunnel while c1 reconnects" "$(pings -4 3 203.0.113.130)" 3
expect_eq "the internet host saw c1's own IPv4 address" "$(seen leak4)" 3
expect_eq "no kill switch in status" "$(client_status c1 kill_switch)" null
stop c1
ok "without --kill-switch: IPv6 unreachable while connected, IPv4 leaks while reconnecting"

# --- With it: through the tunnel, or nowhere.
start_hub --nat
start_client c1 --full-tunnel --kill-switch
wait_connected c1 10.100.0.2
wait_until 5 "c1's full tunnel" client_is c1 full_tunnel true
expect_eq "kill switch in c1's status (DNS closed: the hub is an address)" \
	"$(client_status c1 'kill_switch | "\(.dns) \(.dropped_pkts)"' | sed 's/ [0-9]*$/ N/')" "false N"
"$SLOPNCTL" --socket "$TMP/c1.sock" status | grep -Eq '^kill: +on, [0-9]+ packets dropped; lets out 192\.0\.2\.1:4242$' ||
	fail "slopnctl status does not show the kill switch: $("$SLOPNCTL" --socket "$TMP/c1.sock" status)"
expect_eq "pings to the internet host through the tunnel" "$(pings -4 3 203.0.113.130)" 3
expect_eq "echo requests from the hub's address" "$(seen tunnel)" 3
expect_eq "IPv6 to the internet host, which the tunnel does not carry" "$(pings -6 2 2001:db8:3::2)" 0
ok "IPv6 that the tunnel does not carry goes nowhere"
# Link-local IPv6 leaves for neighbour discovery (and DHCPv6), not for
# names: DNS to a router's fe80:: address, mDNS, LLMNR.
hub_ll=$(nsx hub ip -6 -o addr show dev eth0 scope link | awk '{sub("/.*", "", $4); print $4}')
nsx hub nft add table inet ll
nsx hub nft add chain inet ll in '{ type filter hook input priority 0; }'
nsx hub nft add rule inet ll in udp dport 53 counter
udp6() { # ADDR PORT: one datagram from c1 out of eth0
	nsx c1 python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
try:
    s.sendto(b"q", (sys.argv[1], int(sys.argv[2]), 0, socket.if_nametoindex("eth0")))
except OSError:
    pass' "$1" "$2"
}
d0=$(dropped)
udp6 "$hub_ll" 53
udp6 ff02::fb 5353
udp6 ff02::1:3 5355
expect_eq "DNS queries at the hub's link-local address" \
	"$(nsx hub nft -j list table inet ll | jq '[.nftables[] | select(.rule) | .rule.expr[] | select(.counter) | .counter.packets] | add')" 0
[ "$(($(dropped) - d0))" -ge 3 ] || fail "the kill switch counted $(($(dropped) - d0)) drops for 3 name queries"
expect_eq "pings to the hub's link-local address" "$(pings -6 2 "$hub_ll%eth0")" 2
ok "link-local IPv6: neighbour discovery and pings out, name queries dropped"
stop hub
wait_until 5 "c1 reconnecting" client_is c1 full_tunnel false
# Its routes are out meanwhile, the unreachable ones too: the kill switch
# drops what the machine's own routes would take out.
expect_eq "c1's IPv6 blocked by routes while it reconnects (status)" "$(client_status c1 ipv6_blocked)" false
d1=$(dropped)
expect_eq "IPv4 to the internet host while c1 reconnects" "$(pings -4 3 203.0.113.130)" 0
expect_eq "IPv6 to the internet host while c1 reconnects" "$(pings -6 2 2001:db8:3::2)" 0
d2=$(dropped)
[ "$((d2 - d1))" -ge 5 ] || fail "the kill switch counted $((d2 - d1)) drops for 5 pings"
expect_eq "packets from c1's own IPv4 address at the internet host" "$(seen leak4)" 3
expect_eq "... and IPv6 address" "$(seen leak6)" 0
ok "nothing left c1 outside the tunnel while it reconnected ($((d2 - d1)) packets dropped)"
start_hub --nat
wait_connected c1 10.100.0.2 15
wait_until 5 "c1's full tunnel" client_is c1 full_tunnel true
expect_eq "pings through the tunnel after the hub's return" "$(pings -4 3 203.0.113.130)" 3
expect_eq "echo requests from the hub's address" "$(seen tunnel)" 6
ok "c1 came back through its kill switch"
expect_eq "pings to the hub's own address (outside the tunnel, not UDP to its port)" "$(pings -4 2 192.0.2.1)" 0
# A firewall's reload on c1 (nft flush ruleset) lifts the table too: the
# client notices and puts it back at once.
ks_restored_since() { [ "$(client_status c1 kill_switch.restored)" -gt "$1" ]; }
r0=$(client_status c1 kill_switch.restored)
ms=$(flush_back_ms c1 "inet slopnks_slopn0")
((ms < 150)) || fail "c1's kill switch back $ms ms after a flush ruleset, not within 150"
wait_until 5 "c1's kill switch put back after a flush" ks_restored_since "$r0"
expect_eq "c1's kill switch after the flush" "$(ks_table)" 1
expect_eq "IPv6 to the internet host after the flush" "$(pings -6 2 2001:db8:3::2)" 0
expect_eq "packets from c1's own IPv6 address at the internet host" "$(seen leak6)" 0
expect_eq "pings through the tunnel after the flush" "$(pings -4 3 203.0.113.130)" 3
"$SLOPNCTL" --socket "$TMP/c1.sock" status | grep -Eq '^kill: .*; found gone and put back 1 time$' ||
	fail "slopnctl status does not show the kill switch put back: $("$SLOPNCTL" --socket "$TMP/c1.sock" status)"
ok "nft flush ruleset: c1's kill switch back within $ms ms"
# Its table emptied (nft flush table: the table stays, its rules go) is
# as good as gone: put back too.
r0=$(client_status c1 kill_switch.restored)
nsx c1 nft flush table inet slopnks_slopn0
wait_until 5 "c1's kill switch put back after its table was emptied" ks_restored_since "$r0"
expect_eq "IPv6 to the internet host after the table was emptied" "$(pings -6 2 2001:db8:3::2)" 0
expect_eq "packets from c1's own IPv6 address at the internet host, after" "$(seen leak6)" 0
ok "nft flush table: c1's kill switch back at once"

# A crash leaves the table: nothing leaks until the next start.
kill9 c1
expect_eq "c1's kill switch after kill -9" "$(ks_table)" 1
expect_eq "IPv4 to the internet host after c1's crash" "$(pings -4 2 203.0.113.130)" 0
expect_eq "packets from c1's own IPv4 address at the internet host" "$(seen leak4)" 3
# The next run without --kill-switch removes it.
start_client c1 --full-tunnel
wait_connected c1 10.100.0.2
expect_eq "the crashed run's kill switch after a start without it" "$(ks_table)" 0
stop c1
# A clean stop leaves nothing of it.
start_client c1 --full-tunnel --kill-switch
wait_connected c1 10.100.0.2
expect_eq "c1's kill switch while it runs" "$(ks_table)" 1
stop c1
expect_eq "c1's nftables ruleset after a clean stop" "$(nsx c1 nft list ruleset | wc -c)" 0
ok "kill -9 keeps the kill switch, the next start removes it, a clean stop leaves nothing"

# A client that fails (here a refused token) leaves the table in, as a
# crash does: nothing out until the client runs again.
TOKEN=wrong start_client c1 --full-tunnel --kill-switch
wait "$(pid_of c1)"; rc=$?
expect_eq "exit status of c1 with a wrong token" "$rc" 3
expect_eq "c1's kill switch after the refusal" "$(ks_table)" 1
expect_eq "IPv4 to the internet host after c1's refusal" "$(pings -4 2 203.0.113.130)" 0
expect_eq "packets from c1's own IPv4 address at the internet host" "$(seen leak4)" 3
ok "a refused client leaves its kill switch in place"

# --allow-lan: networks still reached outside the tunnel, and only those.
# Beyond c1's own link they need routes of their own, longer than the full
# tunnel's (IPv6 beyond the machine's networks is unreachable, the tunnel
# carrying none): the IPv6 networks behind the hub get theirs, from here on.
ip -n "$RUN-c1" -6 route add 2001:db8:2::/64 via 2001:db8:1::1
ip -n "$RUN-c1" -6 route add 2001:db8:3::/64 via 2001:db8:1::1
start_client c1 --full-tunnel --kill-switch --allow-lan 192.0.2.0/24 --allow-lan 2001:db8:3::/64
wait_connected c1 10.100.0.2
expect_eq "pings to the hub's own address with --allow-lan 192.0.2.0/24" "$(pings -4 2 192.0.2.1)" 2
l6=$(seen leak6)
expect_eq "IPv6 pings to the internet host with --allow-lan 2001:db8:3::/64" "$(pings -6 2 2001:db8:3::2)" 2
expect_eq "IPv6 from c1's own address at the internet host" "$(seen leak6)" "$((l6 + 2))"
expect_eq "IPv6 pings to the router, not allowed" "$(pings -6 2 2001:db8:2::2)" 0
stop c1
ok "--allow-lan opens its networks and no others"

# --- From boot (slopnd-killswitch@.service): --kill-switch-only puts in
# the table of the client's settings and exits, before the client runs;
# the client's start takes it over, its clean stop removes it.
ks_dropped() { nsx c1 nft -j list counter inet slopnks_slopn0 dropped | jq '.nftables[] | select(.counter) | .counter.packets'; }
printf 'server = 192.0.2.1:4242\ntoken = s3cret\nfull_tunnel = yes\nkill_switch = yes\n' > "$TMP/c1-boot.conf"
boot_only() { nsx c1 timeout 10 "$SLOPND" client --config "$1" --state-dir "$TMP/c1-boot-state" --kill-switch-only; }
boot_only "$TMP/c1-boot.conf" > "$TMP/c1-boot-only.log" 2>&1; rc=$?
expect_eq "exit status of --kill-switch-only" "$rc" 0
expect_eq "c1's kill switch after --kill-switch-only" "$(ks_table)" 1
expect_eq "IPv4 to the internet host before the client runs" "$(pings -4 2 203.0.113.130)" 0
expect_eq "IPv6 to the internet host before the client runs" "$(pings -6 2 2001:db8:3::2)" 0
expect_eq "packets from c1's own addresses at the internet host" "$(seen leak4) $(seen leak6)" "3 2"
[ "$(ks_dropped)" -ge 4 ] || fail "the boot kill switch counted $(ks_dropped) drops for 4 pings"
start c1:boot client --config "$TMP/c1-boot.conf" --state-dir "$TMP/c1-boot-state"
wait_until 10 "c1 connected through the boot kill switch" client_connected c1:boot
expect_eq "kill switch in c1's status after the takeover (DNS closed: the hub is an address)" \
	"$(client_status c1:boot kill_switch.dns)" false
expect_eq "pings to the internet host through the tunnel" "$(pings -4 3 203.0.113.130)" 3
stop c1:boot
expect_eq "c1's kill switch after the client's clean stop" "$(ks_table)" 0
# What a client without --kill-switch finds of a boot table: it goes.
boot_only "$TMP/c1-boot.conf" > "$TMP/c1-boot-only.log" 2>&1 || fail "--kill-switch-only: $(cat "$TMP/c1-boot-only.log")"
start_client c1 --full-tunnel --state-dir "$TMP/c1-boot-state"
wait_until 10 "c1 connected" client_connected c1
expect_eq "the boot kill switch after a start without --kill-switch" "$(ks_table)" 0
stop c1
expect_eq "packets from c1's own addresses at the internet host" "$(seen leak4) $(seen leak6)" "3 2"
ok "--kill-switch-only: nothing out before the client runs; its start takes the table over"

# --- A hub by name: slopnd asks DNS itself, its sockets marked, and the
# kill switch lets those queries out and no other program's; a hub whose
# address changes (dynamic DNS) is followed. A DNS server at the internet
# host answers from a hosts file; its log tells who asked what.
printf '192.0.2.1 hub.slopn.test\n' > "$TMP/dns-hosts"
ip netns exec "$RUN-inet" dnsmasq --keep-in-foreground --no-resolv --no-hosts --user=root \
	--addn-hosts="$TMP/dns-hosts" --listen-address=203.0.113.130 --bind-interfaces --pid-file= \
	--local-ttl=0 --log-queries --log-facility="$TMP/dnsmasq.log" 2> "$TMP/dnsmasq.err" &
PIDS+=($!)
DNSMASQ=$!
dns_up() { nsx inet ss -Hlun 'sport = :53' | grep -q .; }
wait_until 5 "the DNS server at the internet host" dns_up
# asked NAME: queries for NAME from c1's own address (outside the tunnel).
asked() { grep -Ec "query\[[A-Z]+\] $1 from 192\.0\.2\.11\$" "$TMP/dnsmasq.log"; }
etc_netns c1
printf 'nameserver 203.0.113.130\noptions timeout:1 attempts:1\n' > "/etc/netns/$RUN-c1/resolv.conf"
printf '127.0.0.1 localhost\n' > "/etc/netns/$RUN-c1/hosts"
printf 'server = hub.slopn.test:4242\ntoken = s3cret\nfull_tunnel = yes\nkill_switch = yes\n' > "$TMP/c1.conf"
# Without a kill switch the name resolves from c1, so a query that does
# not arrive later was held back.
nsx c1 getent hosts hub.slopn.test > /dev/null || fail "hub.slopn.test does not resolve at c1"
[ "$(asked hub.slopn.test)" -ge 1 ] || fail "the DNS server logged no query from c1"
# From boot, by name: no DNS out (the client's own lookups will be), nothing else.
boot_only "$TMP/c1.conf" > "$TMP/c1-boot-only.log" 2>&1 || fail "--kill-switch-only: $(cat "$TMP/c1-boot-only.log")"
nsx c1 getent hosts other.slopn.test > /dev/null
expect_eq "queries for other.slopn.test at the DNS server through the boot kill switch" \
	"$(asked other.slopn.test)" 0
expect_eq "pings to the internet host through it" "$(pings -4 2 203.0.113.130)" 0
ok "the boot kill switch of a hub by name lets no program's DNS out"
# Counted before the start: the client may ask before a count after it.
q0=$(asked hub.slopn.test)
start c1:name client --config "$TMP/c1.conf" --state-dir "$TMP/c1-boot-state"
wait_until 15 "c1 connected by name" client_connected c1:name
[ "$(asked hub.slopn.test)" -gt "$q0" ] || fail "no query of c1's own for hub.slopn.test at the DNS server"
expect_eq "the kill switch of c1 by name: its own DNS out, the hub's address" \
	"$(client_status c1:name 'kill_switch | "\(.dns) \(.hubs)"')" 'true ["192.0.2.1:4242"]'
"$SLOPNCTL" --socket "$TMP/c1-name.sock" status |
	grep -Eq "^kill: +on, [0-9]+ packets dropped; lets out 192\.0\.2\.1:4242 and slopnd's DNS lookups of the hub's name\$" ||
	fail "slopnctl status does not show the kill switch: $("$SLOPNCTL" --socket "$TMP/c1-name.sock" status)"
ok "c1 looked the hub's name up through its kill switch ($(($(asked hub.slopn.test) - q0)) queries at the DNS server)"
# The hub moves to another address, and its name with it.
stop hub
wait_until 5 "c1 reconnecting" client_is c1:name full_tunnel false
ip -n "$RUN-hub" addr add 192.0.2.2/24 dev eth0
printf '192.0.2.2 hub.slopn.test\n' > "$TMP/dns-hosts"
kill -HUP "$DNSMASQ"
nsx c1 getent hosts other.slopn.test > /dev/null
start hub:moved server --listen 192.0.2.2:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock" --nat
wait_hub
wait_until 30 "c1 connected to the hub's new address" client_is c1:name hub_addr 192.0.2.2:4242
wait_until 5 "c1 connected" client_connected c1:name
expect_eq "the hub's address in c1's kill switch" "$(client_status c1:name kill_switch.hubs[])" 192.0.2.2:4242
# The table itself must be there (a count of 0 in no table proves nothing).
ks=$(nsx c1 nft list table inet slopnks_slopn0) || fail "c1's kill switch table is gone"
grep -q '192\.0\.2\.2 ' <<< "$ks" || fail "c1's kill switch has no rule for the hub's new address: $ks"
expect_eq "rules in c1's kill switch for the hub's old address" "$(grep -c '192\.0\.2\.1 ' <<< "$ks")" 0
wait_until 5 "c1's full tunnel" client_is c1:name full_tunnel true
t0=$(seen tunnel)
expect_eq "pings to the internet host through the tunnel at the hub's new address" "$(pings -4 3 203.0.113.130)" 3
expect_eq "echo requests from the hub's address" "$(seen tunnel)" "$((t0 + 3))"
expect_eq "queries for other.slopn.test at the DNS server (made while c1 reconnected)" \
	"$(asked other.slopn.test)" 0
q=$(grep -c 'from 192\.0\.2\.11$' "$TMP/dnsmasq.log")
expect_eq "packets from c1's own IPv4 address at the internet host (its $q DNS queries, 3 pings without a kill switch)" \
	"$(seen leak4)" "$((3 + q))"
ok "by name: c1 followed the hub to its new address; no DNS out but its own"
# The DNS server stops answering (its queries dropped), and resolv.conf
# sets no timeout: c-ares's own (5 s, 4 tries, each twice the last) would
# keep c1 looking for 75 s before it tries the address its last lookup
# found. It gives the lookup up after 10 s.
printf 'nameserver 203.0.113.130\n' > "/etc/netns/$RUN-c1/resolv.conf"
nsx inet nft -f - <<'NFT' || fail "nft refused the DNS drop"
table inet dnsdrop {
	chain in {
		type filter hook input priority 0;
		udp dport 53 drop
	}
}
NFT
ctl sessions kick "$(ctl --json sessions list | jq '.sessions[0].id')" > /dev/null
# (after its wait: a kick waits the backoff, 1 s after a connection that
# lasted 5 s, more after shorter ones)
wait_until 20 "c1 looking the hub's name up again" client_is c1:name state resolving
t0=$(now_ms)
wait_until 20 "c1 back at the address its last lookup found" client_connected c1:name
ms=$(($(now_ms) - t0))
# (seen resolving up to a poll late: 7 s of the 10 s at least)
[ "$ms" -ge 7000 ] || fail "c1 connected $ms ms into a lookup the DNS server does not answer"
expect_eq "c1's hub address" "$(client_status c1:name hub_addr)" 192.0.2.2:4242
ok "DNS silent: c1 gave its lookup up and connected at the address it had, in $ms ms"
nsx inet nft delete table inet dnsdrop

# systemd-resolved: resolv.conf names only its stub (127.0.0.53), whose
# queries upstream are resolved's, not slopnd's: slopnd asks the upstream
# servers resolved lists. Nothing answers at 127.0.0.53 here; resolved's
# list is put in place for slopnd alone (a mount namespace of its own).
stop c1:name
printf 'nameserver 127.0.0.53\noptions edns0 trust-ad\n' > "/etc/netns/$RUN-c1/resolv.conf"
cat > "$TMP/resolved.sh" <<-EOF2
	#!/bin/bash
	mount -t tmpfs slopn-test /run && mkdir -p /run/systemd/resolve &&
		printf 'nameserver 203.0.113.130\noptions timeout:1 attempts:1\n' > /run/systemd/resolve/resolv.conf &&
		exec "$SLOPND" "\$@"
EOF2
chmod +x "$TMP/resolved.sh"
q0=$(asked hub.slopn.test)
SLOPND="$TMP/resolved.sh" start c1:resolved client --config "$TMP/c1.conf" --state-dir "$TMP/c1-resolved-state"
wait_until 15 "c1 connected by name behind systemd-resolved's stub" client_connected c1:resolved
[ "$(asked hub.slopn.test)" -gt "$q0" ] || fail "no query of c1's for hub.slopn.test at resolved's upstream server"
expect_eq "c1's hub address" "$(client_status c1:resolved hub_addr)" 192.0.2.2:4242
ok "behind systemd-resolved's stub: the name asked of its upstream server, through the kill switch"

# An IPv4 address written as IPv6 (::ffff:192.0.2.2), in a DNS answer or
# an invite, is reached over IPv4: the kill switch lets the hub through
# over IPv4 (made for IPv6, it held the client's own packets back).
stop c1:resolved
printf '::ffff:192.0.2.2 hub.slopn.test\n' > "$TMP/dns-hosts"
kill -HUP "$DNSMASQ"
printf 'nameserver 203.0.113.130\noptions timeout:1 attempts:1\n' > "/etc/netns/$RUN-c1/resolv.conf"
expect_eq "what c1 finds for hub.slopn.test" "$(nsx c1 getent ahosts hub.slopn.test | awk '$2 == "DGRAM" {print $1}')" \
	"::ffff:192.0.2.2"
start c1:mapped client --config "$TMP/c1.conf" --state-dir "$TMP/c1-mapped-state"
wait_until 15 "c1 connected to a hub named by an IPv4 address written as IPv6" client_connected c1:mapped
expect_eq "the hub's address in c1's kill switch (by name)" "$(client_status c1:mapped kill_switch.hubs[])" \
	192.0.2.2:4242
stop c1:mapped
start c1:invite client --invite 'slopn://s3cret@[::ffff:192.0.2.2]:4242' --full-tunnel --kill-switch \
	--state-dir "$TMP/c1-invite-state"
wait_until 15 "c1 connected by an invite with an IPv4 address written as IPv6" client_connected c1:invite
expect_eq "the hub's address in c1's kill switch (invite)" "$(client_status c1:invite kill_switch.hubs[])" \
	192.0.2.2:4242
wait_until 5 "c1's full tunnel" client_is c1:invite full_tunnel true
expect_eq "pings to the internet host through the tunnel (hub by its mapped address)" \
	"$(pings -4 2 203.0.113.130)" 2
stop c1:invite
ok "a hub at ::ffff:192.0.2.2, by name and by invite: reached over IPv4 through the kill switch"

# --- The hub over IPv6: its address and port let through, the rest of
# IPv6 outside the tunnel still not.
stop hub:moved
start hub:six server --listen "[2001:db8:1::1]:4242" --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock" --nat
wait_hub
start c1:six client --server "[2001:db8:1::1]:4242" --token s3cret --full-tunnel --kill-switch
wait_until 10 "c1 connected over IPv6" client_connected c1:six
expect_eq "c1's hub address" "$(client_status c1:six hub_addr)" "[2001:db8:1::1]:4242"
expect_eq "pings to the internet host through the tunnel (hub over IPv6)" "$(pings -4 3 203.0.113.130)" 3
l6=$(seen leak6)
expect_eq "IPv6 pings to the internet host outside the tunnel" "$(pings -6 2 2001:db8:3::2)" 0
expect_eq "IPv6 from c1's own address at the internet host" "$(seen leak6)" "$l6"
ok "a hub over IPv6: through the kill switch, nothing else of IPv6 out"

# --- What c1 routes for others (a container, a VM behind a NAT of c1's
# own) leaves the same ways as c1's own traffic: through the tunnel, to an
# --allow-lan network, or nowhere.
#
#   guest 198.51.100.2 2001:db8:5::2 -- c1 198.51.100.1 2001:db8:5::1 (masquerading)
stop c1:six
stop hub:six
ns_create guest
ns_ipv6 guest
veth c1 gw 198.51.100.1/24 2001:db8:5::1/64 guest eth0 198.51.100.2/24 2001:db8:5::2/64
ip -n "$RUN-guest" route add default via 198.51.100.1
ip -n "$RUN-guest" -6 route add default via 2001:db8:5::1
nsx c1 sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
nsx c1 nft -f - <<-EOF2
table inet guestnat {
	chain post {
		type nat hook postrouting priority srcnat;
		ip saddr 198.51.100.0/24 masquerade
		ip6 saddr 2001:db8:5::/64 masquerade
	}
}
EOF2
gpings() { nsx guest ping "$1" -c "$2" -i 0.2 -W 1 "$3" 2>/dev/null | grep -c 'bytes from'; }
# Without a client the guest's traffic leaves as c1's own: the leak this
# network counts.
l4=$(seen leak4)
expect_eq "the guest's pings to the internet host, no client on c1" "$(gpings -4 2 203.0.113.130)" 2
expect_eq "packets from c1's own IPv4 address at the internet host" "$(seen leak4)" "$((l4 + 2))"
start_hub --nat
start_client c1 --full-tunnel --kill-switch --allow-lan 2001:db8:3::/64
wait_connected c1 10.100.0.2
wait_until 5 "c1's full tunnel" client_is c1 full_tunnel true
l4=$(seen leak4) l6=$(seen leak6) t0=$(seen tunnel) d0=$(dropped)
expect_eq "the guest's pings to the internet host through c1's tunnel" "$(gpings -4 3 203.0.113.130)" 3
expect_eq "echo requests from the hub's address" "$(seen tunnel)" "$((t0 + 3))"
expect_eq "the guest's IPv6 pings to the internet host, in --allow-lan" "$(gpings -6 2 2001:db8:3::2)" 2
expect_eq "IPv6 from c1's own address at the internet host" "$(seen leak6)" "$((l6 + 2))"
expect_eq "the guest's IPv6 pings to the router, not in --allow-lan" "$(gpings -6 2 2001:db8:2::2)" 0
stop hub
wait_until 5 "c1 reconnecting" client_is c1 full_tunnel false
expect_eq "the guest's pings to the internet host while c1 reconnects" "$(gpings -4 3 203.0.113.130)" 0
expect_eq "packets from c1's own IPv4 address at the internet host" "$(seen leak4)" "$l4"
d1=$(dropped)
[ "$((d1 - d0))" -ge 5 ] || fail "the kill switch counted $((d1 - d0)) drops for 5 forwarded pings"
stop c1
ok "what c1 forwards: through the tunnel or to --allow-lan, nothing else out ($((d1 - d0)) packets dropped)"
