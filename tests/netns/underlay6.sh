#!/bin/bash
# The hub over IPv6, and over IPv4 on the same socket: it listens on
# [::]:4242. c1 and c2 reach it at [2001:db8::1] (the documentation
# prefix, inside our namespaces), c3 at 192.0.2.1, which the hub's socket
# gets as ::ffff:192.0.2.13 and shows as 192.0.2.13. Traffic crosses both
# ways. c2's link has MTU 1400: its QUIC packets fit it (1400 less 40
# bytes of IPv6 and 8 of UDP), and 1280-byte packets still pass. Then the
# hub's machine gets second addresses, and a hub listens on a name with
# two addresses (see there). The hub's namespace has
# net.ipv6.bindv6only=1, as some machines do: its socket on [::] takes
# IPv4 all the same (it says so to the kernel itself).
#
#   hub 2001:db8::1, 192.0.2.1 --+
#   c1  2001:db8::11 ------------+-- br0
#   c2  2001:db8::12 (MTU 1400) -+
#   c3  192.0.2.13 --------------+
. "$(dirname "$0")/lib.sh"
command -v iperf3 >/dev/null || skip "needs iperf3"
topo 3
ns_ipv6 hub c1 c2
for n in hub:1 c1:11 c2:12; do
	ip -n "$RUN-${n%%:*}" addr add "2001:db8::${n#*:}/64" dev eth0 nodad
done
ip -n "$RUN-c2" link set eth0 mtu 1400
nsx hub sysctl -qw net.ipv6.bindv6only=1
expect_eq "net.ipv6.bindv6only in the hub's namespace" "$(nsx hub sysctl -n net.ipv6.bindv6only)" 1
start hub server --listen "[::]:4242" --state-dir "$TMP/hub-state" --token s3cret --control "$TMP/hub.sock"
wait_hub
expect_eq "the hub listens on" "$(ctl --json status | jq -r .listen)" "[::]:4242"
for i in 1 2; do
	start "c$i" client --server "[2001:db8::1]:4242" --token s3cret
	wait_connected "c$i" "10.100.0.$((i + 1))"
done
start c3 client --server 192.0.2.1:4242 --token s3cret
wait_connected c3 10.100.0.4
ok "IPv6 and IPv4 clients reach the hub on [::], net.ipv6.bindv6only=1 as it is"
expect_eq "the clients' addresses as the hub sees them" \
	"$(ctl --json sessions list | jq -r '[.sessions[].remote | sub(":[0-9]+$"; "")] | sort | join(" ")')" \
	"192.0.2.13 [2001:db8::11] [2001:db8::12]"
expect_eq "c1's UDP payload on a 1500-byte link" "$(client_status c1 udp_payload)" 1452
expect_eq "c2's UDP payload on a 1400-byte link" "$(client_status c2 udp_payload)" 1352
[ "$(client_status c2 max_packet)" -ge 1280 ] || fail "c2 carries $(client_status c2 max_packet) bytes, less than 1280"
expect_eq "the largest packet c2's connection carries, as the hub sees it" \
	"$(hub_stat 10.100.0.3 max_packet)" "$(client_status c2 max_packet)"

nsx c1 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "1280-byte ping c1 -> hub"
nsx c1 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.3 >/dev/null || fail "1280-byte ping c1 -> c2"
nsx hub ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.3 >/dev/null || fail "1280-byte ping hub -> c2"
nsx c3 ping -M do -s 1252 -c 3 -i 0.2 -W 2 10.100.0.2 >/dev/null || fail "1280-byte ping c3 -> c1"
ok "1280-byte packets to the hub, across (IPv4 client to IPv6 client), and to the client on the narrow link"
iperf_tcp "c2 -> hub over an IPv6 underlay" c2 hub 10.100.0.1 1
iperf_tcp "hub -> c2 over an IPv6 underlay" hub c2 10.100.0.3 1
iperf_tcp "c3 -> hub over IPv4 to [::]" c3 hub 10.100.0.1 1
expect_eq "drops at the hub for c2 and c3" "$(ctl --json sessions list |
	jq '[.sessions[] | select(.vip == "10.100.0.3" or .vip == "10.100.0.4") | .drops[]] | add')" 0

