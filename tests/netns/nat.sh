#!/bin/bash
# The hub as the clients' way out (--nat), full-tunnel routing and
# --accept-dns on the client (also when another program rewrites
# resolv.conf meanwhile), and that both put everything back.
#
# The network: nat_topo.sh; the iptables form: nat_ipt.sh.
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || skip "needs nft (nftables)"
command -v iperf3 >/dev/null || skip "needs iperf3"
command -v jq >/dev/null || skip "needs jq"

. "$(dirname "$0")/nat_topo.sh"

printf 'nameserver 192.0.2.53\nsearch example.test\n' > "$TMP/resolv.conf"
RESOLV0=$(cat "$TMP/resolv.conf")
ROUTES0=$(routing)
CLIENT=(--full-tunnel --accept-dns --resolv-conf "$TMP/resolv.conf" --state-dir "$TMP/c1-state")
BACKUP=$TMP/c1-state/resolv-slopn0.orig

# --- Without --nat: the tunnel works, nothing reaches the internet host.
start_hub
cmp_state "without --nat the hub's ruleset is untouched" "$RULES0" "$(nsx hub nft list ruleset)"
start_client c1 "${CLIENT[@]}"
wait_connected c1 10.100.0.2
wait_until 5 "c1's full-tunnel routes" client_is c1 full_tunnel true
nsx c1 ip route | grep -q '^0.0.0.0/1 dev slopn0 proto 83' || fail "no 0.0.0.0/1 route via the TUN"
nsx c1 ip route | grep -q '^128.0.0.0/1 dev slopn0 proto 83' || fail "no 128.0.0.0/1 route via the TUN"
nsx c1 ip route | grep -q '^192.0.2.1 dev eth0 proto 83' || fail "no on-link host route to the hub"
nsx c1 ip route | grep -q '^default via 192.0.2.1 dev eth0' || fail "the default route is gone"
ok "full tunnel: two /1 routes, the hub kept on eth0, the default route in place"
wait_ping c1 10.100.0.1 5
grep -q "offers no DNS server" "$TMP/c1.log" || fail "c1 did not say the hub pushes no DNS"
cmp_state "no DNS pushed: resolv.conf unchanged" "$RESOLV0" "$(cat "$TMP/resolv.conf")"
nsx c1 ping -c 2 -i 0.2 -W 1 203.0.113.130 >/dev/null && fail "internet host reached without --nat"
expect_eq "without --nat: packets from VPN addresses at the internet host" "$(seen inet 1)" 0
expect_eq "without --nat: packets from the hub's address" "$(seen inet 2)" 0
stop c1
cmp_state "routes and rules after the client stops" "$ROUTES0" "$(routing)"
stop hub

# --- With --nat (egress from the default route) and a pushed DNS server.
start_hub --nat --dns 10.100.0.1
wait_until 5 "the hub masquerading out of wan with nftables" hub_nat_is "nftables out of wan, 0 allowed, 1 installs"
expect_eq "ip_forward, accept_redirects while the hub runs" "$(fwd_state)" "1 0"
start_client c1 "${CLIENT[@]}"
wait_connected c1 10.100.0.2
wait_until 5 "the hub's DNS server on c1" client_is c1 dns true
grep -qx "nameserver 10.100.0.1" "$TMP/resolv.conf" || fail "resolv.conf does not name the hub's DNS"
ok "--accept-dns wrote the hub's server"
# A DHCP client on a new network rewrites resolv.conf, in place and then by
# a rename: the hub's server is back in it each time, and the newest
# content is what the stop puts back.
printf 'nameserver 198.51.100.53\n' > "$TMP/resolv.conf"
wait_until 5 "the hub's server back after an in-place rewrite" grep -qx "nameserver 10.100.0.1" "$TMP/resolv.conf"
expect_eq "the original to put back, after an in-place rewrite" "$(cat "$BACKUP")" "nameserver 198.51.100.53"
printf 'nameserver 198.51.100.54\nsearch roamed.test\n' > "$TMP/resolv.new"
mv "$TMP/resolv.new" "$TMP/resolv.conf"
wait_until 5 "the hub's server back after a rename" grep -qx "nameserver 10.100.0.1" "$TMP/resolv.conf"
expect_eq "the times c1 put the hub's server back" "$(client_status c1 dns_restored)" 2
RESOLV_DHCP=$(printf 'nameserver 198.51.100.54\nsearch roamed.test')
cmp_state "the original to put back, after a rename" "$RESOLV_DHCP" "$(cat "$BACKUP")"
expect_eq "nameservers while connected, after both" "$(grep -c ^nameserver "$TMP/resolv.conf")" 1
ok "--accept-dns: resolv.conf rewritten by another program points to the hub again"
ROUTES_UP=$(routing)
wait_ping c1 203.0.113.130 5
nsx c1 ping -c 5 -i 0.2 -W 1 203.0.113.130 >/dev/null || fail "c1 cannot ping the internet host"
ok "c1 reaches the internet host through the hub"
expect_eq "the internet host saw no VPN address" "$(seen inet 1)" 0
[ "$(seen inet 2)" -ge 5 ] || fail "the internet host saw $(seen inet 2) pings from the hub's address, not >= 5"
ok "the internet host saw the hub's address as the source ($(seen inet 2) echo requests)"
iperf_tcp "through NAT to the internet host" c1 inet 203.0.113.130 1
# What conntrack finds invalid it does not masquerade: 10 TCP segments
# with SYN, FIN and RST at once are dropped at the hub, not sent out with
# c1's VIP as their source.
invalid_tcp_from c1
nap 0.5
expect_eq "invalid TCP segments from c1 at the internet host with its VIP" "$(seen inet 1)" 0
# A download through NAT across a crash of the hub: started again with
# --nat, the hub replaces the crashed run's table in one transaction, and
# the connection goes on. (Removed first, the crashed run's table left
# connection tracking a moment without a ruleset that uses it: about half
# such downloads stalled for good.) Three times: 40 MB read at 8 MB/s,
# the crash 2 s in, the start a second after it.
cat > "$TMP/slow.py" <<'PY'
import socket, sys, time
if sys.argv[1] == "serve":
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("203.0.113.130", 8001))
    l.listen()
    print("listening", flush=True)
    while True:
        c, _ = l.accept()
        try:
            c.sendall(b"x" * 40000000)
        except OSError:
            pass
        c.close()
