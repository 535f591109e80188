#!/bin/bash
# The hub's --nat in its iptables form (--nat-backend iptables), with legacy
# iptables as a machine without nf_tables has it: the same forwarding,
# isolation and cleanup as nat.sh's nftables form; renewals without a gap,
# rules put back after an iptables -F, the xtables lock held by another
# program, the default form where nftables refuses, no iptables at all.
#
# The network: nat_topo.sh, with every network nat.sh adds while its hub runs.
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || skip "needs nft (nftables)"
command -v iptables-legacy >/dev/null || skip "needs iptables-legacy (iptables)"
command -v jq >/dev/null || skip "needs jq"

. "$(dirname "$0")/nat_topo.sh"
nat_more_networks

mkdir -p "$TMP/bin"
ln -s "$(command -v iptables-legacy)" "$TMP/bin/iptables"
ipt_rules() { nsx hub iptables-legacy-save | grep -E '^-A|^:SLOPN'; }
IPT0=$(ipt_rules)
# The hub runs with only the capabilities slopnd.service gives it: legacy
# iptables, which the hub runs, needs CAP_NET_RAW besides CAP_NET_ADMIN.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$(dirname "$SLOPND")/slopnd.service")
[ -n "$caps" ] || fail "no CapabilityBoundingSet in the built slopnd.service"
caps=$(echo "$caps" | tr 'A-Z ' 'a-z\n' | sed 's/^cap_/+/' | paste -sd, -)
UNIT_CAPS=(setpriv --bounding-set "-all,$caps" --inh-caps -all)
# The hub's iptables take a lock of their own (not the machine's, which
# other tests' iptables use), so that this test can hold it.
start_ipt_hub() { # NAME
	local old=$PATH
	export PATH="$TMP/bin:$PATH" XTABLES_LOCKFILE="$TMP/xtables.lock"
	START_WITH=("${UNIT_CAPS[@]}")
	start "$1" server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
		--control "$TMP/hub.sock" --nat --nat-backend iptables --egress wan
	export PATH=$old
	unset XTABLES_LOCKFILE
	START_WITH=()
	wait_until 10 "the hub masquerading with iptables" hub_nat_is "iptables out of wan, *"
}
start_ipt_hub hub:ipt
expect_eq "nftables untouched by the iptables form" "$(nsx hub nft list ruleset)" "$RULES0"
start c1:ipt client --server 192.0.2.1:4242 --token s3cret --full-tunnel --state-dir "$TMP/c1-state"
wait_until 10 "c1's full-tunnel routes" client_is c1:ipt full_tunnel true
hub_src=$(seen inet 2)
wait_ping c1 203.0.113.130 5
nsx c1 ping -c 3 -i 0.2 -W 1 203.0.113.130 >/dev/null || fail "c1 cannot ping the internet host through iptables NAT"
[ "$(seen inet 2)" -ge $((hub_src + 3)) ] || fail "the internet host did not see the hub's address"
expect_eq "iptables form: the internet host saw no VPN address" "$(seen inet 1)" 0
# Invalid to conntrack, so not masqueraded: dropped, not sent with c1's VIP.
invalid_tcp_from c1
nap 0.5
expect_eq "iptables form: invalid TCP segments from c1 at the internet host with its VIP" "$(seen inet 1)" 0
no_replies c1 \
	198.51.100.2 "c1 reached the LAN host through iptables NAT" \
	169.254.169.254 "c1 reached 169.254.169.254 through iptables NAT" \
	203.0.113.66 "c1 reached the on-link LAN through iptables NAT" \
	10.200.0.1 "c1 reached the private network through iptables NAT" \
	198.51.100.1 "c1 reached the hub's LAN address through iptables NAT"
expect_eq "iptables form: a UDP service of the hub's at its VIP" "$(udp_answered 10.100.0.1 5300)" 1
ok "iptables form: internet reached as the hub; LAN host, the hub's LAN address, on-link and private networks, 169.254.169.254 closed"
# The machine's own rules after the hub's jumps still apply, as with
# nftables: the hub's chains let packets on (RETURN), they do not accept
# them for the whole of INPUT and FORWARD (before: an admin's DROP there
# never saw a client's packet).
admin_rule() { nsx hub iptables-legacy "$1" INPUT -i slopn0 -p udp --dport 5300 -j DROP &&
	nsx hub iptables-legacy "$1" FORWARD -i slopn0 -d 203.0.113.130 -j DROP; }
admin_rule -A || fail "cannot add the admin's rules"
expect_eq "iptables form: the admin's DROP in INPUT, after the hub's jump" \
	"$(udp_answered 10.100.0.1 5300)" 0
nsx c1 ping -c 2 -i 0.2 -W 1 203.0.113.130 >/dev/null &&
	fail "c1 reached the internet host past the admin's DROP in FORWARD"
