#!/bin/bash
# Addresses that stay with a client, IPv4 and IPv6: a full /29 (5 client addresses) with 7
# clients refuses the last two cleanly; a client killed with -9 and
# restarted takes over its stale session at once and gets its address
# back; the pool's only address left free by a client that is away goes
# to a newcomer; a hub killed with -9 and restarted gives every client its
# address back (leases.json), a newcomer meanwhile none of theirs; a damaged leases.json does not stop it, and
# one that cannot be read is kept, not saved over.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 7
ns_ipv6 hub c1 c2 c3 c4 c5 c6 c7
start_hub --subnet 10.100.0.0/29 --subnet6 fd00:1:2:3::/64
start_monitor
connect_clients 5
vips() { ctl --json sessions list | jq -r '[.sessions[] | .vip + "," + .vip6] | sort | join(" ")'; }
vip_of() { echo "$(client_status "$1" vip) $(client_status "$1" vip6)"; }
ALL="10.100.0.2,fd00:1:2:3::2 10.100.0.3,fd00:1:2:3::3 10.100.0.4,fd00:1:2:3::4 10.100.0.5,fd00:1:2:3::5 10.100.0.6,fd00:1:2:3::6"
expect_eq "VIPs of five clients" "$(vips)" "$ALL"

# The 6th and 7th: refused with code 2, the message saying why; nobody's
# session moves.
for c in c6 c7; do
	start_client "$c"
	wait_until 10 "$c refused for a full pool" client_said "$c" \
		"login refused by hub: Address pool exhausted: 10.100.0.0/29 holds 5 clients \(error code 2, pool exhausted\)"
done
for c in c6 c7; do
	[ "$(client_status $c connected)" = false ] || fail "$c got an address"
done
expect_eq "VIPs with two clients refused" "$(vips)" "$ALL"
ok "a /29 with 7 clients: the last two refused cleanly"
kill "$(pid_of c6)" "$(pid_of c7)"

# kill -9 of c3: its session stays until the idle timeout (30 s), holding
# 10.100.0.4 in a full pool. Restarted with its state directory, c3 takes
# it over at once.
kill9 c3
mv "$TMP/c3.log" "$TMP/c3-first.log"
SECONDS=0
start_client c3 --state-dir "$TMP/c3-state"
wait_connected c3 10.100.0.4 5
expect_eq "c3's IPv6 address" "$(client_status c3 vip6)" fd00:1:2:3::4
echo "c3 back on 10.100.0.4 after $SECONDS s"
wait_event session.down '.params.id == 3 and .params.reason == "replaced by a new login of the same client"'
expect_eq "sessions after the takeover" "$(ctl --json status | jq .sessions)" 5
expect_eq "VIPs after the takeover" "$(vips)" "$ALL"
ok "a client killed with -9 and restarted takes over its stale session with its two addresses"

# c2 leaves: its lease keeps 10.100.0.3 for it, but in a full pool the
# address of the client away longest goes to a newcomer.
kill "$(pid_of c2)"
wait_event session.down '.params.vip == "10.100.0.3"'
start_client c6
wait_connected c6 10.100.0.3
ok "a full pool: the address of a client that is away goes to a newcomer"

# The hub dies and comes back with its state: every client gets its
# address again. Wait until the leases on disk are those of now.
want=$(vips)
# Each client's id (from its state directory) with its addresses now, and
# as leases.json has them: the same once the hub has saved.
leases_now() {
	for c in c1 c3 c4 c5 c6; do
		echo "$(cat "$TMP/$c-state/client-slopn0.id") $(client_status "$c" vip) $(client_status "$c" vip6)"
	done | sort
}
leases_disk() {
	jq -r '.leases[] | .client_id + " " + .vip + " " + .vip6' "$TMP/hub-state/leases.json" 2>/dev/null | sort
}
leases_saved() { [ "$(leases_disk)" = "$(leases_now)" ]; }
wait_until 5 "leases.json as the clients are now" leases_saved
ok "leases on disk: each client's id with its two addresses"
expect_eq "leases.json mode" "$(stat -c %a "$TMP/hub-state/leases.json")" 600
before=$(for c in c1 c3 c4 c5 c6; do echo "$c $(vip_of "$c")"; done)
# c1 is away while the hub restarts; a newcomer meanwhile is refused, not
# given c1's address: for a minute after a start the last run's clients
# are on their way back.
kill -STOP "$(pid_of c1)"
kill9 hub
mv "$TMP/hub.log" "$TMP/hub-first.log"
start_hub --subnet 10.100.0.0/29 --subnet6 fd00:1:2:3::/64
wait_log hub "5 leases in $TMP/hub-state/leases.json" 1
mv "$TMP/c7.log" "$TMP/c7-first.log"
start_client c7 --state-dir "$TMP/c7-new"
wait_until 10 "c7 refused for a full pool after the restart" client_said c7 \
	"login refused by hub: Address pool exhausted: 10.100.0.0/29 holds 5 clients; [1-5] of its addresses kept [0-9]+ s more for clients of the hub's last run"