# Read at 8 MB/s: the sender's window stays full, as a download's to a
# slower reader.
s = socket.create_connection(("203.0.113.130", 8001), timeout=8)
n, t0 = 0, time.time()
try:
    while d := s.recv(65536):
        n += len(d)
        ahead = n / 8e6 - (time.time() - t0)
        if ahead > 0:
            time.sleep(ahead)
except OSError as e:
    print(n, e)
    sys.exit(0)
print(n)
PY
nsx inet python3 "$TMP/slow.py" serve > "$TMP/slow-serve.out" &
PIDS+=($!)
wait_until 5 "the internet host's slow server" grep -q listening "$TMP/slow-serve.out"
for i in 1 2 3; do
	nsx c1 python3 "$TMP/slow.py" get > "$TMP/slow-$i.out" &
	got=$!
	nap 2
	kill9 hub
	mv "$TMP/hub.log" "$TMP/hub-crash$i.log"
	nap 1 # a service manager's RestartSec
	start_hub --nat --dns 10.100.0.1
	wait "$got"
	expect_eq "bytes of a download across crash $i of the hub" "$(cat "$TMP/slow-$i.out")" 40000000
	wait_until 10 "c1 back after crash $i" client_connected c1
done
ok "three downloads through NAT, each across a crash and a start of the hub, all whole"
nsx c1 ping -c 2 -i 0.2 -W 1 198.51.100.2 >/dev/null && fail "c1 reached the hub's LAN host without --allow-lan"
expect_eq "the LAN host saw nothing from the VPN" "$(seen lanhost 1)" 0
# A cloud's instance metadata (169.254.169.254, with the machine's
# credentials; here at the internet host) is reached through the hub's
# default route, on no network of its own: closed to clients all the same.
ip -n "$RUN-inet" addr add 169.254.169.254/32 dev eth0
ip -n "$RUN-rtr" route add 169.254.169.254/32 via 203.0.113.130
nsx hub ping -c 1 -W 1 169.254.169.254 > /dev/null || fail "the hub does not reach 169.254.169.254"
md0=$(seen inet 2)
nsx c1 ping -c 2 -i 0.2 -W 1 169.254.169.254 >/dev/null && fail "c1 reached the instance metadata address"
expect_eq "echo requests from the hub's address at the metadata host" "$(seen inet 2)" "$md0"
ok "169.254.169.254 is closed to clients"
# The hub's own addresses on its networks (its LAN's, its way out's) are
# closed as those networks are: a service the hub keeps for its LAN is
# not for clients. Its VIP is theirs.
no_replies c1 \
	198.51.100.1 "c1 reached the hub's LAN address" \
	203.0.113.1 "c1 reached the hub's address on wan"
expect_eq "a UDP service of the hub's at its VIP" "$(udp_answered 10.100.0.1 5300)" 1
expect_eq "... at its LAN address" "$(udp_answered 198.51.100.1 5300)" 0
expect_eq "... at its LAN address, port 53 (not the --dns server)" "$(udp_answered 198.51.100.1 53)" 0
ok "the hub's own addresses on its networks are closed to clients, its VIP open"
# Nor are clients open to the hub's way out: with the VPN's subnet routed
# to the hub (by rtr), the internet host gets nothing through to c1's VIP;
# only answers to what clients opened come back in.
ip -n "$RUN-rtr" route add 10.100.0.0/24 via 203.0.113.1
nsx inet ping -c 2 -i 0.2 -W 1 10.100.0.2 >/dev/null && fail "the internet host reached c1's VIP through the hub"
ip -n "$RUN-rtr" route del 10.100.0.0/24 via 203.0.113.1
ok "c1's VIP is closed to the hub's way out"

