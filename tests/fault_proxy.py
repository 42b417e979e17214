"""A fault-injecting HTTP proxy in front of the real Label Studio.

Label Studio still does all the work; the proxy only makes the network and
the server misbehave the way they do in the field, on cue:

- ``down()`` / ``up()``: connections refused, as with a server that is not running;
- ``die_after(n, path)``: go down once ``n`` matching requests were answered,
  as with a server killed right after creating a project, or in the middle of
  a batched upload;
- ``fail(status, times, path)``: answer ``status`` to the next matching
  requests without forwarding them (5xx, 429), then recover;
- ``slow(seconds, path)``: hold matching requests that long before answering;
- ``cut(after_bytes, path)``: forward, then drop the connection part way
  through the response;
- ``fail_after_forward(status, times, path)``: forward (Label Studio does the
  work and commits it), then answer ``status`` instead of its response, as a
  gateway that times out after the server finished;
- ``rewrite(change, times, path)``: forward, then answer with the response
  body (JSON) as ``change(body)`` returns it, e.g. an export that is still
  ``in_progress`` where a server with background jobs answers so.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
}


@dataclass
class _Fault:
    kind: str
    pattern: re.Pattern
    count: int = 0
    status: int = 503
    seconds: float = 0.0
    after_bytes: int = 0
    change: object = None
    hits: int = field(default=0)


class FaultProxy:
    """Forwards ``http://127.0.0.1:<port>`` to ``target`` with faults on cue."""

    def __init__(self, target: str):
        parsed = urlparse(target)
        self.target = (parsed.hostname, parsed.port)
        self.faults: list[_Fault] = []
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = None
        self.port = _free_port()
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        if self._server is not None:
            return
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def _server_gone(self) -> None:
        # shut down from another thread: serve_forever runs in this one's pool
        threading.Thread(target=self.down, daemon=True).start()

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.requests.clear()
        self.up()

    def die_after(self, count: int, path: str = ".") -> None:
        self._add(_Fault("die", re.compile(path), count=count))

    def fail(self, status: int = 503, times: int = 1, path: str = ".") -> None:
        self._add(_Fault("fail", re.compile(path), count=times, status=status))

    def slow(self, seconds: float, path: str = ".") -> None:
        self._add(_Fault("slow", re.compile(path), seconds=seconds))

    def cut(self, after_bytes: int, path: str = ".", times: int = 1) -> None:
        self._add(_Fault("cut", re.compile(path), count=times, after_bytes=after_bytes))

    def fail_after_forward(self, status: int = 502, times: int = 1, path: str = ".") -> None:
        self._add(_Fault("fail_after", re.compile(path), count=times, status=status))

    def rewrite(self, change, times: int = 1, path: str = ".") -> None:
        self._add(_Fault("rewrite", re.compile(path), count=times, change=change))

    def hits(self, method: str, path: str = ".") -> int:
        """How many requests of ``method`` matching ``path`` (a pattern of
        ``"METHOD /path"``, as the faults take) were received."""
        pattern = re.compile(path)
        with self._lock:
            return sum(1 for m, p in self.requests if m == method and pattern.search(f"{m} {p}"))

    def _add(self, fault: _Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def _fault_for(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            self.requests.append((method, path))
            for fault in self.faults:
                if not fault.pattern.search(f"{method} {path}"):
                    continue
                if fault.kind == "slow":
                    return fault
                if fault.hits < fault.count:
                    fault.hits += 1
                    return fault
        return None

    def close(self) -> None:
        self.down()


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _proxy(self):
        if self.owner._server is None:  # down: keep-alive connections die too
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        fault = self.owner._fault_for(self.command, self.path)
        if fault is not None and fault.kind == "fail":
            self._answer(fault.status, b'{"detail": "injected fault"}')
            return
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        upstream = http.client.HTTPConnection(*self.owner.target, timeout=600)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        payload = response.read()
        upstream.close()
        if fault is not None and fault.kind == "fail_after":
            self._answer(fault.status, b'{"detail": "injected fault after the server answered"}')
            return
        if fault is not None and fault.kind == "rewrite":
            payload = json.dumps(fault.change(json.loads(payload))).encode()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if fault is not None and fault.kind == "cut":
            self.wfile.write(payload[: fault.after_bytes])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(payload)
        if fault is not None and fault.kind == "die" and fault.hits == fault.count:
            self.wfile.flush()
            self.close_connection = True
            self.owner._server_gone()

    def _answer(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _proxy


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
