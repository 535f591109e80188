#!/bin/bash
# Two machines with one client id (a machine cloned with its state
# directory): without care each login replaces the other's session, a
# second apart, for ever, on one address. The hub tells them apart from a
# client that restarted (the session to replace is alive, and took over
# from the newcomer's address moments ago), says so, and gives the second
# an address of its own: both stay connected and reach each other. A
# restart of one of them (kill -9) still takes over its own session, also
# three times within a minute under traffic (each run says it is new).
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip "needs jq"
topo 2
start_hub
start_monitor
start_client c1
wait_connected c1 10.100.0.2
mkdir -p "$TMP/c2-state"
cp "$TMP/c1-state/client-slopn0.id" "$TMP/c2-state/"
start c2 client --server 192.0.2.1:4242 --token s3cret
wait_event client.twin ".params.client_id == \"$(cat "$TMP/c1-state/client-slopn0.id")\""
wait_until 10 "both connected" sh -c "[ \"\$(\"$SLOPNCTL\" --socket $TMP/hub.sock --json sessions list | jq '.sessions | length')\" = 2 ]"
wait_until 10 "c1 connected" client_is c1 connected true
wait_until 10 "c2 connected" client_is c2 connected true
V1=$(client_status c1 vip) S1=$(client_status c1 since)
V2=$(client_status c2 vip) S2=$(client_status c2 since)
[ "$V1" != "$V2" ] || fail "both clients have $V1"
sleep 5 # long enough for a few rounds of the replacing there used to be
expect_eq "c1's connection 5 s later" "$(client_status c1 since) $(client_status c1 vip)" "$S1 $V1"
expect_eq "c2's connection 5 s later" "$(client_status c2 since) $(client_status c2 vip)" "$S2 $V2"
expect_eq "the hub's sessions" "$(ctl --json sessions list | jq -r '[.sessions[].vip] | sort | join(" ")')" \
	"$(printf '%s\n' "$V1" "$V2" | sort | tr '\n' ' ' | sed 's/ $//')"
nsx c1 ping -c 3 -i 0.2 -W 2 "$V2" >/dev/null || fail "c1 cannot reach c2"
ok "two clients with one id: both connected, $V1 and $V2, stable for 5 s"

# A crash of the one that kept the id: its restart takes its session over.
ID=$(cat "$TMP/c1-state/client-slopn0.id")
idof() { ctl --json sessions list | jq -r --arg v "$1" '.sessions[] | select(.vip == $v) | .client_id'; }
expect_eq "the ids the hub holds" "$(idof "$V1") $(idof "$V2")" \
	"$( [ "$(idof "$V1")" = null ] && echo "null $ID" || echo "$ID null")"
HOLDER=c1 OTHER=c2
[ "$(idof "$V2")" = "$ID" ] && HOLDER=c2 OTHER=c1
HV=$(client_status $HOLDER vip)
# crash_restart N: the holder killed and started again; it gets $HV back.
crash_restart() {
	kill9 $HOLDER
	mv "$TMP/$HOLDER.log" "$TMP/$HOLDER-crash$1.log"
	start $HOLDER client --server 192.0.2.1:4242 --token s3cret
	wait_connected $HOLDER "$HV" 5
	expect_eq "sessions after restart $1" "$(ctl --json status | jq .sessions)" 2
}
crash_restart 1
nsx $OTHER ping -c 3 -i 0.2 -W 2 "$HV" >/dev/null || fail "$OTHER cannot reach $HOLDER after its restart"
ok "$HOLDER, killed and restarted, took its own session over (its address $HV back at once)"

# And again within the minute, under traffic (its old session heard just
# before): each restart is a new run of the client, not a second machine.
nsx $OTHER ping -i 0.2 -W 1 "$HV" > /dev/null 2>&1 &
PIDS+=($!)
for i in 2 3; do
	sleep 1
	crash_restart $i
done
expect_eq "client.twin events" "$(jq -c 'select(.method == "client.twin")' "$TMP/events.txt" | wc -l)" 1
expect_eq "the holder's id" "$(idof "$HV")" "$ID"
ok "$HOLDER, killed twice more within a minute, took its session over each time"
