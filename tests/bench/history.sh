#!/bin/bash
# Every vpnbench run in docs/bench (run.sh's JSON), one row each, as a
# markdown table: what the README quotes as the history of issue 9's figures.
#
#   tests/bench/history.sh [DIR]      # DIR: docs/bench by default
#
# A run is the files DATE-COMMIT[-NAME]-{fwd,rev,shaped}.json; a part it did
# not run shows as "-". Figures are vpnbench's medians over the run's rounds:
# TCP with 1 stream in Mbit/s, SloPN's against ocserv's in the same run
# (the issue's target is 4x), CPU-s per GB of both daemons, UDP at 1 Gbit/s
# lost, the idle RTT added over the raw veth pair's (and the floor's, socat
# relaying TUN <-> UDP, where the run had it), and on the shaped link
# SloPN's TCP against the better of ocserv and OpenVPN and its UDP loss.
set -euo pipefail
dir=${1:-$(cd "$(dirname "$0")/../.." && pwd)/docs/bench}
command -v jq > /dev/null || { echo "history.sh: needs jq (apt-get install jq)" >&2; exit 2; }

# part FILE: one run's part as "tcp1 (x ocserv) | CPU s/GB | UDP loss | +RTT"
# (the shaped link: "tcp1 / best peer | UDP loss"); "-" for a missing file.
part() {
	local f=$1 shaped=${2:-}
	if [ ! -s "$f" ]; then
		[ -n "$shaped" ] && echo "- | -" || echo "- | - | - | -"
		return
	fi
	jq -r --arg shaped "$shaped" '
		def m(c; k): (.summary[] | select(.case == c) | .[k].median) // null;
		def fx(x; d): (x | fabs * pow(10; d) | round) as $i | (if x < 0 then "-" else "" end)
			+ if d == 0 then "\($i)" else "\($i / pow(10; d) | floor).\("000\($i % pow(10; d))"[-d:])" end;
		def n(x; d): if x == null then "-" else fx(x; d) end;
		(m("slopn"; "tcp1_mbps")) as $s
		| if $shaped != "" then
			([m("ocserv"; "tcp1_mbps"), m("openvpn"; "tcp1_mbps")] | map(select(. != null)) | max) as $best
			| "\(n($s; 0)) / \(n($best; 0)) | \(n(m("slopn"; "udp_loss_pct"); 2)) %"
		  else
			(m("ocserv"; "tcp1_mbps")) as $o
			| (m("slopn"; "rtt_ms")) as $r | (m("raw"; "rtt_ms")) as $r0 | (m("floor"; "rtt_ms")) as $f
			| "\(n($s; 0)) (\(if $s and $o then n($s / $o; 1) + "x" else "-" end))"
			+ " | \(n(m("slopn"; "cpu_s_per_gb_tcp1"); 1))"
			+ " | \(n(m("slopn"; "udp_loss_pct"); 2)) %"
			+ " | \(if $r and $r0 then "+" + n($r - $r0; 3) else "-" end)"
			+ (if $f and $r0 then " (floor +\(n($f - $r0; 3)))" else "" end)
		  end' "$f"
}

echo "| run | raw TCP (client → hub) | client → hub: SloPN TCP (× ocserv) | CPU-s/GB | UDP loss | idle RTT added, ms | hub → client: SloPN TCP (× ocserv) | CPU-s/GB | UDP loss | idle RTT added, ms | shaped: SloPN / best peer | UDP loss |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for base in $(ls "$dir"/*-fwd.json "$dir"/*-rev.json "$dir"/*-shaped.json 2>/dev/null |
	sed -E 's/-(fwd|rev|shaped)\.json$//' | sort -u); do
	raw=-
	[ -s "$base-fwd.json" ] &&
		raw=$(jq -r '(.summary[] | select(.case == "raw") | .tcp1_mbps.median // empty) | round' "$base-fwd.json")
	echo "| $(basename "$base") | ${raw:--} | $(part "$base-fwd.json") | $(part "$base-rev.json") | $(part "$base-shaped.json" shaped) |"
done
