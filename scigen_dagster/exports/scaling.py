"""Scaling subsets: a seeded, type-balanced order whose prefixes at log-spaced sizes are
nested subsets for data-scaling studies."""

from __future__ import annotations

import numpy as np
import pandas as pd


def log_spaced_sizes(n: int, count: int = 5, minimum: int = 8) -> list[int]:
    """Subset sizes for a data-scaling study: ``count`` sizes spaced evenly on a log scale
    from ``minimum`` to ``n`` (the full set is the last)."""
    if n <= 0:
        return []
    if n <= minimum or count <= 1:
        return [n]
    return sorted({int(round(v)) for v in np.geomspace(minimum, n, count)})


def scaling_order(chosen: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Rows in a seeded order whose every prefix is as balanced over image types as the
    data allow (shuffle within each type, then take the types in turn), so the subsets
    are nested: each smaller one is contained in every larger one."""
    if chosen.empty:
        return chosen
    rng = np.random.default_rng(seed)
    queues = {}
    for label, part in sorted(chosen.groupby("image_type"), key=lambda kv: kv[0]):
        ids = sorted(part.index)
        queues[label] = [ids[i] for i in rng.permutation(len(ids))]
    order = []
    while queues:
        for label in list(queues):
            order.append(queues[label].pop(0))
            if not queues[label]:
                del queues[label]
    return chosen.loc[order].reset_index(drop=True)
