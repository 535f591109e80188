#!/bin/bash
# Interop with a Go peer on quic-go (tests/interop/gopeer), in both
# directions: its client on our hub, our client on its hub. The peer acts
# as DESIGN.md says the original Go SloPN does (see its header).
. "$(dirname "$0")/lib.sh"
build_gopeer
GOPEER=$TMP/gopeer
ok "built the Go peer"

topo 3
# IPv6 on at the hub and at our client: the Go client (IPv4 only) beside
# one of ours that carries IPv6 too.
ns_ipv6 hub c2
# run_gopeer NAME ARGS...: the Go peer in namespace NAME, logging to $TMP/NAME.log.
run_gopeer() { local n=$1; shift; SLOPND=$GOPEER start "$n" "$@"; }
# A shared token of 1280 bytes, both ways: the original's Go strings have
# no limit (ours takes what a 4 KiB login carries).
TOKEN=$(printf 'long-token-%04d.' $(seq 1 80))
[ ${#TOKEN} = 1280 ] || fail "the long token is ${#TOKEN} bytes"

# --- Its client on our hub (with one of our clients beside it).
start_hub
run_gopeer c1 -mode client -addr 192.0.2.1:4242 -token "$TOKEN" -tun slopn0 -mtu 1280
wait_until 10 "the Go client logged in as 10.100.0.2" hub_session 10.100.0.2
ok "the Go client logged in (its login line split over two STREAM frames, a token of 1280 bytes)"
start_client c2
wait_connected c2 10.100.0.3
[ "$(client_status c2 vip6)" != null ] || fail "our client beside the Go client has no IPv6 address"
ok "beside the Go client, ours gets an IPv6 address too"
wait_ping c1 10.100.0.1 5
nsx c1 ping -c 5 -i 0.2 -W 2 10.100.0.1 > /dev/null || fail "Go client -> hub VIP"
ok "Go client -> hub VIP"
nsx c1 ping -c 5 -i 0.2 -W 2 10.100.0.3 > /dev/null || fail "Go client -> our client"
nsx c2 ping -c 5 -i 0.2 -W 2 10.100.0.2 > /dev/null || fail "our client -> Go client"
ok "Go client <-> our client, spoke to spoke"
expect_eq "the Go client's non-IPv4 datagram dropped and counted" "$(hub_stat 10.100.0.2 drop_not_ipv4)" 1
expect_eq "the Go client's session has no IPv6 address" \
	"$(ctl --json sessions list | jq -r '.sessions[] | select(.vip == "10.100.0.2") | .vip6')" null
nsx c2 ping -6 -c 3 -i 0.2 -W 2 "$(client_status c2 hub_vip6)" > /dev/null ||
	fail "our client beside the Go client: ping6 to the hub"
ok "our client carries IPv6 beside the Go client"
iperf_tcp "from the Go client" c1 hub 10.100.0.1 1
# quic-go 0.29 takes datagrams of at most 1217 bytes: the hub answers a
# bigger packet for it with ICMP "fragmentation needed", and TCP from the
# hub to it adapts.
nsx hub ping -c 1 -W 2 -M do -s 1252 10.100.0.2 > "$TMP/ping-big.txt" 2>&1; grep -q "mtu = 1217" "$TMP/ping-big.txt" ||
	fail "the hub did not answer a 1280-byte packet for the Go client with Frag needed: $(cat "$TMP/ping-big.txt")"
ok "the hub answers a packet too big for the Go client with ICMP fragmentation-needed (mtu 1217)"
iperf_tcp "from the hub to the Go client" hub c1 10.100.0.2 1
# The same for a packet from our client to the Go client, spoke to spoke.
nsx c2 ping -c 1 -W 2 -M do -s 1252 10.100.0.2 > "$TMP/ping-spoke.txt" 2>&1
grep -q "mtu = 1217" "$TMP/ping-spoke.txt" ||
	fail "no Frag needed for a 1280-byte packet from c2 to the Go client: $(cat "$TMP/ping-spoke.txt")"
ok "spoke to spoke: a packet too big for the Go client is answered with fragmentation-needed (mtu 1217)"
iperf_tcp "from our client to the Go client, spoke to spoke" c2 c1 10.100.0.2 1
# The Go client sends no keep-alives; with a 6 s idle timeout it stays
# connected through 9 idle seconds only because the hub sends them.
run_gopeer c3 -mode client -addr 192.0.2.1:4242 -token "$TOKEN" -tun slopn0 -idle 6s
wait_until 10 "the idle Go client logged in as 10.100.0.4" hub_session 10.100.0.4
sleep 9
kill -0 "$(pid_of c3)" 2>/dev/null || fail "the idle Go client lost its connection: $(tail -n 2 "$TMP/c3.log")"
nsx c3 ping -c 2 -i 0.2 -W 2 10.100.0.1 > /dev/null || fail "the idle Go client no longer carries traffic"
hub_session 10.100.0.4 || fail "the hub dropped the idle Go client"
ok "an idle Go client (no keep-alives, 6 s idle timeout) kept alive by the hub for 9 s"
kill "$(pid_of c3)"
# Gone before the Go client below is found by its version.
wait_until 10 "the idle Go client's session gone" no_hub_session 10.100.0.4
start_monitor
kill "$(pid_of c1)"
wait_event session.down '.params.id == 1 and .params.vip == "10.100.0.2" and .params.reason == "client exit"'
ok "the Go client's close (code 0) is a client exit"
# A Go client on a token of one session, killed with -9 and started again
# at once: it sends no client id, so the hub cannot tell it from another
# machine, and the token's limit refuses it; but the hub then probes the
# token's old session, finds it silent, and the client's next attempt
# takes it over, rather than one after the old session's idle timeout (30
# to 40 s). The Go peer exits when refused: started again as a service
# manager would, half a second later.
one=$(ctl --json token add one --max-sessions 1 | jq -r .token)
run_gopeer c1:one -mode client -addr 192.0.2.1:4242 -token "$one" -tun slopn3
wait_log c1:one "gopeer: connected" 10
old_id=$(ctl --json sessions list | jq -r '.sessions[] | select(.token == "one") | .id')
kill -9 "$(pid_of c1:one)"
wait "$(pid_of c1:one)" 2>/dev/null
mv "$TMP/c1-one.log" "$TMP/c1-one-first.log"
t0=$(now_ms) tries=0
in_again() { grep -q "gopeer: connected" "$TMP/c1-one.log"; }
ended() { ! kill -0 "$(pid_of c1:one)" 2>/dev/null; }
until in_again; do
	[ $(($(now_ms) - t0)) -lt 8000 ] || fail "the Go client not back within 8 s after $tries attempts: $(tail -n 1 "$TMP/c1-one.log")"
	tries=$((tries + 1))
	run_gopeer c1:one -mode client -addr 192.0.2.1:4242 -token "$one" -tun slopn3
	wait_until 5 "the Go client in, or refused" eval 'in_again || ended'
	in_again || nap 0.5
done
ms=$(($(now_ms) - t0))
wait_event session.down ".params.id == $old_id and .params.reason == \"replaced by a new login with the same token\""
expect_eq "the token's sessions" "$(ctl --json sessions list | jq '[.sessions[] | select(.token == "one")] | length')" 1
ok "a Go client killed with -9 on a token of one session: back after $ms ms, attempt $tries"
kill "$(pid_of c1:one)"
SLOPND=$GOPEER start c1:bad -mode client -addr 192.0.2.1:4242 -token wrong -tun slopn1
p=$(pid_of c1:bad)
wait "$p"; rc=$?
[ $rc -ne 0 ] || fail "the Go client with a wrong token exited 0"
grep -Eq "login refused: (Invalid authentication token|connection closed with code 1)" "$TMP/c1-bad.log" ||
	fail "the Go client did not see a refusal: $(cat "$TMP/c1-bad.log")"
ok "wrong token: the Go client is refused ($(tail -n 1 "$TMP/c1-bad.log"))"
# Optional fields of ours that are wrong are as good as absent (DESIGN.md:
# unknown fields are ignored), not a refused login that counts towards a
# ban; and a line over 4 KiB of an unknown type after the login is
# skipped, not the end of the session.
run_gopeer c1:odd -mode client -addr 192.0.2.1:4242 -token "$TOKEN" -tun slopn2 -long-line 5000 \
	-extra '"client_id":"{6ba7b810-9dad-11d1-80b4-00c04fd430c8}","instance":7,"ipv6":"yes"'
go_vip() { ctl --json sessions list | jq -r '.sessions[] | select(.client_version == "gopeer-0.29") | .vip'; }
go_in() { [ -n "$(go_vip)" ]; }
wait_until 10 "the Go client with wrong optional fields logged in" go_in
vip=$(go_vip)
expect_eq "its session's client id and IPv6 address" \
	"$(ctl --json sessions list | jq -c --arg v "$vip" '.sessions[] | select(.vip == $v) | [.client_id, .vip6]')" "[null,null]"
skipped() { [ "$(hub_stat "$vip" lines_skipped)" = 1 ]; }
wait_until 10 "the Go client's long line skipped" skipped
nsx c1 ping -c 2 -i 0.2 -W 2 10.100.0.1 > /dev/null || fail "the Go client after its long line -> hub VIP"
expect_eq "its sessions" "$(hub_sessions_of "$vip")" 1
ok "a Go client with a client_id '{uuid}', instance 7 and ipv6 \"yes\" logs in as $vip, and its 5000-byte line after the login is skipped"
kill "$(pid_of c1:odd)"
kill "$(pid_of c2)" "$(pid_of hub)"
wait "$(pid_of c2)" "$(pid_of hub)" 2>/dev/null

# --- Its client on our hub with a subnet wider than a /24: it sets its
# address as a /24 whatever the hub says, so it gets one of the hub's /24
# (10.100.0.0/24 here), never that /24's .0 or .255. Leases of our
# clients (with ids) away on all of .2 to .255 of it, .255 seen longest ago:
# the round robin over the /23 would give it 10.100.1.0.
now=$(date +%s)
mkdir -p "$TMP/wide-state"
jq -n --argjson now "$now" '{version: 1, leases: [range(2; 256) | {token: "shared",
	client_id: "id\(.)", vip: "10.100.0.\(.)", vip6: null,
	last_seen: (if . == 255 then $now - 2000 else $now - 1000 + . end)}]}' > "$TMP/wide-state/leases.json"
