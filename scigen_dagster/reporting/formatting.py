"""One way to show a value: "n/m" (not measured) in tables and plots, "not measured" in
metadata, never 0; and figures as data URLs (pages and metadata load nothing)."""

from __future__ import annotations

import base64
import html
import math
from typing import Any

import numpy as np
import pandas as pd

NM = "n/m"  # in tables and plots
NOT_MEASURED = "not measured"  # in metadata a person reads


def is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(isinstance(v, (float, np.floating)) and math.isnan(v))
    except TypeError:
        return False


def as_number(v: Any) -> float | None:
    if is_missing(v):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def is_count(metric: str) -> bool:
    return metric == "images" or metric.startswith("n_") or metric.endswith("_count")


def format_value(v: Any, digits: int = 3, count: bool = False) -> str:
    if is_missing(v):
        return NM
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        return str(int(v)) if count and float(v).is_integer() else f"{v:.{digits}f}"
    return str(v)


def escape_html(text: Any) -> str:
    return html.escape(str(text), quote=True)


def or_not_measured(value: Any) -> Any:
    """A metric for metadata: the number, or "not measured" (never 0) when there is none."""
    if is_missing(value):
        return NOT_MEASURED
    return float(value) if isinstance(value, np.floating) else value


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
