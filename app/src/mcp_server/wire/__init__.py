"""The wire: HTTP/1.1 and WebSocket without I/O (bytes in, events and bytes out), under the
connection shell that owns the sockets."""
