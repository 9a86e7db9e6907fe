"""A real SearxNG-style JSON search provider on loopback, for the web_search tests."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SearchProvider:
    def __init__(self, mode: str = "ok"):
        self.mode = mode
        self.queries: list[str] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                params = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                provider.queries.append(params.get("q", [""])[0])
                if provider.mode == "error":
                    self.send_response(502)
                    self.end_headers()
                    return
                if provider.mode == "garbage":
                    body = b"<html>not json</html>"
                else:
                    q = params.get("q", [""])[0]
                    body = json.dumps({"query": q, "results": [
                        {"title": f"Result {i} for {q}", "url": f"http://127.0.0.1/r/{i}", "content": f"snippet {i}"}
                        for i in range(10)] + [{"title": "no url"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/search"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SearchProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
