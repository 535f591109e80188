#!/bin/bash
# Two hubs with --nat on one machine. One that cannot start because the
# other holds its TUN name (both left at the default, slopn0) leaves the
# running hub's NAT alone, also when its state directory holds what a
# crashed run on that name left: it removed the running hub's table and
# turned IP forwarding off, and that hub's clients lost their way out
# (its table came back, forwarding did not). Two hubs with TUNs of their
# own: stopping one leaves the other's NAT, and its clients' way out, as
# they were.
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || skip "needs nft (nftables)"
command -v jq >/dev/null || skip "needs jq"
. "$(dirname "$0")/nat_topo.sh"

B=(--listen 192.0.2.1:4343 --state-dir "$TMP/b-state" --control "$TMP/b.sock" --subnet 10.101.0.0/24
	--token other)
# A run of hub b on slopn0 that did not stop cleanly: its table and its
# record of forwarding (off before it) stay.
start hub:b server "${B[@]}" --nat
wait_hub "$TMP/b.sock"
kill9 hub:b
[ -f "$TMP/b-state/nat-slopn0.forward" ] || fail "hub b's crash left no nat-slopn0.forward"

# Hub a on slopn0 (it takes the crashed run's table of that name over).
start_hub --nat
wait_until 5 "hub a masquerading" hub_nat_is "nftables out of wan, 0 allowed, 1 installs"
start_client c1 --full-tunnel
wait_connected c1 10.100.0.2
wait_ping c1 203.0.113.130 5
ok "c1 reaches the internet host through hub a"

# refused ARGS...: hub b, started again on slopn0, exits 1 saying so.
refused() {
	local p rc
	start hub:again server "${B[@]}" "$@"
	p=$(pid_of hub:again)
	timeout 15 tail --pid="$p" -f /dev/null || fail "hub b on a taken TUN is still running"
	wait "$p"
	rc=$?
	forget "$p"
	[ $rc = 1 ] || fail "hub b on a taken TUN exited $rc: $(cat "$TMP/hub-again.log")"
	grep -q "cannot create TUN device slopn0: Device or resource busy" "$TMP/hub-again.log" ||
		fail "hub b did not say slopn0 is taken: $(cat "$TMP/hub-again.log")"
}
for nat in --nat ""; do
	refused $nat
	expect_eq "ip_forward, accept_redirects after hub b's start ${nat:-without --nat}" "$(fwd_state)" "1 0"
	expect_eq "hub a's rules found gone and put back" "$(restored)" 0
	nsx c1 ping -c 2 -i 0.2 -W 1 203.0.113.130 >/dev/null || fail "c1 lost its way out"
	[ -f "$TMP/b-state/nat-slopn0.forward" ] || fail "hub b's record of the crashed run is gone"
	[ -z "$nat" ] || grep -q "another process holds slopn0 (another hub with the same --tun?)" "$TMP/hub-again.log" ||
		fail "hub b did not say why it left the crashed run's rules: $(cat "$TMP/hub-again.log")"
	ok "hub b ${nat:-without --nat} on hub a's TUN: refused, hub a's NAT as it was"
done

# Hub b on a TUN of its own: both hubs' clients go out; a stop of hub a
# leaves hub b's.
start hub:b2 server "${B[@]}" --nat --tun slopn1
wait_hub "$TMP/b.sock"
start c2 client --server 192.0.2.1:4343 --token other --full-tunnel
wait_connected c2 10.101.0.2
wait_ping c2 203.0.113.130 5
ok "c2 reaches the internet host through hub b"
stop c1
stop hub
expect_eq "ip_forward, accept_redirects after hub a's stop" "$(fwd_state)" "1 0"
nsx hub nft list table inet slopn_slopn1 >/dev/null || fail "hub b's table went with hub a"
nsx c2 ping -c 2 -i 0.2 -W 1 203.0.113.130 >/dev/null || fail "c2 lost its way out with hub a's stop"
ok "hub a stopped: hub b's table and forwarding stay, c2 goes out"

# Forwarding off, hub a started first, hub b second (it finds forwarding
# on, and hub a's record of it off before): hub a's stop leaves it on for
# hub b, and says whose NAT that is.
stop c2
stop hub:b2
nsx hub sysctl -qw net.ipv4.ip_forward=0
start_hub --nat
wait_until 5 "hub a masquerading" hub_nat_is "nftables out of wan, *"
start hub:b3 server "${B[@]}" --nat --tun slopn1
wait_hub "$TMP/b.sock"
wait_until 5 "hub b's table" nsx hub nft list table inet slopn_slopn1
stop hub
expect_eq "ip_forward after hub a's stop, hub b running" "$(nsx hub sysctl -n net.ipv4.ip_forward)" 1
grep -q "warning: nat: left IP forwarding on, .*another SloPN hub's NAT is in the kernel (inet slopn_slopn1 " \
	"$TMP/hub.log" || fail "hub a did not say whose NAT kept forwarding on: $(grep 'left IP forwarding' "$TMP/hub.log")"
ok "hub a's stop left forwarding on for hub b, and named hub b's table"

# A third hub given hub b's control socket by mistake: refused before it
# makes its TUN and NAT (it made both, then undid them), hub b's socket
# answering still.
start hub:c server --listen 192.0.2.1:4444 --state-dir "$TMP/c-state" --control "$TMP/b.sock" \
	--subnet 10.102.0.0/24 --tun slopn2 --nat --token other
wait "$(pid_of hub:c)"
expect_eq "exit status of a hub on another's control socket" "$?" 1
forget "$(pid_of hub:c)"
grep -q "control socket $TMP/b.sock is in use by another slopnd" "$TMP/hub-c.log" ||
	fail "hub c did not name the socket in use: $(cat "$TMP/hub-c.log")"
grep -Eq "nat: masquerading|TUN slopn2" "$TMP/hub-c.log" && fail "hub c set up before refusing: $(cat "$TMP/hub-c.log")"
answers "$TMP/b.sock" || fail "hub b's control socket no longer answers"
ok "a hub on another's control socket refused before its TUN and NAT"

# Hub b, the last to stop, puts forwarding back as it was before either
# hub: it took hub a's record of it from hub a's table (it had recorded
# hub a's "on", and left forwarding on for good).
stop hub:b3
expect_eq "ip_forward, accept_redirects after both hubs stopped, hub a first" "$(fwd_state)" "0 1"
# The other way round: hub b stops first (hub a's NAT keeps it on), then a.
start_hub --nat
wait_until 5 "hub a masquerading" hub_nat_is "nftables out of wan, *"
start hub:b4 server "${B[@]}" --nat --tun slopn1
wait_hub "$TMP/b.sock"
wait_until 5 "hub b's table" nsx hub nft list table inet slopn_slopn1
stop hub:b4
expect_eq "ip_forward after hub b's stop, hub a running" "$(nsx hub sysctl -n net.ipv4.ip_forward)" 1
stop hub
expect_eq "ip_forward, accept_redirects after both hubs stopped, hub b first" "$(fwd_state)" "0 1"
ok "two hubs' NAT: forwarding back off after both stopped, in either order"