admin_rule -D || fail "cannot remove the admin's rules"
expect_eq "iptables form: the UDP service once the admin's rule is gone" "$(udp_answered 10.100.0.1 5300)" 1
nsx c1 ping -c 2 -i 0.2 -W 1 203.0.113.130 >/dev/null ||
	fail "c1 cannot ping the internet host once the admin's rule is gone"
ok "iptables form: the admin's own rules in INPUT and FORWARD apply to the clients"
# A renewal (SIGHUP) puts the new rules in beside the old before these go:
# the chains of the other name, one jump each. One that fails (an
# iptables that refuses MASQUERADE) leaves the rules in force as they were.
installs() { ctl --json status | jq .nat.installs; }
i0=$(installs)
kill -HUP "$(pid_of hub:ipt)"
# Done once the hub counts it: the old chains go after the new are in.
renewed() { [ "$(installs)" -gt "$i0" ]; }
wait_until 5 "the hub's renewal" renewed
expect_eq "the jump into SLOPN-slopn0-FWD2 after the renewal" \
	"$(ipt_rules | grep -c '^-A FORWARD -j SLOPN-slopn0-FWD2$')" 1
expect_eq "jumps to our chains after the renewal" "$(ipt_rules | grep -c -- '-j SLOPN')" 3
before=$(ipt_rules)
# Each swap in one rename: the hub's look (every 5 s) must not find our
# iptables missing or not yet executable and run the machine's.
printf '#!/bin/sh\ncase "$*" in *MASQUERADE*) echo "iptables v1.8.9 (legacy): unknown option" >&2; exit 2;; esac\nexec iptables-legacy "$@"\n' > "$TMP/bin/iptables.new"
chmod +x "$TMP/bin/iptables.new"
mv -fT "$TMP/bin/iptables.new" "$TMP/bin/iptables"
kill -HUP "$(pid_of hub:ipt)"
# It says what iptables said.
wait_log hub:ipt "error: --nat: 'iptables -t nat -A SLOPN-slopn0-NAT .*MASQUERADE' failed \\(exit 2; iptables said: iptables v1.8.9 \\(legacy\\): unknown option\\)" 5
ln -s "$(command -v iptables-legacy)" "$TMP/bin/iptables.new"
mv -fT "$TMP/bin/iptables.new" "$TMP/bin/iptables"
expect_eq "the rules after a renewal that failed" "$(ipt_rules)" "$before"
nsx c1 ping -c 2 -i 0.2 -W 1 198.51.100.2 >/dev/null && fail "c1 reached the LAN host after a failed renewal"
nsx c1 ping -c 2 -i 0.2 -W 1 203.0.113.130 >/dev/null || fail "c1 lost the internet after a failed renewal"
ok "iptables form: renewed without a gap, and a failed renewal keeps the rules in force"
# Ten SIGHUPs: the renewals run one at a time, those that came while one
# ran fold into one after it; one generation of chains at the end. The
# first is let in alone (its reload logged): ten sent at once to a hub
# that did not run meanwhile are one pending signal for the kernel, and
# one renewal (a failure of a CI run under load).
i0=$(installs)
hups() { grep -c "SIGHUP: no config file in use" "$TMP/hub-ipt.log"; }
h0=$(hups)
kill -HUP "$(pid_of hub:ipt)"
hup_taken() { [ "$(hups)" -gt "$h0" ]; }
wait_until 5 "the first SIGHUP taken" hup_taken
for i in $(seq 9); do kill -HUP "$(pid_of hub:ipt)"; done
renewed_twice() { [ "$(installs)" -ge $((i0 + 2)) ]; }
wait_until 10 "two renewals after ten SIGHUPs" renewed_twice
settled() { local a; a=$(installs); nap 1; [ "$(installs)" = "$a" ]; }
wait_until 10 "no renewal under way" settled
n=$(($(installs) - i0))
[ "$n" -le 10 ] || fail "$n renewals after ten SIGHUPs"
expect_eq "jumps to our chains after ten SIGHUPs" "$(ipt_rules | grep -c -- '-j SLOPN')" 3
expect_eq "chains of ours after ten SIGHUPs" "$(ipt_rules | grep -c '^:SLOPN')" 3
nsx c1 ping -c 2 -i 0.2 -W 1 198.51.100.2 >/dev/null && fail "c1 reached the LAN host after ten SIGHUPs"
wait_ping c1 203.0.113.130 5
ok "ten SIGHUPs: $n renewals, one at a time, one generation of rules in force"
# iptables -F INPUT, FORWARD and POSTROUTING (no news of it reaches the
# hub): its look every 5 s finds its jumps gone and puts the rules back.
r0=$(restored)
# The test's own lock, waited for: the machine's is other tests' (nat6.sh).
for c in "-F INPUT" "-F FORWARD" "-t nat -F POSTROUTING"; do
	# shellcheck disable=SC2086 # the words of the command
	nsx hub env XTABLES_LOCKFILE="$TMP/xtables.lock" iptables-legacy -w 5 $c || fail "iptables-legacy $c failed"
