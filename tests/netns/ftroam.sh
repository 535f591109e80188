#!/bin/bash
# A full-tunnel client that moves to another network (Wi-Fi off, cable in)
# keeps its session: its host route to the hub went with the network it
# left, and the /1 routes would take the hub into the TUN itself; the
# client puts the host route back through the new network and moves its
# connection there (same session, same VIP), losing at most 1 s of pings.
# After a while without any network, its routes come back with the next.
# ftroam_ks.sh runs it all again with --kill-switch.
#
#   hub 192.0.2.1 -- br0 -- rta 192.0.2.50 -- 198.51.100.1 --- eth0 198.51.100.2 c1
#                       \-- rtb 192.0.2.51 -- 203.0.113.1 ---- eth1 203.0.113.2 c1 (down at first)
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
uplinks
start_hub
start c1 client --server 192.0.2.1:4242 --token s3cret --full-tunnel ${FTROAM_ARGS:-}
wait_connected c1 10.100.0.2
expect_eq "c1's full tunnel" "$(client_status c1 full_tunnel)" true
expect_eq "the way to the hub" "$(nsx c1 ip -o route get 192.0.2.1 | awk '{print $3, $5}')" "198.51.100.1 eth0"
ID=$(ctl --json sessions list | jq '.sessions[0].id')

# A change that leaves the way to the hub as it was (an address on another
# link: a container's veth, a lease renewed) makes the client look again,
# but its routes stay: taking them down and up would let traffic out
# beside the tunnel for that moment.
nsx c1 ip monitor route > "$TMP/routes.txt" 2>&1 &
PIDS+=($!)
monitoring() { # a route of its own, added and removed, seen
	ip -n "$RUN-c1" route add 203.0.113.99/32 dev eth0
	ip -n "$RUN-c1" route del 203.0.113.99/32 dev eth0
	grep -q "^Deleted 203.0.113.99" "$TMP/routes.txt"
}
wait_until 5 "the route monitor running" monitoring
ip -n "$RUN-c1" link add x0 type veth peer name x1
ip -n "$RUN-c1" addr add 203.0.113.200/32 dev x0
ip -n "$RUN-c1" link set x0 up
ip -n "$RUN-c1" link del x0
sleep 1 # the client's look happens 20 ms after the last event; nothing may follow
grep -E '^Deleted (0\.0\.0\.0/1|128\.0\.0\.0/1|192\.0\.2\.1 )' "$TMP/routes.txt" &&
	fail "the full tunnel's routes went and came back for a change elsewhere"
expect_eq "c1's full tunnel after a change elsewhere" "$(client_status c1 full_tunnel)" true
ok "an address on another link left the full tunnel's routes in place"

# A cable plugged in beside the Wi-Fi, its default route the better (metric
# 100 against 600): the machine's own routes now go by the cable, and so
# does the client, its session with it, though the host route it pinned
# through the Wi-Fi still worked (and kept it there, without its look at
# the machine's own routes): that route is replaced, the tunnel's stay.
# Then back as it was: the cable out.
way_is() { [ "$(nsx c1 ip -o route get 192.0.2.1 | awk '{print $3, $5}')" = "$1" ]; }
remote_is() { [ "$(ctl --json sessions list | jq -r '.sessions[0].remote | sub(":[0-9]+$"; "")')" = "$1" ]; }
seen=$(wc -l < "$TMP/routes.txt")
ip -n "$RUN-c1" route add default via 198.51.100.1 metric 600
ip -n "$RUN-c1" route del default via 198.51.100.1 metric 0
ip -n "$RUN-c1" link set eth1 up
ip -n "$RUN-c1" route add default via 203.0.113.1 metric 100
wait_until 5 "the way to the hub by the cable" way_is "203.0.113.1 eth1"
wait_until 5 "c1's session from the cable's address" remote_is 203.0.113.2
# The host route moved over in one step: the /1 routes never went (nothing
# left beside the tunnel meanwhile).
tail -n +$((seen + 1)) "$TMP/routes.txt" | grep -E '^Deleted (0\.0\.0\.0/1|128\.0\.0\.0/1)' &&
	fail "the full tunnel's routes went and came back for a better way to the hub"
expect_eq "the hub's session with the cable in: id, VIP" \
	"$(ctl --json sessions list | jq -r '.sessions[] | "\(.id) \(.vip)"')" "$ID 10.100.0.2"
expect_eq "c1's full tunnel with the cable in" "$(client_status c1 full_tunnel)" true
ip -n "$RUN-c1" link set eth1 down
ip -n "$RUN-c1" route add default via 198.51.100.1
ip -n "$RUN-c1" route del default via 198.51.100.1 metric 600
wait_until 5 "the way to the hub by the Wi-Fi again" way_is "198.51.100.1 eth0"
wait_until 5 "c1's session from the Wi-Fi's address again" remote_is 198.51.100.2
ok "a better way plugged in beside the pinned one is taken, the session with it ($ID)"

