"""Client-side rate limits: a token bucket per role for requests and for tokens per
minute, and a shared pause that honours a server's Retry-After for every caller."""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """Refills ``per_minute`` units per minute up to a burst of ``capacity``."""

    def __init__(self, per_minute: float, capacity: float | None = None):
        self.rate = per_minute / 60.0
        # A small burst keeps the client from front-loading a minute's quota in one
        # second, which servers that count per second would answer with 429s.
        self.capacity = capacity if capacity is not None else max(1.0, per_minute / 60.0)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        # asyncio locks belong to one event loop and every batch() runs its own loop.
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    async def acquire(self, amount: float = 1.0) -> None:
        amount = min(amount, self.capacity)  # a request larger than the burst waits for a full bucket
        loop = asyncio.get_running_loop()
        if self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        async with self._lock:
            while True:
                self._refill()
                if self.tokens >= amount:
                    self.tokens -= amount
                    return
                await asyncio.sleep((amount - self.tokens) / self.rate)


class Pause:
    """A gate every caller passes before sending; a 429 with Retry-After closes it."""

    def __init__(self) -> None:
        self.until = 0.0

    def hold(self, seconds: float) -> None:
        self.until = max(self.until, time.monotonic() + seconds)

    async def wait(self) -> None:
        # Loop: another 429 may extend the pause while this caller sleeps.
        while (delay := self.until - time.monotonic()) > 0:
            await asyncio.sleep(delay)
