#!/bin/bash
# The config file, and SIGHUP: settings come from /etc/slopn/slopnd.conf-style
# "key = value" lines (flags win), and a reload applies a new token without
# dropping the sessions that are up.
. "$(dirname "$0")/lib.sh"
topo 3
cat > "$TMP/slopnd.conf" <<CONF
# the hub of this test
listen = 192.0.2.1:4242
token = alpha
no_spoke_to_spoke = yes
state-dir = $TMP/hub-state
CONF
start hub server --config "$TMP/slopnd.conf" --control "$TMP/hub.sock" --tun slopn0
wait_hub
command -v jq >/dev/null || skip "needs jq"
expect_eq "listen from the file" "$(ctl --json status | jq -r .listen)" 192.0.2.1:4242
expect_eq "no_spoke_to_spoke = yes from the file" "$(ctl --json status | jq .spoke_to_spoke)" false
ok "settings from the config file"

TOKEN=alpha start_client c1
wait_connected c1 10.100.0.2
nsx c1 ping -c 1 -W 2 10.100.0.1 >/dev/null || fail "no tunnel before the reload"

sed -i 's/^token = alpha$/token = beta/; s/^no_spoke_to_spoke = yes$/no_spoke_to_spoke = no/' "$TMP/slopnd.conf"
kill -HUP "$(pid_of hub)"
spoke_on() { [ "$(ctl --json status | jq .spoke_to_spoke)" = true ]; }
wait_until 5 "spoke-to-spoke on after the reload" spoke_on
ok "SIGHUP reloaded the file"
nsx c1 ping -c 3 -i 0.2 -W 2 10.100.0.1 >/dev/null || fail "c1's tunnel broke on reload"
expect_eq "session ids after the reload" "$(ctl --json sessions list | jq -c '[.sessions[].id]')" "[1]"

TOKEN=beta start_client c2
wait_connected c2 10.100.0.3
ok "the new token logs in"
TOKEN=alpha start_client c3
wait "$(pid_of c3)"; rc=$?
[ $rc -ne 0 ] || fail "the old token still logs in"
grep -q "Invalid authentication token" "$TMP/c3.log" || fail "no refusal for the old token"
ok "the old token is refused"
# A client configured only by a file, as slopnd-client@.service runs it.
cat > "$TMP/client-c3.conf" <<CONF
server = 192.0.2.1:4242
token = beta
tun = cfg0
CONF
start c3:cfg client --config "$TMP/client-c3.conf"
wait_connected c3:cfg 10.100.0.4
ok "a client from its config file alone"
nsx c1 ping -c 2 -i 0.2 -W 2 10.100.0.3 >/dev/null || fail "spoke-to-spoke still off after reload"
ok "spoke-to-spoke turned on by the reload"

# A broken file on reload: an error naming file, line and key; the hub runs on.
echo "mtu = huge" >> "$TMP/slopnd.conf"
kill -HUP "$(pid_of hub)"
wait_log hub "slopnd.conf:[0-9]+: mtu 'huge': must be 576..1400" 5
# reload_said REGEX: what the last reload kept back, as status says it.
reload_said() { ctl --json status | jq -r '.reload.error // ""' | grep -Eq -- "$1"; }
wait_until 5 "status naming the bad file" reload_said "slopnd.conf:[0-9]+: mtu 'huge': must be 576..1400: keeping the running settings"
nsx c1 ping -c 1 -W 2 10.100.0.1 >/dev/null || fail "hub stopped carrying traffic after a bad reload"
ok "a bad file on reload is reported and ignored"

# Both tokens.json and the config bad at one SIGHUP: status keeps both
# reasons (it kept the config's only).
# One token in memory: "the 1 token", and what to do about the file.
tokens=$TMP/hub-state/tokens.json
ctl token add one > /dev/null || fail "token add one"
[ -e "$tokens" ] && cp "$tokens" "$TMP/tokens.json.good"
printf '{"version":1,"tokens":[{' > "$tokens"
kill -HUP "$(pid_of hub)"
wait_until 5 "status naming both bad files" reload_said \
	"^$tokens: .+; keeping the 1 token in memory: fix the file, then reload the hub again \\(systemctl reload slopnd, or SIGHUP\\); .*slopnd\.conf:[0-9]+: mtu 'huge': must be 576\.\.1400: keeping the running settings\$"
