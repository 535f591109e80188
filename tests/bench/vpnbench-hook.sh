#!/bin/bash
# SloPN as a vpnbench hook case: ../shared/vpnbench/vpnbench --case slopn
#   --setup-cmd "$H setup" --server-cmd "$H server [SLOPND ARGS]"
#   --client-cmd "$H client [SLOPND ARGS]"
# vpnbench supplies the VB_* variables and runs each role in its namespace;
# arguments after the role go to slopnd (e.g. --mtu 1400).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
SLOPND=${SLOPND:-$here/../../build/slopnd}
state="$VB_DIR/slopn-state"
role=${1:-}
shift || true
case "$role" in
setup)
	mkdir -p -m 700 "$state" # not writable by others: slopnd refuses such a one
	"$SLOPND" pin --state-dir "$state" > "$VB_DIR/slopn-pin"
	;;
server)
	exec "$SLOPND" server --listen "$VB_SERVER_UNDERLAY_IP:$VB_PORT" \
		--subnet "$VB_TUN_NET" --tun "$VB_IFNAME_SERVER" \
		--state-dir "$state" --control "$VB_DIR/slopnd.sock" --token vpnbench "$@"
	;;
client)
	exec "$SLOPND" client --server "$VB_SERVER_UNDERLAY_IP:$VB_PORT" \
		--token vpnbench --pin "$(cat "$VB_DIR/slopn-pin")" --tun "$VB_IFNAME_CLIENT" \
		--state-dir "$VB_DIR/slopn-client-state" "$@"
	;;
*)
	echo "usage: $0 setup|server|client [SLOPND ARGS]" >&2
	exit 2
	;;
esac
