#!/bin/bash
# A floor for tunnels in user space, as a vpnbench hook case: socat relays
# raw packets between a TUN and a UDP socket, one read and one write per
# packet, no crypto, no protocol. What it adds over raw veth, at idle, is
# mostly what this VM charges for waking a process on each side; a VPN
# daemon pays those wake-ups too, whatever its own work costs.
#   vpnbench --case floor --server-cmd "$H server" --client-cmd "$H client"
# The TUN MTU is SloPN's default (1280), so the UDP test sends the same sizes.
set -eu
role=${1:-}
case "$role" in
server) ifn=$VB_IFNAME_SERVER me=$VB_SERVER_TUN_IP self=$VB_SERVER_UNDERLAY_IP peer=$VB_CLIENT_UNDERLAY_IP ;;
client) ifn=$VB_IFNAME_CLIENT me=$VB_CLIENT_TUN_IP self=$VB_CLIENT_UNDERLAY_IP peer=$VB_SERVER_UNDERLAY_IP ;;
*)
	echo "usage: $0 server|client" >&2
	exit 2
	;;
esac
socat -b 65536 "UDP-DATAGRAM:$peer:$VB_PORT,bind=$self:$VB_PORT" \
	"TUN:$me/$VB_TUN_PREFIX,tun-name=$ifn,tun-type=tun,iff-no-pi,iff-up" &
pid=$!
trap 'kill $pid 2> /dev/null' TERM INT
for _ in $(seq 50); do ip link show "$ifn" > /dev/null 2>&1 && break; sleep 0.1; done
ip link set "$ifn" mtu 1280
wait $pid