# The move, under pings every 5 ms that make full-size QUIC packets: the
# way into the TUN (of its MTU) refuses them, which is not to be taken for
# a narrower path.
nsx c1 ping -i 0.005 -c 600 -W 1 -s 1252 10.100.0.1 > "$TMP/ping.txt" 2>&1 &
PING=$!
PIDS+=($PING)
sleep 1
ip -n "$RUN-c1" link set eth0 down
ip -n "$RUN-c1" link set eth1 up
ip -n "$RUN-c1" route add default via 203.0.113.1
wait "$PING"
lost=$(( 600 - $(grep -c 'bytes from' "$TMP/ping.txt") ))
[ "$lost" -le 200 ] || fail "$lost of 600 pings (5 ms apart) lost in the move"
expect_eq "the way to the hub after the move" "$(nsx c1 ip -o route get 192.0.2.1 | awk '{print $3, $5}')" "203.0.113.1 eth1"
expect_eq "the hub's session after the move: id, VIP, where" \
	"$(ctl --json sessions list | jq -r '.sessions[] | "\(.id) \(.vip) \(.remote | sub(":[0-9]+$"; ""))"')" \
	"$ID 10.100.0.2 203.0.113.2"
expect_eq "c1's full tunnel after the move" "$(client_status c1 full_tunnel)" true
expect_eq "an address beyond the VPN goes" "$(nsx c1 ip -o route get 192.0.2.77 | awk '{print $3}')" slopn0
ok "c1 moved with its full tunnel: same session $ID, $lost of 600 pings lost"

# A while without any network (Wi-Fi lost, nothing else): the full tunnel's
# routes cannot stay (they would take the hub into the TUN) and come back,
# with the host route through the next network, the session still the same.
ip -n "$RUN-c1" link set eth1 down
wait_until 5 "c1's full tunnel down without a network" client_is c1 full_tunnel false
# The moment the next network comes, before the client's routes follow:
# what is sent then leaves beside the tunnel, through that network, unless
# the kill switch is in (ftroam_ks.sh asserts that none did). rta counts
# what reaches it from c1 for 192.0.2.77, which c1 sends to every 2 ms.
nsx rta nft -f - <<'NFT' || fail "nft refused the counting rule"
table ip leak {
	chain seen {
		type filter hook forward priority 0;
		iifname "leg" ip daddr 192.0.2.77 counter
	}
}
NFT
beside() { nsx rta nft list chain ip leak seen | grep -o 'packets [0-9]*' | cut -d' ' -f2; }
send_beside() { # SECONDS: UDP to 192.0.2.77:9 every 2 ms, errors (no route) ignored
	nsx c1 python3 -c '
import socket, sys, time
s, end = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    try: s.sendto(b"leak?", ("192.0.2.77", 9))
    except OSError: pass
    time.sleep(0.002)' "$1"
}
send_beside 3 &
SENDER=$!
PIDS+=($SENDER)
sleep 2
# c1 held still for 300 ms as the network comes: the gap its routes take
# to follow is then long enough to show (some 150 packets) whatever the
# machine's load, and ftroam_ks.sh's 0 means the kill switch kept them in.
kill -STOP "$(pid_of c1)"
ip -n "$RUN-c1" link set eth0 up
ip -n "$RUN-c1" route add default via 198.51.100.1
sleep 0.3
kill -CONT "$(pid_of c1)"
wait_until 5 "c1's full tunnel back" client_is c1 full_tunnel true
wait "$SENDER"
BESIDE=$(beside)
[ -n "${FTROAM_ARGS:-}" ] || [ "$BESIDE" -gt 20 ] ||
	fail "$BESIDE packets beside the tunnel in the gap without a kill switch: ftroam_ks.sh's 0 would prove nothing"
wait_ping c1 10.100.0.1 5
expect_eq "the way to the hub after the gap" "$(nsx c1 ip -o route get 192.0.2.1 | awk '{print $3, $5}')" "198.51.100.1 eth0"
expect_eq "an address beyond the VPN goes, after the gap" "$(nsx c1 ip -o route get 192.0.2.77 | awk '{print $3}')" slopn0
expect_eq "the hub's session after the gap: id, VIP, where" \
	"$(ctl --json sessions list | jq -r '.sessions[] | "\(.id) \(.vip) \(.remote | sub(":[0-9]+$"; ""))"')" \
	"$ID 10.100.0.2 198.51.100.2"
ok "c1's full tunnel came back after 2 s without a network, same session $ID ($BESIDE packets went beside the tunnel as the network came)"
