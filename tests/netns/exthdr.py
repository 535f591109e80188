#!/usr/bin/env python3
"""exthdr.py: TCP over IPv6 whose every packet carries an extension header.
  exthdr.py sink ADDR PORT
      take one connection; print its byte count and sha256.
  exthdr.py source ADDR PORT BYTES hop|dst|srh
      send BYTES of a fixed pattern over a connection whose packets carry an
      8-byte hop-by-hop or destination options header (padding only), or a
      segment routing header with no segment left; print the count and
      sha256 sent.
The kernel hands such a flow to a TUN as TSO super-packets with the header
between IPv6 and TCP, which the splitter must walk."""
import hashlib
import socket
import sys

# Option header: next header (the kernel fills it in), length in 8-byte
# units beyond the first 8, then PadN over the remaining 6 bytes (Linux
# takes no more than 7 bytes of padding in a row).
OPTS = bytes([0, 0, 1, 4]) + bytes(4)


def sink(addr, port):
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as ls:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, port))
        ls.listen(1)
        print("listening", flush=True)
        c, _ = ls.accept()
        h, n = hashlib.sha256(), 0
        with c:
            while True:
                b = c.recv(1 << 16)
                if not b:
                    break
                h.update(b)
                n += len(b)
        print(n, h.hexdigest(), flush=True)


def source(addr, port, total, kind):
    opt, val = {
        "hop": (socket.IPV6_HOPOPTS, OPTS),
        "dst": (socket.IPV6_DSTOPTS, OPTS),
        # A segment routing header whose one segment is the destination,
        # none left to visit: the packets go straight there.
        "srh": (socket.IPV6_RTHDR,
                bytes([0, 2, 4, 0, 0, 0, 0, 0]) + socket.inet_pton(socket.AF_INET6, addr)),
    }[kind]
    block = bytes((i * 7 + 3) & 0xff for i in range(1 << 16))
    h, n = hashlib.sha256(), 0
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.IPPROTO_IPV6, opt, val)
        s.settimeout(20)
        s.connect((addr, port))
        while n < total:
            b = block[: min(len(block), total - n)]
            s.sendall(b)
            h.update(b)
            n += len(b)
        s.shutdown(socket.SHUT_WR)
        s.recv(1)  # the sink's close: everything arrived
    print(n, h.hexdigest(), flush=True)


def main():
    a = sys.argv[1:]
    if len(a) == 3 and a[0] == "sink":
        sink(a[1], int(a[2]))
    elif len(a) == 5 and a[0] == "source" and a[4] in ("hop", "dst", "srh"):
        source(a[1], int(a[2]), int(a[3]), a[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
