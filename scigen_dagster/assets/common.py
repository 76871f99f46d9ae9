"""Shared wiring for the asset modules: incremental reuse, metadata, code hashes."""

from __future__ import annotations

import hashlib
import inspect
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Callable

import dagster as dg
import pandas as pd

from ..resources.storage import StorageResource, fingerprint

OWNERS = ["team:scigen"]


def code_hash(*modules: ModuleType) -> str:
    """Hash of the source of the modules that decide an asset's content.

    Part of every fingerprint, so editing the logic of a stage recomputes that stage on
    the next run while untouched stages are reused.
    """
    h = hashlib.sha256()
    for module in modules:
        h.update(inspect.getsource(module).encode())
    return h.hexdigest()[:16]


@dataclass
class PartitionOutcome:
    partition: str | None
    frame: pd.DataFrame
    reused: bool
    data_version: str
    seconds: float


def build_or_reuse(
    storage: StorageResource,
    asset: str,
    partition: str | None,
    fp: str,
    compute: Callable[[], pd.DataFrame],
) -> PartitionOutcome:
    """Reuse the stored table when it was built from the same inputs, else compute it.

    The fingerprint (inputs' content hashes + config + code hash) is stored in the
    Parquet footer, so the check reads a few bytes and a rerun with nothing changed does
    no model call, no render and no write.
    """
    start = time.perf_counter()
    if storage.table_fingerprint(asset, partition) == fp:
        frame = storage.read_table(asset, partition)
        sha = storage.table_sha(asset, partition) or ""
        return PartitionOutcome(partition, frame, True, sha, time.perf_counter() - start)
    frame = compute()
    _, sha = storage.write_table(asset, frame, partition, fp=fp)
    return PartitionOutcome(partition, frame, False, sha, time.perf_counter() - start)


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

    def __init__(self, log, label: str, items_per_partition: dict[str, int], every: float = 10.0,
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


def progress_for(context, storage: StorageResource, label: str, keys, items_asset: str = "benchmark_items") -> Progress:
    return Progress(context.log, label, {k: storage.table_rows(items_asset, k) for k in keys})


def input_fingerprint(storage: StorageResource, *tables: tuple[str, str | None], extra: object = None) -> str:
    """Fingerprint of upstream tables (by file content) plus configuration/code."""
    return fingerprint([storage.table_sha(asset, part) for asset, part in tables], extra)


def preview(df: pd.DataFrame, columns: list[str], n: int = 8, width: int = 80) -> dg.MetadataValue:
    cols = [c for c in columns if c in df.columns]
    head = df[cols].head(n).copy()
    for c in cols:
        head[c] = head[c].map(lambda v: (str(v)[: width - 1] + "…") if len(str(v)) > width else str(v))
    return dg.MetadataValue.md(head.to_markdown(index=False) if len(head) else "_empty_")


def counts_md(series: pd.Series, title: str) -> dg.MetadataValue:
    counts = series.value_counts().sort_index()
    if counts.empty:
        return dg.MetadataValue.md("_none_")
    return dg.MetadataValue.md(
        pd.DataFrame({title: counts.index, "rows": counts.values}).to_markdown(index=False)
    )


def partitions_md(outcomes: list[PartitionOutcome], extra: Callable[[pd.DataFrame], dict] | None = None) -> dg.MetadataValue:
    rows = []
    for o in outcomes:
        row = {"partition": o.partition, "rows": len(o.frame), "reused": o.reused, "seconds": round(o.seconds, 2)}
        if extra:
            row.update(extra(o.frame))
        rows.append(row)
    return dg.MetadataValue.md(pd.DataFrame(rows).to_markdown(index=False))


def partition_keys(context: dg.AssetExecutionContext) -> list[str]:
    # A single-run backfill hands one run a range of partitions; a normal run, one.
    return list(context.partition_keys)
