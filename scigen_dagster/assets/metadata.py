"""Metadata a person reads in the UI: previews, counts, per-partition tables, thumbnails."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import dagster as dg
import fsspec
import numpy as np
import pandas as pd
from PIL import Image

from scigen_dagster.assets.steps import StepOutcome
from scigen_dagster.reporting.formatting import NOT_MEASURED, data_url
from scigen_dagster.reporting.thumbnails import thumbnail_grid


def preview(df: pd.DataFrame, columns: list[str], n: int = 8, width: int = 80) -> dg.MetadataValue:
    cols = [c for c in columns if c in df.columns]
    head = df[cols].head(n).copy()
    for c in cols:
        head[c] = head[c].map(lambda v: (str(v)[: width - 1] + "…") if len(str(v)) > width else str(v))
    return dg.MetadataValue.md(head.to_markdown(index=False) if len(head) else "_empty_")


def no_figures(kind) -> str:
    """Why a partition of a model has no rows, for its metadata: "not measured", with the reason."""
    return f"{NOT_MEASURED}: no figure of this model in this partition" + (
        " (no item here ships a real figure)" if kind.is_ceiling else " (no items)")


def counts_md(series: pd.Series, title: str) -> dg.MetadataValue:
    counts = series.value_counts().sort_index()
    if counts.empty:
        return dg.MetadataValue.md("_none_")
    return dg.MetadataValue.md(
        pd.DataFrame({title: counts.index, "rows": counts.values}).to_markdown(index=False)
    )


def thumbnails_md(storage, frame: pd.DataFrame, n: int = 12, thumb: int = 256, cols: int = 4) -> dg.MetadataValue:
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


def first_words(text: str, words: int = 12, width: int = 80) -> str:
    shown = " ".join(str(text).split()[:words])
    return shown[: width - 1] + "…" if len(shown) > width or len(str(text).split()) > words else shown


def _protocol(storage) -> str:
    return fsspec.core.split_protocol(storage.root)[0] or "file"


def figure_link(storage, rel: str) -> str | None:
    """A URL a browser opens the stored PNG with, where the store has one: the file:// URL
    of a local store, the cloud console's page of an S3 or GCS object, an http(s) store's
    own URL; None for other stores. (Worked out from the root: no filesystem is opened.)"""
    protocol = _protocol(storage)
    if protocol in ("file", "local"):
        return Path(storage.path(rel)).as_uri()
    bucket, _, key = f"{storage.root.split('://', 1)[1].strip('/')}/{rel.lstrip('/')}".partition("/")
    if protocol in ("s3", "s3a"):
        return f"https://s3.console.aws.amazon.com/s3/object/{bucket}?prefix={quote(key)}"
    if protocol in ("gs", "gcs"):
        return f"https://storage.cloud.google.com/{bucket}/{quote(key)}"
    if protocol in ("http", "https"):
        return f"{protocol}://{bucket}/{quote(key)}"
    return None


def link_note(storage) -> str:
    """What the figure links of this store do, said once above them."""
    protocol = _protocol(storage)
    if protocol in ("file", "local"):
        return ("file:// links to the PNGs in the local store. Browsers do not follow file:// links from a web "
                "page such as this one: copy a link into the address bar of a browser on the machine that holds "
                "the store.")
    if protocol in ("s3", "s3a", "gs", "gcs"):
        return "Links open each PNG in the cloud console (after signing in)."
    if protocol in ("http", "https"):
        return "Links open each PNG from the store."
    return f"A {protocol}:// store has no browser URL; the paths below are the store's own."


def figures_md(storage, frame: pd.DataFrame, items: pd.DataFrame, n: int = 12) -> dg.MetadataValue:
    """The figures of the thumbnail grid, each with its image type, the first words of its
    question and a link that opens its PNG where the store allows it."""
    if frame.empty:
        return dg.MetadataValue.md("_no figures_")
    rows = []
    for row in frame.head(n).itertuples(index=False):
        stored = row.status == "ok" and bool(row.image_path)
        link = figure_link(storage, row.image_path) if stored else None
        rows.append({"problem_id": row.problem_id, "image_type": items["image_type"].get(row.problem_id, ""),
                     "question": first_words(items["question"].get(row.problem_id, "")),
                     "figure": f"[open]({link})" if link else (f"`{row.image_path}`" if stored else f"none ({row.status})")})
    return dg.MetadataValue.md(link_note(storage) + "\n\n" + pd.DataFrame(rows).to_markdown(index=False))


def rounded(value, digits: int = 3):
    """A number as a person reads it in the UI (tables keep full precision)."""
    return round(float(value), digits) if isinstance(value, (float, np.floating)) else value


def per_partition_result(context, step: StepOutcome, metadata_of: Callable[[str, pd.DataFrame], dict],
                         summary: str, asset_key: dg.AssetKey | None = None) -> dg.MaterializeResult:
    """Every partition's materialization carries that partition's own metadata (also in a
    run over many partitions); the step's summary goes to the run's log. ``asset_key``
    names the asset in a step of several."""
    for outcome in step.outcomes:
        metadata = {"dagster/row_count": len(outcome.frame), **metadata_of(outcome.partition, outcome.frame),
                    "reused": outcome.reused, "seconds": round(outcome.seconds, 2)}
        if outcome.usage is not None:
            metadata["llm_usage"] = dg.MetadataValue.json(outcome.usage)
        context.add_asset_metadata({k: rounded(v) for k, v in metadata.items()}, asset_key=asset_key,
                                   partition_key=outcome.partition)
    context.log.info(summary)
    return dg.MaterializeResult(asset_key=asset_key)


def usage_text(usage: dict) -> str:
    """A step's model calls in one phrase: paid calls, cache hits, tokens and dollars."""
    cost = usage["cost_usd"]  # a number, or text when a model's price is unknown
    cost = f"${cost:.4f}" if isinstance(cost, (int, float)) else str(cost)
    return (f"{usage['paid_calls']} paid model calls, {usage['cache_hits']} from the cache, "
            f"{usage['prompt_tokens'] + usage['completion_tokens']} tokens, {cost}")
