#!/bin/bash
# The data path carries everything intact, and drops nothing of its own:
# 200 MB each way over TCP with sha256 compared and no TCP checksum errors,
# UDP datagrams of every size from 0 to 8000 bytes (fragmented inside the
# tunnel, both ways), big and fragmented ICMP, IP options. With offloads
# (TSO/USO reads split, GSO writes, UDP GRO) unless SLOPN_OFFLOADS=off;
# with them, the TUN read through io_uring in bursts, and read by read(2)
# once the kernel refuses the ring's read.
. "$(dirname "$0")/lib.sh"
: "${NETTOOL:?set NETTOOL to the nettool binary}"
MB=${DATAPATH_MB:-200}
topo 1
start_hub
start_client c1
wait_connected c1 10.100.0.2

drops() { ctl --json status | jq -c '.totals.drops'; }
cdrops() { client_status c1 totals.drops; }
want=true
[ "${SLOPN_OFFLOADS:-}" = off ] && want=false
expect_eq "the hub's TUN offloads" "$(ctl --json status | jq '.offload.tun')" $want
expect_eq "the hub's UDP GRO" "$(ctl --json status | jq '.offload.udp_gro')" $want
# Batched TUN reads come with offloads, on a kernel that has multishot reads
# (SLOPN_URING=off: as a kernel before 6.7).
ring=false
if $want && [ "${SLOPN_URING:-}" != off ] && printf '6.7\n%s\n' "$(uname -r)" | sort -V -C; then ring=true; fi
expect_eq "the hub reads its TUN through io_uring" "$(ctl --json status | jq '.offload.tun_ring')" $ring
expect_eq "the client reads its TUN through io_uring" "$(client_status c1 offload.tun_ring)" $ring

# counter NS PROTO FIELD: one of the kernel's SNMP counters in a namespace.
counter() {
	nsx "$1" awk -v p="$2:" -v f="$3" '$1 == p { if (!n) { for (i = 2; i <= NF; i++) if ($i == f) c = i; n = 1 } else print $c }' /proc/net/snmp
}
csum_before=$(( $(counter hub Tcp InCsumErrors) + $(counter c1 Tcp InCsumErrors) ))
retrans_before=$(( $(counter hub Tcp RetransSegs) + $(counter c1 Tcp RetransSegs) ))

head -c "${MB}M" /dev/urandom > "$TMP/data"
sum=$(sha256sum < "$TMP/data")
# transfer WHAT FROM TO ADDR: the file over TCP, its sha256 compared.
transfer() {
	nsx "$3" timeout 120 "$NETTOOL" tcp-sink "$4" 9000 | sha256sum > "$TMP/got" &
	local sink=$! t0=$SECONDS
	PIDS+=($sink)
	wait_listening "$3" 9000
	nsx "$2" timeout 120 "$NETTOOL" tcp-source "$4" 9000 < "$TMP/data" || fail "$1: cannot send"
	wait $sink
	[ "$(cat "$TMP/got")" = "$sum" ] || fail "$1: sha256 differs ($(cat "$TMP/got"), sent $sum)"
	ok "$1: $MB MB arrived intact in $((SECONDS - t0)) s"
}
transfer "c1 -> hub" c1 hub 10.100.0.1
transfer "hub -> c1" hub c1 10.100.0.2
expect_eq "TCP checksum errors" $(( $(counter hub Tcp InCsumErrors) + $(counter c1 Tcp InCsumErrors) - csum_before )) 0
echo "TCP segments retransmitted (for information): $(( $(counter hub Tcp RetransSegs) + $(counter c1 Tcp RetransSegs) - retrans_before ))"

nsx hub "$NETTOOL" udp-echo 10.100.0.1 9001 &
PIDS+=($!)
# A datagram before the echo listens would be refused.
udp_listening() { nsx hub ss -Hlun 'sport = :9001' | grep -q .; }
wait_until 5 "the UDP echo listening" udp_listening
out=$(nsx c1 timeout 120 "$NETTOOL" udp-sizes 10.100.0.1 9001 0 8000 2> "$TMP/udp-sizes.err") ||
	fail "UDP of 0 to 8000 bytes: $out $(cat "$TMP/udp-sizes.err")"
