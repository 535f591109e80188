#!/usr/bin/env python3
"""renames.py DIR NAME: count the times a file is renamed into DIR as NAME
(each atomic save of a state file is one: a temporary file, then a rename)
until SIGTERM; then print the count. Prints "watching" once the watch is
set, so that a test starts what it counts only after that."""
import ctypes
import os
import signal
import struct
import sys

IN_MOVED_TO = 0x80


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: renames.py DIR NAME")
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(0)
    if fd < 0 or libc.inotify_add_watch(fd, os.fsencode(sys.argv[1]), IN_MOVED_TO) < 0:
        sys.exit("renames.py: cannot watch %s: %s" % (sys.argv[1], os.strerror(ctypes.get_errno())))
    want = os.fsencode(sys.argv[2])
    count = 0

    def done(*_):
        print(count, flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, done)
    print("watching", flush=True)
    while True:
        buf = os.read(fd, 65536)
        off = 0
        while off < len(buf):
            _, mask, _, namelen = struct.unpack_from("iIII", buf, off)
            name = buf[off + 16:off + 16 + namelen].rstrip(b"\0")
            if mask & IN_MOVED_TO and name == want:
                count += 1
            off += 16 + namelen


main()
