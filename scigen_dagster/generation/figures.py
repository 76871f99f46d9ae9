"""The image table of one model for one partition: its kind's figures, then the answer-leak
check that every figure goes through (OCR, plus the text artists of code figures)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pandas as pd

from scigen_dagster.generation.image_table import IMAGE_COLUMNS
from scigen_dagster.generation.leaks import figure_leak, flag_leaks, with_leaks
from scigen_dagster.streaming import PartitionWork, calls_done, in_lane, run_partition

if TYPE_CHECKING:
    from scigen_dagster.registry import ModelSpec


def figure_table(items: pd.DataFrame, spec: ModelSpec, produce: Callable[..., pd.DataFrame], storage, ocr,
                 produce_items: Callable[..., list] | None = None, **arguments: Any) -> pd.DataFrame:
    """``produce`` (the model kind's generation function) renders every item; each row that
    rendered is then checked for a visible answer. A kind with ``produce_items`` (one
    coroutine function per item) streams its items instead, to the same table."""
    work = figure_work(items, spec, produce, storage, ocr, produce_items, **arguments)
    if work is not None:
        return run_partition(work)
    frame = produce(items, spec, storage=storage, **arguments)
    return flag_leaks(frame, items, ocr, storage)


def figure_work(items: pd.DataFrame, spec: ModelSpec, produce: Callable[..., pd.DataFrame], storage, ocr,
                produce_items: Callable[..., list] | None = None, **arguments: Any) -> PartitionWork | None:
    """The partition as a stream of items, each rendered and then leak-checked on its own
    (the OCR runs while other items' calls are in flight); None for a kind that renders a
    partition at once (a diffusers batch on the GPU)."""
    if produce_items is None:
        return None
    answers = dict(zip(items["problem_id"], zip(items["question"], items["answer"])))

    def checked(render_item):
        async def item():
            row = await render_item()
            calls_done()
            if row["status"] != "ok":
                return row, (None, "[]")
            leak = await in_lane("ocr", getattr(ocr, "workers", 1), figure_leak, SimpleNamespace(**row),
                                 *answers[row["problem_id"]], ocr, storage)
            return row, leak
        return item

    def assemble(results: list) -> pd.DataFrame:
        frame = pd.DataFrame([row for row, _ in results], columns=IMAGE_COLUMNS)
        return with_leaks(frame, [leak for _, leak in results])

    return PartitionWork([checked(fn) for fn in produce_items(items, spec, storage=storage, **arguments)], assemble)

