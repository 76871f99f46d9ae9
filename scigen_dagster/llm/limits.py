"""Client-side rate limits: the calls a role may have in flight, a token bucket per role
for requests and for tokens per minute, and a shared pause that honours a server's
Retry-After for every caller."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator
from contextvars import ContextVar

# Which waiting call goes first when a slot frees: the lowest value, then the earliest.
# A stream sets it per item (its position in the step), so a repair of an early item is
# not queued behind every first attempt of the step, and partitions finish in order.
PRIORITY: ContextVar[float] = ContextVar("scigen_call_priority", default=0.0)


class Slots:
    """At most ``limit`` holders at once; waiters are served by PRIORITY, then in arrival
    order (a plain FIFO semaphore when every caller has the same priority). One per event
    loop: its futures belong to the loop that created them."""

    def __init__(self, limit: int):
        self.limit = max(1, int(limit))
        self.busy = 0
        self._waiters: list[tuple[float, int, asyncio.Future]] = []
        self._arrival = itertools.count()

    async def acquire(self, priority: float | None = None) -> None:
        if self.busy < self.limit and not self._waiters:
            self.busy += 1
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (PRIORITY.get() if priority is None else priority, next(self._arrival), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # granted, then cancelled: pass it on
                self.release()
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)  # the slot passes to the waiter: busy is unchanged
                return
        self.busy -= 1

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()


class Sent:
    """One request in a bucket's window: when it counts from, how much it took, and whether
    its reply is still awaited (then it stays in the window)."""

    __slots__ = ("t", "amount", "in_flight")

    def __init__(self, t: float, amount: float, in_flight: bool):
        self.t, self.amount, self.in_flight = t, amount, in_flight


class TokenBucket:
    """Refills ``per_minute`` units per minute up to a burst of ``capacity``.

    A request is charged in full, however large: the bucket may go into debt, and the
    next caller waits until the debt is repaid, so the average rate is the limit. A
    sliding 60 s log on top keeps every minute's total at or under ``per_minute`` (a
    single request larger than the limit goes alone, into an empty minute). Request
    buckets need the log too: a full burst plus a minute of refill is ``capacity`` more
    than the limit, which a server counting a sliding minute answers with 429s.

    The server counts a request when it arrives, which the client never sees: somewhere
    between the send and the reply. So :meth:`acquire` returns the request's log entry and
    the caller hands it to :meth:`settle` when the reply (or the error) comes; the entry
    then dates from the reply, the latest moment the server can have counted it, and it
    leaves the window 60 s after that. A request in flight stays in the window."""

    POLL_S = 0.25  # how often a full window whose oldest request is in flight is looked at again

    def __init__(self, per_minute: float, capacity: float | None = None, clock=None):
        self.per_minute = float(per_minute)
        self.rate = per_minute / 60.0
        # A small burst keeps the client from front-loading a minute's quota in one
        # second, which servers that count per second would answer with 429s.
        self.capacity = capacity if capacity is not None else max(1.0, per_minute / 60.0)
        self._clock = clock
        self.tokens = self.capacity
        self.updated = self.clock()
        self.log: deque[Sent] = deque()  # the requests of the last 60 s, in send order
        self._in_window = 0.0  # the sum of the log's amounts
        # asyncio locks belong to one event loop and every batch() runs its own loop.
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def clock(self) -> float:
        return self._clock() if self._clock is not None else time.monotonic()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        while self.log and not self.log[0].in_flight and now - self.log[0].t >= 60.0:
            self._in_window -= self.log.popleft().amount
        if not self.log:
            self._in_window = 0.0  # no float drift across a long run

    def _wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` may be sent (0 when it may go now)."""
        now = self.clock()
        waits = [0.0]
        need = min(amount, self.capacity)
        if self.tokens < need:
            waits.append((need - self.tokens) / self.rate)
        in_window = self._in_window
        if self.log and in_window + amount > self.per_minute:
            # the earliest moment enough of the window has expired
            # (entries leave in send order, so an entry is gone once all before it are)
            freed, target, latest = 0.0, in_window + amount - self.per_minute, -float("inf")
            for sent in self.log:
                if sent.in_flight:  # it leaves no sooner than 60 s after its reply
                    waits.append(self.POLL_S)
                    break
                freed, latest = freed + sent.amount, max(latest, sent.t)
                if freed >= target or freed >= in_window:
                    waits.append(latest + 60.0 - now)
                    break
        return max(waits)

    async def acquire(self, amount: float = 1.0, *, until_settled: bool = False) -> Sent:
        """Wait until ``amount`` may be sent, charge it, and return its log entry. With
        ``until_settled`` the entry stays in the window until it is handed to :meth:`settle`
        (which the caller must then do, error or not); else it dates from now."""
        loop = asyncio.get_running_loop()
        if self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        async with self._lock:
            while True:
                self._refill()
                wait = self._wait_for(amount)
                if wait <= 0:
                    self.tokens -= amount  # the whole request; may go below zero (debt)
                    entry = Sent(self.clock(), amount, until_settled)
                    self.log.append(entry)
                    self._in_window += amount
                    return entry
                await asyncio.sleep(wait)

    def settle(self, entry: Sent) -> None:
        """The reply (or the error) to the request of ``entry`` has come: it dates from now."""
        entry.t, entry.in_flight = self.clock(), False


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
