#!/usr/bin/env python3
"""Every UDP packet over IPv4 on interface IFACE (either way), one line each,
flushed at once: "SECONDS SRC:PORT DST:PORT PAYLOAD_BYTES" (SECONDS from
CLOCK_MONOTONIC). Says "watching" on stderr once it reads. For idle.sh:
what goes on the underlay while nothing is carried, and who sends it."""
import socket, struct, sys, time

ETH_P_ALL, ETH_P_IP = 0x0003, 0x0800
# ETH_P_ALL: a socket for one protocol sees only what comes in.
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
s.bind((sys.argv[1], 0))
print("watching", file=sys.stderr, flush=True)
while True:
    pkt, addr = s.recvfrom(65535)
    t = time.monotonic()
    if addr[1] != ETH_P_IP or len(pkt) < 28 or pkt[0] >> 4 != 4 or pkt[9] != socket.IPPROTO_UDP:
        continue
    ihl = (pkt[0] & 15) * 4
    sport, dport, ulen = struct.unpack("!HHH", pkt[ihl:ihl + 6])
    src, dst = socket.inet_ntoa(pkt[12:16]), socket.inet_ntoa(pkt[16:20])
    print(f"{t:.6f} {src}:{sport} {dst}:{dport} {ulen - 8}", flush=True)
