"""Batch mode: requests that need no answer now go to the provider's batch API, at its
batch price.

A role with ``batch`` on (the judge, the answerer; a planner for its first attempts)
never sends a request whose reply is not in the response cache: the client defers it
(``BatchQueue``), the step writes no table for a partition still waiting for a reply, and
after the step's stream the deferred requests are written as the provider's batch file
(OpenAI's JSONL: one ``{"custom_id", "method", "url", "body"}`` line per request, the
body exactly what the interactive call would send), uploaded and submitted through
litellm's files and batches API, and recorded in the store's batch tables
(``BatchStore``: SQLite, in the response cache's file). The ``llm_batches`` sensor polls
the live batches (``poll``): a finished batch's replies go into the response cache under
the key the interactive call uses, with their batch price, and the waiting step is
requested; it then runs from the cache, and its ledger bills each reply once, as a batch
call at the batch price.

A request that failed or expired in its batch is submitted again with the next step's
batch, up to ``MAX_TRIES`` batches, then it is called interactively; a request in a live
batch or already answered is never submitted again. litellm 1.106.2 submits batches to
OpenAI-compatible endpoints only (OpenAI, a vLLM server, any ``api_base`` speaking the
OpenAI API); for Anthropic and the Gemini developer API it cannot, and such a role runs
interactively, saying so in the step's usage.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_TRIES = 3
ENDPOINT = "/v1/chat/completions"
# Providers whose batches litellm 1.106.2 submits through the OpenAI files and batches API.
BATCH_PROVIDERS = ("openai", "hosted_vllm")
TERMINAL = ("completed", "expired", "failed", "cancelled")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS batch_requests (
        key TEXT PRIMARY KEY, role TEXT NOT NULL, model TEXT NOT NULL, prompt_hash TEXT NOT NULL, state TEXT NOT NULL,
        batch_id TEXT, tries INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
        consumed INTEGER NOT NULL DEFAULT 0, prompt_tokens INTEGER, completion_tokens INTEGER,
        cost_usd REAL, updated REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS batches (
        batch_id TEXT PRIMARY KEY, role TEXT NOT NULL, model TEXT NOT NULL, api_base TEXT,
        input_file_id TEXT NOT NULL, output_file_id TEXT, error_file_id TEXT, state TEXT NOT NULL,
        requests INTEGER NOT NULL, asset TEXT NOT NULL, partitions TEXT NOT NULL,
        created REAL NOT NULL, updated REAL NOT NULL)""",
)


def unsupported(settings) -> str | None:
    """Why a role's batches cannot be submitted (None: they can)."""
    if settings.provider in BATCH_PROVIDERS:
        return None
    return (f"litellm 1.106.2 cannot submit batches for provider {settings.provider!r} "
            f"(model {settings.model}); its calls run interactively")


def batch_prices(settings) -> tuple[float, float] | None:
    """(input, output) dollars per token of the model's batches: litellm's price map's
    batch prices where it lists them, else the role's own prices (no discount assumed)."""
    import litellm

    from scigen_dagster.llm.client import role_prices

    if settings.input_usd_per_mtok is None and settings.output_usd_per_mtok is None:
        for name in (settings.model, settings.model.split("/", 1)[-1]):
            info = litellm.model_cost.get(name) or {}
            if info.get("input_cost_per_token_batches") is not None:
                return float(info["input_cost_per_token_batches"]), float(info.get("output_cost_per_token_batches") or 0)
    return role_prices(settings)


def request_body(settings, messages: list[dict[str, Any]], max_tokens: int, response_format: dict | None) -> dict:
    """The chat-completions body the interactive call sends, in the OpenAI form litellm
    gives it (a reasoning model's budget as max_completion_tokens, and so on)."""
    from litellm.utils import get_optional_params

    from scigen_dagster.llm.client import request_params

    params, _ = request_params(settings, max_tokens, response_format)
    optional = get_optional_params(model=settings.model.split("/", 1)[-1], custom_llm_provider=settings.provider,
                                   **params)
    extra = optional.pop("extra_body", None) or {}
    optional.pop("stream", None)
    return {"model": settings.model.split("/", 1)[-1], "messages": messages, **optional, **extra}


@dataclass
class Deferred:
    key: str  # the response cache's key of the request: its custom_id in the batch
    role: str
    prompt_hash: str
    body: dict


