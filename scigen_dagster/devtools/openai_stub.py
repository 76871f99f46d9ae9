"""A small OpenAI-compatible chat server on 127.0.0.1 for tests and benchmarks.

It speaks `/v1/chat/completions` over real HTTP so litellm's whole client path runs,
and it misbehaves on request: added latency, 429 with Retry-After (at random or when a
requests-per-minute limit is crossed), 500, hanging past the client's timeout, and
malformed or truncated JSON. It counts every request it received and every one it
answered with a usable reply, per item, so tests can prove what was paid for.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

Responder = Callable[[list[dict[str, Any]]], str]


def stub_png(prompt: str, size: int = 32) -> bytes:
    """A small PNG whose colour is derived from the prompt: deterministic, distinct per prompt."""
    import io

    from PIL import Image

    digest = hashlib.sha256(prompt.encode()).digest()
    buf = io.BytesIO()
    Image.new("RGB", (size, size), tuple(digest[:3])).save(buf, format="PNG")
    return buf.getvalue()


def echo_responder(messages: list[dict[str, Any]]) -> str:
    return json.dumps({"echo": str(messages[-1].get("content"))[:40]})


@dataclass
class StubConfig:
    latency_s: float = 0.0
    rate_limit_rpm: float | None = None  # enforced over a sliding 60 s window
    retry_after_s: float = 1.0
    fault_rate: float = 0.0  # share of requests answered with a random fault below
    faults: tuple[str, ...] = ("429", "500", "hang", "malformed", "truncated")
    hang_s: float = 30.0
    seed: int = 0
    responder: Responder = echo_responder


@dataclass
class StubStats:
    requests: int = 0
    answered: int = 0  # well-formed 200 replies: the calls a real API would bill
    rate_limited: int = 0
    faults: Counter = field(default_factory=Counter)
    by_item: Counter = field(default_factory=Counter)  # answered replies per last user message


class OpenAIStub:
    def __init__(self, config: StubConfig | None = None, port: int = 0):
        self.config = config or StubConfig()
        self.stats = StubStats()
        self._lock = threading.Lock()
        self._rng = random.Random(self.config.seed)
        self._window: deque[float] = deque()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                stub._handle(self, body)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> "OpenAIStub":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _send(self, handler: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        try:
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _handle(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        cfg = self.config
        messages = body.get("messages", [])
        with self._lock:
            self.stats.requests += 1
            now = time.monotonic()
            limited = False
            if cfg.rate_limit_rpm:
                while self._window and now - self._window[0] > 60:
                    self._window.popleft()
                limited = len(self._window) >= cfg.rate_limit_rpm
                if not limited:
                    self._window.append(now)
            fault = self._rng.choice(cfg.faults) if cfg.fault_rate and self._rng.random() < cfg.fault_rate else None
        if limited:
            with self._lock:
                self.stats.rate_limited += 1
            return self._send(handler, 429, b'{"error": {"message": "rate limited", "type": "rate_limit"}}',
                              {"Retry-After": f"{cfg.retry_after_s:g}"})
        if cfg.latency_s:
            time.sleep(cfg.latency_s)
        if fault:
            with self._lock:
                self.stats.faults[fault] += 1
            if fault == "429":
                return self._send(handler, 429, b'{"error": {"message": "slow down"}}', {"Retry-After": f"{cfg.retry_after_s:g}"})
            if fault == "500":
                return self._send(handler, 500, b'{"error": {"message": "internal error"}}')
            if fault == "hang":
                time.sleep(cfg.hang_s)
                return self._send(handler, 504, b"{}")
            if fault == "malformed":
                return self._send(handler, 200, b"this is not json")
            if fault == "truncated":
                return self._send(handler, 200, b'{"id": "x", "choices": [{"index": 0, "message": {"role": "assi')
        if "prompt" in body and "messages" not in body:  # /v1/images/generations
            with self._lock:
                self.stats.answered += 1
                self.stats.by_item[str(body["prompt"])[:200]] += 1
            png = stub_png(str(body["prompt"]))
            return self._send(handler, 200, json.dumps(
                {"created": int(time.time()), "data": [{"b64_json": base64.b64encode(png).decode()}]}).encode())
        content = cfg.responder(messages)
        prompt_tokens = len(json.dumps(messages)) // 4 + 1
        reply = {
            "id": f"stub-{self.stats.requests}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(content) // 4 + 1,
                      "total_tokens": prompt_tokens + len(content) // 4 + 1},
        }
        with self._lock:
            self.stats.answered += 1
            last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
            self.stats.by_item[json.dumps(last_user.get("content"), sort_keys=True)[:200]] += 1
        self._send(handler, 200, json.dumps(reply).encode())


def main() -> None:
    """Serve in its own process (benchmarks), printing the URL on the first line."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--rpm", type=float, default=None)
    parser.add_argument("--retry-after", type=float, default=1.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    args = parser.parse_args()
    stub = OpenAIStub(StubConfig(latency_s=args.latency, rate_limit_rpm=args.rpm, retry_after_s=args.retry_after,
                                 fault_rate=args.fault_rate), port=args.port)
    print(stub.url, flush=True)
    try:
        stub.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        print(json.dumps({"requests": stub.stats.requests, "answered": stub.stats.answered,
                          "rate_limited": stub.stats.rate_limited}), flush=True)


if __name__ == "__main__":
    main()