# A second address on the hub's machine, IPv6 and IPv4, while it runs: the
# hub on [::] answers each client from the address that client used (the
# kernel alone would pick one source for all, and a client drops what
# comes from another address): the clients connected before keep their
# sessions, and new ones get in through the second addresses.
nsx hub sysctl -qw net.ipv6.conf.eth0.accept_dad=1 net.ipv6.conf.eth0.dad_transmits=3
ip -n "$RUN-hub" addr add 2001:db8::2/64 dev eth0
ip -n "$RUN-hub" addr add 192.0.2.2/24 dev eth0
ip -n "$RUN-hub" -6 addr show dev eth0 tentative | grep -q 2001:db8::2 || fail "2001:db8::2 is not tentative"
# Meanwhile a second hub on that IPv6 address, not usable yet (still in
# duplicate address detection, as at boot): it starts all the same.
start hub:late server --listen "[2001:db8::2]:4243" --state-dir "$TMP/late-state" --token late \
	--control "$TMP/late.sock" --tun late0 --subnet 10.101.0.0/24
wait_hub "$TMP/late.sock"
grep -q "^slopnd: warning: --listen \[2001:db8::2\]:4243: no such address on this machine yet" "$TMP/hub-late.log" ||
	fail "the hub did not say its address is not here: $(cat "$TMP/hub-late.log")"
ok "a hub on an IPv6 address still in duplicate address detection runs, and says so"
wait_until 10 "2001:db8::2 usable" sh -c "! ip -n $RUN-hub -6 addr show dev eth0 tentative | grep -q 2001:db8::2"
for i in 1 2 3; do
	nsx "c$i" ping -c 2 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "c$i lost the hub once it had a second address"
done
expect_eq "sessions once the hub has second addresses" "$(ctl --json status | jq .sessions)" 3
ok "the clients connected before keep their sessions"
start c1:late client --server "[2001:db8::2]:4243" --token late --tun late0
wait_until 10 "c1 connected to the late hub" client_is c1:late vip 10.101.0.2
nsx c1 ping -c 3 -i 0.2 -W 2 10.101.0.1 >/dev/null || fail "c1 cannot reach the late hub"
ok "the hub on a late IPv6 address takes clients once it is there"
start c2:second client --server "[2001:db8::2]:4242" --token s3cret --tun second0
start c3:second client --server 192.0.2.2:4242 --token s3cret --tun second0
wait_until 10 "c2 connected through [2001:db8::2]" client_is c2:second connected true
wait_until 10 "c3 connected through 192.0.2.2" client_is c3:second connected true
expect_eq "where c2's and c3's second clients are, as the hub sees them" \
	"$(ctl --json sessions list | jq -r '[.sessions[] | select(.vip == "10.100.0.5" or .vip == "10.100.0.6") | .remote | sub(":[0-9]+$"; "")] | sort | join(" ")')" \
	"192.0.2.13 [2001:db8::12]"
nsx c2 ping -c 3 -i 0.2 -W 2 -I second0 10.100.0.1 >/dev/null || fail "c2's second client cannot reach the hub"
nsx c3 ping -c 3 -i 0.2 -W 2 -I second0 10.100.0.1 >/dev/null || fail "c3's second client cannot reach the hub"
ok "new clients get in through the hub's second IPv6 and IPv4 addresses"

# Failed logins from IPv6 count per /64: c1 (2001:db8::11) fails three
# times and c2 (2001:db8::12), another host in the same /64, twice, each
# with a token of its own (one repeated counts once): the /64 is banned.
# IPv4 through the same socket (c3 as ::ffff:192.0.2.13) stays per
# address: not banned with it.
for i in 1 2 3 4 5; do
	c=$((i <= 3 ? 1 : 2))
	start "c$c:wrong$i" client --server "[2001:db8::1]:4242" --token "wrong$i" --tun "wrong$i"
	timeout 15 tail --pid="$(pid_of "c$c:wrong$i")" -f /dev/null || fail "wrong-token client $i did not give up"
done
expect_eq "bans after 3 failures from 2001:db8::11 and 2 from 2001:db8::12" \
	"$(ctl --json bans list | jq -c '[.bans[].address]')" '["2001:db8::/64"]'