# The hub gains a network on its way out while it runs (a second address
# on wan, rtr at .10): closed to clients at once, not at the next reload
# (before, the masquerading took them there). Then its default route moves
# to a second link to rtr (wan2): the masquerading follows it, and back.
nsx c1 ping -c 1 -W 1 203.0.113.2 >/dev/null && fail "c1 reached rtr on the hub's own network"
ip -n "$RUN-hub" addr add 203.0.113.9/30 dev wan
ip -n "$RUN-rtr" addr add 203.0.113.10/30 dev eth0
wait_until 5 "the NAT rules renewed for the hub's new network" hub_nat_is "nftables out of wan, 0 allowed, 2 installs"
nsx c1 ping -c 2 -i 0.2 -W 1 203.0.113.10 >/dev/null && fail "c1 reached a network the hub gained while running"
ok "a network the hub gains on its way out while running is closed to clients"
veth hub wan2 203.0.113.5/30 rtr eth2 203.0.113.6/30
wait_until 5 "the NAT rules renewed for wan2's network" hub_nat_is "nftables out of wan, 0 allowed, 3 installs"
ip -n "$RUN-hub" route replace default via 203.0.113.6
wait_until 5 "the hub masquerading out of wan2" hub_nat_is "nftables out of wan2, 0 allowed, 4 installs"
nsx c1 ping -c 3 -i 0.2 -W 1 203.0.113.130 >/dev/null || fail "c1 cannot reach the internet host out of wan2"
expect_eq "the internet host saw no VPN address" "$(seen inet 1)" 0
ip -n "$RUN-hub" route replace default via 203.0.113.2
wait_until 5 "the hub masquerading out of wan again" hub_nat_is "nftables out of wan, 0 allowed, 5 installs"
wait_ping c1 203.0.113.130 5
ok "the masquerading follows the hub's default route from wan to wan2 and back"

# Private address space is closed whatever the way to it: a private
# network behind rtr (10.200.0.0/16, at the internet host), reached by the
# hub's default route alone, as a network behind a home router or a VPC's
# other subnets are.
ip -n "$RUN-inet" addr add 10.200.0.1/32 dev eth0
ip -n "$RUN-rtr" route add 10.200.0.0/16 via 203.0.113.130
nsx hub ping -c 1 -W 1 10.200.0.1 >/dev/null || fail "the hub does not reach 10.200.0.1"
inet0=$(seen inet 2)
nsx c1 ping -c 2 -i 0.2 -W 1 10.200.0.1 >/dev/null && fail "c1 reached a private network through the hub's default route"
expect_eq "echo requests from the hub's address at the internet host (10.200.0.1, by the default route)" \
	"$(seen inet 2)" "$inet0"
ok "a private network reached by the hub's default route is closed to clients"
# Networks the hub reaches without an address on them, added while it runs:
# a LAN on wan by an on-link route (as a cloud's /32 beside its subnet) at
# rtr's 203.0.113.66, and the private network by a route of its own.
# Closed to clients; a public network behind rtr by a route of its own (the
# internet host's) stays open.
ip -n "$RUN-rtr" addr add 203.0.113.66/27 dev eth0
ip -n "$RUN-hub" route add 203.0.113.64/27 dev wan
ip -n "$RUN-hub" route add 10.200.0.0/16 via 203.0.113.2
ip -n "$RUN-hub" route add 203.0.113.128/25 via 203.0.113.2
closes() { nsx hub nft list table inet slopn_slopn0 | grep -q "$1"; }
wait_until 5 "the rules renewed for the on-link route" closes 203.0.113.64/27
closes 10.0.0.0/8 || fail "10.0.0.0/8 is not in the rules"
nsx hub ping -c 1 -W 1 203.0.113.66 >/dev/null || fail "the hub does not reach 203.0.113.66"
nsx hub ping -c 1 -W 1 10.200.0.1 >/dev/null || fail "the hub does not reach 10.200.0.1"
inet0=$(seen inet 2)
no_replies c1 \
	203.0.113.66 "c1 reached a LAN the hub has an on-link route to" \
	10.200.0.1 "c1 reached a private network behind the hub's router"
expect_eq "echo requests from the hub's address at the internet host (10.200.0.1)" "$(seen inet 2)" "$inet0"
nsx c1 ping -c 2 -i 0.2 -W 1 203.0.113.130 >/dev/null || fail "c1 lost the internet host behind its own route"
ok "an on-link network and a private one behind a router are closed to clients, a public route is not"

# A firewall's reload (nft flush ruleset) lifts every table, the hub's too:
# it notices and puts its rules back at once (meanwhile the far ends of
# clients' connections meet the hub's own stack, which resets them). The
# flush command and the looks take some 40 ms of the bound.
r0=$(restored)
ms=$(flush_back_ms hub "inet slopn_slopn0")
((ms < 150)) || fail "the hub's table back $ms ms after a flush ruleset, not within 150"
wait_until 5 "the rules put back after a flush" restored_since "$r0"
nsx hub nft list tables | grep -q "inet slopn_slopn0" || fail "no table inet slopn_slopn0 after the flush"
wait_ping c1 203.0.113.130 5
expect_eq "after the flush: the internet host saw no VPN address" "$(seen inet 1)" 0
no_replies c1 \
	198.51.100.2 "c1 reached the LAN host after a flush" \
	10.200.0.1 "c1 reached the private network after a flush"
