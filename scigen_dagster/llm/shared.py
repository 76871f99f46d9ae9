"""The production profile's shared state: one response cache and one set of rate limits
for every worker and pod of a deployment, in the deployment's PostgreSQL (the same
server as Dagster's storage, reached through SCIGEN_PG_HOST / _PORT / _USER / _PASSWORD /
_DB). With N Dask workers each building its own client, per-process buckets would send N
times rpm and tpm; a SQLite file on a network volume is unsafe and per host. Here:

- ``PostgresResponseCache``: the ResponseCache interface on a table, first writer wins;
- ``PostgresWindow``: a sliding 60 s log per (role, model, endpoint, kind) under an
  advisory lock, on the server's clock, so the total over every worker never exceeds the
  limit in any minute (a single request larger than the limit goes alone).

Redis is not implemented: PostgreSQL is already part of the production profile.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from typing import Any

PG_ENV = ("SCIGEN_PG_HOST", "SCIGEN_PG_PORT", "SCIGEN_PG_USER", "SCIGEN_PG_PASSWORD", "SCIGEN_PG_DB")
SHARED_ENV = "SCIGEN_LLM_SHARED"  # "0" keeps the local cache and per-process limits


def pg_settings_from_env() -> dict[str, str] | None:
    """Connection settings of the production profile, or None when it is not configured
    (or SCIGEN_LLM_SHARED=0)."""
    if os.environ.get(SHARED_ENV, "").strip() == "0" or not os.environ.get("SCIGEN_PG_HOST"):
        return None
    return {"host": os.environ["SCIGEN_PG_HOST"], "port": os.environ.get("SCIGEN_PG_PORT", "5432"),
            "user": os.environ.get("SCIGEN_PG_USER", ""), "password": os.environ.get("SCIGEN_PG_PASSWORD", ""),
            "dbname": os.environ.get("SCIGEN_PG_DB", "")}


class _Pg:
    def __init__(self, settings: dict[str, str]):
        self.settings = settings
        self._local = threading.local()

    def conn(self):
        import psycopg2

        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = psycopg2.connect(**self.settings, connect_timeout=10)
            conn.autocommit = True
            self._local.conn = conn
        return conn


class PostgresResponseCache:
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS scigen_llm_responses (
        key TEXT PRIMARY KEY, model TEXT NOT NULL, role TEXT NOT NULL, prompt_hash TEXT NOT NULL,
        content TEXT NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
        cost_usd DOUBLE PRECISION NOT NULL, created TIMESTAMPTZ NOT NULL DEFAULT now())
    """

    def __init__(self, settings: dict[str, str]):
        self.pg = _Pg(settings)
        with self.pg.conn().cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(4242)")  # concurrent CREATE IF NOT EXISTS can collide
            try:
                cur.execute(self.SCHEMA)
            finally:
                cur.execute("SELECT pg_advisory_unlock(4242)")

    def get(self, key: str) -> dict[str, Any] | None:
        with self.pg.conn().cursor() as cur:
            cur.execute("SELECT content, prompt_tokens, completion_tokens, cost_usd FROM scigen_llm_responses "
                        "WHERE key = %s", (key,))
            row = cur.fetchone()
        if row is None:
            return None
        return {"content": row[0], "prompt_tokens": row[1], "completion_tokens": row[2], "cost_usd": row[3]}

    def put(self, key: str, *, model: str, role: str, prompt_hash: str, content: str,
            prompt_tokens: int, completion_tokens: int, cost_usd: float) -> None:
        with self.pg.conn().cursor() as cur:
            cur.execute("INSERT INTO scigen_llm_responses (key, model, role, prompt_hash, content, prompt_tokens, "
                        "completion_tokens, cost_usd) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                        "ON CONFLICT (key) DO NOTHING",
                        (key, model, role, prompt_hash, content, prompt_tokens, completion_tokens, cost_usd))

    def __len__(self) -> int:
        with self.pg.conn().cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM scigen_llm_responses")
            return cur.fetchone()[0]


class PostgresWindow:
    """A limit of ``per_minute`` units shared by every process that names the same bucket."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS scigen_llm_limits (
        bucket TEXT NOT NULL, t DOUBLE PRECISION NOT NULL, amount DOUBLE PRECISION NOT NULL)
    """

    def __init__(self, settings: dict[str, str], bucket: str, per_minute: float):
        self.pg = _Pg(settings)
        self.bucket, self.per_minute = bucket, float(per_minute)
        self.lock_id = int.from_bytes(hashlib.sha256(bucket.encode()).digest()[:7], "big")
        with self.pg.conn().cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(4243)")
            try:
                cur.execute(self.SCHEMA)
                cur.execute("CREATE INDEX IF NOT EXISTS scigen_llm_limits_bucket ON scigen_llm_limits (bucket, t)")
            finally:
                cur.execute("SELECT pg_advisory_unlock(4243)")

    def try_take(self, amount: float) -> float:
        """Take ``amount`` now and return 0, or return the seconds to wait."""
        conn = self.pg.conn()
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            try:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock_id,))
                cur.execute("SELECT extract(epoch from clock_timestamp())")
                now = float(cur.fetchone()[0])
                cur.execute("DELETE FROM scigen_llm_limits WHERE bucket = %s AND t <= %s", (self.bucket, now - 60))
                cur.execute("SELECT t, amount FROM scigen_llm_limits WHERE bucket = %s ORDER BY t", (self.bucket,))
                log = cur.fetchall()
                used = sum(a for _, a in log)
                if not log or used + amount <= self.per_minute:
                    cur.execute("INSERT INTO scigen_llm_limits VALUES (%s, %s, %s)", (self.bucket, now, amount))
                    cur.execute("COMMIT")
                    return 0.0
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        freed, target = 0.0, used + amount - self.per_minute
        for t, a in log:
            freed += a
            if freed >= target:
                return max(0.01, t + 60.0 - now)
        return max(0.01, log[-1][0] + 60.0 - now)

    async def acquire(self, amount: float = 1.0, *, until_settled: bool = False) -> None:
        """Wait until ``amount`` may be sent and take it. The shared window dates every
        request from its send, whatever ``until_settled`` says (its rows are written before
        the request goes), so there is nothing for :meth:`settle` to do."""
        while (wait := await asyncio.to_thread(self.try_take, amount)) > 0:
            await asyncio.sleep(wait)

    def settle(self, entry: None) -> None:
        """Nothing to do: see :meth:`acquire`."""