kill "$(pid_of c7)"
kill -CONT "$(pid_of c1)"
for _ in $(seq 100); do [ "$(ctl --json status | jq .sessions)" = 5 ] && break; sleep 0.1; done
expect_eq "sessions after the hub's restart" "$(ctl --json status | jq .sessions)" 5
expect_eq "VIPs after the hub's restart" "$(vips)" "$want"
after=$(for c in c1 c3 c4 c5 c6; do echo "$c $(vip_of "$c")"; done)
expect_eq "each client's VIP after the hub's restart" "$after" "$before"
ok "a hub restarted gives its clients their two addresses back"

# A leases.json that cannot be read is not a damaged one (EACCES, EIO;
# here a directory, EISDIR): the hub starts without the leases, but keeps
# the file where it is and saves no leases over it while it runs, and
# status says so; not a first save making every client's lease new.
stop hub
mv "$TMP/hub.log" "$TMP/hub-restarted.log"
mv "$TMP/hub-state/leases.json" "$TMP/leases.json.real"
mkdir "$TMP/hub-state/leases.json"
cp "$TMP/leases.json.real" "$TMP/hub-state/leases.json/inside"
start_hub --subnet 10.100.0.0/29 --subnet6 fd00:1:2:3::/64
wait_log hub "error: $TMP/hub-state/leases.json: cannot read: Is a directory; starting without leases \\(clients get new addresses\\), and the file is kept as it is: no leases are saved over it while the hub runs" 1
wait_until 10 "five sessions after a start with leases.json unreadable" hub_sessions_are 5
ctl --json status | jq -r '.save_errors["leases.json"]' | grep -q "could not be used at the start: cannot read: Is a directory" ||
	fail "leases.json held, in status: $(ctl --json status | jq -c .save_errors)"
expect_eq "the failing-save metric for a held leases.json" \
	"$(metric 'slopn_state_save_failing{file="leases.json"}')" 1
nap 0.5 # past a save (a tenth of a second after a new lease)
# The new leases are lost: an error that names the file and what to do,
# and exit 1, as for a save that fails at exit (it was a warning, and 0).
stop hub 1
grep -q "error: leases not saved at exit: $TMP/hub-state/leases.json is kept as it was at the start, when it could not be used (cannot read: Is a directory); the next run may give clients of this one other addresses (make it readable, or move it away, before the next start)$" \
	"$TMP/hub.log" || fail "no word of the leases not saved: $(tail -n 3 "$TMP/hub.log")"
[ -d "$TMP/hub-state/leases.json" ] || fail "the unreadable leases.json was replaced"
cmp -s "$TMP/leases.json.real" "$TMP/hub-state/leases.json/inside" || fail "what it held changed"
[ -e "$TMP/hub-state/leases.json.bad" ] && fail "an unreadable leases.json was set aside as damaged"
rm -r "$TMP/hub-state/leases.json"
mv "$TMP/leases.json.real" "$TMP/hub-state/leases.json"
mv "$TMP/hub.log" "$TMP/hub-held.log"
start_hub --subnet 10.100.0.0/29 --subnet6 fd00:1:2:3::/64
wait_log hub "5 leases in $TMP/hub-state/leases.json" 1
wait_until 10 "five sessions with leases.json back" hub_sessions_are 5
ok "an unreadable leases.json: kept as it was, no leases saved over it, said in the log and status"

# A damaged leases.json costs the leases, not the hub: it starts without
# them and keeps the file aside. c1 (10.100.0.2) stays away meanwhile, so
# that others get new addresses: each takes its new one in place of the
# old without a moment with none, and keeps a route its administrator
# added through the tunnel (a device left without an address loses them).
before=$(for c in c3 c4 c5 c6; do echo "$c $(client_status "$c" vip)"; done)
kill "$(pid_of c1)"
wait "$(pid_of c1)" 2>/dev/null
for c in c3 c4 c5 c6; do
	ip -n "$RUN-$c" route add 198.51.100.240/32 via 10.100.0.1 dev slopn0
