#!/usr/bin/env python3
"""Noise for noise.sh: random UDP datagrams of the kinds a QUIC endpoint
must shrug off, at TO for SECONDS at about RATE a second. With --from the
source address is forged (a raw socket writes the IP header), so that a
client's connected socket takes them for its hub's. With --kind, only
that kind. Prints what it sent, as JSON, at the end, and (without --from)
how many datagrams came back ("answers")."""
import argparse, json, random, socket, struct, time

QUIC_V1, QUIC_V2 = 0x00000001, 0x6B3343CF
RETRY_TOKEN_MAGIC = 0xB6  # ngtcp2's first byte of a Retry token


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def rnd(n):
    return random.randbytes(n)


def long_header(cids):
    # Any type, any version (ours, v2, unknown, reserved, 0 = Version
    # Negotiation), connection IDs of any length up to beyond QUIC's 20.
    first = 0xC0 | random.randrange(4) << 4 | random.randrange(16)
    if random.random() < 0.2:
        first &= 0x7F | random.choice([0, 0x40])  # fixed bit or form bit off
    version = random.choice([QUIC_V1, QUIC_V2, 0, 0x1A2A3A4A, random.getrandbits(32)])
    dcid = random.choice(cids) if cids and random.random() < 0.3 else rnd(random.choice([0, 8, 20, 21, 255]))
    scid = rnd(random.choice([0, 8, 20, 21]))
    head = struct.pack("!BI", first, version) + bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid
    size = random.choice([random.randrange(1500), 1200 + random.randrange(273)])
    return head + rnd(max(0, size - len(head)))


def initial_with_token(cids):
    # A v1 Initial of full size, its header valid to the length field, whose
    # token claims to be one of our Retry tokens: the hub must check it and
    # refuse it (noise.sh counts them).
    dcid, scid = rnd(random.choice([8, 16, 20])), rnd(8)
    token = bytes([RETRY_TOKEN_MAGIC]) + rnd(random.randrange(1, 200))
    head = (struct.pack("!BI", 0xC0 | random.randrange(4), QUIC_V1) + bytes([len(dcid)]) + dcid +
            bytes([len(scid)]) + scid + bytes([0x40 | len(token) >> 8, len(token) & 0xFF]) + token)
    rest = 1250 - len(head) - 2
    return head + struct.pack("!H", 0x4000 | rest) + rnd(rest)


def short_header(cids):
    # A live connection's ID, or a random one, then random bytes: what a
    # stale or forged packet looks like, and a forged stateless reset.
    cid = random.choice(cids) if cids and random.random() < 0.7 else rnd(8)
    return bytes([0x40 | random.randrange(64)]) + cid + rnd(random.randrange(1400))


KINDS = {
    "random": lambda cids: rnd(random.randrange(1501)),
    "long": long_header,
    "initial_token": initial_with_token,
    "short": short_header,
    # Short headers for random 8-byte IDs (the hub's length) only: what a
    # stateless reset answers if anything does.
    "short_random": lambda cids: bytes([0x40 | random.randrange(64)]) + rnd(8) + rnd(40),
}


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def drained(sock):
    """How many datagrams were waiting on the (non-blocking) socket."""
    n = 0
    while True:
        try:
            sock.recv(2048)
            n += 1
        except BlockingIOError:
            return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--to", required=True, type=hostport)
    ap.add_argument("--from", dest="src", type=hostport)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--cid", action="append", default=[], help="a live connection ID, hex")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--kind", choices=list(KINDS), help="only this kind (default: all but short_random)")
    a = ap.parse_args()
    random.seed(a.seed)
    cids = [bytes.fromhex(c) for c in a.cid]
    if a.src:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
    kinds = [a.kind] if a.kind else [k for k in KINDS if k != "short_random"]
    sent = {k: 0 for k in kinds}
    answers = 0
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < a.seconds:
        kind = random.choice(kinds)
        payload = KINDS[kind](cids)[:1472]  # one IPv4 packet on a 1500-byte link
        if a.src:
            udp = struct.pack("!HHHH", a.src[1], a.to[1], 8 + len(payload), 0) + payload
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), random.getrandbits(16), 0, 64,
                             socket.IPPROTO_UDP, 0, socket.inet_aton(a.src[0]), socket.inet_aton(a.to[0]))
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            sock.sendto(ip + udp, (a.to[0], 0))
        else:
            try:
                sock.sendto(payload, a.to)
            except BlockingIOError:
                continue
            answers += drained(sock)
        sent[kind] += 1
        n += 1
        # Paced in bursts of 20: about RATE a second.
        if n % 20 == 0:
            ahead = t0 + n / a.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    if not a.src:
        time.sleep(0.2)  # the last answers
        sent["answers"] = answers + drained(sock)
    print(json.dumps(sent))


if __name__ == "__main__":
    main()
