"""What a figure's pixels can tell without a rubric judge: measures read from the PNG by
OCR, each named for what it is. They are not rubric scores and never fill the rubric's
columns.

The problem's values are found here with the OCR side's own tokenizer
(:func:`scigen_dagster.engines.ocr.normalize_tokens`), never with the rule planner's
quantity extractor, and the figure side is only what OCR reads from the PNG, never the
text a drawing script says it placed: a proxy that asks the planner what it drew would
confirm the planner.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from scigen_dagster.engines.ocr import OcrToken, normalize_tokens

PROXY_VERSION = "ocr-proxies:v2"

PROXY_COLUMNS = ["given_values_shown", "given_values_missing", "text_overlaps", "labels_crossed_by_lines",
                 "text_lines_read"]

PROXY_HELP = {
    "given_values_shown": "share of the numbers stated in the problem that OCR reads in the figure "
                          "(a lower bound: OCR misses small or rotated text; not a rubric score)",
    "text_overlaps": "pairs of OCR text lines whose boxes overlap in the figure (lower is better)",
    "labels_crossed_by_lines": "OCR text lines that a drawn straight stroke runs through (lower is better)",
}


def _is_number(tok: str) -> bool:
    return bool(tok) and (tok[0].isdigit() or (tok[0] == "-" and tok[1:2].isdigit()))


_CAPTION_WORDS = frozenset({"fig", "figs", "figure", "figures", "table", "tab", "eq", "eqn", "equation"})


def stated_numbers(question: str) -> list[str]:
    """The distinct numbers the problem text states, as canonical values ("2.0" -> "2"),
    in order of first appearance; a figure or table number ("Fig. 2.50") is not a given
    value. A sign is dropped: figures write "-3" as "−3" or as a direction, and OCR reads
    minus signs unreliably."""
    seen: dict[str, None] = {}
    previous = ""
    for tok in normalize_tokens(question):
        if _is_number(tok) and previous not in _CAPTION_WORDS:
            seen.setdefault(tok.lstrip("-"), None)
        previous = tok
    return list(seen)


def given_values_shown(question: str, tokens: Sequence[OcrToken]) -> tuple[float | None, list[str]]:
    """Share of the problem's stated numbers that OCR of the figure reads as numbers, and
    the ones it does not; None when the problem states no number."""
    wanted = stated_numbers(question)
    if not wanted:
        return None, []
    read = {tok.lstrip("-") for t in tokens for tok in normalize_tokens(t.text) if _is_number(tok)}
    missing = [n for n in wanted if n not in read]
    return 1 - len(missing) / len(wanted), missing


def _rect(token: OcrToken) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in token.box], [p[1] for p in token.box]
    return min(xs), min(ys), max(xs), max(ys)


def text_overlaps(tokens: Sequence[OcrToken], min_share: float = 0.2) -> int:
    """Pairs of text lines whose boxes overlap by at least ``min_share`` of the smaller box."""
    rects = [_rect(t) for t in tokens]
    count = 0
    for i, (ax0, ay0, ax1, ay1) in enumerate(rects):
        for bx0, by0, bx1, by1 in rects[i + 1:]:
            w, h = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
            smaller = min((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0))
            if w > 0 and h > 0 and smaller > 0 and w * h >= min_share * smaller:
                count += 1
    return count


def _dark(png: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        im.load()
        rgba = im.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    grey = np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.int16)
    return grey < 160


def _longest_run(line: np.ndarray) -> int:
    if not line.any():
        return 0
    padded = np.concatenate(([0], line.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[0::2]).max())


def labels_crossed_by_lines(png: bytes, tokens: Sequence[OcrToken], reach: int = 6) -> int:
    """Text lines that a straight horizontal or vertical stroke runs through: an unbroken
    run of dark pixels inside the text's box (away from its edges, so an underline or a
    frame does not count) that spans the whole box and continues ``reach`` pixels beyond it
    on both sides. Glyphs never span a whole line of text; a crossing axis or wire does."""
    dark = _dark(png)
    height, width = dark.shape
    crossed = 0
    for token in tokens:
        x0, y0, x1, y1 = (int(round(v)) for v in _rect(token))
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width - 1), min(y1, height - 1)
        w, h = x1 - x0, y1 - y0
        if w < 4 or h < 4 or x0 - reach < 0 or y0 - reach < 0 or x1 + reach >= width or y1 + reach >= height:
            continue
        rows = range(y0 + h // 4, y1 - h // 4 + 1)
        cols = range(x0 + w // 6, x1 - w // 6 + 1)
        horizontal = any(_longest_run(dark[y, x0 - reach:x1 + reach + 1]) >= w + 2 * reach for y in rows)
        vertical = any(_longest_run(dark[y0 - reach:y1 + reach + 1, x]) >= h + 2 * reach for x in cols)
        crossed += bool(horizontal or vertical)
    return crossed


def proxy_row(question: str, png: bytes | None, tokens: Sequence[OcrToken] | None) -> dict[str, Any]:
    """The proxy columns of one figure; all missing when there is no figure."""
    if png is None or tokens is None:
        return {"given_values_shown": None, "given_values_missing": "[]", "text_overlaps": None,
                "labels_crossed_by_lines": None, "text_lines_read": None}
    shown, missing = given_values_shown(question, tokens)
    return {"given_values_shown": None if shown is None else round(shown, 4),
            "given_values_missing": json.dumps(missing, ensure_ascii=False),
            "text_overlaps": text_overlaps(tokens),
            "labels_crossed_by_lines": labels_crossed_by_lines(png, tokens),
            "text_lines_read": len(tokens)}
