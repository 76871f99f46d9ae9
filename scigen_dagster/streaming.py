"""Streams of per-item work: every item of every partition of a step on its own way.

A stage that calls models describes one partition as a ``PartitionWork``: a coroutine
function per item (plan -> render -> repair -> render -> done; judge one figure; answer
one problem's quizzes, seen and blind) and the function that builds the partition's table
from the items' results, in item order. ``run_partition`` runs one partition (the
stage's plain function does exactly that); a step hands every stale partition to
``stream`` at once, so no item waits for another: the model calls of all of them share
the roles' slots (``llm.limits.Slots``), and each partition is finished, and can be
written, the moment its last item is.

Items start in order, at most ``in_flight`` at a time (their requests, images included,
are built only when they start); each runs with its position in the step as the priority
of its calls, so an early item's repair is not queued behind every later first attempt
and partitions finish roughly in order. An item that has made its last call says so
(``calls_done``) and stops counting against ``in_flight`` while it finishes (an OCR leak
check), so a slow OCR queue never starves the model.

Blocking work runs in lanes (``in_lane``): a thread pool per kind of work (the sandbox,
OCR, storage), so a long OCR queue never holds up the renders, nor a render the OCR.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
from collections.abc import Awaitable, Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pandas as pd

from scigen_dagster.llm.limits import PRIORITY, Slots

# Items started and not yet past their last call, over the whole step. Items queued for
# a slot cost only their request (an image's data URL at most), so this is generous.
ITEMS_IN_FLIGHT = 256


@dataclass
class PartitionWork:
    """One partition's items as coroutine functions, and how their results (in item
    order) become the partition's table."""

    items: Sequence[Callable[[], Awaitable[Any]]]
    assemble: Callable[[list[Any]], pd.DataFrame]


class _Lanes:
    def __init__(self) -> None:
        self.pools: dict[str, ThreadPoolExecutor] = {}

    def pool(self, lane: str, workers: int) -> ThreadPoolExecutor:
        if lane not in self.pools:
            self.pools[lane] = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=f"scigen-{lane}")
        return self.pools[lane]

    def close(self) -> None:
        for pool in self.pools.values():
            pool.shutdown(wait=True)


_LANES: ContextVar[_Lanes | None] = ContextVar("scigen_lanes", default=None)
_TICKET: ContextVar[_Ticket | None] = ContextVar("scigen_item_ticket", default=None)


async def in_lane(lane: str, workers: int, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in the lane's thread pool (``workers`` threads, fixed by the lane's
    first use in the stream); outside a stream, in a thread of its own."""
    lanes = _LANES.get()
    if lanes is None:
        return await asyncio.to_thread(fn, *args)
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(
        lanes.pool(lane, workers), functools.partial(context.run, fn, *args))


class _Ticket:
    """An item's place among the ``in_flight`` started items, given back once."""

    def __init__(self, gate: Slots):
        self.gate, self.held = gate, True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.gate.release()


def calls_done() -> None:
    """The running item has made its last model call: what is left of it (an OCR check)
    no longer counts against the step's items in flight."""
    ticket = _TICKET.get()
    if ticket is not None:
        ticket.give_back()


async def stream(
    works: Sequence[tuple[Hashable, PartitionWork]],
    finish: Callable[[Hashable, pd.DataFrame], Awaitable[None]],
    *,
    context: Callable[[Hashable], contextlib.AbstractContextManager] | None = None,
    item_done: Callable[[Hashable], None] | None = None,
    in_flight: int = ITEMS_IN_FLIGHT,
) -> None:
    """Run every item of ``works`` (key, work) as one stream; ``await finish(key, table)``
    as soon as a partition's last item is done. ``context(key)`` is entered around each
    partition's items (a per-partition ledger); ``item_done(key)`` is told of each item.
    The first item to raise cancels the rest and its exception is raised; partitions
    finished before it stay finished."""
    gate = Slots(in_flight)
    lanes = _Lanes()
    lanes_token = _LANES.set(lanes)

    async def run_item(position: int, key: Hashable, fn: Callable[[], Awaitable[Any]]) -> Any:
        PRIORITY.set(position)
        await gate.acquire(position)
        ticket = _Ticket(gate)
        _TICKET.set(ticket)
        try:
            result = await fn()
        finally:
            ticket.give_back()
        if item_done is not None:
            item_done(key)
        return result

    async def run_partition(key: Hashable, work: PartitionWork, first: int) -> None:
        with context(key) if context is not None else contextlib.nullcontext():
            results = await asyncio.gather(*(run_item(first + i, key, fn) for i, fn in enumerate(work.items)))
        await finish(key, work.assemble(list(results)))

    try:
        tasks, first = [], 0
        for key, work in works:
            tasks.append(asyncio.ensure_future(run_partition(key, work, first)))
            first += len(work.items)
        if tasks:
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            failed = [t for t in done if not t.cancelled() and t.exception() is not None]
            if failed:
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                raise failed[0].exception()
    finally:
        _LANES.reset(lanes_token)
        await asyncio.to_thread(lanes.close)


def run_partition(work: PartitionWork) -> pd.DataFrame:
    """One partition's table, its items streamed (the stage's plain, synchronous form)."""
    tables: list[pd.DataFrame] = []

    async def keep(_key: Hashable, table: pd.DataFrame) -> None:
        tables.append(table)

    asyncio.run(stream([(None, work)], keep))
    return tables[0]
