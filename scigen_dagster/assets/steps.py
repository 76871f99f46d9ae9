"""The one loop every table-building asset runs: fingerprint, reuse or compute, progress.

An asset names the stage function that computes its table and the inputs it reads; this
module does the rest. The fingerprint of each table is computed here, from the stage
function itself and the engines handed to it (``fingerprints.code_fingerprint``), so it
covers the code that produced the table by construction; nothing keeps a list of modules.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from scigen_dagster import streaming
from scigen_dagster.fingerprints import code_fingerprint, fingerprint, module_of
from scigen_dagster.llm.ledger import Ledger, metered
from scigen_dagster.resources.llm import usage_between
from scigen_dagster.streaming import PartitionWork

# Arguments of these packages are I/O, not logic: storage moves bytes, and model access
# is identified by model ids and prompt hashes, which go into each step's configuration.
IO_PACKAGES = ("scigen_dagster.resources", "scigen_dagster.assets")


@dataclass
class PartitionOutcome:
    partition: str | None
    frame: pd.DataFrame
    reused: bool
    data_version: str
    seconds: float
    usage: dict | None = None  # the model calls this partition made (when the step is metered)
    waiting: bool = False  # some call was left to a batch (batch mode): no table written yet


@dataclass
class StepOutcome:
    outcomes: list[PartitionOutcome] = field(default_factory=list)
    usage: dict | None = None  # every model call of the step (when it is metered), also while another step streams

    @property
    def frame(self) -> pd.DataFrame:
        frames = [o.frame for o in self.outcomes]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @property
    def reused(self) -> int:
        return sum(o.reused for o in self.outcomes)

    @property
    def waiting(self) -> list[str | None]:
        """The partitions whose tables wait for a batch's replies (batch mode)."""
        return [o.partition for o in self.outcomes if o.waiting]

    @property
    def data_version(self) -> str:
        return self.outcomes[0].data_version if len(self.outcomes) == 1 else ""


def code_of(stage: Callable, engines: Mapping[str, Any]) -> list[Any]:
    """What decides the table's content: the stage, and every engine or function it is
    handed that is project code (storage and model access are I/O, see IO_PACKAGES)."""
    return [stage] + [v for v in engines.values()
                      if module_of(v).startswith("scigen_dagster.") and not module_of(v).startswith(IO_PACKAGES)]


def table_fingerprint(stage: Callable, engines: Mapping[str, Any], input_shas: Sequence[str | None],
                      config: Any, partition: str | None) -> str:
    return fingerprint(list(input_shas), config, code_fingerprint(*code_of(stage, engines)), partition)


def build_or_reuse(storage, asset: str, partition: str | None, fp: str,
                   compute: Callable[[], pd.DataFrame], waiting: Callable[[], bool] | None = None) -> PartitionOutcome:
    """Reuse the stored table when it was built from the same inputs, else compute it.

    The fingerprint lives in the Parquet footer, so the check reads a few bytes and a
    rerun with nothing changed does no model call, no render and no write.
    """
    start = time.perf_counter()
    if storage.table_fingerprint(asset, partition) == fp:
        frame = storage.read_table(asset, partition)
        return PartitionOutcome(partition, frame, True, storage.table_sha(asset, partition) or "",
                                time.perf_counter() - start)
    frame = compute()
    if waiting is not None and waiting():  # batch mode: a reply is still to come, this is not the table
        return PartitionOutcome(partition, frame, False, "", time.perf_counter() - start, waiting=True)
    _, sha = storage.write_table(asset, frame, partition, fp=fp)
    return PartitionOutcome(partition, frame, False, sha, time.perf_counter() - start)


def run_step(
    context,
    storage,
    asset: str,
    keys: Sequence[str | None],
    stage: Callable[..., pd.DataFrame],
    **options: Any,
) -> StepOutcome:
    """Build or reuse ``asset``'s table for each key (a partition, or None).

    ``stage(**arguments(key), **engines)`` computes one table; ``inputs(key)`` names the
    stored tables it reads, whose content hashes enter the fingerprint with ``config``
    and the stage's code. ``before_compute`` gets the keys that will be recomputed (to
    prefetch their work in parallel). Progress is logged in items of ``progress_from``.
    ``meter`` (a ledger reading such as ``llm.usage``) gives each partition its own usage.

    ``stream`` (the stage's item-level form, same arguments, returning a PartitionWork or
    None) runs the items of every stale partition as one stream (``streaming.stream``):
    no item waits for another, and each partition's table is written, with its
    fingerprint, as soon as its last item is done; a crash loses only the calls in flight
    (the response cache has the rest). Its table is the stage's, which runs the same items.
    A partition whose items left a call to a batch (batch mode) is not written: its
    outcome is ``waiting`` (see ``wait_for_batches``).
    """
    return run_steps([prepare_step(context, storage, asset, keys, stage, **options)])[0]


