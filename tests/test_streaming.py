"""The stream of per-item work: no barrier between items or partitions, each partition
finished the moment its last item is, a bound on items in flight, priorities by position,
and a failure that stops the stream without losing what was finished."""

from __future__ import annotations

import asyncio
import threading
import time

import pandas as pd
import pytest

from scigen_dagster import streaming
from scigen_dagster.llm.limits import PRIORITY, Slots
from scigen_dagster.streaming import PartitionWork, calls_done, in_lane, run_partition, stream


def timed_work(delays: list[float], log: list) -> PartitionWork:
    def item(i: int, delay: float):
        async def run():
            await asyncio.sleep(delay)
            log.append(("item", i, time.monotonic()))
            return {"i": i, "delay": delay}
        return run
    return PartitionWork([item(i, d) for i, d in enumerate(delays)], lambda rows: pd.DataFrame(rows))


def run_stream(works, **kw) -> list:
    finished = []

    async def finish(key, frame):
        finished.append((key, frame, time.monotonic()))

    asyncio.run(stream(works, finish, **kw))
    return finished


def test_a_partition_is_finished_when_its_own_last_item_is_done_not_after_the_others():
    log: list = []
    slow, fast = timed_work([0.05, 0.6], log), timed_work([0.05, 0.05, 0.05], log)
    start = time.monotonic()
    finished = run_stream([("slow", slow), ("fast", fast)])
    assert [key for key, _, _ in finished] == ["fast", "slow"], "the fast partition waited for the slow one"
    fast_done = finished[0][2] - start
    assert fast_done < 0.3, f"the fast partition finished after {fast_done:.2f} s: items ran one partition at a time"
    assert list(finished[1][1]["i"]) == [0, 1], "rows are not in item order"


def test_items_in_flight_are_bounded_and_start_in_order():
    running, peak, order = [0], [0], []

    def item(i):
        async def run():
            order.append(i)
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            await asyncio.sleep(0.01)
            running[0] -= 1
            return i
        return run

    works = [(k, PartitionWork([item(10 * k + i) for i in range(10)], lambda r: pd.DataFrame({"i": r})))
             for k in range(3)]
    finished = run_stream(works, in_flight=4)
    assert peak[0] == 4, f"{peak[0]} items ran at once with in_flight=4"
    assert order == sorted(order), f"items did not start in step order: {order}"
    assert sorted(key for key, _, _ in finished) == [0, 1, 2]


def test_an_item_past_its_last_call_frees_its_place():
    """Items that said calls_done() and wait (for OCR) do not stop new items from starting."""
    started = []

    def item(i, gate):
        async def run():
            started.append(i)
            calls_done()
            await gate.wait()
            return i
        return run

    async def main():
        gate = asyncio.Event()
        works = [(0, PartitionWork([item(i, gate) for i in range(6)], lambda r: pd.DataFrame({"i": r})))]
        task = asyncio.ensure_future(stream(works, lambda k, f: asyncio.sleep(0), in_flight=2))
        await asyncio.sleep(0.05)
        assert started == list(range(6)), f"only {started} started: finished items kept their places"
        gate.set()
        await task

    asyncio.run(main())


def test_each_item_runs_with_its_position_as_the_priority_of_its_calls():
    seen = {}

    def item(key, i):
        async def run():
            seen[(key, i)] = PRIORITY.get()
            return i
        return run

    works = [(k, PartitionWork([item(k, i) for i in range(3)], lambda r: pd.DataFrame({"i": r}))) for k in "ab"]
    run_stream(works)
    assert seen == {("a", 0): 0, ("a", 1): 1, ("a", 2): 2, ("b", 0): 3, ("b", 1): 4, ("b", 2): 5}


def test_slots_serve_the_lowest_priority_first_then_arrival_order():
    async def main():
        slots = Slots(1)
        await slots.acquire(0)  # the slot is taken: everyone below queues
        served = []

        async def wait(name, priority):
            await slots.acquire(priority)
            served.append(name)
            slots.release()

        tasks = [asyncio.ensure_future(wait(n, p)) for n, p in (("late-5", 5), ("early-1", 1), ("b-5", 5), ("a-1", 1))]
        await asyncio.sleep(0.01)
        slots.release()
        await asyncio.gather(*tasks)
        return served

    assert asyncio.run(main()) == ["early-1", "a-1", "late-5", "b-5"]


def test_a_cancelled_waiter_does_not_lose_the_slot():
    async def main():
        slots = Slots(1)
        await slots.acquire()
        waiter = asyncio.ensure_future(slots.acquire())
        await asyncio.sleep(0.01)
        waiter.cancel()
        slots.release()
        await asyncio.gather(waiter, return_exceptions=True)
        await asyncio.wait_for(slots.acquire(), 1.0)  # free again
        return slots.busy

    assert asyncio.run(main()) == 1


def test_a_failing_item_stops_the_stream_and_finished_partitions_stay_finished():
    async def boom():
        await asyncio.sleep(0.2)
        raise ValueError("item 3 of b: bad reply")

    ok = timed_work([0.01, 0.01], [])
    bad = PartitionWork([boom, *timed_work([5.0], []).items], lambda r: pd.DataFrame(r))
    finished: list = []

    async def finish(key, frame):
        finished.append(key)

    start = time.monotonic()
    with pytest.raises(ValueError, match="item 3 of b"):
        asyncio.run(stream([("a", ok), ("b", bad)], finish))
    assert finished == ["a"]
    assert time.monotonic() - start < 2.0, "the 5 s item of the failed partition was not cancelled"


def test_lanes_keep_kinds_of_blocking_work_apart():
    """A long OCR queue does not hold up a render: each lane has its own threads."""
    names = []

    def blocking(seconds):
        time.sleep(seconds)
        names.append(threading.current_thread().name)
        return seconds

    async def item_ocr():
        return await in_lane("ocr", 1, blocking, 0.3)

    async def item_render():
        await asyncio.sleep(0.01)
        start = time.monotonic()
        await in_lane("sandbox", 1, blocking, 0.01)
        return time.monotonic() - start

    work = PartitionWork([item_ocr, item_ocr, item_render], lambda r: pd.DataFrame({"x": r}))
    table = run_partition(work)
    assert table["x"].iloc[2] < 0.2, f"the render waited {table['x'].iloc[2]:.2f} s behind the OCR queue"
    assert {n.rsplit("_", 1)[0] for n in names} == {"scigen-ocr", "scigen-sandbox"}


def test_outside_a_stream_in_lane_still_runs_in_a_thread():
    assert asyncio.run(in_lane("io", 2, threading.current_thread)) is not threading.main_thread()
    assert streaming._LANES.get() is None