[[ "$out" == *"(0 resent)"* ]] ||
	fail "UDP datagrams were lost: $out ($(tr '\n' ' ' < "$TMP/udp-sizes.err")); drops: $(ctl --json status | jq -c .totals.drops), client's: $(cdrops)"
ok "UDP: $out"
# Bursts of one size, coalesced into UDP super-packets (with USO) on the
# way into either TUN, come back intact.
gso_before=$(( $(ctl --json status | jq .offload.gso_writes) + $(client_status c1 offload.gso_writes) ))
out=$(nsx c1 timeout 60 "$NETTOOL" udp-burst 10.100.0.1 9001 400 1200) || fail "UDP bursts: $out"
ok "UDP bursts: $out"
# TUN USO came with kernel 6.2: expected from the kernel, not from what
# the daemon says of itself.
uso=false
if $want && printf '6.2\n%s\n' "$(uname -r)" | sort -V -C; then uso=true; fi
expect_eq "the hub's TUN USO" "$(ctl --json status | jq .offload.uso)" $uso
if $uso; then
	gso=$(( $(ctl --json status | jq .offload.gso_writes) + $(client_status c1 offload.gso_writes) - gso_before ))
	[ "$gso" -gt 0 ] || fail "no UDP datagrams written to a TUN together"
	ok "UDP datagrams written to the TUNs together: $gso writes"
fi
expect_eq "UDP checksum errors" $(( $(counter hub Udp InCsumErrors) + $(counter c1 Udp InCsumErrors) )) 0

nsx c1 ping -c 3 -i 0.2 -W 2 -s 5000 10.100.0.1 > /dev/null || fail "fragmented ping c1 -> hub"
nsx hub ping -c 3 -i 0.2 -W 2 -s 5000 10.100.0.2 > /dev/null || fail "fragmented ping hub -> c1"
ok "5028-byte ICMP echoes, fragmented, both ways"
nsx c1 ping -c 2 -i 0.2 -W 2 -R 10.100.0.1 > "$TMP/rr.txt" || fail "ping with IP options"
grep -q "^RR:" "$TMP/rr.txt" || fail "no record-route option came back: $(cat "$TMP/rr.txt")"
ok "IP options pass (record route)"

# Nothing dropped on either side: not ours, and not the kernel's TUN queue
# (with offloads one of its slots holds a whole 64 KiB super-packet).
expect_eq "the hub's drops" "$(drops | jq '[.queue, .tun, .udp_send, .udp_recv] | add')" 0
expect_eq "the client's drops" "$(cdrops | jq '[.queue, .tun, .udp_send, .udp_recv, .down] | add')" 0
if $want; then
	expect_eq "the hub's TUN queue overflows" "$(drops | jq '.tun_queue')" 0
	expect_eq "the client's TUN queue overflows" "$(cdrops | jq '.tun_queue')" 0
	[ "$(ctl --json status | jq '.offload.gso_writes')" -gt 0 ] || fail "the hub wrote no GSO packets"
	[ "$(ctl --json status | jq '.offload.super_reads')" -gt 0 ] || fail "the hub read no super-packets"
	ok "offloads used: $(ctl --json status | jq -c '.offload')"
fi
# UDP at a few hundred Mbit/s comes in bursts of packets, which the ring
# reads (one packet at a time, and TCP's super-packets and ACKs, go by
# read(2)): each way.
if $ring; then
	command -v iperf3 >/dev/null || fail "needs iperf3"
	for dir in "" -R; do
		nsx hub timeout 30 iperf3 -s -1 -B 10.100.0.1 > /dev/null 2>&1 &
		PIDS+=($!)
		wait_listening hub 5201
		nsx c1 timeout 30 iperf3 -c 10.100.0.1 -u -b 400M -l 1200 -t 2 $dir > /dev/null ||
			fail "iperf3 UDP $dir failed"
	done
	[ "$(ctl --json status | jq '.offload.ring_reads')" -gt 0 ] || fail "the hub read nothing through io_uring"
	[ "$(client_status c1 offload.ring_reads)" -gt 0 ] || fail "the client read nothing through io_uring"
	ok "read through io_uring: hub $(ctl --json status | jq '.offload.ring_reads'), client $(client_status c1 offload.ring_reads) packets"
