#!/bin/bash
# Two clients with --kill-switch on one machine, of two hubs: each table
# drops what the other lets out (its TUN, its hub), so a second one cut the
# first off for as long as it ran, and could not connect itself. It is refused now, before
# its table goes in, naming the first's, and so is its --kill-switch-only;
# the first keeps passing traffic. A
# crashed client's table, its TUN gone, refuses no one.
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || skip "needs nft (nftables)"
topo 2
start_hub
# A second hub, on c2.
start c2:hub server --listen 192.0.2.12:4242 --state-dir "$TMP/hub2-state" --token other \
	--control "$TMP/hub2.sock" --subnet 10.101.0.0/24
wait_hub "$TMP/hub2.sock"
start_client c1:a --tun vpnA --full-tunnel --kill-switch
wait_connected c1:a 10.100.0.2
nsx c1 ping -c 2 -i 0.2 -W 1 10.100.0.1 >/dev/null || fail "c1:a cannot reach the hub"

start c1:b client --server 192.0.2.12:4242 --token other --tun vpnB --full-tunnel --kill-switch
p=$(pid_of c1:b)
timeout 10 tail --pid="$p" -f /dev/null || fail "a second client with --kill-switch is still running"
wait "$p"
rc=$?
forget "$p"
expect_eq "the second --kill-switch client's exit status" "$rc" 1
grep -q "another client's kill switch is in (nftables table inet slopnks_vpnA, for its TUN vpnA, in use)" \
	"$TMP/c1-b.log" || fail "c1:b did not name c1:a's kill switch: $(cat "$TMP/c1-b.log")"
expect_eq "the kill switch tables" "$(nsx c1 nft list tables | grep slopnks_ | sort | tr '\n' ' ')" \
	"table inet slopnks_vpnA "
nsx c1 ping -c 2 -i 0.2 -W 1 10.100.0.1 >/dev/null || fail "c1:a lost its tunnel to c1:b's start"
ok "a second client with --kill-switch: refused, exit 1, the first's tunnel as it was"
# So is its kill switch from boot (slopnd-killswitch@NAME runs it before
# each start of the client): it stayed in when the client was refused.
nsx c1 "$SLOPND" client --server 192.0.2.12:4242 --token other --tun vpnB --full-tunnel --kill-switch --kill-switch-only \
	--state-dir "$TMP/c1-b-state" > "$TMP/ksonly.txt" 2>&1
expect_eq "--kill-switch-only beside another client's kill switch: exit status" "$?" 1
grep -q "another client's kill switch is in (nftables table inet slopnks_vpnA" "$TMP/ksonly.txt" ||
	fail "--kill-switch-only did not name c1:a's kill switch: $(cat "$TMP/ksonly.txt")"
expect_eq "the kill switch tables" "$(nsx c1 nft list tables | grep slopnks_ | sort | tr '\n' ' ')" \
	"table inet slopnks_vpnA "
nsx c1 ping -c 2 -i 0.2 -W 1 10.100.0.1 >/dev/null || fail "c1:a lost its tunnel to --kill-switch-only"
ok "--kill-switch-only beside another client's kill switch: refused, exit 1"

# A crashed client's table stays (nothing leaves meanwhile), its TUN gone:
# no client holds it, and a start with --kill-switch goes ahead.
kill9 c1:a
start c1:c client --server 192.0.2.12:4242 --token other --tun vpnC --full-tunnel --kill-switch
wait_log c1:c "kill switch on: nothing leaves but through vpnC" 10
grep -q "another client's kill switch" "$TMP/c1-c.log" && fail "c1:c refused for a crashed client's table"
stop c1:c
ok "a crashed client's table (its TUN gone) refuses no one"

# Without a kill switch, a rule of this machine that drops the client's
# packets to the hub: the kernel refuses its sends (EPERM), which its
# failure now says (it said only "no answer"); the rule gone, it connects.
nsx c1 nft delete table inet slopnks_vpnA
nsx c1 nft -f - <<'NFT'
table inet fwtest {
	chain out {
		type filter hook output priority 0;
		udp dport 4242 drop
	}
}
NFT
start_client c1:d --tun vpnD
wait_until 20 "c1:d's failure naming the firewall" client_said c1:d \
	"sends to the hub were refused by this machine's firewall \(EPERM"
said=$(client_status c1:d last_error)
nsx c1 nft delete table inet fwtest
wait_until 15 "c1:d connected once the rule went" client_connected c1:d
ok "sends refused by a rule here: said ('...${said#*; }'), and connected once the rule went"

# A hub on c1's machine (its TUN hubt0 in use): a --kill-switch client
# there would cut the hub's traffic off too, and says so.
stop c1:d
start c1:hub server --listen 192.0.2.11:4343 --state-dir "$TMP/c1hub-state" --token other \
	--control "$TMP/c1hub.sock" --subnet 10.102.0.0/24 --tun hubt0
wait_hub "$TMP/c1hub.sock"
start_client c1:e --tun vpnE --full-tunnel --kill-switch
wait_log c1:e "warning: --kill-switch: the TUN hubt0 is in use by another program \(a hub on this machine\? another VPN\?\)" 10
grep -q "the TUN vpnE is in use" "$TMP/c1-e.log" && fail "c1:e warned of its own TUN"
stop c1:e
ok "a kill switch beside a hub on the same machine warns of the hub's TUN"
