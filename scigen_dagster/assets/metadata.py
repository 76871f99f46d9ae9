"""Metadata a person reads in the UI: previews, counts, per-partition tables, thumbnails."""

from __future__ import annotations

import io
from collections.abc import Callable

import dagster as dg
import numpy as np
import pandas as pd
from PIL import Image

from scigen_dagster.assets.steps import StepOutcome
from scigen_dagster.reporting.formatting import data_url
from scigen_dagster.reporting.thumbnails import thumbnail_grid


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


def thumbnails_md(storage, frame: pd.DataFrame, n: int = 12, thumb: int = 200, cols: int = 4) -> dg.MetadataValue:
    """The first figures of the step (a failed one as a labelled tile), small enough to
    sit in the event log and be seen in the UI without opening the store."""
    if frame.empty:
        return dg.MetadataValue.md("_no figures_")
    tiles = [(row.problem_id, storage.read_bytes(row.image_path) if row.status == "ok" else None)
             for row in frame.head(n).itertuples(index=False)]
    grid = Image.open(io.BytesIO(thumbnail_grid(tiles, cols=cols, thumb=thumb))).convert("RGB")
    buf = io.BytesIO()
    grid.save(buf, format="JPEG", quality=70)  # it is stored with every partition's event: keep it small
    return dg.MetadataValue.md(f"![first figures]({data_url(buf.getvalue(), 'image/jpeg')})")


def rounded(value, digits: int = 3):
    """A number as a person reads it in the UI (tables keep full precision)."""
    return round(float(value), digits) if isinstance(value, (float, np.floating)) else value


def per_partition_result(context, step: StepOutcome, metadata_of: Callable[[str, pd.DataFrame], dict],
                         summary: str) -> dg.MaterializeResult:
    """Every partition's materialization carries that partition's own metadata (also in a
    run over many partitions); the step's summary goes to the run's log."""
    for outcome in step.outcomes:
        metadata = {"dagster/row_count": len(outcome.frame), **metadata_of(outcome.partition, outcome.frame),
                    "reused": outcome.reused, "seconds": round(outcome.seconds, 2)}
        if outcome.usage is not None:
            metadata["llm_usage"] = dg.MetadataValue.json(outcome.usage)
        context.add_asset_metadata({k: rounded(v) for k, v in metadata.items()}, partition_key=outcome.partition)
    context.log.info(summary)
    return dg.MaterializeResult()


def usage_text(usage: dict) -> str:
    """A step's model calls in one phrase: paid calls, cache hits, tokens and dollars."""
    cost = usage["cost_usd"]  # a number, or text when a model's price is unknown
    cost = f"${cost:.4f}" if isinstance(cost, (int, float)) else str(cost)
    return (f"{usage['paid_calls']} paid model calls, {usage['cache_hits']} from the cache, "
            f"{usage['prompt_tokens'] + usage['completion_tokens']} tokens, {cost}")