done
wait_until 10 "the iptables rules put back" restored_since "$r0"
expect_eq "jumps to our chains after they were put back" "$(ipt_rules | grep -c -- '-j SLOPN')" 3
no_replies c1 \
	198.51.100.2 "c1 reached the LAN host after iptables -F" \
	198.51.100.1 "c1 reached the hub's LAN address after iptables -F"
wait_ping c1 203.0.113.130 5
expect_eq "iptables form, after -F: the internet host saw no VPN address" "$(seen inet 1)" 0
ok "iptables -F: the hub's jumps and chains back"
# The look every 5 s waits for the xtables lock too, but beside the event
# loop: with the lock held for 7 s, the hub answers at once all the while
# (waited for in the loop, a look held it up to 5 s).
exec {lockfd}> "$TMP/xtables.lock"
flock "$lockfd"
slow=0
for i in $(seq 14); do
	timeout 2 "$CTL_BIN" --socket "$TMP/hub.sock" status > /dev/null 2>&1 || slow=$((slow + 1))
	sleep 0.5
done
exec {lockfd}>&-
expect_eq "status calls that took 2 s or more while a look waited for the lock" "$slow" 0
ok "iptables form: the look every 5 s does not hold the hub up"
# Another program's iptables holding the xtables lock: a renewal waits for
# it 5 s at most, then fails, and the rules in force stay. It waits in a
# thread of its own: the hub answers at once all the while (it stood still
# those 5 s, and before that for as long as the lock was held).
exec {lockfd}> "$TMP/xtables.lock"
flock "$lockfd"
lock_held() { ! flock -n "$TMP/xtables.lock" true; }
before=$(ipt_rules)
i0=$(installs)
kill -HUP "$(pid_of hub:ipt)"
slow=0
for i in $(seq 12); do
	timeout 2 "$CTL_BIN" --socket "$TMP/hub.sock" status > /dev/null 2>&1 || slow=$((slow + 1))
	nap 0.5
done
expect_eq "status calls that took 2 s or more while a renewal waited for the lock" "$slow" 0
wait_log hub:ipt "error: --nat: .* failed: another program held the xtables lock for 5 s" 5
lock_held || fail "the xtables lock was let go before the renewal gave up"
exec {lockfd}>&-
expect_eq "installs after a renewal that found the lock taken" "$(installs)" "$i0"
expect_eq "the rules after a renewal that found the lock taken" "$(ipt_rules)" "$before"
nsx c1 ping -c 2 -i 0.2 -W 1 198.51.100.2 >/dev/null && fail "c1 reached the LAN host after the lock was held"
ok "iptables form: a held xtables lock fails a renewal after 5 s without holding the hub up, the rules in force stay"
stop c1:ipt
kill9 hub:ipt
ipt_rules | grep -q '^-A FORWARD -j SLOPN-slopn0-FWD' || fail "expected the stale chains after kill -9"
start_ipt_hub hub:ipt2
expect_eq "one jump to our chain after a start over a crash" "$(ipt_rules | grep -c '^-A FORWARD -j SLOPN')" 1
# A stop while a renewal waits for the lock (another program's, for 2 s):
# the stop waits for it, then removes what is in force, and exits cleanly.
flock "$TMP/xtables.lock" sleep 2 &
PIDS+=($!)
wait_until 10 "another program holding the xtables lock" lock_held
kill -HUP "$(pid_of hub:ipt2)"
nap 0.5
lock_held || fail "the xtables lock was let go before the stop"
stop hub:ipt2
rc=0
wait "$(pid_of hub:ipt2)" || rc=$?
expect_eq "the exit status of a hub stopped during a renewal" "$rc" 0
# Gone, it can tell no more: its log says the renewal went in first.
expect_eq "renewals in the log of the hub stopped during one" \
	"$(grep -c "nat: rules renewed out of wan" "$TMP/hub-ipt2.log")" 1
cmp_state "iptables rules after kill -9, start, stop" "$IPT0" "$(ipt_rules)"
expect_eq "ip_forward, accept_redirects after the iptables form stops" "$(fwd_state)" "0 0"

# A stop that cannot remove its rules (the lock held by another program
# for longer than the hub waits): it says so, and leaves forwarding on and
# its state file for the next start, which cleans up (without --nat here).
# (The file was removed with the rules still there, and the next start
# left them for good.)
start_ipt_hub hub:ipt3
# One process holding the lock (flock(1)'s command would hold it too).
python3 -c 'import fcntl, sys, time; f = open(sys.argv[1], "w"); fcntl.flock(f, fcntl.LOCK_EX); time.sleep(60)' \
	"$TMP/xtables.lock" &