expect_eq "the LAN host saw nothing from the VPN" "$(seen lanhost 1)" 0
ctl status | grep -Eq '^nat: +out of wan \(nftables\); rules found gone and put back 1 time$' ||
	fail "slopnctl status does not show the rules put back: $(ctl status | grep nat)"
ok "nft flush ruleset: the hub's rules back within $ms ms, NAT and isolation as before"
# A flush inside the hub's table (the table stays, its rules go): seen as
# well, and put back.
rules_now() { nsx hub nft -j list table inet slopn_slopn0 | jq '[.nftables[] | select(has("rule"))] | length'; }
n0=$(rules_now)
[ "$n0" -gt 0 ] || fail "no rules in the hub's table: $n0"
r0=$(restored)
nsx hub nft flush table inet slopn_slopn0
wait_until 5 "the rules put back after a flush of the table" restored_since "$r0"
expect_eq "rules in the hub's table after it put them back" "$(rules_now)" "$n0"
nsx c1 ping -c 2 -i 0.2 -W 1 198.51.100.2 >/dev/null && fail "c1 reached the LAN host after a flush of the table"
wait_ping c1 203.0.113.130 5
ok "nft flush table: the hub's $n0 rules back"

# A kick: the routes go with the connection and come back with the next.
ctl sessions kick 10.100.0.2 --reason "routes test" > /dev/null || fail "kick failed"
wait_until 5 "c1's routes removed" client_is c1 full_tunnel false
wait_until 10 "c1 back after the kick" hub_session 10.100.0.2
wait_until 5 "c1's routes back after the kick" client_is c1 full_tunnel true
cmp_state "routes after kick and reconnect are those of the first connect" "$ROUTES_UP" "$(routing)"
wait_ping c1 203.0.113.130 5
stop c1
cmp_state "routes and rules after stop (after a kick)" "$ROUTES0" "$(routing)"
cmp_state "resolv.conf after stop: the newest content" "$RESOLV_DHCP" "$(cat "$TMP/resolv.conf")"
printf '%s\n' "$RESOLV0" > "$TMP/resolv.conf"

# kill -9: the host route and resolv.conf are left behind; the next start
# clears them and its stop leaves nothing.
start c1:crash client --server 192.0.2.1:4242 --token s3cret "${CLIENT[@]}"
wait_until 10 "the hub's DNS server on c1" client_is c1:crash dns true
kill9 c1:crash
nsx c1 ip route | grep -q 'proto 83' || fail "expected a stale host route after kill -9"
# One more, as if the hub's name had pointed elsewhere at an earlier crash:
# the next start removes that too (its metric is c1's).
metric=$(nsx c1 ip route show 192.0.2.1 proto 83 | awk '{for (i = 1; i < NF; i++) if ($i == "metric") print $(i + 1)}')
[ -n "$metric" ] || fail "the host route to the hub has no metric: $(nsx c1 ip route show 192.0.2.1)"
nsx c1 ip route add 192.0.2.77/32 dev eth0 proto 83 metric "$metric"
[ -f "$BACKUP" ] || fail "expected the resolv.conf backup after kill -9"
start c1:again client --server 192.0.2.1:4242 --token s3cret "${CLIENT[@]}"
wait_until 10 "the hub's DNS server on c1" client_is c1:again dns true
cmp_state "routes after a restart over a crash" "$ROUTES_UP" "$(routing)"
stop c1:again
cmp_state "routes and rules after kill -9, start, stop" "$ROUTES0" "$(routing)"
cmp_state "resolv.conf after kill -9, start, stop" "$RESOLV0" "$(cat "$TMP/resolv.conf")"
[ -e "$BACKUP" ] && fail "the resolv.conf backup is still there"

# The same after a restart without --full-tunnel and without --accept-dns:
# the crashed run's copy of resolv.conf goes back all the same.
start c1:crash2 client --server 192.0.2.1:4242 --token s3cret "${CLIENT[@]}"
wait_until 10 "the hub's DNS server on c1" client_is c1:crash2 dns true
kill9 c1:crash2
start c1:plain client --server 192.0.2.1:4242 --token s3cret \
	--resolv-conf "$TMP/resolv.conf" --state-dir "$TMP/c1-state"
# The file first, then its copy removed: both, while c1 runs.
resolv_back() { [ "$(cat "$TMP/resolv.conf")" = "$RESOLV0" ] && [ ! -e "$BACKUP" ]; }
wait_until 10 "resolv.conf back from the crashed run's copy, and the copy gone" resolv_back
wait_log c1:plain "removed a host route to the hub left by a run" 10
expect_eq "a host route to the hub after the start without --full-tunnel" "$(nsx c1 ip route show 192.0.2.1)" ""
stop c1:plain
cmp_state "routes after kill -9 and a start and stop without --full-tunnel" "$ROUTES0" "$(routing)"
cmp_state "resolv.conf after kill -9 and a start and stop without --full-tunnel or --accept-dns" \
	"$RESOLV0" "$(cat "$TMP/resolv.conf")"
[ -e "$BACKUP" ] && fail "the resolv.conf backup is still there"

