"""A persistent, item-level response cache in SQLite (WAL mode).

Keyed on everything that decides a reply: provider, model, the endpoint (api_base), prompt
hash, the rendered messages (images by content hash, never their bytes), the parameters
actually sent and the seed. The local file lives under ``SCIGEN_STORE`` (see
``default_cache_path``), not the working directory. Only
successful replies are stored, so a failure is retried on the next run while an answer
that was paid for is never paid for again, across runs and processes. A row is committed
as soon as its reply arrives, so a run killed mid-batch keeps everything it finished.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    role TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    content TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    created REAL NOT NULL
)
"""


def _scrub_images(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages with every inline image replaced by the hash of its data URL."""
    out = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            parts = []
            for part in content:
                if part.get("type") == "image_url":
                    url = part["image_url"]["url"] if isinstance(part["image_url"], dict) else part["image_url"]
                    part = {"type": "image_sha256", "sha256": hashlib.sha256(url.encode()).hexdigest()}
                parts.append(part)
            message = {**message, "content": parts}
        out.append(message)
    return out


def endpoint_identity(api_base: str | None) -> str:
    """The server a reply came from: the provider's own service (empty) or the api_base,
    normalized (scheme and host lowercased, no trailing slash). Two servers behind one
    model name never share answers."""
    if not api_base:
        return ""
    base = api_base.strip().rstrip("/")
    scheme, sep, rest = base.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}{sep}{host.lower()}{slash}{path}" if sep else base


def cache_key(*, provider: str, model: str, prompt_hash: str, messages: list[dict[str, Any]],
              params: dict[str, Any], seed: int | None, endpoint: str | None = None) -> str:
    blob = json.dumps(
        {"provider": provider, "model": model, "endpoint": endpoint_identity(endpoint), "prompt_hash": prompt_hash,
         "messages": _scrub_images(messages), "params": params, "seed": seed},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def default_cache_path(store_root: str | None = None) -> str:
    """``<store>/llm-cache.sqlite`` for a local store ($SCIGEN_STORE, else .scigen/store);
    for an object-store URL (s3://...) SQLite cannot live there, so the cache falls back to
    ``.scigen/llm-cache.sqlite`` next to the run."""
    import os

    root = store_root or os.environ.get("SCIGEN_STORE") or ".scigen/store"
    if "://" in root and not root.startswith("file://"):
        return ".scigen/llm-cache.sqlite"
    return str(Path(root.removeprefix("file://")) / "llm-cache.sqlite")


class ResponseCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as conn:
            conn.execute(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        # One connection per thread: sqlite3 connections must not cross threads.
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._conn().execute(
            "SELECT content, prompt_tokens, completion_tokens, cost_usd FROM responses WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        return {"content": row[0], "prompt_tokens": row[1], "completion_tokens": row[2], "cost_usd": row[3]}

    def put(self, key: str, *, model: str, role: str, prompt_hash: str, content: str,
            prompt_tokens: int, completion_tokens: int, cost_usd: float) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, model, role, prompt_hash, content, prompt_tokens, completion_tokens, cost_usd, time.time()),
        )

    def __len__(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM responses").fetchone()[0]