class BatchStore:
    """The batch tables of the store: every deferred request by its cache key (state
    queued -> submitted -> answered | failed) and every submitted batch."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        for statement in SCHEMA:
            self._conn().execute(statement)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
        return conn

    def request(self, key: str) -> dict | None:
        cols = ("state", "tries", "consumed", "prompt_tokens", "completion_tokens", "cost_usd", "batch_id",
                "prompt_hash", "error")
        row = self._conn().execute(f"SELECT {', '.join(cols)} FROM batch_requests WHERE key = ?", (key,)).fetchone()
        return None if row is None else dict(zip(cols, row))

    def consume(self, key: str) -> dict | None:
        """A batch reply read for the first time (the ledger bills it once), else None."""
        cur = self._conn().execute("UPDATE batch_requests SET consumed = 1, updated = ? "
                                   "WHERE key = ? AND state = 'answered' AND consumed = 0", (time.time(), key))
        return self.request(key) if cur.rowcount else None

    def record_batch(self, batch_id: str, role: str, model: str, api_base: str | None, input_file_id: str,
                     items: list[Deferred], asset: str, partitions: list) -> None:
        now = time.time()
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?, NULL, NULL, 'submitted', ?, ?, ?, ?, ?)",
                         (batch_id, role, model, api_base, input_file_id, len(items), asset, json.dumps(partitions),
                          now, now))
            for d in items:
                conn.execute("INSERT INTO batch_requests (key, role, model, prompt_hash, state, batch_id, tries, "
                             "updated) VALUES (?, ?, ?, ?, 'submitted', ?, 1, ?) ON CONFLICT(key) DO UPDATE SET "
                             "state = 'submitted', batch_id = excluded.batch_id, tries = tries + 1, error = '', "
                             "updated = excluded.updated", (d.key, role, model, d.prompt_hash, batch_id, now))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def answered(self, key: str, prompt_tokens: int, completion_tokens: int, cost_usd: float | None) -> None:
        self._conn().execute("UPDATE batch_requests SET state = 'answered', prompt_tokens = ?, completion_tokens = ?, "
                             "cost_usd = ?, error = '', updated = ? WHERE key = ?",
                             (prompt_tokens, completion_tokens, cost_usd, time.time(), key))

    def failed(self, key: str, error: str) -> None:
        self._conn().execute("UPDATE batch_requests SET state = 'failed', error = ?, updated = ? "
                             "WHERE key = ? AND state = 'submitted'", (error[:500], time.time(), key))

    def live_batches(self) -> list[dict]:
        cols = ("batch_id", "role", "model", "api_base", "asset", "partitions", "requests")
        rows = self._conn().execute(f"SELECT {', '.join(cols)} FROM batches WHERE state = 'submitted' "
                                    "ORDER BY created").fetchall()
        return [dict(zip(cols, r)) | {"partitions": json.loads(r[5])} for r in rows]

    def finish_batch(self, batch_id: str, state: str, output_file_id: str | None, error_file_id: str | None) -> None:
        conn = self._conn()
        conn.execute("UPDATE batches SET state = ?, output_file_id = ?, error_file_id = ?, updated = ? "
                     "WHERE batch_id = ?", (state, output_file_id, error_file_id, time.time(), batch_id))
        # Requests the batch neither answered nor listed as failed (a failed or cancelled batch).
        conn.execute("UPDATE batch_requests SET state = 'failed', error = ?, updated = ? "
                     "WHERE batch_id = ? AND state = 'submitted'", (f"batch {state}", time.time(), batch_id))

    def table(self) -> list[dict]:
        """Every batch with its counts, for people (the sensor's log, a test)."""
        cols = ("batch_id", "role", "model", "state", "requests", "asset", "partitions", "created", "updated")
        return [dict(zip(cols, r)) for r in self._conn().execute(
            f"SELECT {', '.join(cols)} FROM batches ORDER BY created").fetchall()]


class BatchQueue:
    """The requests a run deferred, by cache key, until the step submits them."""

    def __init__(self, store: BatchStore):
        self.store = store
        self.pending: dict[str, Deferred] = {}
        self._lock = threading.Lock()

    def defer(self, key: str, role: str, prompt_hash: str, body_of) -> bool:
        """Defer a request whose reply is not cached: True when it waits for a batch
        (queued now, or already in a live one); False when it has failed in MAX_TRIES
        batches and must be called interactively."""
        known = self.store.request(key)
        if known is not None and known["state"] == "submitted":
            return True  # in a live batch: never submitted twice
        if known is not None and known["state"] == "failed" and known["tries"] >= MAX_TRIES:
            return False
        with self._lock:
            if key not in self.pending:
                self.pending[key] = Deferred(key, role, prompt_hash, body_of())
        return True

    def take(self) -> list[Deferred]:
        with self._lock:
            out, self.pending = list(self.pending.values()), {}
        return out


def _endpoint(settings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"custom_llm_provider": "openai"}
    if settings.api_base:
        kwargs["api_base"] = settings.api_base
    kwargs["api_key"] = settings.api_key or ("no-key" if settings.api_base else None)
    return kwargs


async def submit(client, deferred: list[Deferred], asset: str, partitions: list) -> list[str]:
    """One batch per role of ``deferred``: the JSONL file uploaded, the batch created and
    recorded. Returns the batch ids."""
    import litellm

    by_role: dict[str, list[Deferred]] = {}
    for d in deferred:
        by_role.setdefault(d.role, []).append(d)
    ids = []
    for role, items in by_role.items():
        settings = client.settings(role)
        lines = [json.dumps({"custom_id": d.key, "method": "POST", "url": ENDPOINT, "body": d.body},
                            ensure_ascii=False) for d in items]
        data = ("\n".join(lines) + "\n").encode()
        file = await litellm.acreate_file(file=("scigen-batch.jsonl", data), purpose="batch", **_endpoint(settings))
        batch = await litellm.acreate_batch(completion_window="24h", endpoint=ENDPOINT, input_file_id=file.id,
                                            metadata={"asset": asset[:500], "role": role}, **_endpoint(settings))
        client.batches.store.record_batch(batch.id, role, settings.model, settings.api_base, file.id, items, asset,
                                        partitions)
        ids.append(batch.id)
    return ids


def _reply(line: dict) -> tuple[str | None, int, int, str]:
    """(content or None, prompt tokens, completion tokens, error) of one output line."""
    response = line.get("response") or {}
    if line.get("error") or response.get("status_code") != 200:
        error = line.get("error") or (response.get("body") or {}).get("error") or {}
        return None, 0, 0, str(error.get("message") or error.get("code") or f"status {response.get('status_code')}")
    body = response.get("body") or {}
    choice = (body.get("choices") or [{}])[0]
    usage = body.get("usage") or {}
    pt, ct = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    if choice.get("finish_reason") in ("length", "max_tokens"):
        return None, pt, ct, "truncated: the reply was cut by max_tokens"
    content = (choice.get("message") or {}).get("content")
    return (content, pt, ct, "") if content else (None, pt, ct, "empty reply")


async def _lines(settings, file_id: str | None) -> list[dict]:
    import litellm

    if not file_id:
        return []
    content = await litellm.afile_content(file_id=file_id, **_endpoint(settings))
    return [json.loads(line) for line in content.content.decode().splitlines() if line.strip()]


async def poll(client) -> list[dict]:
    """Look at every live batch once; ingest the finished ones: each reply into the
    response cache (at the batch price), each failure marked for resubmission. Returns
    the finished batches (with the asset and partitions waiting for them)."""
    import litellm

    store = client.batches.store
    finished = []
    for batch in store.live_batches():
        settings = client.settings(batch["role"])
        remote = await litellm.aretrieve_batch(batch_id=batch["batch_id"], **_endpoint(settings))
        if remote.status not in TERMINAL:
            continue
        prices = batch_prices(settings)
        for line in await _lines(settings, remote.output_file_id) + await _lines(settings, remote.error_file_id):
            key = line.get("custom_id")
            content, pt, ct, error = _reply(line)
            if content is None:
                store.failed(key, error)
                continue
            known = store.request(key)
            if known is None:
                continue  # not a request of ours
            cost = None if prices is None else pt * prices[0] + ct * prices[1]
            client.cache.put(key, model=settings.model, role=batch["role"], prompt_hash=known["prompt_hash"],
                             content=content, prompt_tokens=pt, completion_tokens=ct, cost_usd=cost or 0.0)
            store.answered(key, pt, ct, cost)
        store.finish_batch(batch["batch_id"], remote.status, remote.output_file_id, remote.error_file_id)
        finished.append(batch | {"state": remote.status,
                                 "counts": getattr(remote.request_counts, "model_dump", dict)()
                                 if remote.request_counts is not None else {}})
    return finished


def poll_now(client) -> list[dict]:
    return asyncio.run(poll(client))