# kill -9, then the network's DHCP client writes resolv.conf anew (the
# machine moved, or rebooted, while slopnd was down): the next start puts
# nothing over it and drops the stale backup (before, it put the old
# network's server back, and so did its stop).
DNS=(--server 192.0.2.1:4242 --token s3cret --accept-dns --resolv-conf "$TMP/resolv.conf")
start c1:crash3 client "${DNS[@]}" --state-dir "$TMP/c1-state"
wait_until 10 "the hub's DNS server on c1" client_is c1:crash3 dns true
kill9 c1:crash3
[ -f "$BACKUP" ] || fail "expected the resolv.conf backup after kill -9"
printf 'nameserver 198.51.100.53\n' > "$TMP/resolv.conf"
start c1:moved client "${DNS[@]}" --state-dir "$TMP/c1-state"
wait_until 10 "the hub's DNS server on c1" client_is c1:moved dns true
expect_eq "the original to put back, after kill -9 and a DHCP client's rewrite" "$(cat "$BACKUP")" \
	"nameserver 198.51.100.53"
stop c1:moved
expect_eq "resolv.conf after kill -9, a DHCP client's rewrite, start and stop" \
	"$(cat "$TMP/resolv.conf")" "nameserver 198.51.100.53"
grep -q "dns: .* was rewritten after a run that did not stop cleanly .*: left as it is" "$TMP/c1-moved.log" ||
	fail "c1 did not say it dropped the stale backup"
printf '%s\n' "$RESOLV0" > "$TMP/resolv.conf"

# kill -9, then a start that fails at its TUN (the name taken meanwhile by
# an interface of another kind): the crashed run's resolv.conf goes back
# all the same, before the TUN is opened.
start c1:crash4 client "${DNS[@]}" --state-dir "$TMP/c1-state"
wait_until 10 "the hub's DNS server on c1" client_is c1:crash4 dns true
# A second start on the running client's TUN fails (busy) and leaves that
# client's resolv.conf alone: it is no crashed run's.
held=$(cat "$TMP/resolv.conf")
timeout 20 ip netns exec "$RUN-c1" "$SLOPND" client "${DNS[@]}" --state-dir "$TMP/c1-state" > "$TMP/tun-busy.txt" 2>&1
expect_eq "exit status of a second start on a running client's TUN" "$?" 1
cmp_state "resolv.conf after a second start on the running client's TUN" "$held" "$(cat "$TMP/resolv.conf")"
kill9 c1:crash4
[ -f "$BACKUP" ] || fail "expected the resolv.conf backup after kill -9"
# (kill9 waited for the killed run's TUN to go: a veth of its name before
# that is refused, and the start below would get a TUN and run.)
ip -n "$RUN-c1" link add slopn0 type veth peer name slopn0p || fail "cannot add a veth named slopn0"
timeout 20 ip netns exec "$RUN-c1" "$SLOPND" client "${DNS[@]}" --state-dir "$TMP/c1-state" > "$TMP/tun-taken.txt" 2>&1
expect_eq "exit status of a start whose TUN name is a veth's" "$?" 1
grep -q "an interface of another kind, or a TUN device made with other flags, is named slopn0: choose another with --tun" "$TMP/tun-taken.txt" ||
	fail "no reason given: $(cat "$TMP/tun-taken.txt")"
cmp_state "resolv.conf after kill -9 and a start that failed at its TUN" "$RESOLV0" "$(cat "$TMP/resolv.conf")"
[ -e "$BACKUP" ] && fail "the resolv.conf backup is still there"
ip -n "$RUN-c1" link del slopn0

# Two clients with --accept-dns on one resolv.conf (each with its own
# backup): the second leaves the file to the first, with a warning, and
# neither rewrites it again; whichever stops first, the original is back
# at the end. Before, they rewrote it against each other, each taking the
# other's text for the original, and the last stop left slopnd's text.
rewrites() { # NAME...: the times they put the hub's server back in resolv.conf
	local n=0 c
	for c in "$@"; do n=$((n + $(client_status "$c" dns_restored))); done
	echo "$n"
}
two_dns() { # FIRST-TO-STOP SECOND-TO-STOP
	start c1:dns client "${DNS[@]}" --state-dir "$TMP/c1-state"
	wait_until 10 "the hub's DNS server on c1" client_is c1:dns dns true
	start c2:dns client "${DNS[@]}" --state-dir "$TMP/c2-state"
	wait_until 10 "c2 connected" client_connected c2:dns
	sleep 2
	expect_eq "rewrites of resolv.conf by two clients in 2 s" "$(rewrites c1:dns c2:dns)" 0
	grep -q "^# is in $TMP/c1-state/resolv-slopn0.orig " "$TMP/resolv.conf" ||
		fail "resolv.conf is not c1's: $(cat "$TMP/resolv.conf")"
	expect_eq "c2's dns beside c1's" "$(client_status c2:dns dns)" false
	stop "$1"
	stop "$2"
	cmp_state "resolv.conf after two clients stop, $1 first" "$RESOLV0" "$(cat "$TMP/resolv.conf")"
	[ -e "$BACKUP" ] || [ -e "$TMP/c2-state/resolv-slopn0.orig" ] && fail "a resolv.conf backup is left"
	grep -q "warning: dns: $TMP/resolv.conf holds what another slopnd with --accept-dns wrote" \
		"$TMP/c2-dns.log" || fail "c2 did not warn of c1's resolv.conf"
}
two_dns c1:dns c2:dns
two_dns c2:dns c1:dns
ok "two clients with --accept-dns on one resolv.conf: the first keeps it, the original back at the end"