wctl() { run_slopnctl --socket "$TMP/wide.sock" "$@"; }
wide_hub() {
	start "hub:$1" server --listen 192.0.2.1:4242 --state-dir "$TMP/wide-state" --token s3cret \
		--control "$TMP/wide.sock" --subnet 10.100.0.0/23
	wait_hub "$TMP/wide.sock"
}
# wide_vip NAME: the VIP of the Go client NAME's session (none: empty).
wide_vip() {
	wctl --json sessions list | jq -r --arg t "$1" '.sessions[] | select(.token == $t) | .vip'
}
gone() { ! kill -0 "$1" 2>/dev/null; }
wide_hub wide
far=$(wctl --json token add far --vip 10.100.1.5 | jq -r .token)
named=$(wctl --json token add named | jq -r .token)
# A token fixed to a VIP outside the hub's /24: the Go client is refused,
# and told why; so is the hub's log, with what to do.
run_gopeer c1:far -mode client -addr 192.0.2.1:4242 -token "$far" -tun slopn1
wait_until 10 "the Go client with a token fixed to 10.100.1.5 refused" gone "$(pid_of c1:far)"
wait "$(pid_of c1:far)"; rc=$?
[ $rc -ne 0 ] || fail "the Go client refused exited 0"
grep -Eq "login refused: (This token's fixed VIP 10.100.1.5 is outside 10.100.0.0/24|connection closed with code 1 \(fixed VIP outside)" \
	"$TMP/c1-far.log" || fail "the Go client did not see why it was refused: $(cat "$TMP/c1-far.log")"
