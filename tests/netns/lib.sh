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

RUN="sl-$$-$RANDOM"
TMP=$(mktemp -d "/tmp/slopn-test.XXXXXX")
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
ctl() { "$SLOPNCTL" --socket "$TMP/hub.sock" "$@"; }

dump_logs() {
	for f in "$TMP"/*.log; do
		[ -f "$f" ] || continue
		echo "----- $(basename "$f") (last 25 lines)"
		tail -n 25 "$f"
	done
}

cleanup() {
	local rc=$?
	[ $rc -ne 0 ] && [ $rc -ne 77 ] && dump_logs
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for i in $(seq 20); do
		local alive=0
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	# Anything else still inside our namespaces was started by this test too.
	for n in "${NSS[@]}"; do
		for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		ip netns del "$n" 2>/dev/null
	done
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ns() { echo "$RUN-$1"; }
nsx() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

fail() {
	echo "FAIL: $*"
	exit 1
}
ok() { echo "ok: $*"; }

ns_create() {
	ip netns add "$(ns "$1")" || fail "cannot create namespace $(ns "$1")"
	NSS+=("$(ns "$1")")
	ip -n "$(ns "$1")" link set lo up
	# IPv4 only, so packet counters are exact.
	nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# topo N: the LAN bridge, the hub and clients c1..cN.
topo() {
	ns_create lan
	ip -n "$(ns lan)" link add br0 type bridge
	ip -n "$(ns lan)" link set br0 up
	attach hub 192.0.2.1
	for i in $(seq "$1"); do attach "c$i" "192.0.2.$((10 + i))"; done
}

attach() {
	ns_create "$1"
	ip link add eth0 netns "$(ns "$1")" type veth peer name "p-$1" netns "$(ns lan)"
	ip -n "$(ns lan)" link set "p-$1" master br0 up
	ip -n "$(ns "$1")" addr add "$2/24" dev eth0
	ip -n "$(ns "$1")" link set eth0 up
}

# start NAME ROLE ARGS...: slopnd in namespace NAME, logging to $TMP/NAME.log.
# NAME may be NS:TAG for a second daemon in namespace NS (log NS-TAG.log).
# A client keeps its id in its state directory, and the namespaces share
# one filesystem: each client gets $TMP/NAME-state unless the test names one.
start() {
	local n=${1/:/-} where=${1%%:*} own=()
	shift
	[ "${1:-}" = client ] && [[ " $* " != *" --state-dir "* ]] && own=(--state-dir "$TMP/$n-state")
	ip netns exec "$(ns "$where")" "$SLOPND" "$@" "${own[@]}" > "$TMP/$n.log" 2>&1 &
	PIDS+=($!)
	eval "PID_${n//-/_}=$!"
}
pid_of() { local n=${1/:/-}; local v="PID_${n//-/_}"; echo "${!v}"; }

start_hub() {
	start hub server --listen 192.0.2.1:4242 --state-dir "$TMP/hub-state" --token "${TOKEN:-s3cret}" \
		--control "$TMP/hub.sock" "$@"
	wait_log hub "listening on" 10
}

start_client() {
	local n=$1
	shift
	start "$n" client --server 192.0.2.1:4242 --token "${TOKEN:-s3cret}" "$@"
}

# wait_log NAME REGEX SECONDS
wait_log() {
	local deadline=$((SECONDS + $3)) f="$TMP/${1/:/-}.log"
	while [ $SECONDS -lt $deadline ]; do
		grep -Eq -- "$2" "$f" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "no line matching '$2' in $1's log within $3 s"
}

# wait_until SECONDS WHAT COMMAND...: run COMMAND every 0.1 s until it
# succeeds; fail naming WHAT if it has not within SECONDS.
wait_until() {
	local secs=$1 what=$2 deadline=$((SECONDS + $1))
	shift 2
	until "$@"; do
		[ $SECONDS -lt $deadline ] || fail "$what: not within $secs s"
		sleep 0.1
	done
}

# wait_ping NAME ADDR SECONDS: until one ping gets an answer.
wait_ping() {
	local deadline=$((SECONDS + $3))
	while [ $SECONDS -lt $deadline ]; do
		nsx "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
	done
	fail "$1 cannot reach $2 within $3 s"
}

# hub_stat VIP FIELD: one counter of the hub's session with that VIP, read
# from the stats line the hub logs on SIGUSR1.
hub_stat() {
	local before
	before=$(grep -c "stats: hub" "$TMP/hub.log")
	kill -USR1 "$(pid_of hub)"
	local deadline=$((SECONDS + 5))
	while [ "$(grep -c "stats: hub" "$TMP/hub.log")" -le "$before" ]; do
		[ $SECONDS -lt $deadline ] || fail "hub logged no stats"
		sleep 0.05
	done
	grep "stats: session .* vip=$1 " "$TMP/hub.log" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
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
	for i in $(seq "$n"); do
		start_client "c$i" "$@"
		wait_log "c$i" "connected: vip 10.100.0.$((i + 1))/" 10
	done
}

# iperf_tcp WHAT CLIENT SERVER ADDR SECONDS: iperf3 TCP from namespace
# CLIENT to a one-shot server at ADDR in SERVER; fails unless more than
# 1 MB arrived, and says how much did.
iperf_tcp() {
	local what=$1 client=$2 server=$3 addr=$4 secs=$5 bytes
	nsx "$server" timeout $((secs + 20)) iperf3 -s -1 -B "$addr" > /dev/null 2>&1 &
	PIDS+=($!)
	sleep 0.5
	bytes=$(nsx "$client" timeout $((secs + 15)) iperf3 -c "$addr" -t "$secs" -J | jq '.end.sum_received.bytes')
	[ "${bytes:-0}" -gt 1000000 ] || fail "iperf3 $what moved ${bytes:-0} bytes"
	ok "iperf3 TCP $what: $bytes bytes in $secs s"
}
