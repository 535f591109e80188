#!/bin/bash
# Roaming without a new login. c1's address changes under it (a new DHCP
# lease, cable instead of Wi-Fi): it moves its connection to the new
# address (QUIC connection migration). c2 and a Go client sit behind a NAT
# router whose public address changes and whose conntrack table is flushed
# (NAT rebinding): the hub follows them to the new address. Each time at
# most 1 s of pings (at 0.1 s) is lost, the session keeps its id and VIP,
# and the hub shows the new remote address.
#
#   c1 192.0.2.11 -> .31 ---+
#   hub 192.0.2.1 ----------+-- br0
#   rt  192.0.2.50 to .65 --+
#    | snat to .50, then .51, then to .52 ... .65 in quick succession
#    +-- 198.51.100.1 --- c2 198.51.100.2
#    +-- 203.0.113.1 ---- go 203.0.113.2 (the Go peer's client)
. "$(dirname "$0")/lib.sh"
command -v conntrack >/dev/null || skip "needs conntrack"
command -v nft >/dev/null || skip "needs nft"
build_gopeer

topo 1
nsx c1 sysctl -qw net.ipv4.conf.all.promote_secondaries=1 net.ipv4.conf.eth0.promote_secondaries=1
attach rt 192.0.2.50
ip -n "$RUN-rt" addr add 192.0.2.51/24 dev eth0
nsx rt sysctl -qw net.ipv4.ip_forward=1
leg c2 198.51.100.1 198.51.100.2
leg go 203.0.113.1 203.0.113.2
snat_to() {
	nsx rt nft -f - <<NFT
table ip roam
delete table ip roam
table ip roam {
	chain post {
		type nat hook postrouting priority 100;
		oifname "eth0" snat to $1
	}
}
NFT
}
snat_to 192.0.2.50 || fail "cannot set up the NAT"

start_hub
timeout 120 "$SLOPNCTL" --socket "$TMP/hub.sock" monitor > "$TMP/events.txt" &
PIDS+=($!)
start_client c1
wait_connected c1 10.100.0.2
start_client c2
wait_connected c2 10.100.0.3
SLOPND=$TMP/gopeer start go -mode client -addr 192.0.2.1:4242 -token s3cret -tun slopn0 -mtu 1200
wait_until 10 "the Go client's session" hub_session 10.100.0.4
for n in c1 c2 go; do wait_ping "$n" 10.100.0.1 5; done

# session VIP: "ID REMOTE" of the hub's session with that VIP
session() { ctl --json sessions list | jq -r --arg v "$1" '.sessions[] | select(.vip == $v) | "\(.id) \(.remote)"'; }
read -r id1 remote1 <<< "$(session 10.100.0.2)"
read -r id2 remote2 <<< "$(session 10.100.0.3)"
read -r id3 remote3 <<< "$(session 10.100.0.4)"
[[ $remote1 == 192.0.2.11:* && $remote2 == 192.0.2.50:* && $remote3 == 192.0.2.50:* ]] ||
	fail "unexpected remotes before: $remote1 $remote2 $remote3"
# A client that logged in again would be connected since later.
since1=$(client_status c1 since) since2=$(client_status c2 since)