wait_log hub:wide "refused: token 'far' has the fixed VIP 10.100.1.5, outside 10.100.0.0/24, .* give the token a VIP in 10.100.0.0/24 .* or use SloPN's client" 2
expect_eq "sessions of the token fixed outside the hub's /24" "$(wctl --json sessions list | jq '.sessions | length')" 0
ok "a Go client with a token fixed outside the hub's /24 is refused ($(tail -n 1 "$TMP/c1-far.log"))"
# The shared token: the oldest lease in the hub's /24 but its .255.
run_gopeer c1:wide -mode client -addr 192.0.2.1:4242 -token s3cret -tun slopn0 -mtu 1280
wait_log c1:wide "gopeer: connected" 10
expect_eq "the Go client's VIP from a /23" "$(wide_vip shared)" 10.100.0.2
nsx c1 ip -4 addr show dev slopn0 | grep -q "inet 10.100.0.2/24 " || fail "the Go client set no 10.100.0.2/24"
wait_ping c1 10.100.0.1 5
ok "a Go client on a /23 gets 10.100.0.2, in the hub's /24 (not 10.100.1.0, nor .255), and reaches the hub"
kill "$(pid_of c1:wide)"
wait "$(pid_of c1:wide)"
stop hub:wide
# A lease of a named token's Go client outside the hub's /24 (given by
# an older hub): not given again; an address in the /24 instead.
jq --argjson now "$now" '.leases += [{token: "named", client_id: null, vip: "10.100.1.7",
	vip6: null, last_seen: $now}]' "$TMP/wide-state/leases.json" > "$TMP/leases.new"
