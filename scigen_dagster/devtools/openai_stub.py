"""A small OpenAI-compatible chat server on 127.0.0.1 for tests and benchmarks.

It speaks `/v1/chat/completions` over real HTTP so litellm's whole client path runs,
and it misbehaves on request: added latency (fixed, or drawn per request, e.g.
``lognormal_latency``), 429 with Retry-After (at random or when a requests-per-minute
limit is crossed), 500, hanging past the client's timeout, and malformed or truncated
JSON. It counts every request it received and every one it answered with a usable reply,
per item, and times every chat request by kind (``StubConfig.tag``), so tests and
benchmarks can prove what was paid for and how busy the server was kept.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
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


def lognormal_latency(median_s: float, sigma: float, seed: int = 0) -> Callable[[dict[str, Any]], float]:
    """Seconds to answer a request body: lognormal with ``median_s`` and ``sigma``, drawn
    from the request's own messages, so the same request always takes the same time (two
    runs of one workload meet the same latencies)."""
    def latency(body: dict[str, Any]) -> float:
        digest = hashlib.sha256(f"{seed}|{json.dumps(body.get('messages', body), sort_keys=True)}".encode()).digest()
        return median_s * math.exp(sigma * random.Random(digest).gauss(0.0, 1.0))
    return latency


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
    latency: Callable[[dict[str, Any]], float] | None = None  # per request; overrides latency_s
    tag: Callable[[list[dict[str, Any]]], str] | None = None  # a request's kind, for the timings
    # The batch API: a batch is done this long after it was created; ``batch_fail``
    # names the custom_ids whose line fails (a 500 in the error file); ``batch_expire``
    # ends every batch "expired" with its second half never run.
    batch_delay_s: float = 0.0
    batch_fail: Callable[[str], bool] | None = None
    batch_expire: bool = False


@dataclass
class StubStats:
    requests: int = 0
    answered: int = 0  # well-formed 200 replies: the calls a real API would bill
    rate_limited: int = 0
    faults: Counter = field(default_factory=Counter)
    by_item: Counter = field(default_factory=Counter)  # answered replies per last user message
    timings: list = field(default_factory=list)  # (tag, arrived, answered) per chat request, time.time()
    batch_lines: int = 0  # batch requests answered (billed at the batch price, not in ``answered``)
    batches: int = 0


_MULTIPART_FIELD = re.compile(rb'name="([^"]*)"(?:; filename="([^"]*)")?')


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a multipart/form-data body: name -> (filename or None, bytes)."""
    boundary = content_type.split("boundary=", 1)[1].strip().strip('"').encode()
    fields = {}
    for part in raw.split(b"--" + boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, value = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        match = _MULTIPART_FIELD.search(head)
        if match:
            filename = match.group(2).decode() if match.group(2) is not None else None
            fields[match.group(1).decode()] = (filename, value.removesuffix(b"\r\n"))
    return fields


class _BatchEndpoints:
    """OpenAI's Files and Batch API as its reference defines them: upload a JSONL file
    (purpose "batch"), create a batch of it, poll the batch, read its output and error
    files. A batch runs every line through the responder (no latency, no fault) when it
    is first read after ``batch_delay_s``."""

    def _upload(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        fields = _multipart(handler.headers.get("Content-Type", ""), raw)
        if "file" not in fields:
            return self._send(handler, 400, b'{"error": {"message": "no file field"}}')
        filename, data = fields["file"]
        purpose = fields.get("purpose", (None, b""))[1].decode()
        file_id = self._new_file(data, purpose, filename or "upload.jsonl")
        self._send(handler, 200, json.dumps(self._file_object(file_id)).encode())

    def _new_file(self, data: bytes, purpose: str, filename: str) -> str:
        with self._lock:
            file_id = f"file-{len(self.files) + 1:06d}"
            self.files[file_id] = {"purpose": purpose, "filename": filename, "bytes": data, "created_at": int(time.time())}
        return file_id

    def _file_object(self, file_id: str) -> dict[str, Any]:
        f = self.files[file_id]
        return {"id": file_id, "object": "file", "bytes": len(f["bytes"]), "created_at": f["created_at"],
                "filename": f["filename"], "purpose": f["purpose"], "status": "processed"}

    def _file_content(self, handler: BaseHTTPRequestHandler, file_id: str) -> None:
        if file_id not in self.files:
            return self._send(handler, 404, b'{"error": {"message": "no such file"}}')
        self._send(handler, 200, self.files[file_id]["bytes"], {"Content-Type": "application/octet-stream"})

    def _create_batch(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        file_id = body.get("input_file_id")
        if file_id not in self.files or self.files[file_id]["purpose"] != "batch":
            return self._send(handler, 400, b'{"error": {"message": "input_file_id is not a batch file"}}')
        lines = [line for line in self.files[file_id]["bytes"].decode().splitlines() if line.strip()]
        now = int(time.time())
        with self._lock:
            self.stats.batches += 1
            batch_id = f"batch_{len(self.batch_objects) + 1:06d}"
            self.batch_objects[batch_id] = {
                "id": batch_id, "object": "batch", "endpoint": body.get("endpoint"), "errors": None,
                "input_file_id": file_id, "completion_window": body.get("completion_window", "24h"),
                "status": "validating", "output_file_id": None, "error_file_id": None, "created_at": now,
                "in_progress_at": None, "expires_at": now + 86400, "finalizing_at": None, "completed_at": None,
                "failed_at": None, "expired_at": None, "cancelling_at": None, "cancelled_at": None,
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
                "metadata": body.get("metadata"), "_started": time.monotonic()}
        self._send(handler, 200, json.dumps(self._public(batch_id)).encode())

    def _public(self, batch_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.batch_objects[batch_id].items() if not k.startswith("_")}

    def _retrieve_batch(self, handler: BaseHTTPRequestHandler, batch_id: str) -> None:
        if batch_id not in self.batch_objects:
            return self._send(handler, 404, b'{"error": {"message": "no such batch"}}')
        batch = self.batch_objects[batch_id]
        if batch["status"] in ("validating", "in_progress"):
            if time.monotonic() - batch["_started"] >= self.config.batch_delay_s:
                self._run_batch(batch)
            else:
                batch["status"], batch["in_progress_at"] = "in_progress", batch["in_progress_at"] or int(time.time())
        self._send(handler, 200, json.dumps(self._public(batch_id)).encode())

    def _run_batch(self, batch: dict[str, Any]) -> None:
        lines = [json.loads(line) for line in self.files[batch["input_file_id"]]["bytes"].decode().splitlines()
                 if line.strip()]
        cfg, out, errors = self.config, [], []
        run = lines[: (len(lines) + 1) // 2] if cfg.batch_expire else lines
        for n, line in enumerate(lines):
            request_id = f"{batch['id']}-req-{n}"
            if n >= len(run):
                errors.append({"id": request_id, "custom_id": line["custom_id"], "response": None, "error": {
                    "code": "batch_expired",
                    "message": "This request could not be executed before the completion window expired."}})
            elif cfg.batch_fail is not None and cfg.batch_fail(line["custom_id"]):
                errors.append({"id": request_id, "custom_id": line["custom_id"], "error": None, "response": {
                    "status_code": 500, "request_id": request_id,
                    "body": {"error": {"message": "internal error", "type": "server_error"}}}})
            else:
                out.append({"id": request_id, "custom_id": line["custom_id"], "error": None, "response": {
                    "status_code": 200, "request_id": request_id, "body": self._completion(line["body"])}})
        with self._lock:
            self.stats.batch_lines += len(out)
        now = int(time.time())
        batch["request_counts"] = {"total": len(lines), "completed": len(out), "failed": len(errors)}
        if out:
            batch["output_file_id"] = self._new_file("".join(json.dumps(o) + "\n" for o in out).encode(),
                                                     "batch_output", f"{batch['id']}_output.jsonl")
        if errors:
            batch["error_file_id"] = self._new_file("".join(json.dumps(e) + "\n" for e in errors).encode(),
                                                    "batch_output", f"{batch['id']}_error.jsonl")
        batch["in_progress_at"] = batch["in_progress_at"] or now
        if cfg.batch_expire:
            batch["status"], batch["expired_at"] = "expired", now
        else:
            batch["status"], batch["finalizing_at"], batch["completed_at"] = "completed", now, now


class OpenAIStub(_BatchEndpoints):
    def __init__(self, config: StubConfig | None = None, port: int = 0):
        self.config = config or StubConfig()
        self.stats = StubStats()
        self._lock = threading.Lock()
        self._rng = random.Random(self.config.seed)
        self._window: deque[float] = deque()
        self.files: dict[str, dict[str, Any]] = {}  # id -> {"purpose", "filename", "bytes"}
        self.batch_objects: dict[str, dict[str, Any]] = {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path = self.path.split("?", 1)[0].rstrip("/")
                if path.endswith("/files"):
                    return stub._upload(self, raw)
                if path.endswith("/batches"):
                    return stub._create_batch(self, json.loads(raw or b"{}"))
                stub._handle(self, json.loads(raw or b"{}"))

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0].rstrip("/")
                parts = path.split("/")
                if len(parts) >= 3 and parts[-3] == "files" and parts[-1] == "content":
                    return stub._file_content(self, parts[-2])
                if len(parts) >= 2 and parts[-2] == "batches":
                    return stub._retrieve_batch(self, parts[-1])
                stub._send(self, 404, b'{"error": {"message": "not found"}}')

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

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        """The chat.completion object answering a request body (the responder's reply)."""
        messages = body.get("messages", [])
        content = self.config.responder(messages)
        prompt_tokens = len(json.dumps(messages)) // 4 + 1
        return {
            "id": f"stub-{self.stats.requests}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(content) // 4 + 1,
                      "total_tokens": prompt_tokens + len(content) // 4 + 1},
        }

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
        arrived = time.time()
        delay = cfg.latency(body) if cfg.latency is not None else cfg.latency_s
        if delay:
            time.sleep(delay)
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
        reply = self._completion(body)
        with self._lock:
            self.stats.answered += 1
            last_user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
            self.stats.by_item[json.dumps(last_user.get("content"), sort_keys=True)[:200]] += 1
        self._send(handler, 200, json.dumps(reply).encode())
        with self._lock:
            self.stats.timings.append((cfg.tag(messages) if cfg.tag else "chat", arrived, time.time()))


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