done
kill "$(pid_of hub)"
wait "$(pid_of hub)" 2>/dev/null
mv "$TMP/hub.log" "$TMP/hub-second.log"
printf '{"version":1,"leases":[{"token":"shared",' > "$TMP/hub-state/leases.json"
# A damaged peers.json too (under the sanitizers: freed as well).
printf '{"version":1,"peers":[{' > "$TMP/hub-state/peers.json"
start_hub --subnet 10.100.0.0/29
wait_log hub "warning: $TMP/hub-state/leases.json: line 1 column [0-9]+: .*; starting without leases \\(clients get new addresses\\); the file is now $TMP/hub-state/leases.json.bad" 1
wait_log hub "warning: $TMP/hub-state/peers.json: .*; clients of the last run find out at their next packet" 1
[ -f "$TMP/hub-state/leases.json.bad" ] || fail "the damaged file was not kept"
four() { [ "$(ctl --json status | jq .sessions)" = 4 ]; }
wait_until 10 "four sessions after a start with damaged leases" four
changed=0
for c in c3 c4 c5 c6; do
	wait_until 10 "$c connected" client_connected "$c"
	vip=$(client_status "$c" vip)
	grep -qx "$c $vip" <<< "$before" || changed=$((changed + 1))
	expect_eq "$c's IPv4 addresses on its TUN" "$(nsx "$c" ip -4 -o addr show dev slopn0 | awk '{print $4}')" "$vip/29"
	expect_eq "$c's route through the tunnel" "$(nsx "$c" ip route show 198.51.100.240/32 | xargs)" \
		"198.51.100.240 via 10.100.0.1 dev slopn0"
done
[ "$changed" -ge 1 ] || fail "no client got a new address: $before"
ok "$changed clients with new addresses: each holds only its new one, and the routes through it"
mv "$TMP/c1.log" "$TMP/c1-first.log"
start_client c1
wait_until 10 "c1 back" client_connected c1
expect_eq "sessions after a start with damaged leases" "$(ctl --json status | jq .sessions)" 5
ok "a damaged leases.json: the hub starts without leases and keeps the file aside"

# The same addresses in a wider subnet (the hub again, with a /28 and its
# leases): each client holds its address with the new prefix only, and the
# kernel's route to the /28 alone. To the kernel the same address with
# another prefix is another entry: one left beside it keeps its /29 route.
before=$(for c in c1 c3 c4 c5 c6; do echo "$c $(client_status "$c" vip)"; done)
kill "$(pid_of hub)"
wait "$(pid_of hub)" 2>/dev/null
mv "$TMP/hub.log" "$TMP/hub-third.log"
start_hub --subnet 10.100.0.0/28
wait_until 15 "five sessions on the /28" hub_sessions_are 5
after=""
for c in c1 c3 c4 c5 c6; do
	wait_until 10 "$c connected" client_connected "$c"
	vip=$(client_status "$c" vip)
	after+="$c $vip"$'\n'
	expect_eq "$c's IPv4 addresses on its TUN in a /28" \
		"$(nsx "$c" ip -4 -o addr show dev slopn0 | awk '{print $4}')" "$vip/28"
	expect_eq "$c's subnet route in a /28" \
		"$(nsx "$c" ip -4 -o route show dev slopn0 proto kernel | awk '{print $1}')" 10.100.0.0/28
done
expect_eq "VIPs in the /28" "${after%$'\n'}" "$before"
ok "a hub with a wider subnet: each client keeps its address, with the new prefix and route only"

# A second damaged leases.json is set aside beside the first, not over it.
first_bad=$(cat "$TMP/hub-state/leases.json.bad")
stop hub
mv "$TMP/hub.log" "$TMP/hub-fourth.log"
printf '{"version":1,"leases":[' > "$TMP/hub-state/leases.json"
start_hub --subnet 10.100.0.0/28
wait_log hub "warning: $TMP/hub-state/leases.json: .*; starting without leases \\(clients get new addresses\\); the file is now $TMP/hub-state/leases.json.bad.2$" 1
expect_eq "the first damaged leases.json, kept" "$(cat "$TMP/hub-state/leases.json.bad")" "$first_bad"
expect_eq "the second, beside it" "$(cat "$TMP/hub-state/leases.json.bad.2")" '{"version":1,"leases":['
ok "a second damaged leases.json: set aside as leases.json.bad.2, the first kept"
echo "PASS"
