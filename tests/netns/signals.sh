#!/bin/bash
# Signals from the daemon's surroundings. Its output into a pipe whose
# reader has gone (slopnd ... 2>&1 | tee log, and a Ctrl-C that ends tee
# first): the writes fail, and the daemon goes on, stops on SIGTERM as
# always (exit 0) and puts everything back, a client its kill switch and
# full-tunnel routes, a hub its NAT rules and forwarding. The programs the
# hub runs (iptables) do not inherit what it ignores: SIGPIPE and SIGXFSZ
# have their defaults there, as in a program run from a shell, and they run
# in a process group of their own: a Ctrl-C at the terminal of a hub in the
# foreground ends none of them.
#
# The network: nat_topo.sh.
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || skip "needs nft (nftables)"
command -v jq >/dev/null || skip "needs jq"
command -v iptables-legacy >/dev/null || skip "needs iptables-legacy (iptables)"

. "$(dirname "$0")/nat_topo.sh"

# piped NAME NS ARGS...: slopnd ARGS in namespace NS, its stdout and stderr
# into a FIFO that a cat of ours reads into $TMP/NAME.log (READER_NAME its
# PID); stop NAME and pid_of NAME as for start. A sanitizer's report would
# go into that pipe: to $TMP/NAME.san.PID instead, which san_reports NAME
# gives cleanup to look at.
piped() {
	local n=$1 ns=$2
	shift 2
	mkfifo "$TMP/$n.fifo"
	cat "$TMP/$n.fifo" > "$TMP/$n.log" {NAP_FD}<&- &
	PIDS+=($!)
	eval "READER_$n=$!"
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:log_path=$TMP/$n.san" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$TMP/$n.san" \
		ip netns exec "$RUN-$ns" "$SLOPND" "$@" > "$TMP/$n.fifo" 2>&1 {NAP_FD}<&- &
	PIDS+=($!)
	eval "PID_$n=$!"
}
san_reports() { cat "$TMP/$1".san.* > "$TMP/$1-san.txt" 2>/dev/null || :; }
# reader_gone NAME: the reader of NAME's pipe killed, as a Ctrl-C ends tee.
reader_gone() {
	local r="READER_$1"
	kill -9 "${!r}"
	forget "${!r}"
}
ks_tables() { nsx c1 nft list tables | grep -c slopnks_; }
C1RULES0=$(nsx c1 nft list ruleset)
ROUTES0=$(routing)
FWD0=$(fwd_state)

# --- A hub with --nat and a client with a full tunnel and a kill switch,
# both logging into pipes.
piped hub hub server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
	--control "$TMP/hub.sock" --nat
wait_hub
wait_until 5 "the hub masquerading out of wan" hub_nat_is "nftables out of wan, *"
piped c1 c1 client --server 192.0.2.1:4242 --token s3cret --full-tunnel --kill-switch \
	--state-dir "$TMP/c1-state" --control "$TMP/c1.sock"
wait_connected c1 10.100.0.2
wait_until 5 "c1's full tunnel" client_is c1 full_tunnel true
expect_eq "c1's kill-switch tables" "$(ks_tables)" 1
[ -s "$TMP/c1.log" ] || fail "nothing from c1 through its pipe"

# The readers go. c1 writes its next line on SIGTERM ("disconnecting"),
# the hub its next when c1's session ends: both into a pipe without a
# reader.
reader_gone c1
reader_gone hub
stop c1
san_reports c1
cmp_state "c1's nftables after its stop, its reader gone: no kill switch" "$C1RULES0" "$(nsx c1 nft list ruleset)"
cmp_state "c1's routes and rules after its stop, its reader gone" "$ROUTES0" "$(routing)"
wait_until 5 "c1's session gone from the hub" no_hub_session 10.100.0.2
hub_nat_is "nftables out of wan, *" || fail "the hub's NAT after a line into its gone pipe: $(hub_nat)"
ok "a client whose reader has gone stops cleanly; the hub lives on past a line lost"
stop hub
san_reports hub
cmp_state "the hub's nftables after its stop, its reader gone" "$RULES0" "$(nsx hub nft list ruleset)"
expect_eq "the hub's ip_forward, accept_redirects after its stop" "$(fwd_state)" "$FWD0"
ok "a hub whose reader has gone stops cleanly, its NAT removed"

