"""Closed image models through litellm's image generation, with the cache, ledger,
limits and retries of every other model call."""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING

import pandas as pd
from PIL import Image

from scigen_dagster.generation import protocol
from scigen_dagster.generation.image_table import IMAGE_COLUMNS, base_row
from scigen_dagster.llm.client import Request

if TYPE_CHECKING:  # the registry imports the generation functions of each kind
    from scigen_dagster.registry import ModelSpec


def render_image_api(items: pd.DataFrame, spec: ModelSpec, llm, storage) -> pd.DataFrame:
    """Closed image models through litellm's image generation, with the cache, ledger,
    limits and retries of every other model call; a failure stays in the row."""
    spec = protocol.apply(spec)  # the scigenbench protocol wraps the problem in the study's illustrator brief
    client = llm.client_with(f"images:{spec.name}", spec.image_api_settings())
    prompt_hash = hashlib.sha256(spec.prompt_template.encode()).hexdigest()
    rows, requests = [], []
    for r in items.itertuples(index=False):
        row = base_row(r.problem_id, spec) | {"prompt": spec.prompt_template.replace("{question}", r.question)}
        rows.append(row)
        requests.append(Request(r.problem_id, [{"role": "user", "content": row["prompt"]}], prompt_hash))
    for row, result in zip(rows, client.image_batch(f"images:{spec.name}", requests, spec.size)):
        row["attempts"] = result.attempts
        if result.status != "ok":
            row.update(status=result.status, reason=result.reason[:500])
            continue
        sha, rel = storage.put_png(result.value)
        width, height = Image.open(io.BytesIO(result.value)).size
        row.update(status="ok", image_sha256=sha, image_path=rel, width=width, height=height)
    return pd.DataFrame(rows, columns=IMAGE_COLUMNS)