PIDS+=($!)
holder=$!
wait_until 10 "another program holding the xtables lock" lock_held
# The stop waits the 5 s the hub gives iptables, then gives up.
kill "$(pid_of hub:ipt3)"
ipt3_gone() { ! kill -0 "$(pid_of hub:ipt3)" 2> /dev/null; }
wait_until 15 "hub:ipt3 gone" ipt3_gone
grep -q "nat: cannot remove the hub's rules at exit: the iptables chains SLOPN-slopn0-\* may still be there" \
	"$TMP/hub-ipt3.log" || fail "no word of the rules left: $(tail -3 "$TMP/hub-ipt3.log")"
[ -e "$TMP/hub-state/nat-slopn0.forward" ] || fail "the state file went with the rules still there"
ipt_rules | grep -q '^-A FORWARD -j SLOPN-slopn0-FWD' || fail "expected the rules left by that stop"
expect_eq "ip_forward with the rules left" "$(fwd_state | cut -d' ' -f1)" 1
kill "$holder"
wait "$holder" 2> /dev/null
old_path=$PATH
export PATH="$TMP/bin:$PATH" XTABLES_LOCKFILE="$TMP/xtables.lock"
start hub:after server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock"
export PATH=$old_path
unset XTABLES_LOCKFILE
wait_hub
cmp_state "iptables rules after the next start" "$IPT0" "$(ipt_rules)"
expect_eq "ip_forward, accept_redirects after the next start" "$(fwd_state)" "0 0"
[ -e "$TMP/hub-state/nat-slopn0.forward" ] && fail "the state file is still there after the next start"
stop hub:after
ok "rules a stop could not remove: said, forwarding and the state file kept, gone at the next start"

# The default (auto) where nftables refuses: a shim in front of libnftables
# plays a kernel without nf_tables; the hub says so and uses iptables.
cat > "$TMP/nonft.c" <<'C'
struct nft_ctx;
int nft_run_cmd_from_buffer(struct nft_ctx *nft, const char *buf);
int nft_run_cmd_from_buffer(struct nft_ctx *nft, const char *buf) { (void)nft, (void)buf; return -1; }
C
cc -shared -fPIC -o "$TMP/nonft.so" "$TMP/nonft.c" || fail "cannot build the libnftables shim"
old_path=$PATH
export PATH="$TMP/bin:$PATH" LD_PRELOAD="$TMP/nonft.so" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
START_WITH=("${UNIT_CAPS[@]}")
start hub:auto server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock" --nat --egress wan
START_WITH=()
export PATH=$old_path
unset LD_PRELOAD
wait_log hub:auto "warning: --nat: nftables refused the rules \(.+\): using iptables" 10
wait_until 5 "the hub masquerading with iptables" hub_nat_is "iptables out of wan, *"
ok "auto: nftables refused, iptables used, and the log says so"
start c1:auto client --server 192.0.2.1:4242 --token s3cret --full-tunnel --state-dir "$TMP/c1-state"
wait_until 10 "c1's full-tunnel routes" client_is c1:auto full_tunnel true
wait_ping c1 203.0.113.130 5
ok "auto: c1 reaches the internet host through the iptables form"
stop c1:auto
stop hub:auto
cmp_state "iptables rules after the auto hub stops" "$IPT0" "$(ipt_rules)"
expect_eq "ip_forward, accept_redirects after the auto hub stops" "$(fwd_state)" "0 0"

# --- No iptables command at all (the hub spawns it from PATH): the hub
# names what is missing and stops, with nothing of its rules left.
mkdir -p "$TMP/nobin"
ln -s "$(command -v ip)" "$TMP/nobin/ip"
PATH="$TMP/nobin" start hub:noipt server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" \
	--token s3cret --control "$TMP/hub.sock" --nat --nat-backend iptables --egress wan
exited() { ! kill -0 "$(pid_of hub:noipt)" 2> /dev/null; }
wait_until 10 "the hub without iptables to stop" exited
rc=0
wait "$(pid_of hub:noipt)" || rc=$?
expect_eq "the exit status of a hub without iptables" "$rc" 1
grep -q "error: --nat: iptables refused the rules: .* failed (no iptables command)" "$TMP/hub-noipt.log" ||
	fail "the hub did not say that there is no iptables command: $(tail -2 "$TMP/hub-noipt.log")"
cmp_state "iptables rules after a hub without iptables" "$IPT0" "$(ipt_rules)"
ok "no iptables command: the hub says so and stops"
echo "PASS"