def run_steps(steps: Sequence[PreparedStep]) -> list[StepOutcome]:
    """Stream the items of several prepared steps at the same time, in one event loop
    (the judge and inverse validation of a model): each role keeps its own slots, no step
    waits for the other, and each partition's table is written as soon as it is done.
    The first step to raise stops the others; tables already written stay written."""
    streams = [step for step in steps if step.works]
    if streams:
        async def together() -> None:
            await asyncio.gather(*(step.streamed() for step in streams))

        asyncio.run(together())
    return [step.result() for step in steps]


@dataclass
class PreparedStep:
    """A step whose fingerprints are known and whose non-streamed partitions are done;
    ``streamed()`` runs the rest (``run_steps``), ``result()`` gives the outcome."""

    storage: Any
    asset: str
    keys: Sequence[str | None]
    fps: dict
    works: dict
    outcomes: dict
    progress: Progress | None
    metered_usage: bool
    ledger: Ledger  # the step's calls

    async def streamed(self) -> None:
        """Every stale partition's items at once, each table written when its last item
        is done, with its own ledger of the calls its items made."""
        storage, asset, progress = self.storage, self.asset, self.progress
        start = time.perf_counter()
        ledgers = {key: Ledger() for key in self.works}
        if progress is not None:
            progress.streaming()

        async def finish(key, frame: pd.DataFrame) -> None:
            if ledgers[key].deferred:  # a reply is still to come from a batch: this is not the table yet
                self.outcomes[key] = PartitionOutcome(key, frame, False, "", time.perf_counter() - start, waiting=True)
                return
            _, sha = await asyncio.to_thread(storage.write_table, asset, frame, key, self.fps[key])
            outcome = PartitionOutcome(key, frame, False, sha, time.perf_counter() - start)
            if self.metered_usage:
                outcome.usage = usage_between({}, ledgers[key].summary())
            self.outcomes[key] = outcome
            if progress is not None:
                progress.update(outcome)

        with metered(self.ledger):
            await streaming.stream(list(self.works.items()), finish, context=lambda key: metered(ledgers[key]),
                                   item_done=progress.item_done if progress is not None else None)

    def result(self) -> StepOutcome:
        usage = usage_between({}, self.ledger.summary()) if self.metered_usage else None
        return StepOutcome([self.outcomes[key] for key in self.keys], usage=usage)