else
	expect_eq "packets read through io_uring" "$(( $(ctl --json status | jq '.offload.ring_reads') + $(client_status c1 offload.ring_reads) ))" 0
fi
# A burst larger than the ring ends its read (out of buffers), and the
# kernel may refuse to make it again (EAGAIN, ENOMEM): that costs no
# session, the TUN is read by read(2) from then on and the log says so
# once. SLOPND_TEST_RING_REFUSE=1 plays the refusal at the first such read,
# on both sides, started again with it.
if $ring; then
	stop c1
	stop hub
	SLOPND_TEST_RING_REFUSE=1 start_hub
	SLOPND_TEST_RING_REFUSE=1 start_client c1
	wait_connected c1 10.100.0.2
	refused="one read\\(2\\) per packet from now on \\(io_uring refused a read: Resource temporarily unavailable\\)"
	# udp_burst READER PEER [-R]: UDP at 400 Mbit/s for 4 s from c1 to
	# the hub (with -R from the hub to c1). With READER (the side reading
	# it from its TUN) and PEER (the other) not empty, PEER is stopped for 0.2 s at a
	# time, until READER's log says its ring's read was refused: READER's
	# connection is congested, it holds its TUN unread (backpressure),
	# the ring's 64 buffers fill and its read ends; when the
	# acknowledgements come it reads on, and the read is made again, which
	# the knob refuses. (Not once: the ring reads only while a wake-up
	# finds packets in bursts, and it may be off at a stop.)
	udp_burst() {
		local reader=$1 peer=$2 ip k
		shift 2
		nsx hub timeout 30 iperf3 -s -1 -B 10.100.0.1 > /dev/null 2>&1 &
		PIDS+=($!)
		wait_listening hub 5201
		nsx c1 timeout 30 iperf3 -c 10.100.0.1 -u -b 400M -l 1200 -t 4 "$@" > /dev/null &
		ip=$!
		PIDS+=("$ip")
		for ((k = 0; k < 7 && ${#reader}; k++)); do
			nap 0.3
			grep -Eq -- "$refused" "$TMP/$reader.log" && break
			kill -STOP "$(pid_of "$peer")"
			nap 0.2
			kill -CONT "$(pid_of "$peer")"
		done
		wait "$ip" || fail "iperf3 UDP $* failed"
	}
	udp_burst c1 hub
	udp_burst hub c1 -R
	wait_log c1 "$refused" 5
	wait_log hub "$refused" 5
	answers || fail "the hub does not answer after the ring's read was refused"
	client_connected c1 || fail "c1 is not connected after its ring's read was refused"
	grep -q "cannot read the TUN" "$TMP/hub.log" "$TMP/c1.log" && fail "a daemon took the refusal for a TUN gone"
	expect_eq "the hub reads its TUN through io_uring, after the refusal" "$(ctl --json status | jq '.offload.tun_ring')" false
	expect_eq "c1 reads its TUN through io_uring, after the refusal" "$(client_status c1 offload.tun_ring)" false
	[ "$(ctl --json status | jq '.offload.ring_reads')" -gt 0 ] || fail "the hub read nothing through io_uring before"
	[ "$(client_status c1 offload.ring_reads)" -gt 0 ] || fail "c1 read nothing through io_uring before"
	expect_eq "the refusal said, in the hub's log" "$(grep -cE "$refused" "$TMP/hub.log")" 1
	expect_eq "the refusal said, in c1's log" "$(grep -cE "$refused" "$TMP/c1.log")" 1
	# And on by read(2), both ways.
	udp_burst "" ""
	udp_burst "" "" -R
	wait_ping c1 10.100.0.1 5
	ok "a refused ring read: read(2) from then on, sessions and traffic go on"
fi
echo "PASS"