mv "$TMP/leases.new" "$TMP/wide-state/leases.json"
wide_hub wide2
run_gopeer c1:named -mode client -addr 192.0.2.1:4242 -token "$named" -tun slopn0 -mtu 1280
wait_log c1:named "gopeer: connected" 10
expect_eq "the VIP of the Go client with a lease on 10.100.1.7" "$(wide_vip named)" 10.100.0.2
wait_ping c1 10.100.0.1 5
kill "$(pid_of c1:named)"
wait "$(pid_of c1:named)"
stop hub:wide2
expect_eq "its lease now" \
	"$(jq -r '.leases[] | select(.token == "named") | .vip' "$TMP/wide-state/leases.json")" 10.100.0.2
ok "a Go client's lease outside the hub's /24 is not given again: 10.100.0.2 instead, and it reaches the hub"

# --- Our client on its hub: no subnet_mask (so /24). quic-go 0.29 takes
# UDP payloads of at most 1252 bytes, so its datagrams carry at most 1217
# (the newer quic-go of the original takes 1452). Our client keeps its
# default MTU 1280, warns, and answers a bigger packet with ICMP
# "fragmentation needed", so TCP lowers its path MTU and carries on.
# After the login it sends a line over 4 KiB of an unknown type: skipped.
SLOPND=$GOPEER start hub:go -mode server -addr 192.0.2.1:4242 -token "$TOKEN" -tun slopn0 -long-line 5000
wait_log hub:go "gopeer: listening" 10
start c2:go client --server 192.0.2.1:4242 --token "$TOKEN"
wait_connected c2:go 10.100.0.2
since=$(client_status c2:go since)
wait_until 10 "the Go hub's long line skipped" client_is c2:go lines_skipped 1
expect_eq "the Go hub's address" "$(client_status c2:go hub_vip)" 10.100.0.1
ip -n "$RUN-c2" -4 addr show dev slopn0 | grep -q "inet 10.100.0.2/24 " || fail "c2 has no /24 from the Go hub"
expect_eq "our client's IPv6 address on the Go hub" "$(client_status c2:go vip6)" null
nsx c2 ip -6 addr show dev slopn0 | grep -q inet6 && fail "our client on the Go hub has an IPv6 address"
ok "our client logged in to the Go hub (no subnet_mask: /24; no IPv6, without error)"
wait_log c2:go "carries packets of at most 1217 bytes, less than the MTU 1280 of slopn0: .* --mtu 1217 fits" 1
ok "our client warned that the Go hub's connection carries less than its MTU"
nsx c2 ping -c 1 -W 2 -M do -s 1252 10.100.0.1 2>&1 | grep -q "mtu = 1217" ||
	fail "a 1280-byte ping with DF did not bring 'Frag needed ... mtu = 1217'"
ok "a packet too big for the connection is answered with ICMP fragmentation-needed (mtu 1217)"
wait_ping c2 10.100.0.1 5
nsx c2 ping -c 5 -i 0.2 -W 2 10.100.0.1 > /dev/null || fail "our client -> Go hub VIP"
ok "our client -> Go hub VIP"
iperf_tcp "from our client to the Go hub" c2 hub 10.100.0.1 1
expect_eq "our client's connection to the Go hub, after its long line" \
	"$(client_status c2:go connected) $(client_status c2:go since) $(client_status c2:go lines_skipped)" "true $since 1"
start c1:go client --server 192.0.2.1:4242 --token wrong
p=$(pid_of c1:go)
wait "$p"; rc=$?
expect_eq "our client with a wrong token on the Go hub exits" "$rc" 3
grep -q "login refused by hub: .*error code 1" "$TMP/c1-go.log" ||
	fail "no refusal line: $(cat "$TMP/c1-go.log")"