def prepare_step(
    context,
    storage,
    asset: str,
    keys: Sequence[str | None],
    stage: Callable[..., pd.DataFrame],
    *,
    inputs: Callable[[str | None], list[tuple[str, str | None]]],
    arguments: Callable[[str | None], dict[str, Any]],
    engines: Mapping[str, Any] | None = None,
    config: Any = None,
    progress_from: str | None = None,
    before_compute: Callable[[list[str | None]], None] | None = None,
    meter: Callable[[], dict] | None = None,
    stream: Callable[..., PartitionWork | None] | None = None,
) -> PreparedStep:
    """The first half of ``run_step`` (same arguments): fingerprints, reused partitions
    and the partitions without an item-level form computed; the streamed rest prepared."""
    engines = dict(engines or {})
    fps = {key: table_fingerprint(stage, engines, [storage.table_sha(a, p) for a, p in inputs(key)], config, key)
           for key in keys}
    stale = [key for key in keys if storage.table_fingerprint(asset, key) != fps[key]]
    if stale and before_compute is not None:
        before_compute(stale)
    progress = None
    if progress_from is not None and context is not None:
        progress = Progress(context.log, asset, {k: storage.table_rows(progress_from, k) for k in keys})
    works = {}
    if stream is not None:
        for key in stale:
            work = stream(**arguments(key), **engines)
            if work is not None:
                works[key] = work
    outcomes: dict[str | None, PartitionOutcome] = {}
    step_ledger = Ledger()
    for key in keys:
        if key in works:
            continue
        before = meter() if meter else None
        ledger = Ledger()  # this partition's calls, to see whether one was left to a batch

        def compute(key=key, ledger=ledger) -> pd.DataFrame:
            with metered(step_ledger), metered(ledger):
                return stage(**arguments(key), **engines)

        outcome = build_or_reuse(storage, asset, key, fps[key], compute, waiting=lambda ledger=ledger: ledger.deferred > 0)
        if meter:
            outcome.usage = usage_between(before, meter())
        outcomes[key] = outcome
        if progress is not None:
            progress.update(outcome)
    return PreparedStep(storage, asset, keys, fps, works, outcomes, progress, metered_usage=meter is not None,
                        ledger=step_ledger)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Progress:
    """Counts, rate and ETA of a long step, logged as one readable line at most every
    ``every`` seconds (and always at the end). Reused partitions count as done but not
    into the rate, so the ETA reflects the work that is really left. A streamed step
    counts each item as it finishes (``item_done``), its rate over the stream's time."""

    def __init__(self, log, label: str, items_per_partition: dict, every: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.log, self.label, self.every, self.clock = log, label, every, clock
        self.pending = dict(items_per_partition)
        self.total_items = sum(self.pending.values())
        self.total_parts = len(self.pending)
        self.parts = self.items = self.reused = 0
        self.compute_items, self.compute_seconds = 0, 0.0
        self.counted: dict = {}  # items of a partition already counted one by one
        self.stream_start: float | None = None
        self.last_log = clock()

    def message(self) -> str:
        share = f" ({100 * self.items / self.total_items:.0f}%)" if self.total_items else ""
        text = f"{self.label}: {self.parts}/{self.total_parts} partitions, {self.items}/{self.total_items} items{share}"
        seconds = self.compute_seconds + (self.clock() - self.stream_start if self.stream_start is not None else 0.0)
        if self.compute_items and seconds > 0:
            rate = self.compute_items / seconds
            left = self.total_items - self.items
            text += f", {rate:.1f} items/s"
            text += f", ETA {_duration(left / rate)}" if left else ", done"
        elif self.parts == self.total_parts:
            text += ", done"
        else:
            text += ", ETA unknown (nothing computed yet)"
        plural = "s" if self.reused != 1 else ""
        return text + (f", {self.reused} partition{plural} reused" if self.reused else "")

    def streaming(self) -> None:
        """The stream starts: from now the rate is items over the stream's own time."""
        self.stream_start = self.clock()

    def item_done(self, partition) -> None:
        self.counted[partition] = self.counted.get(partition, 0) + 1
        self.items += 1
        self.compute_items += 1
        self._maybe_log()

    def update(self, outcome: PartitionOutcome) -> None:
        self.parts += 1
        n = self.pending.pop(outcome.partition, len(outcome.frame)) - self.counted.pop(outcome.partition, 0)
        self.items += max(0, n)
        if outcome.reused:
            self.reused += 1
        else:
            self.compute_items += max(0, n)
            if self.stream_start is None:
                self.compute_seconds += outcome.seconds
        self._maybe_log()

    def _maybe_log(self) -> None:
        now = self.clock()
        if self.parts == self.total_parts or now - self.last_log >= self.every:
            self.last_log = now
            self.log.info(self.message())


def wait_for_batches(context, llm, step: StepOutcome, table: str, asset_key=None) -> bool:
    """Batch mode: when partitions of ``step`` wait for replies, submit what the step
    deferred (one batch per role) and say so; True when the step must end without a
    materialization (the llm_batches sensor requests it again when the batches finish).
    ``asset_key`` names the asset in a step of several."""
    if not step.waiting:
        return False
    ids = llm.client().submit_deferred((asset_key or context.asset_key).to_user_string(), step.waiting)
    waiting = ", ".join(str(p) for p in step.waiting[:5]) + (" ..." if len(step.waiting) > 5 else "")
    submitted = f"submitted batch{'es' if len(ids) != 1 else ''} {', '.join(ids)}" if ids else \
        "its requests are all in batches already submitted"
    context.log.info(f"{table}: {len(step.waiting)} partitions ({waiting}) wait for batch replies; {submitted}. "
                     "The llm_batches sensor requests this step when they finish; it then runs from the cache.")
    return True