# Another program that puts its own file back whenever slopnd writes
# (here a loop): after a few rewrites c1 leaves the file to it, with a
# warning, and keeps no backup to put over it.
start c1:dns client "${DNS[@]}" --state-dir "$TMP/c1-state"
wait_until 10 "the hub's DNS server on c1" client_is c1:dns dns true
while :; do
	grep -q '^nameserver 10.100.0.1$' "$TMP/resolv.conf" && printf 'nameserver 198.51.100.77\n' > "$TMP/resolv.conf"
	sleep 0.05
done &
enforcer=$!
PIDS+=("$enforcer")
wait_until 10 "c1 leaving resolv.conf to the other program" client_is c1:dns dns false
sleep 1
# Five undone within 30 s: it put the servers back after the first
# four, not after the fifth.
n=$(rewrites c1:dns)
[ "$n" = 4 ] || fail "c1 rewrote resolv.conf $n times against the other program, not 4"
kill "$enforcer"
wait "$enforcer" 2>/dev/null
expect_eq "resolv.conf left to the other program" "$(cat "$TMP/resolv.conf")" "nameserver 198.51.100.77"
stop c1:dns
expect_eq "resolv.conf after c1 stops" "$(cat "$TMP/resolv.conf")" "nameserver 198.51.100.77"
[ -e "$BACKUP" ] && fail "the resolv.conf backup is still there"
grep -q "warning: dns: another program undid the hub's servers in $TMP/resolv.conf 5 times" \
	"$TMP/c1-dns.log" || fail "c1 did not warn of the other program"
ok "a program that enforces its resolv.conf: left to it after $n rewrites"
printf '%s\n' "$RESOLV0" > "$TMP/resolv.conf"

# As under slopnd-client@.service (ProtectSystem=strict): the directory
# read-only, resolv.conf alone writable (a bind mount of the file). A
# DHCP client's rename puts a new file there, read-only for the client:
# it says so and what to do, its status says no DNS, and its stop leaves
# the network's file.
mkdir "$TMP/etc"
printf '%s\n' "$RESOLV0" > "$TMP/etc/resolv.conf"
START_WITH=(unshare -m --propagation private sh -c 'mount --bind "$0" "$0" &&
	mount -o remount,bind,ro "$0" && mount --bind "$0/resolv.conf" "$0/resolv.conf" &&
	mount -o remount,bind,rw "$0/resolv.conf" && exec "$@"'
	"$TMP/etc")
start c1:ro client "${DNS[@]:0:5}" --resolv-conf "$TMP/etc/resolv.conf"
START_WITH=()
wait_until 10 "the hub's DNS server on c1 in the sandbox" client_is c1:ro dns true
grep -qx "nameserver 10.100.0.1" "$TMP/etc/resolv.conf" || fail "the sandboxed c1 did not write resolv.conf"
printf 'nameserver 198.51.100.56\n' > "$TMP/etc/resolv.new"
mv "$TMP/etc/resolv.new" "$TMP/etc/resolv.conf"
wait_until 5 "c1 saying it cannot keep the hub's DNS" client_is c1:ro dns false
grep -q "warning: --accept-dns: cannot write $TMP/etc/resolv.conf: Read-only file system (only the file itself was writable here, .*ReadWritePaths=/etc does for good); this connection does not use the hub's DNS server" \
	"$TMP/c1-ro.log" || fail "c1 did not say why: $(grep -- --accept-dns "$TMP/c1-ro.log")"
stop c1:ro
expect_eq "resolv.conf after the sandboxed c1 stops" "$(cat "$TMP/etc/resolv.conf")" "nameserver 198.51.100.56"
[ -e "$TMP/c1-ro-state/resolv-slopn0.orig" ] && fail "the sandboxed c1's resolv.conf backup is left"
ok "resolv.conf replaced by a rename where only the file was writable: said, status dns false, left to the network"

stop hub
cmp_state "nft ruleset after the hub stops" "$RULES0" "$(nsx hub nft list ruleset)"
expect_eq "ip_forward, accept_redirects after the hub stops" "$(fwd_state)" "0 0"

# --- --allow-lan opens one of the hub's networks; with --no-spoke-to-spoke
# the kernel's forwarding does not carry client to client either; kill -9.
# The file's allow_lan is replaced by the command line's, as any other key.
printf 'allow_lan = 203.0.113.128/25\nallow_lan = 192.0.2.0/24\n' > "$TMP/hub.conf"
start hub:lan server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock" --nat --egress wan --allow-lan 198.51.100.0/24 --no-spoke-to-spoke \
	--config "$TMP/hub.conf" --dns 198.51.100.2
