"""HTTP/1.1 by hand on one socket, to see exactly how answers are framed."""

from __future__ import annotations

import socket
import time


def exchange(port: int, raw: bytes, answers: int = 1, pieces: int = 0) -> list[tuple[str, dict[str, str], bytes]]:
    """Send raw bytes on one connection (all at once, or `pieces` bytes at a time with a pause between);
    read `answers` responses (interim, Content-Length or chunked)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        if pieces:
            for at in range(0, len(raw), pieces):
                sock.send(raw[at:at + pieces])
                time.sleep(0.0005)
        else:
            sock.sendall(raw)
        reader = sock.makefile("rb")
        out = []
        for _ in range(answers):
            status = reader.readline().decode().strip()
            headers: dict[str, str] = {}
            while (line := reader.readline().decode().strip()):
                name, _sep, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if status.split(" ")[1].startswith("1"):  # an interim answer (100 Continue): no body
                body = b""
            elif "content-length" in headers:
                body = reader.read(int(headers["content-length"]))
            else:
                body = b""
                while (size := int(reader.readline().strip(), 16)):
                    body += reader.read(size)
                    reader.readline()
                reader.readline()
            out.append((status, headers, body))
        return out


def answer_then_end(port: int, raw: bytes) -> bytes:
    """Send raw bytes; everything the server sends until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received
