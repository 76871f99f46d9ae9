"""Bootstrap confidence intervals of the leaderboard's means."""

from __future__ import annotations

import numpy as np
import pandas as pd


def bootstrap_ci(values, n_resamples: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean; None for no data. Seeded, so a
    leaderboard rebuilt from the same tables shows the same intervals."""
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce").dropna(), dtype=float)
    if len(x) == 0:
        return None
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n_resamples, len(x)))].mean(axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))