wait_until 10 "the hub masquerading, one network allowed" hub_nat_is "nftables out of wan, 1 allowed, 1 installs"
ok "--allow-lan on the command line replaces the file's"
kill -HUP "$(pid_of hub:lan)"
wait_until 5 "the NAT rules written again" hub_nat_is "*, 2 installs"
ok "SIGHUP renews the NAT rules"
start c1:lan client --server 192.0.2.1:4242 --token s3cret --full-tunnel --state-dir "$TMP/c1-state" \
	--accept-dns --resolv-conf "$TMP/resolv.conf"
wait_connected c1:lan 10.100.0.2
# The hub's DNS server is on its LAN: c2, without a full tunnel, reaches
# it by its own default route, outside the tunnel; c1's full tunnel takes it in.
printf 'nameserver 192.0.2.53\n' > "$TMP/resolv2.conf"
start c2 client --server 192.0.2.1:4242 --token s3cret --accept-dns --resolv-conf "$TMP/resolv2.conf" \
	--state-dir "$TMP/c2-state"
wait_connected c2 10.100.0.3
wait_until 5 "the hub's DNS server on c2" client_is c2 dns true
expect_eq "c2's DNS server reached outside the tunnel" "$(client_status c2 dns_outside)" 198.51.100.2
"$SLOPNCTL" --socket "$TMP/c2.sock" status | grep -q "^dns: .*198.51.100.2 is reached outside the tunnel$" ||
	fail "slopnctl status does not say c2's DNS server is outside the tunnel"
wait_until 5 "the hub's DNS server on c1" client_is c1:lan dns true
expect_eq "c1's DNS server, through its full tunnel" "$(client_status c1:lan dns_outside)" null
ok "a DNS server of the hub's that queries reach outside the tunnel is named in status"
wait_ping c1 198.51.100.2 5
ok "c1 reaches the LAN host with --allow-lan"
expect_eq "a UDP service at the hub's address on the --allow-lan network" "$(udp_answered 198.51.100.1 5300)" 1
[ "$(seen lanhost 1)" -ge 1 ] || fail "the LAN host saw no packet from the VPN"
wait_ping c2 10.100.0.1 5
nsx c1 ping -c 2 -i 0.2 -W 1 10.100.0.3 >/dev/null && fail "c1 reached c2 through the kernel with spoke-to-spoke off"
ok "no client to client through the hub's forwarding with --no-spoke-to-spoke"
# A second client on the machine (another TUN), without --full-tunnel: its
# login leaves c1's host route to the hub alone (it took it for one a
# crashed run of its own had left, and removed it). c1 still reaches the
# LAN host through its tunnel.
host_route=$(nsx c1 ip route show 192.0.2.1 proto 83)
start c1:b client --server 192.0.2.1:4242 --token s3cret --tun slopn1
wait_until 10 "c1:b connected" client_connected c1:b
expect_eq "c1's host route to the hub, c1:b up" "$(nsx c1 ip route show 192.0.2.1 proto 83)" "$host_route"
stop c1:b
wait_ping c1 198.51.100.2 5
stop c2
stop c1:lan
kill9 hub:lan
nsx hub nft list tables | grep -q slopn_slopn0 || fail "expected the stale table after kill -9"
expect_eq "ip_forward, accept_redirects left by kill -9" "$(fwd_state)" "1 0"
start hub:again server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock" --nat --egress wan --dns 198.51.100.1
wait_until 10 "the hub masquerading" hub_nat_is "nftables out of wan, *"
expect_eq "one table after a start over a crash" "$(nsx hub nft list tables | grep -c slopn)" 1
# A --dns server on a closed network (here the hub's LAN address) is
# reached at port 53, and nothing else there.
start c1:again2 client --server 192.0.2.1:4242 --token s3cret --full-tunnel --state-dir "$TMP/c1-state"
wait_until 10 "c1's full-tunnel routes" client_is c1:again2 full_tunnel true
expect_eq "the --dns server on the hub's LAN address, port 53" "$(udp_answered 198.51.100.1 53)" 1
expect_eq "... port 5300" "$(udp_answered 198.51.100.1 5300)" 0
stop c1:again2
ok "a --dns server on a closed network: port 53 open to clients, the rest not"
stop hub:again
cmp_state "nft ruleset after kill -9, start, stop" "$RULES0" "$(nsx hub nft list ruleset)"
expect_eq "ip_forward, accept_redirects after kill -9, start, stop" "$(fwd_state)" "0 0"

# A crashed --nat hub, then one started without --nat: it cleans up at once.
start hub:crash server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock" --nat --egress wan
wait_until 10 "the hub masquerading" hub_nat_is "nftables out of wan, *"
kill9 hub:crash
start hub:plain server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock"
wait_hub
grep -q "nat: removed the rules and restored forwarding" "$TMP/hub-plain.log" ||
	fail "the hub without --nat did not clean up after the crashed one"
