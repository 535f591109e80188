#!/bin/bash
# What others make the hub write to its log stays within its budgets, and
# what is held back is counted and said. A client with a right token that
# logs in again and again (here from 12 addresses, each connection closed
# 100 ms after its handshake: a few hundred logins a second) had 2 lines a
# login ("up", "down"), some 500 lines a second from 72 addresses, past
# journald's rate limit, which then drops the hub's other lines too. Now
# the first 10 logins a minute from an address have their lines; the rest
# are counted (slopnctl status: log_suppressed, both lines of each) and
# summed up in one line an address once its minute is over, though no
# more come (before, such a summary came only with the next line of its
# kind: a flood that stopped was never summed up). The hub's minute is
# made 8 s here (SLOPND_TEST_LOG_MINUTE).
. "$(dirname "$0")/lib.sh"
topo 2
export SLOPND_TEST_LOG_MINUTE=8
start_hub
flood_from 100 111
login='{"type":"login_request","token":"s3cret","client_version":"logflood","os":"linux"}'
flood c1 "${from[@]}" --count 24 --duration 4 --rate 200 --relogin 100 --idle-timeout 2000 \
	--login "$login" > "$TMP/loop.json"
logins=$(jq .handshakes "$TMP/loop.json")
ups=$(grep -c ' up: token shared' "$TMP/hub.log")
downs=$(grep -c 'session [0-9]* down: ' "$TMP/hub.log")
ok "$logins logins from 12 addresses in 4 s: $ups 'up' lines, $downs 'down' lines"
expect_eq "'up' lines: at most 10 an address" "$((ups <= 120))" 1
expect_eq "the flood logged in more often than that (else this test proves nothing)" \
	"$((logins > 2 * ups))" 1
expect_eq "'down' lines only of sessions with an 'up' line" "$((downs <= ups))" 1
expect_eq "the last of an address's lines says so" \
	"$(grep -c 'more logins from its address this minute are counted, not logged' "$TMP/hub.log")" 12

# Every session ends (the flood's idle timeout), then each address's minute:
# one line an address sums it up, with nothing else coming.
hub_no_sessions() { [ "$(ctl --json status | jq .sessions)" = 0 ]; }
wait_until 10 "every session of the flood ended" hub_no_sessions
summaries() { grep -c 'more logins from 192\.0\.2\.[0-9]* in the last minute were not logged' "$TMP/hub.log"; }
summed_up() { [ "$(summaries)" = 12 ]; }
wait_until 15 "a summary line for each of the 12 addresses" summed_up
unsaid=$(grep -o '[0-9]* more logins from 192\.0\.2\.[0-9]* in the last minute' "$TMP/hub.log" |
	awk '{n += $1} END {print n + 0}')
expect_eq "held back: both lines of each login without its lines, in slopnctl status" \
	"$(ctl --json status | jq .log_suppressed)" "$((2 * unsaid))"
expect_eq "metrics say the same" "$(metric slopn_log_suppressed_total)" "$((2 * unsaid))"
expect_eq "every login was an 'up' line or held back" "$((ups + unsaid >= logins - 24))" 1
ok "$unsaid logins held back, summed up in 12 lines"

# One client id in a loop from one address: every other login found the
# last one alive and was told a twin (a warning of 200 bytes, some 5 a
# second from 3 connections). Those warnings are the login's lines too.
ip -n "$RUN-c1" addr add 192.0.2.120/24 dev eth0
before=$(ctl --json status | jq .log_suppressed)
flood c1 --from 192.0.2.120 --count 3 --duration 6 --rate 200 --relogin 300 --idle-timeout 2000 \
	--login '{"type":"login_request","token":"s3cret","client_version":"logflood","os":"linux","client_id":"loop"}' \
	> "$TMP/twin.json"
twins=$(grep -c 'from 192\.0\.2\.120:[0-9]*: client id loop is in use' "$TMP/hub.log")
ok "$(jq .handshakes "$TMP/twin.json") logins of one client id: $twins twin warnings"
expect_eq "twin warnings: only those of the 10 logins with lines" "$((twins <= 10))" 1
expect_eq "the others held back, counted" "$(($(ctl --json status | jq .log_suppressed) > before))" 1
