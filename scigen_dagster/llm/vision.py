"""Figures as vision models receive them."""

from __future__ import annotations

import io

from PIL import Image

from scigen_dagster.reporting.formatting import data_url


def image_data_url(png: bytes, max_side: int = 1024) -> str:
    """A PNG as a data URL for a vision model, downscaled to ``max_side`` on its long side
    (the study's limit for the answerer)."""
    image = Image.open(io.BytesIO(png))
    if max(image.size) > max_side:
        scale = max_side / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        png = buf.getvalue()
    return data_url(png)