cmp_state "nft ruleset once a hub without --nat has started" "$RULES0" "$(nsx hub nft list ruleset)"
expect_eq "ip_forward, accept_redirects once a hub without --nat has started" "$(fwd_state)" "0 0"
stop hub:plain
# A crashed --nat hub, then a start that fails early (a tokens.json that
# does not parse): the crashed run's rules and forwarding go all the same,
# not only once a start gets as far as its TUN.
start hub:crash2 server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock" --nat --egress wan
wait_until 10 "the hub masquerading" hub_nat_is "nftables out of wan, *"
kill9 hub:crash2
cp "$TMP/hub-state/tokens.json" "$TMP/tokens.good" 2>/dev/null || echo '{"version":1,"tokens":[]}' > "$TMP/tokens.good"
printf '{"version":1,"tokens":[' > "$TMP/hub-state/tokens.json"
start hub:badtok server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock"
p=$(pid_of hub:badtok)
timeout 10 tail --pid="$p" -f /dev/null || fail "the hub with a bad tokens.json is still running"
wait "$p" && fail "the hub with a bad tokens.json exited 0"
forget "$p"
mv "$TMP/tokens.good" "$TMP/hub-state/tokens.json"
cmp_state "nft ruleset after a crash and a start that failed" "$RULES0" "$(nsx hub nft list ruleset)"
expect_eq "ip_forward, accept_redirects after a crash and a start that failed" "$(fwd_state)" "0 0"
ok "a start that fails on its tokens.json still removes a crashed --nat run's rules and forwarding"
# A crash after forwarding went on and before any rule: the state file
# alone, and forwarding comes back all the same.
printf '0\n-\n0\n' > "$TMP/hub-state/nat-slopn0.forward"
nsx hub sysctl -qw net.ipv4.ip_forward=1
start hub:plain2 server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock"
wait_hub
expect_eq "ip_forward, accept_redirects once a hub without --nat has started, after a crash before the rules" \
	"$(fwd_state)" "0 0"
[ -e "$TMP/hub-state/nat-slopn0.forward" ] && fail "the state file of the crashed run is still there"
stop hub:plain2
# A state file this slopnd cannot read, beside the crashed run's table: a
# newer slopnd's (a line this one does not know) after a rollback, or a
# damaged one. What was there before is not known: forwarding stays as it
# is, and the log says so; the file is kept for a look. Removed in silence,
# the --nat start took the crashed run's forwarding for the setting from
# before, and its stop left forwarding on.
for how in plain nat; do
	printf '0\n-\n0\nwan 1\nnewer 1\n' > "$TMP/hub-state/nat-slopn0.forward"
	nsx hub nft add table inet slopn_slopn0
	nsx hub sysctl -qw net.ipv4.ip_forward=1
	args=(--listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret --control "$TMP/hub.sock")
	[ $how = nat ] && args+=(--nat --egress wan)
	start "hub:newer$how" server "${args[@]}"
	wait_hub
	grep -q "warning: nat: .*/nat-slopn0.forward, left by a run that did not stop cleanly, could not be read .*ip_forward 1.*turn it off with sysctl.*the file is now .*/nat-slopn0.forward.bad" \
		"$TMP/hub-newer$how.log" || fail "the hub ($how) did not say it could not read the crashed run's state file"
	[ -e "$TMP/hub-state/nat-slopn0.forward.bad" ] || fail "the state file it could not read is gone"
	stop "hub:newer$how"
	nsx hub nft list tables | grep -q slopn && fail "the crashed run's table is still there ($how)"
	rm -f "$TMP/hub-state/nat-slopn0.forward.bad"
	nsx hub sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.all.accept_redirects=0
done
ok "a state file this slopnd cannot read: said, kept aside, the crashed run's table removed"

# Docker started while the hub ran: it found forwarding on and added its
# masquerade (through iptables-nft, as Docker does). The hub's stop leaves
# forwarding on, or the containers would lose their way out, and says so.
start hub:docker server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock" --nat --egress wan
wait_until 10 "the hub masquerading" hub_nat_is "nftables out of wan, *"
expect_eq "ip_forward, accept_redirects while the hub runs" "$(fwd_state)" "1 0"
nsx hub iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
stop hub:docker
expect_eq "ip_forward after the hub stops, Docker's NAT there" "$(nsx hub sysctl -n net.ipv4.ip_forward)" 1
nsx hub nft list tables | grep -q slopn && fail "the hub's table is still there"
[ -e "$TMP/hub-state/nat-slopn0.forward" ] && fail "the hub's state file is still there"
grep -q "warning: nat: left IP forwarding on, .*(a masquerade or SNAT rule in ip nat POSTROUTING" \
	"$TMP/hub-docker.log" || fail "the hub did not say why it left forwarding on"
ok "forwarding left on for another router's NAT (Docker's), and said"
# Forwarding on before the hub, turned off by its administrator while the
# hub ran: the hub's stop leaves it off (it wrote back the 1 it found).
nsx hub iptables -t nat -D POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
expect_eq "ip_forward before the next hub" "$(nsx hub sysctl -n net.ipv4.ip_forward)" 1
start hub:wason server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock" --nat --egress wan
wait_until 10 "the hub masquerading" hub_nat_is "nftables out of wan, *"
nsx hub sysctl -qw net.ipv4.ip_forward=0
stop hub:wason
expect_eq "ip_forward after the hub stops, turned off while it ran" "$(nsx hub sysctl -n net.ipv4.ip_forward)" 0
ok "forwarding on before the hub and turned off while it ran: left off"
echo "PASS"
