"""The one loop every table-building asset runs: fingerprint, reuse or compute, progress.

An asset names the stage function that computes its table and the inputs it reads; this
module does the rest. The fingerprint of each table is computed here, from the stage
function itself and the engines handed to it (``fingerprints.code_fingerprint``), so it
covers the code that produced the table by construction; nothing keeps a list of modules.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from scigen_dagster.fingerprints import code_fingerprint, fingerprint, module_of
from scigen_dagster.resources.llm import usage_between

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


@dataclass
class StepOutcome:
    outcomes: list[PartitionOutcome] = field(default_factory=list)

    @property
    def frame(self) -> pd.DataFrame:
        frames = [o.frame for o in self.outcomes]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @property
    def reused(self) -> int:
        return sum(o.reused for o in self.outcomes)

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
                   compute: Callable[[], pd.DataFrame]) -> PartitionOutcome:
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
    _, sha = storage.write_table(asset, frame, partition, fp=fp)
    return PartitionOutcome(partition, frame, False, sha, time.perf_counter() - start)


def run_step(
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
) -> StepOutcome:
    """Build or reuse ``asset``'s table for each key (a partition, or None).

    ``stage(**arguments(key), **engines)`` computes one table; ``inputs(key)`` names the
    stored tables it reads, whose content hashes enter the fingerprint with ``config``
    and the stage's code. ``before_compute`` gets the keys that will be recomputed (to
    prefetch their work in parallel). Progress is logged in items of ``progress_from``.
    ``meter`` (a ledger reading such as ``llm.usage``) gives each partition its own usage.
    """
    engines = dict(engines or {})
    fps = {key: table_fingerprint(stage, engines, [storage.table_sha(a, p) for a, p in inputs(key)], config, key)
           for key in keys}
    stale = [key for key in keys if storage.table_fingerprint(asset, key) != fps[key]]
    if stale and before_compute is not None:
        before_compute(stale)
    progress = None
    if progress_from is not None and context is not None:
        progress = Progress(context.log, asset, {k: storage.table_rows(progress_from, k) for k in keys})
    step = StepOutcome()
    for key in keys:
        before = meter() if meter else None
        outcome = build_or_reuse(storage, asset, key, fps[key], lambda key=key: stage(**arguments(key), **engines))
        if meter:
            after = meter()
            outcome.usage = usage_between(before, after)
        step.outcomes.append(outcome)
        if progress is not None:
            progress.update(outcome)
    return step


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
    into the rate, so the ETA reflects the work that is really left."""

    def __init__(self, log, label: str, items_per_partition: dict, every: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.log, self.label, self.every, self.clock = log, label, every, clock
        self.pending = dict(items_per_partition)
        self.total_items = sum(self.pending.values())
        self.total_parts = len(self.pending)
        self.parts = self.items = self.reused = 0
        self.compute_items, self.compute_seconds = 0, 0.0
        self.last_log = clock()

    def message(self) -> str:
        share = f" ({100 * self.items / self.total_items:.0f}%)" if self.total_items else ""
        text = f"{self.label}: {self.parts}/{self.total_parts} partitions, {self.items}/{self.total_items} items{share}"
        if self.compute_items and self.compute_seconds > 0:
            rate = self.compute_items / self.compute_seconds
            left = self.total_items - self.items
            text += f", {rate:.1f} items/s"
            text += f", ETA {_duration(left / rate)}" if left else ", done"
        elif self.parts == self.total_parts:
            text += ", done"
        else:
            text += ", ETA unknown (nothing computed yet)"
        plural = "s" if self.reused != 1 else ""
        return text + (f", {self.reused} partition{plural} reused" if self.reused else "")

    def update(self, outcome: PartitionOutcome) -> None:
        self.parts += 1
        n = self.pending.pop(outcome.partition, len(outcome.frame))
        self.items += n
        if outcome.reused:
            self.reused += 1
        else:
            self.compute_items += n
            self.compute_seconds += outcome.seconds
        now = self.clock()
        if self.parts == self.total_parts or now - self.last_log >= self.every:
            self.last_log = now
            self.log.info(self.message())
