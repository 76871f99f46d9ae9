"""The image table of one model for one partition: its kind's figures, then the answer-leak
check that every figure goes through (OCR, plus the text artists of code figures)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from scigen_dagster.generation.leaks import flag_leaks

if TYPE_CHECKING:
    from scigen_dagster.registry import ModelSpec


def figure_table(items: pd.DataFrame, spec: ModelSpec, produce: Callable[..., pd.DataFrame], storage, ocr,
                 **arguments: Any) -> pd.DataFrame:
    """``produce`` (the model kind's generation function) renders every item; each row that
    rendered is then checked for a visible answer."""
    frame = produce(items, spec, storage=storage, **arguments)
    return flag_leaks(frame, items, ocr, storage)
