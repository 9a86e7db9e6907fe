#!/usr/bin/env python3
"""Ask the cluster DNS for a name (one UDP query, standard library only); exit 0 if it answers
with an A record. usage: dns_check.py SERVER NAME"""

import random
import socket
import struct
import sys


def query(server: str, name: str) -> list[str]:
    ident = random.randrange(65536)
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    packet = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.sendto(packet, (server, 53))
        reply = sock.recv(4096)
    rid, flags, _qd, answers = struct.unpack("!HHHH", reply[:8])
    if rid != ident or flags & 0x000F or not answers:
        return []
    return [socket.inet_ntoa(reply[-4:])]


if __name__ == "__main__":
    found = query(sys.argv[1], sys.argv[2])
    print(" ".join(found) or "no answer")
    sys.exit(0 if found else 1)