start c2:banned client --server "[2001:db8::1]:4242" --token s3cret --tun banned0
wait_until 10 "c2:banned refused with code 3" client_said c2:banned "Too many failed logins.*error code 3, banned"
kill "$(pid_of c2:banned)"
start c3:after client --server 192.0.2.1:4242 --token s3cret --tun after0
wait_until 10 "c3 connected beside the IPv6 ban" client_is c3:after connected true
ok "IPv6 failures ban the /64; IPv4 on the same socket is not in it"
expect_eq "what bans remove of the listed /64 lifted" \
	"$(ctl --json bans remove 2001:db8::/64 | jq -c '.lifted')" '["2001:db8::/64"]'
expect_eq "bans after the lift" "$(ctl --json bans list | jq '.bans | length')" 0
ok "the /64 lifted as listed"

# A site has many /64s: 20 failures within the hour from a /56's /64s ban
# the /56 (one home's 20 guesses; its neighbours in the /48 stay free). c1 takes
# an address in four more /64s of 2001:db8::/56, five wrong tokens from
# each at once: the four /64s and the /56 are banned, and c2, in the
# first /64 (lifted above), is now refused, told it is its network's ban.
# Lifted by c2's address and port as sessions list shows them: all it is
# under goes (the /56), the answer lists it, and c2 gets in.
for n in 1 2 3 4; do
	ip -n "$RUN-hub" addr add "2001:db8:0:$n::1/64" dev eth0 nodad
	ip -n "$RUN-c1" addr add "2001:db8:0:$n::11/64" dev eth0 nodad
done
for n in 1 2 3 4; do
	for i in 1 2 3 4 5; do
		start "c1:wrong$n$i" client --server "[2001:db8:0:$n::1]:4242" --token "wrong$n$i" --tun "w$n$i"
	done
	for i in 1 2 3 4 5; do
		timeout 15 tail --pid="$(pid_of "c1:wrong$n$i")" -f /dev/null || fail "wrong-token client $n$i did not give up"
	done
done
expect_eq "bans after five wrong tokens from each of four /64s of 2001:db8::/56" \
	"$(ctl --json bans list | jq -c '[.bans[].address] | sort')" \
	'["2001:db8:0:1::/64","2001:db8:0:2::/64","2001:db8:0:3::/64","2001:db8:0:4::/64","2001:db8::/56"]'
start c2:banned56 client --server "[2001:db8::1]:4242" --token s3cret --tun banned56
banned56_refused() { [ "$(ctl --json bans list | jq '.bans[] | select(.address == "2001:db8::/56") | .refused')" -ge 1 ]; }
wait_until 10 "c2 refused under the /56's ban" banned56_refused
wait_until 10 "c2 told of its network's ban" client_said c2:banned56 "from your network \(2001:db8::/56\)"
kill "$(pid_of c2:banned56)"
ok "20 failures from four /64s of a /56 ban the /56: c2, in another of its /64s, is refused"
expect_eq "what bans remove of c2's address and port lifted" \
	"$(ctl --json bans remove '[2001:db8::12]:4242' | jq -c '[.removed, .lifted]')" '[true,["2001:db8::/56"]]'
start c2:after56 client --server "[2001:db8::1]:4242" --token s3cret --tun after56
wait_until 10 "c2 connected after the lift" client_is c2:after56 connected true
stop c2:after56
ctl bans remove 2001:db8:0:1::99 > /dev/null || fail "bans remove by an address in the /64"
expect_eq "bans left" "$(ctl --json bans list | jq -c '[.bans[].address] | sort')" \
	'["2001:db8:0:2::/64","2001:db8:0:3::/64","2001:db8:0:4::/64"]'
ok "an address, with its port or in a /64, lifts the bans it is under"

# A hub on a name with two addresses, the first not this machine's (a
# stale record, or a NAT's public address): it listens on the one that is
# (a socket takes one), and says what it left.
etc_netns hub
printf '2001:db8::99 hub.slopn.test\n192.0.2.1 hub.slopn.test\n' > "/etc/netns/$RUN-hub/hosts"
expect_eq "what the hub's machine finds for hub.slopn.test, in order" \
	"$(nsx hub getent ahosts hub.slopn.test | awk '$2 == "DGRAM" {print $1}' | tr '\n' ' ')" \
	"2001:db8::99 192.0.2.1 "