# pings NAME...: 40 pings at 0.1 s from each, in the background
PINGS=()
pings() {
	PINGS=()
	for n in "$@"; do
		nsx "$n" ping -c 40 -i 0.1 -W 1 10.100.0.1 > "$TMP/ping-$n.txt" 2>&1 &
		PIDS+=($!) PINGS+=($!)
	done
}
lost() { echo $((40 - $(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMP/ping-$1.txt"))); }

# --- c1's address changes.
pings c1
sleep 1
ip -n "$RUN-c1" addr add 192.0.2.31/24 dev eth0
ip -n "$RUN-c1" addr del 192.0.2.11/24 dev eth0
wait "${PINGS[@]}"
read -r id remote <<< "$(session 10.100.0.2)"
expect_eq "c1's session after its address changed" "$id" "$id1"
[[ $remote == 192.0.2.31:* ]] || fail "the hub shows c1 at $remote, not at 192.0.2.31"
ok "the hub shows c1 at its new address $remote"
n=$(lost c1)
[ "$n" -le 10 ] || fail "c1 lost $n of 40 pings (0.1 s apart) while moving"
ok "c1 lost $n of 40 pings while moving to another address"
expect_eq "c1 connected since (no new login)" "$(client_status c1 since)" "$since1"
wait_log c1 "moved: 192.0.2.11:[0-9]+ -> 192.0.2.31:[0-9]+, same session" 1

# --- The NAT rebinds c2 and the Go client to another address and port.
pings c2 go
sleep 1
snat_to 192.0.2.51 || fail "cannot change the NAT"
nsx rt conntrack -D -p udp > /dev/null 2>&1
wait "${PINGS[@]}"
for v in "10.100.0.3 $id2 c2" "10.100.0.4 $id3 go"; do
	read -r vip want name <<< "$v"
	read -r id remote <<< "$(session "$vip")"
	expect_eq "$name's session after the NAT rebound" "$id" "$want"
	[[ $remote == 192.0.2.51:* ]] || fail "the hub shows $name at $remote, not at 192.0.2.51"
	n=$(lost "$name")
	[ "$n" -le 10 ] || fail "$name lost $n of 40 pings (0.1 s apart) while its NAT rebound"
	ok "$name: same session, hub shows $remote, $n of 40 pings lost"
done
expect_eq "c2 connected since (no new login)" "$(client_status c2 since)" "$since2"
[ "$(grep -c "gopeer: connected" "$TMP/go.log")" = 1 ] || fail "the Go client logged in again"
expect_eq "session.moved events" "$(grep -c 'session.moved' "$TMP/events.txt")" 3
ok "session.moved: one event for each of the three moves"

# A NAT that rebinds again and again (or whoever rewrites c2's source
# address): each time the session moves, and the hub logs at most 10 such
# lines a minute for it (a line for each move let a client flood the log).
# Each time to an address not used before: ngtcp2 0.12, once a move is
# validated, checks the address left behind for three probe timeouts and
# does not follow the client back to it meanwhile (c2, back at 192.0.2.50
# within that, heard nothing for 2 s under the sanitizers and logged in
# again).
for i in $(seq 52 65); do ip -n "$RUN-rt" addr add "192.0.2.$i/24" dev eth0; done
nsx c2 ping -q -i 0.05 -w 20 10.100.0.1 > /dev/null &
PIDS+=($!)
moves0=$(grep -c 'session.moved' "$TMP/events.txt")
for i in $(seq 14); do
	to=$((51 + i))
	snat_to "192.0.2.$to" || fail "cannot change the NAT"
	nsx rt conntrack -D -p udp > /dev/null 2>&1
	c2_at() { [[ $(session 10.100.0.3) == "$id2 192.0.2.$to:"* ]]; }
	t0=$(now_ms)
	until c2_at; do
		[ $(($(now_ms) - t0)) -le 5000 ] && { nap 0.1; continue; }
		# What each side saw, for a failure seen once under the
		# sanitizers (c2 heard nothing for 2 s and logged in again).
		echo "the hub's sessions: $(session 10.100.0.3; session 10.100.0.4)"
		echo "c2: connected $(client_status c2 connected), last error: $(client_status c2 last_error)"
		nsx rt conntrack -L -p udp 2>/dev/null
		fail "c2's session at 192.0.2.$to (rebinding $i): not within 5 s"
	done
done
# Its move with the NAT's first rebinding, above, was in the same minute.
expect_eq "log lines for c2's 15 moves within a minute" "$(grep -c "session $id2 moved:" "$TMP/hub.log")" 10
grep "session $id2 moved:" "$TMP/hub.log" | tail -n 1 |
	grep -q "; more this minute are counted, not logged$" || fail "the 10th line does not say that more are not logged"
n=$(($(grep -c "session.moved" "$TMP/events.txt") - moves0)); [ "$n" -ge 14 ] || fail "$n session.moved events for 14 moves: $(tail -n 5 "$TMP/events.txt")"
expect_eq "c2 connected since (no new login)" "$(client_status c2 since)" "$since2"
ok "15 moves of c2's session in a minute: 10 log lines, an event each, the same session"
