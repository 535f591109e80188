# Shared by the namespace tests: builds a small network, starts slopnd
# processes, and removes everything it made when the test exits, however
# it exits. Topology (underlay on TEST-NET-1, a bridge in its own namespace):
#
#   hub 192.0.2.1 ---+
#   c1  192.0.2.11 --+-- br0 (namespace "lan")
#   c2  192.0.2.12 --+
#   ...
#
# Only PIDs this script started are stopped, and only namespaces it made
# are deleted. Traffic goes only to addresses inside those namespaces.
set -u

# Namespaces are named sl-PID-N (SLOPN_TEST_NS_PREFIX: another prefix than sl).
RUN="${SLOPN_TEST_NS_PREFIX:-sl}-$$-$RANDOM"
PIDS=()
NSS=()
MOUNTS=()   # mounted by the test, unmounted before $TMP goes
FAILED=0

skip() {
	if [ "${CI:-}" = "true" ]; then
		echo "FAIL (CI must not skip): $*"
		exit 1
	fi
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root"
[ -c /dev/net/tun ] || skip "needs /dev/net/tun"
command -v ip >/dev/null || skip "needs iproute2"
: "${SLOPND:?set SLOPND to the slopnd binary}"
SLOPNCTL=${SLOPNCTL:-$(dirname "$SLOPND")/slopnctl}
JGET=${JGET:-$(dirname "$SLOPND")/tests/jget}
# The slopnctl of the tests' reads: in a sanitized build SLOPNCTL_PLAIN,
# the same without the sanitizers (their start and exit cost some 70 ms of
# CPU a call, tests/meson.build), except in the tests of slopnctl itself,
# which unset it before this file.
CTL_BIN=${SLOPNCTL_PLAIN:-$SLOPNCTL}
# run_slopnctl ARGS...: slopnctl; under ASan, in a poll (wait_until),
# without LeakSanitizer's check at its exit (50 ms of CPU a call): the
# same calls outside polls (the assertions) keep it.
run_slopnctl() {
	if [ -n "${POLLING:-}" ] && [[ ${ASAN_OPTIONS:-} == *detect_leaks=1* ]]; then
		ASAN_OPTIONS=${ASAN_OPTIONS//detect_leaks=1/detect_leaks=0} "$CTL_BIN" "$@"
	else
		"$CTL_BIN" "$@"
	fi
}
ctl() { run_slopnctl --socket "$TMP/hub.sock" "$@"; }
# metric NAME: the value of one metric as the hub's slopnctl metrics gives it.
metric() { ctl metrics | awk -v m="$1" '$1 == m {print $2}'; }
# jf PATH: jq -r ".PATH" of stdin; a plain path (names and dots) is read
# by jget, which costs a tenth of jq's CPU: polls read many a field.
jf() {
	if [[ $1 =~ ^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$ ]] && [ -x "$JGET" ]; then
		"$JGET" "$1"
	else
		jq -r ".$1"
	fi
}

dump_logs() {
	for f in "$TMP"/*.log; do
		[ -f "$f" ] || continue
		echo "----- $(basename "$f") (last 25 lines)"
		tail -n 25 "$f"
	done
}

cleanup() {
	local rc=$?
	# Its output may go to a pipe that closed: writes fail, cleanup goes on.
	trap '' PIPE
	[ -n "$WATCHDOG" ] && kill -9 "$WATCHDOG" 2>/dev/null
	[ $rc -ne 0 ] && [ $rc -ne 77 ] && dump_logs
	# CONT: a process a test stopped (kill -STOP) cannot end otherwise.
	# Only processes still ours (see ours): a PID that ended came round again.
	for p in "${PIDS[@]}"; do ours "$p" && kill "$p" 2>/dev/null && kill -CONT "$p" 2>/dev/null; done
	for ((i = 0; i < 20; i++)); do
		local alive=0
		for p in "${PIDS[@]}"; do ours "$p" && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do ours "$p" && kill -9 "$p" 2>/dev/null; done
	# A sanitizer's report at a daemon's exit (a leak, an error while
	# shutting down) fails the test too: it comes after the test's checks.
	local bad report='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer'
	# *.txt: the outputs of slopnd runs the tests capture (usage errors).
	bad=$(grep -l -E "$report" "$TMP"/*.log "$TMP"/*.txt 2>/dev/null)
	if [ -n "$bad" ] && [ $rc -eq 0 ]; then
		for f in $bad; do
			echo "FAIL: a sanitizer report in $(basename "$f"):"
			grep -E -A 30 "$report" "$f" | head -60
		done
		rc=1
	fi
	# Anything else still inside our namespaces was started by this test too.
	for n in "${NSS[@]}"; do
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$n" 2>/dev/null
		rm -rf "/etc/netns/$n" # a test's own hosts file for the namespace, if any
	done
	rmdir /etc/netns 2>/dev/null # only if that left it empty
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
	rm -rf "$TMP"
	exit $rc
}
# Made only now: a test skipped above leaves nothing behind.
TMP=$(mktemp -d "/tmp/slopn-test.XXXXXX")
trap cleanup EXIT
trap 'exit 1' INT TERM
# Output into a pipe that closed (| head): cleanup all the same.
trap 'exec > /dev/null 2>&1; exit 1' PIPE
# nap SECONDS: a sleep without a process (read's timeout on a FIFO no one
# writes to). The polls below run many times a second, and a fork and an
# exec cost some 5 ms of CPU on these machines.
mkfifo "$TMP/nap"
exec {NAP_FD}<> "$TMP/nap"
nap() { read -rt "$1" -u "$NAP_FD" _ || :; }

# The watchdog: meson ends a test past its timeout with TERM and, half a
# second later, KILL, too soon for cleanup to delete the namespaces; and a
# TERM trap waits for the command under way, which may be what hangs. At
# SLOPN_TEST_LIMIT seconds (tests/meson.build sets it below the timeout) the
# test is ended from here: TERM to its process group and to its children,
# so the command under way ends and cleanup runs with time to finish.
WATCHDOG=
if [ -n "${SLOPN_TEST_LIMIT:-}" ]; then
	(
		trap '' TERM
		read -rt "$SLOPN_TEST_LIMIT" -u "$NAP_FD" _
		echo "FAIL: still running after $SLOPN_TEST_LIMIT s (SLOPN_TEST_LIMIT): ending it" >&2
		kill -TERM -- -$$ 2>/dev/null # its group, when meson made it one
		for p in $(ps -o pid= --ppid $$); do
			[ "$p" = "$BASHPID" ] || kill -TERM "$p" 2>/dev/null
		done
		kill -TERM $$ 2>/dev/null
	) &
	WATCHDOG=$!
	disown "$WATCHDOG" # its end at cleanup is no news
fi

# ours PID: the process PID is still one this test started: a child of this
# shell (processes started with & from it, ip netns exec included, which
# execs), or one registered with own that has the start time it had then.
# PIDs come round again (pid_max is 32768 on these machines): a process
# with the number of one of ours that ended is not ours to signal.
declare -A OWN_START=()
ours() {
	local s f
	read -r s 2>/dev/null < "/proc/$1/stat" || return 1
	# After the command's name (in parentheses, spaces possible): fields 3 on.
	read -ra f <<< "${s##*) }"
	[ "${f[1]}" = $$ ] && return 0 # field 4, the parent
	[ -n "${OWN_START[$1]:-}" ] && [ "${f[19]}" = "${OWN_START[$1]}" ] # field 22, the start time
}
# own PID: a process this test started but not as a child of its shell
# (from a subshell, or by a process of its own), for cleanup to stop: its
# start time now tells it from a later process with its number.
own() {
	local s f
	read -r s 2>/dev/null < "/proc/$1/stat" || return 0 # ended already
	read -ra f <<< "${s##*) }"
	OWN_START[$1]=${f[19]}
	PIDS+=("$1")
}

# The namespace NAME is "$RUN-NAME", written out where it is used: a
# function printing it would cost a command substitution, a fork, and forks
# cost (a few ms of CPU each in these VMs; the tests run thousands).
nsx() { local n=$1; shift; ip netns exec "$RUN-$n" "$@"; }

# etc_netns NAME: /etc/netns/<namespace>, the files ip netns exec puts over
# /etc's (hosts, resolv.conf), made for this test. Another test ending at the
# same moment removes /etc/netns if it finds it empty: try again if it went
# between the two mkdirs.
etc_netns() {
	local d="/etc/netns/$RUN-$1" i
	for ((i = 0; i < 50; i++)); do mkdir -p "$d" 2>/dev/null && break; done
	[ -d "$d" ] || fail "cannot make $d"
}

fail() {
	echo "FAIL: $*"
	exit 1
}
ok() { echo "ok: $*"; }

ns_create() {
	ip netns add "$RUN-$1" || fail "cannot create namespace $RUN-$1"
	NSS+=("$RUN-$1")
	ip -n "$RUN-$1" link set lo up
	# IPv4 only, so packet counters are exact (ns_ipv6 turns IPv6 back on);
	# with IPv6 off, slopnd carries none inside the tunnel either.
	nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# ns_ipv6 NAME...: IPv6 on again in these namespaces, for interfaces made
# from now on (a TUN device included) and those already there; without
# duplicate address detection, so that addresses and routes are final at
# once (a test compares routing tables).
ns_ipv6() {
	for n in "$@"; do
		nsx "$n" sh -c 'for f in /proc/sys/net/ipv6/conf/*/accept_dad; do echo 0 > "$f"; done'
		nsx "$n" sysctl -qw net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.all.disable_ipv6=0
	done
}

# topo N: the LAN bridge, the hub and clients c1..cN.
topo() {
	ns_create lan
	ip -n "$RUN-lan" link add br0 type bridge
	ip -n "$RUN-lan" link set br0 up
	attach hub 192.0.2.1
	for ((i = 1; i <= $1; i++)); do attach "c$i" "192.0.2.$((10 + i))"; done
}

# leg NS ROUTER_ADDR ADDR: a host NS behind the router rt (a namespace made
# first, attach rt ...): its eth0 ADDR/24 to rt's to-NS ROUTER_ADDR/24,
# its default route through rt.
leg() {
	ns_create "$1"
	ip link add eth0 netns "$RUN-$1" type veth peer name "to-$1" netns "$RUN-rt"
	ip -n "$RUN-rt" addr add "$2/24" dev "to-$1"
	ip -n "$RUN-rt" link set "to-$1" up
	ip -n "$RUN-$1" addr add "$3/24" dev eth0
	ip -n "$RUN-$1" link set eth0 up
	ip -n "$RUN-$1" route add default via "$2"
}

attach() {
	ns_create "$1"
	ip link add eth0 netns "$RUN-$1" type veth peer name "p-$1" netns "$RUN-lan"
	ip -n "$RUN-lan" link set "p-$1" master br0 up
	ip -n "$RUN-$1" addr add "$2/24" dev eth0
	ip -n "$RUN-$1" link set eth0 up
}

# uplinks: the hub on the LAN bridge, and c1 with two ways to it, each
# through a router of its own: eth0 198.51.100.2 (rta 198.51.100.1,
# 192.0.2.50), up, with c1's default route; eth1 203.0.113.2 (rtb
# 203.0.113.1, 192.0.2.51), down until the test brings it up.
uplinks() {
	local r
	ns_create lan
	ip -n "$RUN-lan" link add br0 type bridge
	ip -n "$RUN-lan" link set br0 up
	attach hub 192.0.2.1
	attach rta 192.0.2.50
	attach rtb 192.0.2.51
	ns_create c1
	for r in "rta 198.51.100.1 eth0 198.51.100.2" "rtb 203.0.113.1 eth1 203.0.113.2"; do
		set -- $r # ROUTER ROUTER_ADDR CLIENT_IF CLIENT_ADDR (a /24 each)
		ip link add leg netns "$RUN-$1" type veth peer name "$3" netns "$RUN-c1"
		ip -n "$RUN-$1" addr add "$2/24" dev leg
		ip -n "$RUN-c1" addr add "$4/24" dev "$3"
		ip -n "$RUN-$1" link set leg up
		nsx "$1" sysctl -qw net.ipv4.ip_forward=1
	done
	ip -n "$RUN-c1" link set eth0 up
	ip -n "$RUN-c1" route add default via 198.51.100.1
	ip -n "$RUN-hub" route add 198.51.100.0/24 via 192.0.2.50
	ip -n "$RUN-hub" route add 203.0.113.0/24 via 192.0.2.51
}

# start NAME ROLE ARGS...: slopnd in namespace NAME, logging to $TMP/NAME.log.
# NAME may be NS:TAG for a second daemon in namespace NS (log NS-TAG.log).
# A client keeps its id in its state directory, and the namespaces share
# one filesystem: each client gets $TMP/NAME-state unless the test names one.
# START_WITH: a command that runs slopnd for start, such as setpriv for the
# capabilities its unit gives it (nat_ipt.sh); none by default.
START_WITH=()
start() {
	local n=${1/:/-} where=${1%%:*} own=()
	shift
	if [ "${1:-}" = client ]; then
		[[ " $* " != *" --state-dir "* ]] && own+=(--state-dir "$TMP/$n-state")
		# A control socket of its own, so that tests ask the client how it
		# is (slopnctl status) rather than read its log.
		[[ " $* " != *" --control "* ]] && own+=(--control "$TMP/$n.sock")
	fi
	ip netns exec "$RUN-$where" ${START_WITH[@]+"${START_WITH[@]}"} "$SLOPND" "$@" "${own[@]}" \
		> "$TMP/$n.log" 2>&1 {NAP_FD}<&- &
	PIDS+=($!)
	eval "PID_${n//-/_}=$!"
}
pid_of() { local n=${1/:/-}; local v="PID_${n//-/_}"; echo "${!v}"; }

start_hub() {
	start hub server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token "${TOKEN:-s3cret}" \
		--control "$TMP/hub.sock" "$@"
	wait_hub
}

# answers [SOCKET]: the daemon on SOCKET (the hub's by default) answers.
answers() { run_slopnctl --socket "${1:-$TMP/hub.sock}" status > /dev/null 2>&1; }
# wait_hub [SOCKET]: until the hub is up, which its control socket tells.
wait_hub() { wait_until 10 "a hub answering on ${1:-$TMP/hub.sock}" answers "${1:-}"; }

# client_status NAME FIELD: from the client's own control socket (see
# start), e.g. connected, vip; empty while it does not answer.
client_status() {
	# Not a pipeline: one fork fewer a read, and the polls read often.
	local j
	j=$(run_slopnctl --socket "$TMP/${1/:/-}.sock" --json status 2>/dev/null) && jf "$2" <<< "$j"
}
# client_is NAME FIELD VALUE: the client's status says so (e.g. full_tunnel true).
client_is() { [ "$(client_status "$1" "$2")" = "$3" ]; }
client_has_vip() { client_is "$1" vip "$2"; }
client_connected() { client_is "$1" connected true; }
# client_relogged NAME SINCE: connected by a login later than SINCE (the
# since of its status before).
client_relogged() { client_connected "$1" && [ "$(client_status "$1" since)" -gt "$2" ]; }
# client_said NAME REGEX: the client's last error (its status) matches.
client_said() { client_status "$1" last_error | grep -Eq -- "$2"; }
# client_down NAME REGEX [CODE]: the client's last connection to end (its
# status's last_disconnect) ended for a reason matching REGEX; with CODE,
# the hub ended it with that error code, with "-" not the hub at all.
client_down() {
	run_slopnctl --socket "$TMP/${1/:/-}.sock" --json status 2>/dev/null |
		jq -e --arg re "$2" --arg code "${3:-}" '.last_disconnect | . != null and (.reason | test($re))
			and if $code == "" then true elif $code == "-" then .by_hub == false and .code == null
			else .by_hub and .code == ($code | tonumber) end' > /dev/null
}
# hub_nat: the hub's NAT as its status tells, "BACKEND out of EGRESS[, IPv6
# out of EGRESS6], N allowed, N installs", or "off"; hub_nat_is PATTERN
# matches it (a shell pattern).
hub_nat() {
	ctl --json status 2>/dev/null | jq -r '.nat | if . == null then "off" else
		"\(.backend) out of \(.egress)\(if .egress6 then ", IPv6 out of \(.egress6)" else "" end), \(.allowed) allowed, \(.installs) installs" end'
}
hub_nat_is() { [[ "$(hub_nat)" == $1 ]]; }
# wait_connected NAME VIP [SECONDS]: until the client is logged in with VIP.
wait_connected() {
	wait_until "${3:-10}" "$1 connected as $2" client_has_vip "$1" "$2"
}

start_client() {
	local n=$1
	shift
	start "$n" client --server 192.0.2.1:4242 --token "${TOKEN:-s3cret}" "$@"
}

# wait_log NAME REGEX SECONDS: every 0.05 s for a second, then every 0.2 s.
# Deadlines in milliseconds: in the whole seconds of $SECONDS, "1 s" was
# anything from a single look to a second.
wait_log() {
	local deadline=$(($(now_ms) + $3 * 1000)) f="$TMP/${1/:/-}.log" n=0
	until grep -Eq -- "$2" "$f" 2>/dev/null; do
		before $deadline ||
			fail "no line matching '$2' in $1's log within $3 s"
		if [ $((n++)) -lt 20 ]; then nap 0.05; else nap 0.2; fi
	done
}

# wait_until SECONDS WHAT COMMAND...: run COMMAND until it succeeds, every
# 0.1 s for a second, then every 0.25 s (a poll forks a few processes: a
# long wait must not take a CPU's third); fail naming WHAT if it has not
# within SECONDS.
wait_until() {
	local secs=$1 what=$2 deadline=$(($(now_ms) + $1 * 1000)) n=0
	shift 2
	until POLLING=1 "$@"; do
		before $deadline || fail "$what: not within $secs s"
		if [ $((n++)) -lt 10 ]; then nap 0.1; else nap 0.25; fi
	done
}

# now_ms: milliseconds (EPOCHREALTIME: no date to start at each poll).
now_ms() { local t=${EPOCHREALTIME//[.,]/}; echo $((t / 1000)); }
# before DEADLINE: now_ms is still under DEADLINE (no fork, for the polls).
before() { local t=${EPOCHREALTIME//[.,]/}; ((t / 1000 < $1)); }
# NS TABLE: 'nft flush ruleset' in NS, then the milliseconds until TABLE
# ("inet name") is back in it (5000 and more: not back).
flush_back_ms() {
	local t0
	t0=$(now_ms)
	nsx "$1" nft flush ruleset
	until nsx "$1" nft list table $2 > /dev/null 2>&1; do
		(($(now_ms) - t0 < 5000)) || break
	done
	echo $(($(now_ms) - t0))
}
# banned ADDR: the hub answers with its list of bans, and it has one on
# ADDR. not_banned ADDR: the hub answers, and has none on ADDR (! banned
# would also hold when the hub does not answer). Neither holds without an
# answer: jq -e (1.6) exits 0 when it reads no input at all.
bans_say() {
	local j
	j=$(ctl --json bans list) && [ -n "$j" ] &&
		jq -e --arg a "$1" "(.bans | type == \"array\") and ($2)" <<< "$j" > /dev/null
}
banned() { bans_say "$1" 'any(.bans[]; .address == $a)'; }
not_banned() { bans_say "$1" 'any(.bans[]; .address == $a) | not'; }

# build_gopeer: the Go peer (tests/interop/gopeer, on Debian's quic-go) in
# $TMP/gopeer. Go's build cache is the suite's (one for every build
# directory and test: quic-go takes some 12 s of CPU to compile), else
# this run's own.
build_gopeer() {
	command -v go >/dev/null || skip "needs go (golang-go) to build the Go peer"
	[ -d /usr/share/gocode/src/github.com/lucas-clemente/quic-go ] ||
		skip "needs quic-go (golang-github-lucas-clemente-quic-go-dev)"
	(cd "$(dirname "${BASH_SOURCE[0]}")/../interop/gopeer" && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= \
		GOCACHE="${SLOPN_GOCACHE:-$TMP/gocache}" go build -o "$TMP/gopeer" .) || fail "cannot build the Go peer"
}

# start_monitor: slopnctl --json monitor on the hub, its events in
# $TMP/events.txt; returns once it is subscribed (it says so on stderr).
start_monitor() {
	timeout 120 "$SLOPNCTL" --socket "$TMP/hub.sock" --json monitor > "$TMP/events.txt" 2> "$TMP/monitor.err" &
	PIDS+=($!)
	wait_until 5 "slopnctl monitor subscribed" grep -q "watching events" "$TMP/monitor.err"
}
# has_event METHOD [JQ-CONDITION]: the monitor saw such an event.
has_event() {
	jq -en --arg m "$1" "any(inputs; .method == \$m and (${2:-true}))" "$TMP/events.txt" > /dev/null 2>&1
}
wait_event() { wait_until 5 "an event $1${2:+ with $2}" has_event "$@"; }

# wait_listening NAME PORT: until something listens on TCP PORT in NAME.
tcp_listening() { nsx "$1" ss -Hltn "sport = :$2" | grep -q .; }
# 10 s: a python3 listener's start took over 5 on a loaded machine.
wait_listening() { wait_until 10 "a listener on TCP $2 in $1" tcp_listening "$1" "$2"; }

# wait_ping NAME ADDR SECONDS: until one ping gets an answer (IPv4 or
# IPv6, as ADDR is).
# A ping waits up to a second for its answer; one that fails at once (no
# route yet) is followed by a pause, as in the other polls.
wait_ping() {
	local deadline=$(($(now_ms) + $3 * 1000)) family=-4
	[[ $2 == *:* ]] && family=-6
	until nsx "$1" ping $family -c 1 -W 1 "$2" >/dev/null 2>&1; do
		before $deadline || fail "$1 cannot reach $2 within $3 s"
		nap 0.1
	done
}

# stop NAME [STATUS]: SIGTERM to a daemon started with start, wait until
# it has exited, and check that it exited with STATUS (0 by default): a
# crash or an error in its cleanup fails the test, as does a daemon that
# was already gone.
stop() {
	local p rc=0 k
	p=$(pid_of "$1")
	kill "$p" 2>/dev/null || fail "$1 had exited before it was stopped: $(tail -n 3 "$TMP/${1/:/-}.log")"
	for ((k = 0; k < 100; k++)); do
		if ! kill -0 "$p" 2>/dev/null; then
			wait "$p" 2>/dev/null || rc=$?
			forget "$p"
			[ "$rc" = "${2:-0}" ] ||
				fail "$1 exited $rc on SIGTERM, not ${2:-0}: $(tail -n 3 "$TMP/${1/:/-}.log")"
			return 0
		fi
		nap 0.05
	done
	fail "$1 did not exit on SIGTERM"
}
# fds NAME: how many descriptors the daemon holds open.
fds() { find "/proc/$(pid_of "$1")/fd" -mindepth 1 -maxdepth 1 | wc -l; }
# rss_kb NAME: its resident memory, in kB.
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$(pid_of "$1")/status"; }
# sanitized: slopnd is built with ASan or TSan, which slow it down and keep
# freed memory (a quarantine, shadow and history), so RSS says nothing.
sanitized() { ldd "$SLOPND" 2> /dev/null | grep -Eq 'lib[at]san'; }
# kill9 NAME: kill -9, and wait until it is gone, its TUN too: the kernel
# lets go of the TUN's descriptor (and the TUN and its routes go) after
# the process is reaped when io_uring held it (a test that looked at once
# saw the dead client's routes on a new machine).
kill9() {
	local p t tuns
	p=$(pid_of "$1")
	tuns=$(sed -n 's/^iff:[[:space:]]*//p' "/proc/$p/fdinfo/"* 2>/dev/null)
	kill -9 "$p"
	forget "$p"
	for t in $tuns; do
		wait_until 10 "$1's TUN $t gone after kill -9" tun_let_go "${1%%:*}" "$t"
	done
}
# tun_let_go NS DEV: no TUN DEV in NS, or one that outlives its process.
tun_let_go() {
	local d
	d=$(ip -n "$RUN-$1" -d link show "$2" 2>/dev/null) || return 0
	[[ $d == *" persist on"* ]]
}
# forget PID: reap a process that has ended and drop it from the ones
# cleanup stops: PIDs come round again (pid_max is 32768 on these
# machines), and a later process with its number is not ours to signal.
forget() {
	local i
	wait "$1" 2>/dev/null
	for i in "${!PIDS[@]}"; do [ "${PIDS[i]}" = "$1" ] && unset 'PIDS[i]'; done
	PIDS=("${PIDS[@]}")
}

# cmp_state WHAT EXPECTED ACTUAL: a state (routes, rules, a file) as it
# was, with the difference shown when it is not.
cmp_state() {
	[ "$2" = "$3" ] || { diff <(echo "$2") <(echo "$3"); fail "$1"; }
	ok "$1"
}

# hub_stat VIP FIELD: one counter of the hub's session with that VIP
# (rx_pkts, tx_bytes, ..., drop_REASON), from slopnctl sessions list.
hub_stat() {
	local f=$2
	[[ $f == drop_* ]] && f="drops.${f#drop_}"
	ctl --json sessions list | jq -r --arg vip "$1" ".sessions[] | select(.vip == \$vip) | .$f"
}

# hub_session VIP: the hub has a logged-in session with that VIP.
hub_sessions_of() { # VIP: the hub's sessions with it; nothing when it does not answer
	ctl --json sessions list 2>/dev/null | jq --arg vip "$1" '[.sessions[] | select(.vip == $vip)] | length'
}
hub_session() { [ "$(hub_sessions_of "$1")" = 1 ]; }
# no_hub_session VIP: the hub answers, and has no session with VIP (a hub
# that does not answer has none either, but says nothing of its sessions).
no_hub_session() { [ "$(hub_sessions_of "$1")" = 0 ]; }

# adm FIELD: the hub's admission counter FIELD (slopnctl status).
adm() { ctl --json status | jq -r ".admission.$1"; }
adm_is() { [ "$(adm "$1")" = "$2" ]; }
# flood NS ARGS...: slopn-flood in namespace NS against the hub.
flood() { local n=$1; shift; nsx "$n" "$SLOPN_FLOOD" --server 192.0.2.1:4242 "$@"; }
# flood_bg OUT ARGS...: the same from c1 in the background, its summary to
# OUT (its log beside, .err); FLOOD_PID is its own PID (nsx, a function,
# would give its subshell's), for flood_end.
flood_bg() {
	local out=$1
	shift
	ip netns exec "$RUN-c1" "$SLOPN_FLOOD" --server 192.0.2.1:4242 "$@" > "$out" 2> "${out%.json}.err" &
	FLOOD_PID=$!
	PIDS+=("$FLOOD_PID")
}
# flood_end: that flood ends now (SIGTERM) and writes its summary.
flood_end() {
	kill "$FLOOD_PID"
	wait "$FLOOD_PID"
	forget "$FLOOD_PID"
}
# flood_from FIRST LAST: c1 gets 192.0.2.FIRST to .LAST beside its own;
# the array from holds the --from arguments for slopn-flood.
flood_from() {
	local i
	from=()
	for ((i = $1; i <= $2; i++)); do
		ip -n "$RUN-c1" addr add "192.0.2.$i/24" dev eth0
		from+=(--from "192.0.2.$i")
	done
}
# many_tokens N PREFIX: the hub's token store replaced by N tokens, named
# PREFIX00000 on, and read again (SIGHUP); wait for them with token list.
many_tokens() {
	python3 - "$TMP/hub-state/tokens.json" "$1" "$2" <<'PY'
import json, sys
n, p = int(sys.argv[2]), sys.argv[3]
toks = [{"name": "%s%05d" % (p, i), "sha256": "%064x" % i, "created": 1700000000} for i in range(n)]
with open(sys.argv[1] + ".new", "w") as f:
    json.dump({"version": 1, "tokens": toks}, f)
PY
	mv "$TMP/hub-state/tokens.json.new" "$TMP/hub-state/tokens.json"
	kill -HUP "$(pid_of hub)"
}
# hub_sessions: logged-in sessions on the hub.
hub_sessions() { ctl --json status | jq .sessions; }
hub_sessions_are() { [ "$(hub_sessions)" = "$1" ]; }
# session_within ADDR MS: a session from ADDR is listed within MS
# milliseconds (counted from the call); prints the time it took.
session_within() {
	local t0 t
	t0=$(now_ms)
	while t=$(($(now_ms) - t0)); [ $t -le $((2 * $2)) ]; do
		if ctl --json sessions list | jq -e --arg a "$1:" \
			'.sessions[] | select(.remote | startswith($a))' >/dev/null; then
			echo "$t"
			[ "$t" -le "$2" ]
			return
		fi
		sleep 0.05
	done
	echo "never"
	return 1
}

expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected $3, got '$2'"
	ok "$1 = $3"
}

# connect_clients N [ARGS...]: c1..cN, one after the other, so that ci gets
# the VIP 10.100.0.(i+1).
connect_clients() {
	local n=$1
	shift
	for ((i = 1; i <= n; i++)); do
		start_client "c$i" "$@"
		wait_connected "c$i" "10.100.0.$((i + 1))"
	done
}

# iperf_tcp WHAT CLIENT SERVER ADDR SECONDS: iperf3 TCP from namespace
# CLIENT to a one-shot server at ADDR in SERVER; fails unless more than
# 1 MB arrived, and says how much did.
iperf_tcp() {
	local what=$1 client=$2 server=$3 addr=$4 secs=$5 bytes
	nsx "$server" timeout $((secs + 20)) iperf3 -s -1 -B "$addr" > /dev/null 2>&1 &
	PIDS+=($!)
	wait_listening "$server" 5201
	bytes=$(nsx "$client" timeout $((secs + 15)) iperf3 -c "$addr" -t "$secs" -J | jq '.end.sum_received.bytes')
	[ "${bytes:-0}" -gt 1000000 ] || fail "iperf3 $what moved ${bytes:-0} bytes"
	ok "iperf3 TCP $what: $bytes bytes in $secs s"
}