if [ -e "$TMP/tokens.json.good" ]; then mv "$TMP/tokens.json.good" "$tokens"; else rm "$tokens"; fi
nsx c1 ping -c 1 -W 2 10.100.0.1 >/dev/null || fail "hub stopped carrying traffic after a reload with two bad files"
ok "tokens.json and the config bad at one reload: both reasons in status"

# The file replaced by a FIFO: the reload refuses it at once (its open
# waited for a writer, in the event loop: no answer to slopnctl then).
mv "$TMP/slopnd.conf" "$TMP/slopnd.conf.real"
mkfifo "$TMP/slopnd.conf"
kill -HUP "$(pid_of hub)"
wait_log hub "reload: config $TMP/slopnd.conf is not a file \(a device, pipe or socket\)" 5
expect_eq "the reload's error in status, the config a FIFO" "$(timeout 5 "$CTL_BIN" --socket "$TMP/hub.sock" --json status | jq -r .reload.error)" \
	"config $TMP/slopnd.conf is not a file (a device, pipe or socket): give the file of settings: keeping the running settings"
rm "$TMP/slopnd.conf"
mv "$TMP/slopnd.conf.real" "$TMP/slopnd.conf"
ok "a FIFO as the config on reload is refused, the hub answers on"

# The shared token taken out of the file: its leases go, as a removed
# token's do (they held their addresses until the next start, which drops
# them). The sessions that are up stay. Then it is put back.
sed -i '/^mtu = huge$/d' "$TMP/slopnd.conf"
cp "$TMP/slopnd.conf" "$TMP/slopnd.conf.with-token"
shared_leases() { jq '[.leases[] | select(.token == "shared")] | length' "$TMP/hub-state/leases.json" 2>/dev/null; }
some_shared() { [ "$(shared_leases)" -ge 1 ] 2>/dev/null; }
no_shared() { [ "$(shared_leases)" = 0 ]; }
wait_until 5 "leases of the shared token on disk" some_shared
sed -i '/^token = /d' "$TMP/slopnd.conf"
kill -HUP "$(pid_of hub)"
wait_until 5 "no lease of the shared token on disk after it went" no_shared
expect_eq "sessions after the shared token went" "$(hub_sessions)" 3
ok "the shared token gone from the file: its leases gone, its sessions up"
cp "$TMP/slopnd.conf.with-token" "$TMP/slopnd.conf"
kill -HUP "$(pid_of hub)"
shared_back() { [ "$(ctl --json token list | jq '[.tokens[] | select(.shared)] | length')" = 1 ]; }
wait_until 5 "the shared token back" shared_back

# The default file, /etc/slopn/slopnd.conf, read when there is no --config:
# moved aside, a SIGHUP keeps the running settings (it was read as empty:
# the shared token gone, spoke-to-spoke back on, and "reloaded"). The hub
# runs in a mount namespace of its own whose /etc is an overlay, so that
# the machine's /etc is not touched.
stop hub
mkdir -p "$TMP/etc-up/slopn" "$TMP/etc-work"
sed 's/^no_spoke_to_spoke = no$/no_spoke_to_spoke = yes/' "$TMP/slopnd.conf" | grep -v '^mtu' \
	> "$TMP/etc-up/slopn/slopnd.conf"
chmod 600 "$TMP/etc-up/slopn/slopnd.conf"
START_WITH=(unshare -m --propagation private sh -c 'mount -t overlay etc -o "lowerdir=/etc,upperdir=$0/etc-up,workdir=$0/etc-work" /etc && exec "$@"' "$TMP")
start hub:dflt server --control "$TMP/hub.sock" --tun slopn0
START_WITH=()
wait_hub
expect_eq "no_spoke_to_spoke = yes from /etc/slopn/slopnd.conf" "$(ctl --json status | jq .spoke_to_spoke)" false
nsenter -t "$(pid_of hub:dflt)" -m mv /etc/slopn/slopnd.conf /etc/slopn/slopnd.conf.old ||
	fail "cannot move the hub's /etc/slopn/slopnd.conf aside"
kill -HUP "$(pid_of hub:dflt)"
wait_until 5 "status naming the file gone" reload_said "^/etc/slopn/slopnd.conf is not there any more: keeping the running settings"
expect_eq "spoke-to-spoke after a reload without the default file" "$(ctl --json status | jq .spoke_to_spoke)" false
expect_eq "the shared token after a reload without the default file" \
	"$(ctl --json token list | jq '[.tokens[] | select(.shared)] | length')" 1
ok "the default file moved aside: the reload keeps its settings, the shared token among them"
stop hub:dflt
echo "PASS"