ok "$(grep -o 'login refused by hub: .*' "$TMP/c1-go.log")"
kill "$(pid_of c2:go)"
wait_log hub:go "session down: vip 10.100.0.2" 5
ok "our client's exit reached the Go hub"
kill "$(pid_of hub:go)"
wait "$(pid_of hub:go)"

# --- A hub that is not to be trusted with the client's routing (the Go
# peer made hostile on purpose).
# hostile TAG GOPEER-ARGS...: that hub (hub:TAG) and our client on it (c2:TAG).
# HPORT and HTUN: another port and TUN (on both sides) than 4242 and
# slopn0, for one beside another.
hostile() {
	local t=$1 port=${HPORT:-4242}
	shift
	run_gopeer "hub:$t" -mode server -addr "192.0.2.1:$port" -token s3cret -tun "${HTUN:-slopn0}" "$@"
	wait_log "hub:$t" "gopeer: listening" 10
	start "c2:$t" client --server "192.0.2.1:$port" --token s3cret ${HTUN:+--tun "$HTUN"}
}
# end TAG: both stopped.
end() {
	kill "$(pid_of "c2:$1")" "$(pid_of "hub:$1")"
	wait "$(pid_of "c2:$1")" "$(pid_of "hub:$1")"
}

# A subnet_mask of /1 would route half of IPv4 into the tunnel: it is
# taken as no mask, so a /24, as the original's client takes; other
# optional fields that are wrong are absent too (no IPv6 way out), and
# unset ones ("", a prefix_len6 of 0 without addresses: a Go struct's
# zero values) absent without a word.
hostile wide -mask 128.0.0.0 -extra '"dns":"","prefix_len6":0,"egress6":"yes"'
wait_connected c2:wide 10.100.0.2
expect_eq "what our client ignored of the /1 hub's answer" "$(client_status c2:wide login_ignored)" \
	'field "subnet_mask" is not a contiguous netmask from /16 to /30 (and 1 more)'
expect_eq "routes through our client's TUN" \
	"$(ip -n "$RUN-c2" -4 route show dev slopn0 | awk '{print $1}' | tr '\n' ' ')" "10.100.0.0/24 "
expect_eq "our client's IPv6 address from the /1 hub" "$(client_status c2:wide vip6)" null
wait_ping c2 10.100.0.1 5
ok "a hub's /1 subnet is taken as a /24, its empty dns, prefix_len6 0 and egress6 \"yes\" as absent"
end wide

# Packets from the hub for other addresses than the client's (its LAN,
# another client, an IPv6 router advertisement to all nodes, another IPv6
# address) are dropped and counted; an echo request to each of its own
# addresses is answered. Those to its addresses from its LAN (its router,
# IPv4 and IPv6) or from an address of its own are dropped as spoofed:
# else a hub could reach what trusts the LAN (rp_filter in loose mode lets
# IPv4 in, IPv6 has none).
# A part of the LAN routed into the TUN (a site behind the hub,
# 198.51.100.128/25) is the hub's: a packet from there is taken.
#   c2 lan1 198.51.100.10/24, 2001:db8:5::10/64 -- rtr 198.51.100.2, 2001:db8:5::2
#   c2 lo 2001:db8:77::7/128; 198.51.100.128/25 dev slopn0
ns_create rtr
ns_ipv6 rtr
ip link add lan1 netns "$RUN-c2" type veth peer name eth0 netns "$RUN-rtr"
ip -n "$RUN-c2" addr add 198.51.100.10/24 dev lan1
ip -n "$RUN-c2" addr add 2001:db8:5::10/64 dev lan1
ip -n "$RUN-c2" link set lan1 up
ip -n "$RUN-rtr" addr add 198.51.100.2/24 dev eth0
ip -n "$RUN-rtr" addr add 2001:db8:5::2/64 dev eth0
ip -n "$RUN-rtr" link set eth0 up
# Without its prefix route: the client's own addresses are checked as
# such, not only as networks of its routing table.
ip -n "$RUN-c2" addr add 2001:db8:77::7/128 dev lo noprefixroute
# echo_replies NS: the echo replies the kernel of namespace NS sent, "IPv4 IPv6".
echo_replies() {
	nsx "$1" awk '/^Icmp:/ { if (!c) for (i = 1; i <= NF; i++) { if ($i == "OutEchoReps") c = i } else v4 = $c }
		/^Icmp6OutEchoReplies/ { v6 = $2 } END { print v4 + 0, v6 + 0 }' /proc/net/snmp /proc/net/snmp6
}
read -r rep4 rep6 <<< "$(echo_replies c2)"
hostile stray -stray -stray-after 3s -spoof 198.51.100.2,2001:db8:5::2,2001:db8:77::7,198.51.100.200
wait_connected c2:stray 10.100.0.2
ip -n "$RUN-c2" route add 198.51.100.128/25 dev slopn0
expect_eq "our client's IPv6 address from the stray hub" "$(client_status c2:stray vip6)" fd00:1:2:3::2
wait_log hub:stray "gopeer: stray packets sent" 10
wait_log hub:stray "echo reply from 10.100.0.2" 5
wait_log hub:stray "echo reply from fd00:1:2:3::2" 5
sleep 1 # the spoofed ones, sent after them
read -r now4 now6 <<< "$(echo_replies c2)"
expect_eq "echo replies c2 sent (IPv4 IPv6): to the hub's and the site's only, none to the spoofed sources" \
	"$((now4 - rep4)) $((now6 - rep6))" "2 1"