start hub:named server --listen hub.slopn.test:4244 --state-dir "$TMP/named-state" --token named \
	--control "$TMP/named.sock" --tun named0 --subnet 10.102.0.0/24
wait_hub "$TMP/named.sock"
expect_eq "the address the hub on hub.slopn.test listens on" \
	"$(nsx hub ss -Hlun 'sport = :4244' | awk '{print $4}')" "192.0.2.1:4244"
grep -q "listening on 192.0.2.1:4244 only, not on 2001:db8::99" "$TMP/hub-named.log" ||
	fail "the hub did not say which of the name's addresses it left: $(cat "$TMP/hub-named.log")"
start c3:named client --server 192.0.2.1:4244 --token named --tun named0
wait_until 10 "c3 connected to the hub on hub.slopn.test" client_is c3:named vip 10.102.0.2
ok "a hub on a name listens on the name's address that is here, and names the one it left"

# A hub on its link-local address: on every link, so the client names the
# interface ([fe80::1%eth0]): an address, not a name (no DNS lookup, no
# SNI, which the hub would refuse); without the interface no packet could
# leave, and the client says what to give.
ip -n "$RUN-hub" addr add fe80::1/64 dev eth0 nodad
ip -n "$RUN-c1" addr add fe80::11/64 dev eth0 nodad
start c1:ll client --server '[fe80::1%eth0]:4242' --token s3cret --tun ll0 --full-tunnel
wait_until 10 "c1 connected to the hub's link-local address" client_is c1:ll connected true
expect_eq "c1's hub address" "$(client_status c1:ll hub_addr)" "[fe80::1]:4242"
wait_until 5 "c1's full tunnel beside the link-local hub" client_is c1:ll full_tunnel true
ll_vip=$(client_status c1:ll vip)
expect_eq "c1's session as the hub sees it" \
	"$(ctl --json sessions list | jq -r --arg v "$ll_vip" '.sessions[] | select(.vip == $v) | .remote | sub(":[0-9]+$"; "")')" \
	"[fe80::11]"
nsx c1 ping -c 2 -i 0.2 -W 2 -I ll0 10.100.0.1 > /dev/null || fail "no ping through the link-local session"
ok "a client reaches the hub at [fe80::1%eth0], full tunnel and all"
stop c1:ll
nsx c1 "$SLOPND" client --server '[fe80::1]:4242' --token s3cret --tun ll0 2> "$TMP/ll-err.txt"
expect_eq "exit status of a link-local hub address without its interface" "$?" 2
expect_eq "what a link-local hub address without its interface is told" "$(head -n 1 "$TMP/ll-err.txt")" \
	"slopnd: error: --server '[fe80::1]:4242': a link-local address, on every link: give the interface it is on too, such as [fe80::1%eth0]:4242"
nsx c1 "$SLOPND" client --invite 'slopn://s3cret@[fe80::1]:4242' --tun ll0 2> "$TMP/ll-err.txt"
expect_eq "exit status of an invite with a link-local hub address" "$?" 2
expect_eq "what an invite with a link-local hub address is told" "$(head -n 1 "$TMP/ll-err.txt")" \
	"slopnd: error: --invite: host: 'fe80::1' is link-local, which needs an interface an invite cannot carry: give the hub's global address"
ok "[fe80::1] without its interface: refused, with what to give, from --server and from an invite"
# A hub that listens on the link-local address itself (with its interface):
# bound there, and its clients' answers leave by that link.
start hub:ll server --listen '[fe80::1%eth0]:4245' --state-dir "$TMP/ll-state" --token ll \
	--control "$TMP/ll.sock" --tun ll0 --subnet 10.103.0.0/24
wait_hub "$TMP/ll.sock"
expect_eq "the address the hub on [fe80::1%eth0] listens on" \
	"$(nsx hub ss -Hlun 'sport = :4245' | awk '{print $4}')" "[fe80::1]%eth0:4245"
