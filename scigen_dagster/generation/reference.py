"""The ceiling's figures: each item's real reference figure, flattened on white and stored
like any generated image."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pandas as pd
from PIL import Image

from scigen_dagster.evaluation.image_metrics import load_rgb
from scigen_dagster.generation.image_table import IMAGE_COLUMNS, base_row

if TYPE_CHECKING:  # the registry imports the generation functions of each kind
    from scigen_dagster.registry import ModelSpec


def copy_reference_figures(items: pd.DataFrame, spec: ModelSpec, storage) -> pd.DataFrame:
    """The "real figures" model: each item's reference figure, flattened on white and
    stored as PNG like any generated image; items without one get no row (they are not
    part of this row's denominator)."""
    rows = []
    for r in items.itertuples(index=False):
        if not r.reference_image:
            continue
        row = base_row(r.problem_id, spec) | {"note": "real reference figure", "attempts": 1}
        try:
            rgb = load_rgb(r.reference_image)  # flattened on paper white, as every metric sees it
            buf = io.BytesIO()
            Image.fromarray(rgb.astype("uint8")).save(buf, format="PNG")
            sha, rel = storage.put_png(buf.getvalue())
            row.update(status="ok", image_sha256=sha, image_path=rel, width=rgb.shape[1], height=rgb.shape[0])
        except (OSError, ValueError) as exc:
            row.update(status="failed", reason=f"unreadable_reference: {r.reference_image}: {exc}")
        rows.append(row)
    return pd.DataFrame(rows, columns=IMAGE_COLUMNS)