expect_eq "echo replies that came back to the hub" "$(grep -c "echo reply from" "$TMP/hub-stray.log")" 3
expect_eq "packets from the hub not for our client, dropped" "$(client_status c2:stray totals.drops.no_route)" 4
expect_eq "packets from the hub from c2's LAN or its own address, dropped" \
	"$(client_status c2:stray totals.drops.spoofed)" 3
nsx c2 ip -6 route show | grep -q "via fe80::1" && fail "the hub's router advertisement made a route"
ok "the hub's packets for other addresses dropped (4), and to ours from c2's LAN (198.51.100.2, 2001:db8:5::2) or its own address (2001:db8:77::7) as spoofed (3); its echo requests to ours answered, and one from the site routed into the TUN"
# Its 50 lines not understood, sent right after the login: said once (the
# log's the thing: a hub must not fill the journal).
expect_eq "lines of c2's log on words not understood" "$(grep -c 'is not understood' "$TMP/c2-stray.log")" 1
end stray

# A hub with a 3 s idle timeout that sends no keep-alives: our client keeps
# itself alive within that timeout (a third of it), not at its own 10 s: one
# connection through 8 s of silence.
hostile quiet -quiet -idle 3s
wait_connected c2:quiet 10.100.0.2
since=$(client_status c2:quiet since)
sleep 8 # the silence itself, not a wait for a state
expect_eq "our client's connection to a quiet hub with a 3 s idle timeout, after 8 s" \
	"$(client_status c2:quiet connected) $(client_status c2:quiet since)" "true $since"
ok "an idle client keeps a quiet hub's 3 s connection (no reconnect in 8 s)"
end quiet

# A hub that ends every connection just after the login (as one that kicks
# at once, or sends a "path" line each time): one quick retry, then the
# backoff (1, 2, 4 s...) instead of a login every few milliseconds. Its
# logins are counted 12 s after the first, while the next check (the mute
# hub, on a port and TUNs of its own: it never gives an address) runs.
hostile drop -drop
wait_log hub:drop "gopeer: session up" 10
(
	nap 12 # the count over a stretch of time is what is measured
	grep -c "gopeer: session up" "$TMP/hub-drop.log" > "$TMP/drop-logins.txt"
) &
PIDS+=($!)
drop_count=$!

# A hub that completes the handshake and never answers the login (its
# keep-alives keep the connection from idling out): the client gives up on
# that attempt after 10 s, says so, and tries again.
HPORT=4243 HTUN=slopn1 hostile mute -mute
wait_log hub:mute "gopeer: login held" 10
said_mute() { client_status c2:mute last_error | grep -q "no answer to the login in 10 s"; }
wait_until 14 "our client giving up on a login without answer" said_mute
wait_log hub:mute "gopeer: held login closed" 2
held_twice() { [ "$(grep -c 'gopeer: login held' "$TMP/hub-mute.log")" -ge 2 ]; }
wait_until 10 "our client's next attempt" held_twice
ok "a login without answer ends after 10 s: $(client_status c2:mute last_error); then another attempt"
end mute

wait "$drop_count"
forget "$drop_count"
logins=$(cat "$TMP/drop-logins.txt")
[ "$logins" -ge 3 ] && [ "$logins" -le 6 ] || fail "$logins logins in 12 s to a hub that drops each (want 3 to 6)"
ok "a hub that drops every connection got $logins logins in 12 s"
end drop
echo "PASS"
