"""Figures as vision models receive them."""

from __future__ import annotations

import io

from PIL import Image

from scigen_dagster.reporting.formatting import data_url


def image_data_url(png: bytes, max_side: int | None = 1024, rgb: bool = False, jpeg_quality: int | None = None) -> str:
    """A PNG as a data URL for a vision model, downscaled to ``max_side`` on its long side
    (the study's limit for the answerer; None keeps the full resolution, as its judge does).
    ``rgb`` flattens transparency onto white and drops other modes to RGB, as the study's
    scripts do before encoding; ``jpeg_quality`` sends a JPEG (the study's answerer sends
    JPEG at quality 95), else a PNG. Raises when the bytes are not a readable image."""
    image = Image.open(io.BytesIO(png))
    changed = False
    if rgb and image.mode != "RGB":
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.split()[3])
        image, changed = flat, True
    if max_side is not None and max(image.size) > max_side:
        scale = max_side / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)
        changed = True
    if jpeg_quality is not None:
        buf = io.BytesIO()
        image.convert("RGB").save(buf, format="JPEG", quality=jpeg_quality, optimize=True)
        return data_url(buf.getvalue(), "image/jpeg")
    if changed:
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        png = buf.getvalue()
    else:
        image.load()  # a truncated or corrupt file fails here, not at the provider
    return data_url(png)


def readable_data_url(png: bytes | None, **how) -> str | None:
    """``image_data_url(png, **how)``, or None when the stored figure cannot be decoded (a
    corrupted image: the protocol decides how it counts)."""
    if png is None:
        return None
    try:
        return image_data_url(png, **how)
    except Exception:  # noqa: BLE001 - PIL raises several kinds (OSError, SyntaxError, ValueError) for a bad file
        return None
