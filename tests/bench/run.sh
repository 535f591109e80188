#!/bin/bash
# The benchmark of issue 9: vpnbench with SloPN beside raw veth, wireguard-go,
# OpenVPN, ocserv and a floor (socat relaying TUN <-> UDP, floor-hook.sh:
# the wake-ups any tunnel in user space pays on this machine), in three
# runs: client -> hub, hub -> client (--reverse), and a shaped link (tbf
# 500 Mbit/s with a shallow queue: TCP with 1 stream and UDP at 400 Mbit/s).
# Writes docs/bench/DATE-COMMIT.md with the tables, TCP retransmits, the
# commit, the machine and its load, and vpnbench's JSON (every sample)
# beside it as DATE-COMMIT-RUN.json.
#
#   tests/bench/run.sh [--rounds N] [--runs fwd,rev,shaped] [SLOPND ARGS...]
#
# vpnbench is ../shared/vpnbench/vpnbench next to the repository (as in CI
# and a clone beside it), or $VPNBENCH. It takes a global lock: one run at a
# time on a machine. Build first (meson compile -C build); the peers come
# with 'vpnbench --install-deps', the floor's socat with apt-get. SLOPND
# ARGS go to both ends (--mtu 1400).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
VPNBENCH=${VPNBENCH:-$repo/../shared/vpnbench/vpnbench}
[ -x "$VPNBENCH" ] || { echo "no vpnbench at $VPNBENCH (set VPNBENCH)" >&2; exit 2; }
export SLOPND=${SLOPND:-$repo/build/slopnd}
[ -x "$SLOPND" ] || { echo "no slopnd at $SLOPND: build first" >&2; exit 2; }
command -v socat > /dev/null || { echo "no socat, for the floor case: apt-get install socat" >&2; exit 2; }
rounds=2 runs=fwd,rev,shaped
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	*) break ;;
	esac
done
extra=$*
H=$repo/tests/bench/vpnbench-hook.sh
F=$repo/tests/bench/floor-hook.sh
commit=$(git -C "$repo" rev-parse --short HEAD)
dirty=$(git -C "$repo" status --porcelain --untracked-files=no | grep -q . && echo "+changes" || true)
out=$repo/docs/bench/$(date -u +%Y-%m-%d)-$commit$dirty.md
tmp=$(mktemp -d /tmp/slopn-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# bench NAME TITLE VPNBENCH-ARGS...
bench() {
	local name=$1 title=$2
	shift 2
	echo "=== $title" >&2
	local load0 load1 rc=0
	load0=$(cat /proc/loadavg)
	"$VPNBENCH" --rounds "$rounds" --out "$tmp/$name" "$@" \
		--cases raw,wireguard-go,openvpn,ocserv --case slopn \
		--setup-cmd "$H setup" --server-cmd "$H server $extra" --client-cmd "$H client $extra" \
		--case floor --server-cmd "$F server" --client-cmd "$F client" \
		> "$tmp/$name.md" || rc=$?
	load1=$(cat /proc/loadavg)
	cp "$tmp/$name/results.json" "${out%.md}-$name.json" 2>/dev/null || true
	{
		echo "## $title"
		echo
		echo "\`vpnbench --rounds $rounds $*\` (exit status $rc); /proc/loadavg before: $load0, after: $load1"
		echo
		cat "$tmp/$name.md"
		echo
		# Retransmits say whether a tunnel lost packets (on veth: its own).
		echo "TCP 1-stream retransmits, each round: $(jq -r '[.results[] | select(.test == "tcp1")]
			| group_by(.case) | map("\(.[0].case) \(map(.retransmits // "?") | join("/"))") | join(", ")' \
			"$tmp/$name/results.json" 2>/dev/null)"
		echo
	} >> "$tmp/report.md"
}

for r in ${runs//,/ }; do
	case $r in
	fwd) bench fwd "Client -> hub" ;;
	rev) bench rev "Hub -> client (--reverse)" --reverse ;;
	shaped) bench shaped "Shaped link: tbf rate 500mbit burst 64kb latency 5ms" \
		--tests ping,tcp1,udp --udp-rate 400M --qdisc "tbf rate 500mbit burst 64kb latency 5ms" ;;
	*) echo "unknown run '$r' (fwd, rev, shaped)" >&2; exit 2 ;;
	esac
done
{
	echo "# vpnbench $(date -u +%Y-%m-%dT%H:%M:%SZ) at $commit$dirty"
	echo
	echo "$(uname -sr), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))."
	echo "SloPN: \`tests/bench/run.sh --rounds $rounds --runs $runs${extra:+ $extra}\` (slopnd ${extra:-with its defaults})."
	echo "Medians over $rounds rounds, [min-max]. Other work on the machine shows in the load average."
	echo
	cat "$tmp/report.md"
} > "$out"
echo "$out"