start c1:ll2 client --server '[fe80::1%eth0]:4245' --token ll --tun ll1
wait_until 10 "c1 connected to the hub listening on [fe80::1%eth0]" client_is c1:ll2 vip 10.103.0.2
wait_ping c1 10.103.0.1 5
stop c1:ll2
stop hub:ll
ok "a hub listening on [fe80::1%eth0] takes a client there"
# A hub on [::] that a client reaches at its link-local address, killed:
# it tells that client at its next start (a stateless reset) only if
# peers.json kept the client's interface with its address. A packet to
# fe80:: without one cannot leave a socket bound to no interface, and the
# idle client would find out at its next keep-alive, 10 s after it last
# heard from the hub.
start hub:llw server --listen '[::]:4246' --state-dir "$TMP/llw-state" --token ll \
	--control "$TMP/llw.sock" --tun ll0 --subnet 10.103.0.0/24
wait_hub "$TMP/llw.sock"
start c1:llw client --server '[fe80::1%eth0]:4246' --token ll --tun ll1
wait_until 10 "c1 connected to the hub on [::] at fe80::1" client_is c1:llw vip 10.103.0.2
wait_until 5 "peers.json to name c1 with its interface" eval \
	'[ "$(jq -r ".peers[0].remote" "$TMP/llw-state/peers.json" 2>/dev/null | sed "s/:[0-9]*$//")" = "[fe80::11%eth0]" ]'
kill9 hub:llw
T0=$(now_ms)
start hub:llw-again server --listen '[::]:4246' --state-dir "$TMP/llw-state" --token ll \
	--control "$TMP/llw.sock" --tun ll0 --subnet 10.103.0.0/24
wait_hub "$TMP/llw.sock"
llw_back() { [ "$(run_slopnctl --socket "$TMP/llw.sock" --json sessions list | jq '.sessions | length')" = 1 ]; }
wait_until 4 "c1 back at the restarted hub" llw_back
ok "a hub on [::] with a link-local client, killed and restarted: the client back after $(( $(now_ms) - T0 )) ms"
stop c1:llw
stop hub:llw-again

# A way to the hub that carries less than IPv6 needs: c1's link at 1280
# bytes leaves its QUIC packets 1232 bytes, 1200 inside the tunnel, where
# no Packet Too Big may say less than 1280: whole IPv6 packets would be
# lost without a word. The hub gives such a session no IPv6, and c1 says
# why; IPv4 passes.
[ "$(ctl --json status | jq -r .hub_vip6)" != null ] || fail "the hub carries no IPv6 inside the tunnel"
ip -n "$RUN-c1" link set eth0 mtu 1280
start c1:narrow client --server "[2001:db8::1]:4242" --token s3cret --tun narrow0
wait_until 10 "c1 connected over its 1280-byte link" client_is c1:narrow connected true
expect_eq "c1's largest packet over a 1280-byte link" "$(client_status c1:narrow max_packet)" 1200
expect_eq "why c1 has no IPv6 inside the tunnel" "$(client_status c1:narrow ipv6_off)" path
expect_eq "c1's IPv6 address inside the tunnel" "$(client_status c1:narrow vip6)" null
vip=$(client_status c1:narrow vip)
expect_eq "its session's IPv6 address on the hub" \
	"$(ctl --json sessions list | jq -r --arg v "$vip" '.sessions[] | select(.vip == $v) | .vip6')" null
ip -n "$RUN-c1" route add 10.100.0.1/32 dev narrow0
nsx c1 ping -c 2 -i 0.2 -W 2 10.100.0.1 > /dev/null || fail "c1 cannot ping the hub over its narrow link"
ok "a connection under 1280 bytes carries IPv4 only, and both ends say so"
stop c1:narrow
# Another client that asks for IPv6 on such a connection (slopn-flood
# with --split-hello sends packets of 1200 bytes, so its connection
# carries at most 1168; and a login of its own that asks): the hub gives
# its session none.
login='{"type":"login_request","token":"s3cret","client_version":"flood6","os":"linux","ipv6":true}'
nsx c3 "$SLOPN_FLOOD" --server 192.0.2.1:4242 --total 1 --duration 4 --split-hello 10 \
	--login "$login" > "$TMP/flood6.json" &
PIDS+=($!)
flood6() { ctl --json sessions list | jq -c '[.sessions[] | select(.client_version == "flood6") | .vip6]'; }
wait_until 5 "the session of a client that asks for IPv6 on a narrow connection" eval '[ "$(flood6)" != "[]" ]'
expect_eq "the IPv6 address the hub gave a session under 1280 bytes that asked" "$(flood6)" "[null]"
ok "the hub gives no IPv6 to a session under 1280 bytes that asks for it"
