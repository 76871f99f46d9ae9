"""Thumbnail grids of figures, a failed figure drawn as a labelled tile."""

from __future__ import annotations

import io
import math

from matplotlib import font_manager
from PIL import Image, ImageDraw, ImageFont


def _font(size: int) -> ImageFont.ImageFont:
    try:  # matplotlib ships DejaVu Sans: the same glyphs on every machine
        return ImageFont.truetype(font_manager.findfont("DejaVu Sans", fallback_to_default=True), size)
    except OSError:
        return ImageFont.load_default()


def _fit_lines(text: str, font, width: int, max_lines: int = 2) -> list[str]:
    words, lines = str(text).split(), []
    line = ""
    for word in words:
        trial = f"{line} {word}".strip()
        if font.getlength(trial) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] += "…"
    out = []
    for ln in lines:  # a single over-long word is cut
        while font.getlength(ln) > width and len(ln) > 1:
            ln = ln[:-2] + "…"
        out.append(ln)
    return out or [""]


def _failed_tile(size: int, word: str, font) -> Image.Image:
    tile = Image.new("RGB", (size, size), (246, 226, 226))
    draw = ImageDraw.Draw(tile)
    draw.line([(8, 8), (size - 9, size - 9)], fill=(225, 190, 190), width=2)
    draw.line([(8, size - 9), (size - 9, 8)], fill=(225, 190, 190), width=2)
    box = draw.textbbox((0, 0), word, font=font)
    tw, th = box[2] - box[0], box[3] - box[1]
    pad = 5
    x, y = (size - tw) / 2, (size - th) / 2
    draw.rectangle([x - pad, y - pad, x + tw + pad, y + th + pad], fill=(246, 226, 226))
    draw.text((x - box[0], y - box[1]), word, fill=(160, 40, 40), font=font)
    return tile


EMPTY_TILE = b""  # a cell with nothing in it (keeps one model per grid row)


def thumbnail_grid(items: list[tuple[str, bytes | None]], cols: int = 5, thumb: int = 160) -> bytes:
    """Thumbnails in a grid, a caption under each; a None (or unreadable) image becomes a
    labelled "failed" tile, ``EMPTY_TILE`` an empty cell. Returns PNG bytes."""
    cols = max(1, int(cols))
    thumb = max(32, int(thumb))
    cap_font, big = _font(11), _font(max(12, thumb // 9))
    line_h, gap = 14, 8
    cell_w, cell_h = thumb, thumb + 2 * line_h + 6
    items = list(items) or [("no images", None)]
    rows = math.ceil(len(items) / cols)
    ncols = min(cols, len(items))
    sheet = Image.new("RGB", (gap + ncols * (cell_w + gap), gap + rows * (cell_h + gap)), "white")
    draw = ImageDraw.Draw(sheet)
    for n, (caption, data) in enumerate(items):
        x0 = gap + (n % cols) * (cell_w + gap)
        y0 = gap + (n // cols) * (cell_h + gap)
        tile = None
        if data == EMPTY_TILE:
            continue
        if data is not None:
            try:
                img = Image.open(io.BytesIO(data))
                img.load()
                if img.mode in ("RGBA", "LA", "P", "PA"):
                    img = img.convert("RGBA")
                    img = Image.alpha_composite(Image.new("RGBA", img.size, (255, 255, 255, 255)), img)
                img = img.convert("RGB")
                img.thumbnail((thumb, thumb), Image.LANCZOS)
                tile = Image.new("RGB", (thumb, thumb), "white")
                tile.paste(img, ((thumb - img.width) // 2, (thumb - img.height) // 2))
            except Exception:  # noqa: BLE001 - an undecodable image is shown as such
                tile = _failed_tile(thumb, "unreadable", big)
        else:
            tile = _failed_tile(thumb, "failed", big)
        sheet.paste(tile, (x0, y0))
        draw.rectangle([x0 - 1, y0 - 1, x0 + thumb, y0 + thumb], outline=(200, 200, 200))
        for i, line in enumerate(_fit_lines(caption, cap_font, cell_w)):
            lw = cap_font.getlength(line)
            draw.text((x0 + (cell_w - lw) / 2, y0 + thumb + 4 + i * line_h), line, fill=(40, 40, 40),
                      font=cap_font)
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return buf.getvalue()
