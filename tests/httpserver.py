"""A real HTTP server on 127.0.0.1 for fetch tests: the answers government sites really give."""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ETAG = '"v1"'
LAST_MODIFIED = "Mon, 01 Aug 2022 00:00:00 GMT"


class Server:
    def __init__(
        self, pdf: bytes, slow_seconds: float = 3.0, flaky_failures: int = 1, drip_seconds: float = 0.2
    ) -> None:
        self.pdf = pdf
        self.slow_seconds = slow_seconds
        self.drip_seconds = drip_seconds
        self.flaky_failures = flaky_failures
        self.hits: Counter[str] = Counter()
        self.conditional: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.hits[self.path] += 1
                route = getattr(server, "route_" + self.path.strip("/").replace(".", "_").replace("-", "_"), None)
                if route is None:
                    self.send_error(404, "no such file")
                    return
                route(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path}"

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _pdf(self, h: BaseHTTPRequestHandler, body: bytes | None = None, length: int | None = None) -> None:
        body = self.pdf if body is None else body
        h.send_response(200)
        h.send_header("Content-Type", "application/pdf")
        h.send_header("Content-Length", str(length if length is not None else len(body)))
        h.send_header("ETag", ETAG)
        h.send_header("Last-Modified", LAST_MODIFIED)
        h.end_headers()
        h.wfile.write(body)

    def route_report_pdf(self, h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == ETAG or h.headers.get("If-Modified-Since") == LAST_MODIFIED:
            self.conditional[h.path] += 1
            h.send_response(304)
            h.end_headers()
            return
        self._pdf(h)

    def route_versioned_pdf(self, h: BaseHTTPRequestHandler) -> None:
        # An ETag that follows the bytes, as a server's does: swap self.pdf for a new release.
        etag = f'"{hashlib.sha256(self.pdf).hexdigest()[:12]}"'
        if h.headers.get("If-None-Match") == etag:
            self.conditional[h.path] += 1
            h.send_response(304)
            h.end_headers()
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/pdf")
        h.send_header("Content-Length", str(len(self.pdf)))
        h.send_header("ETag", etag)
        h.end_headers()
        h.wfile.write(self.pdf)

    def route_error_page_pdf(self, h: BaseHTTPRequestHandler) -> None:
        body = "<!DOCTYPE html><html><body>页面不存在</body></html>".encode()
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def route_flaky_pdf(self, h: BaseHTTPRequestHandler) -> None:
        if self.hits[h.path] <= self.flaky_failures:
            h.send_error(500, "try later")
            return
        self._pdf(h)

    def route_always_500_pdf(self, h: BaseHTTPRequestHandler) -> None:
        h.send_error(500, "down")

    def route_slow_pdf(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/pdf")
        h.send_header("Content-Length", str(len(self.pdf)))
        h.end_headers()
        h.wfile.write(self.pdf[:100])
        h.wfile.flush()
        time.sleep(self.slow_seconds)  # longer than the client's read timeout
        try:
            h.wfile.write(self.pdf[100:])
        except OSError:
            pass

    def route_truncated_pdf(self, h: BaseHTTPRequestHandler) -> None:
        # Promise the whole file, send half, hang up: a dropped connection mid-download.
        self._pdf(h, body=self.pdf[: len(self.pdf) // 2], length=len(self.pdf))
        h.close_connection = True

    def route_drip_pdf(self, h: BaseHTTPRequestHandler) -> None:
        # One byte every drip_seconds: each read succeeds well within the read timeout, forever.
        h.send_response(200)
        h.send_header("Content-Type", "application/pdf")
        h.send_header("Content-Length", str(len(self.pdf)))
        h.end_headers()
        try:
            for byte in self.pdf:
                h.wfile.write(bytes([byte]))
                h.wfile.flush()
                time.sleep(self.drip_seconds)
        except OSError:
            pass

    def route_drip_headers_pdf(self, h: BaseHTTPRequestHandler) -> None:
        # The status line and then header after header, a byte at a time: never a whole response.
        try:
            for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Filler: " + b"x" * 100000:
                h.wfile.write(bytes([byte]))
                h.wfile.flush()
                time.sleep(self.drip_seconds)
        except OSError:
            pass

    def route_gzip_pdf(self, h: BaseHTTPRequestHandler) -> None:
        # Sent compressed whatever the client asked for: Content-Length is the compressed size.
        body = gzip.compress(self.pdf)
        h.send_response(200)
        h.send_header("Content-Type", "application/pdf")
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def route_gzip_bomb_pdf(self, h: BaseHTTPRequestHandler) -> None:
        body = gzip.compress(b"%PDF-1.7\n" + b"\0" * (8 << 20), compresslevel=1)
        h.send_response(200)
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def route_not_gzip_pdf(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Length", str(len(self.pdf)))
        h.end_headers()
        h.wfile.write(self.pdf)

    def route_zip_pdf(self, h: BaseHTTPRequestHandler) -> None:
        body = b"PK\x03\x04" + b"\0" * 100
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _redirect(self, h: BaseHTTPRequestHandler, location: str, status: int = 302) -> None:
        h.send_response(status)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    def route_moved_pdf(self, h: BaseHTTPRequestHandler) -> None:
        self._redirect(h, "/moved-again.pdf", 301)

    def route_moved_again_pdf(self, h: BaseHTTPRequestHandler) -> None:
        self._redirect(h, self.url("report.pdf"), 307)

    def route_loop_a_pdf(self, h: BaseHTTPRequestHandler) -> None:
        self._redirect(h, "/loop-b.pdf")

    def route_loop_b_pdf(self, h: BaseHTTPRequestHandler) -> None:
        self._redirect(h, "/loop-a.pdf")

    def route_to_data_pdf(self, h: BaseHTTPRequestHandler) -> None:
        self._redirect(h, "data:application/pdf;base64,JVBERi0xLjcK")

    def route_to_file_pdf(self, h: BaseHTTPRequestHandler) -> None:
        self._redirect(h, "file:///etc/passwd")

    def route_to_ftp_pdf(self, h: BaseHTTPRequestHandler) -> None:
        self._redirect(h, "ftp://127.0.0.1/report.pdf")

    def route_to_bad_url_pdf(self, h: BaseHTTPRequestHandler) -> None:
        self._redirect(h, "http://[::1/x.pdf")