# --- The hub's iptables (--nat-backend iptables): legacy iptables through
# a wrapper that notes the signals it was started with ignored (SigIgn,
# a mask: bit N-1 for signal N). With $TMP/ipt-slow, the next one that
# adds or checks the MASQUERADE rule takes it and sleeps 2 s first, saying
# when it begins and ends.
mkdir -p "$TMP/bin"
cat > "$TMP/bin/iptables" <<EOF
#!/bin/sh
while read -r k v; do [ "\$k" = SigIgn: ] && echo "\$v" >> "$TMP/ipt-sigign"; done < /proc/\$\$/status
if [ -e "$TMP/ipt-slow" ] && case "\$*" in *MASQUERADE*) rm "$TMP/ipt-slow" 2>/dev/null;; *) false;; esac; then
	echo "\$*" > "$TMP/ipt-slow-began"
	sleep 2
	: > "$TMP/ipt-slow-ended"
fi
exec iptables-legacy "\$@"
EOF
chmod +x "$TMP/bin/iptables"
ipt_rules() { nsx hub iptables-legacy-save | grep -E '^-A|^:SLOPN'; }
IPT0=$(ipt_rules)
# start_ipt_hub NAME: a hub with iptables NAT, ours (on PATH), with a lock
# of its own (not the machine's, which other tests' iptables use).
start_ipt_hub() {
	PATH="$TMP/bin:$PATH" XTABLES_LOCKFILE="$TMP/xtables.lock" \
		start "$1" server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token s3cret \
		--control "$TMP/hub.sock" --nat --nat-backend iptables --egress wan
}
start_ipt_hub hub:ipt
wait_until 10 "the hub masquerading with iptables" hub_nat_is "iptables out of wan, *"
stop hub:ipt
cmp_state "iptables rules after the iptables hub's stop" "$IPT0" "$(ipt_rules)"
n=0
while read -r m; do
	n=$((n + 1))
	(( (0x$m >> 12) & 1 )) && fail "an iptables the hub ran had SIGPIPE ignored (SigIgn $m)"
	(( (0x$m >> 24) & 1 )) && fail "an iptables the hub ran had SIGXFSZ ignored (SigIgn $m)"
done < "$TMP/ipt-sigign"
[ "$n" -gt 0 ] || fail "no iptables run by the hub"
ok "SIGPIPE and SIGXFSZ not ignored in any of the $n iptables the hub ran"

# --- A Ctrl-C at the terminal of a hub run in the foreground: SIGINT to
# its process group, while the iptables of its setup that adds the
# MASQUERADE rule runs (2 s, the wrapper's slow knob). That iptables is not
# in the group: it runs to its end, the setup is done, then the hub takes
# the SIGINT and stops as on SIGTERM, its rules removed. The hub in a session and group of its own
# (setsid), with SIGINT's default (bash starts what it runs in the
# background with SIGINT ignored, and iptables would inherit that).
: > "$TMP/ipt-slow"
START_WITH=(setsid env --default-signal=INT)
start_ipt_hub hub:int
START_WITH=()
p=$(pid_of hub:int)
wait_until 10 "the hub's slow iptables" test -e "$TMP/ipt-slow-began"
# (only now: setsid may not have run when start returns)
[ "$(ps -o pgid= -p "$p" | tr -d ' ')" = "$p" ] || fail "the hub is not in a process group of its own"
kill -INT -- "-$p"
exited() { ! kill -0 "$1" 2>/dev/null; }
wait_until 15 "the hub's exit after SIGINT" exited "$p"
rc=0
wait "$p" || rc=$?
forget "$p"
[ -e "$TMP/ipt-slow-ended" ] || fail "the iptables under way was ended by the SIGINT to the hub's group"
expect_eq "the hub's exit status after SIGINT during its setup" "$rc" 0
cmp_state "iptables rules after that stop" "$IPT0" "$(ipt_rules)"
ok "SIGINT to the hub's group during its setup: its iptables ran to the end, a clean stop"
