"""The human-facing outputs of the leaderboard: every plot as PNG, a thumbnail grid per
partition, one self-contained HTML page and the Markdown table, written under
``reports/`` of the store and rewritten only when their inputs or this code changed."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from scigen_dagster import taxonomy
from scigen_dagster.evaluation import fid
from scigen_dagster.exports import provenance
from scigen_dagster.fingerprints import code_fingerprint, fingerprint
from scigen_dagster.reporting import thumbnails
from scigen_dagster.reporting.html import html_report
from scigen_dagster.reporting.leaderboard import markdown
from scigen_dagster.reporting.plots import standard_plots

if TYPE_CHECKING:
    from scigen_dagster.registry import ModelSpec

REPORT_DIR = "reports/"
REPORT_HTML = "reports/leaderboard.html"
REPORT_MD = "reports/leaderboard.md"
STAMP = "reports/.leaderboard_version.json"
THUMBS_PER_MODEL = 3


def spectral_curves(specs: list[ModelSpec], summaries: Mapping[str, pd.Series]) -> dict:
    """Mean radial spectrum of each model's figures and of the real figures it was compared
    with, at that model's resolution (the spectrum in cycles per pixel depends on it): one
    "real figures" curve when every model shares it, else one per model."""
    curves, reals = {}, {}
    for spec in specs:
        row = summaries.get(spec.name)
        if row is None:
            continue
        freq = np.asarray(row["spectrum_freq"], dtype=float)
        if len(row["spectrum_generated"]):
            curves[spec.label] = (freq, np.asarray(row["spectrum_generated"], dtype=float))
            reals[spec.label] = (freq, np.asarray(row["spectrum_real"], dtype=float))
    distinct = {tuple(np.round(c, 4)) for _, c in reals.values()}
    if len(distinct) == 1:
        return curves | {"real figures": next(iter(reals.values()))}
    return curves | {f"real figures at {label}'s size": curve for label, curve in reals.items()}


def thumbnail_grids(storage, specs: list[ModelSpec], images: Mapping[str, pd.DataFrame]) -> dict[str, bytes]:
    """Per partition: one row per model with its first figures (a failed one is a
    labelled tile, a missing one an empty tile), so each row of the grid is one model.
    ``images`` holds each model's image table over all partitions (a ``partition`` column)."""
    grids = {}
    for key in taxonomy.PARTITION_KEYS:
        tiles = []
        for spec in specs:
            frame = images.get(spec.name)
            part = frame[frame["partition"] == key] if frame is not None and len(frame) else pd.DataFrame()
            if part.empty:
                continue
            rows = list(part.head(THUMBS_PER_MODEL).itertuples(index=False))
            tiles += [(f"{spec.label}: {r.problem_id}", storage.read_bytes(r.image_path) if r.status == "ok" else None)
                      for r in rows]
            tiles += [(f"{spec.label}: -", thumbnails.EMPTY_TILE)] * (THUMBS_PER_MODEL - len(rows))
        if tiles:
            grids[key] = thumbnails.thumbnail_grid(tiles, cols=THUMBS_PER_MODEL, thumb=150)
    return grids


def report_manifest(specs: list[ModelSpec], tables: Mapping[str, Mapping[str, pd.DataFrame]]) -> dict:
    weights, why = fid.inception_weights()
    evaluated = [t[f] for t in tables.values() for f in ("judge_scores", "iv_results")]
    return {
        **provenance.code_version(),
        "protocol": ", ".join(provenance.protocols(evaluated)) or "none (nothing evaluated)",
        "models": "; ".join(f"{s.name}: {s.model_kind.describe(s)}" for s in specs),
        "judge": "; ".join(provenance.evaluator_settings([t["judge_scores"] for t in tables.values()],
                                                         provenance.JUDGE_SETTINGS)) or "none",
        "answerer": "; ".join(provenance.evaluator_settings([t["iv_results"] for t in tables.values()],
                                                            provenance.ANSWERER_SETTINGS)) or "none",
        "inception_weights": f"{weights} (sha256 {why[:12]})" if weights else why,
        "generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def write_report(storage, specs: list[ModelSpec], board: pd.DataFrame,
                 tables: Mapping[str, Mapping[str, pd.DataFrame]], summaries: Mapping[str, pd.Series],
                 version: str) -> tuple[dict[str, bytes], int, bool]:
    """Write the plots, thumbnail grids, HTML page and Markdown table of ``board``; reuse
    them when ``version`` (the board's fingerprint) and this code are unchanged.
    Returns the plots, the number of thumbnail grids and whether anything was written."""
    storage.write_bytes(REPORT_MD, markdown(board).encode())
    version = fingerprint(version, code_fingerprint(write_report))
    if storage.exists(STAMP) and storage.exists(REPORT_HTML):
        previous = storage.read_json(STAMP)
        if previous.get("version") == version:
            return {n: storage.read_bytes(f"{REPORT_DIR}{n}.png") for n in previous["plots"]}, previous.get("grids", 0), False
    ceiling = {s.name for s in specs if s.model_kind.is_ceiling}
    plots = standard_plots(board, spectral_curves(specs, summaries), ceiling=ceiling)
    storage.remove(REPORT_DIR)  # plots or grids of an earlier board must not linger
    storage.write_bytes(REPORT_MD, markdown(board).encode())
    for name, png in plots.items():
        storage.write_bytes(f"{REPORT_DIR}{name}.png", png)
    grids = thumbnail_grids(storage, specs, {name: t["images"] for name, t in tables.items()})
    for key, png in grids.items():
        storage.write_bytes(f"{REPORT_DIR}thumbnails/{key}.png", png)
    page = html_report(board, plots, grids, report_manifest(specs, tables), ceiling=ceiling)
    storage.write_bytes(REPORT_HTML, page.encode())
    storage.write_json(STAMP, {"version": version, "plots": sorted(plots), "grids": len(grids)})
    return plots, len(grids), True
